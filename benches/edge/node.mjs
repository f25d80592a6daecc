// Per-page rewriting time in Node: our Cloudflare module (the wasm, lol-html strategy)
// against html-rewriter-wasm and linkedom doing the same three swaps, with native
// Rust lower bounds, on the landing-page corpus.
//
//   npm ci --prefix benches/edge                 once: html-rewriter-wasm and linkedom
//   cargo build --release --example edge_bench --features edge   for the native rows
//   node benches/edge/node.mjs                   Markdown table on stdout
//   node benches/edge/node.mjs --json            machine-readable results (every median)
//   node benches/edge/node.mjs --write           also replace the edge-node section of BENCHMARKS.md
//   options: --iterations N (30 per page per engine) --warmup N (10 rounds)
//            --native-iterations N (200, passed to edge_bench)
//            --pages 01,05 (only pages whose file name starts with one of these; not with --write)
//
// Each engine gets the page as the same 16 KB chunks (as examples/edge_bench.rs feeds
// lol-html) and its whole output is collected; one timed run is one page, bytes in,
// bytes out:
// - ours: `createPersonalizer({config, wasm, strategy: "lol-html"})` from
//   pkg/npm/cloudflare.js with the wasm's bytes; `personalize(request, originResponse)`
//   with the chunks as the origin's body stream, and the result's body read whole
//   (`arrayBuffer()`). The full path for a returning visitor with a `name` cookie:
//   profile cookie decode, classify, decide, three slots rewritten, hand-off, set-cookie.
// - passthrough: the same origin response read whole, no rewriting: the part of ours
//   that is Node's Response and Web Streams.
// - html-rewriter-wasm: `new HTMLRewriter(sink)` with the three swaps
//   (setInnerContent + setAttribute on h1, footer, nav), `write` per chunk, `end`, `free`;
//   no decision.
// - lol-html-wasm: lol-html alone doing the three swaps, compiled to wasm as our
//   Cloudflare build is (benches/edge/lol-html-wasm, built here when missing or
//   stale) and driven the same way (`write` per chunk, `end`): the wasm lower bound,
//   what our full path costs without a decision, hand-off or whole-or-nothing slots.
// - linkedom: the chunks decoded, `parseHTML`, the three swaps through the DOM
//   (innerHTML / textContent + setAttribute), `document.toString()`, encoded; no decision.
// - native (examples/edge_bench.rs, run as target/release/examples/edge_bench): a plain
//   copy of the page, lol-html doing the three swaps with no decision, and our full
//   path natively; their medians are the binary's own.
// Engines take turns within each round (the first one rotating) so machine noise
// spreads over all of them.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BENCH_CONFIG, BENCH_URL, CORPUS_DIR, REQUEST_HEADERS, ROOT, SWAPS, appliedKeys, cookieHeader, handoffCookieStatus,
  kb, loadCorpus, machineLine, median, num, profileFromSetCookie, ratio, versionIn, benchMain, tableWithNotes, timeInTurns,
} from './config.mjs';

const HERE = path.join(ROOT, 'benches', 'edge');
const PKG = path.join(ROOT, 'pkg', 'npm');
const WASM = path.join(PKG, 'edge_persona_edge_bg.wasm');
const MODULE = path.join(PKG, 'cloudflare.js');
const BUILD_COMMAND = 'python3 scripts/build web cloudflare npm';
const NATIVE = path.join(ROOT, 'target', 'release', 'examples', 'edge_bench');
const NATIVE_BUILD_COMMAND = 'cargo build --release --example edge_bench --features edge';
const LOL_HTML_WASM_DIR = path.join(HERE, 'lol-html-wasm');
const LOL_HTML_WASM_TARGET = path.join(ROOT, 'target', 'bench-lol-html-wasm');
const CHUNK = 16 * 1024;
const TARGET_RATIO = 2.5;
export const ENGINES = ['passthrough', 'ours', 'ours-direct', 'html-rewriter-wasm', 'lol-html-wasm', 'linkedom'];
/** The engines that do the three swaps by hand, checked against ours. */
const BY_HAND = ['html-rewriter-wasm', 'lol-html-wasm', 'linkedom'];

/**
 * The glue of benches/edge/lol-html-wasm, built (cargo, then wasm-bindgen) when it
 * is missing or older than its source.
 */
