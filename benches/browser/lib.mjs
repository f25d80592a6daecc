// Shared helpers of the browser benches: compressed sizes, number formatting, package
// versions and the marked sections of BENCHMARKS.md.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** benches/browser/ */
export const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository root. */
export const ROOT = resolve(HERE, '../..');
export const BENCHMARKS_MD = join(ROOT, 'BENCHMARKS.md');

/**
 * Bytes as shipped and as a server would send them: gzip at level 9 and brotli at
 * quality 11 (Node's zlib, generic mode, default window), each file on its own.
 */
export function compressedSizes(bytes) {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
      },
    }).length,
  };
}

/** 12345 → "12 345" (the thin grouping BENCHMARKS.md uses). */
export function num(n) {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** The version in node_modules/<name>/package.json, installed beside this file. */
export function installedVersion(name) {
  const file = join(HERE, 'node_modules', name, 'package.json');
  return JSON.parse(readFileSync(file, 'utf8')).version;
}

/** Today as YYYY-MM-DD. */
export function today() {
  return new Date().toISOString().slice(0, 10);
}

/** True when this module is the script node was started with. */
export function isMain(metaUrl) {
  return process.argv[1] !== undefined && metaUrl === pathToFileURL(resolve(process.argv[1])).href;
}

/**
 * Replaces what lies between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in
 * BENCHMARKS.md with `body`. When the markers are missing, appends `## heading`
 * and the markers at the end of the file first. Touches nothing else.
 */
export function writeSection(name, heading, body, file = BENCHMARKS_MD) {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  let text = readFileSync(file, 'utf8');
  if (!text.includes(begin) || !text.includes(end)) {
    text = `${text.replace(/\s*$/, '')}\n\n## ${heading}\n\n${begin}\n${end}\n`;
  }
  const start = text.indexOf(begin) + begin.length;
  const stop = text.indexOf(end, start);
  if (stop < 0) throw new Error(`${file}: ${end} comes before ${begin}`);
  text = `${text.slice(0, start)}\n${body.replace(/\s*$/, '')}\n${text.slice(stop)}`;
  writeFileSync(file, text);
}

/** The value after `name` on the command line, or `fallback`. */
export function option(args, name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

/**
 * GrowthBook as a landing page runs it: `export { <names> } from
 * '@growthbook/growthbook'` bundled by esbuild exactly as sizes.mjs bundles the peers
 * (so `process.env.NODE_ENV !== "production"` debug-log checks are compiled out).
 * Returns the bundle's bytes (an ES module).
 */
export async function growthbookBrowserBundle(names = ['GrowthBook']) {
  const [esbuild, { ESBUILD_OPTIONS }] = await Promise.all([import('esbuild'), import('./sizes.mjs')]);
  const out = await esbuild.build({
    ...ESBUILD_OPTIONS,
    absWorkingDir: HERE,
    stdin: { contents: `export { ${names.join(', ')} } from '@growthbook/growthbook';`, resolveDir: HERE, loader: 'js' },
  });
  return out.outputFiles[0].contents;
}

/** Chromium as the repository's browser tests launch it (playwright-core, /usr/bin/chromium). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

export async function launchChromium(extraArgs = []) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
}
