//! The site's personalization config, as the marketer writes it (JSON).
//!
//! Every struct rejects unknown fields (see [`super::strict`]), every optional
//! setting has a documented default, and the JSON Schema in `schema/` is generated
//! from these types (`edge-persona schema`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[cfg(feature = "schema")]
use schemars::JsonSchema;

/// A GrowthBook-style targeting condition (MongoDB-like operators over the visitor's
/// attributes), e.g. `{"utm.source": "yandex", "visitor.visits": {"$gte": 3}}`.
pub type ConditionJson = serde_json::Map<String, Value>;

/// The whole config of one site.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SiteConfig {
    /// Optional link to the JSON Schema, for editors.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Config format version. Only `1` exists.
    #[serde(default = "one")]
    pub version: u32,
    /// A name for the site, shown in reports.
    #[serde(default)]
    pub site: Option<String>,
    /// What the visitor must have agreed to before anything is stored.
    #[serde(default)]
    pub consent: ConsentSettings,
    /// The one first-party cookie that holds the visitor's profile.
    #[serde(default)]
    pub cookie: CookieSettings,
    /// Thresholds of the built-in classifiers.
    #[serde(default)]
    pub classify: ClassifierSettings,
    /// Names of the site's own cookies the engine may read (e.g. a `name` cookie set
    /// after a form). Their values are available as `cookies.<name>` and only ever
    /// used as text.
    #[serde(default)]
    pub read_cookies: Vec<String>,
    /// Named lists of values for `$inGroup` / `$notInGroup`. A group's name is
    /// 1–64 characters of `a-z`, `0-9`, `_` and `-`.
    #[serde(default)]
    pub saved_groups: BTreeMap<String, Vec<Value>>,
    /// The site's own segments, evaluated in order; each may use the ones before it
    /// through `segments`.
    #[serde(default)]
    pub segments: Vec<SegmentRule>,
    /// Named blocks of the page that experiences and greetings fill. A slot's name
    /// is 1–64 characters of `a-z`, `0-9`, `_` and `-`.
    #[serde(default)]
    pub slots: BTreeMap<String, SlotSettings>,
    /// Content swaps: at most one winner per slot, by priority.
    #[serde(default)]
    pub experiences: Vec<Experience>,
    /// Text greetings with placeholders, first match by priority per slot.
    #[serde(default)]
    pub greetings: Vec<Greeting>,
    /// Popups with triggers and caps.
    #[serde(default)]
    pub popups: Vec<Popup>,
    /// The global budget of interruptions across all popups.
    #[serde(default)]
    pub attention: AttentionBudget,
    /// Which URLs attribute changes may write.
    #[serde(default)]
    pub links: LinkPolicy,
    /// Classes on `<html>` for pure-CSS personalization.
    #[serde(default)]
    pub html_classes: HtmlClassSettings,
}

fn one() -> u32 {
    1
}

/// How consent gates storage.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentSettings {
    /// `required` (default): store only after an explicit grant of `level`;
    /// `implied`: store unless the visitor refused or sends Global Privacy Control;
    /// `none`: no consent needed (GPC is still honoured). In every mode, a page whose
    /// Consent Mode `default` denies `personalization_storage` stores nothing until
    /// the visitor answers (at the edge, which cannot see the page, only with
    /// `consentOnPage`).
    #[serde(default)]
    pub mode: ConsentMode,
    /// The level storage needs: `personalization`, the only one accepted (a lower
    /// level would store a profile for visitors who refused profiling).
    #[serde(default = "ConsentLevel::personalization")]
    #[cfg_attr(feature = "schema", schemars(with = "RequiredConsentLevel"))]
    pub level: ConsentLevel,
    /// The pages run a consent platform that the edge cannot see (Google Consent
    /// Mode, a TCF banner): under `implied` and `none`, the edge then stores nothing
    /// for a visitor who has no profile cookie yet, and the page's runtime records
    /// that page view once the platform allows it. Without it, the edge stores from
    /// a first response, even where the page's Consent Mode would withhold storage.
    /// (`required` already waits for a grant the runtime has recorded.) Default false.
    #[serde(default)]
    pub consent_on_page: bool,
}

