// A later decision on the same page (an SPA route, a cookie gone, `forget()`) that no
// longer has a change puts back what the page had: a greeting's element its own
// text, an attribute its original value (or no attribute). And exposure events go
// out only for the slots a page has.
//
// The demo site serves a config of its own here (the demo's, with a greeting and an
// attribute change that depend only on the site's `name` cookie, and no holdouts),
// so every expectation below follows from the config, with no lots drawn.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIG, demoWithConfigPerFile, asConsentingVisitor, visit, settle, renderTemplate } from './harness.mjs';

const NAMED = { 'cookies.name': { $exists: true } };
const TEST_CONFIG = {
  ...CONFIG,
  experiences: [
    { id: 'hero-named', slot: 'hero', priority: 50, when: NAMED,
      content: { template: 'hero-regular' },
      setAttributes: [
        { selector: '#book-cta', attribute: 'href', value: '/book.html?named=1' },
        { selector: '#book-cta', attribute: 'data-test-named', value: 'yes' },
      ] },
    { id: 'offers-everyone', slot: 'offers', priority: 10, content: { template: 'offers-fine-dining' } },
  ],
  greetings: [{ id: 'greet-by-name', slot: 'greeting', priority: 20, when: NAMED, template: 'Здравствуйте, {cookies.name}!' }],
  popups: [],
};

const demo = demoWithConfigPerFile(TEST_CONFIG);

/** The greeting element and the booking button as the page shows them. */
const state = (page) => page.evaluate(() => {
  const greeting = document.querySelector('.greeting');
  const cta = document.getElementById('book-cta');
  return {
    greeting: greeting.textContent,
    greetingApplied: greeting.getAttribute('data-ep-applied'),
    ctaHref: cta.getAttribute('href'),
    ctaNamed: cta.getAttribute('data-test-named'),
  };
});

describe('later decisions', () => {
  test('a decision without the greeting and attribute changes puts the page\'s own back', async () => {
    const original = await (async () => {
      const page = await demo.browser.newPage({ javaScriptEnabled: false });
      try {
        await page.goto(demo.server.href('/'));
        return await state(page);
      } finally {
        await page.close();
      }
    })();
    assert.equal(original.ctaNamed, null, 'the page has no data-test-named of its own');

    await asConsentingVisitor(demo.browser, async (page, { context }) => {
      await context.addCookies([{ name: 'name', value: encodeURIComponent('Анна'), url: demo.server.url }]);
      const first = (await visit(page, demo.server, '/')).decision.decision;
      assert.equal(first.slots.find((s) => s.slot === 'hero').experience, 'hero-named');
      assert.deepEqual(await state(page), {
        greeting: renderTemplate(TEST_CONFIG.greetings[0].template, { 'cookies.name': 'Анна' }),
        greetingApplied: 'greet-by-name',
        ctaHref: '/book.html?named=1',
        ctaNamed: 'yes',
      });

      // The visitor's name goes (the site cleared its cookie); the page decides again.
      await page.evaluate(() => {
        document.cookie = 'name=; Max-Age=0; Path=/';
        window.edgePersona.navigate();
      });
      await page.waitForFunction(() => window.__ep.events.filter((e) => e.name === 'decision').length >= 2);
      const second = (await settle(page)).decision.decision;
      assert.deepEqual(second.greetings, [], 'no greeting without a name');
      assert.notEqual(second.slots.find((s) => s.slot === 'hero').experience, 'hero-named');
      assert.deepEqual(await state(page), { ...original, greetingApplied: null },
        'the greeting shows the page\'s own text again; the button has its own href and no added attribute');
    });
  });

  test('exposure events go out for the slots a page has, not for every decided slot', async () => {
    await asConsentingVisitor(demo.browser, async (page) => {
      const exposedSlots = async () => (await settle(page)).events
        .filter((e) => e.name === 'exposure' && e.detail.slot).map((e) => e.detail.slot);

      const home = (await visit(page, demo.server, '/')).decision.decision;
      assert.equal(home.slots.find((s) => s.slot === 'offers').experience, 'offers-everyone');
      assert.ok((await exposedSlots()).includes('offers'), 'the home page has #offers');

      // The restaurant page has no #offers; the decision still names offers-everyone.
      const other = (await visit(page, demo.server, '/restaurant-white-rabbit.html')).decision.decision;
      assert.equal(other.slots.find((s) => s.slot === 'offers').experience, 'offers-everyone');
      assert.equal(await page.locator('#offers').count(), 0);
      assert.ok(!(await exposedSlots()).includes('offers'), 'no exposure for a slot the page lacks');
    });
  });
});

