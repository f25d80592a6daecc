// Hostile environments: storage that throws, cookies that throw, the demo inside a
// sandboxed iframe (an opaque origin, where document.cookie and localStorage throw
// SecurityError). No uncaught error, and every slot shows something: the default
// or what the decision says — never a blank or hidden block.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  CONFIG, DEMO_DIR, TEST_BUDGET_MS, startDemo, sendFile, pkgFile, events, launch, newContext, settle, visit, assertDomMatches, sendBody, shot, cookie, profileCookie, refusalRemembered, defaultContents, assertClean,
} from './harness.mjs';

const LANDING = '/?utm_source=yandex&utm_medium=cpc&utm_campaign=spring';
const SLOT_SELECTORS = Object.entries(CONFIG.slots).map(([name, s]) => s.selector ?? `[data-ep-slot="${name}"]`);

let server;
let browser;
let defaults;

before(async () => {
  server = await startDemo();
  browser = await launch();
  defaults = await defaultContents(browser, server.href('/'), SLOT_SELECTORS);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** Per slot: visible, with content, laid out. */
function slotStates(frame) {
  return frame.evaluate((selectors) => selectors.map((selector) => {
    const el = document.querySelector(selector);
    const box = el.getBoundingClientRect();
    return {
      selector,
      visibility: getComputedStyle(el).visibility,
      text: el.textContent.trim().length,
      height: box.height,
      applied: el.getAttribute('data-ep-applied'),
      html: el.innerHTML,
    };
  }), SLOT_SELECTORS);
}

function assertNoBlankSlot(states, what) {
  for (const s of states) {
    assert.equal(s.visibility, 'visible', `${what}: ${s.selector} visible`);
    assert.ok(s.text > 0 && s.height > 0, `${what}: ${s.selector} has content`);
  }
}

const uncaught = (frame) => frame.evaluate(() => window.__ep.uncaught);

test('localStorage throws on access: the demo and the runtime carry on; consent from the banner still works', async () => {
  const { context, log } = await newContext(browser);
  try {
    await context.addInitScript(() => {
      Object.defineProperty(window, 'localStorage', { configurable: true, get() { throw new DOMException('no', 'SecurityError'); } });
    });
    const page = await context.newPage();
    // ?ep_debug=1 makes the runtime write its debug flag: through safeStorage, which must not throw.
    await visit(page, server, `${LANDING}&ep_debug=1`);
    await page.waitForSelector('#edge-persona-debug', { state: 'attached', timeout: 5000 });
    // Without storage the flag cannot outlive the page: the next page has no overlay.
    const { decision, ready } = await visit(page, server, LANDING);
    assert.equal(ready, true);
    assert.equal(await page.$('#edge-persona-debug'), null, 'the debug flag was not kept');
    assert.equal(decision.applied, true);
    assert.equal(await page.evaluate(() => { try { return !!window.localStorage; } catch { return 'throws'; } }), 'throws');
    await assertDomMatches(page, decision.decision, defaults);
    assertNoBlankSlot(await slotStates(page), 'storage throws');
    // The banner's answer cannot be remembered, but it reaches the runtime: the profile is stored.
    assert.equal(await page.isVisible('#consent'), true);
    await page.click('#consent [data-consent="personalization"]');
    await page.waitForFunction(() => document.cookie.includes('ep='));
    assert.deepEqual(await uncaught(page), []);
    assert.deepEqual(log.pageErrors, []);
    await shot(page, 'environment-storage-throws');
  } finally {
    await context.close();
  }
});

test('document.cookie throws: decisions without a stored profile, and the booking form still books', async () => {
  const session = await newContext(browser);
  const { context, log } = session;
  try {
    await session.storedConsent();
    await context.addInitScript(() => {
      Object.defineProperty(Document.prototype, 'cookie', {
        configurable: true,
        get() { throw new DOMException('cookies are blocked', 'SecurityError'); },
        set() { throw new DOMException('cookies are blocked', 'SecurityError'); },
      });
    });
    const page = await context.newPage();
    const { decision, ready } = await visit(page, server, LANDING);
    assert.equal(ready, true);
    assert.equal(decision.applied, true);
    assert.equal(decision.decision.visitor.experience, 'new');
    await assertDomMatches(page, decision.decision, defaults);
    assertNoBlankSlot(await slotStates(page), 'cookies throw');
    assert.equal(await cookie(context, 'ep'), undefined, 'nothing stored');

    // The booking form stores the name in a cookie before recording the purchase and
    // moving on: with cookies blocked it must still get to the thank-you page.
    await visit(page, server, '/book.html');
    await page.fill('#booking-form input[name="name"]', 'Анна');
    await Promise.all([page.waitForURL('**/thanks.html', { timeout: 5000 }), page.click('#booking-form [type="submit"]')]);
    await settle(page);
    const greeting = await page.evaluate(() => ({ text: document.querySelector('.greeting').textContent.trim(), visibility: getComputedStyle(document.querySelector('.greeting')).visibility }));
    assert.ok(greeting.text.length > 0 && greeting.visibility === 'visible', 'the thank-you page greets');
    assert.deepEqual(await uncaught(page), []);
    assert.deepEqual(log.pageErrors, []);
  } finally {
    await context.close();
  }
});

test('a site script after the loader that arrives late still gets its queued consent into the first decision', async () => {
  // demo.js (which replays the stored consent answer into the queue) comes 600 ms
  // after everything else: the runtime, the glue, the wasm and the config are
  // preloaded and ready long before. Module scripts run in document order before
  // DOMContentLoaded, so the loader must wait for that event, not just for its files.
  server.configure({
    transform(urlPath, res) {
      if (urlPath !== '/demo.js') return false;
      setTimeout(() => sendFile(res, path.join(DEMO_DIR, 'demo.js')), 600);
      return true;
    },
  });
  const session = await newContext(browser);
  try {
    await session.storedConsent();
    const page = await session.context.newPage();
    const { decision } = await visit(page, server, '/');
    assert.equal(decision.storage.allowed, true, 'the first decision saw the consent demo.js queued');
    assert.ok(await cookie(session.context, 'ep'), 'and stored the profile');
    assert.deepEqual(session.log.pageErrors, []);
  } finally {
    await session.close();
  }
});

/** The landing page in `session` for a visitor who consented before; the runtime started. */
async function consentedVisit(session) {
  await session.storedConsent();
  const page = await session.context.newPage();
  const outcome = await visit(page, server, '/');
  assert.equal(outcome.ready, true, `the runtime started (errors: ${JSON.stringify(outcome.errors)})`);
  return { page, outcome };
}

test('a loader URL that redirects (a CDN resolving a version range) still finds its script tag and config', async () => {
  server.configure({
    html: (html) => html.replace('src="/ep/loader.js"', 'src="/cdn/edge-persona@1/loader.js"'),
    transform(urlPath, res) {
      if (urlPath !== '/cdn/edge-persona@1/loader.js') return false;
      res.writeHead(302, { Location: '/ep/loader.js', 'Cache-Control': 'no-store' });
      res.end();
      return true;
    },
  });
  const session = await newContext(browser);
  try {
    const { outcome } = await consentedVisit(session);
    assert.ok(outcome.decision, 'and decided');
    assert.deepEqual(session.log.pageErrors, []);
  } finally {
    await session.close();
    server.configure({});
  }
});

test('two copies of the loader on a page (the script tag and a bundled import): one serves it, queued calls run once', async () => {
  server.configure({
    html: (html) => html.replace('<script type="module" src="/ep/loader.js"',
      '<script src="/queue-lead.js"></script>\n'
      + '<script type="module" src="/ep-copy/loader.js"></script>\n<script type="module" src="/ep/loader.js"'),
    // A second, separate instance of every module (its own runtime and wasm).
    transform(urlPath, res) {
      if (urlPath === '/queue-lead.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript' });
        res.end("(window.edgePersona = window.edgePersona || []).push(['track', 'lead', {}]);");
        return true;
      }
      if (!urlPath.startsWith('/ep-copy/')) return false;
      sendFile(res, pkgFile(urlPath.slice('/ep-copy/'.length)));
      return true;
    },
  });
  const session = await newContext(browser);
  try {
    const { page } = await consentedVisit(session);
    await page.waitForTimeout(500);
    const names = (await events(page)).map((e) => e.name);
    const count = (name) => names.filter((n) => n === name).length;
    assert.deepEqual([count('ready'), count('decision'), count('conversion')], [1, 1, 1], names.join(' '));
    assert.deepEqual(session.log.pageErrors, []);
  } finally {
    await session.close();
    server.configure({});
  }
});

