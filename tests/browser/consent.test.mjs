// Consent in the browser, with the demo config (`consent.mode: required`, level
// `personalization`): nothing is stored until a consent source says yes, and a "no"
// deletes what was stored. Sources: an IAB TCF v2.2 CMP (`__tcfapi`), Google Consent
// Mode v2 (`personalization_storage` in the dataLayer), Global Privacy Control, and
// the site's own call (`edgePersona.push(['consent', …])`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, launch, newContext, visit, cookie, cookieOnceSettled, profileCookie, refusalRemembered, events, sendFile, sendBody, pkgFile, CONFIG } from './harness.mjs';

const COOKIE = CONFIG.cookie?.name ?? 'ep';
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

/**
 * Serves `/consent-source.js` with `body` and loads it before the loader on every
 * page; `more` adds server settings (its `transform` sees the other requests).
 */
function withConsentSource(body, more = {}) {
  server.configure({
    ...more,
    html: (html) => html.replace('<script type="module" src="/ep/loader.js"', '<script src="/consent-source.js"></script>\n<script type="module" src="/ep/loader.js"'),
    transform(urlPath, res, req) {
      if (urlPath !== '/consent-source.js') return more.transform ? more.transform(urlPath, res, req) : false;
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(body);
      return true;
    },
  });
}

/**
 * Server settings for a page whose config does not load (404), the loader's tag
 * carrying `attributes` (e.g. the site's `data-consent="denied"`).
 */
function configGone(attributes = '') {
  return {
    html: attributes
      ? (html) => html.replace('<script type="module" src="/ep/loader.js"', `<script type="module" ${attributes} src="/ep/loader.js"`)
      : undefined,
    transform(urlPath, res) {
      if (urlPath !== '/config.json') return false;
      sendBody(res, 404, 'gone', { 'Content-Type': 'text/plain' });
      return true;
    },
  };
}

/** A CMP stub: answers `addEventListener` with `tcData` after `delayMs` (never, if null). */
function tcfStub(tcData, delayMs = 30) {
  return `window.__tcfapi = function (command, version, callback) {
    if (command !== 'addEventListener' || ${delayMs === null}) return;
    setTimeout(function () { callback(Object.assign({ listenerId: 7 }, ${JSON.stringify(tcData)}), true); }, ${delayMs ?? 0});
  };`;
}

async function waitForConsentEvent(page) {
  await page.waitForFunction(() => window.__ep.events.some((e) => e.name === 'consent'), null, { timeout: 10_000 });
  return (await events(page, 'consent')).at(-1).detail;
}

test('TCF: purposes 1, 5 and 6 granted on tcloaded store the profile', async () => {
  withConsentSource(tcfStub({ eventStatus: 'tcloaded', gdprApplies: true, purpose: { consents: { 1: true, 5: true, 6: true } } }));
  const { context, log, close } = await newContext(browser);
  const page = await context.newPage();
  await visit(page, server, '/');
  const consent = await waitForConsentEvent(page);
  assert.deepEqual(consent, { level: 'personalization', source: 'tcf' });
  assert.ok(await profileCookie(context, COOKIE), 'the profile cookie is written once the CMP consents');
  assert.deepEqual(log.pageErrors, []);
  await close();
});

test('TCF: a missing purpose (6) means no consent, and a CMP that never answers stores nothing', async () => {
  withConsentSource(tcfStub({ eventStatus: 'useractioncomplete', gdprApplies: true, purpose: { consents: { 1: true, 5: true } } }));
  let { context, close } = await newContext(browser);
  let page = await context.newPage();
  await visit(page, server, '/');
  assert.deepEqual(await waitForConsentEvent(page), { level: 'denied', source: 'tcf' });
  assert.equal(await profileCookie(context, COOKIE), undefined);
  await close();

  withConsentSource(tcfStub({}, null));
  ({ context, close } = await newContext(browser));
  page = await context.newPage();
  const outcome = await visit(page, server, '/');
  assert.equal(outcome.decision.storage.allowed, false, 'no CMP answer: contextual decision only');
  await page.waitForTimeout(300);
  assert.equal(await profileCookie(context, COOKIE), undefined, 'no CMP answer = no consent');
  await close();
});

test('TCF: gdprApplies false needs no consent', async () => {
  withConsentSource(tcfStub({ eventStatus: 'tcloaded', gdprApplies: false }));
  const { context, close } = await newContext(browser);
  const page = await context.newPage();
  await visit(page, server, '/');
  assert.deepEqual(await waitForConsentEvent(page), { level: 'personalization', source: 'tcf' });
  assert.ok(await profileCookie(context, COOKIE));
  await close();
});

