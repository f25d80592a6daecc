// What every edge bench shares: the benchmark config, the visitor's request, the
// landing-page corpus, the three swaps the peers do by hand, and small helpers
// (medians, the machine line, the set-cookie reader). Not a bench itself.
//
// The config is the one examples/edge_bench.rs (native lower bounds) is given by
// benches/edge/node.mjs, so every row of every edge table does the same work:
// consent "none" (the edge writes the profile cookie), the `name` cookie read, three
// slots (h1, footer, nav) filled by an HTML swap, a text swap and a greeting.

import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT, today, isMain, option, writeSection } from '../browser/lib.mjs';

export { ROOT };

/** ../shared/corpus/pages beside the repository: 12 real landing pages, 8–265 KB. */
export const CORPUS_DIR = join(ROOT, '..', 'shared', 'corpus', 'pages');

/** The corpus pages' file names, sorted. */
export function corpusPages() {
  return readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.html')).sort();
}

/** `[{ name, bytes: Buffer, text }]` for every corpus page. */
export function loadCorpus() {
  return corpusPages().map((name) => {
    const bytes = readFileSync(join(CORPUS_DIR, name));
    return { name, bytes, text: bytes.toString('utf8') };
  });
}

export const HEADLINE_HTML = '<span class="ep-new">Добро пожаловать</span>';
export const FOOTER_TEXT = 'Мы рядом';
export const GREETING_TEMPLATE = 'Здравствуйте, {cookies.name|гость}!';
/** The greeting as the visitor of these benches sees it (name cookie "Аня"). */
export const GREETING_TEXT = 'Здравствуйте, Аня!';

/** The benchmark config, the same in every edge bench (and given to edge_bench.rs). */
export const BENCH_CONFIG = {
  version: 1,
  site: 'edge benchmarks',
  consent: { mode: 'none' },
  readCookies: ['name'],
  slots: {
    headline: { selector: 'h1' },
    footer: { selector: 'footer' },
    nav: { selector: 'nav' },
  },
  experiences: [
    { id: 'headline-new', slot: 'headline', content: { html: HEADLINE_HTML } },
    { id: 'footer-text', slot: 'footer', content: { text: FOOTER_TEXT } },
  ],
  greetings: [
    { id: 'by-name', slot: 'nav', template: GREETING_TEMPLATE },
  ],
};

/**
 * The same three changes without a decision, for the peers that do them by hand
 * (Cloudflare's HTMLRewriter, html-rewriter-wasm, linkedom): set the inner content
 * (markup or text) and mark the element as ours does (`data-ep-applied`).
 */
export const SWAPS = [
  { selector: 'h1', key: 'headline-new', html: HEADLINE_HTML },
  { selector: 'footer', key: 'footer-text', text: FOOTER_TEXT },
  { selector: 'nav', key: 'by-name', text: GREETING_TEXT },
];

/** The profile cookie's name (the config's default). */
export const PROFILE_COOKIE = 'ep';
/** The visitor's own `name` cookie: "Аня", percent-encoded as a site would set it. */
export const NAME_COOKIE = 'name=%D0%90%D0%BD%D1%8F';
/** The query of every bench request (a paid Yandex campaign, as edge_bench.rs). */
export const QUERY = 'utm_source=yandex&utm_medium=cpc';
export const BENCH_URL = `https://shop.example/landing?${QUERY}`;
export const REQUEST_HEADERS = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
  'accept-language': 'ru-RU,ru;q=0.9,en;q=0.8',
};

/** The Cookie header of a bench request: the name cookie, then `ep=…` if given. */
export function cookieHeader(profile) {
  return profile ? `${NAME_COOKIE}; ${profile}` : NAME_COOKIE;
}

/**
 * `ep=<value>` from a response's Set-Cookie (a string with several cookies joined by
 * ", ", or an array of them), or null.
 */
export function profileFromSetCookie(setCookie) {
  const all = Array.isArray(setCookie) ? setCookie.join('\n') : String(setCookie ?? '');
  const match = new RegExp(`(?:^|[\\s,])(${PROFILE_COOKIE}=[^;,\\s]+)`).exec(all);
  return match ? match[1] : null;
}

