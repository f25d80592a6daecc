// The Cloudflare Worker of examples/cloudflare-worker in workerd (Miniflare), with the
// origin on loopback, for both rewriting strategies:
//
//   python3 scripts/build web cloudflare npm
//   node --test --test-reporter=spec tests/edge-cloudflare/
//
// The worker is bundled as wrangler would (esbuild, the `.wasm` import left as a
// CompiledWasm module) from the example's own source.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, inflateSync } from 'node:zlib';
import { startOrigin, REPO, DEMO_CONFIG, CORPUS_DIR, CORPUS_PAGES, PNG, NONCE, SLOW_GAP_MS, COMPRESS_PAGE, DEFLATE_PAGE, GZIP_PAGE, AMBIGUOUS_PAGES, cp1251 } from '../edge-shared/origin.mjs';

import { bundleWorker, startWorker as startWorkerIn, CONFIG_WORKER } from '../edge-shared/workerd.mjs';

const PROFILE_COOKIE = DEMO_CONFIG.cookie?.name ?? 'ep';
const PENDING = 'data-ep-pending';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const SITE = 'https://shop.test';

let origin;
let dir;
const workers = {};

/**
 * The example worker, bundled like wrangler does, into `dir`, behind a probe: a
 * request with `ep_probe` in its query is answered with when the worker's response
 * produced its first and last body bytes inside workerd (Miniflare's dispatchFetch
 * delivers bodies whole, so streaming can only be seen from inside).
 */
async function bundleWorkers(outDir) {
  const example = path.join(REPO, 'examples', 'cloudflare-worker', 'src', 'worker.js');
  await bundleWorker(outDir, 'worker.js', `import worker from ${JSON.stringify(example)};
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (!url.searchParams.has('ep_probe')) return worker.fetch(request, env, ctx);
    url.searchParams.delete('ep_probe');
    const response = await worker.fetch(new Request(url, request), env, ctx);
    const reader = response.body.getReader();
    let firstChunkAt = null;
    let size = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      firstChunkAt ??= Date.now();
      size += value.length;
    }
    return Response.json({ firstChunkAt, doneAt: Date.now(), size });
  },
};
`);
  // A worker whose config is the `CONFIG` binding (JSON text), for tests that need a
  // config of their own: the package's handler, one per strategy.
  await bundleWorker(outDir, 'config-worker.js', CONFIG_WORKER);
}

function startWorker(strategy, bindings = {}, script = 'worker.js') {
  return startWorkerIn(dir, script, {
    bindings: {
      EDGE_PERSONA_ORIGIN: origin.url,
      EDGE_PERSONA_EXPLAIN: 'true',
      ...(strategy ? { EDGE_PERSONA_STRATEGY: strategy } : {}),
      ...bindings,
    },
    cf: { country: 'RU', region: 'Moscow', regionCode: 'MOW', city: 'Moscow', timezone: 'Europe/Moscow' },
  });
}

before(async () => {
  origin = await startOrigin();
  dir = mkdtempSync(path.join(os.tmpdir(), 'edge-persona-worker-'));
  await bundleWorkers(dir);
  workers['lol-html'] = startWorker('lol-html');
  workers.htmlrewriter = startWorker('htmlrewriter');
  workers.auto = startWorker(undefined);
});

