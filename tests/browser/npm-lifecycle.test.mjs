// The npm API's lifecycle as a frontend app meets it: calls made while `init()` still
// loads the wasm, a component that unmounts during that load, and hash routers.
//
// Each page imports the runtime module itself (as an app's bundle does) with the
// demo config in `implied` consent mode, so that storage shows what was recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoWithConfigPerFile, newContext, cookie, sendBody, CONFIG } from './harness.mjs';

const COOKIE = CONFIG.cookie?.name ?? 'ep';
const IMPLIED = JSON.stringify({ ...CONFIG, consent: { ...CONFIG.consent, mode: 'implied' } });
const demo = demoWithConfigPerFile(CONFIG);

/**
 * Serves `script` (a module script's body, with `ep` the runtime module and `CONFIG`
 * the config) as a page of its own, runs it in a fresh context until it sets
 * `window.__result`, and hands that to `check(result, context)`; the page must throw
 * nothing.
 */
async function runPage(script, check) {
  const html = `<!doctype html><html><head><meta charset="utf-8"></head><body>
    <h1 class="hero">Default</h1>
    <script type="module">
      import * as ep from '/ep/edge-persona.js';
      const CONFIG = ${JSON.stringify(IMPLIED)};
      ${script}
    </script></body></html>`;
  demo.server.configure({
    transform(urlPath, res) {
      if (urlPath !== '/test-page.html') return false;
      sendBody(res, 200, html, { 'Content-Type': 'text/html; charset=utf-8' });
      return true;
    },
  });
  const { context, log, close } = await newContext(demo.browser);
  try {
    const tab = await context.newPage();
    await tab.goto(demo.server.href('/test-page.html'));
    await tab.waitForFunction(() => window.__result, null, { timeout: 15_000 });
    await check(await tab.evaluate(() => window.__result), context);
    assert.deepEqual(log.pageErrors, []);
  } finally {
    await close();
    demo.server.configure({});
  }
}

test('track() called while init() loads the wasm is recorded after the first page view, and announced', async () => {
  await runPage(`
      const pending = ep.init(CONFIG);
      ep.track('purchase', { value: 4200, category: 'italian' });
      const persona = await pending;
      const conversions = window.__ep.events.filter((e) => e.name === 'conversion').map((e) => e.detail.event);
      window.__result = { ready: persona.ready, lastPurchase: persona.export().funnel.lastPurchase, conversions };`,
  async (result, context) => {
    assert.equal(result.ready, true);
    assert.ok(result.lastPurchase, `the purchase is in the profile: ${JSON.stringify(result)}`);
    assert.equal(result.lastPurchase.category, 'italian');
    assert.deepEqual(result.conversions, ['purchase']);
    assert.ok(await cookie(context, COOKIE), 'and stored');
  });
});

test('track() called while the wasm loads survives a second init() (a remount) that replaces the first', async () => {
  await runPage(`
      const first = ep.init(CONFIG);
      ep.track('purchase', { value: 4200, category: 'italian' });
      const second = ep.init(CONFIG);
      await first;
      const persona = await second;
      window.__result = { ready: persona.ready, lastPurchase: persona.export().funnel.lastPurchase };`,
  (result) => {
    assert.equal(result.ready, true);
    assert.equal(result.lastPurchase?.category, 'italian', JSON.stringify(result));
  });
});

test('destroy() while the wasm loads (a component unmounting) leaves that instance stopped; the next init() starts afresh', async () => {
  await runPage(`
      const pending = ep.init(CONFIG);
      ep.instance().destroy();
      const gone = await pending;
      const decisionsAfterDestroy = window.__ep.events.filter((e) => e.name === 'decision').length;
      const again = await ep.init(CONFIG);
      const decisions = window.__ep.events.filter((e) => e.name === 'decision').map((e) => e.detail);
      window.__result = {
        goneReady: gone.ready, goneError: gone.error ? String(gone.error) : null, decisionsAfterDestroy,
        decisions: decisions.length, resumed: !!decisions.at(-1)?.resumed, pageViews: again.export().pageViews,
        errors: window.__ep.events.filter((e) => e.name === 'error').map((e) => e.detail.message),
      };`,
  (result) => {
    assert.equal(result.goneReady, false, 'the destroyed instance never started');
    assert.equal(result.goneError, null, 'nor failed trying');
    assert.deepEqual(result.errors, []);
    assert.equal(result.decisionsAfterDestroy, 0, 'it decided nothing');
    assert.equal(result.decisions, 1, 'the next init decided once');
    assert.equal(result.resumed, false, 'a page view of its own, not one the destroyed instance left');
    assert.equal(result.pageViews, 1);
  });
});

test('a hash router\'s route change decides again; an in-page anchor does not', async () => {
  await runPage(`
      await ep.init(CONFIG);
      const count = () => window.__ep.events.filter((e) => e.name === 'decision').length;
      const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 50)));
      const seen = [count()];
      location.hash = '#section-2';
      await frame();
      seen.push(count());
      history.pushState({}, '', '#/pricing');
      await frame();
      seen.push(count());
      location.hash = '#/contacts';
      await frame();
      seen.push(count());
      history.replaceState({}, '', '#/about');
      await frame();
      seen.push(count());
      // A router mirroring a search box into the route's query: the same route.
      history.replaceState({}, '', '#/about?q=ab');
      await frame();
      seen.push(count());
      window.__result = { seen, pageViews: ep.instance().export().pageViews };`,
  (result) => {
    assert.deepEqual(result.seen, [1, 1, 2, 3, 4, 4], 'not the anchor #section-2; the routes #/pricing, #/contacts and #/about; not #/about?q=ab');
    assert.equal(result.pageViews, 4);
  });
});
