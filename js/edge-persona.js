// edge-persona's browser runtime: the JS half of the script tag and the npm package.
//
// The wasm module (Rust, `src/browser/`) runs the decision engine and changes the DOM.
// This file gathers what a page view knows (URL, referrer, `data-ep-*` annotations,
// consent signals), writes the profile cookie, owns listeners and timers (clicks,
// scroll, exit intent, idle, popups, SPA navigation) and tells the site's analytics
// what was shown. It makes no network request of its own beyond loading the wasm.
//
// Failure means "no personalization": every entry point catches, the page keeps its
// default content, and the anti-flicker style is lifted at once.

import initWasm, { Runtime } from './edge_persona.js';

const EVENT_PREFIX = 'edge-persona:';
const READY_CLASS = 'ep-ready';
const STORAGE_PREFIX = 'edge-persona:';
const DEFAULT_BUDGET_MS = 300;
const CONSENT_LEVELS = ['denied', 'necessary', 'personalization'];
const EVENT_KINDS = ['page_view', 'add_to_cart', 'checkout', 'purchase', 'lead', 'engaged'];

/** localStorage that never throws (sandboxed iframes, Safari private mode, quota). */
export const safeStorage = {
  get(key) {
    try { return window.localStorage.getItem(STORAGE_PREFIX + key); } catch { return null; }
  },
  set(key, value) {
    try { window.localStorage.setItem(STORAGE_PREFIX + key, value); return true; } catch { return false; }
  },
  remove(key) {
    try { window.localStorage.removeItem(STORAGE_PREFIX + key); } catch { /* unavailable */ }
  },
  /** Removes everything of ours but the developer's debug flag (no visitor data). */
  clear() {
    try {
      const storage = window.localStorage;
      for (let i = storage.length - 1; i >= 0; i--) {
        const key = storage.key(i);
        if (key && key.startsWith(STORAGE_PREFIX) && key !== `${STORAGE_PREFIX}debug`) storage.removeItem(key);
      }
    } catch { /* unavailable */ }
  },
};

/** True while the focus is in a field the visitor types into (not a button or box). */
function typingInField() {
  const element = document.activeElement;
  if (!element || element === document.body) return false;
  if (element.isContentEditable) return true;
  if (element.tagName === 'TEXTAREA' || element.tagName === 'SELECT') return true;
  return element.tagName === 'INPUT'
    && !['button', 'submit', 'reset', 'checkbox', 'radio', 'image', 'range', 'color', 'file', 'hidden'].includes(element.type);
}

function readCookieHeader() {
  try { return document.cookie || ''; } catch { return ''; }
}

function writeCookie(assignment) {
  if (!assignment) return;
  try { document.cookie = assignment; } catch { /* cookies blocked (sandbox): nothing stored */ }
}

/** The profile cookie's value after a refusal: no data, only the answer (an edge then stores nothing new). */
const REFUSED_VALUE = '0';

/** Whether a cookie assignment removes the profile: deletes it (`Max-Age=0`), or leaves the refusal marker. */
function isDeletion(assignment) {
  const pair = assignment.split(';')[0];
  return /;\s*max-age=0/i.test(assignment) || pair.slice(pair.indexOf('=') + 1) === REFUSED_VALUE;
}

/** Whether the page has a non-empty cookie `name`. */
function hasCookie(name) {
  return cookieValue(name) !== null;
}

/** The value of the cookie `name` (the first one, as the engine reads it), or null. */
function cookieValue(name) {
  for (const pair of readCookieHeader().split(';')) {
    const at = pair.indexOf('=');
    const value = at > 0 && pair.slice(0, at).trim() === name ? pair.slice(at + 1).trim() : '';
    if (value !== '') return value;
  }
  return null;
}

/** Whether the page is prerendered and not yet shown to the visitor (it may never be). */
function prerendering() {
  try { return document.prerendering === true; } catch { return false; }
}

/** Runs `fn` now, or once a prerendered page is shown to the visitor. */
function whenShown(fn) {
  if (prerendering()) document.addEventListener('prerenderingchange', fn, { once: true });
  else fn();
}

function emit(name, detail) {
  try {
    document.dispatchEvent(new CustomEvent(EVENT_PREFIX + name, { detail }));
  } catch { /* a listener threw: not ours to handle */ }
}

function warn(message, error) {
  try { console.warn('[edge-persona]', message, error && error.message ? error.message : error || ''); } catch { /* no console */ }
}

function entropy() {
  const words = new Uint32Array(2);
  try { crypto.getRandomValues(words); } catch {
    words[0] = (Math.random() * 2 ** 32) >>> 0;
    words[1] = (Math.random() * 2 ** 32) >>> 0;
  }
  return words;
}

/**
 * A number from annotation text: `4200`, `4 200 ₽`, `1,234.50` (thousands commas),
 * `1.234,50` and `1234,5` (decimal comma). Anything else is no number.
 */
function numberOrUndefined(text) {
  if (text == null || text === '') return undefined;
  let clean = String(text).replace(/[^\d.,-]/g, '');
  const comma = clean.lastIndexOf(',');
  const dot = clean.lastIndexOf('.');
  if (comma > dot) {
    // The comma is the decimal mark unless it groups thousands (`1,234`).
    clean = /^-?\d{1,3}(,\d{3})+$/.test(clean) ? clean.replace(/,/g, '') : clean.replace(/\./g, '').replace(',', '.');
  } else {
    clean = clean.replace(/,/g, '');
  }
  const value = Number(clean);
  return clean !== '' && Number.isFinite(value) ? value : undefined;
}

/**
 * A `data-ep-*` annotation of the page itself: on `<main>`, `<body>` or `<html>`
 * (cards and buttons carry their own, which describe what they link to, not the page).
 */
function annotation(name) {
  for (const element of [document.querySelector('main'), document.body, document.documentElement]) {
    const value = element && element.getAttribute(`data-ep-${name}`);
    if (value) return value;
  }
  return undefined;
}

/** What the page declares about itself through `data-ep-*` attributes. */
function pageAnnotations(extra) {
  return {
    price: numberOrUndefined(annotation('price')),
    currency: annotation('currency'),
    category: annotation('category'),
    itemId: annotation('item'),
    funnelStep: annotation('step'),
    ...extra,
  };
}

/** An event object for the engine from a name and data (`track('add_to_cart', {...})`). */
function pageEvent(name, data) {
  data = data ?? {};
  const kind = EVENT_KINDS.includes(name) ? name : 'custom';
  return {
    kind,
    name: kind === 'custom' ? String(name) : undefined,
    value: numberOrUndefined(data.value ?? data.price),
    category: data.category == null ? undefined : String(data.category),
    itemId: data.itemId == null ? (data.item == null ? undefined : String(data.item)) : String(data.itemId),
  };
}

/** Events the page declares for its own view, e.g. `<main data-ep-page-event="purchase">`. */
function declaredPageEvents() {
  const events = [];
  for (const element of document.querySelectorAll('[data-ep-page-event]')) {
    const fields = {
      value: element.getAttribute('data-ep-value') ?? element.getAttribute('data-ep-price'),
      category: element.getAttribute('data-ep-category') ?? undefined,
      item: element.getAttribute('data-ep-item') ?? undefined,
    };
    const name = element.getAttribute('data-ep-page-event');
    // Still on the page, unchanged, from the route it was recorded on (a router that
    // renders the new route after our frame): counted once. An element a framework
    // reuses for the next route's event (new attributes) counts again.
    const signature = JSON.stringify([name, fields.value, fields.category, fields.item]);
    if (recordedPageEvents.get(element) === signature) continue;
    recordedPageEvents.set(element, signature);
    events.push(pageEvent(name, fields));
  }
  return events;
}

/** The `[data-ep-page-event]` elements this document recorded, with what they said. */
const recordedPageEvents = new WeakMap();

