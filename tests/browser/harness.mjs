// Shared helpers of the browser tests (`node --test tests/browser/`).
//
// - startDemo(): the demo site (www/demo) served in-process on a free port with the
//   built package (pkg/npm) mounted at /ep, through scripts/serve.mjs. Every HTML page
//   goes through this file, so a test can rewrite it (flicker budget, loader removed,
//   extra CSP) and every other request through a per-test `transform` hook.
// - launch() / newContext(): one Chromium per test file, a fresh context (cookies,
//   storage, cache) per test, with console errors, uncaught errors, dialogs and every
//   request URL collected, and a probe (init script) recording edge-persona's events.
// - Helpers to wait for the runtime, move the visitor's clock, compare the DOM with a
//   decision, and save screenshots to test-results/browser/.
//
// Flicker budget: the demo pages ship a 300 ms budget (anti-flicker CSS + runtime).
// On a loaded 2-core machine the first decision of a cold page load often comes later
// than that, and the page then keeps its defaults by design. Functional tests (does
// the right content appear?) therefore raise the budget of the page they load to
// TEST_BUDGET_MS, in both places at once (the CSS timeout and `data-budget`), and
// change nothing else; the fail-safe and flicker tests use the budget as shipped.

import { mkdirSync, readFileSync, existsSync, createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { startServer, DEFAULT_CSP, contentType } from '../../scripts/serve.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEMO_DIR = path.join(REPO, 'www', 'demo');
export const PKG_DIR = path.join(REPO, 'pkg', 'npm');
export const RESULTS_DIR = path.join(REPO, 'test-results', 'browser');
export { DEFAULT_CSP };

/** The demo site's config, as the pages load it. */
export const CONFIG = JSON.parse(readFileSync(path.join(DEMO_DIR, 'config.json'), 'utf8'));
/** `htmlClasses.prefix` of the config, or the engine's default (`src/core/config/model.rs`). */
export const CLASS_PREFIX = CONFIG.htmlClasses?.prefix ?? 'ep-';

/** The budget the demo pages ship with, read from the anti-flicker snippet of index.html. */
export const SHIPPED_BUDGET_MS = Number(
  /animation:ep-reveal 0s (\d+)ms/.exec(readFileSync(path.join(DEMO_DIR, 'index.html'), 'utf8'))?.[1]);
/** The budget functional tests give the page (see the header). */
export const TEST_BUDGET_MS = 5000;

/**
 * The user agent a visitor's desktop Chrome of this version sends. Headless Chromium
 * announces itself as `HeadlessChrome`, which the engine classifies as an automated
 * client (device `bot`), as it should scrapers; the tests play visitors.
 */
function desktopUserAgent() {
  let major = '140';
  try {
    major = /(\d+)\./.exec(execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1] ?? major;
  } catch { /* the default version */ }
  return `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36`;
}

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--no-first-run', '--disable-sync', '--disable-quic', `--user-agent=${desktopUserAgent()}`,
];

/** The files the module loads itself (nothing else may be requested on its behalf). */
export const MODULE_FILES = ['/ep/loader.js', '/ep/edge-persona.js', '/ep/edge_persona.js', '/ep/edge_persona_bg.wasm', '/config.json'];

if (!existsSync(path.join(PKG_DIR, 'edge_persona_bg.wasm'))) {
  throw new Error(`${PKG_DIR} has no build: run \`python3 scripts/build web npm\` first`);
}
mkdirSync(RESULTS_DIR, { recursive: true });

// ---------------------------------------------------------------------------------
// The server.

/** The demo HTML file a request path names (`/` is index.html, `/book` book.html), or null. */
export function demoHtmlFile(urlPath) {
  let name = urlPath === '/' ? 'index.html' : urlPath.replace(/^\/+/, '');
  if (!name || name.includes('/') || name.includes('..')) return null;
  if (!name.endsWith('.html')) {
    if (path.extname(name) !== '') return null;
    name += '.html';
  }
  const file = path.join(DEMO_DIR, name);
  return existsSync(file) ? file : null;
}

