// A popup whose own button is the conversion (a sign-up inside it): the click
// records the popup's conversion and closes it, and the lead it tracks cancels the
// other popups still pending on the page, not the one the visitor converted in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIG, demoWithConfigPerFile, asConsentingVisitor, visit } from './harness.mjs';

const TEST_CONFIG = {
  ...CONFIG,
  popups: [
    { id: 'signup', priority: 20, label: 'Sign up',
      content: { html: '<p>Подборки недели</p><button type="button" data-ep-event="lead" data-ep-convert>Подписаться</button>' },
      trigger: { delaySeconds: 1 } },
    { id: 'later', priority: 10, label: 'Later', content: { text: 'Ещё одно предложение' }, trigger: { delaySeconds: 4 } },
  ],
  attention: { perSession: 5, perDay: 10 },
};

const demo = demoWithConfigPerFile(TEST_CONFIG);

test('converting inside a popup records its conversion, and cancels the popups still pending', async () => {
  await asConsentingVisitor(demo.browser, async (page) => {
    await visit(page, demo.server, '/book.html');
    await page.locator('[role="dialog"]').waitFor({ timeout: 4000 });
    await page.locator('[role="dialog"] button[data-ep-convert]').click();
    await page.locator('[role="dialog"]').waitFor({ state: 'detached', timeout: 3000 }); // the popup closed
    const conversions = await page.evaluate(() => window.__ep.events.filter((e) => e.name === 'conversion').map((e) => e.detail));
    assert.ok(conversions.some((c) => c.popup === 'signup'), `the popup's conversion: ${JSON.stringify(conversions)}`);
    assert.ok(conversions.some((c) => c.event === 'lead'), `the lead: ${JSON.stringify(conversions)}`);
    const history = await page.evaluate(() => window.edgePersona.export().history);
    const signup = history.find((entry) => entry.rule === 'signup');
    assert.equal(signup?.converted, 1, `its conversion recorded in the profile: ${JSON.stringify(history)}`);
    await page.waitForTimeout(4500);
    assert.equal(await page.locator('[role="dialog"]').count(), 0, 'the pending popup was cancelled');
  });
});