// ---------------------------------------------------------------------------------
// Consent: the site's explicit answer, IAB TCF v2.2, Google Consent Mode v2, GPC.

/** TCF purposes a first-party content profile needs: store (1), build (5), use (6). */
const TCF_PURPOSES = [1, 5, 6];

function tcfLevel(tcData) {
  if (!tcData) return undefined;
  if (tcData.gdprApplies === false) return 'personalization';
  const granted = (consents) => consents && TCF_PURPOSES.every((p) => consents[p] === true);
  if (granted(tcData.purpose && tcData.purpose.consents)
      || granted(tcData.publisher && tcData.publisher.consents)) return 'personalization';
  return 'denied';
}

/**
 * Consent Mode v2's `personalization_storage` in a dataLayer: the visitor's latest
 * answer (`level`, from an `update`), and whether the site's defaults still hold
 * storage back (`withheld`). A `default` is the site's setting before the visitor
 * answers, never an answer, and it never overrides an `update` (as in gtag): one of
 * `denied` makes the engine store nothing until an answer, in every consent mode
 * (nothing stored before is deleted), also when it names regions (the visitor's
 * region is not known here, and it may be one of them); a global `granted` after a
 * global `denied` lifts that. Only an `update` to `denied` is the visitor saying no.
 */
function consentModeState(dataLayer) {
  const state = { level: undefined, withheld: false };
  if (!Array.isArray(dataLayer)) return state;
  let globalDefault;
  let regionalDenied = false;
  for (const entry of dataLayer) {
    if (!entry || entry[0] !== 'consent' || !entry[2]) continue;
    const value = entry[2].personalization_storage;
    if (value !== 'granted' && value !== 'denied') continue;
    if (entry[1] === 'update') state.level = value === 'granted' ? 'personalization' : 'denied';
    else if (entry[1] === 'default' && entry[2].region) regionalDenied ||= value === 'denied';
    else if (entry[1] === 'default') globalDefault = value;
  }
  state.withheld = state.level === undefined && (regionalDenied || globalDefault === 'denied');
  return state;
}

/** The latest Consent Mode answer in a dataLayer (see {@link consentModeState}). */
function consentModeLevel(dataLayer) {
  return consentModeState(dataLayer).level;
}

function globalPrivacyControl() {
  try { return navigator.globalPrivacyControl === true; } catch { return false; }
}

// ---------------------------------------------------------------------------------

/**
 * One page's personalization. Create with {@link init}; every method is safe to call
 * in any state (before the wasm loaded, after a failure) and never throws.
 */
class Persona {
  constructor(options) {
    this.options = options;
    this.runtime = null;
    this.error = null;
    this.destroyed = false;
    /** Until the first page view (or a failure): `track()` calls wait in `queuedTracks`. */
    this.loading = true;
    this.queuedTracks = [];
    this.cookieName = 'ep';
    /** The profile cookie's lifetime in seconds, read leniently from the config. */
    this.cookieMaxAge = 180 * 86400;
    this.decision = null;
    this.storage = null;
    this.consentLevel = undefined;
    this.consentSource = null;
    /** The consent level the config asks for (`consent.level`), read leniently. */
    this.requiredLevel = 'personalization';
    /** Whether a TCF CMP has answered (`tcloaded` / `useractioncomplete`). */
    this.tcfAnswered = false;
    /** The profile cookie the last page view read (null: none), until this page stores one. */
    this.cookieAtView = undefined;
    /** Each consent platform's latest answer (`tcf`, `consent-mode`). */
    this.platformLevels = {};
    /** The consent platforms listened to so far (one may appear after init). */
    this.listening = { tcf: false, consentModeLayers: new Set() };
    this.referrer = document.referrer || undefined;
    this.popupOpen = null;
    this.popupsShown = new Set();
    this.cleanups = [];
    this.timers = [];
    /** A popup whose trigger fired while the visitor was typing: `{kind, only}`. */
    this.waitingPopup = null;
    this.behaviour = { scrollPercent: 0, idleSince: Date.now() };
    /** When a page view counts as engaged (`classify.engagement`), read at init. */
    this.engagementCriteria = null;
    /** This page view's engagement: visible time so far, and whether it was recorded. */
    this.engagement = null;
  }

  get ready() { return this.runtime !== null; }

  /** The last decision (headless use: render variants yourself with `{apply: false}`). */
  decide() { return this.decision; }

  /** Why each slot shows what it shows: the last page view again, with details. */
  explain() {
    return this.guard('explain', () => {
      const explanation = JSON.parse(this.runtime.explain());
      // What the page shows can differ from the decision: a slot with an apply error
      // keeps its default, and a late decision was not applied at all.
      const report = this.lastApply?.report;
      explanation.page = {
        applied: report?.applied ?? [],
        errors: report?.errors ?? [],
        late: !!this.lastApply?.late,
      };
      return explanation;
    }, null);
  }

  /** The visitor's profile as JSON, with whether it is stored and in which cookie. */
  export() {
    return this.guard('export', () => JSON.parse(this.runtime.export(readCookieHeader(), Date.now())), null);
  }

  /** Deletes the profile cookie and this runtime's local storage, and starts afresh. */
  forget() {
    this.withdrawPopups();
    safeStorage.clear();
    lastView = null;
    // A fresh start here: what this page stores next is the new profile's.
    [this.storedCookie, this.storeHalted, this.cookieAtView] = [false, false, null];
    if (!this.runtime) {
      this.deleteCookieWithoutRuntime();
      return;
    }
    this.guard('forget', () => {
      const [high, low] = entropy();
      writeCookie(this.runtime.forget(Date.now(), high, low));
    });
  }

  /**
   * Writes the runtime's profile cookie assignment. A profile cookie this page
   * stored that is gone now, or holds another visitor now, was deleted in another
   * tab (`forget()`, or consent withdrawn there; a page there may have started a new
   * profile since): this page then stores nothing more until the visitor answers
   * here, and its profile in memory starts afresh, so the deleted one never comes back.
   */
  store(assignment) {
    if (!assignment) return;
    // A deletion (a refusal, `forget()`) always goes: the visitor's answer holds in
    // every tab, whatever profile another tab stored since.
    if (isDeletion(assignment)) {
      writeCookie(assignment);
      [this.storedCookie, this.cookieAtView] = [false, cookieValue(this.cookieName)];
      return;
    }
    if (this.storeHalted) return;
    // `sameVisitor` is false for a cookie that is gone, too. Before this page has
    // stored anything, the cookie must still be the visitor's its page view read
    // (a prerendered page is shown later, and a page's first write may come long
    // after, at a consent answer): the same profile, updated elsewhere or not, or
    // still none, or still the refusal marker.
    const otherVisitor = () => this.guard('store', () => !this.runtime.sameVisitor(readCookieHeader(), Date.now()), false);
    const readProfile = this.cookieAtView != null && this.cookieAtView !== REFUSED_VALUE;
    const replacedElsewhere = () => (this.storedCookie || readProfile
      ? otherVisitor()
      : this.cookieAtView !== undefined && cookieValue(this.cookieName) !== this.cookieAtView);
    if (replacedElsewhere()) {
      this.storeHalted = true;
      this.storedCookie = false;
      lastView = null;
      const [high, low] = entropy();
      this.guard('forget', () => this.runtime.forget(Date.now(), high, low));
      warn('the profile cookie was deleted or replaced elsewhere (another tab): this page stores nothing more');
      return;
    }
    writeCookie(assignment);
    this.storedCookie = hasCookie(this.cookieName);
    if (!this.storedCookie) this.cookieAtView = null;
  }

  /**
   * Deletes the profile cookie when the wasm never ran (failed, blocked, not loaded
   * yet): `forget()`, or Global Privacy Control (`keepRefusal`: a refusal marker
   * there stays).
   */
  deleteCookieWithoutRuntime({ keepRefusal = false } = {}) {
    if (keepRefusal && cookieValue(this.cookieName) === REFUSED_VALUE) return;
    this.writeCookieWithoutRuntime('', 0);
  }

