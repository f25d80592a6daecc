/*
 * Generated from schema/config.schema.json by scripts/gen-config-types.mjs — do not edit.
 * Regenerate with `node scripts/gen-config-types.mjs`.
 */

/**
 * Funnel stages, in order.
 */
export type FunnelStage = 'cold' | 'warm' | 'hot' | 'customer';
/**
 * Which half of the globe the site's visitors live in (for `time.season`).
 */
export type Hemisphere = 'north' | 'south';
/**
 * The one consent level a config may require (its schema; validation refuses the others).
 */
export type RequiredConsentLevel = 'personalization';
/**
 * See [`ConsentSettings::mode`].
 */
export type ConsentMode = 'required' | 'implied' | 'none';

/**
 * The whole config of one site.
 */
export interface SiteConfig {
  /**
   * Optional link to the JSON Schema, for editors.
   */
  $schema?: string | null;
  /**
   * The global budget of interruptions across all popups.
   */
  attention?: AttentionBudget;
  /**
   * Thresholds of the built-in classifiers.
   */
  classify?: ClassifierSettings;
  /**
   * What the visitor must have agreed to before anything is stored.
   */
  consent?: ConsentSettings;
  /**
   * The one first-party cookie that holds the visitor's profile.
   */
  cookie?: CookieSettings;
  /**
   * Content swaps: at most one winner per slot, by priority.
   */
  experiences?: Experience[];
  /**
   * Text greetings with placeholders, first match by priority per slot.
   */
  greetings?: Greeting[];
  /**
   * Classes on `<html>` for pure-CSS personalization.
   */
  htmlClasses?: HtmlClassSettings;
  /**
   * Which URLs attribute changes may write.
   */
  links?: LinkPolicy;
  /**
   * Popups with triggers and caps.
   */
  popups?: Popup[];
  /**
   * Names of the site's own cookies the engine may read (e.g. a `name` cookie set
   * after a form). Their values are available as `cookies.<name>` and only ever
   * used as text.
   */
  readCookies?: string[];
  /**
   * Named lists of values for `$inGroup` / `$notInGroup`. A group's name is
   * 1–64 characters of `a-z`, `0-9`, `_` and `-`.
   */
  savedGroups?: {
    [k: string]: unknown[] | undefined;
  };
  /**
   * The site's own segments, evaluated in order; each may use the ones before it
   * through `segments`.
   */
  segments?: SegmentRule[];
  /**
   * A name for the site, shown in reports.
   */
  site?: string | null;
  /**
   * Named blocks of the page that experiences and greetings fill. A slot's name
   * is 1–64 characters of `a-z`, `0-9`, `_` and `-`.
   */
  slots?: {
    [k: string]: SlotSettings | undefined;
  };
  /**
   * Config format version. Only `1` exists.
   */
  version?: number;
}
/**
 * The global budget of interruptions (popups) across all popups.
 */
export interface AttentionBudget {
  /**
   * Popups per (visitor-local) day. Default 2.
   */
  perDay?: number;
  /**
   * Popups per session. Default 1.
   */
  perSession?: number;
}
/**
 * Thresholds of the built-in classifiers.
 */
export interface ClassifierSettings {
  /**
   * What makes a page view engaged (time in view, scroll depth), and what that
   * counts for.
   */
  engagement?: EngagementSettings;
  /**
   * New / returning / experienced.
   */
  experience?: ExperienceThresholds;
  /**
   * Funnel stage cold → warm → hot → customer.
   */
  funnel?: FunnelSettings;
  /**
   * Hemisphere for seasons. Default `north`.
   */
  hemisphere?: Hemisphere;
  /**
   * Category interests with decay.
   */
  interests?: InterestSettings;
  /**
   * Price bands from observed prices.
   */
  price?: PriceSettings;
}
/**
 * Engaged page views: the visitor read the page rather than glanced at it. The
 * browser runtime reports one `engaged` event per page view when the page has been
 * visible for `dwellSeconds` (time in a background tab does not count) or scrolled
 * to `scrollPercent` of its height (pages taller than the window only); a site can
 * also report it with `track("engaged")`. The edge sees engagement through the
 * profile cookie on the next request.
 */
export interface EngagementSettings {
  /**
   * Seconds the page must be visible; `null` turns time off as a criterion.
   * Default 30.
   */
  dwellSeconds?: number | null;
  /**
   * Added to the interest score of the page's category (a view adds 1). Default 1.
   */
  interestWeight?: number;
  /**
   * Whether an engaged page view makes a cold visitor `warm`. Default true.
   */
  makesWarm?: boolean;
  /**
   * Scroll depth in percent of the scrollable height; `null` turns scrolling off as
   * a criterion. Default 75.
   */
  scrollPercent?: number | null;
}
/**
 * New / returning / experienced.
 */
