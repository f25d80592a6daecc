// The npm package inside a webpack 5 build (www/webpack-app, built by scripts/test):
// `package.json` `exports` resolve, the wasm is emitted as webpack's own asset and
// found through import.meta.url, with no plugin or experiment flag for it, and the
// runtime swaps the hero from the page's <template>.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { launch, startStretchedBuild } from './harness.mjs';

const dist = fileURLToPath(new URL('../../www/webpack-app/dist/', import.meta.url));
let server;
let browser;

before(async () => {
  server = await startStretchedBuild(dist);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('a webpack bundle loads the wasm as its own asset and the runtime applies the decision', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    const wasmRequests = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasmRequests.push(r.url()); });
    await page.goto(server.url);
    await page.waitForFunction(() => document.documentElement.classList.contains('ep-ready'), null, { timeout: 15_000 });
    const hero = await page.evaluate(() => ({
      applied: document.querySelector('[data-ep-slot="hero"]').getAttribute('data-ep-applied'),
      title: document.querySelector('[data-ep-slot="hero"] h1').textContent,
    }));
    assert.deepEqual(hero, { applied: 'hero-newcomer', title: 'Впервые у нас? Всё просто' });
    assert.deepEqual(errors, []);
    assert.ok(wasmRequests.length === 1 && /\/[0-9a-f]{16,}\.wasm$/.test(wasmRequests[0]),
      `the wasm is webpack's hashed asset: ${wasmRequests.join(', ')}`);
  } finally {
    await context.close();
  }
});