test('TCF and Consent Mode on one page: one platform\'s grant does not undo the other\'s refusal, and Consent Mode does not stand in for a TCF CMP that has not answered', async () => {
  // A CMP that refuses through TCF, then pushes a Consent Mode grant (some map
  // personalization_storage to a "functional" category).
  withConsentSource(`${tcfStub({ eventStatus: 'useractioncomplete', gdprApplies: true, purpose: { consents: { 1: true } } })}
    window.dataLayer = window.dataLayer || [];
    function gtag() { dataLayer.push(arguments); }`);
  let { context, log, close } = await newContext(browser);
  let page = await context.newPage();
  await visit(page, server, '/');
  assert.deepEqual(await waitForConsentEvent(page), { level: 'denied', source: 'tcf' });
  await page.evaluate(() => { window.gtag('consent', 'update', { personalization_storage: 'granted' }); });
  await page.waitForTimeout(200);
  assert.equal(await profileCookie(context, COOKIE), undefined, 'the TCF refusal holds');
  assert.deepEqual((await events(page, 'consent')).map((e) => e.detail.level), ['denied']);
  assert.deepEqual(log.pageErrors, []);
  await close();

  // A Consent Mode grant already in the page while the TCF CMP has not answered;
  // the CMP then says yes.
  withConsentSource(`window.dataLayer = [];
    function gtag() { dataLayer.push(arguments); }
    gtag('consent', 'update', { personalization_storage: 'granted' });
    ${tcfStub({ eventStatus: 'tcloaded', gdprApplies: true, purpose: { consents: { 1: true, 5: true, 6: true } } }, 800)}`);
  ({ context, log, close } = await newContext(browser));
  page = await context.newPage();
  const outcome = await visit(page, server, '/');
  assert.equal(outcome.decision.storage.allowed, false, 'no TCF answer yet: nothing stored');
  assert.equal(await profileCookie(context, COOKIE), undefined);
  assert.deepEqual(await waitForConsentEvent(page), { level: 'personalization', source: 'tcf' });
  assert.ok(await profileCookie(context, COOKIE), 'stored once the TCF CMP consents');
  assert.deepEqual(log.pageErrors, []);
  await close();
});

test('a TCF CMP that appears after a Consent Mode grant holds later grants back until it answers, and deletes nothing', async () => {
  withConsentSource(`window.dataLayer = window.dataLayer || [];
    function gtag() { dataLayer.push(arguments); }
    gtag('consent', 'update', { personalization_storage: 'granted' });`);
  const { context, log, close } = await newContext(browser);
  const page = await context.newPage();
  await visit(page, server, '/');
  const stored = await profileCookie(context, COOKIE);
  assert.ok(stored, 'stored under the Consent Mode grant');
  // A tag manager loads a CMP that has not answered; the next route listens to it.
  await page.evaluate(() => { window.__tcfapi = () => {}; history.pushState({}, '', '/?route=2'); });
  await page.waitForFunction(() => window.__ep.events.filter((e) => e.name === 'decision').length >= 2);
  await page.evaluate(() => { window.gtag('consent', 'update', { personalization_storage: 'granted' }); });
  await page.waitForTimeout(100);
  assert.ok(await profileCookie(context, COOKIE), 'a grant held back is no withdrawal: the profile stays');
  assert.deepEqual(log.pageErrors, []);
  await close();
});

test('Consent Mode v2: denied by default, then an update to granted stores the profile', async () => {
  withConsentSource(`window.dataLayer = window.dataLayer || [];
    function gtag() { dataLayer.push(arguments); }
    gtag('consent', 'default', { ad_storage: 'denied', personalization_storage: 'denied' });`);
  const { context, close } = await newContext(browser);
  const page = await context.newPage();
  const outcome = await visit(page, server, '/');
  assert.equal(outcome.decision.storage.allowed, false);
  assert.equal(await profileCookie(context, COOKIE), undefined);
  await page.evaluate(() => { window.gtag('consent', 'update', { personalization_storage: 'granted' }); });
  assert.deepEqual(await waitForConsentEvent(page), { level: 'personalization', source: 'consent-mode' });
  assert.ok(await profileCookie(context, COOKIE), 'granted through Consent Mode: stored');
  await close();
});

test('Consent Mode: a regional default of denied holds storage back beside a global default of granted; a default never overrides an update', async () => {
  // Google's recommended setup: denied in the EEA, granted elsewhere. The region is
  // not known on the page, so nothing is stored until the visitor answers.
  withConsentSource(`window.dataLayer = window.dataLayer || [];
    function gtag() { dataLayer.push(arguments); }
    gtag('consent', 'default', { personalization_storage: 'denied', region: ['DE', 'FR', 'IT'] });
    gtag('consent', 'default', { personalization_storage: 'granted' });`);
  const { context, log, close } = await newContext(browser);
  const page = await context.newPage();
  const outcome = await visit(page, server, '/');
  assert.equal(outcome.decision.storage.allowed, false, JSON.stringify(outcome.decision.storage));
  assert.equal(await profileCookie(context, COOKIE), undefined);
  await page.evaluate(() => {
    window.gtag('consent', 'update', { personalization_storage: 'denied' });
    window.gtag('consent', 'default', { personalization_storage: 'granted' });
  });
  assert.deepEqual(await waitForConsentEvent(page), { level: 'denied', source: 'consent-mode' });
  await page.waitForTimeout(100);
  const levels = (await events(page, 'consent')).map((e) => e.detail.level);
  assert.deepEqual(levels, ['denied'], 'the later default is no answer');
  assert.equal(await profileCookie(context, COOKIE), undefined);
  assertNoErrors(log);
  await close();
});