export interface ExperienceThresholds {
  /**
   * Page views from which a visitor is `experienced`, whatever the visits. Default 25.
   */
  experiencedPageViews?: number;
  /**
   * Visits from which a visitor is `experienced`. Default 5.
   */
  experiencedVisits?: number;
  /**
   * Visits (sessions) from which a visitor is `returning`. Default 2.
   */
  returningVisits?: number;
}
/**
 * Funnel stage rules.
 */
export interface FunnelSettings {
  /**
   * Days without any visit after which the stage steps down once (hot → warm,
   * customer → warm, warm → cold); twice the period steps down twice. Default 30.
   */
  quietDays?: number;
  /**
   * Page `funnelStep` annotations and the stage they promote to, e.g.
   * `{"booking_form": "hot"}`.
   */
  steps?: {
    [k: string]: FunnelStage | undefined;
  };
  /**
   * Page views in one session from which a visitor is at least `warm`. Default 3.
   */
  warmSessionPageViews?: number;
  /**
   * Visits from which a visitor who comes back within `quietDays` is at least
   * `warm`. Default 2.
   */
  warmVisits?: number;
}
/**
 * Category interests.
 */
export interface InterestSettings {
  /**
   * Days for a score to halve. Default 14.
   */
  halfLifeDays?: number;
  /**
   * Score from which a category counts as an interest. Default 2: two views in
   * one visit, or one add to cart. Scores halve every `halfLifeDays`, so views
   * days apart add up to less; a score below by no more than what a view loses in
   * 2.4 hours still counts (0.005 at the default half-life), so that the minutes
   * between two views of one visit do not.
   */
  minScore?: number;
  /**
   * Interests a visitor has at most: the strongest `topK` categories that reach
   * `minScore` (the profile keeps twice as many, so that a new category can build
   * up its score). 1 to 16, default 5.
   */
  topK?: number;
}
/**
 * Price bands.
 */
export interface PriceSettings {
  /**
   * Bands in ascending order; a visitor's typical price falls in the first band
   * whose `below` it is under; the last band has no `below`. Default: `budget`
   * below 1000, `mid` below 5000, `premium`.
   */
  bands?: PriceBand[];
  /**
   * Prices seen before a band is assigned. Default 1.
   */
  minObservations?: number;
}
/**
 * One price band.
 */
export interface PriceBand {
  /**
   * Upper bound (exclusive); omitted on the last band.
   */
  below?: number | null;
  /**
   * Band name, e.g. `premium`; used in `price.band` and the `ep-price-<name>` class.
   * 1–64 characters of `a-z`, `0-9`, `_` and `-`, unique among the bands.
   */
  name: string;
}
/**
 * How consent gates storage.
 */
export interface ConsentSettings {
  /**
   * The pages run a consent platform that the edge cannot see (Google Consent
   * Mode, a TCF banner): under `implied` and `none`, the edge then stores nothing
   * for a visitor who has no profile cookie yet, and the page's runtime records
   * that page view once the platform allows it. Without it, the edge stores from
   * a first response, even where the page's Consent Mode would withhold storage.
   * (`required` already waits for a grant the runtime has recorded.) Default false.
   */
  consentOnPage?: boolean;
  /**
   * The level storage needs: `personalization`, the only one accepted (a lower
   * level would store a profile for visitors who refused profiling).
   */
  level?: RequiredConsentLevel;
  /**
   * `required` (default): store only after an explicit grant of `level`;
   * `implied`: store unless the visitor refused or sends Global Privacy Control;
   * `none`: no consent needed (GPC is still honoured). In every mode, a page whose
   * Consent Mode `default` denies `personalization_storage` stores nothing until
   * the visitor answers (at the edge, which cannot see the page, only with
   * `consentOnPage`).
   */
  mode?: ConsentMode;
}
/**
 * The profile cookie.
 */
