// Hostile visitor values: what a visitor controls (the site's `name` cookie, UTM
// parameters) reaches the page only as text or as an encoded attribute value.
//
// The `name` cookie is the site's own (config `readCookies`), read by the runtime
// from document.cookie and percent-decoded where that gives valid UTF-8; the greeting
// `greet-by-name` renders it into text. The engine cleans placeholder values
// (src/core/template.rs `clean_value`: control and bidi-override characters dropped,
// trimmed, at most 64 characters) after capping site cookies at 256 characters
// (src/core/context/mod.rs `named_cookies`). Every payload would set window.__pwned
// and call alert() if it ever ran.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONFIG, startDemo, launch, newContext, visit, renderTemplate, percentEncode, rule, shot, cleanValue,
} from './harness.mjs';

const DANGEROUS = 'img, script, svg, iframe, object, embed, style, link[rel="import"], math';
const NAME_COOKIE = CONFIG.readCookies.find((n) => n === 'name');
const greeting = rule('greetings', 'greet-by-name');

let server;
let browser;
let baseline;
let ctaAttributes;

before(async () => {
  server = await startDemo();
  browser = await launch();
  baseline = await load('Анна', encodeURIComponent('Анна'));
  assert.equal(baseline.greeting, 'Здравствуйте, Анна!', 'the baseline visitor is greeted by name');
  const plain = await browser.newPage({ javaScriptEnabled: false });
  await plain.goto(server.href('/'));
  ctaAttributes = await plain.evaluate(() => document.getElementById('book-cta').getAttributeNames());
  await plain.close();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** What `{cookies.name}` becomes: decoded as the runtime does, capped, cleaned. */
function expectedName(cookieValue) {
  let decoded;
  try { decoded = decodeURIComponent(cookieValue); } catch { decoded = cookieValue; }
  const capped = Array.from(decoded.trim()).slice(0, 256).join('');
  return cleanValue(capped);
}

async function load(label, cookieValue, landing = '/') {
  const session = await newContext(browser);
  const { context, log } = session;
  try {
    await context.addCookies([{ name: NAME_COOKIE, value: cookieValue, url: server.url }]);
    const page = await context.newPage();
    const { decision } = await visit(page, server, landing);
    await page.waitForTimeout(300); // let an <img onerror> or a timer fire, if one was ever created
    const state = await page.evaluate((dangerous) => ({
      greeting: document.querySelector('.greeting').textContent,
      greetingChildren: document.querySelector('.greeting').children.length,
      greetingMark: document.querySelector('.greeting').getAttribute('data-ep-applied'),
      dangerous: document.querySelectorAll(dangerous).length,
      pwned: window.__pwned !== undefined,
      dialogs: document.querySelectorAll('[role="dialog"]').length,
    }), DANGEROUS);
    if (['img-onerror', 'bidi-override'].includes(label)) await shot(page, `hostile-${label}`);
    return { ...state, decision, pageErrors: [...log.pageErrors], alerts: [...log.dialogs] };
  } finally {
    await context.close();
  }
}

const PAYLOADS = [
  ['img-onerror', encodeURIComponent('<img src=x onerror="window.__pwned=1;alert(1)">')],
  ['script-breakout', encodeURIComponent('</script><script>window.__pwned=1;alert(1)</script>')],
  ['broken-percent', '%E0%A4%A'],
  ['4kb', `<svg/onload=window.__pwned=1,alert(1)>${'W'.repeat(4000 - 40)}`], // raw: no ';' allowed in a cookie
  ['bidi-override', encodeURIComponent('\u202Eevil\u202C<b onmouseover=window.__pwned=1>x</b>')],
];

// Independent visitors, no server reconfiguration, nothing timed: three at a time.
describe('hostile values', { concurrency: 3 }, () => {
for (const [label, value] of PAYLOADS) {
  test(`name cookie ${label}: greeted with it as literal text, nothing created, nothing run`, async () => {
    const r = await load(label, value);
    const name = expectedName(value);
    assert.ok(name.length > 0 && name.length <= 64);
    const expected = renderTemplate(greeting.template, { 'cookies.name': name });
    assert.equal(r.decision.decision.greetings.find((g) => g.slot === greeting.slot)?.text, expected, 'decided greeting');
    assert.equal(r.greeting, expected, 'the greeting shows the value as text');
    assert.equal(r.greetingMark, greeting.id);
    assert.equal(r.greetingChildren, 0, 'no element inside .greeting');
    assert.equal(r.dangerous, baseline.dangerous, `no new ${DANGEROUS} element in the document`);
    assert.equal(r.pwned, false, 'window.__pwned never set');
    assert.deepEqual(r.alerts, [], 'no alert');
    assert.equal(r.dialogs, 0, 'no dialog element');
    assert.deepEqual(r.pageErrors, []);
    if (label === 'bidi-override') assert.ok(!/[\u202A-\u202E\u2066-\u2069]/.test(r.greeting), 'bidi controls dropped');
    if (label === '4kb') assert.equal(Array.from(name).length, 64, 'capped at 64 characters');
    if (label === 'broken-percent') assert.equal(name, '%E0%A4%A', 'kept as sent');
  });
}

const UTM_PAYLOADS = [
  ['svg-quote', '<svg onload=window.__pwned=1>"'],
  ['attribute-breakout', '" autofocus onfocus="window.__pwned=1;alert(1)" x="'],
  ['javascript-url', 'javascript:window.__pwned=1//'],
];

for (const [label, campaign] of UTM_PAYLOADS) {
  test(`utm_campaign ${label}: stays inside the #book-cta href, no attribute added`, async () => {
    const landing = `/?utm_source=yandex&utm_medium=cpc&utm_campaign=${encodeURIComponent(campaign)}`;
    // The newcomer hero (which carries the setAttributes) has a 10 % holdout: a new
    // visitor each try until one sees it (0.1^6 odds of never).
    for (let attempt = 0; attempt < 6; attempt++) {
      const { context, log } = await newContext(browser);
      try {
        const page = await context.newPage();
        const { decision } = await visit(page, server, landing);
        const hero = decision.decision.slots.find((s) => s.slot === 'hero');
        if (hero.holdout) continue;
        await page.waitForTimeout(200);
        const seen = await page.evaluate((dangerous) => {
          const el = document.getElementById('book-cta');
          return {
            href: el.getAttribute('href'),
            names: el.getAttributeNames().sort(),
            campaign: new URL(location.href).searchParams.get('utm_campaign'),
            dangerous: document.querySelectorAll(dangerous).length,
            pwned: window.__pwned !== undefined,
          };
        }, DANGEROUS);
        assert.equal(seen.campaign, campaign, 'the page URL carries the payload');
        const template = rule('experiences', 'hero-newcomer').setAttributes.find((a) => a.selector === '#book-cta').value;
        const expected = renderTemplate(template, { 'utm.campaign': campaign }, percentEncode);
        assert.deepEqual(decision.decision.attributes.map((a) => a.value), [expected]);
        assert.equal(seen.href, expected, 'href is the percent-encoded value');
        assert.ok(!/["<>\s]/.test(seen.href), 'no quote, angle bracket or space in the href');
        assert.ok(seen.href.startsWith('/book?promo='), 'still a relative link to /book');
        assert.deepEqual(seen.names, [...new Set([...ctaAttributes, 'href'])].sort(), 'no new attribute on #book-cta');
        assert.equal(seen.dangerous, baseline.dangerous);
        assert.equal(seen.pwned, false);
        await page.focus('#book-cta');
        await page.waitForTimeout(100);
        assert.equal(await page.evaluate(() => window.__pwned !== undefined), false, 'focusing the link runs nothing');
        assert.deepEqual(log.dialogs, []);
        assert.deepEqual(log.pageErrors, []);
        if (label === 'svg-quote') await shot(page, `hostile-utm-${label}`);
        return;
      } finally {
        await context.close();
      }
    }
    assert.fail('six newcomers in a row were in the 10 % holdout');
  });
}
});

test('user content that takes the runtime\'s ids (a comment keeping its id) replaces neither the config nor the edge\'s hand-off', async () => {
  const forgedConfig = JSON.stringify({
    consent: { mode: 'none' },
    slots: { x: { selector: '#none' } },
    experiences: [{ id: 'forged', slot: 'x', content: { html: '<img src=x onerror="window.__pwned=1">' } }],
  });
  const forgedHandoff = JSON.stringify({ version: 1, decision: { slots: [{ slot: 'hero', experience: 'forged', content: { text: 'Session expired' } }] } });
  server.configure({
    html: (html) => html.replace('<body>', `<body><div class="comments"><p id="edge-persona-config">${forgedConfig.replace(/</g, '&lt;')}</p>`
      + `<ol id="ep-handoff" type="application/json"><li>${forgedHandoff}</li></ol></div>`),
  });
  const session = await newContext(browser);
  try {
    const page = await session.context.newPage();
    const outcome = await visit(page, server, '/');
    assert.equal(outcome.ready, true, JSON.stringify(outcome.errors));
    const experiences = outcome.decision.decision.slots.map((s) => s.experience);
    assert.ok(!experiences.includes('forged'), JSON.stringify(experiences));
    assert.equal(outcome.decision.edge, false, 'no hand-off taken over');
    assert.ok(experiences.some((e) => e && e.startsWith('hero-')), `the site's own config decided: ${JSON.stringify(experiences)}`);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(session.log.dialogs, []);
  } finally {
    await session.close();
    server.configure({});
  }
});