after(async () => {
  for (const worker of Object.values(workers)) await worker.dispose();
  await origin?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A URL of its own per call, so the origin's records of it are this test's alone. */
let serial = 0;
function fresh(pathname, query = '') {
  serial += 1;
  return `${pathname}?t=${serial}${query ? `&${query}` : ''}`;
}

async function get(worker, pathname, { method = 'GET', headers = {}, redirect = 'follow' } = {}) {
  const response = await worker.dispatchFetch(`${SITE}${pathname}`, { method, redirect, headers: { 'user-agent': UA, ...headers } });
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body, text: body.toString('utf8') };
}

/** What the page's hiding style still hides (its selector list), or null without one. */
function hiddenBySnippet(html) {
  return /<style id="ep-hide">[^<]*html:not\(\.ep-ready\)\s*([^{]*)\{visibility:hidden/.exec(html)?.[1] ?? null;
}

function handoff(html) {
  const match = /<script type="application\/json" id="ep-handoff"[^>]*>([^<]*)<\/script>/.exec(html);
  return match ? JSON.parse(match[1]) : null;
}

for (const strategy of ['lol-html', 'htmlrewriter']) {
  test(`${strategy}: the demo page arrives personalized, private, with the hand-off`, async () => {
    const page = await get(workers[strategy], fresh('/', 'utm_source=yandex&utm_medium=cpc&utm_campaign=spring'), {
      headers: { cookie: `name=${encodeURIComponent('Аня')}; other=1` },
    });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('cache-control'), 'private, no-store');
    assert.equal(page.headers.get('etag'), null);
    assert.equal(page.headers.get('last-modified'), null);
    assert.equal(page.headers.get('cdn-cache-control'), null, 'a CDN in front must not store it either');
    assert.equal(page.headers.get('surrogate-control'), null);
    assert.equal(page.headers.get('edge-control'), null);
    assert.equal(page.headers.get('x-accel-expires'), null);
    // Consent is required and was not given: nothing is stored.
    assert.ok(!(page.headers.get('set-cookie') ?? '').includes(`${PROFILE_COOKIE}=`));
    const data = handoff(page.text);
    assert.ok(data, 'the hand-off element');
    assert.ok(page.text.includes(`id="ep-handoff" nonce="${NONCE}"`), 'the hand-off carries the CSP nonce');
    const greetingTag = /<p[^>]*class="greeting"[^>]*>[^<]*/.exec(page.text)?.[0] ?? '';
    if (strategy === 'lol-html') {
      assert.ok(greetingTag.endsWith('>Здравствуйте, Аня!'), `the greeting, as text: ${greetingTag}`);
    } else {
      // A <p> may lack its end tag, which HTMLRewriter cannot tell: the runtime greets,
      // and the element stays hidden until then.
      assert.ok(greetingTag.includes('data-ep-pending="greet-by-name"'), greetingTag);
      // (The whole style stays when a slot's variant is a page <template>, as here.)
      const hidden = hiddenBySnippet(page.text) ?? '';
      assert.ok(hidden === '[data-ep-pending]' || hidden.includes('.greeting'), `the greeting stays hidden: ${hidden}`);
      assert.equal(data.decision.greetings[0].text, 'Здравствуйте, Аня!');
    }
    assert.ok(data.decision.visitor.segments.includes('yandex_paid'));
    const hero = data.decision.slots.find((s) => s.slot === 'hero');
    const explain = page.headers.get('edge-persona-explain');
    assert.ok(explain.includes('greeting=greet-by-name'), explain);
    const heroTag = /<[^>]*data-ep-slot="hero"[^>]*>/.exec(page.text)?.[0] ?? '';
    if (strategy === 'lol-html' && hero.content) {
      // Template variants later in the page are swapped in at the edge.
      const key = hero.variant ? `${hero.experience}/${hero.variant}` : hero.experience;
      assert.ok(heroTag.includes(`data-ep-applied="${key}"`), `hero ${key} applied at the edge: ${heroTag}`);
    } else {
      // A holdout keeps the default; HTMLRewriter leaves template variants to the browser.
      assert.ok(!heroTag.includes('data-ep-applied'), `the hero is left as the origin sent it: ${heroTag}`);
    }
    assert.ok(!page.text.includes('<!--ep:'), 'no marker leaks');
  });

  test(`${strategy}: the profile cookie stays at the edge; other cookies reach the origin`, async () => {
    const url = fresh('/');
    await get(workers[strategy], url, { headers: { cookie: `${PROFILE_COOKIE}=1cAAAA; session=abc` } });
    const seen = origin.received.find((r) => r.url === url);
    assert.equal(seen.headers.cookie, 'session=abc');
    const only = fresh('/');
    await get(workers[strategy], only, { headers: { cookie: `${PROFILE_COOKIE}=1cAAAA` } });
    assert.equal(origin.received.find((r) => r.url === only).headers.cookie, undefined);
  });

  test(`${strategy}: what must pass through comes back as the origin sent it`, async () => {
    const image = await get(workers[strategy], '/image.png');
    assert.ok(image.body.equals(PNG), 'image bytes identical');
    assert.equal(image.headers.get('cache-control'), 'public, max-age=86400');
    assert.ok(image.headers.get('etag'));
    for (const [method, pathname, status] of [['HEAD', '/', 200], ['GET', '/missing', 404], ['GET', '/range', 206], ['GET', '/compress', 200], ['GET', '/two-content-types', 200]]) {
      const direct = await fetch(new URL(pathname, origin.url), { method });
      const expected = Buffer.from(await direct.arrayBuffer());
      const got = await get(workers[strategy], pathname, { method });
      assert.equal(got.status, status, `${method} ${pathname}`);
      assert.ok(got.body.equals(expected), `${method} ${pathname}: bytes identical`);
      assert.equal(got.headers.get('cache-control'), direct.headers.get('cache-control'), `${method} ${pathname}`);
      assert.equal(got.headers.get('etag'), direct.headers.get('etag'), `${method} ${pathname}`);
    }
  });

  test(`${strategy}: every corpus page comes back whole, changed only by the <html> classes and the hand-off`, async () => {
    // Without the hand-off, and from the end of the <html> start tag on, each page must be
    // the origin's byte for byte: the demo config's slots are not on these pages.
    const body = (html) => {
      const withoutHandoff = html.replace(/<script type="application\/json" id="ep-handoff"[^>]*>[^<]*<\/script>/, '');
      const start = /<html[^>]*>/i.exec(withoutHandoff);
      return start ? withoutHandoff.slice(start.index + start[0].length) : withoutHandoff;
    };
    for (const name of CORPUS_PAGES) {
      const original = readFileSync(path.join(CORPUS_DIR, name), 'utf8');
      const got = await get(workers[strategy], `/corpus/${name}`);
      assert.equal(got.status, 200, name);
      assert.ok(got.text.includes('id="ep-handoff"'), `${name}: the hand-off`);
      assert.ok(body(got.text) === body(original), `${name}: changed beyond the <html> tag and the hand-off`);
    }
  });
}

for (const strategy of ['lol-html', 'htmlrewriter']) {
  test(`${strategy}: the worker streams: its first bytes leave before the origin has sent its last`, async () => {
    const url = fresh('/slow');
    const probe = await get(workers[strategy], `${url}&ep_probe`);
    const { firstChunkAt, doneAt, size } = JSON.parse(probe.text);
    const lastOriginWrite = origin.slowLastWriteEpochMs.get(url);
    assert.ok(size > 0);
    assert.ok(
      firstChunkAt < lastOriginWrite - SLOW_GAP_MS / 2,
      `first bytes at ${firstChunkAt}, the origin's last write at ${lastOriginWrite}, done at ${doneAt}`,
    );
  });
}

test('auto: a config with <template> variants is rewritten by our wasm, which applies them at the edge', async () => {
  for (let attempt = 0; attempt < 8; attempt += 1) {
    // The newcomer's hero has a holdout: try a few visitors until one gets it.
    const page = await get(workers.auto, fresh('/', 'utm_source=yandex&utm_medium=cpc'));
    const hero = handoff(page.text).decision.slots.find((s) => s.slot === 'hero');
    if (!hero.content) continue;
    assert.ok(page.text.includes(`data-ep-applied="${hero.experience}"`), 'the template variant is applied at the edge');
    assert.equal(hiddenBySnippet(page.text), '[data-ep-pending]', 'the hiding style hides only what is left for the browser');
    assert.ok(!page.text.includes('data-ep-pending='), 'and nothing is');
    return;
  }
  assert.fail('eight visitors in a row were in the holdout');
});

test('htmlrewriter: slots left to the browser keep the anti-flicker style', async () => {
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const page = await get(workers.htmlrewriter, fresh('/', 'utm_source=yandex&utm_medium=cpc'));
    const hero = handoff(page.text).decision.slots.find((s) => s.slot === 'hero');
    if (!hero.content) continue;
    assert.ok(!page.text.includes(`data-ep-applied="${hero.experience}"`), 'HTMLRewriter leaves template variants to the browser');
    assert.ok(page.text.includes('id="ep-hide"'), 'so the hiding style stays until the runtime applies them');
    return;
  }
  assert.fail('eight visitors in a row were in the holdout');
});

test('a signing-keys secret that is not JSON: pages pass through untouched, nothing is set, the profile cookie stays', async () => {
  const worker = startWorker('lol-html', { EDGE_PERSONA_KEYS: '[{"id": "k1", "secret": ' });
  try {
    const direct = Buffer.from(await (await fetch(new URL('/', origin.url))).arrayBuffer());
    const url = fresh('/');
    const got = await get(worker, url, { headers: { cookie: `session=abc; ${PROFILE_COOKIE}=1cAAAA` } });
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(direct), 'the origin\'s page, byte for byte');
    assert.ok(!(got.headers.get('set-cookie') ?? '').includes(`${PROFILE_COOKIE}=`), 'no profile cookie');
    assert.equal(origin.received.find((r) => r.url === url).headers.cookie, 'session=abc', 'the profile cookie stays at the edge even so');
  } finally {
    await worker.dispose();
  }
});