impl Default for ConsentSettings {
    fn default() -> Self {
        ConsentSettings {
            mode: ConsentMode::default(),
            level: ConsentLevel::Personalization,
            consent_on_page: false,
        }
    }
}

/// See [`ConsentSettings::mode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentMode {
    /// Explicit consent first.
    #[default]
    Required,
    /// Consent is assumed until refused.
    Implied,
    /// No consent is needed.
    None,
}

/// What the visitor agreed to, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentLevel {
    /// Refused everything optional.
    Denied,
    /// Strictly necessary storage only: no profile.
    Necessary,
    /// Personalization: the profile may be stored.
    Personalization,
}

/// The one consent level a config may require (its schema; validation refuses the others).
#[cfg(feature = "schema")]
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum RequiredConsentLevel {
    /// Personalization: the profile may be stored.
    Personalization,
}

impl ConsentLevel {
    fn personalization() -> Self {
        ConsentLevel::Personalization
    }

    /// The level a profile was stored under (`Profile::consent`, written as
    /// `level as u8`); `None` for a value no version wrote.
    pub fn from_stored(value: u8) -> Option<ConsentLevel> {
        [
            ConsentLevel::Denied,
            ConsentLevel::Necessary,
            ConsentLevel::Personalization,
        ]
        .into_iter()
        .find(|level| *level as u8 == value)
    }

    /// The stable name used in cookies, attributes and the JS API.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentLevel::Denied => "denied",
            ConsentLevel::Necessary => "necessary",
            ConsentLevel::Personalization => "personalization",
        }
    }
}

/// The profile cookie.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CookieSettings {
    /// Cookie name: letters, digits, `_` and `-`. Default `ep`.
    #[serde(default = "CookieSettings::default_name")]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = r"^[A-Za-z0-9_-]+$")))]
    pub name: String,
    /// Lifetime in days, renewed on every visit: 1 to 400 (browsers cap cookies at
    /// 400). Default 180.
    #[serde(default = "CookieSettings::default_max_age_days")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 400)))]
    pub max_age_days: u32,
    /// Minutes of inactivity that end a session, at least 1. Default 30.
    #[serde(default = "CookieSettings::default_session_timeout")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub session_timeout_minutes: u32,
    /// Ignore cookies that are not signed with one of the edge's keys. Default false
    /// (the browser cannot sign: turn this on only for edge-only sites). Without it,
    /// an edge with keys signs what it writes but still accepts an unsigned cookie,
    /// which anyone can write. An edge without a valid key refuses a config that
    /// turns it on.
    #[serde(default)]
    pub require_signature: bool,
    /// Send the profile cookie on to the origin server. Default false: the edge
    /// reads it and removes it from the request, so the origin never sees it.
    #[serde(default)]
    pub forward_to_origin: bool,
}

impl CookieSettings {
    /// The profile cookie's name when the config names none.
    pub fn default_name() -> String {
        "ep".into()
    }
    /// `maxAgeDays` in seconds, as `Max-Age` takes it.
    pub fn max_age_seconds(&self) -> u32 {
        self.max_age_days.saturating_mul(86_400)
    }

    fn default_max_age_days() -> u32 {
        180
    }
    fn default_session_timeout() -> u32 {
        30
    }
}

impl Default for CookieSettings {
    fn default() -> Self {
        CookieSettings {
            name: Self::default_name(),
            max_age_days: Self::default_max_age_days(),
            session_timeout_minutes: Self::default_session_timeout(),
            require_signature: false,
            forward_to_origin: false,
        }
    }
}

