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
//! A page view builds only the attributes its config's conditions and templates
//! read ([`AttributePlan`]): a path like `utm.source` computes that one field, not
//! the whole `utm` group.

use crate::core::classify::Classification;
use crate::core::config::ConsentLevel;
use crate::core::context::{Context, PageEvent, PageEventKind};
use crate::core::profile::update::VisitFacts;
use crate::core::profile::{minutes_from_ms, Minutes, Profile};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

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

/// The fields of each group root (roots whose value is an object with fixed fields).
const GROUP_FIELDS: &[(&str, &[&str])] = &[
    ("url", &["host", "path", "query"]),
    (
        "utm",
        &["source", "medium", "campaign", "term", "content", "clickId"],
    ),
    ("referrer", &["class", "source", "host"]),
    (
        "time",
        &[
            "hour",
            "minute",
            "weekday",
            "season",
            "partOfDay",
            "isWeekend",
            "month",
            "day",
            "year",
            "dayOfYear",
        ],
    ),
    ("geo", &["country", "region", "city"]),
    (
        "page",
        &["price", "currency", "category", "itemId", "funnelStep"],
    ),
    (
        "visitor",
        &[
            "visits",
            "pageViews",
            "sessionPageViews",
            "newSession",
            "daysSinceFirstVisit",
            "daysSinceLastVisit",
            "addToCarts",
            "checkouts",
            "purchases",
            "leads",
            "daysSinceAddToCart",
            "daysSincePurchase",
            "lastPurchaseCategory",
            "abandonedCart",
        ],
    ),
    (
        "price",
        &["band", "typical", "trend", "min", "max", "observations"],
    ),
];

/// Attributes whose value is always a number (or null): comparing them with
/// anything else is a config mistake the loader reports.
pub const NUMERIC_PATHS: &[&str] = &[
    "time.hour",
    "time.minute",
    "time.month",
    "time.day",
    "time.year",
    "time.dayOfYear",
    "page.price",
    "visitor.visits",
    "visitor.pageViews",
    "visitor.sessionPageViews",
    "visitor.daysSinceFirstVisit",
    "visitor.daysSinceLastVisit",
    "visitor.addToCarts",
    "visitor.checkouts",
    "visitor.purchases",
    "visitor.leads",
    "visitor.daysSinceAddToCart",
    "visitor.daysSincePurchase",
    "price.typical",
    "price.min",
    "price.max",
    "price.observations",
];

fn group_fields(root: &str) -> Option<&'static [&'static str]> {
    GROUP_FIELDS
        .iter()
        .find(|(r, _)| *r == root)
        .map(|(_, fields)| *fields)
}

/// Which attributes to compute: whole roots, or single fields of group roots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributePlan {
    /// `(root, None)` computes the whole root; `(root, Some(field))` one field.
    items: Vec<(&'static str, Option<&'static str>)>,
}

impl AttributePlan {
    /// Everything (for explanations and the debug view).
    pub fn all() -> AttributePlan {
        AttributePlan {
            items: ROOTS.iter().map(|&r| (r, None)).collect(),
        }
    }

    /// Just what these dot paths read. Unknown roots are skipped (they read as
    /// missing, as they would anyway); an unknown field of a group computes the group.
    pub fn for_paths<'a>(paths: impl IntoIterator<Item = &'a str>) -> AttributePlan {
        let mut items: Vec<(&'static str, Option<&'static str>)> = Vec::new();
        for path in paths {
            let mut parts = path.split('.');
            let Some(root) = parts
                .next()
                .and_then(|r| ROOTS.iter().copied().find(|&k| k == r))
            else {
                continue;
            };
            let field = group_fields(root).and_then(|fields| {
                let wanted = parts.next()?;
                fields.iter().copied().find(|&f| f == wanted)
            });
            items.push((root, field));
        }
        // A whole root covers its fields.
        let whole: Vec<&str> = items
            .iter()
            .filter(|(_, f)| f.is_none())
            .map(|(r, _)| *r)
            .collect();
        items.retain(|(r, f)| f.is_none() || !whole.contains(r));
        items.sort_unstable();
        items.dedup();
        AttributePlan { items }
    }

    /// Whether the plan reads this root at all.
    pub fn reads(&self, root: &str) -> bool {
        self.items.iter().any(|(r, _)| *r == root)
    }
}

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
    pub classification: &'a Classification<'a>,
    /// The consent signal given.
    pub consent: Option<ConsentLevel>,
}