test('an origin that does not answer gives a 502, not an exception', async () => {
  const worker = startWorker('lol-html', { EDGE_PERSONA_ORIGIN: 'http://127.0.0.1:9' });
  try {
    const got = await get(worker, fresh('/', 'utm_source=secret-campaign'));
    assert.equal(got.status, 502);
    assert.match(got.text, /origin did not answer/);
    assert.ok(!got.text.includes('secret-campaign'), 'nothing of the request in the answer');
  } finally {
    await worker.dispose();
  }
});

test('a body in an encoding fetch() does not decode is never rewritten', async () => {
  // workerd's fetch() decodes `gzip` only (not even `GZIP`); `deflate` and `GZIP` come
  // as the origin sent them, and Miniflare's client decodes them as a browser would:
  // the page, untouched.
  const plainPage = inflateSync(DEFLATE_PAGE);
  const cases = [['/compress', COMPRESS_PAGE, 'compress'], ['/deflate', plainPage, 'deflate'], ['/gzip-upper', gunzipSync(GZIP_PAGE), 'GZIP']];
  for (const [pathname, bytes, coding] of cases) {
    for (const strategy of ['lol-html', 'htmlrewriter']) {
      const got = await get(workers[strategy], pathname, { headers: { accept: 'text/html', 'sec-fetch-dest': 'document' } });
      assert.ok(got.body.equals(bytes), `${strategy} ${pathname}: bytes identical`);
      // Miniflare hands the header over as `mf-content-encoding` (so that Node does not decode).
      const encoding = got.headers.get('content-encoding') ?? got.headers.get('mf-content-encoding');
      assert.equal(encoding, coding, `${strategy} ${pathname}: the encoding is kept`);
      assert.ok(!(got.headers.get('set-cookie') ?? '').includes(`${PROFILE_COOKIE}=`), `${strategy} ${pathname}: no profile cookie`);
    }
  }
});