/// Thresholds of the built-in classifiers.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClassifierSettings {
    /// New / returning / experienced.
    #[serde(default)]
    pub experience: ExperienceThresholds,
    /// Price bands from observed prices.
    #[serde(default)]
    pub price: PriceSettings,
    /// Funnel stage cold → warm → hot → customer.
    #[serde(default)]
    pub funnel: FunnelSettings,
    /// Category interests with decay.
    #[serde(default)]
    pub interests: InterestSettings,
    /// What makes a page view engaged (time in view, scroll depth), and what that
    /// counts for.
    #[serde(default)]
    pub engagement: EngagementSettings,
    /// Hemisphere for seasons. Default `north`.
    #[serde(default)]
    pub hemisphere: Hemisphere,
}

/// Which half of the globe the site's visitors live in (for `time.season`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Hemisphere {
    /// December–February is winter.
    #[default]
    North,
    /// December–February is summer.
    South,
}

/// New / returning / experienced.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExperienceThresholds {
    /// Visits (sessions) from which a visitor is `returning`. Default 2.
    #[serde(default = "ExperienceThresholds::default_returning")]
    pub returning_visits: u32,
    /// Visits from which a visitor is `experienced`. Default 5.
    #[serde(default = "ExperienceThresholds::default_experienced_visits")]
    pub experienced_visits: u32,
    /// Page views from which a visitor is `experienced`, whatever the visits. Default 25.
    #[serde(default = "ExperienceThresholds::default_experienced_page_views")]
    pub experienced_page_views: u32,
}

impl ExperienceThresholds {
    fn default_returning() -> u32 {
        2
    }
    fn default_experienced_visits() -> u32 {
        5
    }
    fn default_experienced_page_views() -> u32 {
        25
    }
}

impl Default for ExperienceThresholds {
    fn default() -> Self {
        ExperienceThresholds {
            returning_visits: Self::default_returning(),
            experienced_visits: Self::default_experienced_visits(),
            experienced_page_views: Self::default_experienced_page_views(),
        }
    }
}

/// Price bands.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceSettings {
    /// Bands in ascending order; a visitor's typical price falls in the first band
    /// whose `below` it is under; the last band has no `below`. Default: `budget`
    /// below 1000, `mid` below 5000, `premium`.
    #[serde(default = "PriceSettings::default_bands")]
    pub bands: Vec<PriceBand>,
    /// Prices seen before a band is assigned. Default 1.
    #[serde(default = "PriceSettings::default_min_observations")]
    pub min_observations: u32,
}

impl PriceSettings {
    fn default_bands() -> Vec<PriceBand> {
        vec![
            PriceBand {
                name: "budget".into(),
                below: Some(1000.0),
            },
            PriceBand {
                name: "mid".into(),
                below: Some(5000.0),
            },
            PriceBand {
                name: "premium".into(),
                below: None,
            },
        ]
    }
    fn default_min_observations() -> u32 {
        1
    }
}

impl Default for PriceSettings {
    fn default() -> Self {
        PriceSettings {
            bands: Self::default_bands(),
            min_observations: Self::default_min_observations(),
        }
    }
}

/// One price band.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceBand {
    /// Band name, e.g. `premium`; used in `price.band` and the `ep-price-<name>` class.
    /// 1–64 characters of `a-z`, `0-9`, `_` and `-`, unique among the bands.
    pub name: String,
    /// Upper bound (exclusive); omitted on the last band.
    #[serde(default)]
    pub below: Option<f64>,
}

/// Funnel stage rules.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FunnelSettings {
    /// Visits from which a visitor who comes back within `quietDays` is at least
    /// `warm`. Default 2.
    #[serde(default = "FunnelSettings::default_warm_visits")]
    pub warm_visits: u32,
    /// Page views in one session from which a visitor is at least `warm`. Default 3.
    #[serde(default = "FunnelSettings::default_warm_page_views")]
    pub warm_session_page_views: u32,
    /// Page `funnelStep` annotations and the stage they promote to, e.g.
    /// `{"booking_form": "hot"}`.
    #[serde(default)]
    pub steps: BTreeMap<String, FunnelStage>,
    /// Days without any visit after which the stage steps down once (hot → warm,
    /// customer → warm, warm → cold); twice the period steps down twice. Default 30.
    #[serde(default = "FunnelSettings::default_quiet_days")]
    pub quiet_days: u32,
}

