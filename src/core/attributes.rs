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
use crate::core::context::{
    Context, ContextNeeds, DeviceClass, PageEvent, PageEventKind, PartOfDay, ReferrerClass, Season,
    Weekday,
};
use crate::core::order::{map_of, stable_sort_by};
use crate::core::profile::update::VisitFacts;
use crate::core::profile::{minutes_from_ms, price_as_written, Minutes, Profile};
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

/// Why a condition's dot path can never name an attribute (a misspelt root or
/// field), or `None` for a path the engine fills. Such a path always reads as
/// missing, so its condition silently never matches as written.
pub fn unknown_attribute(path: &str) -> Option<String> {
    let mut parts = path.split('.');
    let root = parts.next().unwrap_or_default();
    if !ROOTS.contains(&root) {
        return Some(format!(
            "unknown attribute `{root}` (in `{path}`); the attributes are {}",
            ROOTS.join(", ")
        ));
    }
    let fields = group_fields(root)?;
    let field = parts.next()?;
    (!fields.contains(&field)).then(|| {
        format!(
            "unknown attribute `{root}.{field}`; `{root}` has {}",
            fields.join(", ")
        )
    })
}

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
    /// The context parts the items read, worked out once.
    needs: ContextNeeds,
    /// Whether any item reads `segments`.
    reads_segments: bool,
}

impl AttributePlan {
    /// Everything, built once.
    pub fn all_roots() -> &'static AttributePlan {
        static ALL: std::sync::OnceLock<AttributePlan> = std::sync::OnceLock::new();
        ALL.get_or_init(|| AttributePlan::new(ROOTS.iter().map(|&r| (r, None)).collect()))
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
        stable_sort_by(&mut items, |a, b| a < b);
        items.dedup();
        AttributePlan::new(items)
    }

    fn new(items: Vec<(&'static str, Option<&'static str>)>) -> AttributePlan {
        let mut plan = AttributePlan {
            items,
            ..AttributePlan::default()
        };
        plan.needs = ContextNeeds {
            url: plan.reads("url"),
            utm: plan.reads("utm"),
            referrer: plan.reads("referrer"),
            user_agent: plan.reads("device") || plan.reads("os") || plan.reads("browser"),
            language: plan.reads("language") || plan.reads("languages"),
            time: plan.reads("time"),
        };
        plan.reads_segments = plan.reads("segments");
        plan
    }

    /// The parts of the page-view context this plan reads, so the rest is not
    /// computed (parsing a user agent or a referrer costs more than the decision).
    pub fn context_needs(&self) -> ContextNeeds {
        self.needs
    }

    /// Whether the plan reads the `segments` root.
    pub fn reads_segments(&self) -> bool {
        self.reads_segments
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
    let mut object = Value::Object(Map::new());
    build_into(&mut object, sources, plan);
    object
}

/// Writes the attributes the plan asks for into `target`, reusing the keys and
/// string buffers a previous page view left there, so a warm page view allocates
/// (almost) nothing for its attributes. Only the plan's entries are refreshed: keep
/// one target per plan.
pub fn build_into(target: &mut Value, sources: &AttributeSources<'_>, plan: &AttributePlan) {
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(object) = target else {
        return;
    };
    for &(root, field) in &plan.items {
        match field {
            None => with_slot(object, root, |slot| match root_leaf(root, sources) {
                Some(leaf) => assign(slot, leaf),
                None => *slot = root_value(root, sources),
            }),
            Some(field) => with_slot(object, root, |group| {
                if !group.is_object() {
                    *group = Value::Object(Map::new());
                }
                if let Value::Object(map) = group {
                    with_slot(map, field, |slot| {
                        assign(slot, field_leaf(root, field, sources))
                    });
                }
            }),
        }
    }
}

