// Types of edge-persona's browser runtime (`edge-persona.js`), written by hand.
// The config's types (`SiteConfig` and its parts) are generated from the JSON Schema
// into `config.d.ts`; the engine's outputs below mirror the serde shapes of
// `src/core/decide.rs`, `classify.rs`, `consent.rs`, `profile/codec.rs` and
// `src/browser/mod.rs`: a Rust `Option` without `skip_serializing_if` is `T | null`,
// one with it is an optional property.

import type { FunnelStage, SiteConfig } from './config.js';

export type { SiteConfig } from './config.js';
export type { FunnelStage } from './config.js';

// ---------------------------------------------------------------------------------
// Inputs

/** A consent answer: refused everything optional, only what is necessary, or personalization too. */
export type ConsentLevel = 'denied' | 'necessary' | 'personalization';

/**
 * Where the current consent level came from: the site (`init({consent})`,
 * `consent()`, the script tag's `data-consent`), IAB TCF v2.2 (`tcf`) or Google
 * Consent Mode v2 (`consent-mode`). Any other string is what a caller passed to
 * {@link Persona.consent} as its source.
 */
export type ConsentSource = 'site' | 'tcf' | 'consent-mode' | (string & {});

/**
 * An event name. The built-in kinds feed the funnel stage and the profile's counts;
 * any other name is recorded as a custom event under that name.
 */
export type EventName = 'page_view' | 'add_to_cart' | 'checkout' | 'purchase' | 'lead' | 'engaged' | (string & {});

/** Data of a tracked event. Numbers may be given as text (`"4 200"`, `"4200,50"`). */
export interface TrackData {
  /** Order total, item price or lead score. */
  value?: number | string;
  /** Used when `value` is absent. */
  price?: number | string;
  /** Category of the item involved (feeds interests). */
  category?: string;
  /** Identifier of the item involved (alias of `itemId`; `itemId` wins). */
  item?: string;
  /** Identifier of the item involved. */
  itemId?: string;
}

/** An event that happened before {@link init}, passed in `InitOptions.events`. */
export type InitEvent = TrackData & ({ name: EventName; kind?: EventName } | { kind: EventName; name?: undefined });

/**
 * What the page declares about itself. The runtime reads each of `data-ep-price`,
 * `data-ep-currency`, `data-ep-category`, `data-ep-item` and `data-ep-step` on its
 * own, from the document's first `<main>`, else `<body>`, else `<html>`: the first
 * of them where the attribute is set and not empty. Other elements' attributes
 * (cards, buttons) are not read. `InitOptions.page` overrides them. The edge does
 * not see them: at the edge, `page.*` attributes are empty.
 */
export interface PageAnnotations {
  /** Price of the item shown. */
  price?: number;
  /** ISO 4217 currency code of `price` (`"RUB"`). */
  currency?: string;
  /** Product or content category. */
  category?: string;
  /** Product or item identifier. */
  itemId?: string;
  /** Funnel step name (`"landing"`, `"booking_form"`, …), mapped to stages by `classify.funnel.steps`. */
  funnelStep?: string;
}

/** Coarse location, when the site knows it (the browser has none of its own). */
export interface Geo {
  /** ISO 3166-1 alpha-2 country code (`"RU"`). */
  country?: string;
  /** Region or subdivision. */
  region?: string;
  /** City. */
  city?: string;
}

