// The npm API's lifecycle as a frontend app meets it: calls made while `init()` still
// loads the wasm, a component that unmounts during that load, and hash routers.
//
// Each page imports the runtime module itself (as an app's bundle does) with the
// demo config in `implied` consent mode, so that storage shows what was recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoWithConfigPerFile, newContext, cookie, profileCookie, refusalRemembered, sendBody, CONFIG } from './harness.mjs';

const COOKIE = CONFIG.cookie?.name ?? 'ep';
const IMPLIED = JSON.stringify({ ...CONFIG, consent: { ...CONFIG.consent, mode: 'implied' } });
const demo = demoWithConfigPerFile(CONFIG);

/**
 * Serves `script` (a module script's body, with `ep` the runtime module and `CONFIG`
 * the config) as a page of its own, runs it in a fresh context until it sets
 * `window.__result`, and hands that to `check(result, context)`; the page must throw
 * nothing. `head` is markup for the page's `<head>` (a head snippet).
 */
async function runPage(script, check, { head = '', query = '' } = {}) {
  const html = `<!doctype html><html><head><meta charset="utf-8">${head}</head><body>
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
    await tab.goto(demo.server.href(`/test-page.html${query}`));
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
    assert.ok(await profileCookie(context, COOKIE), 'and stored');
  });
});

test('track() called before init() is recorded after its first page view, and announced', async () => {
  await runPage(`
      ep.track('purchase', { value: 4200, category: 'italian' });
      const persona = await ep.init(CONFIG);
      const conversions = window.__ep.events.filter((e) => e.name === 'conversion').map((e) => e.detail.event);
      window.__result = { ready: persona.ready, lastPurchase: persona.export().funnel.lastPurchase, conversions, pageViews: persona.export().pageViews };`,
  (result) => {
    assert.equal(result.ready, true);
    assert.equal(result.lastPurchase?.category, 'italian', JSON.stringify(result));
    assert.deepEqual(result.conversions, ['purchase']);
    assert.equal(result.pageViews, 1);
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

/** A config of its own: the page's `h1.hero` as a slot, filled for everyone. */
const HERO_CONFIG = (text, extra = {}) => ({
  version: 1,
  cookie: { name: 'ep_life' },
  slots: { hero: { selector: 'h1.hero' } },
  experiences: [{ id: `hero-${text.toLowerCase()}`, slot: 'hero', content: { text } }],
  ...extra,
});
/** The head snippet, hiding the slot for 5 s (so the first decision is in time). */
const SNIPPET = '<style id="ep-hide">@keyframes ep-reveal{to{visibility:visible}}'
  + 'html:not(.ep-ready) h1.hero{visibility:hidden;animation:ep-reveal 0s 5000ms forwards}</style>';

test('a second init() after the first revealed the page (a remount, a consent change) applies its decision: it is not "late"', async () => {
  await runPage(`
      const decisions = () => window.__ep.events.filter((e) => e.name === 'decision').map((e) => e.detail);
      const first = await ep.init(${JSON.stringify(HERO_CONFIG('First'))});
      first.destroy();
      // A budget the clock has long passed: only a snippet still hiding slots makes a decision late.
      const second = await ep.init(${JSON.stringify(HERO_CONFIG('Second'))}, { budgetMs: 1 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      window.__result = {
        ready: second.ready,
        hero: document.querySelector('h1.hero').textContent,
        decisions: decisions().map((d) => ({ applied: d.applied, late: d.late })),
      };`,
  (result) => {
    assert.equal(result.ready, true);
    assert.deepEqual(result.decisions, [{ applied: true, late: false }, { applied: true, late: false }], JSON.stringify(result));
    assert.equal(result.hero, 'Second');
  }, { head: SNIPPET });
});

test('consent("denied") after destroy() (the component unmounted) deletes the profile and holds for the next init()', async () => {
  const implied = HERO_CONFIG('Hello', { consent: { mode: 'implied' } });
  await runPage(`
      const first = await ep.init(${JSON.stringify(implied)});
      const storedFirst = /(?:^|; )ep_life=(?!0(?:;|$))/.test(document.cookie);
      first.destroy();
      ep.consent('denied');
      const storedAfterRefusal = /(?:^|; )ep_life=(?!0(?:;|$))/.test(document.cookie);
      const second = await ep.init(${JSON.stringify(implied)});
      await new Promise((resolve) => setTimeout(resolve, 50));
      window.__result = { storedFirst, storedAfterRefusal, storedAtEnd: /(?:^|; )ep_life=(?!0(?:;|$))/.test(document.cookie), ready: second.ready };`,
  async (result, context) => {
    assert.equal(result.ready, true);
    assert.equal(result.storedFirst, true, 'implied consent stores at first');
    assert.equal(result.storedAfterRefusal, false, 'the refusal deletes at once');
    assert.equal(result.storedAtEnd, false, `the next init() keeps the refusal: ${JSON.stringify(result)}`);
    assert.equal((await cookie(context, 'ep_life'))?.value, '0', 'only the refusal is kept');
  });
});

test('headless (apply: false): a popup on a delay opens as one on scroll would; the app renders the slots', async () => {
  const withPopup = HERO_CONFIG('Hello', {
    consent: { mode: 'implied' },
    popups: [{ id: 'hello', label: 'Hello', content: { text: 'A popup' }, trigger: { delaySeconds: 0.2 } }],
  });
  await runPage(`
      const persona = await ep.init(${JSON.stringify(withPopup)}, { apply: false });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      window.__result = {
        ready: persona.ready,
        hero: document.querySelector('h1.hero').textContent,
        dialog: document.querySelector('[role="dialog"]')?.textContent ?? null,
        popupExposures: window.__ep.events.filter((e) => e.name === 'exposure' && e.detail.popup).map((e) => e.detail.popup),
      };`,
  (result) => {
    assert.equal(result.ready, true);
    assert.equal(result.hero, 'Default', "headless: the slot is the app's to render");
    assert.ok(result.dialog?.includes('A popup'), JSON.stringify(result));
    assert.deepEqual(result.popupExposures, ['hello']);
  });
});

test('track("lead", null) is recorded and announced like track("lead")', async () => {
  await runPage(`
      const persona = await ep.init(${JSON.stringify(HERO_CONFIG('Hello'))});
      ep.track('lead', null);
      window.__result = {
        conversions: window.__ep.events.filter((e) => e.name === 'conversion').map((e) => e.detail.event),
        errors: window.__ep.events.filter((e) => e.name === 'error').map((e) => e.detail.message),
      };`,
  (result) => {
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.conversions, ['lead']);
  });
});

test('?ep_debug=1 opens the debug overlay only where the site allows it (debug: \'url\')', async () => {
  const open = (options) => `
      await ep.init(${JSON.stringify(HERO_CONFIG('Hello'))}${options});
      for (let i = 0; i < 50 && !document.getElementById('edge-persona-debug'); i++) await new Promise((r) => setTimeout(r, 20));
      window.__result = { open: !!document.getElementById('edge-persona-debug'), flag: localStorage.getItem('edge-persona:debug') };`;
  await runPage(open(''), (result) => {
    assert.deepEqual(result, { open: false, flag: null }, 'by default a link cannot open it, nor leave its flag');
  }, { query: '?ep_debug=1' });
  await runPage(open(", { debug: 'url' }"), (result) => {
    assert.deepEqual(result, { open: true, flag: '1' });
  }, { query: '?ep_debug=1' });
});

test('the debug overlay comes back with the next decision after the page replaced <body> (Turbo Drive)', async () => {
  await runPage(`
      await ep.init(${JSON.stringify(HERO_CONFIG('Hello'))}, { debug: true });
      for (let i = 0; i < 100 && !document.getElementById('edge-persona-debug'); i++) await new Promise((r) => setTimeout(r, 20));
      const mounted = !!document.getElementById('edge-persona-debug');
      document.body.replaceWith(Object.assign(document.createElement('body'), { innerHTML: '<h1 class="hero">Default</h1>' }));
      const gone = !document.getElementById('edge-persona-debug');
      ep.navigate();
      window.__result = { mounted, gone, back: !!document.getElementById('edge-persona-debug') };`,
  (result) => {
    assert.deepEqual(result, { mounted: true, gone: true, back: true });
  });
});

test('destroy() removes the debug overlay and its listeners with the persona', async () => {
  await runPage(`
      const persona = await ep.init(${JSON.stringify(HERO_CONFIG('Hello'))}, { debug: true });
      for (let i = 0; i < 100 && !document.getElementById('edge-persona-debug'); i++) await new Promise((r) => setTimeout(r, 20));
      const mounted = !!document.getElementById('edge-persona-debug');
      persona.destroy();
      window.__result = { mounted, afterDestroy: !!document.getElementById('edge-persona-debug') };`,
  (result) => {
    assert.deepEqual(result, { mounted: true, afterDestroy: false });
  });
});

test('an init() replaced while the wasm loads (a StrictMode remount) leaves the flicker budget to the one that replaced it', async () => {
  // The snippet reveals the hero's default after 1 ms: a decision after that is late.
  const quick = SNIPPET.replace('5000ms', '1ms');
  await runPage(`
      const first = ep.init(${JSON.stringify(HERO_CONFIG('First'))});
      const second = ep.init(${JSON.stringify(HERO_CONFIG('Second'))});
      await first;
      const persona = await second;
      window.__result = {
        ready: persona.ready,
        hero: document.querySelector('h1.hero').textContent,
        decisions: window.__ep.events.filter((e) => e.name === 'decision').map((e) => ({ applied: e.detail.applied, late: e.detail.late })),
      };`,
  (result) => {
    assert.equal(result.ready, true);
    assert.deepEqual(result.decisions, [{ applied: false, late: true }], JSON.stringify(result));
    assert.equal(result.hero, 'Default', 'the default the visitor already saw stays');
  }, { head: quick });
});

test('a refusal before a component remounts holds for the remounted init(); it does not resume the refused page view', async () => {
  const implied = HERO_CONFIG('Hello', { consent: { mode: 'implied' } });
  await runPage(`
      const first = await ep.init(${JSON.stringify(implied)});
      const storedFirst = /(?:^|; )ep_life=(?!0(?:;|$))/.test(document.cookie);
      ep.consent('denied');
      const second = await ep.init(${JSON.stringify(implied)});
      await new Promise((resolve) => setTimeout(resolve, 50));
      window.__result = {
        storedFirst,
        storedAtEnd: /(?:^|; )ep_life=(?!0(?:;|$))/.test(document.cookie),
        storage: second.decide()?.storage ?? null,
        resumed: window.__ep.events.filter((e) => e.name === 'decision').map((e) => !!e.detail.resumed),
      };`,
  (result) => {
    assert.equal(result.storedFirst, true, 'implied consent stores at first');
    assert.equal(result.storedAtEnd, false, `the remount keeps the refusal: ${JSON.stringify(result)}`);
    assert.deepEqual(result.resumed, [false, false], 'the refused page view is decided anew');
  });
});

test('a page view recorded when consent is granted is not recorded again by a remount that resumes it', async () => {
  const required = HERO_CONFIG('Hello', { consent: { mode: 'required' } });
  await runPage(`
      const first = await ep.init(${JSON.stringify(required)});
      const before = { stored: /(?:^|; )ep_life=(?!0(?:;|$))/.test(document.cookie), allowed: first.storage?.allowed };
      ep.consent('personalization');
      const granted = { pageViews: ep.exportProfile()?.pageViews, allowed: first.storage?.allowed };
      const second = await ep.init(${JSON.stringify(required)});
      await new Promise((resolve) => setTimeout(resolve, 50));
      window.__result = {
        before,
        granted,
        remounted: ep.exportProfile()?.pageViews,
        resumed: window.__ep.events.filter((e) => e.name === 'decision').map((e) => !!e.detail.resumed),
      };`,
  (result) => {
    assert.deepEqual(result.before, { stored: false, allowed: false }, JSON.stringify(result));
    assert.deepEqual(result.granted, { pageViews: 1, allowed: true }, JSON.stringify(result));
    assert.deepEqual(result.resumed, [false, true], JSON.stringify(result));
    assert.equal(result.remounted, 1, `the resumed page view is not counted again: ${JSON.stringify(result)}`);
  });
});

test('a Consent Mode refusal already in a dataLayer that came after init() is heard when the layer is found', async () => {
  const implied = HERO_CONFIG('Hello', { consent: { mode: 'implied' } });
  await runPage(`
      const persona = await ep.init(${JSON.stringify(implied)});
      const storedFirst = /(?:^|; )ep_life=(?!0(?:;|$))/.test(document.cookie);
      // A CMP creates the layer late and answers before the runtime hooks it.
      window.dataLayer = [['consent', 'update', { personalization_storage: 'denied' }]];
      ep.navigate();
      await new Promise((resolve) => setTimeout(resolve, 50));
      window.__result = { storedFirst, level: persona.consentLevel, storedAtEnd: /(?:^|; )ep_life=(?!0(?:;|$))/.test(document.cookie) };`,
  (result) => {
    assert.equal(result.storedFirst, true, 'implied consent stores at first');
    assert.equal(result.level, 'denied', JSON.stringify(result));
    assert.equal(result.storedAtEnd, false, `the refusal deleted the profile: ${JSON.stringify(result)}`);
  });
});

test('exposures and conversions go to the named dataLayer, each after a reset (GTM merges nested objects)', async () => {
  const implied = HERO_CONFIG('Hello', { consent: { mode: 'implied' } });
  await runPage(`
      await ep.init(${JSON.stringify(implied)}, { dataLayer: 'epEvents' });
      ep.track('lead', {});
      window.__result = window.epEvents.map((entry) => ({ event: entry.event ?? null, keys: Object.keys(entry.edge_persona ?? {}).sort() }));`,
  (result) => {
    assert.deepEqual(result, [
      { event: null, keys: [] },
      { event: 'edge_persona_exposure', keys: ['experience', 'holdout', 'slot', 'variant'] },
      { event: null, keys: [] },
      { event: 'edge_persona_conversion', keys: ['category', 'event', 'experiences', 'itemId', 'kind', 'name', 'value'] },
    ], JSON.stringify(result));
  });
});

test('a component unmounted by a route change and mounted again on Back starts a new page view; a remount in place resumes', async () => {
  const implied = HERO_CONFIG('Hello', { consent: { mode: 'implied' } });
  await runPage(`
      const decisions = () => window.__ep.events.filter((e) => e.name === 'decision').map((e) => !!e.detail.resumed);
      const pageViews = () => ep.exportProfile()?.pageViews;
      let persona = await ep.init(${JSON.stringify(implied)}, { spa: false });
      persona.destroy();
      persona = await ep.init(${JSON.stringify(implied)}, { spa: false });
      const inPlace = pageViews();
      // The router moves on, then unmounts the page's component.
      history.pushState({}, '', '/menu');
      persona.destroy();
      // Back: the URL returns first, then the component mounts again.
      history.back();
      await new Promise((resolve) => window.addEventListener('popstate', resolve, { once: true }));
      persona = await ep.init(${JSON.stringify(implied)}, { spa: false });
      window.__result = { inPlace, back: pageViews(), resumed: decisions() };`,
  (result) => {
    assert.equal(result.inPlace, 1, JSON.stringify(result));
    assert.deepEqual(result.resumed, [false, true, false], JSON.stringify(result));
    assert.equal(result.back, 2, `the return is a page view: ${JSON.stringify(result)}`);
  });
});

test('forget() in another tab: this tab does not write the forgotten profile back, over nothing or over a new one', async () => {
  const implied = HERO_CONFIG('Hello', { consent: { mode: 'implied' } });
  const html = `<!doctype html><html><head><meta charset="utf-8"></head><body>
    <h1 class="hero">Default</h1>
    <script type="module">
      import * as ep from '/ep/edge-persona.js';
      window.ep = ep;
      window.__persona = await ep.init(${JSON.stringify(implied)});
      window.__ready = true;
    </script></body></html>`;
  demo.server.configure({
    transform(urlPath, res) {
      if (urlPath !== '/two-tabs.html') return false;
      sendBody(res, 200, html, { 'Content-Type': 'text/html; charset=utf-8' });
      return true;
    },
  });
  const { context, log, close } = await newContext(demo.browser);
  try {
    const [a, b] = [await context.newPage(), await context.newPage()];
    for (const tab of [a, b]) {
      await tab.goto(demo.server.href('/two-tabs.html'));
      await tab.waitForFunction(() => window.__ready, null, { timeout: 15_000 });
    }
    assert.ok(await cookie(context, 'ep_life'), 'both tabs stored the profile');
    const visitorOf = (tab) => tab.evaluate(() => window.ep.exportProfile()?.visitorId);
    const forgotten = await visitorOf(b);
    await a.evaluate(() => window.ep.forget());
    assert.equal(await cookie(context, 'ep_life'), undefined, 'forgotten in tab A');
    // Tab A goes on to another page, which stores a new visitor; tab B, still open,
    // must not write the forgotten one over it.
    await a.reload();
    await a.waitForFunction(() => window.__ready, null, { timeout: 15_000 });
    const fresh = (await cookie(context, 'ep_life'))?.value;
    assert.ok(fresh, 'tab A stored a new profile');
    await b.evaluate(() => window.ep.track('lead', {}));
    assert.equal((await cookie(context, 'ep_life'))?.value, fresh, 'tab B left the new profile alone');
    assert.notEqual(await visitorOf(a), forgotten, 'a new visitor id in tab A');
    // And where tab A stored nothing new yet: nothing comes back either.
    await a.evaluate(() => window.ep.forget());
    await b.evaluate(() => window.ep.track('add_to_cart', { value: 4200, category: 'italian' }));
    assert.equal(await cookie(context, 'ep_life'), undefined, 'tab B did not write it back');
    // A refusal in tab B holds for the visitor: the profile tab A stored since goes.
    await a.reload();
    await a.waitForFunction(() => window.__ready, null, { timeout: 15_000 });
    assert.ok(await cookie(context, 'ep_life'), 'tab A stored anew');
    await b.evaluate(() => window.ep.consent('denied'));
    assert.equal((await cookie(context, 'ep_life'))?.value, '0', 'refused in tab B: only the refusal is kept');
    assert.deepEqual(log.pageErrors, []);
  } finally {
    await close();
    demo.server.configure({});
  }
});

test('a popup the page removed itself (a framework re-rendering <body>) does not keep later popups from opening', async () => {
  const twoPopups = HERO_CONFIG('Hello', {
    consent: { mode: 'implied' },
    attention: { perSession: 5, perDay: 10 },
    popups: [
      { id: 'first', label: 'First', priority: 20, content: { text: 'First popup' }, trigger: { delaySeconds: 0.2 } },
      { id: 'second', label: 'Second', priority: 10, content: { text: 'Second popup' }, trigger: { delaySeconds: 1 } },
    ],
  });
  await runPage(`
      await ep.init(${JSON.stringify(twoPopups)});
      const opened = () => document.querySelector('[role="dialog"]')?.textContent ?? null;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const first = opened();
      document.querySelector('.ep-popup-backdrop')?.remove();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      window.__result = { first, second: opened() };`,
  (result) => {
    assert.ok(result.first?.includes('First popup'), JSON.stringify(result));
    assert.ok(result.second?.includes('Second popup'), JSON.stringify(result));
  });
});

/** The Turbo tests' site: route B's hero is its own. */
const TURBO_ROUTES = {
  version: 1,
  consent: { mode: 'none' },
  slots: { hero: { selector: 'h1.hero' } },
  experiences: [{ id: 'hero-b', slot: 'hero', when: { 'url.path': '/route-b' }, content: { text: 'Route B' } }],
};

test('Turbo Drive: a visit pushes the URL before its page arrives; the route is decided once Turbo has rendered it', async () => {
  // Turbo's order of events, played by the page: the URL first, the new <body> later,
  // then `turbo:load`.
  await runPage(`
      await ep.init(${JSON.stringify(TURBO_ROUTES)});
      document.dispatchEvent(new Event('turbo:visit'));
      history.pushState({}, '', '/route-b');
      await new Promise((resolve) => setTimeout(resolve, 300));
      document.body.innerHTML = '<h1 class="hero">Default B</h1>';
      document.dispatchEvent(new Event('turbo:load'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const turboHero = document.querySelector('h1.hero').textContent;
      // A pushState of the page's own (tabs, pagination) on a Turbo site: a frame later.
      history.pushState({}, '', '/route-c');
      await new Promise((resolve) => setTimeout(resolve, 300));
      window.__result = {
        hero: turboHero,
        routes: window.__ep.events.filter((e) => e.name === 'decision').length,
      };`,
  (result) => {
    assert.equal(result.hero, 'Route B', 'the new page\'s hero shows the route\'s decision');
    assert.equal(result.routes, 3, 'the first page, the Turbo visit and the page\'s own route');
  });
});

test('Turbo Drive 7 (the URL pushed before turbo:visit) and visits to the URL already shown: a link is a page view, a refresh keeps the page view', async () => {
  await runPage(`
      await ep.init(${JSON.stringify(TURBO_ROUTES)});
      const render = async (hero) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        document.body.innerHTML = '<h1 class="hero">' + hero + '</h1>';
        document.dispatchEvent(new Event('turbo:load'));
        await new Promise((resolve) => setTimeout(resolve, 100));
        return document.querySelector('h1.hero').textContent;
      };
      // Turbo 7: pushState, then turbo:visit, in one task.
      history.pushState({}, '', '/route-b');
      document.dispatchEvent(new Event('turbo:visit'));
      const pushedFirst = await render('Default B');
      const decisions = () => window.__ep.events.filter((e) => e.name === 'decision').length;
      // A link to the page itself: Turbo advances to the same URL.
      document.dispatchEvent(new CustomEvent('turbo:visit', { detail: { action: 'advance' } }));
      history.pushState({}, '', '/route-b');
      const sameUrl = await render('Default B again');
      const afterLink = decisions();
      // A form posting back to the page, or a Turbo 8 refresh broadcast: a replace
      // visit to the URL shown, which Turbo renders as a page refresh.
      document.dispatchEvent(new CustomEvent('turbo:visit', { detail: { action: 'replace' } }));
      history.replaceState({}, '', '/route-b');
      const refreshed = await render('Default B refreshed');
      window.__result = { pushedFirst, sameUrl, afterLink, refreshed, decisions: decisions() };`,
  (result) => {
    assert.equal(result.pushedFirst, 'Route B', JSON.stringify(result));
    assert.equal(result.sameUrl, 'Route B', JSON.stringify(result));
    assert.equal(result.afterLink, 3, `the first page and the two Turbo visits: ${JSON.stringify(result)}`);
    assert.equal(result.refreshed, 'Route B', `the refreshed body gets the decision: ${JSON.stringify(result)}`);
    assert.equal(result.decisions, 3, `a refresh is not a new page view: ${JSON.stringify(result)}`);
  });
});

test('a refusal through the consent platform ends the site\'s earlier grant: a remount waits for the platform again', async () => {
  const required = HERO_CONFIG('Hello', { consent: { mode: 'required' } });
  await runPage(`
      // A CMP whose answers the page plays: listeners are called when told.
      const listeners = [];
      window.__tcfapi = (command, version, callback) => {
        if (command === 'addEventListener') listeners.push(callback);
      };
      const answer = (consents) => listeners.forEach((callback) => callback({
        eventStatus: 'useractioncomplete', gdprApplies: true, listenerId: 1, purpose: { consents },
      }, true));
      ep.consent('personalization');
      await ep.init(${JSON.stringify(required)});
      const storedAfterGrant = /(?:^|; )ep_life=(?!0(?:;|$))/.test(document.cookie);
      answer({ 1: false });
      const storedAfterRefusal = /(?:^|; )ep_life=(?!0(?:;|$))/.test(document.cookie);
      await ep.init(${JSON.stringify(required)});
      await new Promise((resolve) => setTimeout(resolve, 50));
      window.__result = { storedAfterGrant, storedAfterRefusal, storedAfterRemount: /(?:^|; )ep_life=(?!0(?:;|$))/.test(document.cookie) };`,
  (result) => {
    assert.deepEqual(result, { storedAfterGrant: true, storedAfterRefusal: false, storedAfterRemount: false });
  });
});
