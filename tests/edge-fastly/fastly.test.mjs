// The Fastly Compute program (examples/fastly-compute) under Viceroy, Fastly's local
// runtime, in front of an origin served from this file:
//
//   cargo build --release --target wasm32-wasip1 -p edge-persona-fastly
//   node --test --test-reporter=spec tests/edge-fastly/
//
// Five Viceroy instances, each with its own fastly.toml (written to a temp folder):
// - demo:   the demo's config built into the program, explain_header = "true";
// - signed: a config and HMAC signing keys from the Config Store (consent not needed,
//           so the edge writes the profile cookie);
// - broken: a config the edge refuses and a malformed key list: everything passes
//           through untouched;
// - bare:   no Config Store at all and an origin that is down.
// - geo:    a config that shows the visitor's local hour and country, and Fastly
//           geolocation data for three loopback client addresses (UTC−5, UTC+5:30,
//           no offset known).
//
// The origin records the headers of every request it gets, so a test can check what
// the edge forwarded. Tests that look at those records use URLs of their own, so that
// a cache in front of the origin (Fastly's; Viceroy 0.22 does not cache) could not
// answer for it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { startOrigin, REPO, DEMO_CONFIG, CORPUS_DIR, NONCE } from '../edge-shared/origin.mjs';
import { FASTLY_BUILD_COMMAND as BUILD_COMMAND, FASTLY_WASM as WASM, freePort, startViceroy } from '../edge-shared/viceroy.mjs';

const CLASS_PREFIX = DEMO_CONFIG.htmlClasses?.prefix ?? 'ep-';
const PROFILE_COOKIE = DEMO_CONFIG.cookie?.name ?? 'ep';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const SIGNING_KEY = { id: 'k1', secret: 'edge-persona-test-secret-0123456789abcdef' };
const HOSTILE_NAME = '<img src=x onerror=alert(1)>';
const BAD_KEY_SECRET = 'never-logged-secret-0123456789abcdef';

if (!existsSync(WASM)) {
  throw new Error(`${path.relative(REPO, WASM)} is missing: build the Fastly program first with \`${BUILD_COMMAND}\``);
}

/**
 * One request through node:http (no decompression, bytes as sent), with the time the
 * first body bytes arrived.
 */