/** Options of {@link init}. Every one is optional. */
export interface InitOptions {
  /**
   * Where the `.wasm` file is. Default: next to the module
   * (`new URL('edge_persona_bg.wasm', import.meta.url)`), which bundlers handle.
   */
  wasmUrl?: string | URL;
  /**
   * The visitor's consent, when the site already knows it. Without it the runtime
   * reads Google Consent Mode v2 from `window.dataLayer` and listens to a TCF v2.2
   * CMP; until one of them answers nothing is stored (with the default
   * `consent.mode` `required`). After the site's own answer (this option or
   * `consent()`), those platforms can only lower it: a refusal there counts, a grant
   * (or TCF's "GDPR does not apply") over the site's refusal does not.
   */
  consent?: ConsentLevel;
  /**
   * The anti-flicker budget in milliseconds, default 300 (or the head snippet's own
   * delay). With the snippet on the page, a first decision made once the snippet has
   * revealed a slot's default is not applied (the page keeps its default content);
   * the browser's animations tell, or, without the Web Animations API, `budgetMs`
   * since navigation start. Keep it equal to the head snippet's animation delay.
   */
  budgetMs?: number;
  /**
   * Push `edge_persona_exposure` and `edge_persona_conversion` events to
   * `window.dataLayer` (`true`) or to the named array. Default: no pushes. (Consent
   * Mode is read from `window.dataLayer`, where gtag writes, whatever this says.)
   */
  dataLayer?: boolean | string;
  /**
   * Apply decisions to the page. `false`: headless, render slots and greetings from
   * {@link decide} yourself; popups still open with their triggers and caps. Default `true`.
   */
  apply?: boolean;
  /**
   * Decide again on `history.pushState`, `popstate`, a `history.replaceState` that
   * changes the route (not one that keeps it, which scripts use to tidy the URL), and
   * a hash router's route change (`#/pricing`, `#!/pricing`; other fragments only
   * scroll the page). A hash route counts as a page view, but rules cannot see the
   * fragment (the engine drops everything after `#`): use history routing for
   * routes that rules should target. Default `true`.
   */
  spa?: boolean;
  /** Listen to an IAB TCF v2.2 CMP (`window.__tcfapi`). Default `true`. */
  tcf?: boolean;
  /** Read Google Consent Mode v2's `personalization_storage` from `window.dataLayer`. Default `true`. */
  consentMode?: boolean;
  /**
   * The debug overlay: `true` opens it; `'url'` lets `?ep_debug=1` open it (the flag
   * it leaves in localStorage keeps it open until `?ep_debug=0` or Close); absent or
   * `false`, it never opens (a link anyone can send would otherwise put a visitor's
   * profile on their screen). E.g. `debug: import.meta.env.DEV ? 'url' : false`.
   */
  debug?: boolean | 'url';
  /** Accessible label of the popups' close button. Default `Close` (`Закрыть` on `lang="ru"` pages). */
  closeLabel?: string;
  /** Coarse location, for `geo.*` conditions. */
  geo?: Geo;
  /** Page annotations, overriding the page's `data-ep-*` attributes. */
  page?: Partial<PageAnnotations>;
  /** Events of this page view that happened before `init` (recorded with the first decision). */
  events?: InitEvent[];
}

// ---------------------------------------------------------------------------------
// Decisions

/** How well the visitor knows the site. */
export type ExperienceLevel = 'new' | 'returning' | 'experienced';

/** Which way the visitor's prices are moving (`unknown` below three prices). */
export type PriceTrend = 'unknown' | 'up' | 'down' | 'flat';

/** What the classifiers say about the visitor. */
export interface Classification {
  /** New, returning or experienced. */
  experience: ExperienceLevel;
  /** The band of the visitor's typical price, once enough prices were seen. */
  priceBand: string | null;
  /** Typical price (long-run moving average), once enough prices were seen. */
  typicalPrice: number | null;
  /** Price trend. */
  priceTrend: PriceTrend;
  /** Funnel stage. */
  stage: FunnelStage;
  /** Interests (categories), strongest first. */
  interests: string[];
  /** The site's segments the visitor is in, in config order. */
  segments: string[];
}

/** Content as a decision carries it: exactly one of the three is set. */
export interface DecidedContent {
  /** The name of a `<template data-ep-variant="…">` in the page. */
  template?: string;
  /** Markup from the config (never visitor data). */
  html?: string;
  /** Text, placeholders already filled in. */
  text?: string;
}

