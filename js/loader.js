// The script tag:
//
//   <script type="module" src="/ep/loader.js" data-config="/ep-config.json"></script>
//   or an inline config: <script type="application/json" id="edge-persona-config">{…}</script>
//   (`data-config` first; the inline one only as that very element, never another
//   element that took its id)
//
// Options as attributes: data-budget (ms; by default the head snippet's own
// `ep-reveal … 300ms`, else 300), data-consent (denied | necessary | personalization, when the site
// already knows), data-datalayer (push events to window.dataLayer, or the named
// array), data-no-spa, data-no-tcf, data-debug-allowed (lets ?ep_debug=1 open the
// overlay).
//
// Calls made before this loads are queued: `(window.edgePersona = window.edgePersona
// || []).push(['track', 'add_to_cart', {value: 4200}])`. Consent calls in the queue
// are applied before the first decision; the others right after it. Afterwards
// `edgePersona.push([...])` runs at once, and `edgePersona.track(...)` etc. work too.
//
// If anything fails — the runtime or wasm cannot load, the config is invalid — the
// page keeps its default content and the anti-flicker style is lifted at once. A
// consent refusal or `forget` still deletes what an earlier page view stored.

// This very script element: the one whose src is this module's URL (another vendor's
// "loader.js" earlier in the page must not be taken for it), else the one marked
// `data-edge-persona`, else — the URL was redirected, as a CDN does from a version
// range (`edge-persona@1/…`) to a version — the module `loader.js` with a
// `data-config`, the snippet's form.
const script = Array.from(document.scripts).find((s) => s.src === import.meta.url)
  || document.querySelector('script[data-edge-persona]')
  || document.querySelector('script[type="module"][src$="/loader.js"][data-config]');
const attr = (name) => (script ? script.getAttribute(name) : null);
// The command queue. When this script runs before the page has made one (it usually
// does: it comes first in <head>), it publishes an empty array so that scripts running
// while the runtime loads (a consent banner replaying a stored answer) push into the
// queue read below, not into an array of their own that is then thrown away.
if (window.edgePersona == null) window.edgePersona = [];
const queue = Array.isArray(window.edgePersona) ? window.edgePersona : [];
// Another copy of this loader (the script tag and a bundled import) already serves
// the page: its queue is the API, and its calls must not run twice. A copy claims the
// page as it starts, and only with a config to start from: a bundled copy that found
// no config of its own leaves the page to the script tag's (see the end).
const ownsConfig = Boolean(attr('data-config') || inlineConfig());
const alreadyServed = queue.served === true || queue.starting === true;
if (!alreadyServed && ownsConfig) queue.starting = true;

/** What `edgePersona.push([name, ...args])` may call. */
const PUBLIC_API = ['decide', 'apply', 'track', 'consent', 'forget', 'export', 'explain', 'navigate'];

/**
 * Runs every queued call through `run`, calls queued meanwhile included, then makes
 * the queue itself the API: `push` runs a call at once, and `api`'s methods are on
 * it. The array stays `window.edgePersona`, so a script that kept a reference to it
 * (a consent banner's `q.push(['consent', 'denied'])`) is still heard.
 */
function serve(run, api, skip = () => false) {
  for (let i = 0; i < queue.length; i += 1) {
    if (!skip(queue[i], i)) run(queue[i]);
  }
  queue.length = 0; // run once: nothing for another loader to replay
  Object.assign(queue, api, { served: true, push: (...calls) => { calls.forEach(run); return 0; } });
  window.edgePersona = queue;
}

function reveal() {
  document.documentElement.classList.add('ep-ready');
  // Off for good, as the runtime does once it has decided.
  const style = document.getElementById('ep-hide');
  if (style) style.disabled = true;
}

/** The config's text once it has loaded (for the profile cookie's name). */
let configText = null;
/** The config's load, once started: a failure elsewhere waits for it to settle. */
let configLoading = null;
/** How long a failure waits for a config still on its way. */
const CONFIG_WAIT_MS = 3000;

