// One page-view decision in Node: GrowthBook's page-load path against edge-persona's
// JS API, same rules, same run.
//
// The rules are benches/bench-config.json (the config of `cargo bench --bench
// page_view`), translated into GrowthBook features (`toGrowthBook` in decide-shared.mjs), and the
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
import { checkGrowthBook, decideWith, edgePersonaPageView, growthbookSetup, measure as measureWith, sinkValue } from './decide-shared.mjs';
import { growthbookBrowserBundle, installedVersion, isMain, num, option, ROOT, today, writeSection } from './lib.mjs';

// The visitor, the translation and the expected decision live in decide-shared.mjs,
// shared with decide-chromium.mjs; re-exported here for existing importers.
export { benchFacts, EXPECTED, GROWTHBOOK_ATTRIBUTES, toGrowthBook } from './decide-shared.mjs';

const CONFIG_PATH = join(ROOT, 'benches', 'bench-config.json');

/**
 * GrowthBook as a landing page runs it: bundled by esbuild exactly as sizes.mjs
 * bundles it, so `process.env.NODE_ENV !== "production"` debug-log checks are compiled
 * out. (The package as installed in Node reads `process.env` on every one of them.)
 */
async function growthbookBrowserBuild() {
  const code = Buffer.from(await growthbookBrowserBundle()).toString('base64');
  return import(`data:text/javascript;base64,${code}`);
}

// ---------------------------------------------------------------------------------
// edge-persona: the page view itself is `edgePersonaPageView` in decide-shared.mjs
// (ADAPT THERE if the headless API changes). Returns `{ skip }` when pkg/npm is not
// built, else `{ label, run, check }`.
// ---------------------------------------------------------------------------------

async function edgePersonaCase(dir, configJson) {
  const glue = join(dir, 'edge_persona.js');
  const wasm = join(dir, 'edge_persona_bg.wasm');
  if (!existsSync(glue) || !existsSync(wasm)) return { skip: 'edge-persona: not built (run scripts/build web npm)' };

  // The wasm-bindgen `web` glue: synchronous instantiation from the bytes, no fetch.
  const ep = await import(pathToFileURL(glue).href);
  ep.initSync({ module: readFileSync(wasm) });
  return edgePersonaPageView(ep, configJson);
}

// ---------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------

const HRTIME = { start: () => process.hrtime.bigint(), elapsedNs: (t0) => Number(process.hrtime.bigint() - t0) };

/** Median ns per call over `batches` batches of `batch` calls, after `warmup` batches. */
function measure(fn, opts) {
  return measureWith(fn, opts, HRTIME);
}

async function main() {
  const args = process.argv.slice(2);
  const opts = {
    batches: Number(option(args, '--batches', 30)),
    batch: Number(option(args, '--batch', 1000)),
    warmup: Number(option(args, '--warmup', 10)),
  };
  const configJson = readFileSync(CONFIG_PATH, 'utf8');
  const { features, keys, attributes, featureCount, pageLoad, slotKeys, slotCount, what } = growthbookSetup(JSON.parse(configJson));

  // GrowthBook's server path, for reference: one shared client, a user context per request.
  const client = new installed.GrowthBookClient().initSync({ payload: { features } });
  const server = () => {
    const user = { attributes };
    return decideWith((k, d) => client.getFeatureValue(k, d, user), keys, attributes);
  };
  const browser = await growthbookBrowserBuild();

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

  const only = option(args, '--only', null); // e.g. `--only edge-persona` under --cpu-prof
  const results = [];
  for (const c of cases.filter((c) => !only || c.id === only)) {
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
      'the translation of `benches/bench-config.json` into GrowthBook features is `toGrowthBook` in `benches/browser/decide-shared.mjs`, and both sides are checked to reach the same decision before timing.',
  ].join('\n');
  if (!args.includes('--json')) console.log(table);
  if (args.includes('--write')) {
    const body = `${today()}, \`node benches/browser/decide-node.mjs --write\`\n\n${table}`;
    writeSection('decide-node', 'One page-view decision in Node: edge-persona against GrowthBook', body);
    console.error('BENCHMARKS.md: decide-node section written');
  }
  if (sinkValue() < 0) console.log(sinkValue());
}

if (isMain(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