/** What a slot shows. */
export interface SlotDecision {
  /** Slot name. */
  slot: string;
  /** CSS selector of the slot's elements. */
  selector: string;
  /** The winning experience (also set when the visitor is in its holdout), or null. */
  experience: string | null;
  /** The chosen variant of a weighted experience, or null. */
  variant: string | null;
  /** The content to show; null keeps the page's default. */
  content: DecidedContent | null;
  /** The visitor is in the experience's control group (sees the default). */
  holdout: boolean;
}

/** A greeting, set as text. */
export interface GreetingDecision {
  /** Slot name. */
  slot: string;
  /** CSS selector of the slot's elements. */
  selector: string;
  /** Greeting rule id. */
  greeting: string;
  /** The text (never markup). */
  text: string;
}

/** When a popup opens: the first of these to happen. */
export interface DecidedPopupTrigger {
  /** Seconds after the page loads (5 when the config sets no trigger). */
  delaySeconds?: number;
  /** Scroll depth in percent. */
  scrollPercent?: number;
  /** The pointer leaves the page at the top (devices with a mouse). Present only when true. */
  exitIntent?: boolean;
  /** Seconds without input. */
  idleSeconds?: number;
}

/** A popup allowed to open on this page view. */
export interface PopupDecision {
  /** Popup id. */
  popup: string;
  /** Its content. */
  content: DecidedContent;
  /** Its accessible name, or null (the id is used). */
  label: string | null;
  /** When it opens. */
  trigger: DecidedPopupTrigger;
}

/** An attribute change of a winning experience. */
export interface AttributeDecision {
  /** The experience it belongs to. */
  experience: string;
  /** CSS selector of the element(s). */
  selector: string;
  /** Attribute name (lowercase). */
  attribute: string;
  /** The value (checked against the link policy when it is a URL). */
  value: string;
}

/** What happened to one rule. */
export type Outcome =
  | 'applied'
  | 'matched'
  | 'not_matched'
  | 'outranked'
  | 'holdout'
  | 'suppressed'
  | 'capped'
  | 'over_budget'
  | 'no_storage'
  | 'missing_value'
  | 'refused';

/** Why a rule did or did not apply. */
export interface Reason {
  /** The kind of rule. */
  kind: 'segment' | 'experience' | 'greeting' | 'popup' | 'attribute' | 'storage';
  /** Rule id (the segment name for segments). */
  rule: string;
  /** What happened. */
  outcome: Outcome;
  /**
   * For people: the condition clause and the values it saw, or why a matching rule
   * was held back. Only in {@link Persona.explain}'s output.
   */
  detail?: string;
}

/**
 * What one page view shows. `reasons` is empty in `decide()` and the decision event
 * (page views stay fast); {@link Persona.explain} gives every rule's reason with
 * details, including the rules that did not match.
 */
export interface Decision {
  /** The classifiers' outputs. */
  visitor: Classification;
  /** One entry per declared slot that some experience fills, in slot-name order. */
  slots: SlotDecision[];
  /** Greetings to set, one per greeting slot that has one. */
  greetings: GreetingDecision[];
  /** Popups allowed to open on this page, in priority order, within the attention budget. */
  popups: PopupDecision[];
  /** Attribute changes of the winning experiences. */
  attributes: AttributeDecision[];
  /** Classes added to `<html>` (`ep-exp-new`, `ep-stage-hot`, `ep-seg-…`, `ep-int-…`). */
  htmlClasses: string[];
  /** Why, rule by rule (filled by `explain()` only). */
  reasons: Reason[];
}

/** Whether this page view may store the profile, and why. */
export interface StorageVerdict {
  /** The profile may be read from and written to the cookie. */
  allowed: boolean;
  /** Why, in a sentence. */
  reason: string;
  /** The visitor said no (refusal, insufficient level, Global Privacy Control): the stored profile is deleted. */
  withdrawn: boolean;
}