  /** A refusal when the wasm never ran: the profile gives way to the refusal marker, as the runtime leaves it. */
  refuseWithoutRuntime() {
    this.writeCookieWithoutRuntime(REFUSED_VALUE, this.cookieMaxAge);
  }

  /** The profile cookie written as the wasm writes it (`Path=/`, `SameSite=Lax`, `Secure` on https). */
  writeCookieWithoutRuntime(value, maxAgeSeconds) {
    const secure = location.protocol === 'https:' ? '; Secure' : '';
    writeCookie(`${this.cookieName}=${value}; Max-Age=${maxAgeSeconds}; Path=/; SameSite=Lax${secure}`);
  }

  /**
   * A consent platform's answer `level` (from `source`: `tcf`, `consent-mode`): applied
   * when it changes what holds. After the site's own answer, only to lower it: a
   * refusal in the platform counts, a grant (or "GDPR does not apply") over the site's
   * refusal does not. Between platforms the stricter answer holds: one's grant does not
   * undo another's refusal (a CMP that speaks both TCF and Consent Mode may map them
   * differently), and a TCF CMP that has not answered yet withholds consent, whatever
   * Consent Mode says.
   */
  platformAnswer(level, source) {
    const holds = this.platformHolds(level, source);
    if (holds !== this.consentLevel) this.consent(holds, source);
  }

  /** The consent that holds after a platform's answer (see `platformAnswer`), which it records. */
  platformHolds(level, source) {
    this.platformLevels[source] = level;
    const rank = (l) => CONSENT_LEVELS.indexOf(l);
    if (this.consentSource === 'site' && this.consentLevel !== undefined) {
      return rank(level) < rank(this.consentLevel) ? level : this.consentLevel;
    }
    let holds = level;
    for (const other of Object.values(this.platformLevels)) if (rank(other) < rank(holds)) holds = other;
    // Waiting for the TCF CMP changes nothing yet (a grant held back is no withdrawal).
    return holds !== 'denied' && this.tcfPending() ? this.consentLevel : holds;
  }

  /** A platform's answer before the runtime starts: the first decision's consent, announced with it. */
  platformAnswerBeforeStart(level, source) {
    const holds = this.platformHolds(level, source);
    if (holds !== this.consentLevel) [this.consentLevel, this.consentSource] = [holds, holds === undefined ? null : source];
  }

  /**
   * A TCF CMP on the page has not answered yet: one listened to, or one there before
   * the runtime starts (listened to then). One that appeared later, unheard, does not
   * hold Consent Mode's answers back.
   */
  tcfPending() {
    return this.options.tcf !== false && typeof window.__tcfapi === 'function' && !this.tcfAnswered
      && (this.listening.tcf || !this.runtime);
  }

  /** Whether consent at `level` covers what the config asks for (`consent.level`). */
  covers(level) {
    return CONSENT_LEVELS.indexOf(level) >= CONSENT_LEVELS.indexOf(this.requiredLevel);
  }

  /** A consent answer from the site: `denied`, `necessary` or `personalization`. */
  consent(level, source = 'site') {
    if (level != null && !CONSENT_LEVELS.includes(level)) {
      warn(`consent: unknown level ${JSON.stringify(level)}`);
      return;
    }
    const previousLevel = this.consentLevel;
    this.consentLevel = level ?? undefined;
    this.consentSource = source;
    const refused = level != null && !this.covers(level);
    // The site's answer holds for every later init() in this document (a remount); a
    // refusal through a consent platform ends a grant the site gave, so a remount
    // waits for the platform again instead of starting from that grant.
    if (source === 'site') siteAnswer = level ?? undefined;
    else if (refused) siteAnswer = undefined;
    // Popups come from the stored profile: none may open once it is refused; and a
    // remount must not resume this page view (its decision may greet by name).
    if (refused) {
      this.withdrawPopups();
      lastView = null;
    }
    if (!this.runtime && refused) this.refuseWithoutRuntime();
    this.guard('consent', () => {
      // On a prerendered page, after the page view's own write (queued the same
      // way): a refusal while prerendering is the last word once the page is shown.
      const assignment = this.runtime.consent(level ?? undefined);
      // The visitor answered anew here: this page may store again (see `store`).
      if (this.covers(level) && this.storeHalted && level !== previousLevel) {
        this.storeHalted = false;
        this.cookieAtView = cookieValue(this.cookieName);
      }
      // What is stored now: a grant records this page view (a remount resuming it must
      // not record it again), a refusal ends storing.
      const stores = !!assignment && !isDeletion(assignment);
      if (stores || refused) {
        if (this.storage) this.storage = { ...this.storage, allowed: stores };
        if (stores && lastView) {
          const view = JSON.parse(lastView.handoff);
          lastView.handoff = JSON.stringify({ ...view, storage: { ...view.storage, allowed: true } });
        }
      }
      whenShown(() => this.store(assignment));
      if (!this.covers(level)) safeStorage.clear();
      emit('consent', { level, source });
    });
  }

  /**
   * Records an event: `add_to_cart`, `checkout`, `purchase`, `lead`, or any name.
   * Called while the wasm loads, it is kept and recorded after the first page view.
   */
  track(name, data = {}) {
    if (this.loading) {
      this.queuedTracks.push([name, data]);
      return;
    }
    // A prerendered page may never be shown: what happens on it is recorded, and
    // announced, once the visitor sees it (after its page view, as it was called).
    if (prerendering()) {
      whenShown(() => this.track(name, data));
      return;
    }
    this.guard('track', () => {
      const event = pageEvent(name, data);
      this.store(this.runtime.track(JSON.stringify(event), Date.now()));
      // The site reported engagement itself: the runtime does not count it again.
      if (event.kind === 'engaged' && this.engagement) this.engagement.recorded = true;
      if (event.kind === 'purchase' || event.kind === 'lead') {
        this.announce('conversion', { event: name, ...event, experiences: this.shownExperiences() });
        // A visitor who just bought or signed up is offered nothing more on this page;
        // a popup open now (where they may have converted) closes as it does itself.
        this.cancelPendingPopups();
      }
    });
  }

  /** Applies the last decision to the page (idempotent). */
  apply() {
    return this.guard('apply', () => {
      const report = JSON.parse(this.runtime.apply());
      for (const error of report.errors) warn(error);
      this.lastApply = { report, late: false };
      return report;
    }, null);
  }

  /** Decides again for the current URL (SPA navigation; called automatically on history changes). */
  navigate() {
    this.guard('navigate', () => {
      this.closePopup('navigation');
      this.clearTimers();
      this.waitingPopup = null;
      this.popupsShown = new Set();
      this.behaviour.scrollPercent = 0;
      this.pageView(false);
    });
  }

  guard(what, fn, fallback) {
    if (!this.runtime || this.destroyed) return fallback;
    try {
      return fn();
    } catch (error) {
      warn(`${what} failed`, error);
      emit('error', { where: what, message: String(error && error.message || error) });
      return fallback;
    }
  }

  facts(events, first) {
    const offset = -new Date().getTimezoneOffset();
    let language;
    try { language = (navigator.languages && navigator.languages.join(',')) || navigator.language; } catch { /* none */ }
    return {
      url: location.href,
      referrer: this.referrer,
      userAgent: navigator.userAgent,
      language,
      nowMs: Date.now(),
      utcOffsetMinutes: Number.isFinite(offset) ? offset : 0,
      geo: this.options.geo,
      page: pageAnnotations(first ? this.options.page : undefined),
      events,
      globalPrivacyControl: globalPrivacyControl(),
      // No answer yet from a consent platform on the page means no consent: Consent
      // Mode's default of denied, or a TCF CMP that has not answered.
      consentWithheld: pageConsentState(this.options).withheld
        || this.tcfPending(),
    };
  }