export interface CookieSettings {
  /**
   * Send the profile cookie on to the origin server. Default false: the edge
   * reads it and removes it from the request, so the origin never sees it.
   */
  forwardToOrigin?: boolean;
  /**
   * Lifetime in days, renewed on every visit: 1 to 400 (browsers cap cookies at
   * 400). Default 180.
   */
  maxAgeDays?: number;
  /**
   * Cookie name: letters, digits, `_` and `-`. Default `ep`.
   */
  name?: string;
  /**
   * Ignore cookies that are not signed with one of the edge's keys. Default false
   * (the browser cannot sign: turn this on only for edge-only sites). Without it,
   * an edge with keys signs what it writes but still accepts an unsigned cookie,
   * which anyone can write. An edge without a valid key refuses a config that
   * turns it on.
   */
  requireSignature?: boolean;
  /**
   * Minutes of inactivity that end a session, at least 1. Default 30.
   */
  sessionTimeoutMinutes?: number;
}
/**
 * A content swap in one slot.
 */
export interface Experience {
  /**
   * The content (when there are no `variants`).
   */
  content?: Content | null;
  /**
   * Share of matching visitors kept on the default content as a control group,
   * 0 ≤ holdout < 1 (only visitors whose profile is stored: see `variants`).
   */
  holdout?: number;
  /**
   * Id, used in reports, events and the profile's history:
   * 1–64 characters of `a-z`, `0-9`, `_` and `-`, unique among experiences,
   * greetings and popups.
   */
  id: string;
  /**
   * The offer's category, for suppression after a purchase in that category.
   */
  offerCategory?: string | null;
  /**
   * Higher wins when several match. Default 0; ties go to the earlier one.
   */
  priority?: number;
  /**
   * Hash seed; default the experience id.
   */
  seed?: string | null;
  /**
   * The visitor must be in all of these segments.
   */
  segments?: string[];
  /**
   * Attribute changes that come with this experience (not with a variant that has
   * no content: that is the control arm, which shows the page as it is).
   */
  setAttributes?: AttributeChange[];
  /**
   * The slot it fills.
   */
  slot: string;
  /**
   * Not shown for this many days after a purchase (of `offerCategory` if set: the
   * latest purchase in that category, whatever was bought since; a profile keeps
   * the last 4 categories bought).
   */
  suppressAfterPurchaseDays?: number | null;
  /**
   * Weighted variants, chosen by hashing the visitor id. A visitor whose profile
   * may not be stored (no consent) has no lasting id: they are in no experiment and
   * see the first variant, reported as no variant, and never the holdout.
   */
  variants?: Variant[];
  /**
   * And match this condition.
   */
  when?: {
    [k: string]: unknown | undefined;
  } | null;
}
/**
 * What a slot shows instead of its default content.
 */
export interface Content {
  /**
   * Markup written by the site in this config (never visitor data).
   */
  html?: string | null;
  /**
   * The name of a `<template data-ep-variant="...">` in the page.
   */
  template?: string | null;
  /**
   * Plain text with `{placeholders}`, set as text.
   */
  text?: string | null;
}
/**
 * A safe attribute change, e.g. a CTA link.
 */
export interface AttributeChange {
  /**
   * Attribute: `href`, `src`, `title`, `alt`, `aria-label`, `placeholder` or `data-*`
   * (not `data-ep-*`: edge-persona's own markers; nor `data-hx-on*`, `data-hx-vals`,
   * `data-hx-vars`, `data-hx-headers`, `data-hx-trigger`, `data-hx-request`,
   * `data-bind`, `data-ng-*`, `data-script*`, which page libraries run as script). `href`, `src` and the `data-*` names
   * libraries read as a URL (`data-src`, `data-original`, `data-bg`, `data-hx-get`,
   * names ending in `-src`, `-href` or `-url`, …) must pass `links`.
   */
  attribute: string;
  /**
   * CSS selector of the element(s).
   */
  selector: string;
  /**
   * New value; may hold `{placeholders}` (values are percent-encoded in URLs).
   */
  value: string;
}
/**
 * One weighted variant.
 */
export interface Variant {
  /**
   * Content; omitted means the page's default content.
   */
  content?: Content | null;
  /**
   * Variant id: 1–64 characters of `a-z`, `0-9`, `_` and `-`, unique within the
   * experience.
   */
  id: string;
  /**
   * Relative weight; weights of one experience sum to 1 (0.99 to 1.01 is accepted,
   * and scaled to exactly 1, so thirds may be written as 0.33 each).
   */
  weight: number;
}
/**
 * A text greeting.
 */
export interface Greeting {
  /**
   * Id: 1–64 characters of `a-z`, `0-9`, `_` and `-`, unique among experiences,
   * greetings and popups.
   */
  id: string;
  /**
   * Higher wins. Default 0.
   */
  priority?: number;
  /**
   * Segments required.
   */
  segments?: string[];
  /**
   * The slot whose text it sets.
   */
  slot: string;
  /**
   * Text with `{field}` or `{field|fallback}` placeholders. A placeholder with no
   * value and no fallback makes this greeting skip, so the next one can apply.
   */
  template: string;
  /**
   * Condition.
   */
  when?: {
    [k: string]: unknown | undefined;
  } | null;
}
/**
 * Classes on `<html>`.
 */
