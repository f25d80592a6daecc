// Fail-safe: whatever breaks — the wasm, the scripts, the config, the CSP, the
// browser's WebAssembly, a slow network — the page shows its default content at
// once, throws nothing uncaught and stores nothing.
//
// Every case is a consenting newcomer on the paid-search landing page, who would
// otherwise see the newcomer hero and have a profile cookie stored (the control test
// shows that). Each breaking case runs with the page as shipped (300 ms budget: slots
// must be visible within ~400 ms of DOMContentLoaded, by the runtime's failure path
// or by the CSS timeout), and — where the runtime's JS runs and can notice the
// failure — again with the CSS timeout raised to TEST_BUDGET_MS, so only the runtime's
// own failure handling (adding `ep-ready`) can reveal the slots in time.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  CONFIG, DEFAULT_CSP, SHIPPED_BUDGET_MS, TEST_BUDGET_MS, startDemo, launch, newContext, cookie, storageKeys,
  sendBody, sendFile, pkgFile, shot, defaultContents,
} from './harness.mjs';

const LANDING = '/?utm_source=yandex&utm_medium=cpc&utm_campaign=spring';
const WASM = '/ep/edge_persona_bg.wasm';
/** Each slot's selector: `slots.<name>.selector`, else `[data-ep-slot="<name>"]` (docs/CONFIG.md). */
const SLOT_SELECTORS = Object.entries(CONFIG.slots).map(([name, s]) => s.selector ?? `[data-ep-slot="${name}"]`);
/** How long after DOMContentLoaded (or their first frame, if later) the slots must be visible with the shipped budget. */
const VISIBLE_WITHIN_MS = 400;

let server;
let browser;
let defaults;