test('Global Privacy Control: no profile even with consent, and an old cookie is deleted', async () => {
  server.configure({});
  // A visitor who consented earlier and has a profile cookie…
  const first = await newContext(browser);
  await first.storedConsent('personalization');
  let page = await first.context.newPage();
  await visit(page, server, '/');
  const stored = await profileCookie(first.context, COOKIE);
  assert.ok(stored, 'consented: the profile is stored');
  const cookies = await first.context.cookies();
  await first.close();

  // …comes back with GPC on.
  const second = await newContext(browser);
  await second.context.addCookies(cookies);
  await second.storedConsent('personalization');
  await second.context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
  });
  page = await second.context.newPage();
  const outcome = await visit(page, server, '/');
  assert.equal(outcome.decision.storage.allowed, false);
  assert.match(outcome.decision.storage.reason, /Global Privacy Control/);
  assert.equal(await profileCookie(second.context, COOKIE), undefined, 'the old profile cookie is deleted');
  await second.close();
});

test('withdrawing consent deletes the profile cookie', async () => {
  server.configure({});
  const { context, storedConsent, close } = await newContext(browser);
  await storedConsent('personalization');
  const page = await context.newPage();
  await visit(page, server, '/');
  assert.ok(await profileCookie(context, COOKIE));
  await page.evaluate(() => window.edgePersona.push(['consent', 'denied']));
  assert.equal(await profileCookie(context, COOKIE), undefined);
  const exported = await page.evaluate(() => window.edgePersona.export());
  assert.equal(exported.stored, false);
  await close();
});

test('a banner that kept the queue it found is still heard after the runtime has loaded', async () => {
  server.configure({});
  const { context, storedConsent, close } = await newContext(browser);
  await storedConsent('personalization');
  await context.addInitScript(() => {
    const queue = (window.edgePersona = window.edgePersona || []);
    window.__refuse = () => queue.push(['consent', 'denied']);
  });
  const page = await context.newPage();
  await visit(page, server, '/');
  assert.ok(await profileCookie(context, COOKIE));
  await page.evaluate(() => window.__refuse());
  assert.equal(await profileCookie(context, COOKIE), undefined, 'the refusal reached the runtime');
  await close();
});

test('Consent Mode: a default of denied is "no answer yet" — a returning visitor\'s cookie survives until an update says no', async () => {
  server.configure({});
  // A visitor who consented earlier has a profile cookie.
  const first = await newContext(browser);
  await first.storedConsent('personalization');
  let page = await first.context.newPage();
  await visit(page, server, '/');
  const stored = await profileCookie(first.context, COOKIE);
  assert.ok(stored);
  const cookies = await first.context.cookies();
  await first.close();

  // Next visit: the site's tag sets the usual EU default before its CMP answers.
  withConsentSource(`window.dataLayer = window.dataLayer || [];
    function gtag() { dataLayer.push(arguments); }
    gtag('consent', 'default', { personalization_storage: 'denied' });`);
  const second = await newContext(browser);
  await second.context.addCookies(cookies);
  page = await second.context.newPage();
  const outcome = await visit(page, server, '/');
  assert.equal(outcome.decision.storage.allowed, false);
  assert.equal(outcome.decision.storage.withdrawn, false, 'a default is not a refusal');
  assert.equal((await profileCookie(second.context, COOKIE))?.value, stored.value, 'the cookie is left alone');
  // The CMP's update to denied is the refusal: now it goes.
  await page.evaluate(() => { window.gtag('consent', 'update', { personalization_storage: 'denied' }); });
  assert.deepEqual(await waitForConsentEvent(page), { level: 'denied', source: 'consent-mode' });
  assert.equal(await profileCookie(second.context, COOKIE), undefined);
  await second.close();
});

test('without consent, SPA navigations build on one in-memory profile (same visitor id, page views add up) and store nothing', async () => {
  server.configure({});
  const { context, close } = await newContext(browser);
  const page = await context.newPage();
  await visit(page, server, '/');
  const before = await page.evaluate(() => window.edgePersona.export());
  for (const path of ['/?route=1', '/?route=2']) {
    await page.evaluate((p) => history.pushState({}, '', p), path);
    await page.waitForFunction((n) => window.__ep.events.filter((e) => e.name === 'decision').length >= n, (path.endsWith('1') ? 2 : 3));
  }
  const after = await page.evaluate(() => window.edgePersona.export());
  assert.equal(after.stored, false);
  assert.equal(after.visitorId, before.visitorId, 'one visitor for the whole page life');
  assert.equal(after.pageViews, before.pageViews + 2);
  assert.equal(await profileCookie(context, COOKIE), undefined);
  await close();
});

/** Waits for the page's `n`th decision. */
async function decisions(page, n) {
  await page.waitForFunction((k) => window.__ep.events.filter((e) => e.name === 'decision').length >= k, n);
}

/** A returning visitor's stored profile: one consenting page view in a first context. */
async function storedProfile() {
  const first = await newContext(browser);
  await first.storedConsent();
  const page = await first.context.newPage();
  await visit(page, server, '/');
  const profile = await page.evaluate(() => window.edgePersona.export());
  const cookies = await first.context.cookies();
  await first.close();
  return { profile, cookies };
}

