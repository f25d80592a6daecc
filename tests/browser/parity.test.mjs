// Parity: every journey of tests/journeys/*.json replayed in Chromium through the
// built wasm (pkg/npm/edge_persona.js, the same module the script tag loads) decides
// what the journey file expects — the same check `cargo test --test journeys` makes
// natively (src/core/journey.rs). When the native CLI is built and not older than the
// sources (target/release/edge-persona), every step's full summary and profile cookie
// are also compared with the native replay's, byte for byte.
//
// How a journey step maps onto the wasm API (src/core/journey.rs, run_journey):
// - clock: `start`, then each step's `after`, is the facts' `nowMs` (and the time of
//   the step's interactions);
// - facts: the journey's `defaults` overlaid with the step's `facts`; the site cookies
//   in `facts.cookies` travel the way they do in a browser, percent-encoded in the
//   cookie header next to the profile cookie (the wasm reads `cookies` from there);
// - consent: the step's, else the journey's (`unanswered` is no answer);
// - entropy: the journey's `entropy`, split into the two u32 halves pageView takes;
// - the profile cookie is chained through each `setCookie` (set or delete), as the
//   native replay chains its jar; `interactions` are `runtime.interaction(rule, kind, now)`;
//   events are `facts.events`, as natively;
// - the summary is `summarize()` of src/core/journey.rs rebuilt from what the wasm
//   returns: pageView's decision/storage/cookieStatus/setCookie, `held` from
//   `explain()` (page views return no reasons), `visits` from `export()`.
// Not expressible through the wasm API: signing keys (`keys`: the browser never holds
// them; the journey format has none either), and site cookies other than those the
// config's `readCookies` names (the wasm reads only those; natively `facts.cookies`
// may hold any — no journey depends on another).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO, startDemo, launch, sendBody, DEFAULT_CSP } from './harness.mjs';

const JOURNEY_DIR = path.join(REPO, 'tests', 'journeys');
const FILES = readdirSync(JOURNEY_DIR).filter((f) => f.endsWith('.json')).sort();
const NATIVE = path.join(REPO, 'target', 'release', 'edge-persona');

let server;
let browser;
let page;

