// Network: over a whole demo session (landing from an ad, consent, "Выбрать столик",
// scrolling into the newsletter popup, closing it, booking form, other pages) the
// module requests nothing but its own files, and no URL ever carries the profile
// cookie or anything about the visitor.
//
// Every request of the browser context is recorded, and fetch, XMLHttpRequest,
// sendBeacon, WebSocket and EventSource are wrapped before any script runs, so calls
// that never reach the network log (a beacon on unload) are seen too.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DEMO_DIR, MODULE_FILES, startDemo, launch, newContext, settle, visit, cookie, shot, assertClean } from './harness.mjs';

const VISITOR_NAME = 'Мария-Тестова';
const CAMPAIGN = 'spring';

let server;
let browser;

before(async () => {
  server = await startDemo();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** The same-origin assets the demo pages reference themselves (scripts, styles, preloads). */
function pageAssets() {
  const assets = new Set();
  for (const file of readdirSync(DEMO_DIR).filter((f) => f.endsWith('.html'))) {
    const html = readFileSync(path.join(DEMO_DIR, file), 'utf8');
    for (const [, url] of html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="(\/[^"]*)"/g)) assets.add(url.split('?')[0]);
  }
  return assets;
}

function wrapNetworkApis() {
  const record = (api, url) => {
    try { window.__recordNet({ api, url: String(url), page: location.pathname, stack: new Error().stack.split('\n').slice(2, 5).join(' | ') }); } catch { /* binding gone */ }
  };
  const { fetch } = window;
  window.fetch = function wrappedFetch(input, init) {
    record('fetch', input && input.url ? input.url : input);
    return fetch.call(this, input, init);
  };
  if (navigator.sendBeacon) {
    const beacon = navigator.sendBeacon.bind(navigator);
    navigator.sendBeacon = (url, data) => { record('sendBeacon', url); return beacon(url, data); };
  }
  const { open } = XMLHttpRequest.prototype;
  XMLHttpRequest.prototype.open = function wrappedOpen(method, url, ...rest) { record('xhr', url); return open.call(this, method, url, ...rest); };
  for (const name of ['WebSocket', 'EventSource']) {
    const Original = window[name];
    if (!Original) continue;
    window[name] = new Proxy(Original, { construct(target, args) { record(name, args[0]); return new target(...args); } });
  }
}

test('a full demo session: only the module\'s own files and the page\'s assets, nothing about the visitor in any URL', async () => {
  const { context, log } = await newContext(browser);
  const calls = [];
  try {
    await context.exposeBinding('__recordNet', (_source, entry) => { calls.push(entry); });
    await context.addInitScript(wrapNetworkApis);
    await context.addCookies([{ name: 'name', value: encodeURIComponent(VISITOR_NAME), url: server.url }]);
    const page = await context.newPage();
    const cookieValues = new Set();
    const noteCookie = async () => { const c = await cookie(context, 'ep'); if (c) cookieValues.add(c.value); };

    // Landing from an ad; consent through the banner.
    let outcome = await visit(page, server, `/?utm_source=yandex&utm_medium=cpc&utm_campaign=${CAMPAIGN}`);
    assert.equal(outcome.ready, true);
    await page.click('#consent [data-consent="personalization"]');
    await page.waitForFunction(() => document.cookie.includes('ep='));
    await noteCookie();
    // Popups need a stored profile (their caps live in it): they are offered from the
    // next page view on, which the visitor gets by reloading.
    await page.reload({ waitUntil: 'domcontentloaded' });
    outcome = await settle(page);
    assert.ok(outcome.decision.decision.popups.some((p) => p.popup === 'newsletter'), 'the newsletter popup is offered to this new visitor');
    // "Выбрать столик" (an add_to_cart the runtime records) and the site's toast.
    await page.click('#offers [data-ep-event="add_to_cart"] >> nth=0');
    await page.waitForSelector('.toast a', { state: 'visible' });
    await noteCookie();
    // Scroll: the newsletter popup (new visitor, scrollPercent 60) opens; close it.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.locator('[role="dialog"]').waitFor({ state: 'visible', timeout: 5000 });
    await shot(page, 'network-popup');
    await page.click('[role="dialog"] .ep-popup-close');
    await page.locator('[role="dialog"]').waitFor({ state: 'detached' });
    await noteCookie();
    // On to the booking form through the toast's link, back home by the logo, then a restaurant.
    await page.evaluate(() => window.scrollTo(0, 0));
    await Promise.all([page.waitForURL('**/book.html?r=*'), page.click('.toast a')]);
    await settle(page);
    await noteCookie();
    await Promise.all([page.waitForURL(server.href('/')), page.click('a.logo')]);
    await settle(page);
    outcome = await visit(page, server, '/restaurant-white-rabbit.html');
    assert.equal(outcome.ready, true);
    await noteCookie();
    const visitorId = String((await page.evaluate(() => window.edgePersona.export())).visitorId);
    await page.waitForTimeout(300);
    await page.close(); // unload: a beacon would be sent now
    await new Promise((resolve) => setTimeout(resolve, 300));

    // 1. Every request stays on this origin, and is a module file or an asset of the pages.
    const allowed = new Set([...MODULE_FILES, ...pageAssets()]);
    const pages = new Set(['/', '/book.html', '/restaurant-white-rabbit.html']);
    const foreign = [];
    const unexpected = [];
    for (const url of log.requests) {
      if (url.startsWith('data:')) continue;
      const parsed = new URL(url);
      if (parsed.origin !== server.origin) foreign.push(url);
      else if (!allowed.has(parsed.pathname) && !pages.has(parsed.pathname)) unexpected.push(url);
    }
    assert.deepEqual(foreign, [], 'requests to other origins');
    assert.deepEqual(unexpected, [], 'requests that are neither the module\'s files nor the pages\' assets');
    for (const file of MODULE_FILES) {
      assert.ok(log.requests.some((u) => new URL(u).pathname === file), `${file} was loaded`);
    }
    assert.ok(!log.requests.some((u) => u.includes('/ep/debug.js')), 'the debug overlay is not loaded unless asked for');
    // The module's files carry no query: nothing is appended to them.
    for (const url of log.requests.filter((u) => u.startsWith(server.origin))) {
      const parsed = new URL(url);
      if (MODULE_FILES.includes(parsed.pathname)) assert.equal(parsed.search, '', `${url} has no query`);
    }

    // 2. No URL carries the profile cookie or visitor data.
    assert.ok(cookieValues.size >= 2, 'the profile cookie was written and updated');
    const secrets = [...cookieValues, visitorId, VISITOR_NAME, encodeURIComponent(VISITOR_NAME)];
    for (const url of [...log.requests, ...calls.map((c) => c.url)]) {
      for (const secret of secrets) assert.ok(!url.includes(secret), `${url} carries visitor data (${secret.slice(0, 12)}…)`);
    }

    // 3. The scripts' own calls: fetch for the config and the wasm, nothing else.
    const byApi = (api) => calls.filter((c) => c.api === api);
    const fetched = byApi('fetch').map((c) => new URL(c.url, server.url).pathname);
    assert.ok(fetched.length > 0, 'the wrapper saw the module\'s fetches');
    assert.deepEqual([...new Set(fetched)].sort(), ['/config.json', '/ep/edge_persona_bg.wasm']);
    for (const api of ['sendBeacon', 'xhr', 'WebSocket', 'EventSource']) assert.deepEqual(byApi(api), [], `${api} calls`);
    assertClean(log);
  } finally {
    await context.close();
  }
});