test('export() before this page has an answer gives the profile the cookie holds, not the page\'s contextual one', async () => {
  server.configure({});
  const { profile, cookies } = await storedProfile();
  const { context, log, close } = await newContext(browser);
  await context.addCookies(cookies);
  const page = await context.newPage();
  const outcome = await visit(page, server, '/');
  assert.equal(outcome.decision.storage.allowed, false, 'no answer yet: contextual');
  const exported = await page.evaluate(() => window.edgePersona.export());
  assert.equal(exported.stored, true);
  assert.equal(exported.visitorId, profile.visitorId, 'what is kept about the visitor');
  assert.equal(exported.pageViews, profile.pageViews);
  assert.deepEqual(log.pageErrors, []);
  await close();
});

test('a consent that arrives after an SPA navigation adds to the stored profile instead of replacing it', async () => {
  server.configure({});
  const { profile, cookies } = await storedProfile();
  assert.equal(profile.stored, true);
  // The same visitor comes back; the CMP answers only after a route change.
  const { context, log, close } = await newContext(browser);
  await context.addCookies(cookies);
  const page = await context.newPage();
  const outcome = await visit(page, server, '/');
  assert.equal(outcome.decision.storage.allowed, false, 'no answer yet: contextual');
  await page.evaluate(() => history.pushState({}, '', '/?route=menu'));
  await decisions(page, 2);
  await page.evaluate(() => window.edgePersona.consent('personalization'));
  await page.waitForFunction(() => window.edgePersona.export().stored === true);
  const after = await page.evaluate(() => window.edgePersona.export());
  assert.equal(after.visitorId, profile.visitorId, 'the stored visitor, not a new one');
  assert.ok(after.pageViews > profile.pageViews, `page views ${after.pageViews} after ${profile.pageViews}`);
  const stored = await profileCookie(context, COOKIE);
  assert.ok(stored && stored.value !== cookies.find((c) => c.name === COOKIE).value, 'the stored profile was updated');
  assert.deepEqual(log.pageErrors, []);
  await close();
});

test('withdrawing consent drops the profile from memory too: later routes start without history', async () => {
  server.configure({});
  const { cookies } = await storedProfile();
  const { context, log, storedConsent, close } = await newContext(browser);
  await storedConsent();
  await context.addCookies(cookies);
  const page = await context.newPage();
  await visit(page, server, '/');
  const before = await page.evaluate(() => window.edgePersona.export());
  assert.ok(before.pageViews >= 2, 'the returning visitor\'s history is in use');
  await page.evaluate(() => window.edgePersona.consent('denied'));
  assert.equal(await profileCookie(context, COOKIE), undefined, 'the cookie is deleted');
  const withdrawn = await page.evaluate(() => window.edgePersona.export());
  assert.equal(withdrawn.stored, false);
  assert.equal(withdrawn.pageViews, 0, 'no history left in memory');
  await page.evaluate(() => history.pushState({}, '', '/?route=menu'));
  await decisions(page, 2);
  const later = await page.evaluate(() => window.edgePersona.export());
  assert.equal(later.pageViews, 1, 'the new route counts from nothing');
  assert.equal(later.visits, 1);
  assert.equal(await profileCookie(context, COOKIE), undefined, 'and nothing is stored');
  assert.deepEqual(log.pageErrors, []);
  await close();
});

test('with consent but cookies that do not stick, SPA routes keep one visitor in memory', async () => {
  server.configure({});
  const { context, log, storedConsent, close } = await newContext(browser);
  await storedConsent();
  // Every cookie write is dropped (a browser that blocks them silently).
  await context.addInitScript(() => {
    Object.defineProperty(Document.prototype, 'cookie', { configurable: true, get() { return ''; }, set() {} });
  });
  const page = await context.newPage();
  await visit(page, server, '/');
  const first = await page.evaluate(() => window.edgePersona.export());
  for (const [i, path] of ['/?route=1', '/?route=2'].entries()) {
    await page.evaluate((p) => history.pushState({}, '', p), path);
    await decisions(page, i + 2);
  }
  const later = await page.evaluate(() => window.edgePersona.export());
  assert.equal(later.visitorId, first.visitorId, 'one visitor id (the same variants) for the page life');
  assert.equal(later.pageViews, first.pageViews + 2, 'page views add up');
  assert.deepEqual(log.pageErrors, []);
  await close();
});

test('Consent Mode: an update pushed while the wasm loads counts for the first decision', async () => {
  // A CMP replaying the visitor's stored answer right after the page has parsed, while
  // the wasm is still on its way (held back 600 ms here).
  const source = `window.dataLayer = window.dataLayer || [];
    function gtag() { dataLayer.push(arguments); }
    gtag('consent', 'default', { personalization_storage: 'denied' });
    document.addEventListener('DOMContentLoaded', function () {
      setTimeout(function () { gtag('consent', 'update', { personalization_storage: 'granted' }); }, 50);
    });`;
  withConsentSource(source, {
    budgetMs: 10_000,
    transform(urlPath, res) {
      if (urlPath !== '/ep/edge_persona_bg.wasm') return false;
      setTimeout(() => sendFile(res, pkgFile('edge_persona_bg.wasm')), 600);
      return true;
    },
  });
  const { context, close } = await newContext(browser);
  const page = await context.newPage();
  const outcome = await visit(page, server, '/');
  assert.equal(outcome.decision.storage.allowed, true, outcome.decision.storage.reason);
  assert.ok(await profileCookie(context, COOKIE), 'the first page view is stored');
  await close();
});

