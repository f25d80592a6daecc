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
import { pathToFileURL } from 'node:url';
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
    if (req.url === '/page-in-parts') {
      // The page in four parts, apart in time, so the edge sees four chunks.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      const part = Math.ceil(PAGE.length / 4);
      let i = 0;
      const next = () => {
        res.write(PAGE.subarray(i * part, (i + 1) * part));
        i += 1;
        if (i < 4) setTimeout(next, 30);
        else res.end();
      };
      return next();
    }
    if (req.url === '/cookie') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end(req.headers.cookie ?? '(none)');
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

test('a wasm that traps: a page it has not answered yet goes through whole; one it has answered part of ends as failed, never with a hole', async () => {
  const glue = await import(path.join(PKG, 'edge_persona_edge.js'));
  const cookie = 'name=%D0%90%D0%BD%D1%8F';
  const request = (pathname) => new Request(`https://shop.test${pathname}`, { headers: { cookie: `ep=1cAAAA; ${cookie}`, accept: 'text/html' } });
  const personalized = await handler.fetch(request('/page'), {});
  assert.ok((await personalized.text()).includes('id="ep-handoff"'), 'first, personalized');

  // The first write gives out the page's start; the second traps. What the wasm held
  // is lost, so the response must not end as if it were whole.
  const write = glue.EdgeSession.prototype.write;
  let writes = 0;
  glue.EdgeSession.prototype.write = function (chunk) {
    writes += 1;
    if (writes === 1) return write.call(this, chunk);
    throw new WebAssembly.RuntimeError('unreachable');
  };
  let partly;
  try {
    partly = await handler.fetch(request('/page-in-parts'), {});
    await assert.rejects(partly.arrayBuffer(), 'the body ends as failed');
  } finally {
    glue.EdgeSession.prototype.write = write;
  }
  assert.equal(writes, 2, 'the page came in parts');
  assert.ok(errors.some((e) => /the wasm failed/.test(e)), errors.join('; '));

  // From now on this isolate passes everything through: pages whole and untouched...
  const after = await handler.fetch(request('/page'), {});
  assert.ok(Buffer.from(await after.arrayBuffer()).equals(PAGE), 'untouched');
  assert.equal(after.headers.get('set-cookie'), null, 'nothing set');
  // ...and the profile cookie still stays at the edge, without the wasm.
  const echoed = await handler.fetch(request('/cookie'), {});
  assert.equal(await echoed.text(), cookie, 'the origin gets the other cookies only');
});

test('a trap before the session gave out anything: the page goes through whole', async () => {
  // A fresh isolate (a new module instance), so the trap above is not remembered.
  const fresh = await import(`${path.join(PKG, 'cloudflare.js')}?isolate=2`);
  const glue = await import(path.join(PKG, 'edge_persona_edge.js'));
  const own = fresh.createHandler({
    config: DEMO_CONFIG,
    wasm: readFileSync(path.join(PKG, 'edge_persona_edge_bg.wasm')),
    origin: `http://127.0.0.1:${origin.address().port}`,
    onError: (error) => errors.push(error.message),
  });
  const write = glue.EdgeSession.prototype.write;
  glue.EdgeSession.prototype.write = () => { throw new WebAssembly.RuntimeError('unreachable'); };
  try {
    const trapped = await own.fetch(new Request('https://shop.test/page-in-parts', { headers: { accept: 'text/html' } }), {});
    assert.ok(Buffer.from(await trapped.arrayBuffer()).equals(PAGE), 'the page as the origin sent it');
  } finally {
    glue.EdgeSession.prototype.write = write;
  }
});