test('routes pushed before the next frame (a redirect through a route) make one page view, of the last', async () => {
  await asConsentingVisitor(demo.browser, async (page) => {
    await visit(page, demo.server, '/');
    const viewsBefore = (await page.evaluate(() => window.edgePersona.export())).pageViews;
    await page.evaluate(() => {
      history.pushState({}, '', '/?route=a');
      history.pushState({}, '', '/?route=b');
    });
    await page.waitForFunction(() => window.__ep.events.filter((e) => e.name === 'decision').length >= 2);
    // Two more frames: a second decision, if one were coming, would be out by then.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const decisions = (await settle(page)).decisions;
    assert.equal(decisions.length, 2, 'the first page view and one for the new route');
    const after = await page.evaluate(() => window.edgePersona.export());
    assert.equal(after.pageViews, viewsBefore + 1);
  });
});

test('npm: a framework remounting (destroy, then init again on the same page) resumes the page view instead of counting it twice, and can still put defaults back', async () => {
  // React's StrictMode mounts, unmounts and mounts again. The page declares a
  // purchase, whose conversion must be announced once.
  const html = `<!doctype html><html><head><meta charset="utf-8"></head><body>
    <p class="greeting">Hello</p><span data-ep-page-event="purchase" data-ep-value="4200"></span>
    <script type="module">
      import * as ep from '/ep/edge-persona.js';
      window.__seen = { decision: [], conversion: [] };
      for (const name of ['decision', 'conversion']) {
        document.addEventListener('edge-persona:' + name, (e) => window.__seen[name].push(e.detail));
      }
      const config = await (await fetch('/config.json')).text();
      await ep.init(config, { consent: 'personalization' });
      ep.instance().destroy();
      const persona = await ep.init(config, { consent: 'personalization' });
      window.__result = { ready: persona.ready, profile: persona.export() };
      window.__greeted = document.querySelector('.greeting').textContent;
      window.__conversions = window.__seen.conversion.length;
      // A later decision that no longer greets (the visitor's name is gone, a new
      // route) puts the page's own text back, though the runtime that saved it is gone.
      document.cookie = 'name=; Max-Age=0; Path=/';
      history.pushState({}, '', '/remount.html?route=next');
    </script></body></html>`;
  demo.server.configure({
    transform(urlPath, res) {
      if (urlPath !== '/remount.html') return false;
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(html);
      return true;
    },
  });
  const page = await demo.browser.newPage();
  try {
    await page.context().addCookies([{ name: 'name', value: encodeURIComponent('Анна'), url: demo.server.url }]);
    await page.goto(demo.server.href('/remount.html'));
    await page.waitForFunction(() => window.__result && window.__seen.decision.length >= 2);
    await page.waitForFunction(() => window.__seen.decision.length >= 3);
    const { result, seen, greeted, conversions, greeting } = await page.evaluate(() => ({
      result: window.__result, seen: window.__seen, greeted: window.__greeted, conversions: window.__conversions,
      greeting: document.querySelector('.greeting').textContent,
    }));
    assert.equal(result.ready, true);
    assert.equal(result.profile.pageViews, 1, 'one page view');
    assert.equal(conversions, 1, 'the purchase announced once by the page view and its remount');
    assert.deepEqual(seen.decision.slice(0, 2).map((d) => [d.applied, d.late, d.resumed ?? false]), [[true, false, false], [true, false, true]],
      'the remount gets the decision again, applied, not late');
    assert.equal(greeted, 'Здравствуйте, Анна!');
    assert.equal(greeting, 'Hello', 'a route without a greeting after the remount: the page\'s own text is back');
  } finally {
    await page.close();
    demo.server.configure({});
  }
});