  /** One page view: decide, store, apply (within the flicker budget), announce. */
  pageView(first) {
    // A consent platform that came after init is heard from the next page view on.
    if (!first) this.listenForConsent();
    // A new init() on the page this document last recorded (a framework remounting,
    // React's StrictMode) resumes that page view: the same decision, nothing counted
    // or announced again.
    const resumed = first && lastView && lastView.page === pageOf(location.href) && lastView.config === this.configJson
      ? lastView.handoff : null;
    const events = resumed ? []
      : first ? [...declaredPageEvents(), ...(this.options.events || []).map((e) => pageEvent(e.name || e.kind, e))] : declaredPageEvents();
    const [high, low] = entropy();
    const facts = JSON.stringify(this.facts(events, first));
    // A page the edge personalized carries its decision: take it over instead of
    // deciding again (the page already shows it, so nothing flickers). It is the
    // decision for the URL the document was loaded with, so only the document's
    // first page view takes it.
    let output = null;
    const handoff = resumed ? { text: resumed, cut: false } : first && !handoffTaken ? edgeHandoff() : null;
    handoffTaken = true;
    if (handoff) {
      try {
        output = JSON.parse(this.runtime.adopt(handoff.text, facts, readCookieHeader(), this.consentLevel, high, low, handoff.cut));
      } catch (error) {
        warn(`the edge's hand-off was not usable (${error.message || error}); deciding in the browser`);
      }
    }
    output ??= JSON.parse(this.runtime.pageView(facts, readCookieHeader(), this.consentLevel, high, low));
    // The profile cookie this page view read: one gone or replaced before this page
    // first stores was deleted or replaced elsewhere (see `store`).
    if (!this.storedCookie) this.cookieAtView = cookieValue(this.cookieName);
    // A resumed page view goes on with the popups it already showed: none opens twice.
    if (resumed && lastView.popupsShown) this.popupsShown = lastView.popupsShown;
    // Whether the decision is the edge's: only then do its rendered popups in the
    // page fit it (a remount after an SPA route resumes the browser's own).
    const fromEdge = resumed ? lastView.fromEdge : !!output.adopted;
    lastView = {
      page: pageOf(location.href),
      config: this.configJson,
      fromEdge,
      handoff: JSON.stringify({ version: 1, decision: output.decision, storage: output.storage, cookieStatus: output.cookieStatus, fromEdge }),
      popupsShown: this.popupsShown,
    };
    this.decision = output.decision;
    this.storage = output.storage;
    this.referrer = location.href;
    this.startEngagement();
    let report = null;
    this.lastApply = null;
    // Once the head snippet has revealed a default, swapping would be the flicker it
    // exists to prevent. Without the snippet (an app that renders variants itself,
    // or calls init late) there is nothing to honour.
    const late = first && !output.adopted && hideSnippetPresent()
      && (defaultsRevealed() ?? performance.now() > this.options.budgetMs);
    if (this.options.apply !== false && !late) report = this.apply();
    if (late) {
      this.lastApply = { report: null, late: true };
      warn(`decided after the ${this.options.budgetMs} ms flicker budget: the page keeps its defaults`);
    }
    // A prerendered page (speculation rules) may never be shown: its decision is
    // applied now, so nothing changes when it is, but the page view is stored and
    // announced only once the visitor sees the page.
    whenShown(() => {
      if (this.destroyed) return;
      this.store(output.setCookie);
      // Resumed: the decision again for whoever listens now, but exposures and
      // conversions were announced by the page view it resumes.
      emit('decision', {
        decision: output.decision, storage: output.storage, applied: !!report, late,
        edge: !!output.adopted && !resumed, ...(resumed ? { resumed: true } : {}),
      });
      for (const event of events) {
        if (event.kind === 'purchase' || event.kind === 'lead') {
          this.announce('conversion', { event: event.kind, ...event, experiences: this.shownExperiences() });
        }
      }
      // Popups overlay the page and never replace what was painted: they may open
      // even when the slots were decided too late to swap, and in headless mode
      // (the app renders slots, the runtime still runs popups and their caps).
      if (report || late || this.options.apply === false) this.schedulePopups();
      if (report && !resumed) {
        // Only slots the visitor can see count as exposed: a config shared by many
        // pages decides slots this page does not have.
        for (const slot of output.decision.slots) {
          if (slot.experience && report.present.includes(slot.slot)) {
            this.announce('exposure', {
              slot: slot.slot, experience: slot.experience, variant: slot.variant ?? null, holdout: slot.holdout,
            });
          }
        }
      }
    });
  }

  shownExperiences() {
    return (this.decision ? this.decision.slots : [])
      .filter((s) => s.experience)
      .map((s) => ({ experience: s.experience, variant: s.variant ?? null, holdout: s.holdout }));
  }

  /** A DOM event, and a dataLayer push when the site asked for one. */
  announce(name, detail) {
    emit(name, detail);
    const layerName = this.options.dataLayer === true ? 'dataLayer' : this.options.dataLayer;
    if (layerName) {
      try {
        const layer = (window[layerName] = window[layerName] || []);
        // Google Tag Manager merges nested objects from push to push: cleared first,
        // a conversion does not carry an earlier exposure's slot along.
        layer.push({ edge_persona: null });
        layer.push({ event: `edge_persona_${name}`, edge_persona: detail });
      } catch { /* the site's dataLayer is not an array */ }
    }
  }

  // -------------------------------------------------------------------------------
  // Behaviour: clicks on [data-ep-event], scroll depth, dwell, exit intent, idle.

  listen(target, type, handler, options) {
    target.addEventListener(type, handler, options);
    this.cleanups.push(() => target.removeEventListener(type, handler, options));
  }

  observe() {
    // A popup that waited for the visitor to finish typing: once focus has moved on
    // (and not into another field), it opens.
    this.listen(document, 'focusout', () => {
      if (!this.waitingPopup) return;
      this.timers.push(setTimeout(() => {
        const waiting = this.waitingPopup;
        if (!waiting || typingInField()) return;
        this.waitingPopup = null;
        this.trigger(waiting.kind, waiting.only);
      }, 0));
    });
    this.listen(document, 'click', (event) => {
      const target = event.target instanceof Element ? event.target.closest('[data-ep-event]') : null;
      if (!target) return;
      this.track(target.getAttribute('data-ep-event'), {
        value: target.getAttribute('data-ep-value') ?? target.getAttribute('data-ep-price'),
        category: target.getAttribute('data-ep-category') ?? undefined,
        item: target.getAttribute('data-ep-item') ?? undefined,
      });
    }, { capture: true, passive: true });

    let scrollQueued = false;
    this.listen(window, 'scroll', () => {
      // Layout is read only while a popup or the engagement still waits for a
      // scroll depth, once a frame at most.
      const engagementDepth = this.engagementScrollPercent();
      if (scrollQueued || !(this.waitsForScroll() || engagementDepth != null)) return;
      scrollQueued = true;
      requestAnimationFrame(() => {
        scrollQueued = false;
        const root = document.documentElement;
        const scrollable = root.scrollHeight - window.innerHeight;
        const percent = scrollable > 0 ? Math.min(100, (window.scrollY / scrollable) * 100) : 100;
        // A page that does not scroll is not "read to the end" by being short.
        if (engagementDepth != null && scrollable > 0 && percent >= engagementDepth) this.engaged('scroll');
        if (percent > this.behaviour.scrollPercent) {
          this.behaviour.scrollPercent = percent;
          this.trigger('scroll');
        }
      });
    }, { passive: true });
    this.listen(document, 'visibilitychange', () => this.visibilityChanged());

    const active = () => { this.behaviour.idleSince = Date.now(); };
    for (const type of ['pointermove', 'keydown', 'touchstart', 'wheel']) {
      this.listen(window, type, active, { passive: true });
    }
    // Exit intent: the pointer leaves through the top edge, on devices with a mouse.
    let finePointer = false;
    try { finePointer = matchMedia('(pointer: fine)').matches; } catch { /* old browser */ }
    if (finePointer) {
      this.listen(document, 'mouseout', (event) => {
        if (!event.relatedTarget && event.clientY <= 0) this.trigger('exit');
      }, { passive: true });
    }

    if (this.options.spa !== false) this.watchHistory();
  }

