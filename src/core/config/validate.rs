//! Checks that go beyond types: references between rules, ranges, uniqueness,
//! conditions that compile, templates that use allowed fields, links on the
//! allow-list. Every problem is collected; nothing stops at the first.

use super::model::*;
use super::{Compiled, ConfigError, ConfigErrors, LoadedConfig};
use crate::core::attributes::{unknown_attribute, AttributePlan, NUMERIC_PATHS};
use crate::core::bucketing::bucket_ranges;
use crate::core::condition::{attribute_tests, exact_strings, named_groups, Condition};
use crate::core::links::{attribute_is_url, attribute_is_writable, url_is_allowed};
use crate::core::order::map_of;
use crate::core::pattern::PatternEngine;
use crate::core::profile::update::MAX_LABEL_BYTES;
use crate::core::template::{percent_encode, Template, ALLOWED_FIELDS};
use serde_json::Value;
use std::collections::HashSet;

/// Attributes whose values are always lowercase (see docs/ATTRIBUTES.md).
const LOWERCASE_ATTRIBUTES: [&str; 17] = [
    "url.host",
    "utm.source",
    "utm.medium",
    "referrer.class",
    "referrer.source",
    "device",
    "os",
    "browser",
    "language",
    "languages",
    "time.weekday",
    "time.season",
    "time.partOfDay",
    "experience",
    "stage",
    "price.band",
    "price.trend",
];

struct Checker<'a> {
    errors: Vec<ConfigError>,
    patterns: &'a dyn PatternEngine,
    /// Every attribute path a condition or template reads (repeats included).
    paths: Vec<String>,
    /// `readCookies`: the only cookies a condition can read.
    read_cookies: &'a [String],
    /// `savedGroups`' names: the only groups `$inGroup` can name.
    saved_groups: Vec<String>,
    /// Every segment's name, in order, and while a segment's own condition is
    /// checked, how many come before it (a condition sees only those).
    segment_order: Vec<String>,
    segments_before: Option<usize>,
}