test('a visitor who leaves mid-page: the origin body is cancelled, the session freed, the wasm still usable', async () => {
  const fresh = await import(`${path.join(PKG, 'cloudflare.js')}?isolate=3`);
  const glue = await import(path.join(PKG, 'edge_persona_edge.js'));
  const own = [];
  const personalizer = fresh.createPersonalizer({
    config: DEMO_CONFIG,
    wasm: readFileSync(path.join(PKG, 'edge_persona_edge_bg.wasm')),
    onError: (error) => own.push(error.message),
  });
  const request = new Request('https://shop.test/', { headers: { accept: 'text/html' } });
  const head = { 'content-type': 'text/html; charset=utf-8' };
  // An origin that sends the page's first half, then nothing more for now.
  let originCancelled = null;
  let pulls = 0;
  const slowOrigin = new ReadableStream({
    pull(controller) {
      pulls += 1;
      if (pulls === 1) controller.enqueue(PAGE.subarray(0, PAGE.length >> 1));
      else return new Promise(() => {});
    },
    cancel(reason) { originCancelled = reason; },
  });
  const free = glue.EdgeSession.prototype.free;
  let frees = 0;
  glue.EdgeSession.prototype.free = function () {
    frees += 1;
    return free.call(this);
  };
  try {
    const response = personalizer.personalize(request, new Response(slowOrigin, { headers: head }));
    const reader = response.body.getReader();
    const first = await reader.read();
    assert.ok(!first.done && first.value.length > 0, 'the page starts before the origin has finished');
    // The next read waits on the origin when the visitor goes.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await reader.cancel('gone');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(originCancelled, 'gone', 'the origin is told');
    assert.equal(frees, 1, "the session's memory goes back to the wasm");
  } finally {
    glue.EdgeSession.prototype.free = free;
  }
  assert.deepEqual(own, [], 'no failure reported');
  const whole = await personalizer.personalize(request, new Response(PAGE, { headers: head })).text();
  assert.ok(whole.includes('id="ep-handoff"'), 'the next response is personalized as before');
});

test('rewriting that stops early (a token over the memory limit) is reported, and the page still comes whole', async () => {
  const fresh = await import(`${path.join(PKG, 'cloudflare.js')}?isolate=4`);
  const reported = [];
  const personalizer = fresh.createPersonalizer({
    config: DEMO_CONFIG,
    wasm: readFileSync(path.join(PKG, 'edge_persona_edge_bg.wasm')),
    // A site logger that throws must not cut the response short.
    onError: (error) => {
      reported.push(error.message);
      throw new Error('the logger is down');
    },
  });
  // A page builder's inline image, larger than the rewriter's 256 KB parsing budget.
  const html = PAGE.toString('utf8').replace('<body>', `<body><img alt="" src="data:image/png;base64,${'A'.repeat(300 * 1024)}">`);
  assert.notEqual(html, PAGE.toString('utf8'));
  // In 16 KB chunks, as an origin sends it: the tag spans many of them.
  const bytes = new TextEncoder().encode(html);
  let at = 0;
  const body = new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + 16 * 1024));
      at += 16 * 1024;
    },
  });
  const response = personalizer.personalize(
    new Request('https://shop.test/', { headers: { accept: 'text/html' } }),
    new Response(body, { headers: { 'content-type': 'text/html; charset=utf-8' } }),
  );
  const out = await response.text();
  assert.ok(out.includes('A'.repeat(300 * 1024)), 'the image is whole');
  assert.ok(out.includes('</html>'), 'the page is whole');
  assert.equal(reported.length, 1, reported.join('; '));
  assert.match(reported[0], /rewriting stopped/);
  assert.ok(!/Аня|Anna|shop\.test/.test(reported[0]), 'no visitor data in the report');
});

test('the Cookie header for the origin without the wasm follows the same rule as the wasm', async () => {
  const { originCookieWithoutEngine, declaresUtf8 } = await import(path.join(PKG, 'cloudflare.js'));
  const header = 'ep=1cAAAA; session=abc; visit=1';
  assert.equal(originCookieWithoutEngine('{oops', header), 'session=abc; visit=1', 'not JSON: the default name');
  assert.equal(originCookieWithoutEngine('{"cookie": {"name": "visit"}, "unknownKey": 1}', header), 'ep=1cAAAA; session=abc');
  assert.equal(originCookieWithoutEngine({ cookie: { forwardToOrigin: true } }, header), header);
  assert.equal(originCookieWithoutEngine('{}', 'ep=1'), undefined);
  assert.equal(originCookieWithoutEngine('{}', null), undefined);
  assert.equal(originCookieWithoutEngine('{}', 'a=1;b=2'), 'a=1;b=2', 'nothing to remove: as sent');
  for (const yes of ['text/html; charset=utf-8', 'text/html;charset="UTF-8"', 'text/html; charset=unicode-1-1-utf-8']) {
    assert.equal(declaresUtf8(yes), true, yes);
  }
  for (const no of ['text/html', 'text/html; charset=windows-1251', 'text/html; charset=bogus', null]) {
    assert.equal(declaresUtf8(no), false, String(no));
  }
});