/** The page with another flicker budget, in the CSS timeout and the loader's data-budget. */
export function withBudget(html, budgetMs) {
  const css = /(animation:ep-reveal 0s )\d+ms/;
  const tag = /<script type="module" src="\/ep\/loader\.js"/;
  if (!css.test(html) || !tag.test(html)) throw new Error('the demo page no longer has the anti-flicker snippet or the loader tag this harness rewrites');
  return html.replace(css, `$1${budgetMs}ms`).replace(tag, (m) => `${m} data-budget="${budgetMs}"`);
}

/** Preload hints for the module's files (/ep/… and the config), which the pages carry. */
export const MODULE_PRELOADS = /<link rel="(?:modulepreload|preload)"[^>]*href="(?:\/ep\/[^"]*|\/config\.json)"[^>]*>\n?/g;

/** The page without its preload hints for the module (the loader tag alone). */
export function withoutPreloads(html) {
  return html.replace(MODULE_PRELOADS, '');
}

/** The page without the module: no anti-flicker style, no loader, no preload of its files. */
export function withoutModule(html) {
  const out = withoutPreloads(html)
    .replace(/<style id="ep-hide">[^<]*<\/style>\n?/, '')
    .replace(/<script type="module" src="\/ep\/loader\.js"[^>]*><\/script>\n?/, '');
  if (out.includes('/ep/') || out.includes('/config.json') || out.includes('ep-hide')) throw new Error('withoutModule: the page still references the module');
  return out;
}

export function sendBody(res, status, body, headers = {}) {
  const buffer = Buffer.isBuffer(body) ? body : Buffer.from(String(body), 'utf8');
  res.writeHead(status, { 'Cache-Control': 'no-cache', 'Content-Length': buffer.length, ...headers });
  res.end(res.req?.method === 'HEAD' ? undefined : buffer);
}

/** Sends a file of the site or the package with the given type (default: by extension). */
export function sendFile(res, file, type = contentType(file), headers = {}) {
  const size = statSync(file).size;
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': size, 'Cache-Control': 'no-cache', ...headers });
  createReadStream(file).pipe(res);
}

/** The file behind a path of the module (/ep/...), for transforms that serve it differently. */
export function pkgFile(name) { return path.join(PKG_DIR, name); }

/**
 * Starts the demo server. Per test, `configure({budgetMs, csp, html, transform, headers})`
 * sets how pages are served (reset with `configure()`):
 * - budgetMs: the pages' flicker budget (default TEST_BUDGET_MS; `null` keeps the shipped one);
 * - csp: the CSP of HTML pages (default: the server's strict DEFAULT_CSP);
 * - html(text, urlPath): a further rewrite of each demo page;
 * - transform(urlPath, res, req): sees every request first; true when it responded;
 * - headers(urlPath): extra headers on static files (the server's `headers` option).
 */
export async function startDemo() {
  let settings = {};
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    root: DEMO_DIR,
    mounts: [`/ep=${PKG_DIR}`],
    headers: (urlPath) => (settings.headers ? settings.headers(urlPath) : {}),
    async transform(urlPath, res, req) {
      if (settings.transform && (await settings.transform(urlPath, res, req))) return true;
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const file = demoHtmlFile(urlPath);
      if (!file) return false;
      let html = readFileSync(file, 'utf8');
      const budget = settings.budgetMs === undefined ? TEST_BUDGET_MS : settings.budgetMs;
      if (budget != null) html = withBudget(html, budget);
      if (settings.html) html = settings.html(html, urlPath);
      const csp = settings.csp === undefined ? DEFAULT_CSP : settings.csp;
      sendBody(res, 200, html, {
        'Content-Type': 'text/html; charset=utf-8',
        'X-Content-Type-Options': 'nosniff',
        ...(csp ? { 'Content-Security-Policy': csp } : {}),
      });
      return true;
    },
  });
  return {
    url: server.url,
    origin: server.url.replace(/\/$/, ''),
    href: (p) => new URL(p, server.url).href,
    configure(next = {}) { settings = { ...next }; },
    close: () => server.close(),
  };
}