/// Builds the attributes object the plan asks for.
pub fn build(sources: &AttributeSources<'_>, plan: &AttributePlan) -> Value {
    let mut object = Map::new();
    for &(root, field) in &plan.items {
        match field {
            None => {
                object.insert(root.to_string(), root_value(root, sources));
            }
            Some(field) => {
                let group = object
                    .entry(root)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(map) = group {
                    map.insert(field.to_string(), field_value(root, field, sources));
                }
            }
        }
    }
    Value::Object(object)
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn text(value: &Option<String>) -> Value {
    value
        .as_ref()
        .map_or(Value::Null, |v| Value::String(v.clone()))
}

fn number(value: impl Into<f64>) -> Value {
    serde_json::Number::from_f64(value.into()).map_or(Value::Null, Value::Number)
}

fn days_since(now: Minutes, then: Minutes) -> Value {
    if then == 0 {
        Value::Null
    } else {
        number(f64::from(now.saturating_sub(then)) / 1440.0)
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

fn root_value(root: &str, s: &AttributeSources<'_>) -> Value {
    if let Some(fields) = group_fields(root) {
        return Value::Object(
            fields
                .iter()
                .map(|&f| (f.to_string(), field_value(root, f, s)))
                .collect(),
        );
    }
    let ctx = s.context;
    let class = s.classification;
    match root {
        "device" => to_json(&ctx.device),
        "os" => Value::String(ctx.os.clone()),
        "browser" => Value::String(ctx.browser.clone()),
        "language" => text(&ctx.language),
        "languages" => to_json(&ctx.languages),
        "events" => Value::Array(s.events.iter().map(event_name).collect()),
        "experience" => Value::String(class.experience.as_str().into()),
        "stage" => Value::String(class.stage.as_str().into()),
        "interests" => to_json(&class.interests),
        "topInterest" => text(&class.interests.first().cloned()),
        "segments" => to_json(&class.segments),
        "cookies" => Value::Object(
            s.cookies
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
        "consent" => s
            .consent
            .map_or(Value::Null, |c| Value::String(c.as_str().into())),
        "gpc" => Value::Bool(s.gpc),
        _ => Value::Null,
    }
}

fn field_value(root: &str, field: &str, s: &AttributeSources<'_>) -> Value {
    let ctx = s.context;
    let profile = s.profile;
    let funnel = &profile.funnel;
    let now = minutes_from_ms(s.now_ms);
    match (root, field) {
        ("url", "host") => Value::String(ctx.url.host.clone()),
        ("url", "path") => Value::String(ctx.url.path.clone()),
        ("url", "query") => Value::Object(
            ctx.url
                .query
                .iter()
                .rev() // the first occurrence of a name wins, as in `query_param`
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
        ("utm", "source") => text(&ctx.utm.source),
        ("utm", "medium") => text(&ctx.utm.medium),
        ("utm", "campaign") => text(&ctx.utm.campaign),
        ("utm", "term") => text(&ctx.utm.term),
        ("utm", "content") => text(&ctx.utm.content),
        ("utm", "clickId") => text(&ctx.utm.click_id),
        ("referrer", "class") => to_json(&ctx.referrer.class),
        ("referrer", "source") => text(&ctx.referrer.source),
        ("referrer", "host") => text(&ctx.referrer.host),
        ("time", "hour") => Value::from(ctx.time.hour),
        ("time", "minute") => Value::from(ctx.time.minute),
        ("time", "weekday") => to_json(&ctx.time.weekday),
        ("time", "season") => to_json(&ctx.time.season),
        ("time", "partOfDay") => to_json(&ctx.time.part_of_day),
        ("time", "isWeekend") => Value::Bool(ctx.time.is_weekend),
        ("time", "month") => Value::from(ctx.time.month),
        ("time", "day") => Value::from(ctx.time.day),
        ("time", "year") => Value::from(ctx.time.year),
        ("time", "dayOfYear") => Value::from(ctx.time.day_of_year),
        ("geo", _) => {
            let geo = ctx.geo.as_ref();
            match field {
                "country" => text(&geo.and_then(|g| g.country.clone())),
                "region" => text(&geo.and_then(|g| g.region.clone())),
                _ => text(&geo.and_then(|g| g.city.clone())),
            }
        }
        ("page", "price") => ctx.page.price.map_or(Value::Null, number),
        ("page", "currency") => text(&ctx.page.currency),
        ("page", "category") => text(&ctx.page.category),
        ("page", "itemId") => text(&ctx.page.item_id),
        ("page", "funnelStep") => text(&ctx.page.funnel_step),
        ("visitor", "visits") => Value::from(profile.visits),
        ("visitor", "pageViews") => Value::from(profile.page_views),
        ("visitor", "sessionPageViews") => Value::from(profile.session_page_views),
        ("visitor", "newSession") => Value::Bool(s.visit.new_session),
        ("visitor", "daysSinceFirstVisit") => days_since(now, profile.first_seen),
        ("visitor", "daysSinceLastVisit") => {
            if profile.visits <= 1 && s.visit.quiet_minutes == 0 {
                Value::Null
            } else {
                number(f64::from(s.visit.quiet_minutes) / 1440.0)
            }
        }
        ("visitor", "addToCarts") => Value::from(funnel.add_to_cart.count),
        ("visitor", "checkouts") => Value::from(funnel.checkout.count),
        ("visitor", "purchases") => Value::from(funnel.purchase.count),
        ("visitor", "leads") => Value::from(funnel.lead.count),
        ("visitor", "daysSinceAddToCart") => days_since(now, funnel.add_to_cart.last),
        ("visitor", "daysSincePurchase") => days_since(now, funnel.purchase.last),
        ("visitor", "lastPurchaseCategory") => text(
            &funnel
                .last_purchase
                .as_ref()
                .and_then(|p| p.category.clone()),
        ),
        ("visitor", "abandonedCart") => Value::Bool(abandoned_cart(profile)),
        ("price", "band") => s
            .classification
            .price_band
            .map_or(Value::Null, |b| Value::String(b.into())),
        ("price", "typical") => s.classification.typical_price.map_or(Value::Null, number),
        ("price", "trend") => Value::String(s.classification.price_trend.as_str().into()),
        ("price", "min") if profile.prices.count > 0 => number(profile.prices.min),
        ("price", "max") if profile.prices.count > 0 => number(profile.prices.max),
        ("price", "observations") => Value::from(profile.prices.count),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_compute_only_what_is_read() {
        let plan = AttributePlan::for_paths([
            "utm.source",
            "visitor.visits",
            "device",
            "nosuch.x",
            "url.query.x",
        ]);
        assert_eq!(
            plan.items,
            vec![
                ("device", None),
                ("url", Some("query")),
                ("utm", Some("source")),
                ("visitor", Some("visits"))
            ]
        );
        let plan = AttributePlan::for_paths(["utm.source", "utm", "utm.nosuch"]);
        assert_eq!(plan.items, vec![("utm", None)]);
    }

    #[test]
    fn every_group_field_has_a_value_source() {
        // A field listed in GROUP_FIELDS but missing in `field_value` would silently
        // read as null; this keeps the table and the match in step.
        let profile = Profile::new(1, 1);
        let context = Context::default();
        let settings = Default::default();
        let classification = crate::core::classify::classify(&profile, &settings);
        let cookies = BTreeMap::new();
        let sources = AttributeSources {
            now_ms: 0,
            events: &[],
            cookies: &cookies,
            gpc: false,
            context: &context,
            profile: &profile,
            visit: VisitFacts {
                new_session: true,
                quiet_minutes: 0,
            },
            classification: &classification,
            consent: None,
        };
        let nullable = [
            "source",
            "medium",
            "campaign",
            "term",
            "content",
            "clickId",
            "host",
            "country",
            "region",
            "city",
            "price",
            "currency",
            "category",
            "itemId",
            "funnelStep",
            "daysSinceFirstVisit",
            "daysSinceLastVisit",
            "daysSinceAddToCart",
            "daysSincePurchase",
            "lastPurchaseCategory",
            "band",
            "typical",
            "min",
            "max",
        ];
        for (root, fields) in GROUP_FIELDS {
            for field in *fields {
                let value = field_value(root, field, &sources);
                assert!(
                    !value.is_null() || nullable.contains(field),
                    "{root}.{field} has no source"
                );
            }
        }
    }
}