impl FunnelSettings {
    fn default_warm_visits() -> u32 {
        2
    }
    fn default_warm_page_views() -> u32 {
        3
    }
    fn default_quiet_days() -> u32 {
        30
    }
}

impl Default for FunnelSettings {
    fn default() -> Self {
        FunnelSettings {
            warm_visits: Self::default_warm_visits(),
            warm_session_page_views: Self::default_warm_page_views(),
            steps: BTreeMap::new(),
            quiet_days: Self::default_quiet_days(),
        }
    }
}

/// Funnel stages, in order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Deserialize, Serialize,
)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FunnelStage {
    /// Just looking.
    #[default]
    Cold,
    /// Engaged: came back or read several pages.
    Warm,
    /// Showed intent: added to cart, started a checkout or booking.
    Hot,
    /// Bought.
    Customer,
}

impl FunnelStage {
    /// The stable name used in attributes and classes.
    pub fn as_str(self) -> &'static str {
        match self {
            FunnelStage::Cold => "cold",
            FunnelStage::Warm => "warm",
            FunnelStage::Hot => "hot",
            FunnelStage::Customer => "customer",
        }
    }

    pub(crate) fn from_code(code: u8) -> FunnelStage {
        match code {
            1 => FunnelStage::Warm,
            2 => FunnelStage::Hot,
            3 => FunnelStage::Customer,
            _ => FunnelStage::Cold,
        }
    }

    pub(crate) fn code(self) -> u8 {
        self as u8
    }
}

/// Category interests.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InterestSettings {
    /// Days for a score to halve. Default 14.
    #[serde(default = "InterestSettings::default_half_life")]
    pub half_life_days: f64,
    /// Interests a visitor has at most: the strongest `topK` categories that reach
    /// `minScore` (the profile keeps twice as many, so that a new category can build
    /// up its score). 1 to 16, default 5.
    #[serde(default = "InterestSettings::default_top_k")]
    pub top_k: u8,
    /// Score from which a category counts as an interest. Default 2: two views in
    /// one visit, or one add to cart. Scores halve every `halfLifeDays`, so views
    /// days apart add up to less; a score below by no more than what a view loses in
    /// 2.4 hours still counts (0.005 at the default half-life), so that the minutes
    /// between two views of one visit do not.
    #[serde(default = "InterestSettings::default_min_score")]
    pub min_score: f64,
}

impl InterestSettings {
    fn default_half_life() -> f64 {
        14.0
    }
    fn default_top_k() -> u8 {
        5
    }
    fn default_min_score() -> f64 {
        2.0
    }
}

impl Default for InterestSettings {
    fn default() -> Self {
        InterestSettings {
            half_life_days: Self::default_half_life(),
            top_k: Self::default_top_k(),
            min_score: Self::default_min_score(),
        }
    }
}

/// Engaged page views: the visitor read the page rather than glanced at it. The
/// browser runtime reports one `engaged` event per page view when the page has been
/// visible for `dwellSeconds` (time in a background tab does not count) or scrolled
/// to `scrollPercent` of its height (pages taller than the window only); a site can
/// also report it with `track("engaged")`. The edge sees engagement through the
/// profile cookie on the next request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EngagementSettings {
    /// Seconds the page must be visible; `null` turns time off as a criterion.
    /// Default 30.
    #[serde(default = "EngagementSettings::default_dwell_seconds")]
    pub dwell_seconds: Option<f64>,
    /// Scroll depth in percent of the scrollable height; `null` turns scrolling off as
    /// a criterion. Default 75.
    #[serde(default = "EngagementSettings::default_scroll_percent")]
    pub scroll_percent: Option<f64>,
    /// Added to the interest score of the page's category (a view adds 1). Default 1.
    #[serde(default = "EngagementSettings::default_interest_weight")]
    pub interest_weight: f64,
    /// Whether an engaged page view makes a cold visitor `warm`. Default true.
    #[serde(default = "EngagementSettings::default_makes_warm")]
    pub makes_warm: bool,
}

