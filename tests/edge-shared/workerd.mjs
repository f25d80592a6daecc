// Workers for the tests that run the Cloudflare entry in workerd (Miniflare): bundled
// as wrangler would (esbuild, the package resolved to pkg/npm, the `.wasm` import
// left as a CompiledWasm module beside the script).
//
//   const dir = mkdtempSync(…);
//   await bundleWorker(dir, 'worker.js', source);      // source imports edge-persona/cloudflare
//   const worker = startWorker(dir, 'worker.js', { bindings: { … } });

import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { REPO } from './origin.mjs';

export const PKG = path.join(REPO, 'pkg', 'npm');
export const WASM = path.join(PKG, 'edge_persona_edge_bg.wasm');
/** The file name the bundled `.wasm` import points at, beside the script. */
const WASM_MODULE = 'edge_persona_edge_bg.wasm';

/**
 * Bundles `source` (a Worker module importing `edge-persona/cloudflare` and
 * `edge-persona/cloudflare.wasm`, or a file `source` names with `{ entry }`) into
 * `dir/outName`, with the package's wasm beside it.
 */
export async function bundleWorker(dir, outName, source, { entry } = {}) {
  if (!existsSync(WASM)) throw new Error(`${WASM} is missing: run \`python3 scripts/build web cloudflare npm\` first`);
  let entryPoint = entry;
  if (!entryPoint) {
    entryPoint = path.join(dir, `${path.basename(outName, '.js')}-entry.js`);
    writeFileSync(entryPoint, source);
  }
  await build({
    entryPoints: [entryPoint],
    outfile: path.join(dir, outName),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'warning',
    plugins: [{
      name: 'edge-persona-package',
      setup(b) {
        // Examples depend on the package as `file:../../pkg/npm`; resolve it there.
        b.onResolve({ filter: /^edge-persona\/cloudflare\.wasm$/ }, () => ({ path: `./${WASM_MODULE}`, external: true }));
        b.onResolve({ filter: /^edge-persona\/cloudflare$/ }, () => ({ path: path.join(PKG, 'cloudflare.js') }));
      },
    }],
  });
  copyFileSync(WASM, path.join(dir, WASM_MODULE));
}

/** A Miniflare running `dir/script`; `port` (0: any free one) also serves it over HTTP. */
export function startWorker(dir, script, { bindings = {}, cf, port } = {}) {
  return new Miniflare({
    scriptPath: path.join(dir, script),
    modules: true,
    modulesRoot: dir,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-07-01',
    bindings,
    ...(cf ? { cf } : {}),
    ...(port !== undefined ? { port, host: '127.0.0.1' } : {}),
  });
}

/** A Worker whose config is the `CONFIG` binding (JSON text): the package's ready handler. */
export const CONFIG_WORKER = `import wasm from 'edge-persona/cloudflare.wasm';
import { createHandler } from 'edge-persona/cloudflare';
let handler;
export default {
  fetch(request, env, ctx) {
    handler ??= createHandler({ config: env.CONFIG, wasm });
    return handler.fetch(request, env, ctx);
  },
};
`;
