// Trusted Types: the demo served with `require-trusted-types-for 'script';
// trusted-types 'none'` on top of its strict CSP (which allows 'wasm-unsafe-eval').
// No policy may be created and no string may reach an HTML sink, so any innerHTML,
// insertAdjacentHTML, document.write or script-URL assignment by the runtime, the
// loader, the debug overlay or demo.js would be refused and reported through a
// `securitypolicyviolation` event. Slot content comes from <template data-ep-variant>
// (cloned nodes, no markup parsed) and greetings are text, so none should happen.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONFIG, DEFAULT_CSP, startDemo, launch, newContext, visit, assertDomMatches, appliedKey, shot, assertClean,
  sendBody, defaultContents,
} from './harness.mjs';

const TT_CSP = `${DEFAULT_CSP}; require-trusted-types-for 'script'; trusted-types 'none'`;

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

const violationsOf = (page) => page.evaluate(() => window.__ep.violations);

test('templates, greetings, attributes, classes, a popup and the debug overlay under Trusted Types: no violation', async () => {
  server.configure({ csp: TT_CSP });
  const session = await newContext(browser);
  const { context, log } = session;
  try {
    await session.storedConsent();
    const page = await context.newPage();
    const violations = [];
    // A premium newcomer: White Rabbit (8500, premium), then the home page.
    await visit(page, server, '/restaurant-white-rabbit.html');
    violations.push(...await violationsOf(page));
    const { decision } = await visit(page, server, '/?utm_source=yandex&utm_medium=cpc&utm_campaign=spring');
    assert.equal(decision.applied, true);
    const d = decision.decision;
    const offers = d.slots.find((s) => s.slot === 'offers');
    assert.equal(offers.experience, 'offers-fine-dining', 'premium segment → offers-fine-dining');
    assert.ok(offers.content.template, 'its content is a template');
    await assertDomMatches(page, d);
    assert.equal(await page.getAttribute('#offers', 'data-ep-applied'), appliedKey(offers), 'the template was applied');

    // The newsletter popup (a new visitor; trigger scrollPercent 60): built by the runtime.
    assert.ok(d.popups.some((p) => p.popup === 'newsletter'));
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.locator('[role="dialog"]').waitFor({ state: 'visible', timeout: 5000 });
    assert.ok(await page.isVisible('[role="dialog"] input[type="email"]'), 'the popup shows its template');
    await page.keyboard.press('Escape');
    violations.push(...await violationsOf(page));

    // The debug overlay (data-debug-allowed on the demo's loader tag).
    await visit(page, server, '/?ep_debug=1');
    await page.waitForSelector('#edge-persona-debug', { state: 'attached', timeout: 5000 });
    await shot(page, 'trusted-types-debug-overlay');
    violations.push(...await violationsOf(page));

    assert.deepEqual(violations, [], 'no securitypolicyviolation');
    assert.deepEqual(log.consoleErrors.filter((e) => /Trusted|TrustedHTML|TrustedScript/i.test(e)), []);
    assertClean(log);

    // The policy is really enforced (so the empty list above means something): a
    // string assigned to innerHTML is refused and reported.
    const refused = await page.evaluate(() => { try { document.createElement('div').innerHTML = '<b>x</b>'; return false; } catch { return true; } });
    assert.equal(refused, true, 'Trusted Types are enforced on this page');
    await page.waitForFunction(() => window.__ep.violations.length > 0);
  } finally {
    await context.close();
  }
});

test('content.html under Trusted Types: that slot keeps its default, the rest of the decision applies, the runtime keeps working',
  async () => {
    const config = structuredClone(CONFIG);
    config.experiences.find((e) => e.id === 'offers-fine-dining').content = { html: '<h2>Markup from the config</h2>' };
    server.configure({
      csp: TT_CSP,
      transform(urlPath, res) {
        if (urlPath !== '/config.json') return false;
        sendBody(res, 200, JSON.stringify(config), { 'Content-Type': 'application/json; charset=utf-8' });
        return true;
      },
    });
    const defaults = await defaultContents(browser, server.href('/'), ['#offers']);
    const session = await newContext(browser);
    const { context, log } = session;
    try {
      await session.storedConsent();
      const page = await context.newPage();
      await visit(page, server, '/restaurant-white-rabbit.html');
      const { decision } = await visit(page, server, '/');
      const d = decision.decision;
      assert.deepEqual(log.pageErrors, []);
      // The refused slot keeps its default (README: "content.html is refused and the slot keeps its default")...
      assert.equal(await page.getAttribute('#offers', 'data-ep-applied'), null);
      assert.equal(await page.innerHTML('#offers'), defaults['#offers'][0].html);
      // explain() says so: the decision names the experience, the page report the error.
      const explained = await page.evaluate(() => window.edgePersona.explain());
      assert.equal(explained.decision.slots.find((s) => s.slot === 'offers').experience, 'offers-fine-dining');
      assert.ok(!explained.page.applied.includes('offers'), JSON.stringify(explained.page));
      assert.ok(explained.page.errors.some((e) => /offers/.test(e)), JSON.stringify(explained.page));
      assert.equal(explained.page.late, false);
      // ...and everything else the decision says is applied: <html> classes, other slots.
      const classes = await page.evaluate(() => Array.from(document.documentElement.classList));
      for (const name of d.htmlClasses) assert.ok(classes.includes(name), `<html> has ${name}`);
      // The runtime still records what happens (the click tracks add_to_cart).
      const before = (await context.cookies()).find((c) => c.name === 'ep')?.value;
      await page.click('#offers [data-ep-event="add_to_cart"] >> nth=0');
      await page.waitForTimeout(200);
      const after = (await context.cookies()).find((c) => c.name === 'ep')?.value;
      assert.notEqual(after, before, 'add_to_cart was recorded in the profile cookie');
      const errors = (await page.evaluate(() => window.__ep.events)).filter((e) => e.name === 'error' && e.detail.where !== 'apply');
      assert.deepEqual(errors, [], 'no runtime call failed after the refused slot');
    } finally {
      await context.close();
    }
  });