export interface HtmlClassSettings {
  /**
   * Add classes at all. Default true.
   */
  enabled?: boolean;
  /**
   * Class prefix. Default `ep-`.
   */
  prefix?: string;
}
/**
 * Which URLs attribute changes may write.
 */
export interface LinkPolicy {
  /**
   * Allowed hosts for absolute http(s) URLs (a leading `*.` allows subdomains).
   * Default: none, so only relative URLs and the other schemes pass.
   */
  hosts?: string[];
  /**
   * Allowed schemes. Default `https`, `http`, `mailto`, `tel`.
   */
  schemes?: string[];
}
/**
 * A popup.
 */
export interface Popup {
  /**
   * How often it may open.
   */
  caps?: PopupCaps;
  /**
   * Dialog content.
   */
  content: Content;
  /**
   * Id: 1–64 characters of `a-z`, `0-9`, `_` and `-`, unique among experiences,
   * greetings and popups.
   */
  id: string;
  /**
   * Accessible name of the dialog.
   */
  label?: string | null;
  /**
   * The offer's category, for suppression.
   */
  offerCategory?: string | null;
  /**
   * Higher goes first.
   */
  priority?: number;
  /**
   * Segments required.
   */
  segments?: string[];
  /**
   * Not shown for this many days after a purchase (of `offerCategory` if set: the
   * latest purchase in that category, whatever was bought since; a profile keeps
   * the last 4 categories bought).
   */
  suppressAfterPurchaseDays?: number | null;
  /**
   * When it opens.
   */
  trigger?: PopupTrigger;
  /**
   * Condition.
   */
  when?: {
    [k: string]: unknown | undefined;
  } | null;
}
/**
 * Frequency caps of one popup.
 */
export interface PopupCaps {
  /**
   * Minimum days between shows. Default 1.
   */
  everyDays?: number;
  /**
   * Stop pursuing a visitor who has not acted on it for this many days after the
   * first show. Default 30.
   */
  giveUpAfterDays?: number;
  /**
   * Shows ever. Default 3.
   */
  maxTotal?: number;
  /**
   * Shows per session. Default 1.
   */
  perSession?: number;
  /**
   * Stop once the visitor converted on it. Default true.
   */
  stopAfterConversion?: boolean;
  /**
   * Stop after this many dismissals (at least 1). Default 2.
   */
  stopAfterDismissals?: number;
}
/**
 * When a popup opens: the first of these to happen. With none set it opens after
 * 5 seconds.
 */
export interface PopupTrigger {
  /**
   * Seconds after the page loads.
   */
  delaySeconds?: number | null;
  /**
   * The pointer leaves the page at the top (desktop).
   */
  exitIntent?: boolean;
  /**
   * Seconds without input.
   */
  idleSeconds?: number | null;
  /**
   * Scroll depth in percent.
   */
  scrollPercent?: number | null;
}
/**
 * A named segment of the site's own.
 */
export interface SegmentRule {
  /**
   * What the segment is for.
   */
  description?: string | null;
  /**
   * Segment name, e.g. `yandex_paid`; shows in `segments` and as class `ep-seg-<name>`.
   * 1–64 characters of `a-z`, `0-9`, `_` and `-`, unique among the segments.
   */
  name: string;
  /**
   * The condition.
   */
  when: {
    [k: string]: unknown | undefined;
  };
}
/**
 * Where a slot is on the page.
 */
export interface SlotSettings {
  /**
   * For single-page apps behind the edge. When the edge replaces this slot's
   * content (or greets in it), it also sends the page's own content along, inert,
   * in a `<template data-ep-default="<slot name>">` at the end of `<body>`. The
   * browser runtime takes it over, so a later decision on the same page (an SPA
   * route, `forget()`, consent withdrawn) that no longer changes the slot puts the
   * page's content back; without it, the edge's content stays. Costs the default's
   * bytes on each page the edge changes. Cloudflare's `htmlrewriter` strategy
   * cannot capture content and sends no default.
   * A default is not sent when it holds a `<script>` or another slot, when the edge
   * changed an attribute in it, when it is text (`<title>`, `<textarea>`) or SVG,
   * or over 64 KB.
   */
  keepDefault?: boolean;
  /**
   * A CSS selector for existing markup. Default: `[data-ep-slot="<slot name>"]`.
   */
  selector?: string | null;
}