/** Why a profile cookie was ignored. */
export type CookieRejectReason =
  | 'too_long'
  | 'unknown_version'
  | 'malformed'
  | 'checksum_mismatch'
  | 'corrupt'
  | 'unsigned'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired';

/** What reading the profile cookie gave. */
export type CookieStatus =
  | { status: 'absent' }
  | { status: 'valid' }
  | { status: 'unverified' }
  /** The refusal marker (`0`): the visitor said no; nothing is stored until they say yes. */
  | { status: 'refused' }
  | { status: 'rejected'; reason: CookieRejectReason };

/** The last page view again, with every rule's reason and details ({@link Persona.explain}). */
export interface Explanation {
  /** The decision, with `detail` on its reasons and the rules that did not match. */
  decision: Decision;
  /** The storage verdict. */
  storage: StorageVerdict;
  /** What reading the profile cookie gave. */
  cookieStatus: CookieStatus;
  /** Always null: explaining writes nothing. */
  setCookie: null;
  /** True when the decision is the edge's, taken over from the page's hand-off. */
  adopted?: boolean;
  /**
   * What the page shows of the decision: the slots applied, the apply errors (each
   * slot concerned keeps its default), and whether the decision came too late to apply.
   */
  page: { applied: string[]; errors: string[]; late: boolean };
}

/** What applying a decision did ({@link Persona.apply}). */
export interface ApplyReport {
  /** Slots and greeting slots whose elements changed. */
  applied: string[];
  /** Problems; each slot concerned keeps its default content. */
  errors: string[];
  /** Slots with at least one element on the page (exposures go out for these only). */
  present: string[];
}

/**
 * The visitor's profile as readable JSON ({@link Persona.export}): counts, prices,
 * funnel, interests, rule histories. Its shape follows the engine's profile and may
 * grow; only `stored` and `cookie` are guaranteed.
 */
export type ProfileExport = Record<string, unknown> & {
  /**
   * Whether the profile cookie holds it now. When the cookie holds another profile
   * (stored before, while this page has no answer to store yet; or by another tab),
   * that one is exported instead, since it is what is kept about the visitor.
   */
  stored: boolean;
  /** The name of the cookie that holds it. */
  cookie: string;
};

// ---------------------------------------------------------------------------------
// The wasm engine (advanced use: the debug overlay, tests)

/** What a page view knows, as `Runtime.pageView` takes it (JSON). */
export interface PageFacts {
  /** The page URL. */
  url: string;
  /** The referrer, if any. */
  referrer?: string;
  /** `navigator.userAgent`. */
  userAgent?: string;
  /** `navigator.languages` joined with commas. */
  language?: string;
  /** Unix milliseconds. */
  nowMs: number;
  /** Minutes east of UTC (`-new Date().getTimezoneOffset()`). */
  utcOffsetMinutes?: number;
  /** Coarse location. */
  geo?: Geo;
  /** Page annotations. */
  page?: PageAnnotations;
  /** Events of this page view. */
  events?: Array<{
    kind: 'page_view' | 'add_to_cart' | 'checkout' | 'purchase' | 'lead' | 'engaged' | 'custom';
    name?: string;
    value?: number;
    category?: string;
    itemId?: string;
  }>;
  /** `navigator.globalPrivacyControl`. */
  globalPrivacyControl?: boolean;
  /** Consent Mode's `default` denies `personalization_storage` and no answer came yet. */
  consentWithheld?: boolean;
}

/** What `Runtime.pageView` returns (JSON). */
export interface PageViewResult {
  /** The decision. */
  decision: Decision;
  /** The storage verdict. */
  storage: StorageVerdict;
  /** What reading the profile cookie gave. */
  cookieStatus: CookieStatus;
  /** The `document.cookie` assignment to make (`name=value; Max-Age=…; …`), if any. */
  setCookie: string | null;
}

