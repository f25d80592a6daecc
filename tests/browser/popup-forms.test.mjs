// A popup is where a landing page asks for an email or sends the visitor on: its
// `[data-ep-convert]` form must still be sent, and its link still followed. The popup
// closes as converted once the browser has acted (a form removed while it is being
// submitted is not sent; a link removed during its click goes nowhere), and a form
// that fails validation converts nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIG, demoWithConfigPerFile, asConsentingVisitor, visit } from './harness.mjs';

const TEST_CONFIG = {
  ...CONFIG,
  popups: [
    { id: 'newsletter', priority: 20, label: 'Newsletter',
      content: { html: '<form method="post" action="/subscribe" data-ep-convert>'
        // A server framework's CSRF field comes first, as Django's and Rails' do.
        + '<input type="hidden" name="csrf" value="token">'
        + '<input name="email" type="email" required aria-label="Email">'
        + '<button type="submit">Подписаться</button></form>'
        + '<a href="/index.html?from=popup" data-ep-convert>Смотреть меню</a>' },
      trigger: { delaySeconds: 1 } },
  ],
  attention: { perSession: 5, perDay: 10 },
};

const demo = demoWithConfigPerFile(TEST_CONFIG);

const conversions = (page) => page.evaluate(() => window.__ep.events.filter((e) => e.name === 'conversion').map((e) => e.detail));

test('a sign-up form in a popup is sent, and converts only once it is submitted', async () => {
  await asConsentingVisitor(demo.browser, async (page) => {
    // The subscription endpoint answers 204: the browser sends the form and stays.
    const posted = [];
    await page.route('**/subscribe', (route) => {
      posted.push(route.request().postData());
      return route.fulfill({ status: 204 });
    });
    await visit(page, demo.server, '/book.html');
    const dialog = page.locator('[role="dialog"]');
    await dialog.waitFor({ timeout: 4000 });

    // Empty and required: the browser refuses to submit; nothing converts.
    await dialog.locator('button[type="submit"]').click();
    await page.waitForTimeout(300);
    assert.equal(await dialog.count(), 1, 'the popup stays for the visitor to fix the field');
    assert.deepEqual(await conversions(page), []);

    await dialog.locator('input[name="email"]').fill('anna@example.com');
    await dialog.locator('button[type="submit"]').click();
    await dialog.waitFor({ state: 'detached', timeout: 3000 });
    await page.waitForFunction(() => window.__ep.events.some((e) => e.name === 'conversion'), null, { timeout: 3000 });
    assert.deepEqual(posted, ['csrf=token&email=anna%40example.com'], 'the form was sent');
    assert.deepEqual(await conversions(page), [{ popup: 'newsletter' }]);
  });
});

test('a link in a popup marked as the conversion is followed', async () => {
  await asConsentingVisitor(demo.browser, async (page) => {
    await visit(page, demo.server, '/book.html');
    const dialog = page.locator('[role="dialog"]');
    await dialog.waitFor({ timeout: 4000 });
    await Promise.all([
      page.waitForURL(/from=popup/, { timeout: 5000 }),
      dialog.locator('a[data-ep-convert]').click(),
    ]);
  });
});

test('focus goes to the first control the visitor can reach, past a form\'s hidden field; Escape closes', async () => {
  await asConsentingVisitor(demo.browser, async (page) => {
    await visit(page, demo.server, '/book.html');
    const dialog = page.locator('[role="dialog"]');
    await dialog.waitFor({ timeout: 4000 });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'email');
    // Tab from the last control wraps to the first, never into the page behind.
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Tab');
      assert.ok(await page.evaluate(() => document.activeElement?.closest('[role="dialog"]') != null), `Tab ${i + 1} stays in the dialog`);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', timeout: 2000 });
  });
});
