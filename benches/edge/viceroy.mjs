// The Fastly Compute program (examples/fastly-compute) under Viceroy, Fastly's local
// runtime: wall time per request for each corpus page, against Fastly's CPU budget of
// 50 ms per request.
//
//   cargo build --release --target wasm32-wasip1 -p edge-persona-fastly   (the program)
//   node benches/edge/viceroy.mjs                 Markdown table on stdout
//   node benches/edge/viceroy.mjs --json          machine-readable results (every median)
//   node benches/edge/viceroy.mjs --write         also replace the edge-viceroy section of BENCHMARKS.md
//   options: --iterations N (20 requests per page) --warmup N (2 rounds)
//            --pages 01,05 (only pages whose file name starts with one of these; not with --write)
//
// Viceroy is started as tests/edge-fastly starts it (tests/edge-shared/viceroy.mjs),
// with the benchmark config (benches/edge/config.mjs) in the Config Store key `config`,
// in front of the loopback origin of the edge tests (tests/edge-shared/origin.mjs),
// which serves each page at /corpus/<page>. Every request carries the visitor's `name`
// cookie and a valid profile cookie that a first response set, so each runs the full
// path: profile cookie decode, classify, decide, three slots rewritten, set-cookie.
// Each request is timed from Node, request sent to last body byte, on a loopback
// connection of its own, as the Fastly tests do (over a kept-alive connection every
// answer from Viceroy came ≈ 40 ms late, most likely a TCP delayed-ACK stall, no part
// of the program). That wall time includes Viceroy instantiating the program for the
// request, the program loading its config, and its fetch from the origin, so it is an
// upper bound of the CPU time Fastly would count. The same page fetched from the
// origin directly, in turn with the edge requests, shows what the loopback fetch costs.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startOrigin } from '../../tests/edge-shared/origin.mjs';
import { FASTLY_BUILD_COMMAND, FASTLY_WASM, VICEROY, startViceroy } from '../../tests/edge-shared/viceroy.mjs';
import {
  BENCH_CONFIG, QUERY, REQUEST_HEADERS, ROOT, appliedKeys, cookieHeader, handoffCookieStatus, kb, loadCorpus,
  machineLine, median, profileFromSetCookie, quantile, benchMain, tableWithNotes, timeInTurns,
} from './config.mjs';

/** Fastly Compute's CPU time limit per request. */
export const BUDGET_MS = 50;

/**
 * One GET through node:http on a connection of its own (see above: not kept alive):
 * status, headers, body, wall time in ms.
 */
