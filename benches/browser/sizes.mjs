// What a script-tag site downloads: edge-persona against GrowthBook, Uniform Context
// and Optimizely, measured in the same run.
//
// Each peer gets a tiny entry (entries/*.js) doing what a landing page needs, bundled
// by esbuild the same way for all (bundle, minify, ESM, browser, es2020, tree
// shaking, NODE_ENV=production); GrowthBook's prebuilt script-tag bundles are measured
// as shipped. edge-persona is the files a script-tag site downloads from pkg/npm,
// each compressed on its own as a server would send it.
//
//   node benches/browser/sizes.mjs            Markdown table on stdout
//   node benches/browser/sizes.mjs --json     machine-readable results
//   node benches/browser/sizes.mjs --write    also replace the sizes section of BENCHMARKS.md
//   node benches/browser/sizes.mjs --pkg DIR  edge-persona's files from DIR (default pkg/npm)
//
// `edgePersonaSize(root)` is exported for the test that enforces the size budget.

import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { compressedSizes, HERE, installedVersion, isMain, num, ROOT, today, writeSection } from './lib.mjs';

/** The files a script-tag site downloads, in load order. */
export const EDGE_PERSONA_FILES = ['loader.js', 'edge-persona.js', 'edge_persona.js', 'edge_persona_bg.wasm'];
/** Loaded lazily, in debug mode only: listed, never counted in the total. */
export const EDGE_PERSONA_LAZY = ['debug.js'];

/**
 * Sizes of edge-persona's script-tag files in `<root>/pkg/npm` (or `dir` if given):
 * `{ dir, files: [{name, raw, gzip, brotli}], total: {raw, gzip, brotli}, lazy: [...] }`.
 * Returns null when the directory does not exist (not built yet); throws when it
 * exists but one of the downloaded files is missing.
 */
export function edgePersonaSize(root = ROOT, dir = join(root, 'pkg', 'npm')) {
  if (!existsSync(dir)) return null;
  const measure = (name) => ({ name, ...compressedSizes(readFileSync(join(dir, name))) });
  const missing = EDGE_PERSONA_FILES.filter((name) => !existsSync(join(dir, name)));
  if (missing.length) throw new Error(`${dir}: missing ${missing.join(', ')}`);
  const files = EDGE_PERSONA_FILES.map(measure);
  const total = { raw: 0, gzip: 0, brotli: 0 };
  for (const f of files) for (const k of Object.keys(total)) total[k] += f[k];
  const lazy = EDGE_PERSONA_LAZY.filter((name) => existsSync(join(dir, name))).map(measure);
  return { dir, files, total, lazy };
}

/** One esbuild configuration for every peer. */
export const ESBUILD_OPTIONS = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  treeShaking: true,
  define: { 'process.env.NODE_ENV': '"production"' },
  write: false,
  logLevel: 'silent',
};

/** The peers: an entry bundled with esbuild, or a prebuilt file measured as shipped. */
const PEERS = [
  {
    id: 'growthbook',
    what: 'GrowthBook: `new GrowthBook({attributes, features})` + `getFeatureValue`/`isOn`, bundled',
    pkg: '@growthbook/growthbook',
    entry: 'entries/growthbook.js',
  },
  {
    id: 'growthbook-auto',
    what: 'GrowthBook script tag (auto: fetches features, runs visual experiments), as shipped',
    pkg: '@growthbook/growthbook',
    file: 'dist/bundles/auto.min.js',
  },
  {
    id: 'growthbook-global',
    what: 'GrowthBook script tag (SDK as a global, no auto-run), as shipped',
    pkg: '@growthbook/growthbook',
    file: 'dist/bundles/index.min.js',
  },
  {
    id: 'uniform',
    what: 'Uniform Context: `new Context({manifest})` + `update` + `personalize` + `test`, bundled',
    pkg: '@uniformdev/context',
    entry: 'entries/uniform.js',
  },
  {
    id: 'optimizely',
    what: 'Optimizely: `createInstance` (static datafile) + `createUserContext().decide()`, bundled',
    pkg: '@optimizely/optimizely-sdk',
    entry: 'entries/optimizely.js',
  },
];

async function measurePeers() {
  const esbuild = await import('esbuild');
  const results = [];
  for (const peer of PEERS) {
    const version = installedVersion(peer.pkg);
    if (peer.file) {
      const path = join(HERE, 'node_modules', peer.pkg, peer.file);
      results.push({ ...peer, version, source: `${peer.pkg}/${peer.file}`, ...compressedSizes(readFileSync(path)) });
      continue;
    }
    const out = await esbuild.build({ ...ESBUILD_OPTIONS, absWorkingDir: HERE, entryPoints: [join(HERE, peer.entry)] });
    const [bundle] = out.outputFiles;
    results.push({ ...peer, version, source: `benches/browser/${peer.entry}`, ...compressedSizes(bundle.contents) });
  }
  return { esbuild: esbuild.version, peers: results };
}

function markdown({ esbuild, peers }, ours) {
  const rows = [
    '| what | raw | gzip -9 | brotli -q 11 |',
    '|---|---:|---:|---:|',
  ];
  if (ours) {
    const dir = relative(ROOT, ours.dir) || '.';
    for (const f of ours.files) {
      rows.push(`| edge-persona \`${dir}/${f.name}\` | ${num(f.raw)} | ${num(f.gzip)} | ${num(f.brotli)} |`);
    }
    const t = ours.total;
    rows.push(`| **edge-persona total (${ours.files.length} files, each compressed on its own)** | **${num(t.raw)}** | **${num(t.gzip)}** | **${num(t.brotli)}** |`);
    for (const f of ours.lazy) {
      rows.push(`| edge-persona \`${dir}/${f.name}\` (debug mode only, loaded lazily; not in the total) | ${num(f.raw)} | ${num(f.gzip)} | ${num(f.brotli)} |`);
    }
  } else {
    rows.push('| edge-persona: not built (run scripts/build web npm) | – | – | – |');
  }
  for (const p of peers) {
    rows.push(`| ${p.what} (\`${p.source}\`) | ${num(p.raw)} | ${num(p.gzip)} | ${num(p.brotli)} |`);
  }
  const versions = [...new Map(peers.map((p) => [p.pkg, p.version]))]
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  const notes = [
    '',
    `Bytes. Peers: ${versions}; bundled by esbuild ${esbuild} (bundle, minify, ESM, platform browser, target es2020, tree shaking, NODE_ENV=production), entries in \`benches/browser/entries/\`; each peer's entry includes its small inline config (features, manifest or datafile). gzip and brotli are Node's zlib.`,
  ];
  return rows.concat(notes).join('\n');
}

async function main() {
  const args = process.argv.slice(2);
  const pkgAt = args.indexOf('--pkg');
  const dir = pkgAt >= 0 ? args[pkgAt + 1] : join(ROOT, 'pkg', 'npm');
  const ours = edgePersonaSize(ROOT, dir);
  const peers = await measurePeers();
  if (args.includes('--json')) {
    console.log(JSON.stringify({ date: today(), edgePersona: ours, ...peers }, null, 2));
  } else {
    if (!ours) console.log('edge-persona: not built (run scripts/build web npm)\n');
    console.log(markdown(peers, ours));
  }
  if (args.includes('--write')) {
    const body = `${today()}, \`node benches/browser/sizes.mjs --write\`\n\n${markdown(peers, ours)}`;
    writeSection('sizes', 'Browser bundle size (script tag)', body);
    console.error('BENCHMARKS.md: sizes section written');
  }
}

if (isMain(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
