// Engaged page views in Chromium: the runtime records one `engaged` event per page
// view once the page has been visible for `classify.engagement.dwellSeconds` or
// scrolled to `scrollPercent` of a page taller than the window, and the profile gets
// its effects (interest in the page's category, warm stage).
//
// The demo serves its own config with short criteria (1 s, 60 %) so that each case
// takes seconds; the restaurant page is annotated `data-ep-category="fine_dining"`.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIG, demoWithConfigPerFile, asConsentingVisitor, visit, events } from './harness.mjs';

const DWELL_SECONDS = 1;
const SCROLL_PERCENT = 60;
const INTEREST_WEIGHT = 1.5;
const TEST_CONFIG = {
  ...CONFIG,
  classify: { ...CONFIG.classify, engagement: { dwellSeconds: DWELL_SECONDS, scrollPercent: SCROLL_PERCENT, interestWeight: INTEREST_WEIGHT } },
  // No popups: a dialog would not change engagement, but it takes the focus.
  popups: [],
};
const PAGE = '/restaurant-white-rabbit.html';
const CATEGORY = 'fine_dining';

const demo = demoWithConfigPerFile(TEST_CONFIG);

const engagedEvents = async (page) => (await events(page, 'engaged')).map((e) => e.detail);
const interest = (profile) => profile.interests.find((i) => i.category === CATEGORY)?.score ?? 0;
const exported = (page) => page.evaluate(() => window.edgePersona.export());
const waitForEngaged = (page, n = 1) =>
  page.waitForFunction((k) => window.__ep.events.filter((e) => e.name === 'engaged').length >= k, n, { timeout: 10_000 });

/** Makes the page hidden or visible as a background tab would be, with its event. */
const setVisibility = (page, state) => page.evaluate((value) => {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => value });
  document.dispatchEvent(new Event('visibilitychange'));
}, state);

describe('engaged page views', () => {
  test('a page visible for the dwell time is engaged once: interest and stage in the stored profile', async () => {
    await asConsentingVisitor(demo.browser, async (page) => {
      await visit(page, demo.server, PAGE);
      const before = await exported(page);
      assert.deepEqual(await engagedEvents(page), [], 'not engaged on arrival');
      await waitForEngaged(page);
      const afterDwell = await exported(page);
      assert.deepEqual(await engagedEvents(page), [{ by: 'dwell' }]);
      assert.equal(interest(afterDwell), interest(before) + INTEREST_WEIGHT);
      assert.ok(afterDwell.stored, 'the profile with the engagement is stored (consent given)');
      // Scrolling deep later on the same page view does not count it again.
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await page.waitForTimeout(300);
      assert.equal((await engagedEvents(page)).length, 1);
      assert.equal(interest(await exported(page)), interest(afterDwell));
    });
  });

  test('the debug overlay says whether this page view is engaged yet', async () => {
    await asConsentingVisitor(demo.browser, async (page) => {
      await visit(page, demo.server, `${PAGE}?ep_debug=1`);
      // Hidden at once, the page cannot engage however slowly the overlay loads.
      await setVisibility(page, 'hidden');
      await page.waitForSelector('#edge-persona-debug', { state: 'attached', timeout: 5000 });
      const thisPage = () => page.evaluate(() => {
        const terms = [...document.getElementById('edge-persona-debug').shadowRoot.querySelectorAll('dt')];
        return terms.find((dt) => dt.textContent === 'this page')?.nextElementSibling?.textContent ?? null;
      });
      // Not engaged yet: it says what would do it.
      assert.deepEqual(await engagedEvents(page), [], 'engaged before the overlay could be read');
      assert.equal(await thisPage(), `not engaged yet (${DWELL_SECONDS} s visible or ${SCROLL_PERCENT} % scrolled)`);
      await setVisibility(page, 'visible');
      await waitForEngaged(page);
      await page.waitForFunction(() => [...document.getElementById('edge-persona-debug').shadowRoot.querySelectorAll('dd')]
        .some((dd) => dd.textContent === 'engaged'), null, { timeout: 5000 });
      assert.equal(await thisPage(), 'engaged');
    });
  });

  test('time in a background tab does not count towards the dwell time', async () => {
    await asConsentingVisitor(demo.browser, async (page) => {
      await visit(page, demo.server, PAGE);
      await setVisibility(page, 'hidden');
      await page.waitForTimeout(DWELL_SECONDS * 1000 * 2.5);
      assert.deepEqual(await engagedEvents(page), [], 'hidden time made it engaged');
      await setVisibility(page, 'visible');
      await waitForEngaged(page);
      assert.deepEqual(await engagedEvents(page), [{ by: 'dwell' }]);
    });
  });

  test('scrolling past the depth makes a page view engaged before the dwell time; a new SPA route can be engaged again', async () => {
    await asConsentingVisitor(demo.browser, async (page) => {
      await visit(page, demo.server, PAGE);
      const scrollable = await page.evaluate(() => document.documentElement.scrollHeight - window.innerHeight);
      assert.ok(scrollable > 0, 'the page scrolls in this window');
      // Just short of the depth: nothing yet.
      await page.evaluate((y) => window.scrollTo(0, y), Math.floor(scrollable * (SCROLL_PERCENT - 10) / 100));
      await page.waitForTimeout(100);
      assert.deepEqual(await engagedEvents(page), [], `${SCROLL_PERCENT - 10} % scrolled is not engaged`);
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await waitForEngaged(page);
      assert.deepEqual(await engagedEvents(page), [{ by: 'scroll' }]);
      const afterScroll = await exported(page);
      assert.equal(afterScroll.funnel.stage >= 1, true, 'at least warm');

      // An SPA route is a new page view, with engagement of its own.
      await page.evaluate(() => { window.scrollTo(0, 0); history.pushState({}, '', '?route=2'); });
      await page.waitForFunction(() => window.__ep.events.filter((e) => e.name === 'decision').length >= 2);
      await waitForEngaged(page, 2);
      assert.deepEqual(await engagedEvents(page), [{ by: 'scroll' }, { by: 'dwell' }]);
    });
  });

  test('a page shorter than the window is not engaged by its shortness, only by time', async () => {
    await asConsentingVisitor(demo.browser, async (page) => {
      await page.setViewportSize({ width: 1280, height: 20_000 });
      await visit(page, demo.server, PAGE);
      assert.equal(await page.evaluate(() => document.documentElement.scrollHeight - window.innerHeight <= 0), true);
      await page.evaluate(() => window.dispatchEvent(new Event('scroll')));
      await page.waitForTimeout(200);
      assert.deepEqual(await engagedEvents(page), []);
      await waitForEngaged(page);
      assert.deepEqual(await engagedEvents(page), [{ by: 'dwell' }]);
    });
  });
});
