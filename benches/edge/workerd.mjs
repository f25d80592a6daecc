// Per-page rewriting time in workerd (Miniflare 3): our Cloudflare module against
// Cloudflare's own HTMLRewriter doing the same three swaps, on the landing-page corpus.
//
//   node benches/edge/workerd.mjs                   Markdown table on stdout
//   node benches/edge/workerd.mjs --json            machine-readable results (every median)
//   node benches/edge/workerd.mjs --write           also replace the edge-workerd section of BENCHMARKS.md
//   options: --iterations N (30 per page per variant) --warmup N (5 rounds)
//            --pages 01,05 (only pages whose file name starts with one of these; not with --write)
//
// Needs pkg/npm/cloudflare.js and pkg/npm/edge_persona_edge_bg.wasm
// (`python3 scripts/build web cloudflare npm`); Miniflare and esbuild are the
// repository root's devDependencies.
//
// One bench worker, bundled with esbuild as tests/edge-cloudflare does (the `.wasm`
// left as a CompiledWasm module), embeds the corpus pages (a JSON module). For
// `GET /<variant>/<page>` it builds the origin response in the worker
// (`new Response(pageText, {headers: {"content-type": "text/html; charset=utf-8"}})`),
// runs the variant, reads the whole resulting body inside the worker and answers
// `{"bytes": n}`:
// - passthrough:        the body read as it is (no rewriting);
// - native3:            Cloudflare's HTMLRewriter doing the three swaps of the config
//                       (setInnerContent + setAttribute on h1, footer, nav), no decision;
// - js-stream:          the body through an identity TransformStream, no rewriting:
//                       the floor of any rewriting driven from JavaScript;
// - ours-lolhtml:       createPersonalizer({strategy: "lol-html"}).personalize: the full
//                       path (profile cookie decode, classify, decide, our wasm streams
//                       the body through lol-html, three slots, set-cookie);
// - ours-htmlrewriter:  the same decision, applied by Cloudflare's HTMLRewriter (with
//                       js/ambiguity-guard.js, a JavaScript stream on each side).
// The same variants, and three that take the full path apart, also run on
// MINIMAL_PAGE (the three slots and nothing else, ≈0.1 KB): what each costs per
// request whatever the page's size:
// - js-pull:            the body through a ReadableStream whose pull() reads it and
//                       passes each chunk on (what the stream ours-lolhtml runs its
//                       wasm in pays before doing anything);
// - js-callbacks:       the same through a TransformStream whose transform() passes
//                       each chunk on (how ours-lolhtml streamed until 2026-11-29);
// - ours-wasm:          our wasm alone, no stream: the request's facts as JSON,
//                       EdgeWorker.respond (profile cookie decode, classify, decide,
//                       the rewriter set up), write (the minimal page's bytes: the three
//                       slots) and end (the hand-off), the headers read, free.
// Every request carries the visitor's `name` cookie and a valid profile cookie that a
// first response of the same worker set. Each request runs its variant `--repeat`
// times (default 16) inside the worker and is timed from Node around dispatchFetch
// (+ reading its small JSON answer), divided by the repeat count: workerd's own
// clocks do not advance during a request, and one dispatchFetch costs milliseconds,
// which the repeats spread thin. What remains of it is the same for every variant, so
// the table shows the passthrough time and each variant's median minus the
// passthrough median. Variants take turns within each round (the first one rotating),
// so machine noise spreads over all of them.

import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BENCH_CONFIG, QUERY, REQUEST_HEADERS, ROOT, SWAPS, appliedKeys, cookieHeader, handoffCookieStatus, kb,
  loadCorpus, machineLine, median, num, profileFromSetCookie, ratio, versionIn, benchMain, tableWithNotes, timeInTurns,
} from './config.mjs';