/**
 * The wasm engine of one page (`persona.runtime`), as `src/browser/mod.rs` exports
 * it. Values cross as JSON text; methods that can fail throw.
 */
export interface WasmRuntime {
  /** The profile cookie's name first, then the site cookies the config reads. */
  cookieNames(): string[];
  /** `classify.engagement.dwellSeconds`, undefined when time is not a criterion. */
  engagementDwellSeconds(): number | undefined;
  /** `classify.engagement.scrollPercent`, undefined when scrolling is not a criterion. */
  engagementScrollPercent(): number | undefined;
  /** Runs a page view; returns a {@link PageViewResult} as JSON. */
  pageView(
    factsJson: string,
    cookieHeader: string,
    consent: ConsentLevel | null | undefined,
    entropyHigh: number,
    entropyLow: number,
  ): string;
  /**
   * Takes over a decision made elsewhere instead of deciding again: the edge's
   * (`handoffJson` is the text of the page's `<script id="ep-handoff">`), or the
   * page view a new `init()` resumes. The decision is checked against this
   * runtime's config; the page's annotations and events, which the edge could not
   * see, are recorded into the profile. `cut`: the hand-off is marked
   * `data-ep-cut` (the edge stopped rewriting early), and the slots it did not
   * reach keep their defaults. Returns a {@link PageViewResult} as JSON, with
   * `adopted: true`. Throws on a hand-off of another version or shape, or facts
   * that do not parse (the runtime then calls `pageView` instead).
   */
  adopt(
    handoffJson: string,
    factsJson: string,
    cookieHeader: string,
    consent: ConsentLevel | null | undefined,
    entropyHigh: number,
    entropyLow: number,
    cut: boolean,
  ): string;
  /** The last page view with details; an {@link Explanation} as JSON. */
  explain(): string;
  /** Applies the last decision; an {@link ApplyReport} as JSON. */
  apply(): string;
  /** Builds a popup of the last decision, detached. */
  buildPopup(id: string, closeLabel: string): Element;
  /** Records an event (JSON); returns the cookie assignment, if any. */
  track(eventJson: string, nowMs: number): string | undefined;
  /** Records that a popup or experience was shown, dismissed or converted. */
  interaction(ruleId: string, kind: 'shown' | 'dismissed' | 'converted', nowMs: number): string | undefined;
  /** A new consent answer; returns the cookie assignment, if any. */
  consent(level?: ConsentLevel | null): string | undefined;
  /** Whether the profile cookie in `cookieHeader` is this runtime's visitor (not gone, nor another tab's new one). */
  sameVisitor(cookieHeader: string, nowMs: number): boolean;
  /** A fresh profile; returns the assignment that deletes the cookie. */
  forget(nowMs: number, entropyHigh: number, entropyLow: number): string | undefined;
  /** The profile as JSON ({@link ProfileExport}); the one `cookieHeader` holds when it differs. */
  export(cookieHeader: string, nowMs: number): string;
  /** Frees the wasm memory. */
  free(): void;
}

// ---------------------------------------------------------------------------------
// The runtime

/**
 * One page's personalization. Create it with {@link init}; every method is safe to
 * call in any state (before the wasm loaded, after a failure) and never throws:
 * methods that return something return `null` then.
 */
export class Persona {
  private constructor(options: InitOptions);
  /** The options `init` was called with, with the default `budgetMs` filled in. */
  readonly options: InitOptions;
  /** The wasm engine, or null before it loaded or after a failure. */
  readonly runtime: WasmRuntime | null;
  /** Whether the engine runs. False when something failed: see {@link Persona.error}. */
  readonly ready: boolean;
  /** Why personalization is off for this page view, or null. */
  readonly error: Error | null;
  /** The last decision, or null. */
  readonly decision: Decision | null;
  /** The last page view's storage verdict, or null; `allowed` follows a consent answer given since. */
  readonly storage: StorageVerdict | null;
  /** The current consent level; undefined while no one has answered. */
  readonly consentLevel: ConsentLevel | undefined;
  /** Where {@link Persona.consentLevel} came from, or null. */
  readonly consentSource: ConsentSource | null;

