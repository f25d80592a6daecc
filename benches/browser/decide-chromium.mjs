// One page-view decision in Chromium: GrowthBook's page-load path against
// edge-persona's wasm `Runtime.pageView`, same rules, same page, same run.
//
// The browser twin of decide-node.mjs: the visitor, the translation of
// benches/bench-config.json into GrowthBook features, the edge-persona page view, the
// decision checks and the batch loop are decide-shared.mjs, loaded by the page as is.
// A loopback server serves a blank page, pkg/npm under /ep (the wasm-bindgen glue
// `edge_persona.js` and `edge_persona_bg.wasm`, instantiated with the glue's own
// `init`: fetch + instantiateStreaming), GrowthBook bundled by esbuild as
// decide-node.mjs and sizes.mjs bundle it, and the bench config. The page is
// cross-origin isolated (COOP + COEP) so that `performance.now()` has Chromium's fine
// resolution (5 µs instead of 100 µs); batches of 1 000 page views keep the clock's
// step well under 1 % of a batch either way. Both sides are checked to reach the
// expected decision in the page before timing.
//
//   node benches/browser/decide-chromium.mjs           Markdown table on stdout
//   node benches/browser/decide-chromium.mjs --json    machine-readable results
//   node benches/browser/decide-chromium.mjs --write   also replace the decide-chromium section of BENCHMARKS.md
//   options: --batches N (30) --batch N (1000 iterations) --warmup N (10 batches) --pkg DIR (pkg/npm)
//   CHROMIUM=/path/to/chrome overrides /usr/bin/chromium.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../../scripts/serve.mjs';
import { growthbookSetup } from './decide-shared.mjs';
import { growthbookBrowserBundle, HERE, installedVersion, isMain, launchChromium, num, option, ROOT, today, writeSection } from './lib.mjs';

const CONFIG_PATH = join(ROOT, 'benches', 'bench-config.json');
const PAGE = '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>decide-chromium</title></head><body></body></html>';
/** Cross-origin isolation: `performance.now()` at 5 µs resolution in Chromium. */
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/**
 * Serves the blank page, the GrowthBook bundle and the bench config from memory,
 * decide-shared.mjs from benches/browser and the edge-persona package under /ep.
 */
async function serve(pkgDir, growthbookCode, configJson) {
  const files = {
    '/': ['text/html; charset=utf-8', PAGE],
    '/growthbook.js': ['text/javascript; charset=utf-8', growthbookCode],
    '/bench-config.json': ['application/json; charset=utf-8', configJson],
  };
  return startServer({
    port: 0,
    host: '127.0.0.1',
    root: HERE,
    mounts: pkgDir ? [{ prefix: '/ep', dir: pkgDir }] : [],
    headers: ISOLATION,
    transform(urlPath, res) {
      const file = files[urlPath];
      if (!file) return urlPath.startsWith('/node_modules') ? (res.writeHead(404).end(), true) : false;
      const body = Buffer.from(file[1]);
      res.writeHead(200, { 'Content-Type': file[0], 'Content-Length': body.length, 'Cache-Control': 'no-store', ...ISOLATION });
      res.end(body);
      return true;
    },
  });
}

/**
 * Runs in the page (serialized by Playwright): loads the shared bench code, the
 * wasm glue and GrowthBook, builds the cases, checks each one's decision, times them.
 */
async function inPage({ opts, withEdgePersona }) {
  const at = (path) => new URL(path, location.href).href;
  const [shared, gbModule, configJson] = await Promise.all([
    import(at('/decide-shared.mjs')),
    import(at('/growthbook.js')),
    fetch(at('/bench-config.json')).then((r) => r.text()),
  ]);
  const gb = shared.growthbookSetup(JSON.parse(configJson));
  const cases = [
    { id: 'growthbook', run: gb.pageLoad(gbModule.GrowthBook), check: shared.checkGrowthBook },
    { id: 'growthbook-slots', run: gb.pageLoad(gbModule.GrowthBook, gb.slotKeys), check: (d) => shared.checkGrowthBook(d, { slotsOnly: true }) },
  ];
  if (withEdgePersona) {
    const ep = await import(at('/ep/edge_persona.js'));
    // The glue's own init: fetch + WebAssembly.instantiateStreaming, as on a site.
    await ep.default({ module_or_path: at('/ep/edge_persona_bg.wasm') });
    cases.unshift({ id: 'edge-persona', ...shared.edgePersonaPageView(ep, configJson) });
  }

  // The clock's step: the smallest non-zero difference of successive readings.
  let step = Infinity;
  for (let i = 0, last = performance.now(); i < 200_000 && step > 0.0005; i++) {
    const now = performance.now();
    if (now > last) step = Math.min(step, now - last);
    last = now;
  }
  const clock = { start: () => performance.now(), elapsedNs: (t0) => (performance.now() - t0) * 1e6 };
  const results = [];
  for (const c of cases) {
    c.check(c.run());
    const t = shared.measure(c.run, opts, clock);
    results.push({ id: c.id, label: c.label ?? null, nsPerOp: t.median, p10: t.p10, p90: t.p90, opsPerSec: 1e9 / t.median });
  }
  return { results, crossOriginIsolated: self.crossOriginIsolated, timerStepNs: step * 1e6, userAgent: navigator.userAgent, sink: shared.sinkValue() };
}