test('a hiding style the page\'s CSP allows by hash goes out as the page wrote it', async () => {
  const original = /<style id="ep-hide">[^<]*<\/style>/.exec(readFileSync(path.join(REPO, 'www', 'demo', 'index.html'), 'utf8'))[0];
  for (const strategy of ['lol-html', 'htmlrewriter']) {
    const got = await get(workers[strategy], fresh('/csp-hash'), { headers: { accept: 'text/html', cookie: 'name=%D0%90%D0%BD%D1%8F' } });
    assert.ok(got.text.includes('id="ep-handoff"'), `${strategy}: personalized`);
    assert.ok(got.text.includes(original), `${strategy}: the style as the page wrote it`);
  }
});

test('a page request asks the origin for gzip (workerd normalizes Accept-Encoding), without cache validators; other requests go as they came', async () => {
  const validators = { 'if-none-match': '"abc"', 'if-modified-since': 'Tue, 01 Sep 2026 10:00:00 GMT' };
  for (const strategy of ['lol-html', 'htmlrewriter']) {
    const page = fresh('/');
    await get(workers[strategy], page, { headers: { accept: 'text/html', 'sec-fetch-dest': 'document', 'accept-encoding': 'br, zstd, gzip', ...validators } });
    const asked = origin.received.find((r) => r.url === page).headers;
    assert.equal(asked['accept-encoding'], 'gzip', `${strategy}: page`);
    assert.equal(asked['if-none-match'], undefined, `${strategy}: page`);
    assert.equal(asked['if-modified-since'], undefined, `${strategy}: page`);
    const image = fresh('/image.png');
    await get(workers[strategy], image, { headers: { accept: 'image/avif,*/*', 'sec-fetch-dest': 'image', ...validators } });
    const asset = origin.received.find((r) => r.url === image).headers;
    assert.equal(asset['if-none-match'], '"abc"', `${strategy}: image`);
    assert.equal(asset['if-modified-since'], validators['if-modified-since'], `${strategy}: image`);
  }
});