/**
 * The page's inline config: a `<script type="application/json"
 * id="edge-persona-config">`, never another element that took the id (user content
 * that keeps ids must not be able to replace the site's config).
 */
function inlineConfig() {
  return document.querySelector('script#edge-persona-config[type="application/json"]');
}

async function loadConfig() {
  const url = attr('data-config');
  const inline = url ? null : inlineConfig();
  if (inline) return (configText = inline.textContent);
  if (!url) throw new Error('no config: add data-config="/path/config.json" or an inline <script type="application/json" id="edge-persona-config">');
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`config ${url}: HTTP ${response.status}`);
  return (configText = await response.text());
}

/**
 * The API when the runtime never started: nothing is decided, but a consent refusal
 * or `forget` (queued or later) still deletes the profile cookie an earlier page view
 * stored and this module's localStorage keys, as the runtime would. The cookie's name
 * comes from the config when it loaded, else it is the default `ep`.
 */
function withoutRuntime() {
  let name = 'ep';
  let maxAgeDays = 180;
  // The level the config asks for (`consent.level`): only an answer below it refuses.
  let required = 'personalization';
  try {
    const config = JSON.parse(configText || '{}');
    const configured = config?.cookie?.name;
    if (typeof configured === 'string' && /^[A-Za-z0-9_-]+$/.test(configured)) name = configured;
    const days = config?.cookie?.maxAgeDays;
    if (Number.isInteger(days) && days >= 1 && days <= 400) maxAgeDays = days;
    if (config?.consent?.level === 'necessary') required = 'necessary';
  } catch { /* the defaults */ }
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  // A refusal leaves the refusal marker (`0`: no data, only the answer), as the
  // runtime does, so that an edge stores no new profile on the next page; `forget`
  // deletes the cookie, and so does Global Privacy Control, unless it holds a marker.
  const refused = () => {
    try { return document.cookie.split(';').some((pair) => pair.trim() === `${name}=0`); } catch { return false; }
  };
  const erase = (value = '', maxAge = 0) => {
    try {
      document.cookie = `${name}=${value}; Max-Age=${maxAge}; Path=/; SameSite=Lax${secure}`;
    } catch { /* cookies blocked */ }
    try {
      for (let i = localStorage.length - 1; i >= 0; i--) {
        const key = localStorage.key(i);
        if (key && key.startsWith('edge-persona:') && key !== 'edge-persona:debug') localStorage.removeItem(key);
      }
    } catch { /* storage blocked */ }
  };
  const consent = (level) => { if (level === 'denied' || (level === 'necessary' && required === 'personalization')) erase('0', maxAgeDays * 86400); };
  const forget = () => erase();
  const isConsent = (call) => Array.isArray(call) && call[0] === 'consent';
  const run = (call) => {
    if (isConsent(call)) consent(call[1]);
    if (Array.isArray(call) && call[0] === 'forget') forget();
  };
  // The visitor's answer as the runtime would have had it: the last one queued, else
  // the site's data-consent. Global Privacy Control counts as a refusal.
  const queued = queue.filter(isConsent);
  consent(queued.length ? queued[queued.length - 1][1] : attr('data-consent'));
  try { if (navigator.globalPrivacyControl === true && !refused()) forget(); } catch { /* no navigator */ }
  const nothing = () => null;
  serve(run, {
    persona: null,
    decide: nothing, apply: nothing, track: nothing, export: nothing, explain: nothing, navigate: nothing,
    consent,
    forget,
  }, isConsent);
}

/**
 * Resolves once DOMContentLoaded has fired. A module script runs when parsing is done
 * and `readyState` is already `interactive`, but before DOMContentLoaded and before
 * the module scripts after it: only Navigation Timing tells whether the event has
 * fired (`domContentLoadedEventStart` stays 0 until then).
 */
function domContentLoaded() {
  let fired = document.readyState === 'complete';
  if (!fired) {
    try {
      const [navigation] = performance.getEntriesByType('navigation');
      fired = navigation ? navigation.domContentLoadedEventStart > 0 : document.readyState !== 'loading';
    } catch {
      fired = document.readyState !== 'loading';
    }
  }
  return fired ? undefined : new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
}

