// Navigation start → decisions applied, in Chromium, for the ways a page can load
// edge-persona.
//
// The demo site (www/demo, pkg/npm under /ep) on a loopback server; the home page is
// rewritten on the fly (the server's `transform` hook) into each variant:
//
//   demo            the page as is: `<script type=module>` loader, modulepreload of the
//                   runtime, config fetched from data-config
//   render          the same with blocking="render" on the loader script
//   preload         the page as is plus `<link rel=preload as=fetch crossorigin>` for
//                   /config.json and /ep/edge_persona_bg.wasm (the wasm-bindgen glue
//                   fetches the wasm in CORS mode with same-origin credentials, so a
//                   crossorigin preload matches it)
//   inline          the config inline (`<script type=application/json
//                   id=edge-persona-config>`) instead of data-config
//   render-preload  blocking="render" and the two preloads
//   preload-glue    the preloads plus a modulepreload of the wasm-bindgen glue
//                   (edge_persona.js: the runtime imports it, and the modulepreload of
//                   the runtime does not fetch it)
//   async           preload-glue with an `async` loader (runs when it arrives, not
//                   after the document is parsed)
//   baseline        no edge-persona at all: no loader, no modulepreload, no anti-flicker
//                   style (FCP and DOMContentLoaded only)
//
// `changes` counts the edits to the page as is: among variants within noise of the
// fastest, the conclusion recommends the one with the fewest.
//
// Each load is a new browser context (cold HTTP cache, no cookies), then a second
// navigation in a new tab of that context (warm: HTTP cache, profile cookie and
// consent from the first, what a returning visitor sees). Consent is given up front
// (the demo's stored answer in localStorage), as a visitor who accepted once. Variants
// take turns within each round, so that machine noise spreads over all of them.
//
// Measured in the page, from navigation start (performance.now() = 0): the
// `edge-persona:decision` event (dispatched after the decision is applied; its
// `detail.late` says the runtime missed the 300 ms anti-flicker budget and left the
// defaults), first-contentful-paint, DOMContentLoaded. The server counts requests per
// load, and Resource Timing entries and console warnings show whether a preload was
// used (one request each) or fetched twice. Also recorded, to explain and to check:
// when each file arrived (Resource Timing), when the glue called
// `WebAssembly.instantiateStreaming` and when it resolved (wrapped by the bench),
// whether the stored consent reached the runtime before it decided, and whether the
// hero slot shows the decided experience.
//
// The conclusion is computed from the figures: a load counts against its variant when
// the defaults stayed (late, failed), the hero did not show the decision, or the
// decision was made without the stored consent; among the variants with the fewest
// such loads, the soonest personalized slots for a returning visitor win, and among
// those within noise (max(2 ms, 5 %)) of the fastest, the fewest changes to the page.
//
//   node benches/browser/navigation.mjs           Markdown table and conclusion on stdout
//   node benches/browser/navigation.mjs --json    machine-readable results (every load)
//   node benches/browser/navigation.mjs --write   also replace the navigation section of BENCHMARKS.md
//   options: --loads N (20) --warmup N (1 round, discarded) --variants a,b,… (all)
//            --rtt MS (0: added network latency per request, CDP emulation)
//            --max-age S (files but the page sent with Cache-Control: max-age=S instead
//            of the demo server's no-cache) --pkg DIR (pkg/npm) --timeout MS (15000 per load)
//   CHROMIUM=/path/to/chrome overrides /usr/bin/chromium.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CSP, startServer } from '../../scripts/serve.mjs';
import { isMain, launchChromium, option, ROOT, today, writeSection } from './lib.mjs';

const DEMO = join(ROOT, 'www', 'demo');
const CONFIG_URL = '/config.json';
const WASM_URL = '/ep/edge_persona_bg.wasm';
/** The files on edge-persona's critical path, in the order the page needs them. */
const TIMELINE = [
  ['/ep/loader.js', 'loader.js'],
  ['/ep/edge-persona.js', 'edge-persona.js'],
  ['/ep/edge_persona.js', 'edge_persona.js'],
  [CONFIG_URL, 'config.json'],
  [WASM_URL, 'edge_persona_bg.wasm'],
];
/** The runtime's anti-flicker budget (js/edge-persona.js DEFAULT_BUDGET_MS; the demo sets none). */
const BUDGET_MS = 300;