test('a config that does not load: the wasm keeps back the profile cookie by name and, without config text to read, by value, as Fastly does', async () => {
  // A module of its own, as a fresh isolate has: an earlier test made this one's wasm fail.
  const { createPersonalizer } = await import(`${pathToFileURL(path.join(PKG, 'cloudflare.js')).href}?isolate=config-gone`);
  const wasm = readFileSync(path.join(PKG, 'edge_persona_edge_bg.wasm'));
  // A profile cookie value, as the edge writes it (under another name below).
  const writer = createPersonalizer({ config: { version: 1, consent: { mode: 'none' } }, wasm });
  const page = new Response('<!doctype html><html><body><p>Hi</p></body></html>', { headers: { 'content-type': 'text/html; charset=utf-8' } });
  const response = await writer.personalize(new Request('https://shop.test/', { headers: { accept: 'text/html', 'sec-fetch-dest': 'document' } }), page);
  await response.arrayBuffer();
  const profile = /(?:^|, )ep=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
  assert.ok(profile, 'a profile cookie to test with');
  const sent = `persona=${profile}; sid=1; ep=x`;
  const reported = [];
  const origin = (config) => createPersonalizer({ config, wasm, onError: (e) => reported.push(e.message) })
    .originRequest(new Request('https://shop.test/', { headers: { cookie: sent } })).headers.get('cookie');
  assert.equal(origin('{not json'), 'sid=1', 'no config text: the default name and any profile-looking value');
  assert.equal(origin('{"cookie": {"name": "persona"}, "oops": 1}'), 'sid=1; ep=x', 'named in a config that fails: that name');
  assert.equal(reported.length, 2);
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

test('the one-call API has an origin request too: without the profile cookie', async () => {
  const { originRequest, personalize } = await import(path.join(PKG, 'cloudflare.js'));
  const options = { config: DEMO_CONFIG, wasm: readFileSync(path.join(PKG, 'edge_persona_edge_bg.wasm')) };
  const profileCookie = DEMO_CONFIG.cookie?.name ?? 'ep';
  const request = new Request('https://shop.test/page', { headers: { cookie: `${profileCookie}=1cAAAA; sid=1`, accept: 'text/html' } });
  const toOrigin = originRequest(request, `http://127.0.0.1:${origin.address().port}/cookie`, options);
  assert.equal(toOrigin.headers.get('cookie'), 'sid=1');
  const response = personalize(request, await fetch(toOrigin), options);
  assert.equal(await response.text(), 'sid=1', 'the origin got the site\'s cookies only');
});

test('the strategy is read in any case; an unknown one is reported and runs the default', async () => {
  const { createPersonalizer } = await import(path.join(PKG, 'cloudflare.js'));
  const wasm = readFileSync(path.join(PKG, 'edge_persona_edge_bg.wasm'));
  const reported = [];
  const onError = (error) => reported.push(error.message);
  assert.equal(createPersonalizer({ config: DEMO_CONFIG, wasm, strategy: 'HTMLRewriter', onError }).strategy, 'htmlrewriter');
  assert.equal(createPersonalizer({ config: DEMO_CONFIG, wasm, strategy: 'Auto', onError }).strategy, 'lol-html');
  assert.deepEqual(reported, []);
  const misspelt = createPersonalizer({ config: DEMO_CONFIG, wasm, strategy: 'html-rewriter', onError });
  assert.equal(misspelt.strategy, 'lol-html');
  assert.equal(misspelt.ready, true);
  assert.equal(reported.length, 1);
  assert.match(reported[0], /unknown strategy "html-rewriter"/);
});
