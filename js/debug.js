// The debug overlay: what the engine decided for this visitor and why, the stored
// profile, and synthetic visitors to try a config with. Loaded by the runtime only
// on `?ep_debug=1` (or while the flag it leaves in localStorage is set).
//
// Everything shown is visitor-derived, so it is built with createElement,
// textContent and setAttribute only — never markup — and lives in a Shadow DOM so
// the page's CSS cannot break it nor it the page. Styles go through the CSSOM (an
// adopted stylesheet, element.style), which a CSP without 'unsafe-inline' allows.

import { safeStorage } from './edge-persona.js';
import { Runtime } from './edge_persona.js';

const MINUTE = 6e4;
const HOUR = 36e5;
const DAY = 864e5;
const HOST_ID = 'edge-persona-debug';

const CSS = `:host{all:initial}
.p{font:12px/1.4 system-ui,sans-serif;color:#111;background:#fff;border:1px solid #888;border-radius:8px;box-shadow:0 4px 24px rgba(0,0,0,.3);width:min(380px,calc(100vw - 16px));max-height:70vh;overflow:auto;padding:8px 10px;box-sizing:border-box}
.bar{display:flex;gap:4px;flex-wrap:wrap;align-items:center}
b{flex:1;font-size:13px}
button,select{font:inherit;padding:1px 6px}
h3{font-size:11px;margin:8px 0 2px;color:#555;text-transform:uppercase}
dl{display:grid;grid-template-columns:auto 1fr;gap:0 8px;margin:0}
dt{color:#555}dd{margin:0;overflow-wrap:anywhere}
ul{margin:0;padding-left:16px}
small{display:block;color:#666;overflow-wrap:anywhere}
pre{font:11px/1.3 ui-monospace,monospace;background:#f3f3f3;padding:6px;margin:4px 0;overflow:auto;max-height:220px}
.ok{color:#070}.no{color:#a00}`;

/**
 * An element. `content` is a string (set as textContent) or a list of elements;
 * attributes are set with setAttribute. No markup is ever parsed.
 */
function h(tag, attrs, content) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value != null) element.setAttribute(name, String(value));
  }
  if (Array.isArray(content)) element.append(...content.filter(Boolean));
  else if (content != null) element.textContent = String(content);
  return element;
}

function list(items, empty = 'none') {
  return items.length ? h('ul', null, items) : h('div', null, empty);
}

function pairs(rows) {
  return h('dl', null, rows.flatMap(([name, value]) => [h('dt', null, name), h('dd', null, value)]));
}

// ---------------------------------------------------------------------------------
// Synthetic visitors: page views run on the wasm engine directly, the profile cookie
// chained from one to the next, and the last cookie stored for the reload.

const HOME = { category: 'italian' };
/** [how long before now, page annotations, events] per page view, oldest first. */
const RECIPES = {
  regular: [[6 * DAY, HOME], [4 * DAY, HOME], [2 * DAY, HOME], [MINUTE, HOME]],
  premium: [3, 2, 1].map((m) => [m * MINUTE, { price: 8500, category: 'fine_dining' }]),
  budget: [3, 2, 1].map((m) => [m * MINUTE, { price: 650, category: 'business_lunch' }]),
  // The visitor left the booking form an hour ago: the reload is a later visit.
  abandoned: [[HOUR, { funnelStep: 'booking_form' }, [{ kind: 'checkout', category: 'booking' }]]],
  customer: [[MINUTE, {}, [{ kind: 'purchase', value: 4000, category: 'booking' }]]],
};

const VISITORS = [
  ['', 'Simulate…'],
  ['newcomer', 'Newcomer'],
  ['regular', 'Returning regular'],
  ['premium', 'Premium'],
  ['budget', 'Budget'],
  ['abandoned', 'Abandoned booking'],
  ['customer', 'Customer'],
];

function forgetAndReload(persona) {
  persona.forget();
  safeStorage.set('debug', '1'); // keep the overlay open after the reload (clear() keeps it too)
  location.reload();
}

/** A first visit: no profile and none of the site cookies the config reads. */
function simulateNewcomer(persona) {
  requireStorage(persona);
  forgetSiteCookies(persona);
  forgetAndReload(persona);
}

/**
 * A simulation stores a profile: only where this page may (the visitor's consent,
 * as the config asks for it), and under that same answer.
 */
function requireStorage(persona) {
  if (!persona.storage?.allowed) {
    throw new Error('storage is not allowed on this page (no consent yet): answer the consent question first');
  }
}

