import { defineConfig } from 'vite';

// Nothing edge-persona specific is needed: the package loads its wasm through
// `new URL('edge_persona_bg.wasm', import.meta.url)`, which Vite emits as an asset.
export default defineConfig({
  build: { target: 'es2022' },
});