before(async () => {
  server = await startDemo();
  server.configure({
    transform(urlPath, res) {
      if (urlPath !== '/__parity.html') return false;
      sendBody(res, 200, '<!doctype html><html lang="en"><meta charset="utf-8"><title>parity</title><body></body></html>',
        { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': DEFAULT_CSP });
      return true;
    },
  });
  browser = await launch();
  page = await browser.newPage();
  await page.goto(server.href('/__parity.html'));
  await page.evaluate(async () => {
    const wasm = await import('/ep/edge_persona.js');
    await wasm.default();
    window.__wasm = wasm;
  });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** Replays a journey file in the page; returns, per journey, per step: summary, explained summary, cookies. */
function replayInBrowser(file, configJson) {
  return page.evaluate(({ file, configJson }) => {
    const { Runtime } = window.__wasm;
    // A leading `-`: this page view's clock is behind the last one's.
    const parseDuration = (text) => {
      const sign = text.trim().startsWith('-') ? -1 : 1;
      const unsigned = text.trim().replace(/^-/, '');
      let total = 0;
      for (const [, n, unit] of unsigned.matchAll(/(\d+)([smhd])/g)) {
        total += Number(n) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[unit];
      }
      if (!/^(\d+[smhd])+$/.test(unsigned)) throw new Error(`bad duration ${text}`);
      return sign * total;
    };
    const summarize = (out, explained, profile) => {
      const d = out.decision;
      const setCookie = out.setCookie;
      return {
        experience: d.visitor.experience,
        stage: d.visitor.stage,
        priceBand: d.visitor.priceBand ?? null,
        interests: d.visitor.interests,
        segments: d.visitor.segments,
        slots: Object.fromEntries(d.slots.map((s) => [s.slot,
          !s.experience || s.holdout ? null : (s.variant ? `${s.experience}/${s.variant}` : s.experience)])),
        holdouts: d.slots.filter((s) => s.holdout && s.experience).map((s) => s.experience),
        greetings: Object.fromEntries(d.greetings.map((g) => [g.slot, g.text])),
        popups: d.popups.map((p) => p.popup),
        attributes: d.attributes.map((a) => ({ selector: a.selector, attribute: a.attribute, value: a.value })),
        classes: d.htmlClasses,
        held: Object.fromEntries(explained.decision.reasons
          .filter((r) => !['applied', 'matched', 'not_matched'].includes(r.outcome))
          .map((r) => [r.rule, r.outcome])),
        stored: out.storage.allowed,
        cookie: setCookie == null ? 'unchanged'
          : /^[^=]+=;/.test(setCookie) && /Max-Age=0(;|$)/.test(setCookie) ? 'delete'
            : /^[^=]+=0;/.test(setCookie) ? 'refuse' : 'set',
        cookieStatus: out.cookieStatus.status === 'rejected' ? `rejected:${out.cookieStatus.reason}` : out.cookieStatus.status,
        visits: profile.visits,
      };
    };
    const withoutReasons = (decision) => ({ ...decision, reasons: [] });
    return file.journeys.map((journey) => {
      const cookieName = new Runtime(configJson).cookieNames()[0];
      let now = Date.parse(journey.start);
      if (!Number.isFinite(now)) throw new Error(`${journey.name}: bad start ${journey.start}`);
      let jar = null;
      const write = (assignment) => {
        if (assignment == null) return;
        const value = assignment.slice(assignment.indexOf('=') + 1, assignment.indexOf(';'));
        jar = /Max-Age=0(;|$)/.test(assignment) && value === '' ? null : value;
      };
      const entropy = journey.entropy ?? 0;
      const high = Math.floor(entropy / 2 ** 32);
      const low = entropy % 2 ** 32;
      const steps = journey.steps.map((step) => {
        if (step.after) now += parseDuration(step.after);
        const facts = { ...(journey.defaults || {}), ...(step.facts || {}), nowMs: now };
        const siteCookies = facts.cookies || {};
        delete facts.cookies;
        const header = [
          ...(jar != null ? [`${cookieName}=${jar}`] : []),
          ...Object.entries(siteCookies).map(([name, value]) => `${name}=${encodeURIComponent(value)}`),
        ].join('; ');
        const consentSignal = step.consent ?? journey.consent ?? 'unanswered';
        const consent = consentSignal === 'unanswered' ? undefined : consentSignal;
        // Each step is a page load: a fresh runtime, as the script tag makes one per page.
        const runtime = new Runtime(configJson);
        const out = JSON.parse(runtime.pageView(JSON.stringify(facts), header, consent, high, low));
        write(out.setCookie);
        const pageViewCookie = out.setCookie;
        for (const interaction of step.interactions || []) {
          write(runtime.interaction(interaction.rule, interaction.kind, now));
        }
        const explained = JSON.parse(runtime.explain());
        const profile = JSON.parse(runtime.export('', now));
        return {
          summary: summarize(out, explained, profile),
          explainedAgrees: JSON.stringify(withoutReasons(explained.decision)) === JSON.stringify(withoutReasons(out.decision)),
          reasonsInPageView: out.decision.reasons.length,
          pageViewCookie,
        };
      });
      return { name: journey.name, steps };
    });
  }, { file, configJson });
}

function configOf(file, journeyPath) {
  return typeof file.config === 'string'
    ? readFileSync(path.resolve(path.dirname(journeyPath), file.config), 'utf8')
    : JSON.stringify(file.config);
}

/** The native replay (the CLI's --json), or a reason it cannot be used. */
function nativeReplay(journeyPath, configJson) {
  if (!existsSync(NATIVE)) return { why: `${path.relative(REPO, NATIVE)} is not built (cargo build --release --features cli --bin edge-persona)` };
  const newest = (dir) => readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.rs'))
    .reduce((max, e) => Math.max(max, statSync(path.join(e.parentPath ?? e.path, e.name)).mtimeMs), 0);
  if (!process.env.EP_PARITY_STALE_NATIVE_OK && statSync(NATIVE).mtimeMs < newest(path.join(REPO, 'src', 'core'))) {
    return { why: `${path.relative(REPO, NATIVE)} is older than src/core: rebuild it to compare with the native replay (or set EP_PARITY_STALE_NATIVE_OK=1)` };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'ep-parity-'));
  try {
    const configPath = path.join(dir, 'config.json');
    writeFileSync(configPath, configJson);
    const run = spawnSync(NATIVE, ['simulate', configPath, journeyPath, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (!run.stdout) return { why: `the native CLI failed: ${run.stderr}` };
    return { journeys: JSON.parse(run.stdout) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const name of FILES) {
  test(`journeys/${name}: the wasm in Chromium decides what the journey expects`, async (t) => {
    const journeyPath = path.join(JOURNEY_DIR, name);
    const file = JSON.parse(readFileSync(journeyPath, 'utf8'));
    assert.equal(file.specVersion, 1, 'this replay reads journey spec version 1');
    const configJson = configOf(file, journeyPath);
    const replay = await replayInBrowser(file, configJson);
    let steps = 0;
    for (const [j, journey] of file.journeys.entries()) {
      await t.test(journey.name, () => {
        const failures = [];
        journey.steps.forEach((step, i) => {
          const outcome = replay[j].steps[i];
          const at = `step ${i + 1}${step.after ? ` (+${step.after})` : ''}`;
          steps++;
          for (const [key, expected] of Object.entries(step.expect || {})) {
            if (!(key in outcome.summary)) failures.push(`${at}: \`${key}\` is not something the wasm page view reports`);
            else {
              try { assert.deepStrictEqual(outcome.summary[key], expected); } catch {
                failures.push(`${at}: \`${key}\`: expected ${JSON.stringify(expected)}, got ${JSON.stringify(outcome.summary[key])}`);
              }
            }
          }
          if (!outcome.explainedAgrees) failures.push(`${at}: explain() decides differently from pageView()`);
          if (outcome.reasonsInPageView !== 0) failures.push(`${at}: pageView() returned ${outcome.reasonsInPageView} reasons (documented as empty)`);
        });
        assert.deepEqual(failures, [], `${journey.name}:\n${failures.join('\n')}`);
      });
    }
    assert.ok(steps > 0, 'the file has steps');

    await t.test('every step equals the native replay (summary and profile cookie)', (sub) => {
      const native = nativeReplay(journeyPath, configJson);
      // scripts/test builds the release CLI first; a missing or stale one is a
      // failure, not a skip, so this comparison can never silently not run.
      assert.equal(native.why, undefined, native.why);
      const failures = [];
      native.journeys.forEach((journey, j) => {
        journey.steps.forEach((step, i) => {
          const mine = replay[j].steps[i];
          const at = `${journey.journey} — step ${i + 1}`;
          if (step.error) { failures.push(`${at}: native error ${step.error}`); return; }
          try { assert.deepStrictEqual(mine.summary, step.summary); } catch (error) {
            failures.push(`${at}: summaries differ:\n${error.message}`);
          }
          const nativeCookie = step.pageView.cookie;
          const wasmValue = mine.pageViewCookie == null ? null : mine.pageViewCookie.slice(mine.pageViewCookie.indexOf('=') + 1, mine.pageViewCookie.indexOf(';'));
          const nativeValue = { set: nativeCookie.value, delete: '', refuse: '0' }[nativeCookie.action] ?? null;
          if (wasmValue !== nativeValue) failures.push(`${at}: profile cookie ${JSON.stringify(wasmValue)} in the browser, ${JSON.stringify(nativeValue)} natively`);
        });
      });
      assert.equal(native.journeys.length, replay.length);
      assert.deepEqual(failures, [], failures.join('\n'));
    });
  });
}