impl EngagementSettings {
    fn default_dwell_seconds() -> Option<f64> {
        Some(30.0)
    }
    fn default_scroll_percent() -> Option<f64> {
        Some(75.0)
    }
    fn default_interest_weight() -> f64 {
        1.0
    }
    fn default_makes_warm() -> bool {
        true
    }
}

impl Default for EngagementSettings {
    fn default() -> Self {
        EngagementSettings {
            dwell_seconds: Self::default_dwell_seconds(),
            scroll_percent: Self::default_scroll_percent(),
            interest_weight: Self::default_interest_weight(),
            makes_warm: Self::default_makes_warm(),
        }
    }
}

/// A named segment of the site's own.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SegmentRule {
    /// Segment name, e.g. `yandex_paid`; shows in `segments` and as class `ep-seg-<name>`.
    /// 1–64 characters of `a-z`, `0-9`, `_` and `-`, unique among the segments.
    pub name: String,
    /// The condition.
    pub when: ConditionJson,
    /// What the segment is for.
    #[serde(default)]
    pub description: Option<String>,
}

/// Where a slot is on the page.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SlotSettings {
    /// A CSS selector for existing markup. Default: `[data-ep-slot="<slot name>"]`.
    #[serde(default)]
    pub selector: Option<String>,
    /// For single-page apps behind the edge. When the edge replaces this slot's
    /// content (or greets in it), it also sends the page's own content along, inert,
    /// in a `<template data-ep-default="<slot name>">` at the end of `<body>`. The
    /// browser runtime takes it over, so a later decision on the same page (an SPA
    /// route, `forget()`, consent withdrawn) that no longer changes the slot puts the
    /// page's content back; without it, the edge's content stays. Costs the default's
    /// bytes on each page the edge changes. Cloudflare's `htmlrewriter` strategy
    /// cannot capture content and sends no default.
    /// A default is not sent when it holds a `<script>` or another slot, when the edge
    /// changed an attribute in it, when it is text (`<title>`, `<textarea>`) or SVG,
    /// or over 64 KB.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_default: bool,
}

/// What a slot shows instead of its default content.
#[derive(Default, Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Content {
    /// The name of a `<template data-ep-variant="...">` in the page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Markup written by the site in this config (never visitor data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Plain text with `{placeholders}`, set as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A content swap in one slot.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Experience {
    /// Id, used in reports, events and the profile's history:
    /// 1–64 characters of `a-z`, `0-9`, `_` and `-`, unique among experiences,
    /// greetings and popups.
    pub id: String,
    /// The slot it fills.
    pub slot: String,
    /// Higher wins when several match. Default 0; ties go to the earlier one.
    #[serde(default)]
    pub priority: i32,
    /// The visitor must be in all of these segments.
    #[serde(default)]
    pub segments: Vec<String>,
    /// And match this condition.
    #[serde(default)]
    pub when: Option<ConditionJson>,
    /// The content (when there are no `variants`).
    #[serde(default)]
    pub content: Option<Content>,
    /// Weighted variants, chosen by hashing the visitor id. A visitor whose profile
    /// may not be stored (no consent) has no lasting id: they are in no experiment and
    /// see the first variant, reported as no variant, and never the holdout.
    #[serde(default)]
    pub variants: Vec<Variant>,
    /// Share of matching visitors kept on the default content as a control group,
    /// 0 ≤ holdout < 1 (only visitors whose profile is stored: see `variants`).
    #[serde(default)]
    pub holdout: f64,
    /// Hash seed; default the experience id.
    #[serde(default)]
    pub seed: Option<String>,
    /// The offer's category, for suppression after a purchase in that category.
    #[serde(default)]
    pub offer_category: Option<String>,
    /// Not shown for this many days after a purchase (of `offerCategory` if set: the
    /// latest purchase in that category, whatever was bought since; a profile keeps
    /// the last 4 categories bought).
    #[serde(default)]
    pub suppress_after_purchase_days: Option<u32>,
    /// Attribute changes that come with this experience (not with a variant that has
    /// no content: that is the control arm, which shows the page as it is).
    #[serde(default)]
    pub set_attributes: Vec<AttributeChange>,
}