  watchHistory() {
    let lastPage = pageOf(location.href);
    let scheduled = false;
    // A Turbo Drive visit announced (`turbo:visit`) whose page is not rendered yet,
    // and the timer that stops waiting for it.
    let turboVisiting = false;
    let turboFallback = null;
    const decide = () => {
      if (!scheduled || turboVisiting) return;
      scheduled = false;
      this.navigate();
    };
    const changed = () => {
      if (pageOf(location.href) === lastPage) return;
      lastPage = pageOf(location.href);
      if (this.destroyed || scheduled) return;
      // Let the router render the new route before reading its annotations. Routes
      // pushed before that frame (a redirect through an intermediate route) make one
      // page view, of where the visitor ends up. During a Turbo visit, `decide`
      // waits for its `turbo:load` instead.
      scheduled = true;
      requestAnimationFrame(decide);
    };
    // Turbo Drive changes the URL when a visit starts, before the new page has
    // arrived (Turbo 8 announces the visit first, Turbo 7 after the pushState): the
    // route is decided when Turbo has rendered that page (`turbo:load`). A visit to
    // the URL already shown renders a new <body> all the same: a link to the page
    // itself is a new page view; a `replace` visit there is what Turbo itself calls a
    // page refresh (a form that redirects back, a Turbo 8 refresh broadcast, morphing
    // or not), the same page view with its decision applied to the new body. A visit
    // that never renders (the server failed) stops being waited for after a while.
    let turboAction = null;
    this.listen(document, 'turbo:visit', (event) => {
      turboVisiting = true;
      turboAction = event.detail?.action ?? null;
      clearTimeout(turboFallback);
      turboFallback = setTimeout(() => {
        turboVisiting = false;
        decide();
      }, TURBO_WAIT_MS);
    });
    this.listen(document, 'turbo:load', () => {
      clearTimeout(turboFallback);
      const visited = turboVisiting;
      turboVisiting = false;
      if (scheduled) decide();
      else if (visited && !this.destroyed) {
        if (turboAction !== 'replace') this.navigate();
        else if (this.options.apply !== false) this.apply();
      }
    });
    this.cleanups.push(() => clearTimeout(turboFallback));
    // replaceState is a new page only when the route changes (a router's replace()
    // to another route): scripts also use it to strip UTM parameters or to mirror a
    // search box into the URL, and re-deciding there would count page views twice
    // and could swap a slot back to its default in front of the visitor.
    for (const method of ['pushState', 'replaceState']) {
      const original = history[method];
      if (typeof original !== 'function') continue;
      const wrapped = function (...args) {
        const routeBefore = currentRoute();
        const result = original.apply(this, args);
        if (method === 'pushState') changed();
        else if (currentRoute() !== routeBefore) changed();
        else lastPage = pageOf(location.href);
        return result;
      };
      history[method] = wrapped;
      this.cleanups.push(() => { if (history[method] === wrapped) history[method] = original; });
    }
    this.listen(window, 'popstate', changed);
    // A hash router's link (`<a href="#/pricing">`) or `location.hash = …`.
    this.listen(window, 'hashchange', changed);
  }

  // -------------------------------------------------------------------------------
  // Engagement: one `engaged` event per page view, once the page has been visible for
  // `classify.engagement.dwellSeconds` (a background tab's time does not count) or
  // scrolled to its `scrollPercent`. It feeds interests and the funnel stage.

  startEngagement() {
    if (this.engagement?.timer) clearTimeout(this.engagement.timer);
    if (!this.engagementCriteria) {
      this.engagementCriteria = {
        dwellSeconds: this.runtime.engagementDwellSeconds(),
        scrollPercent: this.runtime.engagementScrollPercent(),
      };
    }
    this.engagement = { recorded: false, visibleMs: 0, visibleSince: null, timer: null };
    this.visibilityChanged();
  }

  /** Counts visible time, and waits for the rest of the dwell time while visible. */
  visibilityChanged() {
    const state = this.engagement;
    const dwellSeconds = this.engagementCriteria?.dwellSeconds;
    if (!state || state.recorded || dwellSeconds == null) return;
    const now = performance.now();
    if (state.visibleSince != null) state.visibleMs += now - state.visibleSince;
    state.visibleSince = null;
    clearTimeout(state.timer);
    state.timer = null;
    if (document.visibilityState === 'hidden') return;
    state.visibleSince = now;
    const remaining = dwellSeconds * 1000 - state.visibleMs;
    if (remaining <= 0) {
      this.engaged('dwell');
      return;
    }
    state.timer = setTimeout(() => {
      if (this.engagement === state && !this.destroyed) this.visibilityChanged();
    }, remaining);
  }

  /** The scroll depth that still makes this page view engaged, or null. */
  engagementScrollPercent() {
    if (!this.engagement || this.engagement.recorded) return null;
    return this.engagementCriteria?.scrollPercent ?? null;
  }

  engaged(by) {
    const state = this.engagement;
    if (!state || state.recorded) return;
    clearTimeout(state.timer);
    this.track('engaged');
    state.recorded = true;
    emit('engaged', { by });
  }

  // -------------------------------------------------------------------------------
  // Popups: triggers, one at a time, accessible dialog, caps recorded in the profile.

  schedulePopups() {
    for (const popup of this.decision.popups) {
      const trigger = popup.trigger || {};
      if (trigger.delaySeconds != null) {
        this.timers.push(setTimeout(() => this.trigger('delay', popup.popup), trigger.delaySeconds * 1000));
      }
      if (trigger.idleSeconds != null) {
        const timerIndex = this.timers.length;
        const check = () => {
          const idleFor = Date.now() - this.behaviour.idleSince;
          if (idleFor >= trigger.idleSeconds * 1000) this.trigger('idle', popup.popup);
          else this.timers[timerIndex] = setTimeout(check, trigger.idleSeconds * 1000 - idleFor);
        };
        this.timers.push(setTimeout(check, trigger.idleSeconds * 1000));
      }
      const hasTrigger = trigger.delaySeconds != null || trigger.idleSeconds != null
        || trigger.scrollPercent != null || trigger.exitIntent;
      if (!hasTrigger) this.trigger('load', popup.popup);
    }
    this.trigger('scroll');
  }

  /** Whether a popup of this decision that has not shown waits for a scroll depth. */
  waitsForScroll() {
    return !!this.decision && this.decision.popups.some((popup) =>
      popup.trigger?.scrollPercent != null && !this.popupsShown.has(popup.popup));
  }

  /**
   * Opens the first allowed popup whose trigger fired. While the visitor is typing in
   * one of the page's fields, a popup (other than on exit intent) waits until the
   * field loses focus: it would take the focus and the keystrokes.
   */
  trigger(kind, only) {
    // A popup the page removed itself (a framework re-rendering <body>) is closed.
    if (this.popupOpen && !this.popupOpen.element.isConnected) this.closePopup('withdrawn');
    if (!this.decision || this.popupOpen) return;
    for (const popup of this.decision.popups) {
      if (only && popup.popup !== only) continue;
      if (this.popupsShown.has(popup.popup)) continue;
      const t = popup.trigger || {};
      const fired = kind === 'delay' || kind === 'idle' || kind === 'load'
        || (kind === 'scroll' && t.scrollPercent != null && this.behaviour.scrollPercent >= t.scrollPercent)
        || (kind === 'exit' && t.exitIntent);
      if (fired && kind !== 'exit' && typingInField()) {
        this.waitingPopup = { kind, only: popup.popup };
        return;
      }
      if (fired) {
        this.openPopup(popup);
        return;
      }
    }
  }