/// Runs `write` on the entry for `key`, creating it (once) when missing.
fn with_slot(map: &mut Map<String, Value>, key: &str, write: impl FnOnce(&mut Value)) {
    match map.get_mut(key) {
        Some(slot) => write(slot),
        None => {
            let mut slot = Value::Null;
            write(&mut slot);
            map.insert(key.to_string(), slot);
        }
    }
}

/// A value to write, borrowed where possible so a string slot can be overwritten
/// in place.
enum Leaf<'s> {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Str(&'s str),
    Owned(Value),
}

fn assign(slot: &mut Value, leaf: Leaf<'_>) {
    match (slot, leaf) {
        (Value::String(existing), Leaf::Str(new)) => {
            existing.clear();
            existing.push_str(new);
        }
        (slot, Leaf::Null) => *slot = Value::Null,
        (slot, Leaf::Bool(b)) => *slot = Value::Bool(b),
        (slot, Leaf::Unsigned(n)) => *slot = Value::from(n),
        (slot, Leaf::Signed(n)) => *slot = Value::from(n),
        (slot, Leaf::Float(f)) => *slot = number(f),
        (slot, Leaf::Str(new)) => *slot = Value::String(new.to_string()),
        (slot, Leaf::Owned(value)) => *slot = value,
    }
}

fn opt<'s>(value: Option<&'s str>) -> Leaf<'s> {
    value.map_or(Leaf::Null, Leaf::Str)
}

fn float(value: Option<f64>) -> Leaf<'static> {
    value.map_or(Leaf::Null, Leaf::Float)
}

fn days(now: Minutes, then: Minutes) -> Leaf<'static> {
    if then == 0 {
        Leaf::Null
    } else {
        Leaf::Float(f64::from(now.saturating_sub(then)) / 1440.0)
    }
}

/// Serde's names for the context's enums, without allocating.
fn referrer_class_name(class: ReferrerClass) -> &'static str {
    match class {
        ReferrerClass::Search => "search",
        ReferrerClass::Social => "social",
        ReferrerClass::Email => "email",
        ReferrerClass::Paid => "paid",
        ReferrerClass::Internal => "internal",
        ReferrerClass::Direct => "direct",
        ReferrerClass::Other => "other",
    }
}

fn device_name(device: DeviceClass) -> &'static str {
    match device {
        DeviceClass::Mobile => "mobile",
        DeviceClass::Tablet => "tablet",
        DeviceClass::Desktop => "desktop",
        DeviceClass::Bot => "bot",
        DeviceClass::Unknown => "unknown",
    }
}

fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

fn season_name(season: Season) -> &'static str {
    match season {
        Season::Winter => "winter",
        Season::Spring => "spring",
        Season::Summer => "summer",
        Season::Autumn => "autumn",
    }
}

fn part_of_day_name(part: PartOfDay) -> &'static str {
    match part {
        PartOfDay::Night => "night",
        PartOfDay::Morning => "morning",
        PartOfDay::Afternoon => "afternoon",
        PartOfDay::Evening => "evening",
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn number(value: impl Into<f64>) -> Value {
    serde_json::Number::from_f64(value.into()).map_or(Value::Null, Value::Number)
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

/// The roots whose value is a scalar, as a borrowed leaf.
fn root_leaf<'s>(root: &str, s: &'s AttributeSources<'_>) -> Option<Leaf<'s>> {
    let ctx = s.context;
    let class = s.classification;
    Some(match root {
        "device" => Leaf::Str(device_name(ctx.device)),
        "os" => Leaf::Str(&ctx.os),
        "browser" => Leaf::Str(&ctx.browser),
        "language" => opt(ctx.language.as_deref()),
        "experience" => Leaf::Str(class.experience.as_str()),
        "stage" => Leaf::Str(class.stage.as_str()),
        "topInterest" => opt(class.interests.first().map(String::as_str)),
        "consent" => opt(s.consent.map(ConsentLevel::as_str)),
        "gpc" => Leaf::Bool(s.gpc),
        _ => return None,
    })
}

fn root_value(root: &str, s: &AttributeSources<'_>) -> Value {
    if let Some(fields) = group_fields(root) {
        return Value::Object(map_of(
            fields
                .iter()
                .map(|&f| (f.to_string(), field_value(root, f, s))),
        ));
    }
    if let Some(leaf) = root_leaf(root, s) {
        let mut value = Value::Null;
        assign(&mut value, leaf);
        return value;
    }
    let ctx = s.context;
    let class = s.classification;
    match root {
        "languages" => to_json(&ctx.languages),
        "events" => Value::Array(s.events.iter().map(event_name).collect()),
        "interests" => to_json(&class.interests),
        "segments" => to_json(&class.segments),
        "cookies" => Value::Object(map_of(
            s.cookies
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone()))),
        )),
        "consent" => s
            .consent
            .map_or(Value::Null, |c| Value::String(c.as_str().into())),
        "gpc" => Value::Bool(s.gpc),
        _ => Value::Null,
    }
}

