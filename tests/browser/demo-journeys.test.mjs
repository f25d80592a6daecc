// The demo site's visitor journeys, end to end through real page loads in Chromium:
// consent through the page's own banner (or the answer it stored), the runtime
// loaded by the script tag, decisions applied to the DOM, popups opened by their
// triggers. Expected outcomes are derived from www/demo/config.json (see each test);
// where the engine draws lots (holdout, variants), the test accepts exactly the
// outcome the decision reports and checks that the DOM shows that.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONFIG, CLASS_PREFIX, HOUR, startDemo, launch, newContext, visit, settle, cookie, defaultContents,
  assertDomMatches, appliedKey, shot, assertClean, priceBand, renderTemplate, percentEncode, rule,
  experienceBySegments, exitIntent,
} from './harness.mjs';

let server;
let browser;
let defaults;
const SLOT_SELECTORS = ['[data-ep-slot="hero"]', '#offers', '.greeting'];

before(async () => {
  server = await startDemo();
  browser = await launch();
  defaults = await defaultContents(browser, server.href('/'), SLOT_SELECTORS);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const slotOf = (decision, name) => decision.slots.find((s) => s.slot === name);

// The journeys are independent visitors (a context each, the server never reconfigured):
// they run two at a time to keep the suite short; none measures time.
describe('demo journeys', { concurrency: 2 }, () => {
test('newcomer from paid Yandex: the newcomer hero (or its holdout) and the campaign in the CTA', async () => {
  const { context, log } = await newContext(browser);
  try {
    const page = await context.newPage();
    const landing = '/?utm_source=yandex&utm_medium=cpc&utm_campaign=spring';
    await page.goto(server.href(landing), { referer: 'https://yandex.ru/', waitUntil: 'domcontentloaded' });
    const { decision, ready } = await settle(page);
    assert.equal(ready, true, 'the runtime loaded');
    assert.ok(decision.applied, 'the decision was applied (within the budget)');
    const d = decision.decision;

    // A first visit: `experience` is new. The segment yandex_paid (`referrer.class`
    // paid, `referrer.source` yandex) follows from utm_medium=cpc and utm_source=yandex.
    assert.equal(d.visitor.experience, 'new');
    assert.ok(d.visitor.segments.includes('yandex_paid'), `segments ${d.visitor.segments}`);
    // hero: hero-customer needs stage customer and hero-regular the `regular` segment
    // (returning visitors); hero-newcomer (`experience: new`) is the one that matches.
    const hero = slotOf(d, 'hero');
    assert.equal(hero.experience, 'hero-newcomer');
    const cta = rule('experiences', 'hero-newcomer').setAttributes.find((a) => a.selector === '#book-cta');
    const expectedHref = renderTemplate(cta.value, { 'utm.campaign': 'spring' }, percentEncode);
    assert.equal(expectedHref, '/book?promo=spring');
    const dom = await assertDomMatches(page, d, defaults);
    const href = await page.getAttribute('#book-cta', 'href');
    const heroElement = dom.slots.find((s) => s.slot === 'hero').elements[0];
    if (hero.holdout) {
      // The control group keeps the page's default hero and the CTA's own link: the
      // engine applies an experience's setAttributes only when it is shown.
      assert.equal(heroElement.applied, null);
      assert.equal(heroElement.html, defaults['[data-ep-slot="hero"]'][0].html);
      assert.deepEqual(d.attributes, []);
      assert.equal(href, await defaultCtaHref());
    } else {
      assert.equal(heroElement.applied, appliedKey(hero));
      assert.equal(await page.textContent('[data-ep-slot="hero"] h1'), 'Столик за три шага');
      assert.deepEqual(d.attributes.map((a) => [a.selector, a.attribute, a.value]), [['#book-cta', 'href', expectedHref]]);
      assert.equal(href, expectedHref);
    }
    for (const name of [`${CLASS_PREFIX}exp-new`, `${CLASS_PREFIX}seg-yandex_paid`]) {
      assert.ok(await page.evaluate((c) => document.documentElement.classList.contains(c), name), `<html> has ${name}`);
    }

    // Consent through the page's banner: nothing is stored before, the profile cookie after.
    assert.equal(await page.isVisible('#consent'), true, 'the consent bar is shown to a new visitor');
    assert.equal(await cookie(context, 'ep'), undefined, 'no profile cookie before consent');
    await page.click('#consent [data-consent="personalization"]');
    await page.waitForFunction(() => document.cookie.includes('ep='));
    assert.equal(await page.isVisible('#consent'), false);
    assert.equal(await page.evaluate(() => localStorage.getItem('demo-consent')), 'personalization');
    await shot(page, 'journey-a-newcomer');
    assertClean(log);
  } finally {
    await context.close();
  }
});

async function defaultCtaHref() {
  const page = await browser.newPage({ javaScriptEnabled: false });
  try {
    await page.goto(server.href('/'));
    return await page.getAttribute('#book-cta', 'href');
  } finally {
    await page.close();
  }
}

test('premium visitor: several views of White Rabbit, then the home page offers fine dining', async () => {
  const session = await newContext(browser);
  const { context, log } = session;
  try {
    await session.storedConsent();
    const page = await context.newPage();
    for (let i = 0; i < 3; i++) {
      const { decision } = await visit(page, server, '/restaurant-white-rabbit.html');
      assert.equal(decision.storage.allowed, true, 'the stored consent answer reached the runtime');
    }
    const { decision } = await visit(page, server, '/');
    const d = decision.decision;
    // White Rabbit's page is annotated data-ep-price="8500": under the config's bands
    // (budget < 1500, mid < 4000, premium) that is premium, and the premium segment
    // is `price.band: premium`.
    assert.equal(priceBand(8500), 'premium');
    assert.equal(d.visitor.priceBand, 'premium');
    assert.ok(d.visitor.segments.includes('premium'));
    // The offers experience for the premium segment is offers-fine-dining (no holdout, no variants).
    const expected = experienceBySegments('offers', d.visitor.segments);
    assert.equal(expected.id, 'offers-fine-dining');
    const offers = slotOf(d, 'offers');
    assert.equal(offers.experience, expected.id);
    assert.equal(offers.holdout, false);
    await assertDomMatches(page, d, defaults);
    assert.equal(await page.getAttribute('#offers', 'data-ep-applied'), appliedKey(offers));
    assert.equal(await page.textContent('#offers h2'), 'Особый вечер');
    assert.ok(await page.evaluate((c) => document.documentElement.classList.contains(c), `${CLASS_PREFIX}price-premium`));
    await page.locator('#offers').scrollIntoViewIfNeeded();
    await shot(page, 'journey-b-premium');
    assertClean(log);
  } finally {
    await context.close();
  }
});

test('budget visitor: Lunch Corner, then the home page offers set lunches in a stable variant', async () => {
  const session = await newContext(browser);
  const { context, log } = session;
  try {
    await session.storedConsent();
    const page = await context.newPage();
    await visit(page, server, '/restaurant-lunch-corner.html');
    const { decision } = await visit(page, server, '/');
    const d = decision.decision;
    // data-ep-price="650" is below 1500: budget; offers-set-lunch is the budget
    // segment's offers experience, split 50/50 between two variants.
    assert.equal(priceBand(650), 'budget');
    assert.equal(d.visitor.priceBand, 'budget');
    const experience = experienceBySegments('offers', d.visitor.segments);
    assert.equal(experience.id, 'offers-set-lunch');
    const offers = slotOf(d, 'offers');
    assert.equal(offers.experience, 'offers-set-lunch');
    const variant = experience.variants.find((v) => v.id === offers.variant);
    assert.ok(variant, `variant ${offers.variant} is one of ${experience.variants.map((v) => v.id)}`);
    assert.equal(offers.content.template, variant.content.template);
    await assertDomMatches(page, d, defaults);
    assert.equal(await page.getAttribute('#offers', 'data-ep-applied'), `offers-set-lunch/${variant.id}`);
    const marker = variant.content.template === 'offers-set-lunch' ? '#offers .lunch-list' : '#offers .metro-map';
    assert.equal(await page.isVisible(marker), true, `${marker} is shown for ${variant.id}`);
    await page.locator('#offers').scrollIntoViewIfNeeded();
    await shot(page, `journey-c-budget-${variant.id}`);

    // Bucketing hashes the visitor id, which the profile cookie keeps: the same
    // visitor gets the same variant on the next page view.
    const again = await visit(page, server, '/');
    assert.equal(slotOf(again.decision.decision, 'offers').variant, variant.id);
    assert.equal(await page.getAttribute('#offers', 'data-ep-applied'), `offers-set-lunch/${variant.id}`);
    assertClean(log);
  } finally {
    await context.close();
  }
});

test('abandoned booking: the coupon popup next visit, an accessible dialog, capped per session', async () => {
  const session = await newContext(browser);
  const { context, log } = session;
  try {
    await session.storedConsent();
    const page = await context.newPage();
    // The booking form: the page is annotated data-ep-step="booking_form" (stage hot)
    // and demo.js tracks a checkout; leaving without submitting abandons it.
    await visit(page, server, '/book.html');
    const profile = await page.evaluate(() => window.edgePersona.export());
    assert.equal(profile.funnel.checkout.count, 1, 'the checkout was recorded');
    assert.equal(profile.stored, true);

    // visitor.abandonedCart needs the checkout in an earlier visit: come back after
    // more than cookie.sessionTimeoutMinutes.
    const later = 2 * HOUR;
    assert.ok(later > CONFIG.cookie.sessionTimeoutMinutes * 60_000);
    await session.advance(later);
    const { decision } = await visit(page, server, '/');
    const coupon = rule('popups', 'cart-coupon');
    assert.deepEqual(decision.decision.popups.map((p) => p.popup), ['cart-coupon'],
      'cart-coupon (visitor.abandonedCart) is allowed; newsletter needs experience new and this is visit 2');
    assert.equal(decision.decision.visitor.experience, 'returning');

    // Exit intent (trigger.exitIntent) or the 3 s delay opens it.
    await page.focus('#book-cta');
    await exitIntent(page);
    const dialog = page.locator('[role="dialog"]');
    await dialog.waitFor({ state: 'visible', timeout: coupon.trigger.delaySeconds * 1000 + 2000 });
    assert.equal(await dialog.count(), 1);
    assert.equal(await dialog.getAttribute('aria-modal'), 'true');
    assert.equal(await dialog.getAttribute('aria-label'), coupon.label);
    assert.equal(await page.evaluate(() => document.querySelector('[role="dialog"]').contains(document.activeElement)), true,
      'focus moved into the dialog');
    const contentMatches = await page.evaluate((name) => {
      const template = document.querySelector(`template[data-ep-variant="${name}"]`);
      return document.querySelector('[role="dialog"]').innerHTML.includes(template.innerHTML);
    }, coupon.content.template);
    assert.equal(contentMatches, true, `the dialog shows <template data-ep-variant="${coupon.content.template}">`);
    const closeLabel = await page.getAttribute('[role="dialog"] .ep-popup-close', 'aria-label');
    assert.equal(closeLabel, 'Закрыть', 'the close button is labelled in the page language (lang="ru")');
    await shot(page, 'journey-d-coupon-popup');

    // Tab and Shift+Tab stay inside the modal dialog.
    for (const key of ['Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab']) {
      await page.keyboard.press(key);
      assert.equal(await page.evaluate(() => document.querySelector('[role="dialog"]').contains(document.activeElement)), true,
        `focus stays in the dialog after ${key}`);
    }

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', timeout: 2000 });
    assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'book-cta', 'focus returned');
    const exposures = (await settle(page)).events.filter((e) => e.name === 'exposure' && e.detail.popup);
    assert.deepEqual(exposures.map((e) => e.detail.popup), ['cart-coupon']);

    // caps.perSession 1 (and attention.perSession 1): not again in this session.
    const reload = await visit(page, server, '/');
    assert.ok(!reload.decision.decision.popups.some((p) => p.popup === 'cart-coupon'), 'capped for the session');
    await exitIntent(page);
    await page.waitForTimeout(coupon.trigger.delaySeconds * 1000 + 500);
    assert.equal(await page.locator('[role="dialog"]').count(), 0, 'no popup after the reload');
    assertClean(log);
  } finally {
    await context.close();
  }
});

test('booking with a name: greeted by name, a customer, and no coupon', async () => {
  const session = await newContext(browser);
  const { context, log } = session;
  try {
    await session.storedConsent();
    const page = await context.newPage();
    await visit(page, server, '/book.html');
    await page.fill('#booking-form input[name="name"]', 'Анна');
    await Promise.all([page.waitForURL('**/thanks.html'), page.click('#booking-form [type="submit"]')]);
    const thanks = await settle(page);
    const greetingRule = rule('greetings', 'greet-by-name');
    // greet-by-name (priority 20, no condition) renders {cookies.name}; demo.js stored
    // the name percent-encoded in the site's `name` cookie, which the config reads.
    const expectedGreeting = renderTemplate(greetingRule.template, { 'cookies.name': 'Анна' });
    assert.equal(expectedGreeting, 'Здравствуйте, Анна!');
    const checkThanks = thanks.decision.decision;
    assert.equal(checkThanks.visitor.stage, 'customer', 'the purchase made a customer');
    assert.equal(await page.textContent('.greeting'), expectedGreeting);
    assert.ok(await page.evaluate((c) => document.documentElement.classList.contains(c), `${CLASS_PREFIX}stage-customer`));
    await assertDomMatches(page, checkThanks);
    await shot(page, 'journey-e-thanks');

    // Later, a new visit to the home page: still a customer, greeted by name, the
    // customer hero (priority 40, `stage: customer`), and no coupon: the checkout was
    // followed by a purchase (no abandoned cart), and cart-coupon is suppressed for
    // suppressAfterPurchaseDays after a booking purchase.
    await session.advance(2 * HOUR);
    const { decision } = await visit(page, server, '/');
    const d = decision.decision;
    assert.equal(d.visitor.stage, 'customer');
    assert.equal(slotOf(d, 'hero').experience, 'hero-customer');
    assert.ok(!d.popups.some((p) => p.popup === 'cart-coupon'), `popups: ${d.popups.map((p) => p.popup)}`);
    await assertDomMatches(page, d, defaults);
    assert.equal(await page.textContent('.greeting'), expectedGreeting);
    assert.equal(await page.textContent('[data-ep-slot="hero"] h1'), 'Спасибо, что бронируете у нас');
    assert.ok(await page.evaluate((c) => document.documentElement.classList.contains(c), `${CLASS_PREFIX}stage-customer`));
    await exitIntent(page);
    await page.waitForTimeout(rule('popups', 'cart-coupon').trigger.delaySeconds * 1000 + 500);
    assert.equal(await page.locator('[role="dialog"]').count(), 0, 'no coupon for a customer');
    await shot(page, 'journey-e-customer-home');
    assertClean(log);
  } finally {
    await context.close();
  }
});

test('consent that arrives after the first decision (a TCF CMP answers asynchronously) keeps the stored profile',
  async () => {
    const session = await newContext(browser);
    const { context } = session;
    try {
      await session.storedConsent();
      const page = await context.newPage();
      for (let i = 0; i < 3; i++) {
        await visit(page, server, '/');
        await session.advance(2 * HOUR);
      }
      const stored = await page.evaluate(() => window.edgePersona.export().visits);
      assert.equal(stored, 3, 'three visits stored (2 h apart: each a new session)');
      // Next visit: no stored site answer; the IAB TCF CMP answers 50 ms after the first decision.
      await context.addInitScript(() => {
        try { window.localStorage.removeItem('demo-consent'); } catch { /* none */ }
        window.__tcfapi = (command, version, callback) => {
          if (command === 'addEventListener') {
            setTimeout(() => callback({ eventStatus: 'tcloaded', gdprApplies: true, listenerId: 1, purpose: { consents: { 1: true, 5: true, 6: true } } }, true), 50);
          }
        };
      });
      const { decision } = await visit(page, server, '/');
      assert.equal(decision.storage.allowed, false, 'the first decision had no consent yet');
      await page.waitForFunction(() => window.__ep.events.some((e) => e.name === 'consent'));
      const visits = await page.evaluate(() => window.edgePersona.export().visits);
      assert.equal(visits, stored + 1, 'the stored visits plus this one');
    } finally {
      await context.close();
    }
  });
});

test('the debug overlay simulates each visitor type on a fresh engine, without the real visitor\'s name', async () => {
  const { context, log, storedConsent, close } = await newContext(browser);
  try {
    await storedConsent('personalization');
    // A real visitor with a name and a history of their own.
    await context.addCookies([{ name: 'name', value: encodeURIComponent('Анна'), url: server.url }]);
    const page = await context.newPage();
    await visit(page, server, '/?ep_debug=1');
    const simulate = async (visitor) => {
      const reloaded = page.waitForEvent('load');
      // The overlay's <select> is in an open shadow root, which CSS locators pierce.
      await page.locator('#edge-persona-debug select').selectOption(visitor);
      await page.locator('#edge-persona-debug button[aria-label="Run the simulation"]').click();
      await reloaded;
      return (await settle(page)).decision.decision;
    };
    let d = await simulate('premium');
    assert.equal(d.visitor.priceBand, 'premium');
    d = await simulate('budget');
    assert.equal(d.visitor.priceBand, 'budget', 'a new visitor, not the premium one carried over');
    d = await simulate('abandoned');
    assert.equal(d.visitor.experience, 'returning', 'the booking was an earlier visit');
    assert.ok(d.popups.some((p) => p.popup === 'cart-coupon'), `the coupon: ${JSON.stringify(d.popups)}`);
    d = await simulate('customer');
    assert.equal(d.visitor.stage, 'customer');
    assert.ok(!d.popups.some((p) => p.popup === 'cart-coupon'));
    assert.equal(await cookie(context, 'name'), undefined, 'simulated visitors are nobody in particular');
    assertClean(log);
  } finally {
    await close();
  }
});