before(async () => {
  server = await startDemo();
  browser = await launch();
  defaults = await defaultContents(browser, server.href('/'), SLOT_SELECTORS);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * Records, frame by frame from the first one, when all slots are first rendered
 * (`presentAt`: parsed and styled in a frame) and when all are first visible.
 */
function visibilityProbe(selectors) {
  const state = (window.__vis = { presentAt: null, visibleAt: null });
  const check = () => {
    const elements = selectors.map((s) => document.querySelector(s));
    if (document.readyState !== 'loading' && elements.every(Boolean)) {
      if (state.presentAt == null) state.presentAt = performance.now();
      if (elements.every((el) => getComputedStyle(el).visibility === 'visible')) {
        state.visibleAt = performance.now();
        return;
      }
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}

/**
 * How long the slots stayed hidden after the page was ready to show them: from
 * DOMContentLoaded, or from the first frame that rendered them when that came later
 * (the CSS timeout only starts counting once a slot is styled).
 */
const hiddenFor = (r) => r.visibleAt - Math.max(r.dcl, r.presentAt ?? 0);

const serveStatus = (status, body = `${status}`) => (res) => sendBody(res, status, body, { 'Content-Type': 'text/plain; charset=utf-8' });
const onPath = (target, respond) => (urlPath, res) => {
  if (urlPath !== target) return false;
  respond(res);
  return true;
};
const configWith = (text) => onPath('/config.json', (res) => sendBody(res, 200, text, { 'Content-Type': 'application/json; charset=utf-8' }));
function corruptWasm() {
  const bytes = Buffer.from(readFileSync(pkgFile('edge_persona_bg.wasm')));
  bytes.fill(0xff, bytes.length >> 1, (bytes.length >> 1) + 512);
  return bytes;
}
const brokenConfig = structuredClone(CONFIG);
brokenConfig.experiences[0].slot = 'no-such-slot';

/**
 * The breaking cases. `runs`: whether the runtime's JS gets to notice (then an
 * `edge-persona:error` must say so, and the raised-budget run applies).
 */
const CASES = [
  { name: 'wasm 404', runs: true, shot: true, transform: onPath(WASM, serveStatus(404)) },
  { name: 'corrupt wasm bytes', runs: true, transform: onPath(WASM, (res) => sendBody(res, 200, corruptWasm(), { 'Content-Type': 'application/wasm' })) },
  { name: 'loader.js 404', runs: false, shot: true, transform: onPath('/ep/loader.js', serveStatus(404)) },
  { name: 'runtime edge-persona.js 404', runs: true, transform: onPath('/ep/edge-persona.js', serveStatus(404)) },
  { name: 'wasm glue edge_persona.js 404', runs: true, transform: onPath('/ep/edge_persona.js', serveStatus(404)) },
  { name: 'config 404', runs: true, transform: onPath('/config.json', serveStatus(404)) },
  { name: 'config is not JSON', runs: true, transform: configWith('{"version": 1, "slots": {') },
  { name: 'config with an error (unknown slot)', runs: true, transform: configWith(JSON.stringify(brokenConfig)) },
  { name: "CSP without 'wasm-unsafe-eval'", runs: true, csp: DEFAULT_CSP.replace(" 'wasm-unsafe-eval'", '') },
  { name: 'WebAssembly deleted', runs: true, init: () => { delete globalThis.WebAssembly; } },
];

/** Loads the landing page under a case; what the page showed, stored and reported. */
async function load(kase, budgetMs) {
  server.configure({ budgetMs, csp: kase.csp, transform: kase.transform });
  const session = await newContext(browser);
  const { context, log } = session;
  try {
    await session.storedConsent();
    await context.addInitScript(visibilityProbe, SLOT_SELECTORS);
    if (kase.init) await context.addInitScript(kase.init);
    const page = await context.newPage();
    await page.goto(server.href(LANDING), { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.__vis.visibleAt != null, null, { timeout: 8000 }).catch(() => {});
    if (kase.runs) {
      await page.waitForFunction(() => window.__ep.events.some((e) => e.name === 'error' || e.name === 'decision'), null, { timeout: 8000 }).catch(() => {});
    } else {
      await page.waitForTimeout(300);
    }
    if (kase.waitForDecision) {
      await page.waitForFunction(() => window.__ep.events.some((e) => e.name === 'decision'), null, { timeout: 10_000 });
      await page.waitForTimeout(200);
    }
    const state = await page.evaluate((selectors) => ({
      dcl: window.__ep.dcl,
      visibleAt: window.__vis.visibleAt,
      presentAt: window.__vis.presentAt,
      readyAt: window.__ep.readyAt,
      events: window.__ep.events,
      uncaught: window.__ep.uncaught,
      applied: Array.from(document.querySelectorAll('[data-ep-applied]'), (el) => el.outerHTML.slice(0, 80)),
      classes: Array.from(document.documentElement.classList),
      slots: selectors.map((s) => ({ selector: s, html: document.querySelector(s).innerHTML, visibility: getComputedStyle(document.querySelector(s)).visibility })),
    }), SLOT_SELECTORS);
    const result = {
      ...state,
      epCookie: await cookie(context, CONFIG.cookie?.name ?? 'ep'),
      storage: await storageKeys(page),
      pageErrors: [...log.pageErrors],
      consoleErrors: [...log.consoleErrors],
      consoleWarnings: [...log.consoleWarnings],
      dialogs: [...log.dialogs],
    };
    if (budgetMs == null && kase.shot) await shot(page, `fail-safe-${kase.name}`);
    return result;
  } finally {
    await context.close();
  }
}

/** The checks every breaking case must pass. */
function assertDefaults(r, what) {
  assert.deepEqual(r.pageErrors, [], `${what}: uncaught errors`);
  assert.deepEqual(r.uncaught, [], `${what}: uncaught errors seen by the page`);
  assert.deepEqual(r.dialogs, [], `${what}: dialogs`);
  assert.ok(r.visibleAt != null, `${what}: the slots became visible`);
  for (const slot of r.slots) {
    assert.equal(slot.visibility, 'visible', `${what}: ${slot.selector} visible`);
    assert.equal(slot.html, defaults[slot.selector][0].html, `${what}: ${slot.selector} shows its default content`);
  }
  assert.deepEqual(r.applied, [], `${what}: nothing marked as personalized`);
  assert.ok(!r.classes.some((c) => c.startsWith(CONFIG.htmlClasses?.prefix ?? 'ep-') && c !== 'ep-ready'), `${what}: no decision classes on <html> (${r.classes})`);
  assert.equal(r.epCookie, undefined, `${what}: no profile cookie`);
  assert.deepEqual(r.storage ?? [], [], `${what}: no edge-persona: localStorage keys`);
}

test('control: nothing broken, the newcomer is personalized and stored (so the cases below can fail)', async () => {
  const r = await load({ name: 'control', runs: true, waitForDecision: true }, TEST_BUDGET_MS);
  const decision = r.events.find((e) => e.name === 'decision').detail;
  assert.equal(decision.applied, true);
  const hero = decision.decision.slots.find((s) => s.slot === 'hero');
  assert.equal(hero.experience, 'hero-newcomer');
  assert.equal(r.applied.length > 0, !hero.holdout, 'personalized unless in the holdout');
  assert.ok(r.classes.includes(`${CONFIG.htmlClasses?.prefix ?? 'ep-'}exp-new`));
  assert.ok(r.epCookie, 'the profile cookie is stored (the visitor consented)');
  assert.deepEqual(r.pageErrors, []);
});

for (const kase of CASES) {
  test(`${kase.name}: defaults at once, nothing thrown, nothing stored`, async () => {
    const shipped = await load(kase, null);
    assertDefaults(shipped, `${kase.name} (shipped budget)`);
    const hidden = hiddenFor(shipped);
    console.log(`# ${kase.name}: slots visible ${(shipped.visibleAt - shipped.dcl).toFixed(0)} ms after DOMContentLoaded, ${hidden.toFixed(0)} ms after they could first be shown`);
    assert.ok(hidden <= VISIBLE_WITHIN_MS, `slots visible ${hidden.toFixed(0)} ms after DOMContentLoaded / their first frame (at most ${VISIBLE_WITHIN_MS})`);
    if (kase.runs) {
      const errors = shipped.events.filter((e) => e.name === 'error');
      assert.ok(errors.length > 0, 'an edge-persona:error event reports the failure');
      assert.ok(shipped.classes.includes('ep-ready'), 'the runtime lifted the anti-flicker style');
      assert.ok(!shipped.events.some((e) => e.name === 'decision'), 'no decision');

      // The CSS timeout pushed far out: only the failure path can reveal the slots now.
      const raised = await load(kase, TEST_BUDGET_MS);
      assertDefaults(raised, `${kase.name} (CSS timeout ${TEST_BUDGET_MS} ms)`);
      assert.ok(raised.readyAt != null, 'ep-ready was added');
      const revealedAfter = hiddenFor(raised);
      console.log(`# ${kase.name}: with the CSS timeout at ${TEST_BUDGET_MS} ms, the failure path revealed the slots ${revealedAfter.toFixed(0)} ms after DOMContentLoaded`);
      assert.ok(revealedAfter < TEST_BUDGET_MS / 2, `the failure path revealed the slots ${revealedAfter.toFixed(0)} ms after DOMContentLoaded, long before the CSS timeout`);
    } else {
      assert.ok(!shipped.classes.includes('ep-ready'), 'no script of the module ran');
      assert.deepEqual(shipped.events, [], 'no edge-persona events');
    }
  });
}

test('wasm served as text/plain: the wasm-bindgen glue falls back to compiling the bytes; never a broken page', async () => {
  // Not a failure for the glue: when instantiateStreaming refuses the MIME type it
  // warns and instantiates from the bytes. The page must then behave like a normal
  // load (decision applied and consistent with the DOM, cookie stored with consent).
  const kase = { name: 'wasm text-plain', runs: true, waitForDecision: true, transform: onPath(WASM, (res) => sendFile(res, pkgFile('edge_persona_bg.wasm'), 'text/plain; charset=utf-8')) };
  const r = await load(kase, TEST_BUDGET_MS);
  assert.deepEqual(r.pageErrors, []);
  assert.ok(r.consoleWarnings.some((w) => /MIME type/.test(w)), 'the glue warned about the MIME type');
  const decision = r.events.find((e) => e.name === 'decision').detail;
  assert.equal(decision.applied, true);
  const hero = decision.decision.slots.find((s) => s.slot === 'hero');
  assert.equal(r.applied.length > 0, !hero.holdout);
  assert.ok(r.epCookie, 'stored: the visitor consented');
});

test(`slow wasm (2 s): the ${SHIPPED_BUDGET_MS} ms budget passes, the page keeps its defaults and never swaps late`, async () => {
  const kase = {
    name: 'slow wasm',
    shot: true,
    runs: true,
    waitForDecision: true,
    transform: onPath(WASM, (res) => { setTimeout(() => sendFile(res, pkgFile('edge_persona_bg.wasm')), 2000); }),
  };
  const r = await load(kase, null);
  const hidden = hiddenFor(r);
  assert.ok(hidden <= VISIBLE_WITHIN_MS, `slots visible ${hidden.toFixed(0)} ms after DOMContentLoaded / their first frame`);
  const decision = r.events.find((e) => e.name === 'decision');
  assert.ok(decision.at > 2000, 'the decision came after the wasm');
  assert.equal(decision.detail.late, true, 'reported late');
  assert.equal(decision.detail.applied, false, 'not applied');
  assert.deepEqual(r.pageErrors, []);
  assert.deepEqual(r.applied, [], 'no slot swapped after the defaults were shown');
  for (const slot of r.slots) assert.equal(slot.html, defaults[slot.selector][0].html, `${slot.selector} keeps its default`);
  assert.ok(!r.classes.includes(`${CONFIG.htmlClasses?.prefix ?? 'ep-'}exp-new`), 'no decision classes either');
  // The visit itself is still recorded (the profile describes the visitor, not what
  // was shown), so with consent the cookie is written even though nothing was applied.
  assert.equal(Boolean(r.epCookie), decision.detail.storage.allowed);
  assert.deepEqual(r.storage ?? [], []);
});
