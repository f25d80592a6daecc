// Sizes of the edge builds' wasm, raw / gzip -9 / brotli -q 11, against the platforms'
// limits: the Cloudflare module's wasm against Workers' script size limit (3 MB on the
// free plan, 10 MB paid, after compression), the Fastly program against Fastly
// Compute's package limit (100 MB, compressed).
//
//   python3 scripts/build web cloudflare npm                             (pkg/npm/edge_persona_edge_bg.wasm)
//   cargo build --release --target wasm32-wasip1 -p edge-persona-fastly  (the Fastly program)
//   node benches/edge/sizes.mjs            Markdown table on stdout (≈ 30 s: brotli at quality 11)
//   node benches/edge/sizes.mjs --json     machine-readable results
//   node benches/edge/sizes.mjs --write    also replace the edge-sizes section of BENCHMARKS.md
//
// gzip (level 9) and brotli (quality 11) are Node's zlib, through compressedSizes of
// benches/browser/lib.mjs, the same as the browser bundle sizes. A Worker's limit
// counts its whole bundle, so the Worker's JavaScript (pkg/npm/cloudflare.js and the
// wasm-bindgen glue, as shipped, unminified) is listed and added for the total.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { compressedSizes, isMain, num, writeSection } from '../browser/lib.mjs';
import { ROOT, machineLine } from './config.mjs';

const MB = 1_000_000;
export const LIMITS = {
  cloudflareFree: 3 * MB,
  cloudflarePaid: 10 * MB,
  fastly: 100 * MB,
};

const CLOUDFLARE = {
  wasm: 'pkg/npm/edge_persona_edge_bg.wasm',
  js: ['pkg/npm/cloudflare.js', 'pkg/npm/edge_persona_edge.js'],
  build: 'python3 scripts/build web cloudflare npm',
};
const FASTLY = {
  wasm: 'target/wasm32-wasip1/release/edge-persona-fastly.wasm',
  build: 'cargo build --release --target wasm32-wasip1 -p edge-persona-fastly',
};

function measure(file) {
  const full = path.join(ROOT, file);
  return existsSync(full) ? { file, ...compressedSizes(readFileSync(full)) } : { file, missing: true };
}

export function run() {
  const cf = { wasm: measure(CLOUDFLARE.wasm), js: CLOUDFLARE.js.map(measure) };
  const parts = [cf.wasm, ...cf.js];
  cf.total = parts.some((p) => p.missing) ? null : {
    raw: parts.reduce((s, p) => s + p.raw, 0),
    gzip: parts.reduce((s, p) => s + p.gzip, 0),
    brotli: parts.reduce((s, p) => s + p.brotli, 0),
  };
  const fastly = { wasm: measure(FASTLY.wasm) };
  return { machine: machineLine(), limits: LIMITS, cloudflare: cf, fastly };
}

const pct = (bytes, limit) => `${((100 * bytes) / limit).toFixed(bytes * 1000 < limit ? 2 : 1)} %`;

export function markdown(r) {
  const rows = [
    '| what | raw | gzip -9 | brotli -q 11 | limit (compressed) | gzip share of the limit |',
    '|---|---:|---:|---:|---|---:|',
  ];
  const cfLimit = `Workers: ${num(LIMITS.cloudflareFree)} free / ${num(LIMITS.cloudflarePaid)} paid`;
  const row = (what, m, limit, share) => (m.missing
    ? `| ${what}: missing | – | – | – | ${limit} | – |`
    : `| ${what} | ${num(m.raw)} | ${num(m.gzip)} | ${num(m.brotli)} | ${limit} | ${share(m.gzip)} |`);
  const cfShare = (gz) => `${pct(gz, LIMITS.cloudflareFree)} / ${pct(gz, LIMITS.cloudflarePaid)}`;
  rows.push(row(`Cloudflare module wasm \`${r.cloudflare.wasm.file}\``, r.cloudflare.wasm, cfLimit, cfShare));
  for (const js of r.cloudflare.js) rows.push(row(`its JavaScript \`${js.file}\``, js, '', () => ''));
  if (r.cloudflare.total) {
    const t = r.cloudflare.total;
    rows.push(`| **Worker's edge-persona part (wasm + JavaScript, each compressed on its own)** | **${num(t.raw)}** | **${num(t.gzip)}** | **${num(t.brotli)}** | ${cfLimit} | **${cfShare(t.gzip)}** |`);
  }
  rows.push(row(`Fastly program \`${r.fastly.wasm.file}\``, r.fastly.wasm, `Compute package: ${num(LIMITS.fastly)}`, (gz) => pct(gz, LIMITS.fastly)));

  const missing = [
    ...(r.cloudflare.wasm.missing || r.cloudflare.js.some((j) => j.missing) ? [`\`${CLOUDFLARE.build}\``] : []),
    ...(r.fastly.wasm.missing ? [`\`${FASTLY.build}\``] : []),
  ];
  const cfGzip = r.cloudflare.total?.gzip;
  const fastlyGzip = r.fastly.wasm.gzip;
  const verdicts = [];
  if (cfGzip != null) verdicts.push(`The Worker's part is ${num(cfGzip)} bytes gzip: ${cfGzip < LIMITS.cloudflareFree ? 'within' : 'OVER'} the free plan's 3 MB (${pct(cfGzip, LIMITS.cloudflareFree)}) and ${cfGzip < LIMITS.cloudflarePaid ? 'within' : 'OVER'} the paid plan's 10 MB`);
  if (fastlyGzip != null) verdicts.push(`${verdicts.length ? 't' : 'T'}he Fastly program is ${num(fastlyGzip)} bytes gzip: ${fastlyGzip < LIMITS.fastly ? 'within' : 'OVER'} the 100 MB package limit (${pct(fastlyGzip, LIMITS.fastly)})`);
  const notes = [
    '',
    `${r.machine}. Bytes; gzip and brotli are Node's zlib (level 9, quality 11), each file on its own. Limits in decimal MB (the stricter reading): Cloudflare counts a Worker's whole bundle after gzip, the site's own code included, so the total here is edge-persona's share of it (its JavaScript as shipped, before the site's bundler minifies it); Fastly counts the compressed package (the \`.tar.gz\` with the wasm and fastly.toml).`,
  ];
  if (verdicts.length) notes.push('', `**${verdicts.join('; ')}.**`);
  if (missing.length) notes.push('', `Not built: run ${missing.join(' and ')}.`);
  return rows.concat(notes).join('\n');
}

function main() {
  const args = process.argv.slice(2);
  const result = run();
  if (args.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else console.log(markdown(result));
  if (args.includes('--write')) {
    writeSection('edge-sizes', 'Edge', `**Edge wasm sizes**\n\n${result.machine.split(',')[0]}, \`node benches/edge/sizes.mjs --write\`\n\n${markdown(result)}`);
    console.error('BENCHMARKS.md: edge-sizes section written');
  }
}

if (isMain(import.meta.url)) main();
