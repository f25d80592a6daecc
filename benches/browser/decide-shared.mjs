// What decide-node.mjs and decide-chromium.mjs share: the visitor, the translation of
// benches/bench-config.json into GrowthBook features, the expected decision, the
// edge-persona page view and the batch timing loop. Both benches run exactly these
// rules and checks; only the clock and the way the code is loaded differ.
//
// This module runs in Node and in the browser: plain JavaScript, no imports.

// ---------------------------------------------------------------------------------
// The visitor of benches/page_view.rs
// ---------------------------------------------------------------------------------

export const START_MS = 1_795_791_600_000;
export const DAY_MS = 86_400_000;

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
export function decideWith(value, keys, attributes) {
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

export function featureKeys(features) {
  const all = Object.keys(features);
  return {
    segments: all.filter((k) => k.startsWith('seg-')),
    slots: all.filter((k) => k.startsWith('slot-')),
    greetings: all.filter((k) => k.startsWith('greeting-')),
    popups: all.filter((k) => k.startsWith('popup-')),
  };
}

/** Fails loudly if the translated rules do not decide what our engine decides. */
export function checkGrowthBook(d, { slotsOnly = false } = {}) {
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
 * The GrowthBook side of both benches, from the parsed bench config: the features,
 * their keys and counts, and `pageLoad(GrowthBook, keys?)`, GrowthBook's page-load
 * path (a new instance per page view, every feature read) for any build of the SDK.
 */
export function growthbookSetup(config, attributes = GROWTHBOOK_ATTRIBUTES) {
  const features = toGrowthBook(config);
  const keys = featureKeys(features);
  const featureCount = Object.keys(features).length;
  const ruleCount = Object.values(features).reduce((n, f) => n + f.rules.length, 0);
  const slotKeys = { segments: [], slots: keys.slots, greetings: keys.greetings, popups: [] };
  const slotCount = slotKeys.slots.length + slotKeys.greetings.length;
  const pageLoad = (GrowthBook, which = keys) => () => {
    const gb = new GrowthBook({ attributes, features });
    return decideWith((k, d) => gb.getFeatureValue(k, d), which, attributes);
  };
  return {
    attributes,
    features,
    keys,
    slotKeys,
    featureCount,
    ruleCount,
    slotCount,
    what: `${featureCount} features (${ruleCount} rules), precomputed attributes`,
    slotsWhat: `${slotCount} features: ${[...slotKeys.slots, ...slotKeys.greetings].join(', ')}; no segments, no popups`,
    pageLoad,
  };
}

// ---------------------------------------------------------------------------------
// edge-persona — ADAPT HERE if the headless API (js/edge-persona.d.ts) changes.
// Everything edge-persona-specific is in this one function. Given the wasm-bindgen
// glue, already initialized (Node: `initSync` from the bytes; Chromium: `init` from
// the URL), it returns `{ label, run, check }`: `run()` is one page view, timed as
// is; `check(output)` throws unless the output is the expected decision.
// Written against `Runtime` in src/browser/mod.rs: `new Runtime(configJson)`,
// `cookieNames()` (the profile cookie first), and
// `pageView(factsJson, cookieHeader, consent, entropyHigh, entropyLow)` → JSON text
// `{decision, storage, cookieStatus, setCookie}`.
// ---------------------------------------------------------------------------------

export function edgePersonaPageView(ep, configJson) {
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
  if (!profile) throw new Error('edge-persona: no profile cookie after three visits; adapt edgePersonaPageView() in benches/browser/decide-shared.mjs');
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

/** Keeps results observable so that no engine drops the calls as dead code. */
export function sinkValue() {
  return sink;
}

/**
 * Median and p10/p90 ns per call over `batches` batches of `batch` calls, after
 * `warmup` batches. `clock.start()` returns a token, `clock.elapsedNs(token)` the
 * nanoseconds since (Node: `process.hrtime.bigint`; a page: `performance.now`).
 */
export function measure(fn, { batches, batch, warmup }, clock) {
  const times = [];
  for (let b = 0; b < warmup + batches; b++) {
    const t0 = clock.start();
    for (let i = 0; i < batch; i++) if (fn()) sink++;
    const ns = clock.elapsedNs(t0) / batch;
    if (b >= warmup) times.push(ns);
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { median: at(0.5), p10: at(0.1), p90: at(0.9) };
}
