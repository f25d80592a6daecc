// A popup whose trigger fires while the visitor is typing in one of the page's fields
// waits until the field loses focus: opening then would take the focus (and the
// keystrokes) from the form. Exit intent is not held back (the visitor is leaving).
//
// The demo site serves a config of its own here: the demo's, with one popup for
// every visitor, shown one second after the page view.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIG, demoWithConfigPerFile, asConsentingVisitor, visit } from './harness.mjs';

const DELAY_SECONDS = 1;
const TEST_CONFIG = {
  ...CONFIG,
  popups: [{
    id: 'hello', priority: 10, label: 'Hello',
    content: { text: 'Подборка ресторанов недели' },
    trigger: { delaySeconds: DELAY_SECONDS },
  }],
};

const demo = demoWithConfigPerFile(TEST_CONFIG);

test('a delayed popup waits while the visitor types in a form field, and opens once the field loses focus', async () => {
  await asConsentingVisitor(demo.browser, async (page) => {
    const { decision } = await visit(page, demo.server, '/book.html');
    assert.deepEqual(decision.decision.popups.map((p) => p.popup), ['hello']);

    const name = page.locator('#booking-form input[name="name"]');
    await name.click();
    await page.keyboard.type('Ан');
    await page.waitForTimeout(DELAY_SECONDS * 1000 + 700);
    await page.keyboard.type('на');
    assert.equal(await page.locator('[role="dialog"]').count(), 0, 'no popup while typing');
    assert.equal(await name.inputValue(), 'Анна', 'every keystroke reached the field');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'name');

    // Focus moves to another field: still typing, still waiting.
    await page.keyboard.press('Shift+Tab');
    await page.waitForTimeout(300);
    assert.equal(await page.locator('[role="dialog"]').count(), 0, 'no popup while focus is in another field');

    // Focus leaves the fields: the popup opens and takes the focus.
    await page.evaluate(() => document.activeElement.blur());
    await page.locator('[role="dialog"]').waitFor({ timeout: 2000 });
    assert.equal(await page.locator('[role="dialog"]').count(), 1);
    assert.ok(await page.evaluate(() => document.activeElement?.closest('[role="dialog"]') != null), 'the dialog has the focus');
  });
});

test('without a focused field, the delayed popup opens on time', async () => {
  await asConsentingVisitor(demo.browser, async (page) => {
    await visit(page, demo.server, '/book.html');
    await page.locator('[role="dialog"]').waitFor({ timeout: DELAY_SECONDS * 1000 + 2000 });
  });
});

test('keyboard focus stays in a popup whose only control is its close button, forwards and backwards', async () => {
  await asConsentingVisitor(demo.browser, async (page) => {
    await visit(page, demo.server, '/book.html');
    await page.locator('[role="dialog"]').waitFor({ timeout: DELAY_SECONDS * 1000 + 2000 });
    const inDialog = () => page.evaluate(() => document.activeElement?.closest('[role="dialog"]') != null);
    assert.ok(await inDialog(), 'the dialog has the focus');
    for (const key of ['Shift+Tab', 'Shift+Tab', 'Tab', 'Tab', 'Shift+Tab']) {
      await page.keyboard.press(key);
      assert.ok(await inDialog(), `after ${key} the focus is still in the dialog`);
    }
  });
});

test('a refusal closes an open popup and cancels a pending one: popups come from the refused profile', async () => {
  await asConsentingVisitor(demo.browser, async (page) => {
    // Pending: refused before the delay is up, the popup never opens.
    await visit(page, demo.server, '/book.html');
    await page.evaluate(() => window.edgePersona.consent('denied'));
    await page.waitForTimeout(DELAY_SECONDS * 1000 + 700);
    assert.equal(await page.locator('[role="dialog"]').count(), 0, 'a pending popup is cancelled');
    assert.deepEqual(await page.evaluate(() => window.edgePersona.decide().popups), []);

    // Open: granted again, the next page's popup opens; a refusal closes it.
    await page.evaluate(() => window.edgePersona.consent('personalization'));
    await visit(page, demo.server, '/book.html');
    await page.locator('[role="dialog"]').waitFor({ timeout: DELAY_SECONDS * 1000 + 2000 });
    await page.evaluate(() => window.edgePersona.consent('necessary'));
    assert.equal(await page.locator('[role="dialog"]').count(), 0, 'the open popup is closed');
  });
});

test('a purchase or a lead tracked on the page cancels its pending popups: a new customer is offered nothing more', async () => {
  for (const kind of ['purchase', 'lead']) {
    await asConsentingVisitor(demo.browser, async (page) => {
      await visit(page, demo.server, '/book.html');
      await page.evaluate((k) => window.edgePersona.track(k, { value: 3000 }), kind);
      await page.waitForTimeout(DELAY_SECONDS * 1000 + 700);
      assert.equal(await page.locator('[role="dialog"]').count(), 0, `${kind}: the delayed popup never opens`);
      const conversions = await page.evaluate(() => window.__ep.events.filter((e) => e.name === 'conversion').length);
      assert.equal(conversions, 1, `${kind}: announced once`);
    });
  }
});

