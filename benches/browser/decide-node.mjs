// One page-view decision in Node: GrowthBook's page-load path against edge-persona's
// JS API, same rules, same run.
//
// The rules are benches/bench-config.json (the config of `cargo bench --bench
// page_view`), translated into GrowthBook features (see `toGrowthBook` below), and the
// visitor is the bench's: a fourth visit, from a paid Yandex campaign on an iPhone,
// with a `name` cookie. GrowthBook is handed the attributes our engine would compute
// for that page view, built once as a GrowthBook user would pass them: its time is
// condition evaluation and bucketing only (no URL, referrer or user-agent parsing,
// no cookie). edge-persona's time is the whole page view from raw request facts:
// decode the cookie, derive the context, classify, decide, encode the cookie.
//
//   node benches/browser/decide-node.mjs           Markdown table on stdout
//   node benches/browser/decide-node.mjs --json    machine-readable results
//   node benches/browser/decide-node.mjs --write   also replace the decide-node section of BENCHMARKS.md
//   options: --batches N (30) --batch N (1000 iterations) --warmup N (10 batches) --pkg DIR (pkg/npm)

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as installed from '@growthbook/growthbook';
import { HERE, installedVersion, isMain, num, ROOT, today, writeSection } from './lib.mjs';
import { ESBUILD_OPTIONS } from './sizes.mjs';

const CONFIG_PATH = join(ROOT, 'benches', 'bench-config.json');

// ---------------------------------------------------------------------------------
// The visitor of benches/page_view.rs
// ---------------------------------------------------------------------------------

const START_MS = 1_795_791_600_000;
const DAY_MS = 86_400_000;

/** The request facts of benches/page_view.rs at `nowMs`. */
export function benchFacts(nowMs) {
  return {
    url: 'https://demo.example.ru/r/sixty?utm_source=yandex&utm_medium=cpc&utm_campaign=autumn&yclid=1',
    referrer: 'https://yandex.ru/',
    userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
    language: 'ru-RU,ru;q=0.9,en;q=0.8',
    nowMs,
    utcOffsetMinutes: 180,
    page: { price: 6500, category: 'modern', itemId: 'sixty' },
    cookies: { name: 'Анна' },
  };
}

/**
 * What our engine computes from those facts on the fourth visit (checked with
 * `edge-persona simulate`): exactly the fields the config's conditions and templates
 * read, plus the id GrowthBook hashes on (our engine hashes a visitor key kept in
 * its cookie).
 */
export const GROWTHBOOK_ATTRIBUTES = {
  id: 'v-7f3a9c',
  utm: { source: 'yandex' },
  referrer: { class: 'paid' },
  device: 'mobile',
  visitor: { visits: 4, abandonedCart: false },
  price: { band: 'premium' },
  cookies: { name: 'Анна' },
};

/** What our engine decides for that page view (`edge-persona simulate`, step 4). */
export const EXPECTED = {
  segments: ['yandex', 'paid', 'mobile', 'loyal', 'premium'],
  hero: { template: 'a' },
  offers: 'x or y (the experiment runs)',
  greeting: 'Здравствуйте, Анна!',
  popups: [],
};

// ---------------------------------------------------------------------------------
// bench-config.json → GrowthBook features
// ---------------------------------------------------------------------------------

/** AND of conditions: one object when their keys do not collide, else `$and`. */
function and(...conds) {
  const parts = conds.filter((c) => c && Object.keys(c).length);
  if (parts.length === 0) return undefined;
  const keys = parts.flatMap(Object.keys);
  if (new Set(keys).size === keys.length) return Object.assign({}, ...parts);
  return { $and: parts };
}

const PLACEHOLDER = /\{([\w.]+)\}/g;

/**
 * Our config as GrowthBook features, the way a GrowthBook user would write it:
 * - each segment → boolean feature `seg-<name>` (our engine classifies every segment,
 *   for `visitor.segments` and the `seg-*` classes);
 * - each slot → feature `slot-<slot>`, its experiences as rules in priority order
 *   (first match wins, as in our engine); a required segment's condition is inlined
 *   (as GrowthBook does with condition saved groups); plain content → `force`;
 *   `holdout` → `coverage` on the visitor id; `variants` → an experiment rule;
 * - each greeting slot → feature `greeting-<slot>`: the template text, rendered by
 *   the page; a template placeholder becomes an `$exists` condition, because our
 *   engine skips a greeting whose placeholder has no value;
 * - each popup → boolean feature `popup-<id>` (caps and the attention budget have no
 *   GrowthBook equivalent and are left out: they do not bind on this page view).
 */
