// Viceroy, Fastly's local runtime, running the Fastly Compute program
// (examples/fastly-compute) with a generated fastly.toml: shared by the Fastly tests
// (tests/edge-fastly/) and the Viceroy bench (benches/edge/viceroy.mjs).
//
//   import { startViceroy, freePort, FASTLY_WASM } from '../edge-shared/viceroy.mjs';
//   const viceroy = await startViceroy('demo', tmpDir, { backend: origin.url, store: { config: '…' } });
//   // { name, child, base: 'http://127.0.0.1:<port>', output, exited, stop() }
//
// The program is `cargo build --release --target wasm32-wasip1 -p edge-persona-fastly`;
// Viceroy is `$VICEROY`, else ~/.cargo/bin/viceroy, else `viceroy` on the PATH
// (scripts/bootstrap installs it).

import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './origin.mjs';

export const FASTLY_BUILD_COMMAND = 'cargo build --release --target wasm32-wasip1 -p edge-persona-fastly';
export const FASTLY_WASM = path.join(REPO, 'target', 'wasm32-wasip1', 'release', 'edge-persona-fastly.wasm');
export const VICEROY = process.env.VICEROY
  ?? [path.join(os.homedir(), '.cargo', 'bin', 'viceroy')].find((p) => existsSync(p))
  ?? 'viceroy';

/** A loopback port nobody listens on (at the time of asking). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const tomlString = (value) => JSON.stringify(value).replace(/\u007f/g, '\\u007f');

/**
 * A fastly.toml for Viceroy: the backend `origin` at `backend`; when `store` is
 * given, the Config Store `edge_persona` with its keys and values (inline TOML); when
 * `geolocation` is given (client address → Fastly's geo fields, e.g.
 * `{'127.0.0.2': {country_code: 'US', utc_offset: -500}}`), what Fastly's geo lookup
 * answers for those addresses (and nothing for other loopback addresses).
 */
export function fastlyToml({ backend, store, geolocation }) {
  const lines = [
    'manifest_version = 3', 'name = "edge-persona-fastly-test"', 'language = "rust"', '',
    '[local_server.backends.origin]', `url = ${tomlString(backend)}`, '',
  ];
  if (store) {
    lines.push('[local_server.config_stores.edge_persona]', 'format = "inline-toml"', '',
      '[local_server.config_stores.edge_persona.contents]');
    for (const [key, value] of Object.entries(store)) lines.push(`${key} = ${tomlString(value)}`);
  }
  if (geolocation) {
    lines.push('', '[local_server.geolocation]', 'use_default_loopback = false', 'format = "inline-toml"', '',
      '[local_server.geolocation.addresses]');
    for (const [address, fields] of Object.entries(geolocation)) {
      lines.push(`[local_server.geolocation.addresses.${tomlString(address)}]`);
      for (const [key, value] of Object.entries(fields)) {
        lines.push(`${key} = ${typeof value === 'number' ? String(value) : tomlString(value)}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Resolves on any HTTP answer from `base` (body read and dropped), rejects on a connection error. */
function probe(base) {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL('/__viceroy_ready', base), { agent: false }, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('GET /__viceroy_ready: timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts Viceroy on a free port with `<dir>/<name>.fastly.toml` written from
 * `settings` (see fastlyToml); resolves once it answers.
 */
export async function startViceroy(name, dir, settings) {
  const toml = path.join(dir, `${name}.fastly.toml`);
  writeFileSync(toml, fastlyToml(settings));
  const port = await freePort();
  const child = spawn(VICEROY, ['-C', toml, '--addr', `127.0.0.1:${port}`, FASTLY_WASM], { stdio: ['ignore', 'pipe', 'pipe'] });
  const instance = { name, child, base: `http://127.0.0.1:${port}`, output: '', exited: null };
  child.stdout.on('data', (d) => { instance.output += d; });
  child.stderr.on('data', (d) => { instance.output += d; });
  const exited = new Promise((resolve) => {
    child.on('error', (error) => { instance.exited = String(error); resolve(); });
    child.on('exit', (code, signal) => { instance.exited ??= `exit ${code ?? signal}`; resolve(); });
  });
  instance.stop = async () => {
    if (instance.exited == null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (instance.exited != null) {
      throw new Error(`Viceroy (${name}) stopped before answering (${instance.exited}; is it installed? scripts/bootstrap installs it):\n${instance.output}`);
    }
    try {
      await probe(instance.base);
      return instance;
    } catch (error) {
      if (Date.now() > deadline) {
        await instance.stop();
        throw new Error(`Viceroy (${name}) did not answer within 120 s: ${error.message}\n${instance.output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