test('replaceState to another path is a new route; one that keeps the path (UTM stripped) is not', async () => {
  await asConsentingVisitor(demo.browser, async (page) => {
    await visit(page, demo.server, '/?utm_source=yandex');
    const decisions = () => page.evaluate(() => window.__ep.events.filter((e) => e.name === 'decision').length);
    await page.evaluate(() => history.replaceState({}, '', '/'));
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    assert.equal(await decisions(), 1, 'the same path: no new decision');
    await page.evaluate(() => history.replaceState({}, '', '/book.html'));
    await page.waitForFunction(() => window.__ep.events.filter((e) => e.name === 'decision').length >= 2);
    // The new route's popup comes; the old route's timers went with it.
    await page.locator('[role="dialog"]').waitFor({ timeout: DELAY_SECONDS * 1000 + 2000 });
    assert.equal(await page.locator('[role="dialog"]').count(), 1);
  });
});

/** A `<main id="ep-test-purchase">` declaring a 4200 purchase, as a router renders it, then a route to `path`. */
function declarePurchase(page, path) {
  return page.evaluate((to) => {
    const done = document.createElement('main');
    done.id = 'ep-test-purchase';
    done.setAttribute('data-ep-page-event', 'purchase');
    done.setAttribute('data-ep-value', '4200');
    document.body.appendChild(done);
    history.pushState({}, '', to);
  }, path);
}

test('a purchase the page declares is counted once, even if the next route renders after the decision', async () => {
  await asConsentingVisitor(demo.browser, async (page) => {
    await visit(page, demo.server, '/book.html');
    await declarePurchase(page, '/book.html?step=thanks');
    await page.waitForFunction(() => window.__ep.events.filter((e) => e.name === 'decision').length >= 2);
    // A router that renders late: the element is still there at the next route.
    await page.evaluate(() => history.pushState({}, '', '/'));
    await page.waitForFunction(() => window.__ep.events.filter((e) => e.name === 'decision').length >= 3);
    const conversions = await page.evaluate(() => window.__ep.events.filter((e) => e.name === 'conversion' && e.detail.event === 'purchase').length);
    assert.equal(conversions, 1);
  });
});

test('npm: a remount resumes its page view with the popups it already showed: a dismissed one does not open again', async () => {
  const html = `<!doctype html><html><head><meta charset="utf-8"></head><body><p>Page</p>
    <script type="module">
      import * as ep from '/ep/edge-persona.js';
      window.__ep_mod = ep;
      const config = ${JSON.stringify(JSON.stringify(TEST_CONFIG))};
      window.__config = config;
      await ep.init(config, { consent: 'personalization' });
    </script></body></html>`;
  demo.server.configure({
    transform(urlPath, res) {
      if (urlPath !== '/remount-popup.html') return false;
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(html);
      return true;
    },
  });
  const page = await demo.browser.newPage();
  try {
    await page.goto(demo.server.href('/remount-popup.html'));
    await page.locator('[role="dialog"]').waitFor({ timeout: DELAY_SECONDS * 1000 + 3000 });
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('[role="dialog"]').count(), 0, 'dismissed');
    // The framework remounts.
    await page.evaluate(async () => {
      window.__ep_mod.instance().destroy();
      await window.__ep_mod.init(window.__config, { consent: 'personalization' });
    });
    await page.waitForTimeout(DELAY_SECONDS * 1000 + 700);
    assert.equal(await page.locator('[role="dialog"]').count(), 0, 'the dismissed popup stays closed after the remount');
  } finally {
    await page.close();
    demo.server.configure({});
  }
});

test('an element a framework reuses for the next route\'s page event counts again', async () => {
  await asConsentingVisitor(demo.browser, async (page) => {
    await visit(page, demo.server, '/book.html');
    await declarePurchase(page, '/book.html?order=1');
    await page.waitForFunction(() => window.__ep.events.filter((e) => e.name === 'decision').length >= 2);
    // The same element, patched for the next order.
    await page.evaluate(() => {
      document.getElementById('ep-test-purchase').setAttribute('data-ep-value', '1500');
      history.pushState({}, '', '/book.html?order=2');
    });
    await page.waitForFunction(() => window.__ep.events.filter((e) => e.name === 'decision').length >= 3);
    const values = await page.evaluate(() => window.__ep.events
      .filter((e) => e.name === 'conversion' && e.detail.event === 'purchase').map((e) => e.detail.value));
    assert.deepEqual(values, [4200, 1500]);
  });
});