/**
 * Serves a bundler's build (`dist`, e.g. www/vite-app/dist) with its page's
 * anti-flicker budget stretched to 10 s: such tests check what is applied, on a
 * loaded CI machine where a cold start can pass 300 ms (the flicker tests cover the
 * budget itself).
 */
export async function startStretchedBuild(dist) {
  assert.ok(existsSync(dist), `${dist} is missing: scripts/test builds it (npm run build)`);
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  const stretched = html.replace(/(animation:[^;}]*?)(\.3s|300ms)/, (_, before) => `${before}10s`);
  assert.notEqual(stretched, html, 'the built page has the anti-flicker snippet');
  return startServer({
    port: 0,
    host: '127.0.0.1',
    root: dist,
    transform: (urlPath, res) => {
      if (urlPath !== '/' && urlPath !== '/index.html') return false;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(stretched);
      return true;
    },
  });
}

/** The demo site serving `config` as its `/config.json` (the pages are the demo's). */
export async function startDemoWithConfig(config) {
  const server = await startDemo();
  server.configure({
    transform(urlPath, res) {
      if (urlPath !== '/config.json') return false;
      sendBody(res, 200, JSON.stringify(config), { 'Content-Type': 'application/json' });
      return true;
    },
  });
  return server;
}

/**
 * For a test file: the demo serving `config` and one Chromium, started in a `before`
 * hook and stopped in an `after` hook of the file. Read `demo.server` and
 * `demo.browser` inside tests (they are set once the hook ran).
 */
export function demoWithConfigPerFile(config) {
  const demo = { server: null, browser: null };
  before(async () => {
    demo.server = await startDemoWithConfig(config);
    demo.browser = await launch();
  });
  after(async () => {
    await demo.browser?.close();
    await demo.server?.close();
  });
  return demo;
}

// ---------------------------------------------------------------------------------
// The browser.

export function launch() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * Installed in every frame before any of the page's scripts: records edge-persona's
 * DOM events, DOMContentLoaded, when `ep-ready` lands on <html>, CSP violations and
 * uncaught errors; and lets tests move Date.now() (the runtime's only clock for
 * visits, sessions and caps) through `window.__epClockOffsetMs`.
 */
function probe() {
  if (window.__ep) return;
  const ep = (window.__ep = { events: [], dcl: null, readyAt: null, violations: [], uncaught: [] });
  const copy = (value) => { try { return JSON.parse(JSON.stringify(value ?? null)); } catch { return String(value); } };
  for (const name of ['decision', 'error', 'ready', 'exposure', 'conversion', 'consent', 'engaged']) {
    document.addEventListener(`edge-persona:${name}`, (event) => {
      ep.events.push({ name, at: performance.now(), detail: copy(event.detail) });
    }, true);
  }
  document.addEventListener('DOMContentLoaded', () => { ep.dcl = performance.now(); }, true);
  document.addEventListener('securitypolicyviolation', (event) => {
    ep.violations.push({ directive: event.violatedDirective, blocked: event.blockedURI, sample: event.sample, source: event.sourceFile });
  }, true);
  window.addEventListener('error', (event) => { ep.uncaught.push(String(event.message || event.error)); });
  window.addEventListener('unhandledrejection', (event) => { ep.uncaught.push(`unhandled rejection: ${event.reason && event.reason.message || event.reason}`); });
  new MutationObserver(() => {
    if (ep.readyAt == null && document.documentElement && document.documentElement.classList.contains('ep-ready')) {
      ep.readyAt = performance.now();
    }
  }).observe(document, { attributes: true, attributeFilter: ['class'], subtree: true });
  const realNow = Date.now;
  Date.now = function now() { return realNow.call(Date) + (window.__epClockOffsetMs || 0); };
}