export function toGrowthBook(config) {
  const segmentWhen = new Map(config.segments.map((s) => [s.name, s.when]));
  const conditionOf = (rule) => and(...(rule.segments ?? []).map((s) => segmentWhen.get(s)), rule.when);
  const byPriority = (a, b) => (b.priority ?? 0) - (a.priority ?? 0); // stable: ties keep config order
  const features = {};

  for (const s of config.segments) {
    features[`seg-${s.name}`] = { defaultValue: false, rules: [{ condition: s.when, force: true }] };
  }
  for (const slot of Object.keys(config.slots)) {
    const rules = config.experiences
      .filter((e) => e.slot === slot)
      .sort(byPriority)
      .map((e) => {
        const condition = conditionOf(e);
        if (e.variants?.length) {
          return {
            key: e.id,
            seed: e.seed ?? e.id,
            hashAttribute: 'id',
            hashVersion: 2,
            condition,
            coverage: 1 - (e.holdout ?? 0),
            variations: e.variants.map((v) => v.content ?? null),
            weights: e.variants.map((v) => v.weight),
            meta: e.variants.map((v) => ({ key: v.id })),
          };
        }
        const rule = { id: e.id, condition, force: e.content ?? null };
        if (e.holdout) Object.assign(rule, { coverage: 1 - e.holdout, hashAttribute: 'id', seed: e.seed ?? e.id, hashVersion: 2 });
        return rule;
      });
    if (rules.length) features[`slot-${slot}`] = { defaultValue: null, rules };
  }
  for (const slot of new Set((config.greetings ?? []).map((g) => g.slot))) {
    const rules = config.greetings
      .filter((g) => g.slot === slot)
      .sort(byPriority)
      .map((g) => {
        const needs = Object.fromEntries([...g.template.matchAll(PLACEHOLDER)].map(([, path]) => [path, { $exists: true }]));
        return { id: g.id, condition: and(conditionOf(g), needs), force: g.template };
      });
    features[`greeting-${slot}`] = { defaultValue: null, rules };
  }
  for (const p of config.popups ?? []) {
    features[`popup-${p.id}`] = { defaultValue: false, rules: [{ condition: conditionOf(p), force: true }] };
  }
  return features;
}

/** Reads a dotted path of the attributes object. */
function lookup(attributes, path) {
  let v = attributes;
  for (const k of path.split('.')) v = v?.[k];
  return v;
}

/**
 * The page's decision from any GrowthBook-like evaluator (`value(key, fallback)`):
 * every feature evaluated once, greeting templates rendered.
 */
function decideWith(value, keys, attributes) {
  const out = { segments: [], slots: {}, greetings: {}, popups: [] };
  for (const key of keys.segments) if (value(key, false)) out.segments.push(key.slice(4));
  for (const key of keys.slots) out.slots[key.slice(5)] = value(key, null);
  for (const key of keys.greetings) {
    const template = value(key, null);
    out.greetings[key.slice(9)] = template && template.replace(PLACEHOLDER, (_, p) => String(lookup(attributes, p)));
  }
  for (const key of keys.popups) if (value(key, false)) out.popups.push(key.slice(6));
  return out;
}

function featureKeys(features) {
  const all = Object.keys(features);
  return {
    segments: all.filter((k) => k.startsWith('seg-')),
    slots: all.filter((k) => k.startsWith('slot-')),
    greetings: all.filter((k) => k.startsWith('greeting-')),
    popups: all.filter((k) => k.startsWith('popup-')),
  };
}

/** Fails loudly if the translated rules do not decide what our engine decides. */
function checkGrowthBook(d, { slotsOnly = false } = {}) {
  const problems = [];
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  if (!slotsOnly && !same(d.segments, EXPECTED.segments)) problems.push(`segments ${JSON.stringify(d.segments)}`);
  if (!same(d.slots.hero, EXPECTED.hero)) problems.push(`hero ${JSON.stringify(d.slots.hero)}`);
  if (!['x', 'y'].includes(d.slots.offers?.template)) problems.push(`offers ${JSON.stringify(d.slots.offers)}`);
  if (d.greetings.greeting !== EXPECTED.greeting) problems.push(`greeting ${JSON.stringify(d.greetings.greeting)}`);
  if (!slotsOnly && !same(d.popups, EXPECTED.popups)) problems.push(`popups ${JSON.stringify(d.popups)}`);
  if (problems.length) throw new Error(`GrowthBook decides differently from edge-persona: ${problems.join('; ')}`);
}

/**
 * GrowthBook as a landing page runs it: bundled by esbuild exactly as sizes.mjs
 * bundles it, so `process.env.NODE_ENV !== "production"` debug-log checks are compiled
 * out. (The package as installed in Node reads `process.env` on every one of them.)
 */