  /** The last decision (headless use: render variants yourself with `{apply: false}`). */
  decide(): Decision | null;
  /** Why each slot shows what it shows: the last page view again, with details. */
  explain(): Explanation | null;
  /** The visitor's profile, with whether it is stored and in which cookie. */
  export(): ProfileExport | null;
  /** Deletes the profile cookie and the runtime's localStorage keys, and starts a fresh profile. */
  forget(): void;
  /**
   * A consent answer: `denied`, `necessary` or `personalization` (undefined or null:
   * no answer). Granting stores the profile from now on; refusing deletes it.
   * Unknown levels are ignored with a warning.
   */
  consent(level?: ConsentLevel | null, source?: ConsentSource): void;
  /**
   * Records an event: `add_to_cart`, `checkout`, `purchase`, `lead`, or any name.
   * Called while the wasm loads, it is kept and recorded after the first page view
   * (in the profile, not in that page view's `events`); dropped if personalization
   * could not start.
   */
  track(name: EventName, data?: TrackData): void;
  /** Applies the last decision to the page (idempotent). */
  apply(): ApplyReport | null;
  /** Decides again for the current URL (SPA navigation; automatic on history changes unless `spa: false`). */
  navigate(): void;
  /** Stops listeners and timers and closes an open popup (tests, framework unmounts). The page is left as is. */
  destroy(): void;
}

/**
 * Starts fetching and compiling the wasm once; {@link init} awaits the same work.
 * Call it as early as possible (the script-tag loader does) so the compile overlaps
 * the rest of the page's loading.
 */
export function prepare(options?: Pick<InitOptions, 'wasmUrl'>): Promise<unknown>;

/**
 * Starts personalization for this page: loads the wasm, decides, applies within
 * the flicker budget, and adds the `ep-ready` class to `<html>`.
 *
 * @param config the site config, as an object or JSON text. A config imported from
 *   a `.json` file has its strings widened by TypeScript: pass `config as SiteConfig`.
 * @returns the page's {@link Persona}. It resolves even when something failed
 *   (`persona.ready` is then false and `persona.error` says why); the page then keeps
 *   its default content.
 */
export function init(config: SiteConfig | string, options?: InitOptions): Promise<Persona>;

/** The persona of the last {@link init} call, or null. */
export function instance(): Persona | null;
/** The last decision ({@link Persona.decide}), or null. */
export function decide(): Decision | null;
/** Applies the last decision ({@link Persona.apply}). */
export function apply(): ApplyReport | null;
/**
 * Records an event ({@link Persona.track}). Before `init`, it is kept (up to 100
 * calls; later ones are dropped with a warning) and recorded, in order, once `init`
 * has made its first page view, like calls made while `init` loads the wasm. They
 * count in the profile, not in that page view's `events`: pass those to `init` as
 * `InitOptions.events`. Dropped if personalization could not start.
 */
export function track(name: EventName, data?: TrackData): void;
/**
 * A consent answer from the site ({@link Persona.consent}). Before `init`, it is kept
 * and counts for `init`'s first decision (unless `init` gets a `consent` option).
 */
export function consent(level?: ConsentLevel | null): void;
/**
 * Forgets the visitor ({@link Persona.forget}). Before `init`, localStorage is cleared
 * at once and the profile cookie when `init` has the config (it names the cookie).
 */
export function forget(): void;
/** Why each slot shows what it shows ({@link Persona.explain}). */
export function explain(): Explanation | null;
/** Decides again for the current URL ({@link Persona.navigate}). */
export function navigate(): void;
/** The visitor's profile ({@link Persona.export}); also exported as `export`. */
export function exportProfile(): ProfileExport | null;
export { exportProfile as export };