/// One weighted variant.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Variant {
    /// Variant id: 1–64 characters of `a-z`, `0-9`, `_` and `-`, unique within the
    /// experience.
    pub id: String,
    /// Relative weight; weights of one experience sum to 1 (0.99 to 1.01 is accepted,
    /// and scaled to exactly 1, so thirds may be written as 0.33 each).
    pub weight: f64,
    /// Content; omitted means the page's default content.
    #[serde(default)]
    pub content: Option<Content>,
}

/// A safe attribute change, e.g. a CTA link.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttributeChange {
    /// CSS selector of the element(s).
    pub selector: String,
    /// Attribute: `href`, `src`, `title`, `alt`, `aria-label`, `placeholder` or `data-*`
    /// (not `data-ep-*`: edge-persona's own markers; nor `data-hx-on*`, `data-hx-vals`,
    /// `data-hx-vars`, `data-hx-headers`, `data-hx-trigger`, `data-hx-request`,
    /// `data-bind`, `data-ng-*`, `data-script*`, which page libraries run as script). `href`, `src` and the `data-*` names
    /// libraries read as a URL (`data-src`, `data-original`, `data-bg`, `data-hx-get`,
    /// names ending in `-src`, `-href` or `-url`, …) must pass `links`.
    pub attribute: String,
    /// New value; may hold `{placeholders}` (values are percent-encoded in URLs).
    pub value: String,
}

/// A text greeting.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Greeting {
    /// Id: 1–64 characters of `a-z`, `0-9`, `_` and `-`, unique among experiences,
    /// greetings and popups.
    pub id: String,
    /// The slot whose text it sets.
    pub slot: String,
    /// Higher wins. Default 0.
    #[serde(default)]
    pub priority: i32,
    /// Segments required.
    #[serde(default)]
    pub segments: Vec<String>,
    /// Condition.
    #[serde(default)]
    pub when: Option<ConditionJson>,
    /// Text with `{field}` or `{field|fallback}` placeholders. A placeholder with no
    /// value and no fallback makes this greeting skip, so the next one can apply.
    pub template: String,
}

/// A popup.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Popup {
    /// Id: 1–64 characters of `a-z`, `0-9`, `_` and `-`, unique among experiences,
    /// greetings and popups.
    pub id: String,
    /// Higher goes first.
    #[serde(default)]
    pub priority: i32,
    /// Segments required.
    #[serde(default)]
    pub segments: Vec<String>,
    /// Condition.
    #[serde(default)]
    pub when: Option<ConditionJson>,
    /// Dialog content.
    pub content: Content,
    /// Accessible name of the dialog.
    #[serde(default)]
    pub label: Option<String>,
    /// When it opens.
    #[serde(default)]
    pub trigger: PopupTrigger,
    /// How often it may open.
    #[serde(default)]
    pub caps: PopupCaps,
    /// The offer's category, for suppression.
    #[serde(default)]
    pub offer_category: Option<String>,
    /// Not shown for this many days after a purchase (of `offerCategory` if set: the
    /// latest purchase in that category, whatever was bought since; a profile keeps
    /// the last 4 categories bought).
    #[serde(default)]
    pub suppress_after_purchase_days: Option<u32>,
}