/**
 * A fresh context with collectors: `log.pageErrors` (uncaught exceptions),
 * `log.consoleErrors`, `log.dialogs` (alert/confirm/prompt), `log.requests` (every URL).
 */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const log = { pageErrors: [], consoleErrors: [], consoleWarnings: [], dialogs: [], requests: [] };
  context.on('request', (request) => log.requests.push(request.url()));
  const watch = (page) => {
    page.on('pageerror', (error) => log.pageErrors.push(String(error && error.stack || error)));
    page.on('console', (message) => {
      if (message.type() === 'error') log.consoleErrors.push(message.text());
      if (message.type() === 'warning') log.consoleWarnings.push(message.text());
    });
    page.on('dialog', (dialog) => { log.dialogs.push(`${dialog.type()}: ${dialog.message()}`); dialog.dismiss().catch(() => {}); });
  };
  context.on('page', watch);
  await context.addInitScript(probe);
  const clock = { offsetMs: 0 };
  return {
    context,
    log,
    clock,
    /** Moves the visitor's clock forward for every page loaded from now on. */
    async advance(ms) {
      clock.offsetMs += ms;
      await context.addInitScript((offset) => { window.__epClockOffsetMs = offset; }, clock.offsetMs);
    },
    /** The demo's stored consent answer, as its banner leaves it (read by demo.js on every page). */
    async storedConsent(answer = 'personalization') {
      await context.addInitScript((value) => {
        try { if (!window.localStorage.getItem('demo-consent')) window.localStorage.setItem('demo-consent', value); } catch { /* no storage */ }
      }, answer);
    },
    close: () => context.close(),
  };
}

/**
 * Runs `run(page, session)` for a visitor whose consent the demo banner already
 * stored, in a fresh context with one page; then asserts that the page threw nothing
 * and closes the context.
 */