/** The `cookieStatus` of the page's hand-off element (`{status: "valid"}` …), or null. */
export function handoffCookieStatus(html) {
  const match = /<script type="application\/json" id="ep-handoff"[^>]*>([^<]*)<\/script>/.exec(html);
  if (!match) return null;
  try {
    return JSON.parse(match[1]).cookieStatus ?? null;
  } catch {
    return null;
  }
}

/** The distinct `data-ep-applied` values of a page, sorted. */
export function appliedKeys(html) {
  return [...new Set([...html.matchAll(/data-ep-applied="([^"]*)"/g)].map((m) => m[1]))].sort();
}

/** The median of numbers (not sorted in place). */
export function median(values) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The value at quantile q (0–1, nearest rank) of numbers. */
export function quantile(values, q) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** "2026-11-27, 2 × AMD EPYC …, Node v20.20.2": the date and what ran it. */
export function machineLine() {
  const cpus = os.cpus();
  const model = (cpus[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
  return `${today()}, ${cpus.length} × ${model}, Node ${process.version}`;
}

/** The version in `<dir>/node_modules/<name>/package.json`, or null. */
export function versionIn(dir, name) {
  try {
    return JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** 1234.5 → "1 235" (µs and the like; the thin grouping of BENCHMARKS.md). */
export { num } from '../browser/lib.mjs';

/** x → "2.41×". */
export function ratio(a, b) {
  return Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '–';
}

/** Page size in KB, one decimal. */
export function kb(bytes) {
  return (bytes / 1024).toFixed(1);
}

/**
 * Times every contestant on every page in rounds, the first contestant rotating from
 * round to round so that machine noise spreads over all of them; the `warmup` first
 * rounds are not kept. `time(name, page)` gives one measurement (in the bench's unit).
 * Returns a Map: page name → { contestant: [measurements] }.
 */
export async function timeInTurns({ pages, names, warmup, iterations, time, log, logEvery = 10 }) {
  const times = new Map(pages.map((p) => [p.name, Object.fromEntries(names.map((n) => [n, []]))]));
  const rounds = warmup + iterations;
  for (let round = 0; round < rounds; round += 1) {
    for (const page of pages) {
      for (let k = 0; k < names.length; k += 1) {
        const name = names[(round + k) % names.length];
        const measured = await time(name, page);
        if (round >= warmup) times.get(page.name)[name].push(measured);
      }
    }
    if ((round + 1) % logEvery === 0) log(`round ${round + 1}/${rounds}`);
  }
  return times;
}

/**
 * A corpus bench's table and notes as Markdown, with the notes every such bench
 * ends on: a partial corpus (--pages) and the checks that failed.
 */
export function tableWithNotes(rows, notes, r) {
  if (r.pages.length !== r.corpusPages) notes.push('', `Only ${r.pages.length} of the ${r.corpusPages} corpus pages (--pages).`);
  if (r.checks.length) notes.push('', `Checks that failed: ${r.checks.join('; ')}.`);
  return rows.concat(notes).join('\n');
}

/**
 * The command line every timing bench of this folder shares: `--iterations`,
 * `--warmup` and the bench's own numeric options (`numbers`: name → default, e.g.
 * `{ repeat: 16 }` reads `--repeat`), `--pages 01,05`, `--json`, and `--write`, which
 * replaces the bench's `section` of BENCHMARKS.md under `title`.
 */
export async function benchMain(importMetaUrl, { run, markdown, section, title, numbers }) {
  if (!isMain(importMetaUrl)) return;
  const args = process.argv.slice(2);
  try {
    const pagesArg = option(args, '--pages', null);
    const opts = { pageFilter: pagesArg ? pagesArg.split(',') : null };
    for (const [name, fallback] of Object.entries(numbers)) {
      const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      opts[name] = Number(option(args, flag, fallback));
    }
    if (opts.pageFilter && args.includes('--write')) throw new Error('--write needs the whole corpus: drop --pages');
    const result = await run(opts);
    if (args.includes('--json')) console.log(JSON.stringify(result, null, 2));
    else console.log(markdown(result));
    if (args.includes('--write')) {
      const script = new URL(importMetaUrl).pathname.split('/').pop();
      writeSection(section, 'Edge', `**${title}**\n\n${result.machine.split(',')[0]}, \`node benches/edge/${script} --write\`\n\n${markdown(result)}`);
      console.error(`BENCHMARKS.md: ${section} section written`);
    }
  } catch (error) {
    console.error(error);
    process.exit(1);
  }
}