test('a framework that rewrites <html class> after the decision (dropping ep-ready) does not hide the slots again', async () => {
  server.configure({});
  const session = await newContext(browser);
  try {
    await session.storedConsent();
    const page = await session.context.newPage();
    assert.equal((await visit(page, server, '/')).ready, true);
    const visibility = () => page.evaluate(() => new Promise((resolve) => {
      document.documentElement.className = 'app-theme';
      requestAnimationFrame(() => resolve(['[data-ep-slot="hero"]', '.greeting']
        .map((selector) => getComputedStyle(document.querySelector(selector)).visibility)));
    }));
    assert.deepEqual(await visibility(), ['visible', 'visible']);
    assert.deepEqual(session.log.pageErrors, []);
  } finally {
    await session.close();
  }
});

test('a reduced-motion reset that forces every animation to end at once does not reveal the slots early', async () => {
  // A common reset (CSS Remedy, web.dev) for visitors who ask for reduced motion.
  const reset = '<style>@media (prefers-reduced-motion: reduce){*,::before,::after{animation-delay:-1ms!important;'
    + 'animation-duration:1ms!important;animation-iteration-count:1!important}}</style>';
  server.configure({ html: (html) => html.replace('</head>', `${reset}</head>`) });
  const session = await newContext(browser, { reducedMotion: 'reduce' });
  try {
    await session.storedConsent();
    const page = await session.context.newPage();
    const outcome = await visit(page, server, LANDING);
    assert.equal(outcome.ready, true);
    assert.equal(outcome.decision.late, false, 'the slots were still hidden when the decision came');
    assert.equal(outcome.decision.applied, true);
    assertClean(session.log, 'reduced motion');
  } finally {
    await session.close();
    server.configure({});
  }
});