async function start() {
  const layer = attr('data-datalayer');
  const budget = Number(attr('data-budget'));
  // Deferred and module scripts after this one (a consent banner replaying a stored
  // answer) run before DOMContentLoaded; waiting for it while the runtime and config
  // load means their queued calls are seen before the first decision, however fast
  // the files arrive from a preload.
  // The wasm compiles while the page finishes parsing (prepare), not after it.
  const runtimeLoaded = import('./edge-persona.js').then((runtime) => {
    runtime.prepare();
    return runtime;
  });
  configLoading = loadConfig();
  const [runtime, config] = await Promise.all([runtimeLoaded, configLoading, domContentLoaded()]);
  // Consent calls queued while the wasm compiles count for the first decision too
  // (a failed compile is reported by init below).
  await runtime.prepare().catch(() => {});
  let consent = attr('data-consent') || undefined;
  const isConsent = (call) => Array.isArray(call) && call[0] === 'consent';
  const isForget = (call) => Array.isArray(call) && call[0] === 'forget';
  const read = queue.length;
  for (const call of queue.slice(0, read)) {
    if (isConsent(call)) consent = call[1];
  }
  // A "forget me" queued before the first decision comes before it: that decision
  // must not read, or store again, the profile the visitor asked to be forgotten.
  if (queue.slice(0, read).some(isForget)) runtime.forget();
  const persona = await runtime.init(config, {
    consent,
    budgetMs: Number.isFinite(budget) && budget > 0 ? budget : undefined,
    dataLayer: layer === '' ? true : layer || undefined,
    spa: attr('data-no-spa') === null,
    tcf: attr('data-no-tcf') === null,
    debug: attr('data-debug-allowed') === null ? false : 'url',
  });
  // Only the public API (not the runtime's internals), and a call that throws is
  // reported without stopping the others.
  const run = (call) => {
    if (!Array.isArray(call) || !PUBLIC_API.includes(call[0])) return undefined;
    try {
      return persona[call[0]](...call.slice(1));
    } catch (error) {
      try { console.warn(`[edge-persona] ${call[0]} failed:`, error); } catch { /* no console */ }
      return undefined;
    }
  };
  // Consent and forget calls read above are already applied; those pushed while
  // the wasm loaded are not, and run in order with the rest.
  const api = {
    persona,
    decide: () => persona.decide(),
    apply: () => persona.apply(),
    track: (name, data) => persona.track(name, data),
    consent: (level) => persona.consent(level),
    forget: () => persona.forget(),
    export: () => persona.export(),
    explain: () => persona.explain(),
    navigate: () => persona.navigate(),
  };
  serve(run, api, (call, index) => index < read && (isConsent(call) || isForget(call)));
  document.dispatchEvent(new CustomEvent('edge-persona:ready', { detail: { ready: persona.ready } }));
}

/** Starts this copy, unless another copy with a config claimed the page meanwhile. */
async function begin() {
  if (!ownsConfig) {
    // Every module script runs before DOMContentLoaded: by then a copy with a config
    // has claimed the page, or there is none and this copy reports what is missing.
    await domContentLoaded();
    if (queue.starting === true || queue.served === true) return;
  }
  await start();
}

if (!alreadyServed) begin().catch(async (error) => {
  reveal();
  // The runtime module may fail before the config has arrived: the cookie's name and
  // the consent level the config asks for come from it. A config that never comes
  // is not waited for long: the defaults then stand.
  if (configLoading) {
    await Promise.race([configLoading.catch(() => {}), new Promise((resolve) => setTimeout(resolve, CONFIG_WAIT_MS))]);
  }
  withoutRuntime();
  try { console.warn('[edge-persona] personalization is off for this page view:', error && error.message ? error.message : error); } catch { /* no console */ }
  document.dispatchEvent(new CustomEvent('edge-persona:error', { detail: { where: 'loader', message: String(error && error.message || error) } }));
  // A page that waits for the loader hears that it finished, without personalization.
  document.dispatchEvent(new CustomEvent('edge-persona:ready', { detail: { ready: false } }));
});