// ---------------------------------------------------------------------------------
// The variants: rewrites of www/demo/index.html. ADAPT HERE if the demo's head changes
// (each rewrite fails loudly when its anchor is gone).
// ---------------------------------------------------------------------------------

const LOADER = /<script type="module" src="\/ep\/loader\.js"[^>]*><\/script>/;
const MODULEPRELOAD = /<link rel="modulepreload" href="\/ep\/edge-persona\.js">/;
const HIDE = /(?:<!--[^\n]*anti-flicker[^\n]*-->\s*)?<style id="ep-hide">[\s\S]*?<\/style>\s*/;

function rewrite(html, pattern, replace, what) {
  if (!pattern.test(html)) throw new Error(`www/demo/index.html: ${what} not found; adapt the variants in benches/browser/navigation.mjs`);
  return html.replace(pattern, replace);
}

const renderBlocking = (html) => rewrite(html, LOADER, (tag) => tag.replace('<script ', '<script blocking="render" '), 'the loader script');
const preloads = (html) => rewrite(html, MODULEPRELOAD, (tag) =>
  `${tag}\n<link rel="preload" as="fetch" crossorigin href="${CONFIG_URL}">\n<link rel="preload" as="fetch" crossorigin href="${WASM_URL}">`, 'the modulepreload link');
const glueModulepreload = (html) => rewrite(html, MODULEPRELOAD, (tag) => `${tag}\n<link rel="modulepreload" href="/ep/edge_persona.js">`, 'the modulepreload link');
const asyncLoader = (html) => rewrite(html, LOADER, (tag) => tag.replace('<script ', '<script async '), 'the loader script');
const inlineConfig = (configJson) => (html) => rewrite(html, LOADER, (tag) => {
  const json = configJson.trim().replace(/</g, '\\u003c'); // no `</script>` inside
  return `<script type="application/json" id="edge-persona-config">${json}</script>\n${tag.replace(/ data-config="[^"]*"/, '')}`;
}, 'the loader script');
const withoutEdgePersona = (html) => {
  let out = rewrite(html, HIDE, '', 'the anti-flicker style');
  out = rewrite(out, MODULEPRELOAD, '', 'the modulepreload link');
  return rewrite(out, /\s*<script type="module" src="\/ep\/loader\.js"[^>]*><\/script>/, '', 'the loader script');
};

export function variants(configJson) {
  return [
    { id: 'demo', changes: 0, label: '(a) demo page as is', what: 'module loader, modulepreload of the runtime, config fetched', page: (h) => h },
    { id: 'render', changes: 1, label: '(b) `blocking="render"` on the loader', what: 'as (a), the loader script render-blocking', page: renderBlocking },
    { id: 'preload', changes: 1, label: '(c) + preload config and wasm', what: 'as (a) plus `<link rel="preload" as="fetch" crossorigin>` for the config and the wasm', page: preloads },
    { id: 'inline', changes: 1, label: '(d) inline config', what: 'as (a), the config in `<script type="application/json" id="edge-persona-config">`', page: inlineConfig(configJson) },
    { id: 'render-preload', changes: 2, label: '(b) + (c)', what: 'render-blocking loader and both preloads', page: (h) => preloads(renderBlocking(h)) },
    { id: 'preload-glue', changes: 2, label: '(f) (c) + modulepreload of the glue', what: 'as (c) plus `<link rel="modulepreload">` for `edge_persona.js`, which `edge-persona.js` imports', page: (h) => glueModulepreload(preloads(h)) },
    { id: 'async', changes: 3, label: '(g) (f) + `async` loader', what: 'as (f), the loader script `async`: it runs when it arrives, not after the document is parsed', page: (h) => asyncLoader(glueModulepreload(preloads(h))) },
    { id: 'baseline', label: '(e) baseline: no edge-persona', what: 'no loader, no modulepreload, no anti-flicker style', page: withoutEdgePersona, baseline: true },
  ];
}

// ---------------------------------------------------------------------------------
// One load
// ---------------------------------------------------------------------------------