test('a page that runs the browser runtime gets the hand-off even when nothing on it changed', async () => {
  // The edge counts the page view in the profile cookie either way; without the
  // hand-off, the page's runtime would count it again. Pages without the runtime
  // keep their bytes.
  const config = {
    consent: { mode: 'none' },
    htmlClasses: { enabled: false },
    slots: { hero: { selector: '#ep-no-such-hero' } },
    experiences: [{ id: 'hero-all', slot: 'hero', content: { text: 'never shown' } }],
  };
  const corpusPage = CORPUS_PAGES[0];
  const directCorpus = Buffer.from(await (await fetch(new URL(`/corpus/${corpusPage}`, origin.url))).arrayBuffer());
  for (const strategy of ['lol-html', 'htmlrewriter']) {
    const worker = startWorker(strategy, { CONFIG: JSON.stringify(config) }, 'config-worker.js');
    try {
      const demo = await get(worker, fresh('/'));
      assert.ok(/\bep=[^;]/.test(demo.headers.get('set-cookie') ?? ''), `${strategy}: the page view is stored`);
      const decided = handoff(demo.text);
      assert.ok(decided, `${strategy}: the demo page (it runs the runtime) has the hand-off`);
      assert.equal(decided.storage.allowed, true, strategy);
      assert.ok([null, '[data-ep-pending]'].includes(hiddenBySnippet(demo.text)), `${strategy}: the hiding style hides no slot`);
      assert.ok(!demo.text.includes('data-ep-applied'), `${strategy}: nothing matched`);

      const corpus = await get(worker, `/corpus/${corpusPage}`);
      assert.ok(/\bep=[^;]/.test(corpus.headers.get('set-cookie') ?? ''), `${strategy}: the page view is stored`);
      assert.ok(corpus.body.equals(directCorpus), `${strategy}: a page without the runtime, byte for byte`);
    } finally {
      await worker.dispose();
    }
  }
});

test('a windows-1251 page that names its encoding only in <meta charset> gets its greeting in windows-1251, with either strategy', async () => {
  // HTMLRewriter writes inserted text as UTF-8 whatever the page's encoding; the
  // strategy then hands such a response to our wasm, which follows the <meta>.
  const config = {
    consent: { mode: 'none' },
    readCookies: ['name'],
    slots: { nav: { selector: 'nav' }, headline: { selector: 'h1' } },
    experiences: [{ id: 'headline-ru', slot: 'headline', content: { text: 'Столик на вечер' } }],
    greetings: [{ id: 'by-name', slot: 'nav', template: 'Здравствуйте, {cookies.name|гость}!' }],
  };
  for (const strategy of ['lol-html', 'htmlrewriter']) {
    const worker = startWorker(strategy, { CONFIG: JSON.stringify(config) }, 'config-worker.js');
    try {
      const got = await get(worker, fresh('/cp1251'), { headers: { cookie: 'name=%D0%90%D0%BD%D1%8F' } });
      assert.equal(got.status, 200, strategy);
      assert.ok(got.body.includes(cp1251('Здравствуйте, Аня!')), `${strategy}: the greeting, in windows-1251: ${got.body.toString('latin1')}`);
      assert.ok(got.body.includes(cp1251('Столик на вечер')), `${strategy}: the headline, in windows-1251`);
      assert.ok(!got.text.includes('Аня'), `${strategy}: no UTF-8 text in the page`);
    } finally {
      await worker.dispose();
    }
  }
});

