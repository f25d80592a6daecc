//! The one attributes object that conditions read: the page view's context, the
//! profile and the classifiers' outputs, under stable camelCase names.
//!
//! | root | holds |
//! |---|---|
//! | `url` | `host`, `path`, `query.<name>` |
//! | `utm` | `source`, `medium`, `campaign`, `term`, `content`, `clickId` |
//! | `referrer` | `class` (search, social, email, paid, internal, direct, other), `source`, `host` |
//! | `device`, `os`, `browser` | device class (mobile, tablet, desktop, bot, unknown), OS and browser names |
//! | `language`, `languages` | primary language and all, by preference |
//! | `time` | the visitor's local `hour`, `minute`, `weekday`, `season`, `partOfDay`, `isWeekend`, `month`, `day`, `year` |
//! | `geo` | `country`, `region`, `city` (edge only) |
//! | `page` | `price`, `currency`, `category`, `itemId`, `funnelStep` |
//! | `events` | kinds (and custom names) of this page view's events |
//! | `visitor` | `visits`, `pageViews`, `sessionPageViews`, `newSession`, `daysSinceFirstVisit`, `daysSinceLastVisit`, `addToCarts`, `checkouts`, `purchases`, `leads`, `daysSinceAddToCart`, `daysSincePurchase`, `lastPurchaseCategory`, `abandonedCart` (added to cart or began a checkout in an earlier visit, bought nothing since) |
//! | `experience` | new, returning, experienced |
//! | `price` | `band`, `typical`, `trend`, `min`, `max`, `observations` |
//! | `stage` | cold, warm, hot, customer |
//! | `interests`, `topInterest` | categories, strongest first |
//! | `segments` | the site's segments the visitor is in |
//! | `cookies` | the site cookies listed in `readCookies` |
//! | `consent`, `gpc` | the consent level given (or null) and Global Privacy Control |
//!
//! A page view builds only the roots its config's conditions read.

use crate::core::classify::Classification;
use crate::core::config::ConsentLevel;
use crate::core::context::{Context, PageEvent, PageEventKind};
use crate::core::profile::update::VisitFacts;
use crate::core::profile::{minutes_from_ms, Minutes, Profile};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Every root the attributes object can hold, in the order documented above.
pub const ROOTS: &[&str] = &[
    "url",
    "utm",
    "referrer",
    "device",
    "os",
    "browser",
    "language",
    "languages",
    "time",
    "geo",
    "page",
    "events",
    "visitor",
    "experience",
    "price",
    "stage",
    "interests",
    "topInterest",
    "segments",
    "cookies",
    "consent",
    "gpc",
];

/// What the attributes are built from.
#[derive(Debug, Clone, Copy)]
pub struct AttributeSources<'a> {
    /// When the page view happens (Unix ms).
    pub now_ms: i64,
    /// This page view's events.
    pub events: &'a [PageEvent],
    /// The site cookies the config names.
    pub cookies: &'a BTreeMap<String, String>,
    /// Global Privacy Control.
    pub gpc: bool,
    /// The derived context.
    pub context: &'a Context,
    /// The profile after this page view.
    pub profile: &'a Profile,
    /// What recording this page view found.
    pub visit: VisitFacts,
    /// The classifiers' outputs.
    pub classification: &'a Classification,
    /// The consent signal given.
    pub consent: Option<ConsentLevel>,
}

/// Builds the attributes object. With `only`, just those roots (plus nothing else);
/// without, all of them.
pub fn build(sources: &AttributeSources<'_>, only: Option<&BTreeSet<String>>) -> Value {
    let mut object = Map::new();
    for &root in ROOTS {
        if only.is_some_and(|roots| !roots.contains(root)) {
            continue;
        }
        object.insert(root.to_string(), value_of(root, sources));
    }
    Value::Object(object)
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn days_since(now: Minutes, then: Minutes) -> Value {
    if then == 0 {
        Value::Null
    } else {
        json!(f64::from(now.saturating_sub(then)) / 1440.0)
    }
}

/// Added to cart or started a checkout in an earlier visit and bought nothing since.
fn abandoned_cart(profile: &Profile) -> bool {
    let funnel = &profile.funnel;
    let intent = funnel.add_to_cart.last.max(funnel.checkout.last);
    intent > 0 && intent < profile.session_start && funnel.purchase.last < intent
}

fn event_name(event: &PageEvent) -> Value {
    match (event.kind, &event.name) {
        (PageEventKind::Custom, Some(name)) => Value::String(name.clone()),
        (kind, _) => to_json(&kind),
    }
}

fn value_of(root: &str, s: &AttributeSources<'_>) -> Value {
    let ctx = s.context;
    let profile = s.profile;
    let class = s.classification;
    let now = minutes_from_ms(s.now_ms);
    match root {
        "url" => {
            let query: Map<String, Value> = ctx
                .url
                .query
                .iter()
                .rev() // the first occurrence of a name wins, as in `query_param`
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            json!({"host": ctx.url.host, "path": ctx.url.path, "query": query})
        }
        "utm" => to_json(&ctx.utm),
        "referrer" => to_json(&ctx.referrer),
        "device" => to_json(&ctx.device),
        "os" => Value::String(ctx.os.clone()),
        "browser" => Value::String(ctx.browser.clone()),
        "language" => to_json(&ctx.language),
        "languages" => to_json(&ctx.languages),
        "time" => to_json(&ctx.time),
        "geo" => to_json(&ctx.geo),
        "page" => to_json(&ctx.page),
        "events" => Value::Array(s.events.iter().map(event_name).collect()),
        "visitor" => {
            let funnel = &profile.funnel;
            json!({
                "visits": profile.visits,
                "pageViews": profile.page_views,
                "sessionPageViews": profile.session_page_views,
                "newSession": s.visit.new_session,
                "daysSinceFirstVisit": days_since(now, profile.first_seen),
                "daysSinceLastVisit": if s.visit.quiet_minutes == 0 && profile.page_views <= 1 {
                    Value::Null
                } else {
                    json!(f64::from(s.visit.quiet_minutes) / 1440.0)
                },
                "addToCarts": funnel.add_to_cart.count,
                "checkouts": funnel.checkout.count,
                "purchases": funnel.purchase.count,
                "leads": funnel.lead.count,
                "daysSinceAddToCart": days_since(now, funnel.add_to_cart.last),
                "daysSincePurchase": days_since(now, funnel.purchase.last),
                "lastPurchaseCategory": funnel.last_purchase.as_ref().and_then(|p| p.category.clone()),
                "abandonedCart": abandoned_cart(profile),
            })
        }
        "experience" => Value::String(class.experience.as_str().into()),
        "price" => {
            let prices = &profile.prices;
            let seen = prices.count > 0;
            json!({
                "band": class.price_band,
                "typical": class.typical_price,
                "trend": class.price_trend.as_str(),
                "min": seen.then_some(f64::from(prices.min)),
                "max": seen.then_some(f64::from(prices.max)),
                "observations": prices.count,
            })
        }
        "stage" => Value::String(class.stage.as_str().into()),
        "interests" => to_json(&class.interests),
        "topInterest" => to_json(&class.interests.first()),
        "segments" => to_json(&class.segments),
        "cookies" => Value::Object(
            s.cookies
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
        "consent" => to_json(&s.consent.map(ConsentLevel::as_str)),
        "gpc" => Value::Bool(s.gpc),
        _ => Value::Null,
    }
}