test('Consent Mode: a default of denied holds storage back even where the config implies consent, until the visitor answers', async () => {
  const implied = { ...CONFIG, consent: { ...CONFIG.consent, mode: 'implied' } };
  withConsentSource(`window.dataLayer = window.dataLayer || [];
    function gtag() { dataLayer.push(arguments); }
    gtag('consent', 'default', { ad_storage: 'denied', personalization_storage: 'denied' });`, {
    transform(urlPath, res) {
      if (urlPath !== '/config.json') return false;
      sendBody(res, 200, JSON.stringify(implied), { 'Content-Type': 'application/json' });
      return true;
    },
  });
  const { context, close } = await newContext(browser);
  const page = await context.newPage();
  const outcome = await visit(page, server, '/');
  assert.equal(outcome.decision.storage.allowed, false, outcome.decision.storage.reason);
  assert.equal(outcome.decision.storage.withdrawn, false, 'a default is not a refusal');
  assert.equal(await profileCookie(context, COOKIE), undefined, 'nothing stored');
  await page.evaluate(() => { window.gtag('consent', 'update', { personalization_storage: 'granted' }); });
  assert.deepEqual(await waitForConsentEvent(page), { level: 'personalization', source: 'consent-mode' });
  assert.ok(await profileCookie(context, COOKIE), 'the answer stores the profile');
  await close();
});