function lolHtmlWasmGlue(log) {
  const pkg = path.join(LOL_HTML_WASM_TARGET, 'pkg');
  const glue = path.join(pkg, 'lol_html_wasm_bench.js');
  const newest = Math.max(...['lib.rs', 'Cargo.toml'].map((f) => statSync(path.join(LOL_HTML_WASM_DIR, f)).mtimeMs));
  if (existsSync(glue) && statSync(glue).mtimeMs >= newest) return glue;
  log('building benches/edge/lol-html-wasm (lol-html alone in wasm)');
  const run = (command, args, env) => {
    const result = spawnSync(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.error || result.status !== 0) {
      throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
    }
  };
  run('cargo', ['build', '--quiet', '--release', '--target', 'wasm32-unknown-unknown', '--manifest-path', path.join(LOL_HTML_WASM_DIR, 'Cargo.toml')],
    { RUSTFLAGS: '-C target-feature=+simd128', CARGO_TARGET_DIR: LOL_HTML_WASM_TARGET });
  const bindgen = [path.join(os.homedir(), '.cargo', 'bin', 'wasm-bindgen')].find((p) => existsSync(p)) ?? 'wasm-bindgen';
  run(bindgen, ['--target', 'web', '--out-dir', pkg, path.join(LOL_HTML_WASM_TARGET, 'wasm32-unknown-unknown', 'release', 'lol_html_wasm_bench.wasm')]);
  return glue;
}

/** The page as 16 KB views, the origin's body for every engine. */
function chunksOf(bytes) {
  const chunks = [];
  for (let at = 0; at < bytes.length; at += CHUNK) chunks.push(new Uint8Array(bytes.buffer, bytes.byteOffset + at, Math.min(CHUNK, bytes.length - at)));
  return chunks;
}

function concat(chunks, length) {
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function engines(log) {
  for (const file of [WASM, MODULE]) {
    if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`${BUILD_COMMAND}\` first`);
  }
  let hrw;
  let linkedom;
  try {
    hrw = (await import('html-rewriter-wasm')).default ?? (await import('html-rewriter-wasm'));
    linkedom = await import('linkedom');
  } catch (error) {
    throw new Error(`html-rewriter-wasm or linkedom is missing: run \`npm ci --prefix benches/edge\` (${error.message})`);
  }
  const bareGlue = lolHtmlWasmGlue(log);
  const bare = await import(pathToFileURL(bareGlue).href);
  await bare.default({ module_or_path: readFileSync(bareGlue.replace(/\.js$/, '_bg.wasm')) });
  const { createPersonalizer } = await import(pathToFileURL(MODULE).href);
  const errors = [];
  const personalizer = createPersonalizer({
    config: BENCH_CONFIG, wasm: readFileSync(WASM), strategy: 'lol-html',
    onError: (error) => errors.push(String(error?.message ?? error)),
  });
  if (!personalizer.ready) throw new Error(`createPersonalizer failed: ${errors.join('; ')}`);

  const originResponse = (chunks) => new Response(new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  }), { headers: { 'content-type': 'text/html; charset=utf-8' } });

  // The engine's own API, as html-rewriter-wasm is driven: chunks in, chunks out,
  // no Response or Web Streams around it.
  const glue = await import(pathToFileURL(path.join(path.dirname(MODULE), 'edge_persona_edge.js')).href);
  const worker = new glue.EdgeWorker(JSON.stringify(BENCH_CONFIG), undefined, false);
  const head = JSON.stringify({ status: 200, contentType: 'text/html; charset=utf-8' });
  const words = new Uint32Array(2);

  const encoder = new TextEncoder();
  return {
    errors,
    /** The origin response's body read whole: what ours pays for Node's Response and streams. */
    passthrough: async (chunks) => ({ out: new Uint8Array(await originResponse(chunks).arrayBuffer()) }),
    /** `request` carries the cookies; returns `{ out: Uint8Array, setCookie }`. */
    ours: async (chunks, request) => {
      const response = personalizer.personalize(request, originResponse(chunks));
      return { out: new Uint8Array(await response.arrayBuffer()), setCookie: response.headers.get('set-cookie') };
    },
    'ours-direct': async (chunks, request) => {
      crypto.getRandomValues(words);
      const facts = {
        method: 'GET', url: request.url, cookie: request.headers.get('cookie'),
        userAgent: request.headers.get('user-agent'), acceptLanguage: request.headers.get('accept-language'),
        nowMs: Date.now(),
      };
      const session = worker.respond(JSON.stringify(facts), head, words[0], words[1]);
      try {
        const parts = [];
        for (const c of chunks) parts.push(session.write(c));
        parts.push(session.end());
        const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const part of parts) { out.set(part, at); at += part.length; }
        const setCookie = (JSON.parse(session.headers).append ?? []).filter(([n]) => n === 'set-cookie').map(([, v]) => v);
        return { out, setCookie };
      } finally {
        session.free();
      }
    },
    'html-rewriter-wasm': async (chunks) => {
      const parts = [];
      let length = 0;
      // The chunk is a view of the rewriter's memory: copy it.
      const rewriter = new hrw.HTMLRewriter((chunk) => {
        parts.push(chunk.slice());
        length += chunk.length;
      });
      for (const swap of SWAPS) {
        rewriter.on(swap.selector, {
          element(el) {
            if (swap.html !== undefined) el.setInnerContent(swap.html, { html: true });
            else el.setInnerContent(swap.text);
            el.setAttribute('data-ep-applied', swap.key);
          },
        });
      }
      try {
        for (const c of chunks) await rewriter.write(c);
        await rewriter.end();
      } finally {
        rewriter.free();
      }
      return { out: concat(parts, length) };
    },
    'lol-html-wasm': async (chunks) => {
      const rewriter = new bare.ThreeSwaps(SWAPS[0].html, SWAPS[1].text, SWAPS[2].text);
      try {
        const parts = chunks.map((c) => rewriter.write(c));
        parts.push(rewriter.end());
        return { out: concat(parts, parts.reduce((n, p) => n + p.length, 0)) };
      } finally {
        rewriter.free();
      }
    },
    linkedom: async (chunks) => {
      const decoder = new TextDecoder();
      let text = '';
      for (const c of chunks) text += decoder.decode(c, { stream: true });
      text += decoder.decode();
      const { document } = linkedom.parseHTML(text);
      for (const swap of SWAPS) {
        for (const el of document.querySelectorAll(swap.selector)) {
          if (swap.html !== undefined) el.innerHTML = swap.html;
          else el.textContent = swap.text;
          el.setAttribute('data-ep-applied', swap.key);
        }
      }
      return { out: encoder.encode(document.toString()) };
    },
  };
}