/** Runs in every document before its own scripts: consent, and the decision's time. */
function instrument() {
  if (!/^https?:$/.test(location.protocol)) return;
  try { localStorage.setItem('demo-consent', 'personalization'); } catch { /* none */ }
  const nav = (window.__navBench = { decision: null, late: null, applied: null, hero: null, heroShown: null, readyState: null, consented: null, error: null, wasmStart: null, wasmEnd: null });
  // When the glue starts compiling the wasm and when it is instantiated (wrapped, not changed).
  const streaming = WebAssembly.instantiateStreaming;
  if (typeof streaming === 'function') {
    WebAssembly.instantiateStreaming = function instantiateStreaming(...args) {
      if (nav.wasmStart === null) nav.wasmStart = performance.now();
      const result = streaming.apply(this, args);
      result.then(() => { if (nav.wasmEnd === null) nav.wasmEnd = performance.now(); }, () => {});
      return result;
    };
  }
  document.addEventListener('edge-persona:decision', (event) => {
    if (nav.decision !== null) return;
    nav.decision = performance.now();
    const detail = event.detail || {};
    nav.late = !!detail.late;
    nav.applied = !!detail.applied;
    const hero = detail.decision && detail.decision.slots ? detail.decision.slots.find((s) => s.slot === 'hero') : null;
    nav.hero = hero ? hero.experience || null : null;
    // Whether the hero slot shows it: an async runtime can decide before the slot or
    // the templates at the end of <body> are parsed.
    const slot = document.querySelector('[data-ep-slot="hero"]');
    const shows = slot ? slot.getAttribute('data-ep-applied') : null;
    // A holdout visitor is meant to keep the default: nothing to show.
    nav.heroShown = !nav.hero || nav.late || hero.holdout ? null : !!shows && shows.split('/')[0] === nav.hero;
    nav.readyState = document.readyState;
    // False when the demo's stored consent did not reach the runtime before it decided.
    nav.consented = !!(detail.storage && detail.storage.allowed);
    nav.storageReason = detail.storage ? detail.storage.reason : null;
  });
  document.addEventListener('edge-persona:error', (event) => {
    if (nav.error === null) nav.error = String((event.detail && event.detail.message) || 'error');
  });
}

/** Runs in the page once it has decided (or, for the baseline, painted). */
function collect({ watch }) {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const resources = performance.getEntriesByType('resource')
    .map((e) => ({ path: new URL(e.name).pathname, initiatorType: e.initiatorType, startTime: e.startTime, responseEnd: e.responseEnd, transferSize: e.transferSize }))
    .filter((e) => watch.includes(e.path));
  return {
    ...window.__navBench,
    fcp: fcp ? fcp.startTime : null,
    dcl: nav ? nav.domContentLoadedEventStart : null,
    loadEvent: nav ? nav.loadEventStart : null,
    ready: document.documentElement.classList.contains('ep-ready'),
    resources,
  };
}