/**
 * The site cookies the config reads (a `name` the site set): a simulated visitor
 * starts without them, or a "newcomer" would be greeted by the real visitor's name.
 * Only for a simulation the developer chose (Reset keeps them).
 */
function forgetSiteCookies(persona) {
  for (const name of persona.runtime.cookieNames().slice(1)) {
    document.cookie = `${name}=; Max-Age=0; Path=/; SameSite=Lax`;
  }
}

/**
 * Replays `recipe`'s page views on a fresh engine (not the page's, which holds the
 * real visitor in memory), the profile cookie chained from one to the next, and
 * stores the last one for the reload.
 */
function simulate(persona, recipe) {
  requireStorage(persona);
  const runtime = new Runtime(persona.configJson);
  try {
    replay(runtime, recipe, persona.consentLevel);
  } finally {
    runtime.free();
  }
  forgetSiteCookies(persona);
  location.reload();
}

function replay(runtime, recipe, consent) {
  const name = runtime.cookieNames()[0];
  const url = `${location.origin}/`;
  const now = Date.now();
  let cookieHeader = '';
  let assignment = null;
  let previous = null;
  for (const [ago, page, events = []] of RECIPES[recipe]) {
    const nowMs = now - ago;
    const words = crypto.getRandomValues(new Uint32Array(2));
    const facts = {
      url,
      // Within a visit the previous page is the referrer; a new visit comes direct.
      referrer: previous !== null && nowMs - previous < 30 * MINUTE ? url : undefined,
      userAgent: navigator.userAgent,
      language: navigator.language,
      nowMs,
      utcOffsetMinutes: -new Date(nowMs).getTimezoneOffset(),
      page,
      events,
      globalPrivacyControl: false,
    };
    const output = JSON.parse(runtime.pageView(
      JSON.stringify(facts), cookieHeader, consent ?? undefined, words[0], words[1]));
    if (output.setCookie) {
      assignment = output.setCookie;
      cookieHeader = assignment.split(';')[0];
    }
    previous = nowMs;
  }
  if (!assignment || !cookieHeader.startsWith(`${name}=`)) {
    throw new Error('the engine stored no profile (is storage allowed by the config?)');
  }
  document.cookie = assignment;
}

// ---------------------------------------------------------------------------------

function shows(slot) {
  if (!slot.experience) return 'default';
  const id = slot.variant ? `${slot.experience}/${slot.variant}` : slot.experience;
  return slot.holdout ? `holdout of ${id} (default)` : id;
}

function what(content) {
  if (!content) return '';
  if (content.template) return `template ${content.template}`;
  return content.html != null ? 'config html' : 'text';
}

function trigger(t) {
  const parts = [];
  if (t.delaySeconds != null) parts.push(`after ${t.delaySeconds} s`);
  if (t.scrollPercent != null) parts.push(`at ${t.scrollPercent} % scroll`);
  if (t.idleSeconds != null) parts.push(`idle ${t.idleSeconds} s`);
  if (t.exitIntent) parts.push('exit intent');
  return parts.join(', ') || 'on load';
}

/** Whether this page view counted as engaged yet, and what would make it. */
function engagement(persona) {
  const criteria = persona.engagementCriteria || {};
  if (persona.engagement?.recorded) return 'engaged';
  const ways = [];
  if (criteria.dwellSeconds != null) ways.push(`${criteria.dwellSeconds} s visible`);
  if (criteria.scrollPercent != null) ways.push(`${criteria.scrollPercent} % scrolled`);
  return ways.length ? `not engaged yet (${ways.join(' or ')})` : 'engagement not measured';
}

function cookieStatus(status) {
  if (!status) return 'unknown';
  return status.reason ? `${status.status}: ${status.reason}` : status.status;
}