  openPopup(popup) {
    // Counted as tried first: one that fails to build is not tried again on every
    // scroll or exit (each an error); the others still open.
    this.popupsShown.add(popup.popup);
    this.guard('popup', () => {
      const closeLabel = this.options.closeLabel
        || (/^ru\b/i.test(document.documentElement.lang || '') ? 'Закрыть' : 'Close');
      const element = this.runtime.buildPopup(popup.popup, closeLabel);
      const dialog = element.querySelector('[role="dialog"]');
      const previousFocus = document.activeElement;
      // Open only once it is in the page: a failed insertion must not block every
      // later popup.
      document.body.appendChild(element);
      this.popupOpen = { id: popup.popup, element, previousFocus };
      this.store(this.runtime.interaction(popup.popup, 'shown', Date.now()));
      this.announce('exposure', { popup: popup.popup });

      // What Tab can reach: not a form's hidden CSRF input, an element taken out of
      // the tab order, nor one that is not rendered.
      const focusable = () => Array.from(dialog.querySelectorAll(
        'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]'))
        .filter((item) => item.tabIndex >= 0 && !item.closest('[inert]') && rendered(item));
      const onKey = (event) => {
        if (event.key === 'Escape') {
          event.preventDefault();
          this.closePopup('dismissed');
        } else if (event.key === 'Tab') {
          const items = focusable();
          if (items.length === 0) { event.preventDefault(); return; }
          // From the dialog itself (focused when it has nothing else to focus but
          // its close button), Shift+Tab would leave it: it wraps like the ends do.
          const at = items.indexOf(document.activeElement);
          if (event.shiftKey && at <= 0) { event.preventDefault(); items[items.length - 1].focus(); }
          else if (!event.shiftKey && (at === -1 || at === items.length - 1)) { event.preventDefault(); items[0].focus(); }
        }
      };
      // A conversion closes the popup once the browser has acted on it: a link
      // removed during its click, or a form during its submission, goes nowhere.
      const open = this.popupOpen;
      const convertedSoon = () => {
        if (this.popupOpen !== open || open.converted) return;
        // Recorded now: a route or an unmount may close the popup before it goes.
        open.converted = true;
        this.popupOutcome(open.id, 'converted');
        setTimeout(() => { if (this.popupOpen === open) this.closePopup('converted'); }, 0);
      };
      const onClick = (event) => {
        const target = event.target instanceof Element ? event.target : null;
        if (!target) return;
        if (target === element || target.closest('[data-ep-close]')) this.closePopup('dismissed');
        // A form's submit button converts when the form is submitted (valid): onSubmit.
        else if (target.closest('[data-ep-convert]') && !submitsForm(target)) convertedSoon();
      };
      const onSubmit = (event) => {
        const form = event.target instanceof Element ? event.target : null;
        if (form && (form.closest('[data-ep-convert]') || event.submitter?.closest('[data-ep-convert]'))) convertedSoon();
      };
      element.addEventListener('keydown', onKey);
      element.addEventListener('click', onClick);
      element.addEventListener('submit', onSubmit);
      const items = focusable();
      (items.find((item) => !item.hasAttribute('data-ep-close')) || dialog).focus();
      // Whatever the page did with focus, it must be in the dialog.
      if (!dialog.contains(document.activeElement)) dialog.focus();
    });
  }

  closePopup(how) {
    const open = this.popupOpen;
    if (!open) return;
    this.popupOpen = null;
    open.element.remove();
    if (open.previousFocus && typeof open.previousFocus.focus === 'function') {
      try { open.previousFocus.focus(); } catch { /* gone */ }
    }
    if (how === 'dismissed' || (how === 'converted' && !open.converted)) this.popupOutcome(open.id, how);
  }

  /** Records that the visitor dismissed or converted in a popup, and announces a conversion. */
  popupOutcome(id, how) {
    this.guard('popup', () => this.store(this.runtime.interaction(id, how, Date.now())));
    if (how === 'converted') this.announce('conversion', { popup: id });
  }

  /** Closes an open popup and cancels every pending one of this decision. */
  withdrawPopups() {
    this.closePopup('withdrawn');
    this.cancelPendingPopups();
  }

  /** Cancels every popup of this decision that has not opened (an open one stays). */
  cancelPendingPopups() {
    this.clearTimers();
    this.waitingPopup = null;
    const open = this.popupOpen ? this.popupOpen.id : null;
    if (this.decision) this.decision = { ...this.decision, popups: this.decision.popups.filter((p) => p.popup === open) };
  }

  clearTimers() {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }

  /** Stops listening and timers (tests, framework unmounts). The page is left as is. */
  destroy() {
    this.closePopup('destroyed');
    this.clearTimers();
    if (this.engagement) clearTimeout(this.engagement.timer);
    this.destroyed = true;
    // Unmounted because the route changed (a router unmounts the old route after the
    // URL has moved on): that page view is over, and coming back to its URL is a new
    // one. Unmounted on the same URL (React's StrictMode, a remount), the next
    // init() resumes it.
    if (lastView && lastView.page !== pageOf(location.href)) lastView = null;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    if (this.runtime) {
      try { this.runtime.free(); } catch { /* already freed */ }
      this.runtime = null;
    }
  }

  // -------------------------------------------------------------------------------
  // Consent platforms.

  /** Listens again once the page has loaded: a CMP or dataLayer may come after init. */
  listenForLateConsent() {
    if (document.readyState === 'complete') return;
    const late = () => this.listenForConsent();
    window.addEventListener('load', late, { once: true });
    this.cleanups.push(() => window.removeEventListener('load', late));
  }

  /**
   * Listens to the consent platforms on the page; called again at each page view
   * and once the page has loaded, for a CMP or a dataLayer that comes after init.
   */
  listenForConsent() {
    if (this.destroyed) return;
    if (!this.listening.tcf && this.options.tcf !== false && typeof window.__tcfapi === 'function') {
      this.listening.tcf = true;
      try {
        window.__tcfapi('addEventListener', 2, (tcData, success) => {
          if (!success || !tcData) return;
          if (this.destroyed) {
            // destroy() ran before the CMP's first answer named this listener.
            try { window.__tcfapi('removeEventListener', 2, () => {}, tcData.listenerId); } catch { /* CMP gone */ }
            return;
          }
          if (tcData.listenerId != null && this.tcfListener == null) {
            this.tcfListener = tcData.listenerId;
            this.cleanups.push(() => {
              try { window.__tcfapi('removeEventListener', 2, () => {}, this.tcfListener); } catch { /* CMP gone */ }
            });
          }
          if (tcData.eventStatus === 'tcloaded' || tcData.eventStatus === 'useractioncomplete') {
            this.tcfAnswered = true;
            const level = tcfLevel(tcData);
            if (level) this.platformAnswer(level, 'tcf');
          }
        });
      } catch (error) { warn('the TCF API failed', error); }
    }
    if (this.options.consentMode === false) return;
    for (const layer of consentLayers(this.options)) {
      if (this.listening.consentModeLayers.has(layer)) continue;
      this.listening.consentModeLayers.add(layer);
      // A layer that came after init may hold answers pushed before it was hooked.
      const earlier = consentModeLevel(layer);
      if (earlier) this.platformAnswer(earlier, 'consent-mode');
      const original = layer.push;
      const hook = (...entries) => {
        const result = original.apply(layer, entries);
        const level = this.destroyed ? undefined : consentModeLevel(entries);
        if (level) this.platformAnswer(level, 'consent-mode');
        return result;
      };
      layer.push = hook;
      // A tag manager that wrapped push after us keeps its wrapper; ours then
      // just passes through (see `destroyed`).
      this.cleanups.push(() => { if (layer.push === hook) layer.push = original; });
    }
  }
}

