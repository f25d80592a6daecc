// The journeys of tests/journeys/ through the Cloudflare Worker in workerd
// (Miniflare), with both rewriting strategies: the package's `personalize` as a
// Worker runs it (request facts from headers and `request.cf`, the wasm, the
// hand-off), against what the core decides natively from the same request.
//
// The native side is `edge-persona simulate --edge` (src/core/journey.rs
// `edge_step`): each step as an edge sees it (no page annotations or events, which
// are in the page; consent as the stored profile records it) and the core's
// decision from just that. `tests/edge.rs` checks the same steps through the edge
// engine natively.
//
// A journey step happens at its own time and a new visitor's id comes from the
// journey's random bits, so the test worker below (test scaffolding, not the
// package) sets `Date.now` and `crypto.getRandomValues` from the request for the
// length of the call that decides.
//
//   python3 scripts/build web cloudflare npm
//   cargo build --release --features cli --bin edge-persona
//   node --test tests/edge-cloudflare/journeys.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from '../edge-shared/origin.mjs';
import { bundleWorker, startWorker } from '../edge-shared/workerd.mjs';

const NATIVE = path.join(REPO, 'target', 'release', 'edge-persona');
const JOURNEY_DIR = path.join(REPO, 'tests', 'journeys');
const FILES = readdirSync(JOURNEY_DIR).filter((name) => name.endsWith('.json')).sort();
assert.ok(FILES.length > 0, `no journey files in ${JOURNEY_DIR}`);
const STRATEGIES = ['lol-html', 'htmlrewriter'];

const WORKER_SOURCE = `import wasm from 'edge-persona/cloudflare.wasm';
import { personalize } from 'edge-persona/cloudflare';

// The origin's page: the decision does not depend on it.
const PAGE = '<!doctype html><html><head></head><body><p data-ep-slot="x">x</p></body></html>';
const optionsByConfig = new Map();

export default {
  async fetch(request, env) {
    const index = Number(request.headers.get('x-journey-config'));
    let options = optionsByConfig.get(index);
    if (!options) {
      const errors = [];
      options = { config: JSON.parse(env.CONFIGS)[index], wasm, strategy: env.STRATEGY, onError: (e) => errors.push(e.message), errors };
      optionsByConfig.set(index, options);
    }
    const now = Number(request.headers.get('x-journey-now'));
    const entropy = BigInt(request.headers.get('x-journey-entropy'));
    const realNow = Date.now;
    const realRandom = crypto.getRandomValues;
    Date.now = () => now;
    crypto.getRandomValues = (words) => {
      words[0] = Number(entropy >> 32n);
      words[1] = Number(entropy & 0xffffffffn);
      return words;
    };
    let response;
    try {
      response = personalize(request, new Response(PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } }), options);
    } finally {
      Date.now = realNow;
      crypto.getRandomValues = realRandom;
    }
    const html = await response.text();
    return Response.json({ html, errors: options.errors.splice(0), status: response.status });
  },
};
`;

let dir;
const workers = {};
let configs = [];

/** The journey file's config as JSON text (inline, or a path beside the file). */
function configOf(file, journeyPath) {
  return typeof file.config === 'string'
    ? readFileSync(path.resolve(path.dirname(journeyPath), file.config), 'utf8')
    : JSON.stringify(file.config);
}