/** localStorage under the `edge-persona:` prefix that never throws (sandboxed iframes, private modes, quota). */
export const safeStorage: {
  /** The value, or null (also when storage is unavailable). */
  get(key: string): string | null;
  /** Stores a value; false when storage is unavailable. */
  set(key: string, value: string): boolean;
  /** Removes a value. */
  remove(key: string): void;
  /** Removes every `edge-persona:` key but the debug overlay's flag (no visitor data). */
  clear(): void;
};

/** The parts of a TCF v2.2 `TCData` object the runtime reads. */
export interface TcData {
  /** False outside the GDPR's scope: no consent is needed. */
  gdprApplies?: boolean;
  /** `tcloaded`, `cmpuishown` or `useractioncomplete`. */
  eventStatus?: string;
  /** Purpose consents, by purpose number. */
  purpose?: { consents?: Record<string | number, boolean | undefined> };
  /** Publisher purpose consents, by purpose number. */
  publisher?: { consents?: Record<string | number, boolean | undefined> };
}

/**
 * The consent level a TCF v2.2 answer gives: `personalization` when purposes 1
 * (store), 5 (build a profile) and 6 (use it) are all consented (or the GDPR does
 * not apply), `denied` otherwise, undefined without data.
 */
export function tcfLevel(tcData: TcData | null | undefined): 'personalization' | 'denied' | undefined;

/**
 * The visitor's latest Google Consent Mode v2 answer in a dataLayer: the
 * `personalization_storage` of the last `gtag('consent', 'update', {...})` entry,
 * `granted` → `personalization`, `denied` → `denied`; undefined if there is none. A
 * `default` is the site's setting before the visitor answers, not an answer: it
 * never counts here (a `default` of `denied` only holds storage back until an
 * update comes).
 */
export function consentModeLevel(dataLayer: unknown): 'personalization' | 'denied' | undefined;

// ---------------------------------------------------------------------------------
// Events

/** An experience shown in a slot (or held back: `holdout`), as exposures and conversions report it. */
export interface ShownExperience {
  /** Experience id. */
  experience: string;
  /** Variant id, or null. */
  variant: string | null;
  /** The visitor is in the control group and saw the default. */
  holdout: boolean;
}

/** `edge-persona:decision`: after every page view's decision (also when it was not applied). */
export interface DecisionEventDetail {
  /** The decision. */
  decision: Decision;
  /** The storage verdict. */
  storage: StorageVerdict;
  /** Whether it was applied to the page. */
  applied: boolean;
  /** Whether it came after the flicker budget (and was therefore not applied). */
  late: boolean;
  /** Whether the edge made it (the page's `#ep-handoff`); the browser did not decide again. */
  edge: boolean;
  /**
   * Set when a new `init()` on the page this document last recorded (a framework
   * remounting) resumed that page view: nothing was counted or announced again.
   */
  resumed?: true;
}

/** `edge-persona:exposure` for a slot: the page has the slot and its decision (an experience or its holdout) was applied (one event per slot). */
export interface SlotExposureDetail extends ShownExperience {
  /** Slot name. */
  slot: string;
}

/** `edge-persona:exposure` for a popup that opened. */
export interface PopupExposureDetail {
  /** Popup id. */
  popup: string;
}

/** `edge-persona:exposure`: a slot's experience was applied, or a popup opened. */
export type ExposureDetail = SlotExposureDetail | PopupExposureDetail;

/** `edge-persona:conversion` from `track('purchase' | 'lead', …)`. */
export interface EventConversionDetail {
  /** The name `track` was called with. */
  event: string;
  /** The event kind. */
  kind: 'purchase' | 'lead';
  /** Always undefined for these kinds (custom events carry their name here). */
  name?: string;
  /** The value, if given. */
  value?: number;
  /** The category, if given. */
  category?: string;
  /** The item id, if given. */
  itemId?: string;
  /** The experiences the page shows (attribution). */
  experiences: ShownExperience[];
}