test('a prefetch is personalized without storing its page view; a script fetching a fragment gets it untouched', async () => {
  const config = { consent: { mode: 'none' }, readCookies: ['name'], slots: { nav: { selector: 'nav' } },
    greetings: [{ id: 'by-name', slot: 'nav', template: 'Здравствуйте, {cookies.name|гость}!' }] };
  const corpusPage = CORPUS_PAGES[0];
  const direct = Buffer.from(await (await fetch(new URL(`/corpus/${corpusPage}`, origin.url))).arrayBuffer());
  for (const strategy of ['lol-html', 'htmlrewriter']) {
    const worker = startWorker(strategy, { CONFIG: JSON.stringify(config) }, 'config-worker.js');
    try {
      const headers = { cookie: 'name=%D0%90%D0%BD%D1%8F', 'sec-fetch-dest': 'document' };
      // Speculation rules' prefetch: the page may never be shown.
      const prefetched = await get(worker, fresh('/'), { headers: { ...headers, 'sec-purpose': 'prefetch' } });
      assert.ok(prefetched.text.includes('Здравствуйте, Аня!'), `${strategy}: personalized`);
      assert.ok(!/\bep=/.test(prefetched.headers.get('set-cookie') ?? ''), `${strategy}: no page view stored`);
      assert.equal(prefetched.headers.get('cache-control'), 'private, no-store', `${strategy}: still private`);
      const decided = handoff(prefetched.text);
      assert.equal(decided.storage.allowed, false, `${strategy}: the hand-off leaves the page view to the runtime`);
      // An empty Sec-Purpose says nothing: the older header counts (as on Fastly).
      const older = await get(worker, fresh('/'), { headers: { ...headers, 'sec-purpose': '', purpose: 'prefetch' } });
      assert.ok(!/\bep=/.test(older.headers.get('set-cookie') ?? ''), `${strategy}: Purpose: prefetch behind an empty Sec-Purpose`);
      // The navigation itself stores it.
      const navigated = await get(worker, fresh('/'), { headers });
      assert.ok(/\bep=[^;]/.test(navigated.headers.get('set-cookie') ?? ''), `${strategy}: a navigation is stored`);
      // htmx, Turbo and the like fetch fragments with Sec-Fetch-Dest: empty.
      const fragment = await get(worker, `/corpus/${corpusPage}`, { headers: { ...headers, 'sec-fetch-dest': 'empty', 'hx-request': 'true' } });
      assert.ok(fragment.body.equals(direct), `${strategy}: the fragment byte for byte`);
      assert.equal(fragment.headers.get('set-cookie'), null, `${strategy}: nothing stored`);
      // Cached by the browser apart from a navigation to the same URL.
      assert.match(fragment.headers.get('vary') ?? '', /Sec-Fetch-Dest/i, `${strategy}: vary`);
    } finally {
      await worker.dispose();
    }
  }
});

test('slot elements whose end tag the page leaves out (<p>, <li>): the page keeps all its content, with either strategy', async () => {
  // HTMLRewriter would remove everything up to the ancestor's end tag; our wasm
  // keeps such a slot's default; "auto" is our wasm.
  const config = {
    consent: { mode: 'none' },
    slots: { lead: { selector: 'p.lead' }, offer: { selector: 'li.offer' }, closed: { selector: 'p.closed' }, title: { selector: 'h1' } },
    experiences: ['lead', 'offer', 'closed', 'title'].map((slot) => ({ id: `${slot}-new`, slot, content: { text: `New ${slot}` } })),
  };
  const expected = {
    'lol-html': { closed: true, hidden: '[data-ep-pending]' },
    htmlrewriter: { closed: false, hidden: '[data-ep-pending]' },
    auto: { closed: true, hidden: '[data-ep-pending]' },
  };
  for (const [strategy, expect] of Object.entries(expected)) {
    const worker = startWorker(strategy === 'auto' ? undefined : strategy, { CONFIG: JSON.stringify(config) }, 'config-worker.js');
    try {
      const got = await get(worker, fresh('/omitted-end-tags'));
      const markup = got.text.split('<script type="application/json" id="ep-handoff"')[0];
      for (const kept of ['Old lead', 'Next paragraph', 'Old offer', '<li>Second</ul></main>', '<footer>end</footer>']) {
        assert.ok(markup.includes(kept), `${strategy}: ${JSON.stringify(kept)} is gone: ${markup}`);
      }
      assert.ok(markup.includes('New title</h1>'), `${strategy}: a slot with a required end tag is swapped`);
      assert.equal(markup.includes('New closed</p>'), expect.closed, `${strategy}: a closed <p> swapped at the edge`);
      assert.equal(hiddenBySnippet(markup), expect.hidden, `${strategy}: what stays hidden for the runtime`);
      // Left to the runtime, hidden until it applies them: with our wasm the slots it
      // found unclosed, with HTMLRewriter every <p> and <li>.
      const pending = expect.closed ? ['lead', 'offer'] : ['lead', 'offer', 'closed'];
      for (const slot of pending) assert.ok(markup.includes(`${PENDING}="${slot}-new"`), `${strategy}: ${slot} left to the runtime: ${markup}`);
      assert.ok(handoff(got.text), `${strategy}: the hand-off, for the runtime to finish`);
    } finally {
      await worker.dispose();
    }
  }
});