async function load(context, url, variant, { rtt, timeout, requests }) {
  const page = await context.newPage();
  if (rtt > 0) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: rtt, downloadThroughput: -1, uploadThroughput: -1 });
  }
  const warnings = [];
  const errors = [];
  page.on('console', (m) => {
    if (/preload/i.test(m.text())) warnings.push(m.text());
    else if (m.text().includes('[edge-persona]') && !/flicker budget/.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  requests.clear();
  await page.goto(url, { waitUntil: 'load', timeout });
  await page.waitForFunction((baseline) => {
    const nav = window.__navBench;
    if (!nav || performance.getEntriesByName('first-contentful-paint').length === 0) return false;
    return baseline || nav.decision !== null || nav.error !== null;
  }, !!variant.baseline, { timeout });
  const m = await page.evaluate(collect, { watch: TIMELINE.map(([path]) => path) });
  await page.close();
  return {
    ...m,
    requests: { config: requests.get(CONFIG_URL) ?? 0, wasm: requests.get(WASM_URL) ?? 0 },
    warnings,
    errors,
  };
}

// ---------------------------------------------------------------------------------
// Statistics and the report
// ---------------------------------------------------------------------------------

/** Median and p90 (nearest rank, as the other benches) of the non-null values. */
function quantiles(values) {
  const v = values.filter((x) => x != null).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const at = (q) => v[Math.min(v.length - 1, Math.floor(q * v.length))];
  return { median: at(0.5), p90: at(0.9), n: v.length };
}

const range = (values) => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? `${lo}` : `${lo}–${hi}`;
};

/** When a file of the critical path had arrived (its first Resource Timing entry), or null. */
const arrived = (sample, path) => sample.resources.find((r) => r.path === path)?.responseEnd ?? null;

export function summarize(samples) {
  const decided = samples.filter((s) => s.decision != null);
  return {
    n: samples.length,
    decision: quantiles(samples.map((s) => s.decision)),
    fcp: quantiles(samples.map((s) => s.fcp)),
    dcl: quantiles(samples.map((s) => s.dcl)),
    // The earliest the personalized slots can be on screen: the later of the
    // decision and the first paint (the anti-flicker style hides them until then);
    // never when the runtime was late and kept the defaults.
    visible: quantiles(decided.map((s) => (s.late ? Infinity : Math.max(s.decision, s.fcp)))),
    timeline: Object.fromEntries(TIMELINE.map(([path]) => [path, quantiles(samples.map((s) => arrived(s, path)))])),
    wasmStart: quantiles(samples.map((s) => s.wasmStart)),
    wasmEnd: quantiles(samples.map((s) => s.wasmEnd)),
    beforeFcp: decided.filter((s) => s.decision < s.fcp).length,
    late: samples.filter((s) => s.late).length,
    noConsent: samples.filter((s) => s.decision != null && s.consented === false).length,
    notShown: samples.filter((s) => s.heroShown === false).length,
    beforeParsed: samples.filter((s) => s.decision != null && s.readyState === 'loading').length,
    failed: samples.filter((s) => s.error != null || (s.decision == null && s.expectDecision)).length,
    requests: { config: range(samples.map((s) => s.requests.config)), wasm: range(samples.map((s) => s.requests.wasm)) },
    wasmEntries: range(samples.map((s) => s.resources.filter((r) => r.path === WASM_URL).length)),
    configEntries: range(samples.map((s) => s.resources.filter((r) => r.path === CONFIG_URL).length)),
    wasmInitiators: [...new Set(samples.flatMap((s) => s.resources.filter((r) => r.path === WASM_URL).map((r) => r.initiatorType)))],
    warnings: [...new Set(samples.flatMap((s) => s.warnings))],
    errors: [...new Set(samples.flatMap((s) => s.errors.concat(s.error ? [s.error] : [])))],
  };
}

const ms = (x) => (x == null ? '–' : x === Infinity ? 'never' : x < 10 ? x.toFixed(1) : Math.round(x).toString());
const cell = (q) => (q ? `${ms(q.median)} / ${ms(q.p90)}` : '–');

function table(rows) {
  const lines = [
    '| page | cache | decision event | FCP | DOMContentLoaded | slots personalized on screen ≥ | decided before FCP | late (defaults kept) | requests: config / wasm |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { variant, cold, warm } of rows) {
    for (const [name, s] of [['cold', cold], ['warm', warm]]) {
      const ep = !variant.baseline;
      lines.push([
        '', name === 'cold' ? variant.label : '', name,
        ep ? cell(s.decision) : '–', cell(s.fcp), cell(s.dcl), ep ? cell(s.visible) : '–',
        ep ? `${s.beforeFcp}/${s.n}` : '–', ep ? `${s.late}/${s.n}` : '–',
        ep ? `${s.requests.config} / ${s.requests.wasm}` : '–', '',
      ].join(' | ').trim());
    }
  }
  return lines.join('\n');
}

/** Where the time goes: when each file of the critical path had arrived, then the decision. */
function timelineTable(rows) {
  const lines = [
    `| page | cache | ${TIMELINE.map(([, name]) => `\`${name}\` received`).join(' | ')} | wasm instantiation called | wasm instantiated | decision event | DOMContentLoaded | FCP |`,
    `|---|---|${TIMELINE.map(() => '---:|').join('')}---:|---:|---:|---:|---:|`,
  ];
  for (const { variant, cold, warm } of rows.filter((r) => !r.variant.baseline)) {
    for (const [name, s] of [['cold', cold], ['warm', warm]]) {
      const files = TIMELINE.map(([path]) => (s.timeline[path] ? ms(s.timeline[path].median) : path === CONFIG_URL ? 'inline' : '–'));
      lines.push(['', name === 'cold' ? variant.label : '', name, ...files, ms(s.wasmStart?.median), ms(s.wasmEnd?.median), ms(s.decision?.median), ms(s.dcl?.median), ms(s.fcp?.median), ''].join(' | ').trim());
    }
  }
  return lines.join('\n');
}

/** Ascending, with Infinity ("never") last and equal to itself. */
const ascending = (a, b) => (a === b ? 0 : a < b ? -1 : 1);
const signed = (d) => `${d >= 0 ? '+' : '−'}${ms(Math.abs(d))} ms`;
/** A difference with its noise verdict: "−12 ms" or "+1.5 ms (noise)". */
const delta = (x, ref) => `${signed(x - ref)}${Math.abs(x - ref) <= Math.max(2, 0.05 * ref) ? ' (within noise)' : ''}`;

/**
 * The conclusion, computed from the figures. The recommended variant is, among the
 * edge-persona variants, the one with the fewest loads that kept the defaults (late
 * or failed, cold and warm together), then the soonest personalized slots for a
 * returning visitor (warm median of max(decision, FCP)), then the soonest decision.
 * A variant must beat the page as is by more than the noise allowance (max(2 ms,
 * 5 %)) to be worth the change; otherwise the page as is is kept.
 */
export function conclusion(rows, { rtt }) {
  const byId = Object.fromEntries(rows.map((r) => [r.variant.id, r]));
  const ep = rows.filter((r) => !r.variant.baseline && r.warm.decision && r.cold.decision);
  if (ep.length === 0) return 'No edge-persona variant reached a decision.';
  // Loads that kept the defaults (late or failed), or decided before the visitor's
  // stored consent reached the runtime (a decision without the profile).
  // Also loads whose hero slot did not show the decided experience.
  const defaults = (r) => ['late', 'failed', 'noConsent', 'notShown'].reduce((n, k) => n + r.cold[k] + r.warm[k], 0);
  const visible = (r) => r.warm.visible?.median ?? Infinity;
  const decided = (r) => r.warm.decision.median;
  const r0 = (r) => r.cold.decision.median;
  const rank = (a, b) => defaults(a) - defaults(b) || ascending(visible(a), visible(b)) || decided(a) - decided(b) || r0(a) - r0(b);
  const ranked = [...ep].sort(rank);
  const asIs = ep.find((r) => r.variant.id === 'demo') ?? null;
  const allowance = (x) => Math.max(2, 0.05 * x);
  // Two variants compared for a returning visitor: on when the personalized slots
  // are on screen when both get there, else on the decision.
  const pair = (a, b) => (Number.isFinite(visible(a)) && Number.isFinite(visible(b)) ? [visible(a), visible(b), 'personalized slots'] : [decided(a), decided(b), 'decision']);
  const versus = (a, b) => {
    const [x, ref, what] = pair(a, b);
    return `a returning visitor's ${what} by ${delta(x, ref)} and a first visit's decision by ${delta(r0(a), r0(b))}`;
  };
  // Among the variants as good as the fastest (same defaults, within the noise
  // allowance of its time), the one with the fewest changes to the page as is.
  const fastest = ranked[0];
  const best = ranked
    .filter((r) => defaults(r) === defaults(fastest) && (() => { const [x, ref] = pair(r, fastest); return x - ref <= allowance(ref); })())
    .sort((a, b) => a.variant.changes - b.variant.changes || rank(a, b))[0];
  const n = best.warm.n;
  const total = 2 * n;
  const s = [];
  const where = rtt > 0 ? `With ${rtt} ms of added latency per request` : 'On loopback (no network latency)';
  const what = (r) => `**${r.variant.label}** (${r.variant.what})`;

  if (defaults(best) === 0) {
    const gain = !asIs || asIs === best ? ''
      : Number.isFinite(visible(asIs)) ? `, ${ms(visible(asIs) - visible(best))} ms sooner than the page as is (${ms(visible(asIs))} ms)`
        : `, where the page as is left the defaults in ${defaults(asIs)} of ${2 * asIs.warm.n} loads`;
    const firstVisit = `${ms(best.cold.visible.median)} ms on a first visit`;
    const returning = `${ms(visible(best))} ms after navigation start for a returning visitor (median, p90 ${ms(best.warm.visible.p90)})`;
    if (best === fastest) {
      s.push(`Recommendation: ${what(best)}. ${where}, it puts the personalized slots on screen soonest without ever leaving the defaults painted: ${returning}${gain}, and ${firstVisit}.`);
    } else if (best === asIs) {
      s.push(`Recommendation: keep ${what(best)}. ${where}, no variant beats it by more than the noise allowance (max(2 ms, 5 %)): its personalized slots are on screen ${returning} and ${firstVisit}; the fastest, ${fastest.variant.label}, gets there at ${ms(visible(fastest))} ms.`);
    } else {
      s.push(`Recommendation: ${what(best)}. ${where}, it comes within the noise allowance (max(2 ms, 5 %)) of the fastest variant, ${fastest.variant.label} (${ms(visible(fastest))} ms), with fewer changes to the page, and never left the defaults painted: personalized slots on screen ${returning}${gain}, and ${firstVisit}.`);
    }
  } else {
    s.push(`${where}, no variant decided within the ${BUDGET_MS} ms anti-flicker budget in every load, so each left the defaults painted some of the time and no recommendation follows from this run. ` +
      `The least bad is ${what(best)}: ${defaults(best)} of ${total} loads late, failed, not shown or decided without the stored consent; decision at ${ms(decided(best))} ms for a returning visitor (median, p90 ${ms(best.warm.decision.p90)}) and ${ms(r0(best))} ms on a first visit` +
      '.');
  }

  const base = byId.baseline;
  if (base && base.warm.fcp && best.warm.fcp) {
    s.push(`Its first contentful paint comes at ${ms(best.warm.fcp.median)} ms (warm) against ${ms(base.warm.fcp.median)} ms for the page without edge-persona (${signed(best.warm.fcp.median - base.warm.fcp.median)}).`);
  }
  const bf = best.warm.beforeFcp;
  if (bf === n) s.push('Every warm load applied the decision before the first paint, so that paint already shows the personalized slots.');
  else if (bf === 0 && defaults(best) === 0) s.push(`No warm load applied the decision before the first paint: the first paint shows the slots hidden by the anti-flicker style, and they fill in ${ms(visible(best) - best.warm.fcp.median)} ms later (median of the first paint, ${ms(best.warm.fcp.median)} ms, against that of the slots).`);
  else if (bf > 0) s.push(`${bf} of ${n} warm loads applied the decision before the first paint; in the others the first paint shows the slots hidden (or, when late, the defaults).`);

  const render = byId.render;
  const plain = byId.demo;
  if (render && plain && render.warm.fcp && plain.warm.fcp) {
    const loaderAt = render.warm.timeline['/ep/loader.js']?.median;
    const fcp = render.warm.fcp.median;
    const held = loaderAt != null && render.warm.decision && fcp >= loaderAt && fcp < render.warm.decision.median
      ? ` With it, the first paint (${ms(fcp)} ms) came after the loader had arrived (${ms(loaderAt)} ms) but before the decision (${ms(render.warm.decision.median)} ms): a module script holds rendering until it has run, not until the runtime it imports has decided.`
      : '';
    s.push(`\`blocking="render"\` on the module loader moved the first paint by ${signed(fcp - plain.warm.fcp.median)} and had the decision before it in ${render.warm.beforeFcp} of ${render.warm.n} warm loads, against ${plain.warm.beforeFcp} of ${plain.warm.n} without it.${held}`);
  }
  const pre = byId.preload;
  if (pre) {
    const once = (x) => ['0', '1'].includes(x.requests.wasm) && ['0', '1'].includes(x.requests.config);
    const fromLink = pre.cold.wasmInitiators.length === 1 && pre.cold.wasmInitiators[0] === 'link';
    s.push(once(pre.cold) && once(pre.warm)
      ? `The preloads were used: the server saw at most one request each for the config and the wasm per load, cold and warm${fromLink ? ', and Resource Timing has a single wasm entry, initiated by the `<link>`' : ''}.`
      : `The preloads were not always used: per load the server saw the config ${pre.cold.requests.config} (cold) / ${pre.warm.requests.config} (warm) times and the wasm ${pre.cold.requests.wasm} / ${pre.warm.requests.wasm} times.`);
    if (plain) s.push(`Against the page as is, preloading moved ${versus(pre, plain)}.`);
  }
  const glue = byId['preload-glue'];
  if (glue && pre) {
    s.push(`A modulepreload of the glue on top of the preloads moved ${versus(glue, pre)}.`);
  }
  const asyncRow = byId.async;
  if (asyncRow && glue) {
    s.push(`Making the loader \`async\` on top of that moved ${versus(asyncRow, glue)}.`);
  }
  const inline = byId.inline;
  if (inline && plain) {
    s.push(`Inlining the config instead of fetching it moved ${versus(inline, plain)}.`);
  }
  const notShown = ep.filter((r) => r.cold.notShown + r.warm.notShown > 0);
  if (notShown.length) {
    s.push(`Decided in time but the hero slot did not show it (the runtime ran before the slot or its template was parsed; counted against the variant): ${notShown.map((r) => `${r.variant.label} ${r.cold.notShown}/${r.cold.n} cold, ${r.warm.notShown}/${r.warm.n} warm`).join('; ')}.`);
  }
  const noConsent = ep.filter((r) => r.cold.noConsent + r.warm.noConsent > 0);
  if (noConsent.length) {
    s.push(`Decided before the page's stored consent reached the runtime (no profile used; counted against the variant): ${noConsent.map((r) => `${r.variant.label} ${r.cold.noConsent}/${r.cold.n} cold, ${r.warm.noConsent}/${r.warm.n} warm`).join('; ')}.`);
  }
  const lateAnywhere = ep.filter((r) => r.cold.late + r.warm.late > 0);
  if (lateAnywhere.length) {
    s.push(`Loads past the budget (defaults kept): ${lateAnywhere.map((r) => `${r.variant.label} ${r.cold.late}/${r.cold.n} cold, ${r.warm.late}/${r.warm.n} warm`).join('; ')}.`);
  }
  return s.join(' ');
}