export async function asConsentingVisitor(browser, run) {
  const session = await newContext(browser);
  try {
    await session.storedConsent();
    const page = await session.context.newPage();
    await run(page, session);
    assertClean(session.log);
  } finally {
    await session.context.close();
  }
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------
// Waiting and reading.

/** The edge-persona events recorded in a page (or frame), optionally of one name. */
export async function events(page, name) {
  const all = await page.evaluate(() => (window.__ep ? window.__ep.events : []));
  return name ? all.filter((e) => e.name === name) : all;
}

/**
 * Waits until the script tag's loader is done (its `edge-persona:ready`, or an
 * `edge-persona:error` from the loader or the runtime) and returns the page's
 * decisions so far with the outcome.
 */
export async function settle(page, { timeout = 15_000 } = {}) {
  await page.waitForFunction(() => window.__ep && window.__ep.events.some((e) =>
    e.name === 'ready' || (e.name === 'error' && (e.detail.where === 'loader' || e.detail.where === 'init'))), null, { timeout });
  const all = await events(page);
  const decisions = all.filter((e) => e.name === 'decision');
  return {
    events: all,
    ready: all.find((e) => e.name === 'ready')?.detail?.ready ?? false,
    errors: all.filter((e) => e.name === 'error').map((e) => e.detail),
    decision: decisions.at(-1)?.detail ?? null,
    decisions: decisions.map((e) => e.detail),
  };
}

/** Navigates and waits for the loader; the last decision of that page view, with its outcome. */
export async function visit(page, server, urlPath, options) {
  await page.goto(server.href(urlPath), { waitUntil: 'domcontentloaded' });
  return settle(page, options);
}

/** The page's cookie of that name, or undefined. */
export async function cookie(context, name) {
  return (await context.cookies()).find((c) => c.name === name);
}

/**
 * The profile cookie `name` when it holds a profile: not the refusal marker (`0`),
 * which a "no" leaves in its place (no data, only the answer).
 */
export async function profileCookie(context, name) {
  const found = await cookie(context, name);
  return found && found.value !== '0' ? found : undefined;
}

/**
 * The cookie `name` once `settled(cookie)` holds for it, or as it is after
 * `timeoutMs`: a page's `document.cookie` write reaches the browser's cookie store
 * (which `context.cookies()` reads) a moment later, longer on a busy machine.
 */
export async function cookieOnceSettled(context, name, settled, timeoutMs = 3000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await cookie(context, name);
    if (settled(found) || Date.now() > until) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Whether the profile cookie `name` is the refusal marker. */
export async function refusalRemembered(context, name) {
  return (await cookie(context, name))?.value === '0';
}

/** localStorage keys of the page that start with `prefix` (null when storage is unavailable). */
export function storageKeys(page, prefix = 'edge-persona:') {
  return page.evaluate((p) => {
    try { return Object.keys(window.localStorage).filter((k) => k.startsWith(p)); } catch { return null; }
  }, prefix);
}

/** The content each slot selector has without any script: a JS-disabled load of the page. */
export async function defaultContents(browser, url, selectors) {
  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const out = {};
    for (const selector of selectors) {
      out[selector] = await page.$$eval(selector, (els) => els.map((el) => ({ html: el.innerHTML, text: el.textContent })));
    }
    return out;
  } finally {
    await context.close();
  }
}

/**
 * What the DOM shows for each part of a decision: per slot element `data-ep-applied`,
 * innerHTML and the innerHTML of the template the decision names; greeting texts;
 * the attributes the decision sets; the classes of <html>.
 */
export function domOf(page, decision) {
  return page.evaluate((d) => {
    const template = (name) => {
      const t = Array.from(document.querySelectorAll('template[data-ep-variant]')).find((x) => x.getAttribute('data-ep-variant') === name);
      return t ? t.innerHTML : null;
    };
    return {
      slots: d.slots.map((s) => ({
        slot: s.slot,
        selector: s.selector,
        elements: Array.from(document.querySelectorAll(s.selector), (el) => ({
          applied: el.getAttribute('data-ep-applied'),
          html: el.innerHTML,
          visibility: getComputedStyle(el).visibility,
        })),
        templateHtml: s.content && s.content.template ? template(s.content.template) : null,
      })),
      greetings: d.greetings.map((g) => ({
        selector: g.selector,
        texts: Array.from(document.querySelectorAll(g.selector), (el) => el.textContent),
        applied: Array.from(document.querySelectorAll(g.selector), (el) => el.getAttribute('data-ep-applied')),
      })),
      attributes: d.attributes.map((a) => ({
        ...a, actual: Array.from(document.querySelectorAll(a.selector), (el) => el.getAttribute(a.attribute)),
      })),
      htmlClasses: Array.from(document.documentElement.classList),
    };
  }, decision);
}

/** `data-ep-applied` of a slot that shows a decision (`src/browser/dom.rs`: `experience/variant`). */
export function appliedKey(slot) {
  return slot.variant ? `${slot.experience}/${slot.variant}` : (slot.experience ?? '');
}

/**
 * Asserts that the page shows exactly what `decision` says, wherever the page has the
 * element: a personalized slot shows its template's content and is marked; a slot
 * with no experience or in the holdout keeps its default (`defaults`, from
 * `defaultContents`) and has no mark; greetings are the decided text; attributes are
 * set; every decided class is on <html>.
 */
export async function assertDomMatches(page, decision, defaults = {}) {
  const dom = await domOf(page, decision);
  for (const slot of dom.slots) {
    const decided = decision.slots.find((s) => s.slot === slot.slot);
    const personalized = decided.experience && !decided.holdout && decided.content;
    slot.elements.forEach((element, index) => {
      if (personalized) {
        assert.equal(element.applied, appliedKey(decided), `slot ${slot.slot}: data-ep-applied`);
        if (decided.content.template) {
          assert.ok(slot.templateHtml != null, `slot ${slot.slot}: the page has the template ${decided.content.template}`);
          assert.equal(element.html, slot.templateHtml, `slot ${slot.slot} shows the content of <template data-ep-variant="${decided.content.template}">`);
        }
      } else {
        assert.equal(element.applied, null, `slot ${slot.slot} (${decided.holdout ? 'holdout' : 'no experience'}): not marked`);
        const byDefault = defaults[slot.selector]?.[index];
        if (byDefault) assert.equal(element.html, byDefault.html, `slot ${slot.slot} keeps its default content`);
      }
      assert.equal(element.visibility, 'visible', `slot ${slot.slot} is visible`);
    });
  }
  for (const [i, greeting] of dom.greetings.entries()) {
    for (const text of greeting.texts) assert.equal(text, decision.greetings[i].text, `greeting ${decision.greetings[i].greeting}`);
  }
  for (const attribute of dom.attributes) {
    for (const actual of attribute.actual) assert.equal(actual, attribute.value, `${attribute.selector} [${attribute.attribute}]`);
  }
  for (const name of decision.htmlClasses) assert.ok(dom.htmlClasses.includes(name), `<html> has class ${name} (has ${dom.htmlClasses.join(' ')})`);
  return dom;
}

/** A screenshot artefact in test-results/browser/ (never fails a test). */
export async function shot(page, name) {
  try {
    await page.screenshot({ path: path.join(RESULTS_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`), fullPage: false });
  } catch { /* a closed page: no artefact */ }
}

/** Asserts a context saw no uncaught errors and no alert/confirm/prompt. */
export function assertClean(log, what = '') {
  assert.deepEqual(log.pageErrors, [], `${what} uncaught errors`);
  assert.deepEqual(log.dialogs, [], `${what} dialogs (alert/confirm/prompt)`);
}

/** The median and 90th percentile of numbers (nearest rank). */
export function stats(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return { n: 0, median: null, p90: null };
  const rank = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const round = (v) => Math.round(v * 10) / 10;
  return { n: sorted.length, median: round(rank(0.5)), p90: round(rank(0.9)), min: round(sorted[0]), max: round(sorted.at(-1)) };
}

/** The price band of a price under the config's bands (first band whose `below` it is under). */
export function priceBand(price, bands = CONFIG.classify?.price?.bands) {
  return bands.find((b) => b.below == null || price < b.below).name;
}

/** The engine's cleaning of visitor values for text (`src/core/template.rs`, `clean_value`). */
export const MAX_VALUE_CHARS = 64;
export function cleanValue(raw) {
  const kept = Array.from(raw).filter((c) => !/[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(c));
  let i = 0;
  while (i < kept.length && /\s/u.test(kept[i])) i++;
  return kept.slice(i, i + MAX_VALUE_CHARS).join('').trimEnd();
}

/** The engine's URL-component encoding (`src/core/template.rs`, `percent_encode`). */
export function percentEncode(value) {
  return Array.from(Buffer.from(value, 'utf8'), (b) =>
    (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** A config rule by id. */
export function rule(kind, id) {
  const found = (CONFIG[kind] || []).find((r) => r.id === id);
  if (!found) throw new Error(`config has no ${kind} ${id}`);
  return found;
}

/**
 * Renders a config template the way `src/core/template.rs` does for known values:
 * `{field}` or `{field|fallback}`; a value is cleaned (`cleanValue`) then encoded.
 */
export function renderTemplate(template, values, encode = (v) => v) {
  return template.replace(/\{([^}|]+)(?:\|([^}]*))?\}/g, (_, field, fallback) => {
    const value = values[field] == null ? '' : cleanValue(values[field]);
    if (value !== '') return encode(value);
    if (fallback !== undefined) return fallback;
    throw new Error(`renderTemplate: no value for {${field}}`);
  });
}

/** The highest-priority experience of a slot that needs only segments the visitor has. */
export function experienceBySegments(slot, segments) {
  return CONFIG.experiences
    .filter((e) => e.slot === slot && !e.when && (e.segments || []).length > 0 && e.segments.every((s) => segments.includes(s)))
    .sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0))[0];
}

/** Fires the runtime's exit intent: the pointer leaves through the top edge of the page. */
export function exitIntent(page) {
  return page.evaluate(() => document.dispatchEvent(new MouseEvent('mouseout', { bubbles: true, clientX: 400, clientY: 0, relatedTarget: null })));
}
