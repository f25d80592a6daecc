// Nothing edge-persona specific is needed: the package loads its wasm through
// `new URL('edge_persona_bg.wasm', import.meta.url)`, which webpack 5 emits as an
// asset, and its debug overlay is a lazy chunk.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import HtmlWebpackPlugin from 'html-webpack-plugin';

const here = path.dirname(fileURLToPath(import.meta.url));

export default {
  entry: './src/main.js',
  output: { path: path.join(here, 'dist'), filename: '[name].[contenthash].js', clean: true },
  plugins: [new HtmlWebpackPlugin({ template: './index.html', scriptLoading: 'module' })],
  experiments: { outputModule: true, topLevelAwait: true },
  // The wasm is over webpack's default 244 KiB hint; its size is measured and
  // budgeted in BENCHMARKS.md, not here.
  performance: { hints: false },
};