async function growthbookBrowserBuild() {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    ...ESBUILD_OPTIONS,
    absWorkingDir: HERE,
    stdin: { contents: "export { GrowthBook } from '@growthbook/growthbook';", resolveDir: HERE, loader: 'js' },
  });
  const code = Buffer.from(out.outputFiles[0].contents).toString('base64');
  return import(`data:text/javascript;base64,${code}`);
}

// ---------------------------------------------------------------------------------
// edge-persona — ADAPT HERE if the headless API (js/edge-persona.d.ts) changes.
// Everything edge-persona-specific is in this one function. It returns `{ skip }` when
// pkg/npm is not built, else `{ label, run, check }`: `run()` is one page view, timed
// as is; `check(output)` throws unless the output is the expected decision.
// Written against `Runtime` in src/browser/mod.rs: `new Runtime(configJson)`,
// `cookieNames()` (the profile cookie first), and
// `pageView(factsJson, cookieHeader, consent, entropyHigh, entropyLow)` → JSON text
// `{decision, storage, cookieStatus, setCookie}`.
// ---------------------------------------------------------------------------------

async function edgePersonaCase(dir, configJson) {
  const glue = join(dir, 'edge_persona.js');
  const wasm = join(dir, 'edge_persona_bg.wasm');
  if (!existsSync(glue) || !existsSync(wasm)) return { skip: 'edge-persona: not built (run scripts/build web npm)' };

  // The wasm-bindgen `web` glue: synchronous instantiation from the bytes, no fetch.
  const ep = await import(pathToFileURL(glue).href);
  ep.initSync({ module: readFileSync(wasm) });
  const runtime = new ep.Runtime(configJson);
  const [profileName] = runtime.cookieNames();
  const consent = 'personalization';
  const [entropyHigh, entropyLow] = [0, 7];

  // The page's facts without cookies: the runtime reads them from `document.cookie`.
  const factsAt = (nowMs) => {
    const { cookies, ...facts } = benchFacts(nowMs);
    const site = Object.entries(cookies).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
    return { factsJson: JSON.stringify(facts), site };
  };
  const header = (profile, site) => [...(profile ? [`${profileName}=${profile}`] : []), ...site].join('; ');
  const pageView = (factsJson, cookieHeader) =>
    JSON.parse(runtime.pageView(factsJson, cookieHeader, consent, entropyHigh, entropyLow));

  // Three earlier visits leave the profile cookie, as in benches/page_view.rs.
  let profile = null;
  for (let visit = 0; visit < 3; visit++) {
    const { factsJson, site } = factsAt(START_MS + visit * DAY_MS);
    const set = pageView(factsJson, header(profile, site)).setCookie;
    if (set && set.startsWith(`${profileName}=`)) profile = set.slice(profileName.length + 1).split(';')[0];
  }
  if (!profile) throw new Error('edge-persona: no profile cookie after three visits; adapt edgePersonaCase() in decide-node.mjs');
  const { factsJson, site } = factsAt(START_MS + 4 * DAY_MS);
  const cookieHeader = header(profile, site);

  return {
    label: `edge-persona JS API: \`Runtime.pageView\` from raw facts + ${profile.length}-byte profile cookie (context, classify, decide, encode the cookie), result parsed`,
    run: () => pageView(factsJson, cookieHeader),
    check: (out) => {
      const text = JSON.stringify(out);
      for (const want of ['hero-yandex-mobile', 'offers-premium', EXPECTED.greeting]) {
        if (!text.includes(want)) throw new Error(`edge-persona: the decision lacks ${want}: ${text.slice(0, 400)}`);
      }
    },
  };
}

// ---------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------

let sink = 0;

/** Median ns per call over `batches` batches of `batch` calls, after `warmup` batches. */
function measure(fn, { batches, batch, warmup }) {
  const times = [];
  for (let b = 0; b < warmup + batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) if (fn()) sink++;
    const ns = Number(process.hrtime.bigint() - t0) / batch;
    if (b >= warmup) times.push(ns);
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { median: at(0.5), p10: at(0.1), p90: at(0.9) };
}