impl Checker<'_> {
    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ConfigError {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Comparisons of attributes that are always numbers must compare with numbers.
    fn numeric_operands(&mut self, path: &str, when: &ConditionJson) {
        for (key, value) in when {
            let here = format!("{path}.{key}");
            match (key.as_str(), value) {
                ("$and" | "$or" | "$nor", Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Value::Object(inner) = item {
                            self.numeric_operands(&format!("{here}[{i}]"), inner);
                        }
                    }
                }
                ("$not", Value::Object(inner)) => self.numeric_operands(&here, inner),
                (attribute, Value::Object(ops)) if NUMERIC_PATHS.contains(&attribute) => {
                    for (op, operand) in ops {
                        let comparison =
                            matches!(op.as_str(), "$gt" | "$gte" | "$lt" | "$lte" | "$eq" | "$ne");
                        if comparison && !operand.is_number() && !operand.is_null() {
                            self.error(
                                format!("{here}.{op}"),
                                format!(
                                    "expected a number (`{attribute}` is a number), found {}",
                                    super::strict::describe(operand)
                                ),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn condition(&mut self, path: &str, when: Option<&ConditionJson>) -> Option<Condition> {
        let when = when?;
        self.numeric_operands(path, when);
        let (condition, issues) = Condition::compile(&Value::Object(when.clone()), self.patterns);
        for issue in issues {
            let joined = if issue.path.is_empty() {
                path.to_string()
            } else if issue.path.starts_with('[') {
                format!("{path}{}", issue.path)
            } else {
                format!("{path}.{}", issue.path)
            };
            self.error(joined, issue.message);
        }
        for attribute in condition.attribute_paths() {
            if let Some(why) = unknown_attribute(&attribute) {
                self.error(path, why);
            } else if let Some(cookie) = attribute.strip_prefix("cookies.") {
                let name = cookie.split('.').next().unwrap_or_default();
                if !self.read_cookies.iter().any(|c| c == name) {
                    self.error(
                        path,
                        format!("`{attribute}` reads cookie {name:?}, which is not in readCookies: it would never be read"),
                    );
                }
            }
        }
        self.paths.extend(condition.attribute_paths());
        self.compared_values(path, when);
        Some(condition)
    }

    /// Values a condition compares with that can never be there: a saved group not
    /// defined, a segment not defined (or, in a segment's condition, defined after
    /// it: segments are evaluated in order), and letters in a case the attribute
    /// never has.
    fn compared_values(&mut self, path: &str, when: &ConditionJson) {
        for (attribute, test) in attribute_tests(when) {
            let here = format!("{path}.{attribute}");
            // A group missing from `savedGroups` makes the clause always false (or
            // always true), which a typo would hide.
            for (operator, group) in named_groups(test) {
                if !self.saved_groups.iter().any(|g| g == group) {
                    let defined = if self.saved_groups.is_empty() {
                        "none is defined".to_string()
                    } else {
                        format!("defined: {}", self.saved_groups.join(", "))
                    };
                    self.error(
                        format!("{here}.{operator}"),
                        format!("no saved group {group:?} in savedGroups ({defined})"),
                    );
                }
            }
            for value in exact_strings(test) {
                if attribute == "segments" {
                    let at = self.segment_order.iter().position(|s| s == value);
                    match (at, self.segments_before) {
                        (None, _) => self.error(&here, format!("unknown segment {value:?}; define it under `segments`")),
                        (Some(at), Some(before)) if at >= before => self.error(
                            &here,
                            format!("segment {value:?} is evaluated after this one (segments go in order): move it above, or this never sees it"),
                        ),
                        _ => {}
                    }
                } else if LOWERCASE_ATTRIBUTES.contains(&attribute)
                    && value.bytes().any(|b| b.is_ascii_uppercase())
                {
                    self.error(
                        &here,
                        format!("`{attribute}` is always lowercase: {value:?} never matches; write {:?}", value.to_ascii_lowercase()),
                    );
                } else if attribute == "geo.country"
                    && value.bytes().any(|b| b.is_ascii_lowercase())
                {
                    self.error(
                        &here,
                        format!("`geo.country` is an uppercase ISO code: {value:?} never matches; write {:?}", value.to_ascii_uppercase()),
                    );
                }
            }
        }
    }

    fn name(&mut self, path: &str, kind: &str, name: &str) {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !ok {
            self.error(
                path,
                format!("expected a {kind} name of 1–64 characters from a–z, 0–9, `_` and `-`, found {name:?}"),
            );
        }
    }

    fn unique(&mut self, seen: &mut HashSet<String>, path: &str, what: &str, id: &str) {
        if !seen.insert(id.to_string()) {
            self.error(path, format!("duplicate {what} {id:?}; ids must be unique"));
        }
    }

    fn segments_exist(&mut self, path: &str, used: &[String], known: &HashSet<String>) {
        for (i, name) in used.iter().enumerate() {
            if !known.contains(name) {
                self.error(
                    format!("{path}.segments[{i}]"),
                    format!("unknown segment {name:?}; define it under `segments`"),
                );
            }
        }
    }

    fn template(&mut self, path: &str, text: &str, cookies: &[String]) -> Option<Template> {
        match Template::parse(text) {
            Ok(template) => {
                for field in template.fields() {
                    self.paths.push(field.to_string());
                    let declared_cookie = field
                        .strip_prefix("cookies.")
                        .is_some_and(|c| cookies.iter().any(|d| d == c));
                    if let Some(cookie) =
                        field.strip_prefix("cookies.").filter(|_| !declared_cookie)
                    {
                        self.error(
                            path,
                            format!(
                                "placeholder {{{field}}} reads cookie {cookie:?}, which is not in readCookies: add it there"
                            ),
                        );
                    } else if !declared_cookie && !ALLOWED_FIELDS.contains(&field) {
                        self.error(
                            path,
                            format!(
                                "placeholder {{{field}}} is not allowed; use `cookies.<name>` for a cookie listed in readCookies, or one of: {}",
                                ALLOWED_FIELDS.join(", ")
                            ),
                        );
                    }
                }
                Some(template)
            }
            Err(message) => {
                self.error(path, message);
                None
            }
        }
    }

    fn content(&mut self, path: &str, content: &Content, cookies: &[String]) {
        let given = [&content.template, &content.html, &content.text]
            .iter()
            .filter(|c| c.is_some())
            .count();
        if given != 1 {
            self.error(path, "expected exactly one of `template`, `html` or `text`");
        }
        if let Some(text) = &content.text {
            self.template(&format!("{path}.text"), text, cookies);
        }
        if let Some(html) = &content.html {
            if let Err(why) = crate::core::html::check_fragment(html) {
                self.error(format!("{path}.html"), why);
            }
            // `{utm.source}`, `{cookies.name|friend}`: placeholders are filled in
            // `text` only; in markup they would show as written.
            let placeholder = ALLOWED_FIELDS
                .iter()
                .map(|field| format!("{{{field}"))
                .chain(std::iter::once("{cookies.".to_string()))
                .find(|opening| html.contains(opening.as_str()));
            if let Some(opening) = placeholder {
                self.error(
                    format!("{path}.html"),
                    format!("placeholders such as `{opening}…}}` are filled only in `text`: `html` is shown as written (put the markup in a page <template>, or the words in `text`)"),
                );
            }
        }
        if let Some(name) = &content.template {
            if name.is_empty() || name.contains(['"', '\'', '\\', '<', '>']) {
                self.error(
                    format!("{path}.template"),
                    "expected a template name without quotes, backslashes or angle brackets",
                );
            }
        }
    }

    /// A URL attribute's value as every visitor may get it, against the link policy:
    /// with a value in each placeholder (percent-encoded, as at request time) and
    /// with the placeholders' fallbacks. A value refused here would be refused for
    /// every visitor, silently, when pages are served.
    /// A placeholder in the scheme or host is left to the check at request time: no
    /// stand-in value could pass an explicit host list (`https://{geo.country}.shop…`).
    fn url_template(&mut self, path: &str, template: &Template, source: &str, links: &LinkPolicy) {
        let authority_end = source.find("://").map_or(0, |scheme_end| {
            let after = scheme_end + 3;
            after
                + source[after..]
                    .find(['/', '?', '#'])
                    .unwrap_or(source.len() - after)
        });
        let placeholder_in_host = source.find('{').is_some_and(|brace| brace < authority_end);
        let with_values = if placeholder_in_host {
            None
        } else {
            template.render(&|_| Some("value".to_string()), &percent_encode)
        };
        let with_fallbacks = template.render(&|_| None, &percent_encode);
        let renderings = [
            (with_values, "with a visitor's value in each placeholder"),
            (with_fallbacks, "with the placeholders' fallbacks"),
        ];
        for (rendered, how) in renderings {
            let Some(url) = rendered else { continue };
            if let Err(why) = url_is_allowed(&url, links) {
                let why = if template.is_static() {
                    why
                } else {
                    format!("{why} ({how}: {url:?})")
                };
                self.error(path, why);
                return;
            }
        }
    }

    fn suppression(&mut self, path: &str, days: Option<u32>, category: &Option<String>) {
        if category.as_ref().is_some_and(|c| c.len() > MAX_LABEL_BYTES) {
            // Purchase categories are kept to that many bytes in the profile.
            self.error(
                format!("{path}.offerCategory"),
                format!("expected at most {MAX_LABEL_BYTES} bytes (a profile keeps no more of a category)"),
            );
        }
        if category.is_some() && days.is_none() {
            self.error(
                format!("{path}.offerCategory"),
                "offerCategory is only used with suppressAfterPurchaseDays; set both",
            );
        }
    }
}

pub(super) fn validate(
    site: SiteConfig,
    patterns: &dyn PatternEngine,
) -> Result<LoadedConfig, ConfigErrors> {
    let read_cookies = site.read_cookies.clone();
    let mut check = Checker {
        errors: Vec::new(),
        patterns,
        paths: Vec::new(),
        read_cookies: &read_cookies,
        saved_groups: site.saved_groups.keys().cloned().collect(),
        segment_order: site.segments.iter().map(|s| s.name.clone()).collect(),
        segments_before: None,
    };
    if site.version != 1 {
        check.error("version", format!("expected 1, found {}", site.version));
    }

    if site.consent.level < crate::core::config::ConsentLevel::Personalization {
        check.error(
            "consent.level",
            "expected `personalization`: a lower level would store a profile for visitors who refused profiling",
        );
    }
    let cookie = &site.cookie;
    if cookie.name.is_empty()
        || !cookie
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        check.error(
            "cookie.name",
            "expected a cookie name of letters, digits, `_` and `-`",
        );
    }
    if cookie.max_age_days == 0 || cookie.max_age_days > 400 {
        check.error(
            "cookie.maxAgeDays",
            "expected 1 to 400 days (browsers cap cookies at 400)",
        );
    }
    if cookie.session_timeout_minutes == 0 {
        check.error("cookie.sessionTimeoutMinutes", "expected at least 1 minute");
    }
    for (i, name) in site.read_cookies.iter().enumerate() {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}.".contains(&b))
        {
            check.error(
                format!("readCookies[{i}]"),
                format!("{name:?} is not a valid cookie name"),
            );
        }
        if *name == cookie.name {
            check.error(
                format!("readCookies[{i}]"),
                "the profile cookie itself cannot be read as a site cookie",
            );
        }
    }

    let classify = &site.classify;
    let bands = &classify.price.bands;
    if bands.is_empty() {
        check.error("classify.price.bands", "expected at least one band");
    }
    let mut band_names = HashSet::new();
    let mut previous_bound = f64::NEG_INFINITY;
    for (i, band) in bands.iter().enumerate() {
        let path = format!("classify.price.bands[{i}]");
        check.name(&format!("{path}.name"), "band", &band.name);
        check.unique(&mut band_names, &format!("{path}.name"), "band", &band.name);
        let last = i + 1 == bands.len();
        match (band.below, last) {
            (None, false) => check.error(
                format!("{path}.below"),
                "only the last band may leave out `below`",
            ),
            (Some(_), true) => check.error(
                format!("{path}.below"),
                "the last band takes every price above the others: leave out `below`",
            ),
            (Some(bound), false) => {
                if bound.partial_cmp(&previous_bound) != Some(std::cmp::Ordering::Greater)
                    || !bound.is_finite()
                {
                    check.error(
                        format!("{path}.below"),
                        "expected bounds in ascending order",
                    );
                }
                previous_bound = bound;
            }
            (None, true) => {}
        }
    }
    if classify.interests.half_life_days.is_nan() || classify.interests.half_life_days <= 0.0 {
        check.error(
            "classify.interests.halfLifeDays",
            "expected a number of days above 0",
        );
    }
    if classify.interests.top_k == 0 || classify.interests.top_k > 16 {
        check.error("classify.interests.topK", "expected 1 to 16");
    }
    if classify.funnel.quiet_days == 0 {
        check.error("classify.funnel.quietDays", "expected at least 1 day");
    }
    let engagement = &classify.engagement;
    // 0 would make every page view engaged at once: `null` is how to turn one off.
    for (field, value, max) in [
        ("dwellSeconds", engagement.dwell_seconds, 3600.0),
        ("scrollPercent", engagement.scroll_percent, 100.0),
    ] {
        if value.is_some_and(|v| !(v > 0.0 && v <= max)) {
            check.error(
                format!("classify.engagement.{field}"),
                format!("expected above 0 and at most {max} (null turns it off)"),
            );
        }
    }
    if !(0.0..=10.0).contains(&engagement.interest_weight) {
        check.error("classify.engagement.interestWeight", "expected 0 to 10");
    }

    for name in site.saved_groups.keys() {
        check.name(&format!("savedGroups[{:?}]", name), "group", name);
    }

    let mut segment_names = HashSet::new();
    let mut segments = Vec::new();
    for (i, segment) in site.segments.iter().enumerate() {
        let path = format!("segments[{i}]");
        check.name(&format!("{path}.name"), "segment", &segment.name);
        check.unique(
            &mut segment_names,
            &format!("{path}.name"),
            "segment",
            &segment.name,
        );
        check.segments_before = Some(i);
        let condition = check.condition(&format!("{path}.when"), Some(&segment.when));
        check.segments_before = None;
        segments.push(Compiled {
            condition,
            extra: (),
        });
    }

    // Two slots on the same elements would each write over the other's content
    // and marker; a greeting would slip past needing a slot of its own.
    let mut slot_of_selector: Vec<(String, &str)> = Vec::new();
    for (name, slot) in &site.slots {
        let path = format!("slots.{name}");
        check.name(&path, "slot", name);
        if let Some(selector) = &slot.selector {
            if selector.trim().is_empty() || selector.contains(['{', '}', '<']) {
                check.error(format!("{path}.selector"), "expected a CSS selector");
            }
        }
        let selector = slot.selector.as_deref().map_or_else(
            || format!("[data-ep-slot=\"{name}\"]"),
            |s| s.trim().to_string(),
        );
        match slot_of_selector.iter().find(|(s, _)| *s == selector) {
            Some((_, other)) => check.error(
                format!("{path}.selector"),
                format!("slot {other:?} has the same selector {selector:?}: give each slot its own elements"),
            ),
            None => slot_of_selector.push((selector, name)),
        }
    }
    for (field, value) in [
        ("perSession", site.attention.per_session),
        ("perDay", site.attention.per_day),
    ] {
        if value == 0 {
            check.error(
                format!("attention.{field}"),
                "must be at least 1 (0 would keep every popup from opening; remove the popups to turn them off)",
            );
        }
    }

    let mut ids = HashSet::new();
    let mut experience_slots = HashSet::new();
    let mut experiences = Vec::new();
    for (i, exp) in site.experiences.iter().enumerate() {
        let path = format!("experiences[{i}]");
        check.name(&format!("{path}.id"), "rule id", &exp.id);
        check.unique(&mut ids, &format!("{path}.id"), "id", &exp.id);
        if !site.slots.contains_key(&exp.slot) {
            check.error(
                format!("{path}.slot"),
                format!("unknown slot {:?}; declare it under `slots`", exp.slot),
            );
        }
        experience_slots.insert(exp.slot.clone());
        check.segments_exist(&path, &exp.segments, &segment_names);
        let condition = check.condition(&format!("{path}.when"), exp.when.as_ref());
        match (&exp.content, exp.variants.is_empty()) {
            (Some(content), true) => {
                check.content(&format!("{path}.content"), content, &site.read_cookies)
            }
            (None, true) => check.error(&path, "expected `content` or `variants`"),
            (Some(_), false) => check.error(&path, "give either `content` or `variants`, not both"),
            (None, false) => {
                let mut variant_ids = HashSet::new();
                let mut total = 0.0;
                for (v, variant) in exp.variants.iter().enumerate() {
                    let vpath = format!("{path}.variants[{v}]");
                    check.name(&format!("{vpath}.id"), "variant id", &variant.id);
                    check.unique(
                        &mut variant_ids,
                        &format!("{vpath}.id"),
                        "variant id",
                        &variant.id,
                    );
                    if !(variant.weight >= 0.0 && variant.weight <= 1.0) {
                        check.error(format!("{vpath}.weight"), "expected a weight from 0 to 1");
                    }
                    total += variant.weight;
                    if let Some(content) = &variant.content {
                        check.content(&format!("{vpath}.content"), content, &site.read_cookies);
                    }
                }
                if !(0.99..=1.01).contains(&total) {
                    check.error(
                        format!("{path}.variants"),
                        format!(
                            "weights add up to {}; expected 1",
                            crate::core::condition::number_to_string(total)
                        ),
                    );
                }
            }
        }
        if !(0.0..1.0).contains(&exp.holdout) {
            check.error(
                format!("{path}.holdout"),
                "expected a share from 0 up to (not including) 1",
            );
        }
        check.suppression(&path, exp.suppress_after_purchase_days, &exp.offer_category);
        let mut attribute_values = Vec::new();
        for (a, change) in exp.set_attributes.iter().enumerate() {
            let apath = format!("{path}.setAttributes[{a}]");
            if change.selector.trim().is_empty() {
                check.error(format!("{apath}.selector"), "expected a CSS selector");
            }
            if !attribute_is_writable(&change.attribute) {
                check.error(
                    format!("{apath}.attribute"),
                    format!(
                        "attribute {:?} may not be written; allowed: href, src, title, alt, aria-label, placeholder, data-* (but not data-ep-*, edge-persona's own, nor names starting with {}, which libraries run as script)",
                        change.attribute,
                        crate::core::links::SCRIPT_DATA_PREFIXES.join(", ")
                    ),
                );
            } else if change.attribute != change.attribute.to_ascii_lowercase() {
                check.error(
                    format!("{apath}.attribute"),
                    "write attribute names in lowercase",
                );
            }
            let template =
                check.template(&format!("{apath}.value"), &change.value, &site.read_cookies);
            if let Some(template) = &template {
                if attribute_is_url(&change.attribute) {
                    check.url_template(
                        &format!("{apath}.value"),
                        template,
                        &change.value,
                        &site.links,
                    );
                }
            }
            attribute_values.push(template.unwrap_or_default());
        }
        // Weights that add up to 1 within the accepted rounding (0.33 × 3) are scaled
        // to exactly 1: GrowthBook's ranges would leave the rest (here 1 %) to no
        // variant, and those visitors would silently see the default as if held out.
        let total: f64 = exp.variants.iter().map(|v| v.weight).sum();
        let weights: Vec<f64> = exp
            .variants
            .iter()
            .map(|v| {
                if total > 0.0 {
                    v.weight / total
                } else {
                    v.weight
                }
            })
            .collect();
        let ranges = bucket_ranges(
            weights.len().max(1) as i64,
            1.0 - exp.holdout,
            (!weights.is_empty()).then_some(&weights[..]),
        );
        experiences.push(Compiled {
            condition,
            extra: super::ExperiencePlan {
                ranges,
                attribute_values,
            },
        });
    }

    let mut greetings = Vec::new();
    for (i, greeting) in site.greetings.iter().enumerate() {
        let path = format!("greetings[{i}]");
        check.name(&format!("{path}.id"), "rule id", &greeting.id);
        check.unique(&mut ids, &format!("{path}.id"), "id", &greeting.id);
        if !site.slots.contains_key(&greeting.slot) {
            check.error(
                format!("{path}.slot"),
                format!("unknown slot {:?}; declare it under `slots`", greeting.slot),
            );
        } else if experience_slots.contains(&greeting.slot) {
            check.error(
                format!("{path}.slot"),
                format!(
                    "slot {:?} is filled by experiences; give the greeting a slot of its own",
                    greeting.slot
                ),
            );
        }
        check.segments_exist(&path, &greeting.segments, &segment_names);
        let condition = check.condition(&format!("{path}.when"), greeting.when.as_ref());
        let template = check
            .template(
                &format!("{path}.template"),
                &greeting.template,
                &site.read_cookies,
            )
            .unwrap_or_default();
        greetings.push(Compiled {
            condition,
            extra: template,
        });
    }

    let mut popups = Vec::new();
    for (i, popup) in site.popups.iter().enumerate() {
        let path = format!("popups[{i}]");
        check.name(&format!("{path}.id"), "rule id", &popup.id);
        check.unique(&mut ids, &format!("{path}.id"), "id", &popup.id);
        check.segments_exist(&path, &popup.segments, &segment_names);
        let condition = check.condition(&format!("{path}.when"), popup.when.as_ref());
        check.content(
            &format!("{path}.content"),
            &popup.content,
            &site.read_cookies,
        );
        let trigger = &popup.trigger;
        for (field, value, max) in [
            ("delaySeconds", trigger.delay_seconds, 3600.0),
            ("scrollPercent", trigger.scroll_percent, 100.0),
            ("idleSeconds", trigger.idle_seconds, 3600.0),
        ] {
            if let Some(v) = value {
                if !(0.0..=max).contains(&v) {
                    check.error(
                        format!("{path}.trigger.{field}"),
                        format!("expected 0 to {max}"),
                    );
                }
            }
        }
        let caps = &popup.caps;
        if caps.stop_after_dismissals == 0 {
            check.error(
                format!("{path}.caps.stopAfterDismissals"),
                "must be at least 1 (0 would let the popup open once and never again)",
            );
        }
        if caps.per_session == 0 || caps.max_total == 0 {
            check.error(
                format!("{path}.caps"),
                "perSession and maxTotal must be at least 1 (remove the popup to turn it off)",
            );
        }
        if caps.every_days.is_nan()
            || caps.every_days < 0.0
            || caps.give_up_after_days.is_nan()
            || caps.give_up_after_days <= 0.0
        {
            check.error(
                format!("{path}.caps"),
                "everyDays must be 0 or more and giveUpAfterDays above 0",
            );
        }
        check.suppression(
            &path,
            popup.suppress_after_purchase_days,
            &popup.offer_category,
        );
        popups.push(Compiled {
            condition,
            extra: (),
        });
    }

    for (i, host) in site.links.hosts.iter().enumerate() {
        // A URL written where a host belongs would never match.
        let bare = host.strip_prefix("*.").unwrap_or(host);
        if bare.is_empty()
            || !bare
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            let suggestion = host
                .split("://")
                .last()
                .and_then(|rest| rest.split(['/', ':', '?', '#']).next())
                .filter(|h| !h.is_empty() && h != host)
                .map(|h| format!(": write {h:?}"))
                .unwrap_or_default();
            check.error(
                format!("links.hosts[{i}]"),
                format!("expected a bare host name (`example.com`, or `*.example.com` for its subdomains), found {host:?}{suggestion}"),
            );
        }
    }
    for (i, scheme) in site.links.schemes.iter().enumerate() {
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
        {
            check.error(
                format!("links.schemes[{i}]"),
                format!("expected a scheme alone (`https`, `tel`), found {scheme:?}"),
            );
        }
        let lower = scheme.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "javascript" | "data" | "vbscript" | "blob" | "file"
        ) {
            check.error(
                format!("links.schemes[{i}]"),
                format!("scheme {scheme:?} can run code or read files and is never allowed"),
            );
        }
    }
    if site.html_classes.prefix.is_empty()
        || !site
            .html_classes
            .prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        check.error("htmlClasses.prefix", "expected letters, digits, `-` or `_`");
    }

    if !check.errors.is_empty() {
        return Err(ConfigErrors(check.errors));
    }
    let saved_groups = map_of(
        site.saved_groups
            .iter()
            .map(|(k, v)| (k.clone(), Value::Array(v.clone()))),
    );
    let slot_selectors = map_of(site.slots.iter().map(|(name, slot)| {
        let selector = slot
            .selector
            .clone()
            .unwrap_or_else(|| format!("[data-ep-slot=\"{name}\"]"));
        (name.clone(), selector)
    }));
    Ok(LoadedConfig {
        class_names: super::ClassNames::of(&site),
        order: super::RuleOrder::of(&site),
        slot_selectors,
        segments,
        experiences,
        greetings,
        popups,
        saved_groups,
        attribute_plan: AttributePlan::for_paths(check.paths.iter().map(String::as_str)),
        site,
    })
}