/** The consent known before the first decision, and where it came from. */
function initialConsent(options) {
  if (options.consent) {
    if (CONSENT_LEVELS.includes(options.consent)) return [options.consent, 'site'];
    warn(`consent: unknown level ${JSON.stringify(options.consent)}; treated as no answer`);
  }
  // Consent Mode's answers in the page are read next (`platformAnswerBeforeStart`).
  // TCF answers asynchronously; no answer yet means no consent (the engine decides
  // from this page view alone and stores nothing until the CMP says yes).
  return [undefined, null];
}

/**
 * The arrays Consent Mode is read from: `window.dataLayer`, where gtag writes, and
 * the one the `dataLayer` option names (a tag manager loaded with its own layer name
 * writes there).
 */
function consentLayers(options) {
  const layers = [window.dataLayer];
  if (typeof options.dataLayer === 'string') layers.push(window[options.dataLayer]);
  return [...new Set(layers.filter(Array.isArray))];
}

/**
 * Consent Mode's answer in the page's layers so far (unless turned off): a refusal
 * in any of them is a refusal, and a default of denied with no answer yet in any of
 * them withholds storage.
 */
function pageConsentState(options) {
  if (options.consentMode === false) return { level: undefined, withheld: false };
  const states = consentLayers(options).map(consentModeState);
  if (states.some((state) => state.level === 'denied')) return { level: 'denied', withheld: false };
  if (states.some((state) => state.withheld)) return { level: undefined, withheld: true };
  return { level: states.find((state) => state.level)?.level, withheld: false };
}

function pageConsentMode(options) {
  return pageConsentState(options).level;
}

/**
 * A page is its URL without the #fragment (which only scrolls the same page), unless
 * the fragment is a hash router's route (`#/pricing`, `#!/pricing`).
 */
function pageOf(href) {
  const at = href.indexOf('#');
  return at < 0 || isHashRoute(href.slice(at)) ? href : href.slice(0, at);
}

function isHashRoute(hash) {
  return hash.startsWith('#/') || hash.startsWith('#!');
}

/**
 * The route of the current URL: its path, and a hash router's route path (without
 * the route's own `?query`, which routers rewrite as a search box is typed in).
 */
function currentRoute() {
  return location.pathname + (isHashRoute(location.hash) ? location.hash.split('?')[0] : '');
}

/** Whether a click on `target` submits a form: it is in a form's submit button. */
function submitsForm(target) {
  const control = target.closest('button, input');
  return !!(control && control.form && (control.type === 'submit' || control.type === 'image'));
}

/**
 * The edge's hand-off, if the edge personalized this page: its text, and whether the
 * edge's rewriting stopped early (`data-ep-cut`).
 */
function edgeHandoff() {
  // Only a JSON <script>, and the last one: the edge adds it at the end of <body>.
  // Any other element may carry the id (user content keeps ids), and a <script>
  // that sanitizers let through would have to come before it.
  const found = document.querySelectorAll('script#ep-handoff[type="application/json"]');
  const element = found[found.length - 1];
  if (!element) return null;
  // Elements the edge left to the runtime that the head snippet has revealed already
  // (the runtime came after the budget): the visitor has seen them, so they are kept
  // as they are (`data-ep-kept`; the rest of the decision is applied).
  for (const pending of document.querySelectorAll('[data-ep-pending]')) {
    if (revealedByBudget(pending)) pending.setAttribute('data-ep-kept', '');
  }
  return { text: element.textContent, cut: element.hasAttribute('data-ep-cut') };
}

/** Whether `element` is rendered (not `display:none` or `visibility:hidden`, itself or above). */
function rendered(element) {
  try {
    if (typeof element.checkVisibility === 'function') return element.checkVisibility({ visibilityProperty: true });
    return element.getClientRects().length > 0;
  } catch {
    return true;
  }
}

/** Whether the head snippet's reveal animation has ended on `element`. */
function revealedByBudget(element) {
  try {
    return element.getAnimations().some((animation) => animation.animationName === 'ep-reveal' && animation.playState === 'finished');
  } catch {
    return false;
  }
}

/**
 * Whether the head snippet still hides slots: it is on the page and no runtime of
 * this document has revealed them yet (`revealSlots` switches it off). A later
 * `init()` (a remount, a consent change) then applies its decision as a route
 * change does, instead of taking it for a decision that came too late.
 */
function hideSnippetPresent() {
  const style = document.getElementById('ep-hide');
  return style !== null && !style.disabled;
}

/**
 * Whether the head snippet has revealed some slot's default: the `ep-reveal`
 * animation that ends a slot's hiding has finished on some element. Each slot's
 * budget runs from when the browser first styled it, not from navigation start, so
 * on a page that parses slowly the slots are still hidden well after `budgetMs` of
 * page time: a decision then is still in time, and applying it does not flicker.
 * Null when this cannot be told (no Web Animations API, no slot styled yet): the
 * caller then goes by the clock.
 */
function defaultsRevealed() {
  try {
    if (typeof document.getAnimations !== 'function') return null;
    const reveals = document.getAnimations().filter((animation) => animation.animationName === 'ep-reveal');
    return reveals.length ? reveals.some((animation) => animation.playState === 'finished') : null;
  } catch {
    return null;
  }
}

/**
 * The budget the head snippet hides slots for (its `ep-reveal` animation delay, read
 * through the CSSOM so minified CSS works too), so the CSS and the runtime can never
 * disagree; null without a snippet.
 */
function snippetBudgetMs() {
  try {
    const style = document.getElementById('ep-hide');
    for (const rule of (style && style.sheet ? style.sheet.cssRules : [])) {
      if (rule.style && rule.style.animationName === 'ep-reveal') {
        const delay = /^(\d*\.?\d+)(ms|s)$/.exec(rule.style.animationDelay.trim());
        if (delay) return Number(delay[1]) * (delay[2] === 's' ? 1000 : 1);
      }
    }
  } catch { /* no CSSOM access */ }
  return null;
}

/** The config as an object (from an object or JSON text), or null; read leniently. */
function parsedConfig(config) {
  try {
    return typeof config === 'string' ? JSON.parse(config) : config;
  } catch {
    return null;
  }
}

/** The profile cookie's name from a config, for deleting it without the wasm. */
function cookieNameOf(config) {
  const name = config && config.cookie && config.cookie.name;
  return typeof name === 'string' && /^[A-Za-z0-9_-]+$/.test(name) ? name : 'ep';
}

/** The profile cookie's lifetime in seconds from a config (`cookie.maxAgeDays`, 1–400, default 180). */
function cookieMaxAgeOf(config) {
  const days = config && config.cookie && config.cookie.maxAgeDays;
  return (Number.isInteger(days) && days >= 1 && days <= 400 ? days : 180) * 86400;
}

/** The consent level a config asks for (`consent.level`, default `personalization`). */
function requiredLevelOf(config) {
  const level = config && config.consent && config.consent.level;
  return CONSENT_LEVELS.includes(level) && level !== 'denied' ? level : 'personalization';
}

/** How long a Turbo Drive visit may take to render before its route is decided anyway. */
const TURBO_WAIT_MS = 5000;

function revealSlots() {
  try { document.documentElement.classList.add(READY_CLASS); } catch { /* no document element */ }
  // The head snippet's hiding style has done its work: off, so that a framework that
  // later rewrites <html class> (dropping ep-ready) cannot hide the slots again.
  try {
    const style = document.getElementById('ep-hide');
    if (style) style.disabled = true;
  } catch { /* not a <style> */ }
}

let current = null;
let wasmReady = null;
/**
 * The last page view this document recorded, through any `init()`: its page, the
 * config text, and its decision in the edge's hand-off form, which a later `init()`
 * on the same page adopts instead of recording the page view again.
 */