/// When a popup opens: the first of these to happen. With none set it opens after
/// 5 seconds.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PopupTrigger {
    /// Seconds after the page loads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_seconds: Option<f64>,
    /// Scroll depth in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scroll_percent: Option<f64>,
    /// The pointer leaves the page at the top (desktop).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exit_intent: bool,
    /// Seconds without input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_seconds: Option<f64>,
}

/// Frequency caps of one popup.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PopupCaps {
    /// Shows per session. Default 1.
    #[serde(default = "PopupCaps::default_per_session")]
    pub per_session: u32,
    /// Minimum days between shows. Default 1.
    #[serde(default = "PopupCaps::default_every_days")]
    pub every_days: f64,
    /// Shows ever. Default 3.
    #[serde(default = "PopupCaps::default_max_total")]
    pub max_total: u32,
    /// Stop after this many dismissals (at least 1). Default 2.
    #[serde(default = "PopupCaps::default_stop_after_dismissals")]
    pub stop_after_dismissals: u32,
    /// Stop once the visitor converted on it. Default true.
    #[serde(default = "yes")]
    pub stop_after_conversion: bool,
    /// Stop pursuing a visitor who has not acted on it for this many days after the
    /// first show. Default 30.
    #[serde(default = "PopupCaps::default_give_up_days")]
    pub give_up_after_days: f64,
}

fn yes() -> bool {
    true
}

impl PopupCaps {
    fn default_per_session() -> u32 {
        1
    }
    fn default_every_days() -> f64 {
        1.0
    }
    fn default_max_total() -> u32 {
        3
    }
    fn default_stop_after_dismissals() -> u32 {
        2
    }
    fn default_give_up_days() -> f64 {
        30.0
    }
}

impl Default for PopupCaps {
    fn default() -> Self {
        PopupCaps {
            per_session: Self::default_per_session(),
            every_days: Self::default_every_days(),
            max_total: Self::default_max_total(),
            stop_after_dismissals: Self::default_stop_after_dismissals(),
            stop_after_conversion: true,
            give_up_after_days: Self::default_give_up_days(),
        }
    }
}

/// The global budget of interruptions (popups) across all popups.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttentionBudget {
    /// Popups per session. Default 1.
    #[serde(default = "AttentionBudget::default_per_session")]
    pub per_session: u32,
    /// Popups per (visitor-local) day. Default 2.
    #[serde(default = "AttentionBudget::default_per_day")]
    pub per_day: u32,
}

impl AttentionBudget {
    fn default_per_session() -> u32 {
        1
    }
    fn default_per_day() -> u32 {
        2
    }
}

impl Default for AttentionBudget {
    fn default() -> Self {
        AttentionBudget {
            per_session: Self::default_per_session(),
            per_day: Self::default_per_day(),
        }
    }
}

/// Which URLs attribute changes may write.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkPolicy {
    /// Allowed schemes. Default `https`, `http`, `mailto`, `tel`.
    #[serde(default = "LinkPolicy::default_schemes")]
    pub schemes: Vec<String>,
    /// Allowed hosts for absolute http(s) URLs (a leading `*.` allows subdomains).
    /// Default: none, so only relative URLs and the other schemes pass.
    #[serde(default)]
    pub hosts: Vec<String>,
}

impl LinkPolicy {
    fn default_schemes() -> Vec<String> {
        ["https", "http", "mailto", "tel"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
}

impl Default for LinkPolicy {
    fn default() -> Self {
        LinkPolicy {
            schemes: Self::default_schemes(),
            hosts: Vec::new(),
        }
    }
}

/// Classes on `<html>`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HtmlClassSettings {
    /// Add classes at all. Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Class prefix. Default `ep-`.
    #[serde(default = "HtmlClassSettings::default_prefix")]
    pub prefix: String,
}

impl HtmlClassSettings {
    fn default_prefix() -> String {
        "ep-".into()
    }
}

impl Default for HtmlClassSettings {
    fn default() -> Self {
        HtmlClassSettings {
            enabled: true,
            prefix: Self::default_prefix(),
        }
    }
}