const PKG = path.join(ROOT, 'pkg', 'npm');
const WASM = path.join(PKG, 'edge_persona_edge_bg.wasm');
const MODULE = path.join(PKG, 'cloudflare.js');
const BUILD_COMMAND = 'python3 scripts/build web cloudflare npm';
const SITE = 'https://shop.example';
export const VARIANTS = ['passthrough', 'native3', 'js-stream', 'ours-lolhtml', 'ours-htmlrewriter'];
/** The variants timed on MINIMAL_PAGE: the page's ones and the parts of ours-lolhtml. */
export const FIXED_COST_VARIANTS = [...VARIANTS, 'js-pull', 'js-callbacks', 'ours-wasm'];
/** A page with the three slots and nothing else: the cost of a request itself. */
const MINIMAL_PAGE = {
  name: 'minimal',
  text: '<!doctype html><html><head><title>t</title></head><body><nav>n</nav><h1>h</h1><footer>f</footer></body></html>',
};
const OURS = ['ours-lolhtml', 'ours-htmlrewriter'];

/** The bench worker's source; `edge-persona/cloudflare` and the wasm are resolved at bundling. */
function workerSource() {
  return `import wasm from './edge_persona_edge_bg.wasm';
import { createPersonalizer } from 'edge-persona/cloudflare';
import { EdgeWorker } from 'edge-persona/cloudflare-glue';
import PAGES from './pages.json';

const CONFIG = ${JSON.stringify(BENCH_CONFIG)};
const SWAPS = ${JSON.stringify(SWAPS)};
const errors = [];
const onError = (error) => { errors.push(String(error?.message ?? error)); };
const personalizers = {};
const ours = (strategy) => (personalizers[strategy] ??= createPersonalizer({ config: CONFIG, wasm, strategy, onError }));

function native3(response) {
  const rewriter = new HTMLRewriter();
  for (const swap of SWAPS) {
    rewriter.on(swap.selector, {
      element(el) {
        if (swap.html !== undefined) el.setInnerContent(swap.html, { html: true });
        else el.setInnerContent(swap.text);
        el.setAttribute('data-ep-applied', swap.key);
      },
    });
  }
  return rewriter.transform(response);
}

const VARIANTS = {
  passthrough: (request, response) => response,
  native3: (request, response) => native3(response),
  // The floor of any rewriting driven from JavaScript: the body through a stream
  // that changes nothing.
  'js-stream': (request, response) => new Response(response.body.pipeThrough(new TransformStream()), response),
  'ours-lolhtml': (request, response) => ours('lol-html').personalize(request, response),
  'ours-htmlrewriter': (request, response) => ours('htmlrewriter').personalize(request, response),
  // The stream ours-lolhtml runs its wasm in: the origin's body pulled as it is read.
  'js-pull': (request, response) => {
    const reader = response.body.getReader();
    return new Response(new ReadableStream({
      async pull(controller) {
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel(reason) { return reader.cancel(reason); },
    }), response);
  },
  'js-callbacks': (request, response) => new Response(response.body.pipeThrough(new TransformStream({
    transform(chunk, controller) { controller.enqueue(chunk); },
    flush() {},
  })), response),
  // Only on the minimal page, whose bytes it rewrites (the response passes untouched).
  'ours-wasm': (request, response) => {
    ours('lol-html'); // loads the wasm
    wasmWorker ??= new EdgeWorker(JSON.stringify(CONFIG), undefined, false);
    const session = wasmWorker.respond(JSON.stringify(facts(request)), HEAD, 1, 2);
    session.write(MINIMAL_BYTES);
    session.end();
    JSON.parse(session.headers);
    session.free();
    return response;
  },
};

let wasmWorker;
const MINIMAL_BYTES = new TextEncoder().encode(PAGES.minimal);
const HEAD = JSON.stringify({ status: 200, contentType: 'text/html; charset=utf-8' });
/** The request's facts as cloudflare.js hands them to the wasm. */
function facts(request) {
  const h = request.headers;
  const cf = request.cf ?? {};
  return {
    method: request.method, url: request.url, cookie: h.get('cookie'), userAgent: h.get('user-agent'),
    acceptLanguage: h.get('accept-language'), referer: h.get('referer'), globalPrivacyControl: false,
    geo: cf.country ? { country: cf.country, region: cf.regionCode ?? null, city: cf.city ?? null } : null,
    utcOffsetMinutes: 180, nowMs: Date.now(),
  };
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const [, variant, page] = url.pathname.split('/');
    const run = VARIANTS[variant];
    const text = PAGES[page];
    if (!run || text === undefined) return new Response('unknown variant or page', { status: 404 });
    // Run the variant \`repeat\` times in this one request, so that the fixed cost of
    // dispatchFetch (loopback HTTP into workerd, milliseconds) is spread over them.
    const repeat = Math.max(1, Number(url.searchParams.get('repeat') ?? 1));
    for (let i = 1; i < repeat; i += 1) {
      const extra = run(request, new Response(text, { headers: { 'content-type': 'text/html; charset=utf-8' } }));
      await extra.arrayBuffer();
    }
    const origin = new Response(text, { headers: { 'content-type': 'text/html; charset=utf-8' } });
    const out = run(request, origin);
    if (url.searchParams.has('probe')) {
      // Once per page and variant before timing: what the variant did.
      const body = new Uint8Array(await out.arrayBuffer());
      return Response.json({
        bytes: body.byteLength,
        text: new TextDecoder().decode(body),
        setCookie: out.headers.get('set-cookie'),
        errors: errors.splice(0),
      });
    }
    const reader = out.body.getReader();
    let bytes = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
    }
    return Response.json({ bytes });
  },
};
`;
}