function get(base, pathname, headers) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(new URL(pathname, base), { agent: false, headers: { ...REQUEST_HEADERS, ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error(`GET ${pathname}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function viceroyVersion() {
  const out = spawnSync(VICEROY, ['--version'], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim().replace(/^viceroy\s+/i, '') : 'unknown';
}

/** Runs the bench; returns `{ pages: [{name, size, edge: {median, p90, max}, origin}], … }`. */
export async function run({ iterations = 20, warmup = 2, pageFilter = null, log = console.error } = {}) {
  if (!existsSync(FASTLY_WASM)) throw new Error(`${path.relative(ROOT, FASTLY_WASM)} is missing: run \`${FASTLY_BUILD_COMMAND}\` first`);
  let pages = loadCorpus();
  if (pageFilter) pages = pages.filter((p) => pageFilter.some((f) => p.name.startsWith(f)));
  if (!pages.length) throw new Error('no corpus page matches --pages');

  const origin = await startOrigin();
  const originBase = origin.url.replace(/\/$/, '');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edge-persona-bench-viceroy-'));
  let viceroy;
  try {
    viceroy = await startViceroy('bench', dir, { backend: originBase, store: { config: JSON.stringify(BENCH_CONFIG) } });
    const url = (page) => `/corpus/${page}?${QUERY}`;

    // A returning visitor: the profile cookie of a first response.
    const first = await get(viceroy.base, url(pages[0].name), { cookie: cookieHeader(null) });
    const profile = profileFromSetCookie(first.headers['set-cookie']);
    if (!profile) throw new Error(`the first response set no profile cookie (HTTP ${first.status}, set-cookie: ${first.headers['set-cookie']}):\n${viceroy.output}`);
    const cookie = cookieHeader(profile);

    // What the program does to each page, checked once before timing.
    const checks = [];
    for (const page of pages) {
      const edge = await get(viceroy.base, url(page.name), { cookie });
      const text = edge.body.toString('utf8');
      page.out = { status: edge.status, bytes: edge.body.length, applied: appliedKeys(text) };
      if (edge.status !== 200) checks.push(`${page.name}: HTTP ${edge.status}`);
      const status = handoffCookieStatus(text)?.status;
      if (status !== 'valid') checks.push(`${page.name}: profile cookie ${status ?? 'not reported'} (expected valid)`);
      if (!profileFromSetCookie(edge.headers['set-cookie'])) checks.push(`${page.name}: no profile cookie set`);
      if (edge.headers['cache-control'] !== 'private, no-store') checks.push(`${page.name}: not personalized (cache-control ${edge.headers['cache-control']})`);
    }
    for (const c of checks) log(`check: ${c}`);

    // Timing: ms per request, edge and origin in turn.
    const times = await timeInTurns({
      pages, names: ['edge', 'origin'], warmup, iterations, log, logEvery: 5,
      async time(which, page) {
        const r = await get(which === 'edge' ? viceroy.base : originBase, url(page.name), { cookie });
        if (r.status !== 200) throw new Error(`${which} ${page.name}: HTTP ${r.status}`);
        return r.ms;
      },
    });

    const stats = (xs) => ({ median: median(xs), p90: quantile(xs, 0.9), max: Math.max(...xs) });
    const results = pages.map((page) => ({
      name: page.name, size: page.bytes.length, bytes: page.out.bytes, applied: page.out.applied,
      edge: stats(times.get(page.name).edge), origin: stats(times.get(page.name).origin),
    }));
    const all = results.flatMap((r) => times.get(r.name).edge);
    const worst = results.reduce((a, b) => (b.edge.median > a.edge.median ? b : a));
    return {
      machine: machineLine(), viceroy: viceroyVersion(), iterations, warmup, corpusPages: loadCorpus().length,
      wasm: path.relative(ROOT, FASTLY_WASM), pages: results,
      budget: { ms: BUDGET_MS, met: results.every((r) => r.edge.median < BUDGET_MS), worstPage: worst.name, worstMedian: worst.edge.median, maxRequest: Math.max(...all), over: all.filter((ms) => ms >= BUDGET_MS).length, requests: all.length },
      checks,
    };
  } finally {
    await viceroy?.stop();
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (x) => (Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 1) : '–');

export function markdown(r) {
  const rows = [
    '| page | KB | through Viceroy: median | p90 | max | origin directly: median | share of the 50 ms budget (median) |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const p of r.pages) {
    rows.push(`| ${p.name} | ${kb(p.size)} | ${ms(p.edge.median)} | ${ms(p.edge.p90)} | ${ms(p.edge.max)} | ${ms(p.origin.median)} | ${Math.round((100 * p.edge.median) / r.budget.ms)} % |`);
  }
  const b = r.budget;
  const notes = [
    '',
    `${r.machine}, Viceroy ${r.viceroy}, \`${r.wasm}\`; ms of wall time per request, ${r.iterations} requests per page after ${r.warmup} warm-up rounds, pages in turn. Each request is timed from Node (a new loopback connection per request, request sent to last body byte) for a returning visitor with a \`name\` cookie: Viceroy instantiates the program, which loads the benchmark config from the Config Store key \`config\`, fetches the page from the loopback origin (\`tests/edge-shared/origin.mjs\`, \`/corpus/<page>\`), decodes the profile cookie, classifies, decides, rewrites the three slots while streaming, and sets the profile cookie. *origin directly*: the same request to the origin, in turn with the edge's. Config: \`benches/edge/config.mjs\`.`,
    '',
    `**Budget: Fastly's 50 ms of CPU per request. ${b.met ? 'Met' : 'NOT met'}: the slowest page's median is ${ms(b.worstMedian)} ms (${b.worstPage}); ${b.over} of ${b.requests} requests took ${b.ms} ms or more (slowest ${ms(b.maxRequest)} ms).** Wall time includes the instantiation, the loopback fetch and Viceroy itself, so it is an upper bound of the CPU time Fastly would count, on a local runtime rather than Fastly's.`,
  ];
  return tableWithNotes(rows, notes, r);
}

await benchMain(import.meta.url, {
  run,
  markdown,
  section: 'edge-viceroy',
  title: 'The Fastly program under Viceroy',
  numbers: { iterations: 20, warmup: 2 },
});