fn field_value(root: &str, field: &str, s: &AttributeSources<'_>) -> Value {
    let mut value = Value::Null;
    assign(&mut value, field_leaf(root, field, s));
    value
}

fn field_leaf<'s>(root: &str, field: &str, s: &'s AttributeSources<'_>) -> Leaf<'s> {
    let ctx = s.context;
    let profile = s.profile;
    let funnel = &profile.funnel;
    let class = s.classification;
    let now = minutes_from_ms(s.now_ms);
    let geo = ctx.geo.as_ref();
    match root {
        "url" => match field {
            "host" => Leaf::Str(&ctx.url.host),
            "path" => Leaf::Str(&ctx.url.path),
            "query" => Leaf::Owned(Value::Object(map_of(
                ctx.url
                    .query
                    .iter()
                    .rev() // the first occurrence of a name wins, as in `query_param`
                    .map(|(k, v)| (k.clone(), Value::String(v.clone()))),
            ))),
            _ => Leaf::Null,
        },
        "utm" => match field {
            "source" => opt(ctx.utm.source.as_deref()),
            "medium" => opt(ctx.utm.medium.as_deref()),
            "campaign" => opt(ctx.utm.campaign.as_deref()),
            "term" => opt(ctx.utm.term.as_deref()),
            "content" => opt(ctx.utm.content.as_deref()),
            "clickId" => opt(ctx.utm.click_id.as_deref()),
            _ => Leaf::Null,
        },
        "referrer" => match field {
            "class" => Leaf::Str(referrer_class_name(ctx.referrer.class)),
            "source" => opt(ctx.referrer.source.as_deref()),
            "host" => opt(ctx.referrer.host.as_deref()),
            _ => Leaf::Null,
        },
        "time" => match field {
            "hour" => Leaf::Unsigned(ctx.time.hour.into()),
            "minute" => Leaf::Unsigned(ctx.time.minute.into()),
            "weekday" => Leaf::Str(weekday_name(ctx.time.weekday)),
            "season" => Leaf::Str(season_name(ctx.time.season)),
            "partOfDay" => Leaf::Str(part_of_day_name(ctx.time.part_of_day)),
            "isWeekend" => Leaf::Bool(ctx.time.is_weekend),
            "month" => Leaf::Unsigned(ctx.time.month.into()),
            "day" => Leaf::Unsigned(ctx.time.day.into()),
            "year" => Leaf::Signed(ctx.time.year.into()),
            "dayOfYear" => Leaf::Unsigned(ctx.time.day_of_year.into()),
            _ => Leaf::Null,
        },
        "geo" => match field {
            "country" => opt(geo.and_then(|g| g.country.as_deref())),
            "region" => opt(geo.and_then(|g| g.region.as_deref())),
            "city" => opt(geo.and_then(|g| g.city.as_deref())),
            _ => Leaf::Null,
        },
        "page" => match field {
            "price" => float(ctx.page.price),
            "currency" => opt(ctx.page.currency.as_deref()),
            "category" => opt(ctx.page.category.as_deref()),
            "itemId" => opt(ctx.page.item_id.as_deref()),
            "funnelStep" => opt(ctx.page.funnel_step.as_deref()),
            _ => Leaf::Null,
        },
        "visitor" => match field {
            "visits" => Leaf::Unsigned(profile.visits.into()),
            "pageViews" => Leaf::Unsigned(profile.page_views.into()),
            "sessionPageViews" => Leaf::Unsigned(profile.session_page_views.into()),
            "newSession" => Leaf::Bool(s.visit.new_session),
            "daysSinceFirstVisit" if profile.page_views > 1 => days(now, profile.first_seen),
            // The gap before this visit, on each of its pages.
            "daysSinceLastVisit" if profile.visits > 1 => {
                Leaf::Float(f64::from(profile.previous_visit_gap) / 1440.0)
            }
            "daysSinceFirstVisit" | "daysSinceLastVisit" => Leaf::Null,
            "addToCarts" => Leaf::Unsigned(funnel.add_to_cart.count.into()),
            "checkouts" => Leaf::Unsigned(funnel.checkout.count.into()),
            "purchases" => Leaf::Unsigned(funnel.purchase.count.into()),
            "leads" => Leaf::Unsigned(funnel.lead.count.into()),
            "daysSinceAddToCart" => days(now, funnel.add_to_cart.last),
            "daysSincePurchase" => days(now, funnel.purchase.last),
            "lastPurchaseCategory" => opt(funnel
                .last_purchase
                .as_ref()
                .and_then(|p| p.category.as_deref())),
            "abandonedCart" => Leaf::Bool(abandoned_cart(profile)),
            _ => Leaf::Null,
        },
        "price" => match field {
            "band" => opt(class.price_band),
            "typical" => float(class.typical_price),
            "trend" => Leaf::Str(class.price_trend.as_str()),
            "min" if profile.prices.count > 0 => Leaf::Float(price_as_written(profile.prices.min)),
            "max" if profile.prices.count > 0 => Leaf::Float(price_as_written(profile.prices.max)),
            "observations" => Leaf::Unsigned(profile.prices.count.into()),
            _ => Leaf::Null,
        },
        _ => Leaf::Null,
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
    fn enum_names_match_serde() {
        let check = |name: &str, serde: Value| assert_eq!(Value::String(name.into()), serde);
        for c in [
            ReferrerClass::Search,
            ReferrerClass::Social,
            ReferrerClass::Email,
            ReferrerClass::Paid,
            ReferrerClass::Internal,
            ReferrerClass::Direct,
            ReferrerClass::Other,
        ] {
            check(referrer_class_name(c), to_json(&c));
        }
        for d in [
            DeviceClass::Mobile,
            DeviceClass::Tablet,
            DeviceClass::Desktop,
            DeviceClass::Bot,
            DeviceClass::Unknown,
        ] {
            check(device_name(d), to_json(&d));
        }
        for w in [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
            Weekday::Sunday,
        ] {
            check(weekday_name(w), to_json(&w));
        }
        for x in [
            Season::Winter,
            Season::Spring,
            Season::Summer,
            Season::Autumn,
        ] {
            check(season_name(x), to_json(&x));
        }
        for p in [
            PartOfDay::Night,
            PartOfDay::Morning,
            PartOfDay::Afternoon,
            PartOfDay::Evening,
        ] {
            check(part_of_day_name(p), to_json(&p));
        }
    }

    #[test]
    fn rebuilding_into_a_used_target_gives_the_same_object() {
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
        let plan = AttributePlan::all_roots();
        let fresh = build(&sources, plan);
        let mut used =
            serde_json::json!({"utm": {"source": "stale-value-from-before"}, "device": "stale"});
        build_into(&mut used, &sources, plan);
        assert_eq!(used, fresh);
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