async function bundleWorker(dir, pages) {
  const { build } = await import('esbuild');
  writeFileSync(path.join(dir, 'pages.json'), JSON.stringify(Object.fromEntries(pages.map((p) => [p.name, p.text]))));
  writeFileSync(path.join(dir, 'entry.js'), workerSource());
  await build({
    entryPoints: [path.join(dir, 'entry.js')],
    outfile: path.join(dir, 'worker.js'),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'warning',
    plugins: [{
      name: 'edge-persona-package',
      setup(b) {
        b.onResolve({ filter: /^\.\/edge_persona_edge_bg\.wasm$/ }, () => ({ path: './edge_persona_edge_bg.wasm', external: true }));
        b.onResolve({ filter: /^edge-persona\/cloudflare$/ }, () => ({ path: MODULE }));
        b.onResolve({ filter: /^edge-persona\/cloudflare-glue$/ }, () => ({ path: path.join(PKG, 'edge_persona_edge.js') }));
      },
    }],
  });
  copyFileSync(WASM, path.join(dir, 'edge_persona_edge_bg.wasm'));
}

/** Runs the bench; returns `{ pages: [{name, size, bytes, medians, net}], totals, … }`. */
export async function run({ iterations = 30, warmup = 5, repeat = 16, pageFilter = null, log = console.error } = {}) {
  for (const file of [WASM, MODULE]) {
    if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`${BUILD_COMMAND}\` first`);
  }
  let pages = loadCorpus();
  if (pageFilter) pages = pages.filter((p) => pageFilter.some((f) => p.name.startsWith(f)));
  if (!pages.length) throw new Error('no corpus page matches --pages');

  const { Miniflare } = await import('miniflare');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edge-persona-bench-workerd-'));
  let mf;
  try {
    await bundleWorker(dir, [...pages, MINIMAL_PAGE]);
    mf = new Miniflare({
      scriptPath: path.join(dir, 'worker.js'),
      modules: true,
      modulesRoot: dir,
      modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
      compatibilityDate: '2025-07-01',
      cf: { country: 'RU', region: 'Moscow', regionCode: 'MOW', city: 'Moscow', timezone: 'Europe/Moscow' },
    });
    const request = async (variant, page, cookie, probe = false) => {
      const times = probe ? 1 : repeat;
      const url = `${SITE}/${variant}/${page}?${QUERY}${probe ? '&probe' : `&repeat=${times}`}`;
      const started = performance.now();
      const response = await mf.dispatchFetch(url, { headers: { ...REQUEST_HEADERS, cookie } });
      const json = await response.json();
      const ms = (performance.now() - started) / times;
      if (response.status !== 200) throw new Error(`${variant}/${page}: HTTP ${response.status}`);
      return { ms, ...json };
    };

    // A returning visitor: the profile cookie of a first response of each strategy.
    const cookies = {};
    for (const variant of OURS) {
      const first = await request(variant, pages[0].name, cookieHeader(null), true);
      const profile = profileFromSetCookie(first.setCookie);
      if (!profile) throw new Error(`${variant}: the first response set no profile cookie (set-cookie: ${first.setCookie}; errors: ${first.errors.join('; ')})`);
      cookies[variant] = cookieHeader(profile);
    }
    cookies.passthrough = cookies['ours-lolhtml'];
    cookies.native3 = cookies['ours-lolhtml'];
    cookies['js-stream'] = cookies['ours-lolhtml'];

    // What each variant does to each page, checked once before timing.
    const checks = [];
    for (const page of pages) {
      page.out = {};
      for (const variant of VARIANTS) {
        const probe = await request(variant, page.name, cookies[variant], true);
        page.out[variant] = { bytes: probe.bytes, applied: appliedKeys(probe.text) };
        if (probe.errors.length) checks.push(`${variant}/${page.name}: ${probe.errors.join('; ')}`);
        if ((variant === 'passthrough' || variant === 'js-stream') && probe.bytes !== page.bytes.length) checks.push(`passthrough/${page.name}: ${probe.bytes} bytes, not ${page.bytes.length}`);
        if (OURS.includes(variant)) {
          const status = handoffCookieStatus(probe.text)?.status;
          if (status !== 'valid') checks.push(`${variant}/${page.name}: profile cookie ${status ?? 'not reported'} (expected valid)`);
          if (!profileFromSetCookie(probe.setCookie)) checks.push(`${variant}/${page.name}: no profile cookie set`);
        }
      }
      const native = page.out.native3.applied.join(',');
      for (const variant of OURS) {
        if (page.out[variant].applied.join(',') !== native) {
          checks.push(`${variant}/${page.name}: applied [${page.out[variant].applied}] where native3 applied [${native}]`);
        }
      }
    }
    for (const c of checks) log(`check: ${c}`);

    // Timing: µs per run, variants in turn.
    const times = await timeInTurns({
      pages, names: VARIANTS, warmup, iterations, log,
      time: async (variant, page) => (await request(variant, page.name, cookies[variant])).ms * 1000,
    });

    // The cost of a request itself: every variant on the minimal page.
    const minimal = { ...MINIMAL_PAGE, out: {} };
    for (const variant of OURS.concat('native3')) {
      const probe = await request(variant, minimal.name, cookies[variant], true);
      minimal.out[variant] = appliedKeys(probe.text).join(',');
      if (probe.errors.length) checks.push(`${variant}/${minimal.name}: ${probe.errors.join('; ')}`);
    }
    for (const variant of OURS) {
      if (minimal.out[variant] !== minimal.out.native3) checks.push(`${variant}/${minimal.name}: applied [${minimal.out[variant]}] where native3 applied [${minimal.out.native3}]`);
    }
    cookies['js-pull'] = cookies['ours-lolhtml'];
    cookies['js-callbacks'] = cookies['ours-lolhtml'];
    cookies['ours-wasm'] = cookies['ours-lolhtml'];
    const fixedTimes = await timeInTurns({
      pages: [minimal], names: FIXED_COST_VARIANTS, warmup, iterations, log,
      time: async (variant, page) => (await request(variant, page.name, cookies[variant])).ms * 1000,
    });
    const fixedMedians = Object.fromEntries(FIXED_COST_VARIANTS.map((v) => [v, median(fixedTimes.get(minimal.name)[v])]));
    const fixedCost = {
      medians: fixedMedians,
      net: Object.fromEntries(FIXED_COST_VARIANTS.slice(1).map((v) => [v, fixedMedians[v] - fixedMedians.passthrough])),
    };

    const results = pages.map((page) => {
      const medians = Object.fromEntries(VARIANTS.map((v) => [v, median(times.get(page.name)[v])]));
      const net = Object.fromEntries(VARIANTS.slice(1).map((v) => [v, medians[v] - medians.passthrough]));
      return { name: page.name, size: page.bytes.length, bytes: Object.fromEntries(VARIANTS.map((v) => [v, page.out[v].bytes])), applied: page.out['ours-lolhtml'].applied, medians, net };
    });
    const sum = (f) => results.reduce((s, r) => s + f(r), 0);
    const totals = {
      medians: Object.fromEntries(VARIANTS.map((v) => [v, sum((r) => r.medians[v])])),
      net: Object.fromEntries(VARIANTS.slice(1).map((v) => [v, sum((r) => r.net[v])])),
    };
    const slower = (variant) => results.filter((r) => r.net[variant] > r.net.native3).map((r) => r.name);
    const target = {
      met: totals.net['ours-lolhtml'] <= totals.net.native3,
      htmlrewriterMet: totals.net['ours-htmlrewriter'] <= totals.net.native3,
      slowerPages: slower('ours-lolhtml'),
      slowerPagesHtmlrewriter: slower('ours-htmlrewriter'),
    };
    return {
      machine: machineLine(), miniflare: versionIn(ROOT, 'miniflare'), workerd: versionIn(ROOT, 'workerd'),
      iterations, warmup, repeat, corpusPages: loadCorpus().length, pages: results, totals, target, fixedCost, checks,
    };
  } finally {
    await mf?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

const us = (x) => num(x);
/** a / b when both are above the noise floor (positive), else "–". */
const netRatio = (a, b) => (a > 0 && b > 0 ? ratio(a, b) : '–');
const signed = (x) => `${x < 0 ? '−' : '+'}${num(Math.abs(x))}`;

const FIXED_COST_NOTES = {
  passthrough: 'the body read as it is',
  native3: "Cloudflare's HTMLRewriter, the three swaps",
  'js-stream': 'an identity `TransformStream` (no JavaScript called per chunk)',
  'ours-lolhtml': 'our full path (lol-html in our wasm)',
  'ours-htmlrewriter': 'our decision applied by HTMLRewriter, behind the guard',
  'js-pull': 'a `ReadableStream` whose `pull()` reads the body and passes each chunk on: the stream ours-lolhtml runs its wasm in, doing nothing',
  'js-callbacks': 'a `TransformStream` whose `transform()` passes each chunk on: how ours-lolhtml streamed until 2026-11-29, doing nothing',
  'ours-wasm': 'our wasm alone on the page\'s bytes, no stream: facts as JSON, `EdgeWorker.respond` (cookie, classify, decide, rewriter set up), `write` (the three slots), `end` (hand-off), headers, `free`',
};

/** The table of what a request costs on the minimal page, whatever the page's size. */
function fixedCostMarkdown(fixed) {
  if (!fixed) return [];
  const rows = [
    '',
    `**Per request, whatever the page: the same variants on a ${MINIMAL_PAGE.text.length}-byte page with the three slots and nothing else**`,
    '',
    '| variant | µs per run | net | what |',
    '|---|---:|---:|---|',
  ];
  for (const [name, median] of Object.entries(fixed.medians)) {
    rows.push(`| ${name} | ${us(median)} | ${name === 'passthrough' ? '' : signed(fixed.net[name])} | ${FIXED_COST_NOTES[name] ?? ''} |`);
  }
  const n = fixed.net;
  rows.push('', `On it, native3 adds ${signed(n.native3)} µs and our full path ${signed(n['ours-lolhtml'])} µs; of ours, the stream that calls into JavaScript alone adds ${signed(n['js-pull'])} µs (a \`TransformStream\` would add ${signed(n['js-callbacks'])} µs) and our wasm alone (decision, rewriting, hand-off; no stream) ${signed(n['ours-wasm'])} µs. Same method, units and runs as above.`);
  return rows;
}

export function markdown(r) {
  const rows = [
    '| page | KB | passthrough | native3 | net | js-stream | net | ours-lolhtml | net | ours-htmlrewriter | net | ours-lolhtml net / native3 net |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const p of r.pages) {
    const m = p.medians;
    rows.push(`| ${p.name} | ${kb(p.size)} | ${us(m.passthrough)} | ${us(m.native3)} | ${signed(p.net.native3)} | ${us(m['js-stream'])} | ${signed(p.net['js-stream'])} | ${us(m['ours-lolhtml'])} | ${signed(p.net['ours-lolhtml'])} | ${us(m['ours-htmlrewriter'])} | ${signed(p.net['ours-htmlrewriter'])} | ${netRatio(p.net['ours-lolhtml'], p.net.native3)} |`);
  }
  const t = r.totals;
  const size = r.pages.reduce((s, p) => s + p.size, 0);
  rows.push(`| **total (${r.pages.length} pages)** | **${kb(size)}** | **${us(t.medians.passthrough)}** | **${us(t.medians.native3)}** | **${signed(t.net.native3)}** | **${us(t.medians['js-stream'])}** | **${signed(t.net['js-stream'])}** | **${us(t.medians['ours-lolhtml'])}** | **${signed(t.net['ours-lolhtml'])}** | **${us(t.medians['ours-htmlrewriter'])}** | **${signed(t.net['ours-htmlrewriter'])}** | **${netRatio(t.net['ours-lolhtml'], t.net.native3)}** |`);
  const verdict = (met, name, pagesSlower) => `${name} ${signed(t.net[name])} µs against native3 ${signed(t.net.native3)} µs over the corpus: **${met ? 'met' : 'NOT met'}**${pagesSlower.length ? ` (slower than native3 on ${pagesSlower.length} of ${r.pages.length} pages)` : ''}`;
  const notes = [
    '',
    `${r.machine}, Miniflare ${r.miniflare} (workerd ${r.workerd}); ${r.iterations} requests per page per variant after ${r.warmup} warm-up rounds, variants in turn, each request running its variant ${r.repeat} times in the worker. µs per run (request time / ${r.repeat}), medians; *net*: the variant's median minus the passthrough median of the same page (what the rewriting adds to reading the body). Each request is timed from Node around Miniflare's \`dispatchFetch\` (loopback HTTP to workerd; the worker builds the origin response from the page in memory, runs the variant, reads the whole body, ${r.repeat} times, and answers \`{"bytes"}\`), so *passthrough* is building and reading the response plus 1/${r.repeat} of that fixed cost; a net time below zero is noise, and the ratio is shown only when both net times are above zero. *native3*: Cloudflare's HTMLRewriter setting the inner content of h1 (markup), footer and nav (text) and a \`data-ep-applied\` attribute, no decision; *js-stream*: the body through an identity \`TransformStream\`, no rewriting (what any rewriting driven from JavaScript pays before it does anything: ours-lolhtml pulls the body through a JavaScript stream, ours-htmlrewriter runs two, around HTMLRewriter, for the guard against markup its strict parser refuses); *ours-lolhtml*: \`createPersonalizer({strategy: "lol-html"})\`, the full path (profile cookie decode, classify, decide, our wasm rewrites the three slots through lol-html, hand-off, set-cookie) for a returning visitor with a \`name\` cookie; *ours-htmlrewriter*: the same decision applied by HTMLRewriter. Config: \`benches/edge/config.mjs\`.`,
    '',
    `**Target: our full path no slower than native HTMLRewriter alone.** ${verdict(r.target.met, 'ours-lolhtml', r.target.slowerPages)}; ${verdict(r.target.htmlrewriterMet, 'ours-htmlrewriter', r.target.slowerPagesHtmlrewriter)}.`,
    ...fixedCostMarkdown(r.fixedCost),
  ];
  return tableWithNotes(rows, notes, r);
}

await benchMain(import.meta.url, {
  run,
  markdown,
  section: 'edge-workerd',
  title: 'Per-page time in workerd (Miniflare)',
  numbers: { iterations: 30, warmup: 5, repeat: 16 },
});