/** `edge-persona simulate --edge` for one journey file. */
function nativeEdgeSteps(journeyPath, configJson) {
  const configPath = path.join(dir, 'config.json');
  writeFileSync(configPath, configJson);
  const run = spawnSync(NATIVE, ['simulate', '--edge', configPath, journeyPath], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, `the native CLI failed on ${path.basename(journeyPath)}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** An IANA zone with this fixed UTC offset, as `request.cf.timezone` names it. */
function zoneOf(offsetMinutes) {
  assert.equal(offsetMinutes % 60, 0, `a journey's UTC offset of ${offsetMinutes} min has no Etc/ zone: add one here`);
  const hours = offsetMinutes / 60;
  // Etc/ zones count west as positive: UTC+3 is Etc/GMT-3.
  return hours === 0 ? 'Etc/UTC' : `Etc/GMT${hours > 0 ? '-' : '+'}${Math.abs(hours)}`;
}

function handoff(html) {
  const match = /<script type="application\/json" id="ep-handoff"[^>]*>([^<]*)<\/script>/.exec(html);
  return match ? JSON.parse(match[1]) : null;
}

before(async () => {
  if (!existsSync(NATIVE)) throw new Error(`${NATIVE} is missing: run \`cargo build --release --features cli --bin edge-persona\` first`);
  // What the CLI's replay is made of (src/browser is not in it: cargo leaves the
  // binary as it was when only that changed).
  const newestCore = ['core', 'bin'].flatMap((dir) => readdirSync(path.join(REPO, 'src', dir), { withFileTypes: true, recursive: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.rs'))
    .reduce((max, e) => Math.max(max, statSync(path.join(e.parentPath ?? e.path, e.name)).mtimeMs), 0);
  if (statSync(NATIVE).mtimeMs < newestCore) throw new Error(`${NATIVE} is older than src/core or src/bin: rebuild it (cargo build --release --features cli --bin edge-persona)`);
  dir = mkdtempSync(path.join(os.tmpdir(), 'edge-persona-journeys-'));
  await bundleWorker(dir, 'worker.js', WORKER_SOURCE);
  configs = FILES.map((name) => {
    const journeyPath = path.join(JOURNEY_DIR, name);
    return configOf(JSON.parse(readFileSync(journeyPath, 'utf8')), journeyPath);
  });
  for (const strategy of STRATEGIES) {
    workers[strategy] = startWorker(dir, 'worker.js', { bindings: { CONFIGS: JSON.stringify(configs), STRATEGY: strategy } });
  }
});

after(async () => {
  for (const worker of Object.values(workers)) await worker.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** One step through `worker`: the hand-off's decision, or why there is none. */
async function throughWorker(worker, configIndex, step) {
  const headers = {
    accept: 'text/html',
    'sec-fetch-dest': 'document',
    // An absent header is sent empty, which the Worker reads as absent (a fetch
    // would otherwise add its own User-Agent).
    'user-agent': step.userAgent ?? '',
    'x-journey-config': String(configIndex),
    'x-journey-now': String(step.nowMs),
    'x-journey-entropy': step.entropy,
  };
  if (step.cookie) headers.cookie = step.cookie;
  if (step.acceptLanguage) headers['accept-language'] = step.acceptLanguage;
  if (step.referer) headers.referer = step.referer;
  if (step.globalPrivacyControl) headers['sec-gpc'] = '1';
  const cf = {
    timezone: zoneOf(step.utcOffsetMinutes),
    ...(step.geo ? { country: step.geo.country, regionCode: step.geo.region ?? undefined, city: step.geo.city ?? undefined } : {}),
  };
  const response = await worker.dispatchFetch(step.url, { headers, cf });
  const { html, errors, status } = await response.json();
  assert.deepEqual(errors, [], 'the Worker reported failures');
  assert.equal(status, 200);
  const handed = handoff(html);
  assert.ok(handed, `no hand-off in ${html.slice(0, 300)}`);
  return handed.decision;
}

for (const [index, name] of FILES.entries()) {
  test(`journeys/${name}: the Worker in workerd decides as the core does, with both strategies`, async () => {
    const journeyPath = path.join(JOURNEY_DIR, name);
    const replay = nativeEdgeSteps(journeyPath, configs[index]);
    let steps = 0;
    for (const journey of replay) {
      for (const [i, step] of journey.steps.entries()) {
        for (const strategy of STRATEGIES) {
          const decision = await throughWorker(workers[strategy], index, step);
          assert.deepEqual(decision, step.decision, `${journey.journey} / step ${i + 1} / ${strategy}: the Worker and the core differ`);
        }
        steps += 1;
      }
    }
    assert.ok(steps > 0, 'no steps replayed');
  });
}