function get(base, pathname, { method = 'GET', headers = {}, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const req = http.request(new URL(pathname, base), {
      method, agent: false, localAddress,
      headers: { 'user-agent': UA, 'accept-language': 'ru-RU,ru;q=0.9,en;q=0.8', ...headers },
    }, (res) => {
      const chunks = [];
      let firstChunkAt = null;
      res.on('data', (chunk) => {
        firstChunkAt ??= performance.now();
        chunks.push(chunk);
      });
      res.on('end', () => resolve({
        status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks),
        text() { return this.body.toString('utf8'); }, startedAt, firstChunkAt, endAt: performance.now(),
      }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${pathname}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The requests the origin got for `url` (path and query). */
const receivedFor = (url) => origin.received.filter((r) => r.url === url);
/** A URL no other request used, so that no cache can answer it. */
let counter = 0;
const fresh = (pathname, query = '') => `${pathname}?t=${Date.now().toString(36)}-${(counter += 1)}${query ? `&${query}` : ''}`;

function handoff(html) {
  const match = /<script type="application\/json" id="ep-handoff"([^>]*)>([^<]*)<\/script>/.exec(html);
  assert.ok(match, 'the page has the hand-off element');
  return { attributes: match[1], json: JSON.parse(match[2]) };
}

/** The opening tag of the element with `attribute` (as written in the page). */
function openingTag(html, attribute) {
  const escaped = attribute.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const tag = new RegExp(`<[a-z][^<>]*\\s${escaped}[^<>]*>`).exec(html);
  assert.ok(tag, `an element with ${attribute} is in the page`);
  return tag[0];
}

/** The hero shows the visitor's local hour (`hour-N`); a segment marks the country. */
const GEO_CONFIG = {
  consent: { mode: 'none' },
  slots: { hero: {} },
  segments: [{ name: 'from_us', when: { 'geo.country': 'US' } }],
  experiences: Array.from({ length: 24 }, (_, hour) => ({
    id: `hour-${hour}`, slot: 'hero', when: { 'time.hour': hour }, content: { text: `${hour}:00` },
  })),
};
/** Client address → Fastly's geolocation fields (`utc_offset` is ±HHMM, 9999 unknown). */
const GEOLOCATION = {
  '127.0.0.2': { country_code: 'US', region: 'NY', city: 'new york', utc_offset: -500 },
  '127.0.0.3': { country_code: 'IN', region: 'MH', city: 'mumbai', utc_offset: 530 },
  '127.0.0.4': { country_code: 'AQ', utc_offset: 9999 },
};

// ---------------------------------------------------------------------------------

let origin;
let originBase;
let tmp;
const viceroy = {};

before(async () => {
  origin = await startOrigin();
  originBase = origin.url.replace(/\/$/, '');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'edge-persona-fastly-'));
  const signedConfig = {
    ...DEMO_CONFIG,
    consent: { mode: 'none' },
    cookie: { ...DEMO_CONFIG.cookie, requireSignature: true },
  };
  const brokenConfig = {
    consent: { mode: 'none' },
    slots: { hero: { selector: 'h1 + p' } },
    experiences: [{ id: 'x', slot: 'hero', content: { text: 'x' } }],
  };
  const closedPort = await freePort();
  const started = await Promise.all([
    startViceroy('demo', tmp, { backend: originBase, store: { explain_header: 'true' } }),
    startViceroy('signed', tmp, {
      backend: originBase,
      store: { config: JSON.stringify(signedConfig), signing_keys: JSON.stringify([SIGNING_KEY]) },
    }),
    startViceroy('broken', tmp, {
      backend: originBase,
      store: { config: JSON.stringify(brokenConfig), signing_keys: `[{"id":"K1!","secret":"${BAD_KEY_SECRET}"}]`, explain_header: 'true' },
    }),
    // A usable config, but signing keys that cannot be read: no signature checks
    // would let forged profile cookies in, so everything passes through instead.
    startViceroy('badkeys', tmp, {
      backend: originBase,
      store: { config: JSON.stringify(signedConfig), signing_keys: `[{"id":"k1","secret":"${BAD_KEY_SECRET}"}, 42]` },
    }),
    startViceroy('bare', tmp, { backend: `http://127.0.0.1:${closedPort}` }),
    startViceroy('geo', tmp, {
      backend: originBase,
      store: { config: JSON.stringify(GEO_CONFIG), explain_header: 'true' },
      geolocation: GEOLOCATION,
    }),
  ]);
  for (const instance of started) viceroy[instance.name] = instance;
});

after(async () => {
  await Promise.all(Object.values(viceroy).map((v) => v.stop()));
  await origin?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('the demo home page comes back personalized, private, and without a cookie before consent', async (t) => {
  // The newcomer hero has a 10 % holdout and a first visit gets a new random id per
  // request: ask until one is not held out (0.1^8 that none is).
  let page;
  let hero;
  for (let attempt = 0; attempt < 8; attempt += 1) {
    page = await get(viceroy.demo.base, '/?utm_source=yandex&utm_medium=cpc');
    assert.equal(page.status, 200);
    hero = handoff(page.text()).json.decision.slots.find((s) => s.slot === 'hero');
    assert.equal(hero.experience, 'hero-newcomer', 'a first visit from Yandex Direct is a newcomer');
    if (!hero.holdout) break;
    assert.ok(!page.text().includes('data-ep-applied="hero-newcomer"'), 'a held-out visitor keeps the default hero');
  }
  assert.equal(hero.holdout, false, 'eight holdouts in a row');
  const html = page.text();

  // The hero slot shows the newcomer template, its CTA link carries the promo.
  assert.match(openingTag(html, 'data-ep-slot="hero"'), /data-ep-applied="hero-newcomer"/);
  assert.match(html, /<section data-ep-slot="hero"[^>]*>\s*<div class="hero-text">\s*<p class="eyebrow">Впервые у нас\? Это просто<\/p>/);
  assert.match(openingTag(html, 'id="book-cta"'), /href="\/book\?promo=welcome"/);
  assert.ok(!html.includes('<!--ep:'), 'no marker leaked');

  // The hand-off parses, carries the CSP nonce, and says nothing may be stored.
  const { attributes, json } = handoff(html);
  assert.equal(json.version, 1);
  assert.match(attributes, new RegExp(`nonce="${NONCE}"`));
  assert.equal(json.storage.allowed, false, 'consent is required and was not given');
  assert.deepEqual(json.cookieStatus, { status: 'absent' });
  for (const cls of json.decision.htmlClasses) assert.ok(cls.startsWith(CLASS_PREFIX), cls);

  // Cache safety: private, no validators, no length, no Expires; no profile cookie
  // before consent (the origin's own cookie passes).
  assert.equal(page.headers['cache-control'], 'private, no-store');
  for (const header of ['etag', 'last-modified', 'expires', 'accept-ranges', 'cdn-cache-control', 'surrogate-control', 'edge-control', 'x-accel-expires']) {
    assert.equal(page.headers[header], undefined, header);
  }
  assert.deepEqual(page.headers['set-cookie'], ['origin_session=1; Path=/; HttpOnly']);
  assert.match(page.headers['edge-persona-explain'], /(^|, )hero=hero-newcomer(,|$)/);

  // Per-request time through Viceroy (instantiate, load the config, fetch, rewrite).
  const times = [];
  const originHits = origin.received.length;
  for (let i = 0; i < 20; i += 1) {
    const r = await get(viceroy.demo.base, '/?utm_source=yandex&utm_medium=cpc');
    assert.equal(r.status, 200);
    times.push(r.endAt - r.startedAt);
  }
  times.sort((a, b) => a - b);
  t.diagnostic(`personalized home page through Viceroy: median ${times[10].toFixed(1)} ms, min ${times[0].toFixed(1)} ms, max ${times[19].toFixed(1)} ms (20 requests, ${origin.received.length - originHits} of them reached the origin)`);
});

test('the profile cookie stays at the edge; the other cookies reach the origin', async () => {
  const url = fresh('/');
  const page = await get(viceroy.demo.base, url, {
    headers: { cookie: `session=abc; ${PROFILE_COOKIE}=1cAAAAAAAA; theme=dark` },
  });
  assert.equal(page.status, 200);
  const [seen] = receivedFor(url);
  assert.ok(seen, 'the origin got the request');
  assert.equal(seen.headers.cookie, 'session=abc; theme=dark');

  const onlyProfile = fresh('/');
  await get(viceroy.demo.base, onlyProfile, { headers: { cookie: `${PROFILE_COOKIE}=1cAAAAAAAA` } });
  assert.equal(receivedFor(onlyProfile)[0].headers.cookie, undefined, 'no Cookie header is left');

  // An image request goes through the same forwarding.
  const image = fresh('/image.png');
  await get(viceroy.demo.base, image, { headers: { cookie: `${PROFILE_COOKIE}=1cAAAAAAAA; a=1` } });
  assert.equal(receivedFor(image)[0].headers.cookie, 'a=1');
});

test('a Cookie header that is not UTF-8 reaches the origin with its bytes unchanged, but for the profile cookie', async () => {
  // "name=Аня" in windows-1251, as a legacy site sets it. Node sends and reads header
  // values as Latin-1, one char per byte.
  const legacy = 'name=\xc0\xed\xff';
  for (const instance of ['demo', 'broken']) {
    const url = fresh('/');
    const page = await get(viceroy[instance].base, url, {
      headers: { cookie: `${legacy}; ${PROFILE_COOKIE}=1cAAAAAAAA; theme=dark` },
    });
    assert.equal(page.status, 200, instance);
    assert.equal(receivedFor(url).at(-1).headers.cookie, `${legacy}; theme=dark`, instance);
  }
});

test('what is not a full HTML page passes through byte for byte', async () => {
  const cases = [
    ['GET', '/image.png'],
    ['HEAD', '/'],
    ['GET', '/missing'],
    ['GET', '/range'],
    ['GET', '/brotli'],
    ['GET', '/two-content-types'],
  ];
  for (const [method, url] of cases) {
    const direct = await get(originBase, url, { method });
    const edge = await get(viceroy.demo.base, url, { method, headers: { cookie: 'name=Anna' } });
    const what = `${method} ${url}`;
    assert.equal(edge.status, direct.status, what);
    assert.ok(edge.body.equals(direct.body), `${what}: the body changed (${edge.body.length} vs ${direct.body.length} bytes)`);
    for (const header of ['cache-control', 'etag', 'content-type', 'content-encoding', 'content-range', 'last-modified']) {
      assert.equal(edge.headers[header], direct.headers[header], `${what}: ${header}`);
    }
    assert.equal(edge.headers['edge-persona-explain'], undefined, what);
    assert.deepEqual(edge.headers['set-cookie'], direct.headers['set-cookie'], what);
  }
});

test('a page the origin gzips is personalized: asked for as gzip, decoded while it streams, marked for compression towards the visitor', async () => {
  const url = fresh('/gzip');
  const page = await get(viceroy.demo.base, url, {
    headers: { accept: 'text/html,application/xhtml+xml', 'accept-encoding': 'gzip, deflate, br', 'sec-fetch-dest': 'document', cookie: 'name=Anna' },
  });
  assert.equal(page.status, 200);
  assert.equal(receivedFor(url)[0].headers['accept-encoding'], 'gzip', 'the origin is never asked for an encoding the edge cannot read');
  // Viceroy does not compress; on Fastly the x-compress-hint makes it gzip or brotli.
  const body = page.headers['content-encoding'] === 'gzip' ? gunzipSync(page.body) : page.body;
  assert.ok(['gzip', 'br', undefined].includes(page.headers['content-encoding']), page.headers['content-encoding']);
  const html = body.toString('utf8');
  const { json } = handoff(html);
  assert.equal(json.version, 1);
  for (const cls of json.decision.htmlClasses) assert.ok(html.includes(cls), `<html> has ${cls}`);
  assert.ok(html.endsWith('</html>\n') || html.trimEnd().endsWith('</html>'), 'the page is complete');
  assert.equal(page.headers['cache-control'], 'private, no-store');
  assert.equal(page.headers.etag, undefined, 'the gzip body\'s validator is gone with it');
  assert.match(page.headers.vary ?? '', /accept-encoding/i);

  // Other requests (an image) reach the origin with the client's own Accept-Encoding.
  const asset = fresh('/image.png');
  await get(viceroy.demo.base, asset, { headers: { accept: 'image/avif,image/webp,*/*', 'accept-encoding': 'gzip, br' } });
  assert.equal(receivedFor(asset)[0].headers['accept-encoding'], 'gzip, br');

  // A client that refuses gzip gets a page the origin was asked to send as it is.
  const plain = fresh('/');
  const identity = await get(viceroy.demo.base, plain, { headers: { accept: 'text/html', 'accept-encoding': 'br, gzip;q=0' } });
  assert.equal(receivedFor(plain)[0].headers['accept-encoding'], 'identity');
  handoff(identity.text());
});

test('a gzip page the origin cut short ends the visitor\'s response with an error, not as a complete page', async () => {
  const url = fresh('/gzip-damaged');
  await assert.rejects(
    get(viceroy.demo.base, url, { headers: { accept: 'text/html', 'accept-encoding': 'gzip', 'sec-fetch-dest': 'document' } }),
    (error) => /aborted|socket hang up|ECONNRESET|terminated/i.test(String(error?.message ?? error) + String(error?.code ?? '')),
    'the response must not end as if complete',
  );
});

test('a body labelled gzip that is not (empty, or plain HTML) goes out as the origin sent it, never a broken 200', async () => {
  for (const route of ['/gzip-empty', '/gzip-plain']) {
    const url = fresh(route);
    const direct = await get(originBase, url);
    const edge = await get(viceroy.demo.base, url, { headers: { accept: 'text/html', 'accept-encoding': 'gzip', 'sec-fetch-dest': 'document' } });
    assert.equal(edge.status, 200, route);
    assert.ok(edge.body.equals(direct.body), `${route}: byte for byte`);
    assert.equal(edge.headers['content-encoding'], 'gzip', `${route}: the origin's headers`);
    assert.equal(edge.headers['set-cookie'], undefined, `${route}: no cookie`);
    assert.equal(edge.headers['cache-control'], direct.headers['cache-control'], `${route}: the origin's caching, not ours`);
    assert.equal(edge.headers['edge-persona-explain'], undefined, `${route}: no explain header`);
  }
});

test('a page request reaches the origin without the visitor\'s cache validators; an image keeps them', async () => {
  // A validator on a page request belongs to a copy that went by unpersonalized:
  // the origin's 304 would keep the visitor on it.
  const validators = { 'if-none-match': '"abc"', 'if-modified-since': 'Tue, 01 Sep 2026 10:00:00 GMT' };
  const page = fresh('/');
  const got = await get(viceroy.demo.base, page, { headers: { accept: 'text/html', 'sec-fetch-dest': 'document', ...validators } });
  assert.equal(got.status, 200);
  assert.equal(receivedFor(page)[0].headers['if-none-match'], undefined);
  assert.equal(receivedFor(page)[0].headers['if-modified-since'], undefined);
  const asset = fresh('/image.png');
  await get(viceroy.demo.base, asset, { headers: { accept: 'image/avif,*/*', 'sec-fetch-dest': 'image', ...validators } });
  assert.equal(receivedFor(asset)[0].headers['if-none-match'], '"abc"');
  assert.equal(receivedFor(asset)[0].headers['if-modified-since'], validators['if-modified-since']);
});

test('a client that refuses gzip explicitly (gzip;q=0, *) gets a page the origin was not asked to gzip', async () => {
  const url = fresh('/');
  await get(viceroy.demo.base, url, { headers: { accept: 'text/html', 'accept-encoding': 'gzip;Q=0, *', 'sec-fetch-dest': 'document' } });
  assert.equal(receivedFor(url)[0].headers['accept-encoding'], 'identity');
});

test('every corpus page comes back complete, changed only by the <html> classes and the hand-off', async (t) => {
  const pages = readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.html')).sort();
  assert.ok(pages.length >= 10, `expected the landing-page corpus in ${CORPUS_DIR}`);
  let identical = 0;
  for (const name of pages) {
    const original = readFileSync(path.join(CORPUS_DIR, name));
    const edge = await get(viceroy.demo.base, `/corpus/${name}`);
    assert.equal(edge.status, 200, name);
    assert.ok(edge.body.length >= original.length, `${name}: ${edge.body.length} < ${original.length} bytes`);
    const out = edge.body.toString('latin1');
    const source = original.toString('latin1');
    if (out === source) {
      identical += 1;
      continue;
    }

    // What the edge may change: the <html> start tag (classes added, the page's own
    // kept) and the hand-off (and popup templates) before </body>.
    const tag = /<html\b[^>]*>/i;
    const outTag = tag.exec(out)?.[0] ?? '';
    const sourceTag = tag.exec(source)?.[0] ?? '';
    const classes = (startTag) => (/\sclass="([^"]*)"/i.exec(startTag)?.[1] ?? '').split(/\s+/).filter(Boolean);
    const added = classes(outTag).filter((c) => !classes(sourceTag).includes(c));
    assert.deepEqual(classes(outTag).slice(0, classes(sourceTag).length), classes(sourceTag), `${name}: the page's classes stay first`);
    for (const c of added) assert.ok(c.startsWith(CLASS_PREFIX), `${name}: class ${c}`);
    const { json } = handoff(edge.text());
    assert.deepEqual(added, json.decision.htmlClasses, `${name}: the classes the decision names`);
    const normalized = out
      .replace(tag, sourceTag)
      .replace(/<script type="application\/json" id="ep-handoff"[^>]*>[^<]*<\/script>/, '')
      .replace(/<template data-ep-popup="[^"]*">[\s\S]*?<\/template>/g, '');
    assert.ok(normalized === source, `${name}: something besides <html> and the hand-off changed`);
    assert.ok(out.endsWith(source.slice(source.lastIndexOf('</body>'))), `${name}: the end of the page is intact`);
  }
  t.diagnostic(`${pages.length} pages: ${identical} byte-identical, ${pages.length - identical} with <html> classes and the hand-off only`);
});

test('the page streams: its first bytes reach the client before the origin has sent the last', async (t) => {
  const url = fresh('/slow');
  const edge = await get(viceroy.demo.base, url);
  const lastWrite = origin.slowLastWriteAt.get(url);
  assert.equal(edge.status, 200);
  assert.ok(lastWrite, 'the origin wrote the page');
  assert.equal(edge.headers['cache-control'], 'private, no-store', 'the page went through the rewriter');
  const html = edge.text();
  for (const part of ['first part', 'second part', 'last part']) assert.ok(html.includes(part), part);
  assert.ok(html.trimEnd().endsWith('</body></html>'));
  t.diagnostic(`first body bytes at the client ${(edge.firstChunkAt - edge.startedAt).toFixed(0)} ms after the request; the origin's last chunk at ${(lastWrite - edge.startedAt).toFixed(0)} ms`);
  assert.ok(edge.firstChunkAt < lastWrite,
    `the first bytes came at ${(edge.firstChunkAt - edge.startedAt).toFixed(0)} ms, after the origin's last chunk at ${(lastWrite - edge.startedAt).toFixed(0)} ms`);
});

test('a hostile name cookie is shown as text, never as markup', async () => {
  for (const cookie of [`name=${HOSTILE_NAME}`, `name=${encodeURIComponent(HOSTILE_NAME)}`]) {
    const page = await get(viceroy.demo.base, '/', { headers: { cookie } });
    assert.equal(page.status, 200);
    const html = page.text();
    // The demo greets by name in `.greeting` (greet-by-name).
    const greeting = /<p class="greeting"([^>]*)>([^<]*)<\/p>/.exec(html);
    assert.ok(greeting, cookie);
    assert.match(greeting[1], /data-ep-applied="greet-by-name"/);
    assert.equal(greeting[2], 'Здравствуйте, &lt;img src=x onerror=alert(1)&gt;!');
    assert.ok(!html.includes('<img src=x'), `${cookie}: markup from the cookie`);
    const elsewhere = html.replace(greeting[0], '').replace(/<script type="application\/json" id="ep-handoff"[^>]*>[^<]*<\/script>/, '');
    assert.ok(!elsewhere.includes('onerror'), 'the name appears only in the greeting and the hand-off');
    const { json } = handoff(html);
    assert.equal(json.decision.greetings[0].text, `Здравствуйте, ${HOSTILE_NAME}!`);
  }
  assert.ok(!viceroy.demo.output.includes('onerror'), 'the name is never logged');
});

test('config and signing keys from the Config Store: a signed profile cookie is set and read back', async () => {
  const first = await get(viceroy.signed.base, fresh('/', 'utm_source=yandex&utm_medium=cpc'));
  assert.equal(first.status, 200);
  assert.equal(first.headers['edge-persona-explain'], undefined, 'explain_header is not set for this service');
  const profile = first.headers['set-cookie'].find((c) => c.startsWith(`${PROFILE_COOKIE}=`));
  assert.ok(profile, 'consent is not needed: the edge writes the profile cookie');
  assert.match(profile, new RegExp(`^${PROFILE_COOKIE}=1s${SIGNING_KEY.id}\\.[^;]+; Max-Age=\\d+; Path=/; SameSite=Lax$`));
  assert.ok(!profile.includes('Secure'), 'plain http: no Secure');
  const value = profile.split(';')[0];

  const url = fresh('/');
  const second = await get(viceroy.signed.base, url, { headers: { cookie: `session=abc; ${value}` } });
  assert.equal(second.status, 200);
  assert.equal(receivedFor(url)[0].headers.cookie, 'session=abc', 'the profile cookie is not forwarded');
  assert.deepEqual(handoff(second.text()).json.cookieStatus, { status: 'valid' });
  assert.ok(second.headers['set-cookie'].some((c) => c.startsWith(`${PROFILE_COOKIE}=1s${SIGNING_KEY.id}.`)));

  // A cookie signed with another key is refused (the signature is required).
  const at = value.length - 3;
  const forged = value.slice(0, at) + (value[at] === 'A' ? 'B' : 'A') + value.slice(at + 1);
  const third = await get(viceroy.signed.base, fresh('/'), { headers: { cookie: forged } });
  assert.equal(handoff(third.text()).json.cookieStatus.status, 'rejected');
});

test('an unusable config: everything passes through untouched but the profile cookie, and the log holds no visitor data', async () => {
  const url = fresh('/');
  const cookie = `session=abc; ${PROFILE_COOKIE}=1cAAAAAAAA; name=Secret`;
  const direct = await get(originBase, url);
  const edge = await get(viceroy.broken.base, url, { headers: { cookie } });
  assert.equal(edge.status, 200);
  assert.ok(edge.body.equals(direct.body), 'byte for byte');
  assert.equal(edge.headers['cache-control'], direct.headers['cache-control']);
  assert.equal(edge.headers.etag, direct.headers.etag);
  assert.equal(edge.headers['edge-persona-explain'], undefined);
  assert.equal(
    receivedFor(url).at(-1).headers.cookie,
    'session=abc; name=Secret',
    'the other cookies reach the origin; the profile cookie stays at the edge even without a config',
  );
  const log = viceroy.broken.output;
  assert.match(log, /the config cannot be used/);
  assert.match(log, /slots\.hero\.selector/);
  assert.match(log, /signing_keys cannot be used/);
  assert.ok(!log.includes(BAD_KEY_SECRET) && !log.includes('Secret') && !log.includes('session=abc'), log);
});

test('signing keys that cannot be used: the site passes through untouched, never unsigned', async () => {
  const url = fresh('/');
  const direct = await get(originBase, url);
  const edge = await get(viceroy.badkeys.base, url, { headers: { cookie: `${PROFILE_COOKIE}=1sk1.AAAA` } });
  assert.equal(edge.status, 200);
  assert.ok(edge.body.equals(direct.body), 'byte for byte');
  assert.deepEqual(edge.headers['set-cookie'], direct.headers['set-cookie'], 'no profile cookie written');
  const log = viceroy.badkeys.output;
  assert.match(log, /signing_keys cannot be used/);
  assert.ok(!log.includes(BAD_KEY_SECRET), log);
});

test('no Config Store: the demo config built in; an origin that is down gives a 502', async () => {
  const edge = await get(viceroy.bare.base, '/');
  assert.equal(edge.status, 502);
  assert.match(edge.headers['content-type'], /^text\/plain/);
  assert.match(edge.text(), /502/);
  assert.match(viceroy.bare.output, /using the built-in demo config/);
});

test('geolocation: the visitor\'s local time follows Fastly\'s UTC offset, west of UTC too; the country reaches conditions', async () => {
  const cases = [
    { address: '127.0.0.2', offsetMinutes: -300, country: 'US' },
    { address: '127.0.0.3', offsetMinutes: 330, country: 'IN' },
    // Offset unknown: UTC.
    { address: '127.0.0.4', offsetMinutes: 0, country: 'AQ' },
  ];
  const localHour = (utcMs, offsetMinutes) => new Date(utcMs + offsetMinutes * 60_000).getUTCHours();
  for (const { address, offsetMinutes, country } of cases) {
    const before = Date.now();
    const page = await get(viceroy.geo.base, fresh('/'), { localAddress: address });
    const after = Date.now();
    assert.equal(page.status, 200, address);
    const shown = /(?:^|, )hero=hour-(\d+)(?:,|$)/.exec(page.headers['edge-persona-explain'] ?? '');
    assert.ok(shown, `${address}: the hero shows an hour (${page.headers['edge-persona-explain']})`);
    // The request may straddle an hour's end: either side of it is right.
    const expected = new Set([localHour(before, offsetMinutes), localHour(after, offsetMinutes)]);
    assert.ok(expected.has(Number(shown[1])), `${address}: hour ${shown[1]}, expected ${[...expected].join(' or ')}`);
    const htmlTag = /<html[^>]*>/i.exec(page.text())?.[0] ?? '';
    assert.equal(htmlTag.includes(`${CLASS_PREFIX}seg-from_us`), country === 'US', `${address}: the from_us segment (${htmlTag})`);
  }
});

test('a prefetch is personalized without storing its page view; a fetch() of a fragment passes through untouched', async () => {
  const headers = { cookie: 'name=Anna', 'sec-fetch-dest': 'document' };
  const prefetched = await get(viceroy.signed.base, fresh('/'), { headers: { ...headers, 'sec-purpose': 'prefetch;prerender' } });
  assert.equal(prefetched.status, 200);
  assert.equal(prefetched.headers['cache-control'], 'private, no-store');
  assert.ok(!(prefetched.headers['set-cookie'] ?? []).some((c) => c.startsWith(`${PROFILE_COOKIE}=`)), 'no page view stored');
  assert.ok(prefetched.body.toString('utf8').includes('id="ep-handoff"'), 'personalized, with the hand-off');
  const navigated = await get(viceroy.signed.base, fresh('/'), { headers });
  assert.ok((navigated.headers['set-cookie'] ?? []).some((c) => c.startsWith(`${PROFILE_COOKIE}=`)), 'a navigation is stored');
  const url = fresh('/');
  const direct = await get(originBase, url);
  const fragment = await get(viceroy.signed.base, url, { headers: { ...headers, 'sec-fetch-dest': 'empty' } });
  assert.ok(fragment.body.equals(direct.body), 'byte for byte');
  assert.ok(!(fragment.headers['set-cookie'] ?? []).some((c) => c.startsWith(`${PROFILE_COOKIE}=`)), 'nothing stored');
  // Cached by the browser apart from a navigation to the same URL.
  assert.match(String(fragment.headers.vary ?? ''), /Sec-Fetch-Dest/i);
});