/** A page of the same server framing the landing page in a sandboxed iframe. */
function sandboxHost(urlPath, res) {
  if (urlPath !== '/__sandbox.html') return false;
  sendBody(res, 200, `<!doctype html><html><head><meta charset="utf-8"><title>sandbox</title></head><body>
<iframe sandbox="allow-scripts" src="${LANDING.replace(/&/g, '&amp;')}" width="1240" height="760"></iframe></body></html>`,
  { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': "default-src 'self'" });
  return true;
}

async function framed(headers, budgetMs) {
  server.configure({ budgetMs, transform: sandboxHost, headers });
  const { context, log } = await newContext(browser);
  const page = await context.newPage();
  await page.goto(server.href('/__sandbox.html'));
  const frame = await (await page.waitForSelector('iframe')).contentFrame();
  await frame.waitForFunction(() => window.__ep && window.__ep.dcl != null);
  return { context, log, page, frame };
}

test('sandboxed iframe (opaque origin), files served without CORS: the module cannot load, the defaults show', async () => {
  const { context, log, page, frame } = await framed(undefined, null);
  try {
    assert.equal(await frame.evaluate(() => window.origin), 'null', 'an opaque origin');
    // The anti-flicker CSS lets go by itself after the shipped budget.
    await frame.waitForFunction((selectors) => selectors.every((s) => getComputedStyle(document.querySelector(s)).visibility === 'visible'),
      SLOT_SELECTORS, { timeout: 3000 });
    const states = await slotStates(frame);
    assertNoBlankSlot(states, 'sandboxed');
    for (const s of states) assert.equal(s.html, defaults[s.selector][0].html, `${s.selector} default`);
    assert.deepEqual(await uncaught(frame), []);
    assert.deepEqual(log.pageErrors, []);
    await shot(page, 'environment-sandbox-no-cors');
  } finally {
    await context.close();
  }
});

test('sandboxed iframe (opaque origin), files served with CORS: the runtime runs with cookies and storage throwing', async () => {
  const cors = (urlPath) => (urlPath.startsWith('/ep/') || urlPath === '/demo.js' || urlPath === '/config.json' || urlPath === '/styles.css'
    ? { 'Access-Control-Allow-Origin': '*' } : {});
  const { context, log, page, frame } = await framed(cors, TEST_BUDGET_MS);
  try {
    const outcome = await settle(frame);
    assert.equal(outcome.ready, true, 'the runtime loaded in the opaque origin');
    assert.equal(await frame.evaluate(() => { try { return document.cookie; } catch (e) { return e.name; } }), 'SecurityError', 'cookies throw here');
    assert.equal(await frame.evaluate(() => { try { return typeof window.localStorage; } catch (e) { return e.name; } }), 'SecurityError', 'storage throws here');
    const decision = outcome.decision;
    assert.ok(decision, 'a decision was made');
    assert.equal(decision.applied, true);
    await assertDomMatches(frame, decision.decision, defaults);
    await frame.waitForFunction(() => document.documentElement.classList.contains('ep-ready'));
    assertNoBlankSlot(await slotStates(frame), 'sandboxed with CORS');
    assert.deepEqual(await uncaught(frame), []);
    assert.deepEqual(log.pageErrors, []);
    await shot(page, 'environment-sandbox-cors');
  } finally {
    await context.close();
  }
});

/**
 * An init script: Chromium prerenders pages that speculation rules name; here the
 * page is told it is being prerendered (`Document.prerendering`) until the test calls
 * `window.__activate()`, which shows it (`prerenderingchange`).
 */
function prerendered() {
  let prerendering = true;
  Object.defineProperty(Document.prototype, 'prerendering', { configurable: true, get: () => prerendering });
  window.__activate = () => {
    prerendering = false;
    document.dispatchEvent(new Event('prerenderingchange'));
  };
}

/**
 * A consenting visitor's landing page, prerendered: `run(page, session, outcome)` gets
 * it settled and not yet shown; the page must throw nothing.
 */
async function prerenderedLanding(run) {
  server.configure({});
  const session = await newContext(browser);
  try {
    await session.storedConsent();
    const page = await session.context.newPage();
    await page.addInitScript(prerendered);
    await page.goto(server.href(LANDING), { waitUntil: 'domcontentloaded' });
    const outcome = await settle(page);
    assert.equal(outcome.ready, true);
    await run(page, session, outcome);
    assertClean(session.log);
  } finally {
    await session.context.close();
  }
}

const PROFILE_COOKIE = CONFIG.cookie?.name ?? 'ep';

test('a prerendered page: a refusal while prerendering is the last word once it is shown', async () => {
  // The page view under the stored consent would store a profile when shown; the
  // consent platform says no before that. Nothing may be stored, before or after.
  await prerenderedLanding(async (page, session) => {
    await page.evaluate(() => window.edgePersona.consent('denied'));
    assert.equal(await profileCookie(session.context, PROFILE_COOKIE), undefined, 'nothing stored while prerendering');
    await page.evaluate(() => window.__activate());
    await page.waitForFunction(() => window.__ep.events.some((e) => e.name === 'decision'));
    assert.equal(await profileCookie(session.context, PROFILE_COOKIE), undefined, 'shown: the refusal holds');
  });
});

/**
 * A consenting returning visitor: one tab (`first`) has stored their profile, and a
 * second page is prerendered, settled and not yet shown; `run(page, first, session)`
 * gets them. The pages must throw nothing.
 */
async function prerenderedBesideAnotherTab(run) {
  server.configure({});
  const session = await newContext(browser);
  try {
    await session.storedConsent();
    const first = await session.context.newPage();
    await visit(first, server, '/');
    assert.ok(await profileCookie(session.context, PROFILE_COOKIE), 'a stored profile (so the cases can fail)');
    const page = await session.context.newPage();
    await page.addInitScript(prerendered);
    await page.goto(server.href(LANDING), { waitUntil: 'domcontentloaded' });
    assert.equal((await settle(page)).ready, true);
    await run(page, first, session);
    assertClean(session.log);
  } finally {
    await session.context.close();
  }
}

/** Shows the prerendered `page` and waits for its decision to be announced. */
async function activate(page) {
  await page.evaluate(() => window.__activate());
  await page.waitForFunction(() => window.__ep.events.some((e) => e.name === 'decision'));
}

test('a prerendered page: a profile deleted elsewhere before it is shown (forget() in another tab) is not written back', async () => {
  await prerenderedBesideAnotherTab(async (page, first, session) => {
    await first.evaluate(() => window.edgePersona.forget());
    assert.equal(await profileCookie(session.context, PROFILE_COOKIE), undefined);
    await activate(page);
    assert.equal(await profileCookie(session.context, PROFILE_COOKIE), undefined, 'the forgotten profile stays gone');
  });
});

test('a prerendered page: a profile the visitor\'s other tab updated meanwhile is the same visitor: the page still stores', async () => {
  await prerenderedBesideAnotherTab(async (page, first, session) => {
    const before = (await cookie(session.context, PROFILE_COOKIE))?.value;
    await first.evaluate(() => window.edgePersona.push(['track', 'add_to_cart', { value: 900 }]));
    const updated = (await cookie(session.context, PROFILE_COOKIE))?.value;
    assert.ok(updated && updated !== before, 'the other tab stored an update (so the case below can fail)');
    await activate(page);
    const stored = (await cookie(session.context, PROFILE_COOKIE))?.value;
    assert.ok(stored && stored !== updated, 'shown: its page view is stored');
    assert.equal(await page.evaluate(() => window.edgePersona.export().visitorId),
      await first.evaluate(() => window.edgePersona.export().visitorId), 'one visitor');
  });
});

test('a prerendered page: a track() call while prerendering is recorded, and announced, only once it is shown', async () => {
  await prerenderedLanding(async (page, session) => {
    await page.evaluate(() => window.edgePersona.push(['track', 'lead', {}]));
    const conversions = async () => (await page.evaluate(() => window.__ep.events.filter((e) => e.name === 'conversion').length));
    assert.equal(await conversions(), 0, 'nothing announced while prerendering');
    assert.equal(await profileCookie(session.context, PROFILE_COOKIE), undefined, 'nothing stored while prerendering');
    await page.evaluate(() => window.__activate());
    await page.waitForFunction(() => window.__ep.events.some((e) => e.name === 'conversion'));
    assert.equal(await conversions(), 1);
    // The lead is in the stored profile, not written over by the page view's own write.
    const next = await session.context.newPage();
    await visit(next, server, '/');
    const lead = await next.evaluate(() => window.edgePersona.export()?.funnel?.lead?.count);
    assert.equal(lead, 1, 'the next page reads the lead from the cookie');
  });
});

test('a prerendered page: decided and applied at once, its page view stored and announced only once it is shown', async () => {
  await prerenderedLanding(async (page, session, outcome) => {
    const prefix = CONFIG.htmlClasses?.prefix ?? 'ep-';
    assert.ok(await page.evaluate((p) => document.documentElement.className.split(/\s+/).some((c) => c.startsWith(p)), prefix), 'the decision is on the page');
    assert.equal(outcome.decision, null, 'no decision announced while prerendering');
    assert.equal(await profileCookie(session.context, PROFILE_COOKIE), undefined, 'nothing stored while prerendering');

    await page.evaluate(() => window.__activate());
    await page.waitForFunction(() => window.__ep.events.some((e) => e.name === 'decision'));
    assert.ok(await profileCookie(session.context, PROFILE_COOKIE), 'shown: the page view is stored');
  });
});