function notes(opts, chromiumVersion) {
  return `Headless Chromium ${chromiumVersion} (playwright-core, \`/usr/bin/chromium\`), ${opts.rtt > 0 ? `${opts.rtt} ms latency added per request (CDP network emulation)` : 'loopback server, no network emulation'}; ` +
    `${opts.loads} loads per variant after ${opts.warmup} discarded round${opts.warmup === 1 ? '' : 's'}, variants in turn. Times are ms from navigation start, median / p90. ` +
    '*cold*: a new browser context (empty HTTP cache, no cookie); *warm*: a second navigation in a new tab of the same context (HTTP cache, profile cookie: a returning visitor). ' +
    'Consent is given up front (the demo\'s stored answer, replayed by its own script through the command queue). *decision event*: `edge-persona:decision`, dispatched once the runtime has decided and, unless late, changed the slots; ' +
    '*slots personalized on screen ≥*: the later of that and FCP, a lower bound (the anti-flicker style hides the slots until the decision); ' +
    `*late*: the runtime decided after its ${BUDGET_MS} ms budget and kept the defaults. *requests*: seen by the server per load (1 = a preload was used; 2 = fetched twice; ` +
    (opts.maxAge === null ? 'the server answers `no-cache` + ETag, as the demo server does, so warm loads revalidate every file).' : `files other than the page are served with \`Cache-Control: max-age=${opts.maxAge}\`, so warm loads may not ask at all).`);
}