test('markup that strict HTMLRewriter refuses (a <style> in a <select>, an unclosed <select>): the page arrives whole, with either strategy', async () => {
  // workerd's HTMLRewriter throws on such markup and the response would end there;
  // js/ambiguity-guard.js carries those elements around it.
  const config = {
    consent: { mode: 'none' },
    slots: { title: { selector: 'h1' }, nav: { selector: 'nav' }, footer: { selector: 'footer' } },
    experiences: ['title', 'nav', 'footer'].map((slot) => ({ id: `${slot}-new`, slot, content: { text: `New ${slot}` } })),
  };
  // What must come back as the origin sent it, and the slots swapped at the edge.
  const expected = {
    'select-style': {
      kept: ['<form><select name=guests><option>2<style>option{color:red}</style><option>4<noscript><b>no</b></noscript></select></form>'],
      swapped: ['title', 'nav', 'footer'],
    },
    'unclosed-select': {
      kept: ['<select name=guests><option>2<option>4</form>', '<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-X" height="0" width="0"></iframe></noscript>'],
      swapped: ['title', 'nav', 'footer'],
    },
    plaintext: { kept: ['<select><plaintext><footer>end</footer></body></html>'], swapped: ['title', 'nav'] },
  };
  for (const strategy of ['htmlrewriter', 'lol-html', undefined]) {
    const worker = startWorker(strategy, { CONFIG: JSON.stringify(config) }, 'config-worker.js');
    try {
      for (const [page, expect] of Object.entries(expected)) {
        const at = `${strategy ?? 'auto'}, ${page}`;
        const got = await get(worker, fresh(`/ambiguous/${page}`));
        assert.equal(got.status, 200, at);
        for (const kept of expect.kept) assert.ok(got.text.includes(kept), `${at}: ${JSON.stringify(kept)} did not come back whole: ${got.text}`);
        for (const slot of expect.swapped) assert.ok(got.text.includes(`New ${slot}</`), `${at}: ${slot} not swapped: ${got.text}`);
        assert.ok(!got.text.includes('ep-carried'), `${at}: a marker of the guard is left: ${got.text}`);
        assert.ok(got.text.includes('id="ep-handoff"'), `${at}: no hand-off`);
        // Nothing of the origin's page is lost: with the swapped slots' content taken
        // out on both sides, and the hand-off and <html> classes, the rest is the page.
        const unswapped = (html) => html.replace(/(<(h1|nav|footer)\b[^>]*>)[^<]*(?=<\/\2>)/g, '$1')
          .replace(/ data-ep-applied="[^"]*"/g, '').replace(/<html class="[^"]*">/, '<html>').replace(/<script type="application\/json" id="ep-handoff"[^>]*>[^<]*<\/script>/, '');
        if (page !== 'plaintext') assert.equal(unswapped(got.text), unswapped(AMBIGUOUS_PAGES[page].toString()), at);
      }
    } finally {
      await worker.dispose();
    }
  }
});

test('a self-closed SVG template, a slot with no content and a style with ">" are handled as our wasm does, with either strategy', async () => {
  const config = {
    consent: { mode: 'none' },
    slots: { title: { selector: 'h1' }, hero: { selector: 'img.hero' }, nav: { selector: 'nav' }, footer: { selector: 'footer' } },
    experiences: ['title', 'hero', 'nav', 'footer'].map((slot) => ({ id: `${slot}-new`, slot, content: { text: `New ${slot}` } })),
  };
  for (const strategy of ['htmlrewriter', 'lol-html']) {
    const worker = startWorker(strategy, { CONFIG: JSON.stringify(config) }, 'config-worker.js');
    try {
      const got = await get(worker, fresh('/edge-cases'));
      assert.equal(got.status, 200, strategy);
      assert.ok(got.text.includes('<svg><template/><circle r="1"/></svg>'), `${strategy}: ${got.text}`);
      for (const slot of ['title', 'nav', 'footer']) assert.ok(got.text.includes(`New ${slot}</`), `${strategy}: ${slot} not swapped after the SVG: ${got.text}`);
      assert.ok(got.text.includes('<img class="hero" src="/image.png">'), `${strategy}: the <img> is marked or changed: ${got.text}`);
      assert.ok(/<style id="ep-hide">[^<]*main>\.x\{color:red\}<\/style>/.test(got.text), `${strategy}: the style's CSS is not as written: ${got.text}`);
      assert.ok(got.text.includes('id="ep-handoff"') && got.text.endsWith('</body></html>'), `${strategy}: the page is cut short: ${got.text}`);
    } finally {
      await worker.dispose();
    }
  }
});