let lastView = null;
/**
 * Whether a page view of this document has run: the edge's hand-off is the decision
 * for the document's first one only (not after `forget()`, which drops `lastView`).
 */
let handoffTaken = false;
/**
 * The site's latest consent answer in this document (`consent()`, `init({consent})`),
 * through every init(): a banner's answer before the first one, or a refusal before
 * a component remounts, counts for the next decision unless init() is told otherwise.
 */
let siteAnswer;
/** A `forget()` call made before the first `init()` or after `destroy()`. */
let forgetBeforeInit = false;
/** `track()` calls made before the first `init()`: its page's events too. */
const tracksBeforeInit = [];
/** How many of them are kept: an app that tracks in a loop before init() does not grow the page. */
const MAX_TRACKS_BEFORE_INIT = 100;

/**
 * Starts fetching and compiling the wasm, once; `init()` awaits the same promise. The
 * script-tag loader calls this as soon as the runtime module is loaded, so the
 * compile overlaps the wait for the rest of the page.
 */
export function prepare(options = {}) {
  if (!wasmReady) {
    wasmReady = typeof WebAssembly !== 'object'
      ? Promise.reject(new Error('this browser has no WebAssembly'))
      : initWasm(options.wasmUrl ? { module_or_path: options.wasmUrl } : undefined);
    wasmReady.catch(() => { /* reported by init() */ });
  }
  return wasmReady;
}

/**
 * Starts personalization for this page.
 *
 * @param {object|string} config the site config (object or JSON text)
 * @param {import('./edge-persona').InitOptions} [options]
 * @returns {Promise<Persona>} resolves even when something failed (`persona.ready` is then false
 *   and `persona.error` says why); the page then keeps its default content.
 */
export async function init(config, options = {}) {
  const settings = { ...options, budgetMs: options.budgetMs ?? snippetBudgetMs() ?? DEFAULT_BUDGET_MS };
  // The site's answer so far (a banner that loads first, a refusal before a remount)
  // counts for this decision, unless init() is told otherwise.
  if (settings.consent === undefined && siteAnswer !== undefined) settings.consent = siteAnswer;
  else if (CONSENT_LEVELS.includes(settings.consent)) siteAnswer = settings.consent;
  const replaced = current;
  if (current) current.destroy();
  const persona = new Persona(settings);
  // Events tracked while the replaced init() still loaded are this page's too.
  if (replaced?.loading) persona.queuedTracks.push(...replaced.queuedTracks);
  persona.queuedTracks.push(...tracksBeforeInit.splice(0));
  [persona.consentLevel, persona.consentSource] = initialConsent(settings);
  const pageLevel = pageConsentMode(settings);
  if (pageLevel) persona.platformAnswerBeforeStart(pageLevel, 'consent-mode');
  const lenient = parsedConfig(config);
  persona.cookieName = cookieNameOf(lenient);
  persona.cookieMaxAge = cookieMaxAgeOf(lenient);
  persona.requiredLevel = requiredLevelOf(lenient);
  persona.configJson = typeof config === 'string' ? config : JSON.stringify(config);
  if (forgetBeforeInit) persona.deleteCookieWithoutRuntime();
  forgetBeforeInit = false;
  current = persona;
  try {
    await prepare(settings);
    // A newer init() (a framework remounting) replaced this one, or the component
    // that made it unmounted (destroy()), while the wasm loaded.
    if (current !== persona || persona.destroyed) {
      persona.loading = false;
      persona.queuedTracks = [];
      return persona;
    }
    // A consent platform may have answered in the dataLayer while the wasm loaded
    // (before its push is hooked below): that answer is the first decision's,
    // unless the site itself said something (`consent` option or call) meanwhile.
    const level = pageConsentMode(settings);
    if (level) persona.platformAnswerBeforeStart(level, 'consent-mode');
    persona.runtime = new Runtime(persona.configJson);
    persona.listenForConsent();
    persona.pageView(true);
    persona.observe();
    persona.listenForLateConsent();
    persona.loading = false;
    // Recorded once the visitor sees the page, as its page view is (`track` waits
    // for that itself): a prerendered page that is never shown leaves no trace.
    for (const [name, data] of persona.queuedTracks.splice(0)) persona.track(name, data);
  } catch (error) {
    persona.runtime = null;
    persona.error = error;
    persona.loading = false;
    persona.queuedTracks = [];
    // No runtime, but a refusal known now or later still deletes the stored profile.
    if (persona.consentLevel !== undefined && !persona.covers(persona.consentLevel)) persona.refuseWithoutRuntime();
    if (globalPrivacyControl()) persona.deleteCookieWithoutRuntime({ keepRefusal: true });
    persona.listenForConsent();
    persona.listenForLateConsent();
    warn('personalization is off for this page view', error);
    emit('error', { where: 'init', message: String(error && error.message || error) });
  } finally {
    // An init() that a newer one replaced while loading leaves the page to it: the
    // newer one's decision is still held to the flicker budget.
    if (current === persona) revealSlots();
  }
  if (persona.ready && shouldOpenDebug(settings)) {
    import('./debug.js').then((debug) => { if (!persona.destroyed) debug.mount(persona); }).catch((error) => warn('debug overlay', error));
  }
  return persona;
}

/**
 * `debug: true` opens the overlay; `'url'` lets `?ep_debug=1` open it (and the flag
 * it leaves keep it open); otherwise it never opens: a link anyone can send must not
 * put a visitor's profile on their screen unless the site allows it.
 */
function shouldOpenDebug(settings) {
  if (settings.debug === true) return true;
  if (settings.debug !== 'url') return false;
  let flag = null;
  try { flag = new URL(location.href).searchParams.get('ep_debug'); } catch { /* no URL */ }
  if (flag === '1') safeStorage.set('debug', '1');
  if (flag === '0') safeStorage.remove('debug');
  return flag === '1' || (flag !== '0' && safeStorage.get('debug') === '1');
}

/** The persona of the last `init()` call, or null. */
export function instance() { return current; }

/** @see Persona#decide */
export function decide() { return current ? current.decide() : null; }
/** @see Persona#apply */
export function apply() { return current ? current.apply() : null; }
/** @see Persona#track (before `init()`: kept, and recorded after its first page view). */
export function track(name, data) {
  if (current) current.track(name, data);
  else if (tracksBeforeInit.length < MAX_TRACKS_BEFORE_INIT) tracksBeforeInit.push([name, data]);
  else warn(`track: more than ${MAX_TRACKS_BEFORE_INIT} calls before init(); ${JSON.stringify(String(name))} is dropped`);
}
/** @see Persona#consent (before `init()`: kept for its first decision). */
export function consent(level) {
  if (level != null && !CONSENT_LEVELS.includes(level)) {
    warn(`consent: unknown level ${JSON.stringify(level)}`);
    return;
  }
  // A destroyed persona (a component unmounted) still deletes what a refusal
  // withdraws; the answer holds for the next init() either way (`siteAnswer`).
  if (current) current.consent(level);
  else siteAnswer = level ?? undefined;
}
/** @see Persona#forget (before `init()`: the cookie goes once `init()` knows its name). */
export function forget() {
  if (current) current.forget();
  else safeStorage.clear();
  // Before init(), or after destroy(): the next init() must not read the profile
  // back from a cookie written meanwhile (or, before init(), not yet named).
  if (!current || current.destroyed) forgetBeforeInit = true;
}
/** @see Persona#explain */
export function explain() { return current ? current.explain() : null; }
/** @see Persona#navigate */
export function navigate() { if (current) current.navigate(); }
/** The visitor's profile as JSON (`export` is a reserved word as a function name). */
export function exportProfile() { return current ? current.export() : null; }
export { exportProfile as export };

export { Persona, tcfLevel, consentModeLevel };
