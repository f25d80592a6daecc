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
import { REPO, DEMO_CONFIG, DEMO_DIR } from '../edge-shared/origin.mjs';

const PKG = path.join(REPO, 'pkg', 'npm');
let origin;
let handler;
const errors = [];
const PAGE = readFileSync(path.join(DEMO_DIR, 'index.html'));

before(async () => {
  // An origin that answers with what it received.
  origin = http.createServer((req, res) => {
    if (req.url === '/page') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(PAGE);
    }
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
    onError: (error) => errors.push(error.message),
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

test('a wasm that traps mid-page: the rest of that page goes through, and later responses pass through untouched', async () => {
  const glue = await import(path.join(PKG, 'edge_persona_edge.js'));
  const cookie = 'name=%D0%90%D0%BD%D1%8F';
  const personalized = await handler.fetch(new Request('https://shop.test/page', { headers: { cookie, accept: 'text/html' } }), {});
  assert.ok((await personalized.text()).includes('id="ep-handoff"'), 'first, personalized');
  const write = glue.EdgeSession.prototype.write;
  glue.EdgeSession.prototype.write = () => { throw new WebAssembly.RuntimeError('unreachable'); };
  try {
    const trapped = await handler.fetch(new Request('https://shop.test/page', { headers: { cookie, accept: 'text/html' } }), {});
    assert.ok(Buffer.from(await trapped.arrayBuffer()).equals(PAGE), 'the page as the origin sent it');
  } finally {
    glue.EdgeSession.prototype.write = write;
  }
  assert.ok(errors.some((e) => /the wasm failed/.test(e)), errors.join('; '));
  const after = await handler.fetch(new Request('https://shop.test/page', { headers: { cookie, accept: 'text/html' } }), {});
  assert.ok(Buffer.from(await after.arrayBuffer()).equals(PAGE), 'untouched');
  assert.equal(after.headers.get('set-cookie'), null, 'nothing set');
});

test("the visitor's UTC offset follows their time zone across a DST change, cached per quarter hour", async () => {
  const { utcOffsetMinutes } = await import(path.join(PKG, 'cloudflare.js'));
  // New York springs forward at 2026-03-08 07:00 UTC (02:00 EST → 03:00 EDT).
  const change = Date.UTC(2026, 2, 8, 7, 0, 0);
  assert.equal(utcOffsetMinutes('America/New_York', new Date(change - 14 * 60_000)), -300);
  assert.equal(utcOffsetMinutes('America/New_York', new Date(change - 1)), -300, 'the same quarter hour, from the cache');
  assert.equal(utcOffsetMinutes('America/New_York', new Date(change)), -240, 'the next quarter hour is looked up again');
  assert.equal(utcOffsetMinutes('America/New_York', new Date(change + 60_000)), -240);
  // Lord Howe moves by half an hour (02:00 → 01:30 local on 2026-04-05, 15:00 UTC).
  const lordHowe = Date.UTC(2026, 3, 4, 15, 0, 0);
  assert.equal(utcOffsetMinutes('Australia/Lord_Howe', new Date(lordHowe - 1)), 660);
  assert.equal(utcOffsetMinutes('Australia/Lord_Howe', new Date(lordHowe)), 630);
  assert.equal(utcOffsetMinutes('Asia/Kathmandu', new Date(change)), 345);
  assert.equal(utcOffsetMinutes('Not/A_Zone', new Date(change)), 0, 'an unknown zone counts as UTC');
  assert.equal(utcOffsetMinutes(undefined), 0);
});