test('slots on <style>, <script> and <title> get only what reads back as the browser puts it, with either strategy', async () => {
  const config = {
    consent: { mode: 'none' },
    slots: { theme: { selector: 'style#theme' }, heading: { selector: 'title' }, data: { selector: 'script#data' } },
    experiences: [
      { id: 'dark', slot: 'theme', content: { text: '.hero > h1 {{ color: red }}' } },
      { id: 'named', slot: 'heading', content: { text: 'Tom & Jerry' } },
      { id: 'json', slot: 'data', content: { html: '<b>x</b>' } },
    ],
  };
  for (const strategy of ['htmlrewriter', 'lol-html']) {
    const worker = startWorker(strategy, { CONFIG: JSON.stringify(config) }, 'config-worker.js');
    try {
      const got = await get(worker, fresh('/text-parsing'));
      assert.ok(got.text.includes('<style id="theme">h1 { color: blue }</style>'), `${strategy}: ${got.text}`);
      assert.ok(got.text.includes('{"a":1}</script>'), `${strategy}: ${got.text}`);
      assert.ok(got.text.includes('>Tom &amp; Jerry</title>'), `${strategy}: ${got.text}`);
    } finally {
      await worker.dispose();
    }
  }
});

test('a redirect to the origin\'s own address sends the visitor to the site instead; one elsewhere is left alone', async () => {
  const self = await get(workers['lol-html'], '/redirect-self', { redirect: 'manual' });
  assert.equal(self.status, 302);
  assert.equal(self.headers.get('location'), `${SITE}/book.html?from=redirect#top`);
  const away = await get(workers['lol-html'], '/redirect-away', { redirect: 'manual' });
  assert.equal(away.headers.get('location'), 'https://elsewhere.example/x');
});

test('a path that looks like another host (`//evil.example/x`) stays a path on the origin', async () => {
  const before = origin.received.length;
  const got = await get(workers['lol-html'], '//evil.example/x');
  assert.notEqual(got.status, 502, 'the request was sent to the origin');
  assert.ok(origin.received.slice(before).some((r) => r.url === '//evil.example/x'), JSON.stringify(origin.received.slice(before)));
});

test('an attribute the edge changes keeps the page\'s own value beside it for the runtime, with either strategy', async () => {
  const config = {
    consent: { mode: 'none' },
    slots: { title: { selector: 'h1' } },
    experiences: [{
      id: 'title-new', slot: 'title', content: { text: 'New title' },
      setAttributes: [
        { selector: '#cta', attribute: 'href', value: '/premium' },
        { selector: 'a.more', attribute: 'title', value: 'More' },
      ],
    }],
  };
  for (const strategy of ['lol-html', 'htmlrewriter']) {
    const worker = startWorker(strategy, { CONFIG: JSON.stringify(config) }, 'config-worker.js');
    try {
      const got = await get(worker, fresh('/attributes'));
      const cta = /<a id=cta[^>]*>/.exec(got.text)?.[0] ?? '';
      assert.ok(cta.includes('href="/premium"'), `${strategy}: ${cta}`);
      assert.ok(cta.includes('data-ep-was="href"'), `${strategy}: ${cta}`);
      // As the page wrote it, so that the browser reads back the page's own value.
      assert.ok(cta.includes('data-ep-was-href="/book?a=1&amp;b=&quot;2&quot;"'), `${strategy}: ${cta}`);
      const more = /<a class=more[^>]*>/.exec(got.text)?.[0] ?? '';
      assert.ok(more.includes('title="More"') && more.includes('data-ep-was="title"'), `${strategy}: ${more}`);
      assert.ok(!more.includes('data-ep-was-title'), `${strategy}: it had no title: ${more}`);
    } finally {
      await worker.dispose();
    }
  }
});

test('a slot that keeps its default: "auto" rewrites with our wasm, which sends the default along, inert', async () => {
  // HTMLRewriter cannot capture what it replaces; "auto" is our wasm, and with
  // `keepDefault` the page's own heading travels in a <template> for the runtime.
  const config = {
    consent: { mode: 'none' },
    slots: { title: { selector: 'h1', keepDefault: true } },
    experiences: [{ id: 'title-new', slot: 'title', content: { text: 'New title' } }],
  };
  const worker = startWorker(undefined, { CONFIG: JSON.stringify(config) }, 'config-worker.js');
  try {
    const got = await get(worker, fresh('/omitted-end-tags'));
    assert.ok(got.text.includes('<h1 data-ep-applied="title-new">New title</h1>'), got.text);
    assert.ok(
      got.text.includes('<template data-ep-default="title" data-ep-key="title-new" data-ep-nth="0">Old title</template>'),
      `the default is sent along: ${got.text}`,
    );
  } finally {
    await worker.dispose();
  }
});