function option(args, name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

async function main() {
  const args = process.argv.slice(2);
  const opts = {
    batches: Number(option(args, '--batches', 30)),
    batch: Number(option(args, '--batch', 1000)),
    warmup: Number(option(args, '--warmup', 10)),
  };
  const configJson = readFileSync(CONFIG_PATH, 'utf8');
  const config = JSON.parse(configJson);
  const features = toGrowthBook(config);
  const keys = featureKeys(features);
  const attributes = GROWTHBOOK_ATTRIBUTES;
  const featureCount = Object.keys(features).length;
  const ruleCount = Object.values(features).reduce((n, f) => n + f.rules.length, 0);

  // GrowthBook's page-load path: a new instance per page view, every feature read.
  const pageLoad = (GrowthBook, which = keys) => () => {
    const gb = new GrowthBook({ attributes, features });
    return decideWith((k, d) => gb.getFeatureValue(k, d), which, attributes);
  };
  const slotKeys = { segments: [], slots: keys.slots, greetings: keys.greetings, popups: [] };
  const slotCount = slotKeys.slots.length + slotKeys.greetings.length;
  // GrowthBook's server path, for reference: one shared client, a user context per request.
  const client = new installed.GrowthBookClient().initSync({ payload: { features } });
  const server = () => {
    const user = { attributes };
    return decideWith((k, d) => client.getFeatureValue(k, d, user), keys, attributes);
  };
  const browser = await growthbookBrowserBuild();
  const what = `${featureCount} features (${ruleCount} rules), precomputed attributes`;

  const cases = [
    {
      id: 'growthbook',
      label: `GrowthBook page load, browser build: \`new GrowthBook({attributes, features})\` + \`getFeatureValue\` × ${what}`,
      run: pageLoad(browser.GrowthBook),
      check: checkGrowthBook,
    },
    {
      id: 'growthbook-slots',
      label: `the same, slots only (${slotCount} features: ${[...slotKeys.slots, ...slotKeys.greetings].join(', ')}; no segments, no popups)`,
      run: pageLoad(browser.GrowthBook, slotKeys),
      check: (d) => checkGrowthBook(d, { slotsOnly: true }),
    },
    {
      id: 'growthbook-node',
      label: `the full decision with the package as installed in Node (\`dist/esm\`: reads \`process.env.NODE_ENV\` at each debug-log site)`,
      run: pageLoad(installed.GrowthBook),
      check: checkGrowthBook,
    },
    {
      id: 'growthbook-client',
      label: `GrowthBook server path, as installed in Node: one \`GrowthBookClient\`, \`getFeatureValue(key, d, {attributes})\` × ${featureCount} features`,
      run: server,
      check: checkGrowthBook,
    },
  ];
  const ours = await edgePersonaCase(option(args, '--pkg', join(ROOT, 'pkg', 'npm')), configJson);
  if (ours.skip) console.error(ours.skip);
  else cases.unshift({ id: 'edge-persona', ...ours });

  const results = [];
  for (const c of cases) {
    c.check(c.run());
    const t = measure(c.run, opts);
    results.push({ id: c.id, label: c.label, nsPerOp: t.median, p10: t.p10, p90: t.p90, opsPerSec: 1e9 / t.median });
  }

  const growthbookVersion = installedVersion('@growthbook/growthbook');
  if (args.includes('--json')) {
    console.log(JSON.stringify({ date: today(), node: process.version, growthbook: growthbookVersion, ...opts, skipped: ours.skip ?? null, results }, null, 2));
  }
  const table = [
    '| what | ns per page view (median) | p10–p90 | page views/s |',
    '|---|---:|---:|---:|',
    ...results.map((r) => `| ${r.label} | ${num(r.nsPerOp)} | ${num(r.p10)}–${num(r.p90)} | ${num(r.opsPerSec)} |`),
    ...(ours.skip ? ['| edge-persona: not built (run scripts/build web npm) | – | – | – |'] : []),
    '',
    `Node ${process.version}, @growthbook/growthbook ${growthbookVersion} (browser build: esbuild, minified, NODE_ENV=production, as in the bundle-size section); medians of ${opts.batches} batches of ${opts.batch} page views after ${opts.warmup} warm-up batches. ` +
      'GrowthBook gets the attributes our engine computes (built once, as a GrowthBook user passes them), so its figure has no URL, referrer or user-agent parsing and no cookie; ' +
      'the translation of `benches/bench-config.json` into GrowthBook features is `toGrowthBook` in `benches/browser/decide-node.mjs`, and both sides are checked to reach the same decision before timing.',
  ].join('\n');
  if (!args.includes('--json')) console.log(table);
  if (args.includes('--write')) {
    const body = `${today()}, \`node benches/browser/decide-node.mjs --write\`\n\n${table}`;
    writeSection('decide-node', 'One page-view decision in Node: edge-persona against GrowthBook', body);
    console.error('BENCHMARKS.md: decide-node section written');
  }
  if (sink < 0) console.log(sink);
}

if (isMain(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
