// The origin that every edge test puts behind the edge under test (the local edge in
// Node, the Cloudflare worker in workerd, the Fastly program in Viceroy): the demo
// pages, the landing-page corpus, and the responses that must pass through untouched.
//
//   import { startOrigin } from '../edge-shared/origin.mjs';
//   const origin = await startOrigin();   // { url, received, slowLastWriteAt, …, close }
//
// Routes:
// - `/`, `/<file>` from www/demo (HTML with a CSP nonce, validators, an origin cookie);
// - `/corpus/<page>.html` from ../shared/corpus/pages, unmodified;
// - `/image.png`, `/missing` (404), `/range` (206), `/brotli` (Content-Encoding: br,
//   which the edge does not decode), `/two-content-types` (two Content-Type lines:
//   no one HTML type): answers that pass through untouched;
// - `/gzip`: the demo page gzipped whatever the request accepts (the Fastly program
//   decodes it; Cloudflare's fetch and Node's do so themselves);
// - `/slow`: HTML in three chunks SLOW_GAP_MS apart, to prove the edge streams.
// The origin records the headers of every request (`received`), so a test can check
// what the edge forwarded.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEMO_DIR = path.join(REPO, 'www', 'demo');
export const CORPUS_DIR = path.join(REPO, '..', 'shared', 'corpus', 'pages');
export const DEMO_CONFIG = JSON.parse(readFileSync(path.join(DEMO_DIR, 'config.json'), 'utf8'));
/** The script nonce of the origin's CSP on demo pages; the hand-off must carry it. */
export const NONCE = 'dGVzdC1ub25jZQ==';
/** The corpus pages' file names. */
export const CORPUS_PAGES = readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.html')).sort();