async function main() {
  const args = process.argv.slice(2);
  const opts = {
    batches: Number(option(args, '--batches', 30)),
    batch: Number(option(args, '--batch', 1000)),
    warmup: Number(option(args, '--warmup', 10)),
  };
  const pkgDir = option(args, '--pkg', join(ROOT, 'pkg', 'npm'));
  const built = existsSync(join(pkgDir, 'edge_persona.js')) && existsSync(join(pkgDir, 'edge_persona_bg.wasm'));
  const skip = built ? null : 'edge-persona: not built (run scripts/build web npm)';
  if (skip) console.error(skip);

  const configJson = readFileSync(CONFIG_PATH, 'utf8');
  const { what, slotsWhat } = growthbookSetup(JSON.parse(configJson));
  const server = await serve(built ? pkgDir : null, await growthbookBrowserBundle(), configJson);
  const browser = await launchChromium();
  let run;
  let chromiumVersion;
  try {
    chromiumVersion = browser.version();
    const page = await (await browser.newContext()).newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    run = await page.evaluate(inPage, { opts, withEdgePersona: built });
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  } finally {
    await browser.close();
    await server.close();
  }

  const labels = {
    growthbook: `GrowthBook page load, browser build: \`new GrowthBook({attributes, features})\` + \`getFeatureValue\` × ${what}`,
    'growthbook-slots': `the same, slots only (${slotsWhat})`,
  };
  const results = run.results.map((r) => ({ ...r, label: r.label ?? labels[r.id] }));
  const growthbookVersion = installedVersion('@growthbook/growthbook');
  const stepUs = run.timerStepNs / 1000;
  const clockNote = run.crossOriginIsolated
    ? `the page is cross-origin isolated by COOP + COEP, so the clock steps by ≈ ${stepUs.toFixed(stepUs < 10 ? 1 : 0)} µs`
    : `the page is not cross-origin isolated: the clock steps by ≈ ${stepUs.toFixed(0)} µs`;
  if (args.includes('--json')) {
    console.log(JSON.stringify({
      date: today(), chromium: chromiumVersion, userAgent: run.userAgent, growthbook: growthbookVersion, ...opts,
      crossOriginIsolated: run.crossOriginIsolated, timerStepNs: run.timerStepNs, skipped: skip, results,
    }, null, 2));
  }
  const table = [
    '| what | ns per page view (median) | p10–p90 | page views/s |',
    '|---|---:|---:|---:|',
    ...results.map((r) => `| ${r.label} | ${num(r.nsPerOp)} | ${num(r.p10)}–${num(r.p90)} | ${num(r.opsPerSec)} |`),
    ...(skip ? ['| edge-persona: not built (run scripts/build web npm) | – | – | – |'] : []),
    '',
    `Headless Chromium ${chromiumVersion} (playwright-core, \`/usr/bin/chromium\`), @growthbook/growthbook ${growthbookVersion} (browser build: esbuild, minified, NODE_ENV=production, as in the bundle-size section); ` +
      `one page runs both, medians of ${opts.batches} batches of ${opts.batch} page views after ${opts.warmup} warm-up batches, timed with \`performance.now()\` around each batch; ${clockNote}. ` +
      'edge-persona is the wasm from `pkg/npm` instantiated by its glue (`fetch` + `WebAssembly.instantiateStreaming`); GrowthBook gets the attributes our engine computes (built once), so its figure has no URL, referrer or user-agent parsing and no cookie. ' +
      'The rules, the visitor and the checks are `benches/browser/decide-shared.mjs`, the same code as the Node bench; both sides are checked in the page to reach the same decision before timing.',
  ].join('\n');
  if (!args.includes('--json')) console.log(table);
  if (args.includes('--write')) {
    const body = `${today()}, Chromium ${chromiumVersion}, \`node benches/browser/decide-chromium.mjs --write\`\n\n${table}`;
    writeSection('decide-chromium', 'One page-view decision in Chromium: edge-persona against GrowthBook', body);
    console.error('BENCHMARKS.md: decide-chromium section written');
  }
}

if (isMain(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