/** The native rows, or `{ missing }` when the binary is not built. */
function nativeRows(iterations) {
  if (!existsSync(NATIVE)) return { missing: `${path.relative(ROOT, NATIVE)} is not built: run \`${NATIVE_BUILD_COMMAND}\`` };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edge-persona-bench-native-'));
  try {
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify(BENCH_CONFIG));
    const run = spawnSync(NATIVE, [config, CORPUS_DIR, String(iterations)], { encoding: 'utf8', maxBuffer: 16 << 20 });
    if (run.error || run.status !== 0) {
      return { missing: `${path.relative(ROOT, NATIVE)} failed (${run.error?.message ?? `exit ${run.status}`}): ${run.stderr.trim()}` };
    }
    const rows = new Map();
    for (const line of run.stdout.split('\n')) {
      if (!line.trim().startsWith('{')) continue;
      const row = JSON.parse(line);
      rows.set(row.page, row);
    }
    return { rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the bench; returns `{ pages: [{name, size, medians, native}], totals, … }`. */
export async function run({ iterations = 30, warmup = 10, nativeIterations = 200, pageFilter = null, log = console.error } = {}) {
  let pages = loadCorpus();
  if (pageFilter) pages = pages.filter((p) => pageFilter.some((f) => p.name.startsWith(f)));
  if (!pages.length) throw new Error('no corpus page matches --pages');
  const run = await engines(log);
  const request = (profile) => new Request(BENCH_URL, { headers: { ...REQUEST_HEADERS, cookie: cookieHeader(profile) } });

  // A returning visitor: the profile cookie of a first response.
  for (const page of pages) page.chunks = chunksOf(page.bytes);
  const first = await run.ours(pages[0].chunks, request(null));
  const profile = profileFromSetCookie(first.setCookie);
  if (!profile) throw new Error(`the first response set no profile cookie (set-cookie: ${first.setCookie}; errors: ${run.errors.join('; ')})`);
  const returning = request(profile);

  // What each engine does to each page, checked once before timing.
  const checks = [];
  const decoder = new TextDecoder();
  for (const page of pages) {
    page.out = {};
    for (const engine of ENGINES) {
      const { out, setCookie } = await run[engine](page.chunks, returning);
      const text = decoder.decode(out);
      page.out[engine] = { bytes: out.length, applied: appliedKeys(text) };
      if (engine === 'ours') {
        const status = handoffCookieStatus(text)?.status;
        if (status !== 'valid') checks.push(`ours/${page.name}: profile cookie ${status ?? 'not reported'} (expected valid)`);
        if (!profileFromSetCookie(setCookie)) checks.push(`ours/${page.name}: no profile cookie set`);
      }
    }
    if (page.out.passthrough.bytes !== page.bytes.length) checks.push(`passthrough/${page.name}: ${page.out.passthrough.bytes} bytes, not ${page.bytes.length}`);
    for (const engine of BY_HAND) {
      if (page.out[engine].applied.join(',') !== page.out.ours.applied.join(',')) {
        checks.push(`${engine}/${page.name}: applied [${page.out[engine].applied}] where ours applied [${page.out.ours.applied}]`);
      }
    }
  }
  if (run.errors.length) checks.push(`ours reported: ${[...new Set(run.errors)].join('; ')}`);
  for (const c of checks) log(`check: ${c}`);

  // Timing: µs per page, engines in turn.
  const times = await timeInTurns({
    pages, names: ENGINES, warmup, iterations, log,
    async time(engine, page) {
      const started = process.hrtime.bigint();
      await run[engine](page.chunks, returning);
      return Number(process.hrtime.bigint() - started) / 1000;
    },
  });

  log(existsSync(NATIVE) ? `native: ${path.relative(ROOT, NATIVE)} (${nativeIterations} iterations per page)` : 'native: not built');
  const native = nativeRows(nativeIterations);
  if (native.missing) log(`native rows missing: ${native.missing}`);
  const results = pages.map((page) => {
    const n = native.rows?.get(page.name);
    return {
      name: page.name,
      size: page.bytes.length,
      bytes: Object.fromEntries(ENGINES.map((e) => [e, page.out[e].bytes])),
      applied: page.out.ours.applied,
      medians: Object.fromEntries(ENGINES.map((e) => [e, median(times.get(page.name)[e])])),
      native: n ? { memcpy: n.memcpyNs / 1000, lolHtml: n.lolHtmlNs / 1000, ours: n.oursNs / 1000 } : null,
    };
  });
  const sum = (f) => results.reduce((s, r) => s + f(r), 0);
  const hasNative = results.every((r) => r.native);
  const totals = {
    medians: Object.fromEntries(ENGINES.map((e) => [e, sum((r) => r.medians[e])])),
    native: hasNative ? { memcpy: sum((r) => r.native.memcpy), lolHtml: sum((r) => r.native.lolHtml), ours: sum((r) => r.native.ours) } : null,
  };
  const totalRatio = totals.medians['html-rewriter-wasm'] / totals.medians['ours-direct'];
  return {
    machine: machineLine(),
    versions: {
      'html-rewriter-wasm': versionIn(HERE, 'html-rewriter-wasm'), linkedom: versionIn(HERE, 'linkedom'),
      lol_html: /lol_html = "=([^"]+)"/.exec(readFileSync(path.join(LOL_HTML_WASM_DIR, 'Cargo.toml'), 'utf8'))?.[1] ?? '?',
    },
    iterations, warmup, nativeIterations, corpusPages: loadCorpus().length,
    pages: results, totals, nativeMissing: native.missing ?? (hasNative ? null : 'some pages have no native row'),
    target: {
      ratio: totalRatio, wanted: TARGET_RATIO, met: totalRatio >= TARGET_RATIO,
      pagesBelow: results.filter((r) => r.medians['html-rewriter-wasm'] / r.medians['ours-direct'] < TARGET_RATIO).map((r) => r.name),
    },
    checks,
  };
}