const MIME = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.json': 'application/json; charset=utf-8',
};
export const PNG = Buffer.concat([
  Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
  randomBytes(2048),
  Buffer.from('3c68746d6c3e', 'hex'), // "<html>" inside the bytes: still not HTML
]);
export const GZIP_PAGE = gzipSync(readFileSync(path.join(DEMO_DIR, 'index.html')));
export const BROTLI_PAGE = brotliCompressSync(readFileSync(path.join(DEMO_DIR, 'index.html')));
/** The page in zlib `deflate`, which Node's fetch decodes and workerd's does not. */
export const DEFLATE_PAGE = deflateSync(readFileSync(path.join(DEMO_DIR, 'index.html')));
/** The gzip page cut short (its Content-Length says so): a body that is damaged gzip. */
export const DAMAGED_GZIP_PAGE = GZIP_PAGE.subarray(0, Math.floor(GZIP_PAGE.length * 0.6));
/** A page in an encoding no runtime decodes (LZW `compress`): opaque bytes to the edge. */
export const COMPRESS_PAGE = Buffer.concat([Buffer.from([0x1f, 0x9d, 0x90]), gzipSync(readFileSync(path.join(DEMO_DIR, 'index.html')))]);
export const RANGE_BODY = Buffer.from('<!doctype html><html><body><p class="greeting">part of a page</p>'.padEnd(100, ' '));
// Each chunk well over the 4–16 KB that runtimes and proxies may gather before they
// pass bytes on, so that streaming shows.
export const SLOW_CHUNKS = [
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Slow</title></head><body>\n<p>first part</p>\n${'<p>filler</p>\n'.repeat(2000)}`,
  `<p>second part</p>\n${'<p>filler</p>\n'.repeat(2000)}`,
  '<p>last part</p>\n</body></html>\n',
];
export const SLOW_GAP_MS = 300;

/** Text in windows-1251 (ASCII and the Russian alphabet, which is all it is given here). */
export function cp1251(text) {
  return Buffer.from(Array.from(text, (c) => {
    const code = c.codePointAt(0);
    if (code < 0x80) return code;
    if (code >= 0x410 && code <= 0x44f) return code - 0x350;
    if (code === 0x401) return 0xa8; // Ё
    if (code === 0x451) return 0xb8; // ё
    throw new Error(`cp1251: no byte for U+${code.toString(16)}`);
  }));
}
/**
 * A page that leaves out end tags HTML lets it leave out (`</p>`, `</li>`), with the
 * head snippet's hiding style, and slots of each kind.
 */
export const OMITTED_END_TAGS_PAGE = Buffer.from('<!doctype html><html><head>'
  + '<style id="ep-hide">@keyframes ep-reveal{to{visibility:visible}}html:not(.ep-ready) :is(p.lead,li.offer,p.closed,h1){visibility:hidden;animation:ep-reveal 0s 300ms forwards}</style>'
  + '</head><body><main><p class=lead>Old lead<p>Next paragraph</p><ul><li class=offer>Old offer<li>Second</ul></main>'
  + '<p class=closed>Old closed</p><h1>Old title</h1><footer>end</footer></body></html>');
/** A Russian page in windows-1251 that names its encoding only in `<meta charset>`. */
export const CP1251_PAGE = cp1251('<!doctype html><html lang="ru"><head><meta charset="windows-1251"><title>Ресторан</title></head>'
  + '<body><nav>Меню</nav><h1>Добро пожаловать</h1><footer>Москва</footer></body></html>');

/**
 * Pages with markup that lol-html's strict mode (workerd's HTMLRewriter) refuses: a
 * text-parsing element inside `<select>`, an unclosed `<select>` before Google Tag
 * Manager's `<noscript><iframe>`, and `<plaintext>` inside `<select>` (the rest of
 * the page is its text). Each has slots (`h1`, `nav`, `footer`) before and after it.
 */
export const AMBIGUOUS_PAGES = {
  'select-style': Buffer.from('<!doctype html><html><head><title>Booking</title></head><body><h1>Old title</h1>'
    + '<form><select name=guests><option>2<style>option{color:red}</style><option>4<noscript><b>no</b></noscript></select></form>'
    + '<nav>Menu</nav><footer>end</footer></body></html>'),
  'unclosed-select': Buffer.from('<!doctype html><html><head><title>Booking</title></head><body><h1>Old title</h1>'
    + '<form><select name=guests><option>2<option>4</form><nav>Menu</nav>'
    + '<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-X" height="0" width="0"></iframe></noscript>'
    + '<footer>end</footer></body></html>'),
  plaintext: Buffer.from('<!doctype html><html><body><h1>Old title</h1><nav>Menu</nav>'
    + '<select><plaintext><footer>end</footer></body></html>'),
};

/**
 * Markup at the edges of what a rewriter handles: a self-closed `<template/>` in SVG
 * (no end tag to wait for), a slot that cannot have content (`<img>`), and a hiding
 * style with `>` in its CSS.
 */
export const EDGE_CASES_PAGE = Buffer.from('<!doctype html><html><head><style id="ep-hide">@keyframes ep-reveal{to{visibility:visible}}'
  + 'html:not(.ep-ready) :is(h1,img.hero,nav,footer){visibility:hidden;animation:ep-reveal 0s 300ms forwards}main>.x{color:red}</style></head>'
  + '<body><svg><template/><circle r="1"/></svg><h1>Old title</h1><img class="hero" src="/image.png"><nav>Menu</nav><footer>end</footer></body></html>');

/** Slots on elements whose content is read as text: a <title>, a <style>, a JSON <script>. */
export const TEXT_PARSING_PAGE = Buffer.from('<!doctype html><html><head><title>Home</title><style id="theme">h1 { color: blue }</style>'
  + '<script id="data" type="application/json">{"a":1}</script></head><body><h1>Hi</h1></body></html>');

/** Links whose attributes a config changes: one with a value in quotes and entities. */
export const ATTRIBUTES_PAGE = Buffer.from('<!doctype html><html><body><h1>Old title</h1>'
  + '<a id=cta href=\'/book?a=1&amp;b="2"\'>Book</a><a class=more href=/more>More</a></body></html>');

const etag = (bytes) => `"${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}"`;

/**
 * Starts the origin on a free loopback port. `received` lists every request (method,
 * URL, headers); `slowLastWriteAt` (`performance.now()`) and `slowLastWriteEpochMs`
 * (`Date.now()`, for comparing with another process) map each /slow URL to when its
 * last chunk left.
 */
export async function startOrigin() {
  const received = [];
  const slowLastWriteAt = new Map();
  const slowLastWriteEpochMs = new Map();
  const server = http.createServer((req, res) => originHandler(req, res, { received, slowLastWriteAt, slowLastWriteEpochMs }));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    received,
    slowLastWriteAt,
    slowLastWriteEpochMs,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

function originHandler(req, res, { received, slowLastWriteAt, slowLastWriteEpochMs }) {
  received.push({ method: req.method, url: req.url, headers: { ...req.headers } });
  const { pathname } = new URL(req.url, 'http://origin.test');
  const send = (status, headers, body) => {
    res.writeHead(status, { 'Content-Length': body.length, ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (pathname === '/image.png') {
    return send(200, { 'Content-Type': 'image/png', 'Cache-Control': 'public, max-age=86400', ETag: etag(PNG) }, PNG);
  }
  if (pathname === '/missing') {
    return send(404, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' },
      Buffer.from('<!doctype html><title>Not found</title><p class="greeting">Nothing here</p>'));
  }
  if (pathname === '/two-content-types') {
    return send(200, { 'Content-Type': ['text/html', 'text/plain'], 'Cache-Control': 'public, max-age=600', ETag: etag(RANGE_BODY) }, RANGE_BODY);
  }
  if (pathname === '/range') {
    return send(206, {
      'Content-Type': 'text/html; charset=utf-8', 'Content-Range': `bytes 0-${RANGE_BODY.length - 1}/5000`,
      'Cache-Control': 'public, max-age=600', ETag: etag(RANGE_BODY),
    }, RANGE_BODY);
  }
  if (pathname === '/gzip') {
    return send(200, {
      'Content-Type': 'text/html; charset=utf-8', 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding',
      'Cache-Control': 'public, max-age=600', ETag: etag(GZIP_PAGE),
    }, GZIP_PAGE);
  }
  if (pathname === '/brotli') {
    return send(200, {
      'Content-Type': 'text/html; charset=utf-8', 'Content-Encoding': 'br', Vary: 'Accept-Encoding',
      'Cache-Control': 'public, max-age=600', ETag: etag(BROTLI_PAGE),
    }, BROTLI_PAGE);
  }
  // Labelled gzip but not: an empty body, and the page as it is.
  if (pathname === '/gzip-empty' || pathname === '/gzip-plain') {
    return send(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Encoding': 'gzip', 'Cache-Control': 'no-cache' },
      pathname === '/gzip-empty' ? Buffer.alloc(0) : readFileSync(path.join(DEMO_DIR, 'index.html')));
  }
  if (pathname === '/gzip-damaged') {
    return send(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Encoding': 'gzip', 'Cache-Control': 'no-cache' }, DAMAGED_GZIP_PAGE);
  }
  // The demo page, its head snippet's style allowed by hash (any hash: only the edge reads it).
  if (pathname === '/csp-hash') {
    return send(200, {
      'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache',
      'Content-Security-Policy': "default-src 'self'; style-src 'self' 'sha256-RsSc5ArY81afAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='",
    }, readFileSync(path.join(DEMO_DIR, 'index.html')));
  }
  // Sent whatever the request accepts, as some origins do.
  if (pathname === '/deflate') {
    return send(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Encoding': 'deflate', 'Cache-Control': 'no-cache' }, DEFLATE_PAGE);
  }
  // `GZIP`: the same coding (names are case-insensitive), but workerd's fetch()
  // decodes only the lowercase name.
  if (pathname === '/gzip-upper') {
    return send(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Encoding': 'GZIP', 'Cache-Control': 'no-cache' }, GZIP_PAGE);
  }
  if (pathname === '/compress') {
    return send(200, {
      'Content-Type': 'text/html; charset=utf-8', 'Content-Encoding': 'compress',
      'Cache-Control': 'public, max-age=600', ETag: etag(COMPRESS_PAGE),
    }, COMPRESS_PAGE);
  }
  if (pathname === '/slow') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' });
    let i = 0;
    const next = () => {
      res.write(SLOW_CHUNKS[i]);
      i += 1;
      if (i < SLOW_CHUNKS.length) return setTimeout(next, SLOW_GAP_MS);
      slowLastWriteAt.set(req.url, performance.now());
      slowLastWriteEpochMs.set(req.url, Date.now());
      res.end();
    };
    return next();
  }
  if (pathname.startsWith('/ambiguous/') && AMBIGUOUS_PAGES[pathname.slice('/ambiguous/'.length)]) {
    return send(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' }, AMBIGUOUS_PAGES[pathname.slice('/ambiguous/'.length)]);
  }
  // Redirects to the origin's own address (a login page), and to another site.
  if (pathname === '/redirect-self' || pathname === '/redirect-away') {
    const location = pathname === '/redirect-self' ? `http://${req.headers.host}/book.html?from=redirect#top` : 'https://elsewhere.example/x';
    return send(302, { Location: location, 'Cache-Control': 'no-cache' }, Buffer.from(''));
  }
  if (pathname === '/edge-cases') {
    return send(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' }, EDGE_CASES_PAGE);
  }
  if (pathname === '/text-parsing') {
    return send(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' }, TEXT_PARSING_PAGE);
  }
  if (pathname === '/attributes') {
    return send(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' }, ATTRIBUTES_PAGE);
  }
  if (pathname === '/omitted-end-tags') {
    return send(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' }, OMITTED_END_TAGS_PAGE);
  }
  if (pathname === '/cp1251') {
    return send(200, { 'Content-Type': 'text/html', 'Cache-Control': 'no-cache' }, CP1251_PAGE);
  }
  if (pathname.startsWith('/corpus/')) {
    const name = path.basename(pathname);
    const file = path.join(CORPUS_DIR, name);
    if (name.endsWith('.html') && existsSync(file)) {
      const body = readFileSync(file);
      return send(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'public, max-age=60', ETag: etag(body) }, body);
    }
  }
  const name = pathname === '/' ? 'index.html' : pathname.slice(1);
  const file = path.join(DEMO_DIR, name);
  if (/^[\w.-]+$/.test(name) && MIME[path.extname(name)] && existsSync(file)) {
    const body = readFileSync(file);
    const headers = {
      'Content-Type': MIME[path.extname(name)], 'Cache-Control': 'public, max-age=600', ETag: etag(body),
      'Last-Modified': 'Tue, 01 Sep 2026 10:00:00 GMT', Expires: 'Thu, 01 Oct 2026 10:00:00 GMT',
      'Set-Cookie': 'origin_session=1; Path=/; HttpOnly',
      // Directives a CDN in front of the edge obeys over Cache-Control (RFC 9213).
      'CDN-Cache-Control': 'max-age=600', 'Surrogate-Control': 'max-age=600',
      'Edge-Control': 'max-age=600', 'X-Accel-Expires': '600',
    };
    if (name.endsWith('.html')) {
      headers['Content-Security-Policy'] = `default-src 'self'; script-src 'self' 'nonce-${NONCE}' 'wasm-unsafe-eval'`;
    }
    return send(200, headers, body);
  }
  return send(404, { 'Content-Type': 'text/plain; charset=utf-8' }, Buffer.from('not found\n'));
}
