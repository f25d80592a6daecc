// The npm package inside a real Vite build (www/vite-app, built by scripts/test):
// the wasm is emitted as an asset and found through import.meta.url, the runtime
// swaps the hero from the page's <template>, and the app renders the offers slot
// itself from the headless decision.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { launch, startStretchedBuild } from './harness.mjs';

const dist = fileURLToPath(new URL('../../www/vite-app/dist/', import.meta.url));
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

async function load(page, path) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const decided = page.evaluate(() => new Promise((resolve) => {
    document.addEventListener('edge-persona:decision', (e) => resolve(e.detail.decision), { once: true });
  })).catch(() => null);
  await page.goto(server.url.replace(/\/$/, '') + path);
  await page.waitForFunction(() => document.documentElement.classList.contains('ep-ready'));
  return { errors, decided };
}

test('the hero follows the decision and the app renders the offers it was given', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const wasmRequests = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasmRequests.push(r.url()); });
  // Everything written into #offers after parsing: only the app renders that slot,
  // so the runtime must never write there (no fight between the two).
  await context.addInitScript(() => {
    window.__offersWrites = [];
    new MutationObserver((records) => {
      for (const record of records) {
        const inOffers = record.target.closest?.('#offers') ?? record.target.parentElement?.closest('#offers');
        if (inOffers && document.readyState !== 'loading') {
          for (const node of record.addedNodes) window.__offersWrites.push(node.textContent);
        }
      }
    }).observe(document, { childList: true, subtree: true });
  });
  // Two premium product views, then the home page: the config's price bands put
  // 8 500 ₽ in `premium`, whose experience shows the fine-dining offers.
  for (const path of ['/?price=8500', '/?price=8500', '/']) {
    const { errors } = await load(page, path);
    assert.deepEqual(errors, []);
  }
  const state = await page.evaluate(() => ({
    hero: document.querySelector('[data-ep-slot="hero"]').getAttribute('data-ep-applied'),
    heroTitle: document.querySelector('[data-ep-slot="hero"] h1').textContent,
    offers: document.getElementById('offers').dataset.rendered ?? null,
  }));
  // Three page views in one session are still the first visit: `experience` is
  // `new` until a second visit, so the hero stays the newcomer's.
  assert.equal(state.hero, 'hero-newcomer');
  assert.equal(state.heroTitle, 'Впервые у нас? Всё просто');
  assert.equal(state.offers, 'fine-dining');
  const writes = await page.evaluate(() => window.__offersWrites);
  assert.ok(!writes.some((text) => /^(fine-dining|set-lunch)$/.test(text.trim())),
    `the runtime wrote the app's key into #offers: ${JSON.stringify(writes)}`);
  assert.ok(wasmRequests.length > 0 && wasmRequests.every((u) => /\/assets\/edge_persona_bg-[\w-]+\.wasm$/.test(u)),
    `the wasm is Vite's hashed asset: ${wasmRequests.join(', ')}`);
  await context.close();
});

test('a first visit gets the newcomer hero and keeps the default offers', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { errors } = await load(page, '/');
  assert.deepEqual(errors, []);
  const state = await page.evaluate(() => ({
    hero: document.querySelector('[data-ep-slot="hero"]').getAttribute('data-ep-applied'),
    offers: document.getElementById('offers').dataset.rendered ?? null,
    offersTitle: document.querySelector('#offers h2').textContent,
  }));
  assert.equal(state.hero, 'hero-newcomer');
  assert.equal(state.offers, null);
  assert.equal(state.offersTitle, 'Популярное');
  await context.close();
});