/** µs: two decimals under 10, one under 100, whole above. */
export function us(x) {
  if (x == null || !Number.isFinite(x)) return '–';
  if (x < 10) return x.toFixed(2);
  if (x < 100) return x.toFixed(1);
  return num(x);
}

export function markdown(r) {
  const rows = [
    '| page | KB | Node Response passthrough | ours via Response + Web Streams (cloudflare.js) | ours, engine API (wasm) | html-rewriter-wasm (3 swaps) | linkedom (3 swaps) | html-rewriter-wasm / ours (engine API) | wasm: lol-html alone, 3 swaps | native: copy | native: lol-html, 3 swaps | native: ours, full path |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const line = (name, size, m, n, bold = false) => {
    const b = (s) => (bold ? `**${s}**` : s);
    return `| ${b(name)} | ${b(kb(size))} | ${b(us(m.passthrough))} | ${b(us(m.ours))} | ${b(us(m['ours-direct']))} | ${b(us(m['html-rewriter-wasm']))} | ${b(us(m.linkedom))} | ${b(ratio(m['html-rewriter-wasm'], m['ours-direct']))} | ${b(us(m['lol-html-wasm']))} | ${b(us(n?.memcpy))} | ${b(us(n?.lolHtml))} | ${b(us(n?.ours))} |`;
  };
  for (const p of r.pages) rows.push(line(p.name, p.size, p.medians, p.native));
  rows.push(line(`total (${r.pages.length} pages)`, r.pages.reduce((s, p) => s + p.size, 0), r.totals.medians, r.totals.native, true));
  const notes = [
    '',
    `${r.machine}, html-rewriter-wasm ${r.versions['html-rewriter-wasm']}, linkedom ${r.versions.linkedom}; µs per page, medians of ${r.iterations} runs per page per engine after ${r.warmup} warm-up rounds, engines in turn; native: medians of ${r.nativeIterations} runs of \`target/release/examples/edge_bench\` (\`examples/edge_bench.rs\`). Every engine gets the page as the same 16 KB chunks and its output is collected whole. *Node Response passthrough*: the origin response (a \`Response\` over a \`ReadableStream\` of the chunks) read with \`arrayBuffer()\`, no rewriting: the part of *ours* that is Node's Response and Web Streams. *ours*: \`createPersonalizer({strategy: "lol-html"})\` of \`pkg/npm/cloudflare.js\`, the full path for a returning visitor with a \`name\` cookie (profile cookie decode, classify, decide, three slots rewritten through lol-html in our wasm, hand-off, set-cookie), body read with \`arrayBuffer()\`; *html-rewriter-wasm* and *linkedom*: the same three swaps (inner content of h1 as markup, footer and nav as text, plus \`data-ep-applied\`) with no decision; linkedom's time includes decoding, \`parseHTML\`, \`document.toString()\` and encoding. *wasm: lol-html alone*: the same three swaps by lol-html ${r.versions['lol_html']} compiled as our Cloudflare build is (release, LTO, SIMD; \`benches/edge/lol-html-wasm\`) and driven chunk by chunk the same way: the wasm lower bound of *ours, engine API*. Config: \`benches/edge/config.mjs\`.`,
  ];
  if (r.nativeMissing) notes.push('', `Native rows missing: ${r.nativeMissing}.`);
  notes.push('', `Over the corpus, lol-html alone in wasm is ${ratio(r.totals.medians['html-rewriter-wasm'], r.totals.medians['lol-html-wasm'])} faster than html-rewriter-wasm; ours (engine API) takes ${ratio(r.totals.medians['ours-direct'], r.totals.medians['lol-html-wasm'])} the time of lol-html alone in wasm (natively ${r.totals.native ? ratio(r.totals.native.ours, r.totals.native.lolHtml) : '–'}).`);
  const below = r.target.pagesBelow.length ? ` (below ${r.target.wanted}× on ${r.target.pagesBelow.length} of ${r.pages.length} pages)` : '';
  notes.push('', `**Target: at least ${r.target.wanted}× faster than html-rewriter-wasm (both through their own engine APIs). ${r.target.met ? 'Met' : 'NOT met'}: ${ratio(r.totals.medians['html-rewriter-wasm'], r.totals.medians['ours-direct'])} over the corpus${below}.**`);
  return tableWithNotes(rows, notes, r);
}

await benchMain(import.meta.url, {
  run,
  markdown,
  section: 'edge-node',
  title: 'Per-page time in Node, with native lower bounds',
  numbers: { iterations: 30, warmup: 10, nativeIterations: 200 },
});