/** The panel's body for the current state. */
function sections(persona) {
  const explained = persona.explain();
  const decision = (explained && explained.decision) || persona.decision;
  const storage = (explained && explained.storage) || persona.storage;
  if (!decision) return [h('div', null, 'no decision yet')];
  const v = decision.visitor;
  const price = v.priceBand ? `${v.priceBand} (typical ${Math.round(v.typicalPrice)}, ${v.priceTrend})` : 'none yet';
  const profile = persona.export();
  return [
    h('h3', null, 'Visitor'),
    pairs([
      ['experience', v.experience],
      ['stage', v.stage],
      ['price band', price],
      ['interests', v.interests.join(', ') || 'none'],
      ['segments', v.segments.join(', ') || 'none'],
      ['this page', engagement(persona)],
    ]),
    h('h3', null, 'Storage'),
    pairs([
      ['stored', storage ? `${storage.allowed ? 'yes' : 'no'}: ${storage.reason}` : 'unknown'],
      ['consent', `${persona.consentLevel || 'no answer'} (source: ${persona.consentSource || 'none'})`],
      ['cookie', cookieStatus(explained && explained.cookieStatus)],
    ]),
    h('h3', null, 'Slots'),
    list([
      ...decision.slots.map((s) => h('li', null, [
        h('span', null, `${s.slot}: ${shows(s)}`),
        s.content && h('small', null, what(s.content)),
      ])),
      ...decision.greetings.map((g) => h('li', null, [
        h('span', null, `${g.slot}: greeting ${g.greeting}`),
        h('small', null, g.text),
      ])),
    ]),
    h('h3', null, 'Popups allowed'),
    list(decision.popups.map((p) => h('li', null, `${p.popup} (${trigger(p.trigger)})`))),
    h('h3', null, 'Reasons'),
    list(decision.reasons.map((r) => h('li', null, [
      h('span', { class: /^(applied|matched)$/.test(r.outcome) ? 'ok' : 'no' }, `${r.kind} ${r.rule}: ${r.outcome}`),
      r.detail && h('small', null, r.detail),
    ]))),
    h('details', null, [
      h('summary', null, 'Profile'),
      h('pre', null, profile ? JSON.stringify(profile, null, 2) : 'unavailable'),
    ]),
  ];
}

/** Shows the overlay for `persona` (a second call replaces the first panel). */
export function mount(persona) {
  if (!persona || !persona.ready) return;
  const old = document.getElementById(HOST_ID);
  if (old) old.remove();

  const host = h('div', { id: HOST_ID });
  Object.assign(host.style, {
    // Top right: a site's consent bar is usually at the bottom, and must stay usable.
    position: 'fixed', right: '8px', top: '8px', zIndex: '2147483647', display: 'block',
  });
  const root = host.attachShadow({ mode: 'open' });
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch {
    root.append(h('style', null, CSS)); // older browsers; a strict CSP leaves it unstyled
  }

  const body = h('div');
  const error = h('div', { class: 'no', role: 'alert' });
  const refresh = () => {
    // A new <body> (Turbo Drive, a framework rendering the whole page) took the
    // overlay with the old one: it comes back with the next decision.
    if (!host.isConnected && !persona.destroyed) (document.body || document.documentElement).append(host);
    try {
      body.replaceChildren(...sections(persona));
    } catch (e) {
      error.textContent = String(e && e.message || e);
    }
  };

  const button = (label, onClick) => {
    const b = h('button', { type: 'button' }, label);
    b.addEventListener('click', onClick);
    return b;
  };

  // A choice, then Run: a select that acted on `change` would run at the first
  // arrow key (WCAG F37), and a simulation forgets the profile and reloads.
  const select = h('select', { 'aria-label': 'Simulate a visitor' },
    VISITORS.map(([value, label]) => h('option', { value }, label)));
  const run = button('Run', () => {
    const recipe = select.value;
    if (!recipe) return;
    try {
      if (recipe === 'newcomer') simulateNewcomer(persona);
      else simulate(persona, recipe);
    } catch (e) {
      error.textContent = `simulate: ${e && e.message || e}`;
    }
  });
  run.setAttribute('aria-label', 'Run the simulation');
  const toggle = button('–', () => {
    body.hidden = !body.hidden;
    toggle.textContent = body.hidden ? '+' : '–';
    toggle.setAttribute('aria-expanded', String(!body.hidden));
    toggle.setAttribute('aria-label', body.hidden ? 'Expand' : 'Collapse');
  });
  toggle.setAttribute('aria-expanded', 'true');
  toggle.setAttribute('aria-label', 'Collapse');

  const events = ['edge-persona:decision', 'edge-persona:consent', 'edge-persona:engaged'];
  const unmount = () => {
    for (const type of events) document.removeEventListener(type, refresh);
    host.remove();
  };
  const close = button('Close', () => {
    unmount();
    safeStorage.remove('debug');
  });

  root.append(h('section', { class: 'p', 'aria-label': 'edge-persona debug' }, [
    h('div', { class: 'bar' }, [
      h('b', null, 'edge-persona'),
      select,
      run,
      button('Reset', () => forgetAndReload(persona)),
      close,
      toggle,
    ]),
    error,
    body,
  ]));
  for (const type of events) document.addEventListener(type, refresh);
  refresh();
  (document.body || document.documentElement).append(host);
  // The overlay belongs to this persona: it goes with it (a remount mounts its own).
  persona.cleanups.push(unmount);
}