// ---------------------------------------------------------------------------------

async function main() {
  const args = process.argv.slice(2);
  const opts = {
    loads: Number(option(args, '--loads', 20)),
    warmup: Number(option(args, '--warmup', 1)),
    rtt: Number(option(args, '--rtt', 0)),
    timeout: Number(option(args, '--timeout', 15000)),
    maxAge: option(args, '--max-age', null) === null ? null : Number(option(args, '--max-age', 0)),
  };
  const pkgDir = option(args, '--pkg', join(ROOT, 'pkg', 'npm'));
  for (const f of ['loader.js', 'edge-persona.js', 'edge_persona.js', 'edge_persona_bg.wasm']) {
    if (!existsSync(join(pkgDir, f))) throw new Error(`${pkgDir}/${f} is missing: run scripts/build web npm`);
  }
  const html = readFileSync(join(DEMO, 'index.html'), 'utf8');
  const configJson = readFileSync(join(DEMO, 'config.json'), 'utf8');
  const only = option(args, '--variants', null)?.split(',');
  const list = variants(configJson).filter((v) => !only || only.includes(v.id));
  if (list.length === 0) throw new Error(`--variants: none of ${only} (known: ${variants(configJson).map((v) => v.id).join(', ')})`);
  const pages = new Map(list.map((v) => [v.id, v.page(html)]));

  let current = list[0];
  const requests = new Map();
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    root: DEMO,
    mounts: [{ prefix: '/ep', dir: pkgDir }],
    // As the demo server by default (`no-cache` + ETag: every warm request revalidates);
    // --max-age lets a returning visitor's cache answer without asking.
    headers: opts.maxAge === null ? undefined : { 'Cache-Control': `max-age=${opts.maxAge}` },
    transform(urlPath, res) {
      requests.set(urlPath, (requests.get(urlPath) ?? 0) + 1);
      if (urlPath !== '/' && urlPath !== '/index.html') return false;
      const body = Buffer.from(pages.get(current.id));
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-cache', 'Content-Security-Policy': DEFAULT_CSP, 'X-Content-Type-Options': 'nosniff' });
      res.end(body);
      return true;
    },
  });
  const browser = await launchChromium();
  const samples = new Map(list.map((v) => [v.id, { cold: [], warm: [] }]));
  let chromiumVersion;
  try {
    chromiumVersion = browser.version();
    for (let round = 0; round < opts.warmup + opts.loads; round++) {
      for (const variant of list) {
        current = variant;
        const context = await browser.newContext();
        await context.addInitScript(instrument);
        try {
          const cold = await load(context, server.url, variant, { ...opts, requests });
          const warm = await load(context, server.url, variant, { ...opts, requests });
          if (round >= opts.warmup) {
            const into = samples.get(variant.id);
            into.cold.push({ ...cold, expectDecision: !variant.baseline });
            into.warm.push({ ...warm, expectDecision: !variant.baseline });
          }
        } finally {
          await context.close();
        }
      }
      if (!args.includes('--json')) process.stderr.write(`round ${round + 1}/${opts.warmup + opts.loads}${round < opts.warmup ? ' (warm-up)' : ''}\n`);
    }
  } finally {
    await browser.close();
    await server.close();
  }

  const rows = list.map((variant) => ({ variant, cold: summarize(samples.get(variant.id).cold), warm: summarize(samples.get(variant.id).warm) }));
  const text = [table(rows), '', notes(opts, chromiumVersion), '', 'Where the time goes (medians, ms from navigation start: when each file had arrived, from Resource Timing; when the glue called `WebAssembly.instantiateStreaming` and when it resolved):', '', timelineTable(rows), '', conclusion(rows, opts)].join('\n');
  const problems = rows.flatMap((r) => [...r.cold.errors, ...r.warm.errors].map((e) => `${r.variant.id}: ${e}`));
  const warnings = rows.flatMap((r) => [...r.cold.warnings, ...r.warm.warnings].map((w) => `${r.variant.id}: ${w}`));
  if (args.includes('--json')) {
    console.log(JSON.stringify({
      date: today(), chromium: chromiumVersion, ...opts,
      variants: rows.map(({ variant, cold, warm }) => ({ id: variant.id, label: variant.label, what: variant.what, cold, warm })),
      samples: Object.fromEntries(samples),
      conclusion: conclusion(rows, opts),
    }, null, 2));
  } else {
    console.log(text);
    console.log('\nChecks (not written):');
    for (const r of rows.filter((r) => !r.variant.baseline)) {
      const heroes = (list) => [...new Set(list.map((x) => x.hero))].join('/');
      const { cold, warm } = samples.get(r.variant.id);
      console.log(`${r.variant.id}: hero ${heroes(cold)} (cold) ${heroes(warm)} (warm); decided without consent ${r.cold.noConsent}/${r.warm.noConsent}; ` +
        `Resource Timing entries per load config ${r.cold.configEntries}/${r.warm.configEntries}, wasm ${r.cold.wasmEntries}/${r.warm.wasmEntries} (cold/warm), wasm initiator ${r.cold.wasmInitiators.join(',')}`);
    }
  }
  for (const p of problems) console.error(`page error: ${p}`);
  for (const w of warnings) console.error(`console: ${w}`);
  if (args.includes('--write')) {
    const command = `node benches/browser/navigation.mjs --write${opts.rtt > 0 ? ` --rtt ${opts.rtt}` : ''}${opts.maxAge === null ? '' : ` --max-age ${opts.maxAge}`}${opts.loads === 20 ? '' : ` --loads ${opts.loads}`}`;
    const body = `${today()}, Chromium ${chromiumVersion}, \`${command}\`\n\n${text}`;
    writeSection('navigation', 'Navigation start → decisions applied (Chromium)', body);
    console.error('BENCHMARKS.md: navigation section written');
  }
}

if (isMain(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