test('the runtime cannot start (its config does not load): a refusal or forget() still deletes the stored profile', async () => {
  server.configure({});
  const { cookies } = await storedProfile();
  for (const call of ['queued refusal', 'forget() after the failure', 'data-consent="denied"', 'a refusal pushed later into a kept queue']) {
    // The site renders the visitor's stored "no" into the script tag.
    server.configure(configGone(call === 'data-consent="denied"' ? 'data-consent="denied"' : ''));
    const { context, log, close } = await newContext(browser);
    await context.addCookies(cookies);
    if (call === 'queued refusal') {
      // The site's banner replays the visitor's "no" before the loader has run.
      await context.addInitScript(() => { (window.edgePersona = window.edgePersona || []).push(['consent', 'denied']); });
    }
    if (call === 'a refusal pushed later into a kept queue') {
      // A banner that keeps the queue it found, and pushes the answer when given.
      await context.addInitScript(() => {
        const queue = (window.edgePersona = window.edgePersona || []);
        window.__refuse = () => queue.push(['consent', 'denied']);
      });
    }
    const page = await context.newPage();
    await page.goto(server.href('/'), { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.__ep.events.some((e) => e.name === 'error' && e.detail.where === 'loader'));
    if (call === 'a refusal pushed later into a kept queue') {
      assert.ok(await profileCookie(context, COOKIE), `${call}: the profile is still there before the call`);
      await page.evaluate(() => window.__refuse());
    } else if (call === 'forget() after the failure') {
      assert.ok(await profileCookie(context, COOKIE), `${call}: the profile is still there before the call`);
      await page.evaluate(() => window.edgePersona.forget());
    }
    assert.equal(await profileCookie(context, COOKIE), undefined, `${call}: the profile cookie is deleted`);
    assert.equal(await refusalRemembered(context, COOKIE), call !== 'forget() after the failure',
      `${call}: a refusal leaves the refusal marker, forget() nothing`);
    assert.deepEqual(log.pageErrors, [], call);
    await close();
  }
  server.configure({});
});

test('the runtime cannot start: a grant the banner queued after the page\'s data-consent="denied" keeps the profile', async () => {
  server.configure({});
  const { cookies } = await storedProfile();
  // Cached HTML carries a default "no"; the banner replays the visitor's stored "yes".
  server.configure(configGone('data-consent="denied"'));
  const { context, log, close } = await newContext(browser);
  try {
    await context.addCookies(cookies);
    await context.addInitScript(() => { (window.edgePersona = window.edgePersona || []).push(['consent', 'personalization']); });
    const page = await context.newPage();
    await page.goto(server.href('/'), { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.__ep.events.some((e) => e.name === 'error' && e.detail.where === 'loader'));
    assert.ok(await profileCookie(context, COOKIE), 'the visitor\'s own answer is the last word');
    assert.deepEqual(log.pageErrors, []);
  } finally {
    await close();
    server.configure({});
  }
});

test('npm: consent() and forget() called before init() count for its first decision', async () => {
  // The demo config in `implied` mode stores a profile unless the visitor says no.
  const implied = { ...CONFIG, consent: { ...CONFIG.consent, mode: 'implied' } };
  const page = (before) => `<!doctype html><html><head><meta charset="utf-8"></head><body>
    <script type="module">
      import * as ep from '/ep/edge-persona.js';
      ${before}
      const persona = await ep.init(${JSON.stringify(JSON.stringify(implied))});
      window.__result = { ready: persona.ready, level: persona.consentLevel ?? null };
    </script></body></html>`;
  const pages = {
    '/npm-plain.html': page(''),
    '/npm-denied.html': page("ep.consent('denied');"),
    '/npm-granted.html': page("ep.consent('personalization');"),
    '/npm-forget.html': page('ep.forget();'),
  };
  server.configure({
    transform(urlPath, res) {
      if (!pages[urlPath]) return false;
      sendBody(res, 200, pages[urlPath], { 'Content-Type': 'text/html; charset=utf-8' });
      return true;
    },
  });
  const { context, log, close } = await newContext(browser);
  try {
    const tab = await context.newPage();
    const run = async (path) => {
      await tab.goto(server.href(path));
      await tab.waitForFunction(() => window.__result);
      return tab.evaluate(() => window.__result);
    };
    assert.deepEqual(await run('/npm-plain.html'), { ready: true, level: null });
    const stored = await profileCookie(context, COOKIE);
    assert.ok(stored, 'implied consent stores a profile (so the cases below can fail)');
    assert.deepEqual(await run('/npm-denied.html'), { ready: true, level: 'denied' });
    assert.equal(await profileCookie(context, COOKIE), undefined, 'a "no" before init(): the stored profile is deleted, nothing new stored');
    assert.equal(await refusalRemembered(context, COOKIE), true, 'only the refusal is kept');
    const exported = () => tab.evaluate(() => import('/ep/edge-persona.js').then((ep) => ep.instance().export()));
    // Implied consent does not come back by itself after a "no": a page without an
    // answer stores nothing; a grant starts a fresh profile.
    await run('/npm-plain.html');
    assert.equal(await profileCookie(context, COOKIE), undefined, 'no answer after a refusal: nothing stored');
    await run('/npm-granted.html');
    assert.equal((await exported()).pageViews, 1, 'a fresh profile after the refusal');
    await run('/npm-plain.html');
    assert.equal((await exported()).pageViews, 2);
    await run('/npm-forget.html');
    assert.equal((await exported()).pageViews, 1, 'forget() before init(): the first decision starts from nothing');
    assertNoErrors(log);
  } finally {
    await close();
    server.configure({});
  }
});

function assertNoErrors(log) {
  assert.deepEqual(log.pageErrors, []);
}

test('TCF: destroy() before the CMP first answers removes the listener once it is named', async () => {
  withConsentSource(`window.__tcfCalls = [];
    window.__tcfapi = function (command, version, callback, parameter) {
      window.__tcfCalls.push(command + (parameter === undefined ? '' : ':' + parameter));
      if (command !== 'addEventListener') return;
      setTimeout(function () {
        callback({ listenerId: 7, eventStatus: 'tcloaded', gdprApplies: true, purpose: { consents: { 1: true, 5: true, 6: true } } }, true);
      }, 400);
    };`);
  const { context, log, close } = await newContext(browser);
  try {
    const page = await context.newPage();
    await visit(page, server, '/');
    await page.evaluate(() => window.edgePersona.persona.destroy());
    await page.waitForFunction(() => window.__tcfCalls.includes('removeEventListener:7'), null, { timeout: 5_000 });
    assert.equal(await profileCookie(context, COOKIE), undefined, 'the destroyed runtime stored nothing on the late answer');
    assert.deepEqual(log.pageErrors, []);
  } finally {
    await close();
    server.configure({});
  }
});

test('the runtime cannot start (its config fails validation): a queued refusal or GPC still deletes the stored profile', async () => {
  server.configure({});
  const { cookies } = await storedProfile();
  const broken = { ...CONFIG, slots: { hero: { selector: 42 } } };
  for (const how of ['queued refusal', 'Global Privacy Control', 'a later refusal from the CMP']) {
    withConsentSource(how === 'a later refusal from the CMP' ? tcfStub({ eventStatus: 'useractioncomplete', gdprApplies: true, purpose: { consents: {} } }, 300) : '', {
      transform(urlPath, res) {
        if (urlPath !== '/config.json') return false;
        sendBody(res, 200, JSON.stringify(broken), { 'Content-Type': 'application/json' });
        return true;
      },
    });
    const { context, log, close } = await newContext(browser);
    await context.addCookies(cookies);
    if (how === 'queued refusal') {
      await context.addInitScript(() => { (window.edgePersona = window.edgePersona || []).push(['consent', 'denied']); });
    }
    if (how === 'Global Privacy Control') {
      await context.addInitScript(() => {
        Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
      });
    }
    const page = await context.newPage();
    await page.goto(server.href('/'), { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.__ep.events.some((e) => e.name === 'error' && e.detail.where === 'init'));
    if (how === 'a later refusal from the CMP') {
      await page.waitForFunction(() => !document.cookie.includes('ep='), null, { timeout: 5_000 }).catch(() => {});
    }
    assert.equal(await profileCookie(context, COOKIE), undefined, `${how}: the profile cookie is deleted`);
    assert.deepEqual(log.pageErrors, [], how);
    await close();
  }
  server.configure({});
});

test('TCF: where the config implies consent, a CMP that has not answered yet holds storage back', async () => {
  const implied = { ...CONFIG, consent: { ...CONFIG.consent, mode: 'implied' } };
  withConsentSource(tcfStub({ eventStatus: 'tcloaded', gdprApplies: true, purpose: { consents: { 1: true, 5: true, 6: true } } }, 1500), {
    transform(urlPath, res) {
      if (urlPath !== '/config.json') return false;
      sendBody(res, 200, JSON.stringify(implied), { 'Content-Type': 'application/json' });
      return true;
    },
  });
  const { context, close } = await newContext(browser);
  try {
    const page = await context.newPage();
    const outcome = await visit(page, server, '/');
    assert.equal(outcome.decision.storage.allowed, false, outcome.decision.storage.reason);
    assert.equal(await profileCookie(context, COOKIE), undefined, 'nothing stored before the CMP answers');
    assert.deepEqual(await waitForConsentEvent(page), { level: 'personalization', source: 'tcf' });
    assert.ok(await profileCookie(context, COOKIE), 'the answer stores the profile');
  } finally {
    await close();
    server.configure({});
  }
});

test('Global Privacy Control: SPA routes start from no history each time (no profiling in memory either)', async () => {
  server.configure({});
  const { context, close } = await newContext(browser);
  await context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
  });
  const page = await context.newPage();
  await visit(page, server, '/');
  const before = await page.evaluate(() => window.edgePersona.export());
  for (const [n, path] of [[2, '/?route=1'], [3, '/?route=2']]) {
    await page.evaluate((p) => history.pushState({}, '', p), path);
    await decisions(page, n);
  }
  const after = await page.evaluate(() => window.edgePersona.export());
  assert.equal(after.visitorId, before.visitorId, 'the same visitor id: the same variants');
  assert.equal(after.pageViews, 1, 'each route counts from nothing');
  assert.equal(await profileCookie(context, COOKIE), undefined);
  await close();
});

test('a queued forget() comes before the first decision: it neither reads nor stores the old profile', async () => {
  server.configure({});
  const { profile, cookies } = await storedProfile();
  const { context, storedConsent, close } = await newContext(browser);
  await storedConsent();
  await context.addCookies(cookies);
  await context.addInitScript(() => { (window.edgePersona = window.edgePersona || []).push(['forget']); });
  const page = await context.newPage();
  await visit(page, server, '/');
  const now = await page.evaluate(() => window.edgePersona.export());
  assert.notEqual(now.visitorId, profile.visitorId, 'a new visitor');
  assert.equal(now.pageViews, 1, 'the first decision started from nothing');
  await close();
});

test('TCF: a CMP whose first listener id is 0 is asked to remove it once, on destroy', async () => {
  withConsentSource(`window.__tcfCalls = [];
    window.__tcfapi = function (command, version, callback, parameter) {
      window.__tcfCalls.push(command + (parameter === undefined ? '' : ':' + parameter));
      if (command !== 'addEventListener') return;
      var answer = function (status) {
        callback({ listenerId: 0, eventStatus: status, gdprApplies: true, purpose: { consents: { 1: true, 5: true, 6: true } } }, true);
      };
      setTimeout(function () { answer('tcloaded'); answer('useractioncomplete'); answer('useractioncomplete'); }, 30);
    };`);
  const { context, log, close } = await newContext(browser);
  try {
    const page = await context.newPage();
    await visit(page, server, '/');
    await waitForConsentEvent(page);
    await page.evaluate(() => window.edgePersona.persona.destroy());
    const calls = await page.evaluate(() => window.__tcfCalls.filter((c) => c.startsWith('removeEventListener')));
    assert.deepEqual(calls, ['removeEventListener:0']);
    assert.deepEqual(log.pageErrors, []);
  } finally {
    await close();
    server.configure({});
  }
});

test('a config that asks only for "necessary" consent: that answer is a yes, even when the runtime cannot start', async () => {
  server.configure({});
  const { cookies } = await storedProfile();
  const broken = { ...CONFIG, consent: { ...CONFIG.consent, level: 'necessary' }, slots: { hero: { selector: 42 } } };
  server.configure({
    transform(urlPath, res) {
      if (urlPath !== '/config.json') return false;
      sendBody(res, 200, JSON.stringify(broken), { 'Content-Type': 'application/json' });
      return true;
    },
  });
  const { context, log, close } = await newContext(browser);
  await context.addCookies(cookies);
  await context.addInitScript(() => { (window.edgePersona = window.edgePersona || []).push(['consent', 'necessary']); });
  const page = await context.newPage();
  await page.goto(server.href('/'), { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => window.__ep.events.some((e) => e.name === 'error' && e.detail.where === 'init'));
  await page.evaluate(() => window.edgePersona.consent('necessary'));
  assert.ok(await profileCookie(context, COOKIE), 'the profile the visitor agreed to is kept');
  await page.evaluate(() => window.edgePersona.consent('denied'));
  const refused = await cookieOnceSettled(context, COOKIE, (c) => c?.value === '0');
  assert.equal(refused?.value, '0', 'a "no" still deletes it, and leaves only the answer');
  assert.deepEqual(log.pageErrors, []);
  await close();
  server.configure({});
});

test('the runtime module does not load: a config asking only for "necessary" keeps that yes; the loader reports it finished', async () => {
  server.configure({});
  const { cookies } = await storedProfile();
  const necessary = { ...CONFIG, consent: { ...CONFIG.consent, level: 'necessary' } };
  server.configure({
    transform(urlPath, res) {
      if (urlPath === '/config.json') {
        sendBody(res, 200, JSON.stringify(necessary), { 'Content-Type': 'application/json' });
        return true;
      }
      if (urlPath === '/ep/edge-persona.js') {
        sendBody(res, 404, 'not found', { 'Content-Type': 'text/plain' });
        return true;
      }
      return false;
    },
  });
  const { context, log, close } = await newContext(browser);
  await context.addCookies(cookies);
  await context.addInitScript(() => { (window.edgePersona = window.edgePersona || []).push(['consent', 'necessary']); });
  const page = await context.newPage();
  await page.goto(server.href('/'), { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => window.__ep.events.some((e) => e.name === 'error' && e.detail.where === 'loader'));
  const ready = await page.evaluate(() => window.__ep.events.filter((e) => e.name === 'ready').map((e) => e.detail));
  assert.deepEqual(ready, [{ ready: false }], 'a page waiting for edge-persona:ready hears the loader finished');
  assert.ok(await profileCookie(context, COOKIE), 'the profile the visitor agreed to is kept');
  await page.evaluate(() => window.edgePersona.consent('necessary'));
  assert.ok(await profileCookie(context, COOKIE), 'and kept when the answer comes again');
  await page.evaluate(() => window.edgePersona.consent('denied'));
  const refused = await cookieOnceSettled(context, COOKIE, (c) => c?.value === '0');
  assert.equal(refused?.value, '0', 'a "no" still deletes it, and leaves only the answer');
  assert.deepEqual(log.pageErrors, []);
  await close();
  server.configure({});
});

/** Like withConsentSource, with `attributes` added to the loader's script tag. */
function withConsentSourceAndLoader(body, attributes) {
  server.configure({
    html: (html) => html.replace('<script type="module" src="/ep/loader.js"',
      `<script src="/consent-source.js"></script>\n<script type="module" ${attributes} src="/ep/loader.js"`),
    transform(urlPath, res) {
      if (urlPath !== '/consent-source.js') return false;
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(body);
      return true;
    },
  });
}

test('the site\'s own answer stands: a CMP\'s "GDPR does not apply" does not lift its refusal, a CMP refusal lowers its yes', async () => {
  withConsentSourceAndLoader(tcfStub({ eventStatus: 'tcloaded', gdprApplies: false }), 'data-consent="denied"');
  let { context, log, close } = await newContext(browser);
  let page = await context.newPage();
  await visit(page, server, '/');
  await page.waitForTimeout(500); // the CMP answers after 30 ms
  assert.equal(await page.evaluate(() => window.edgePersona.persona.consentLevel), 'denied');
  assert.deepEqual((await events(page, 'consent')).map((e) => e.detail), [], 'no platform answer taken over the site\'s');
  assert.equal(await profileCookie(context, COOKIE), undefined, 'nothing stored');
  assertNoErrors(log);
  await close();

  withConsentSourceAndLoader(tcfStub({ eventStatus: 'useractioncomplete', gdprApplies: true, purpose: { consents: { 1: true, 5: true } } }),
    'data-consent="personalization"');
  ({ context, log, close } = await newContext(browser));
  page = await context.newPage();
  await visit(page, server, '/');
  assert.deepEqual(await waitForConsentEvent(page), { level: 'denied', source: 'tcf' }, 'the visitor refused in the CMP');
  await page.waitForTimeout(200);
  assert.equal(await profileCookie(context, COOKIE), undefined, 'nothing stored');
  assertNoErrors(log);
  await close();
  server.configure({});
});

test('Consent Mode is read from the layer a tag manager was loaded with (its name in data-datalayer)', async () => {
  withConsentSourceAndLoader(`window.epLayer = window.epLayer || [];
    epLayer.push(['consent', 'default', { personalization_storage: 'denied' }]);
    epLayer.push(['consent', 'update', { personalization_storage: 'granted' }]);`, 'data-datalayer="epLayer"');
  const { context, log, close } = await newContext(browser);
  const page = await context.newPage();
  const outcome = await visit(page, server, '/');
  assert.equal(outcome.decision.storage.allowed, true, 'the grant in epLayer counts');
  assert.ok(await profileCookie(context, COOKIE), 'stored');
  assertNoErrors(log);
  await close();
  server.configure({});
});

test('Consent Mode is read from window.dataLayer even when the runtime pushes its events to another array', async () => {
  withConsentSourceAndLoader(`window.dataLayer = window.dataLayer || [];
    function gtag() { dataLayer.push(arguments); }
    gtag('consent', 'default', { personalization_storage: 'denied' });
    gtag('consent', 'update', { personalization_storage: 'granted' });`, 'data-datalayer="epEvents"');
  const { context, log, close } = await newContext(browser);
  const page = await context.newPage();
  const outcome = await visit(page, server, '/');
  assert.equal(outcome.decision.storage.allowed, true, 'gtag\'s grant counts');
  assert.ok(await profileCookie(context, COOKIE), 'stored');
  assertNoErrors(log);
  await close();
  server.configure({});
});
