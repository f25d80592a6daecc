// edge-persona/cloudflare's ready handler in Node, as the demo's local edge runs it
// (scripts/local-edge.mjs): what only Node's fetch is strict about.
//
//   python3 scripts/build web cloudflare npm
//   node --test --test-reporter=spec tests/edge-cloudflare/

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, DEMO_CONFIG } from '../edge-shared/origin.mjs';

const PKG = path.join(REPO, 'pkg', 'npm');
let origin;
let handler;

before(async () => {
  // An origin that answers with what it received.
  origin = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${req.method} ${body}`);
    });
  });
  await new Promise((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const { createHandler } = await import(path.join(PKG, 'cloudflare.js'));
  handler = createHandler({
    config: DEMO_CONFIG,
    wasm: readFileSync(path.join(PKG, 'edge_persona_edge_bg.wasm')),
    origin: `http://127.0.0.1:${origin.address().port}`,
  });
});

after(() => new Promise((resolve) => origin.close(resolve)));

test('a form POST reaches the origin with its body (a streamed body needs duplex in Node)', async () => {
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('name=Anna'));
      controller.close();
    },
  });
  const response = await handler.fetch(new Request('https://shop.test/book', { method: 'POST', body, duplex: 'half' }), {});
  assert.equal(response.status, 200);
  assert.equal(await response.text(), 'POST name=Anna');
});