/** `edge-persona:conversion` from a popup's `[data-ep-convert]` element. */
export interface PopupConversionDetail {
  /** Popup id. */
  popup: string;
}

/** `edge-persona:conversion`: a purchase or lead was tracked, or a popup converted. */
export type ConversionDetail = EventConversionDetail | PopupConversionDetail;

/** `edge-persona:consent`: a consent answer was taken into account. */
export interface ConsentEventDetail {
  /** The new level (undefined or null: no answer). */
  level: ConsentLevel | null | undefined;
  /** Where it came from. */
  source: ConsentSource;
}

/** `edge-persona:engaged`: this page view counted as engaged (`classify.engagement`), once per page view. */
export interface EngagedEventDetail {
  /** What made it engaged: the time the page was visible, or the scroll depth. */
  by: 'dwell' | 'scroll';
}

/** `edge-persona:error`: something failed; the page keeps its default content for it. */
export interface ErrorEventDetail {
  /** `init`, `loader`, or the method that failed (`track`, `apply`, `popup`, …). */
  where: string;
  /** The error message. */
  message: string;
}

/**
 * `edge-persona:ready`: the script tag's loader finished, `ready: false` when the
 * runtime could not start (not sent by `init` itself).
 */
export interface ReadyEventDetail {
  /** Whether personalization runs. */
  ready: boolean;
}

/** What a `dataLayer` gets when `InitOptions.dataLayer` is set. */
export type DataLayerEntry =
  | { event: 'edge_persona_exposure'; edge_persona: ExposureDetail }
  | { event: 'edge_persona_conversion'; edge_persona: ConversionDetail };

/** `window.edgePersona` once the script tag's loader ran. Before that it is a command queue (an array). */
export interface LoaderApi {
  /**
   * Runs commands such as `['track', 'add_to_cart', {value: 4200}]`: `decide`, `apply`,
   * `track`, `consent`, `forget`, `export`, `explain` and `navigate` (other names are
   * ignored).
   */
  push(...calls: unknown[][]): number;
  /** The page's persona; null if the runtime module could not load. */
  persona: Persona | null;
  /** {@link Persona.decide}. */
  decide(): Decision | null;
  /** {@link Persona.apply}. */
  apply(): ApplyReport | null;
  /** {@link Persona.track}. */
  track(name: EventName, data?: TrackData): void;
  /** {@link Persona.consent}. */
  consent(level?: ConsentLevel | null): void;
  /** {@link Persona.forget}. */
  forget(): void;
  /** {@link Persona.export}. */
  export(): ProfileExport | null;
  /** {@link Persona.explain}. */
  explain(): Explanation | null;
  /** {@link Persona.navigate}. */
  navigate(): void;
}

declare global {
  interface DocumentEventMap {
    /** After every page view's decision. */
    'edge-persona:decision': CustomEvent<DecisionEventDetail>;
    /** A personalized slot was applied or a popup opened. */
    'edge-persona:exposure': CustomEvent<ExposureDetail>;
    /** A purchase or lead was tracked, or a popup converted. */
    'edge-persona:conversion': CustomEvent<ConversionDetail>;
    /** A consent answer was taken into account. */
    'edge-persona:consent': CustomEvent<ConsentEventDetail>;
    /** The page view counted as engaged (visible long enough, or scrolled deep). */
    'edge-persona:engaged': CustomEvent<EngagedEventDetail>;
    /** Something failed; the page keeps its default content. */
    'edge-persona:error': CustomEvent<ErrorEventDetail>;
    /** The script tag's loader finished. */
    'edge-persona:ready': CustomEvent<ReadyEventDetail>;
  }

  interface Window {
    /** The script tag's API, or the command queue before it loaded. */
    edgePersona?: LoaderApi | unknown[][];
  }
}
