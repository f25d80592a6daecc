//! From classified attributes to what the page shows: slot winners, greetings,
//! armed popups, attribute changes and `<html>` classes, each with its reasons.

use crate::core::bucketing::{choose_variation, hash};
use crate::core::classify::Classification;
use crate::core::config::{Compiled, Content, LoadedConfig, PopupTrigger};
use crate::core::engine::Storage;
use crate::core::links::{attribute_is_url, url_is_allowed};
use crate::core::profile::{minutes_from_ms, Minutes, Profile};
use crate::core::template::{percent_encode, Template};
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

/// What one page view shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision<'c> {
    /// The classifiers' outputs.
    pub visitor: Classification<'c>,
    /// One entry per declared slot that some experience fills, in slot-name order.
    pub slots: Vec<SlotDecision<'c>>,
    /// Greetings to set, one per greeting slot that has one.
    pub greetings: Vec<GreetingDecision<'c>>,
    /// Popups allowed to open on this page, in priority order, at most as many as the
    /// attention budget has left.
    pub popups: Vec<PopupDecision<'c>>,
    /// Attribute changes of the winning experiences.
    pub attributes: Vec<AttributeDecision<'c>>,
    /// Classes for `<html>`.
    pub html_classes: Vec<Cow<'c, str>>,
    /// Why, rule by rule: every rule that applied or matched but was held back
    /// (outranked, holdout, suppressed, capped, over budget); rules that did not match
    /// too when the page view was explained.
    pub reasons: Vec<Reason<'c>>,
}

/// What a slot shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotDecision<'c> {
    /// Slot name.
    pub slot: &'c str,
    /// Where it is on the page.
    pub selector: &'c str,
    /// The winning experience, if any matched (also set for a holdout).
    pub experience: Option<&'c str>,
    /// The chosen variant of a weighted experience.
    pub variant: Option<&'c str>,
    /// The content to show; `None` keeps the page's default.
    pub content: Option<Cow<'c, Content>>,
    /// The visitor is in the experience's control group.
    pub holdout: bool,
}

/// A greeting to set as text.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GreetingDecision<'c> {
    /// Slot name.
    pub slot: &'c str,
    /// Where it is on the page.
    pub selector: &'c str,
    /// The greeting rule.
    pub greeting: &'c str,
    /// The text (never markup).
    pub text: String,
}

/// A popup that may open on this page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PopupDecision<'c> {
    /// Popup id.
    pub popup: &'c str,
    /// Its content.
    pub content: Cow<'c, Content>,
    /// Its accessible name.
    pub label: Option<&'c str>,
    /// When it opens.
    pub trigger: Cow<'c, PopupTrigger>,
}

/// An attribute to set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeDecision<'c> {
    /// The experience it belongs to.
    pub experience: &'c str,
    /// CSS selector.
    pub selector: &'c str,
    /// Attribute name (lowercase).
    pub attribute: &'c str,
    /// Value (checked against the link policy when it is a URL).
    pub value: String,
}

/// What happened to one rule, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason<'c> {
    /// `segment`, `experience`, `greeting`, `popup`, `attribute` or `storage`.
    pub kind: &'static str,
    /// Rule id (segment name for segments).
    pub rule: &'c str,
    /// What happened.
    pub outcome: Outcome,
    /// Details for people: the condition clause and the values it saw. Filled only
    /// when an explanation was asked for, to keep page views fast.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The outcome of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Matched and applied.
    Applied,
    /// Matched (segments).
    Matched,
    /// The condition or a required segment did not match.
    NotMatched,
    /// Matched, but a rule with higher priority took the slot.
    Outranked,
    /// Matched, and the visitor is in the control group.
    Holdout,
    /// Matched, but suppressed after a purchase.
    Suppressed,
    /// Matched, but its own frequency caps are used up.
    Capped,
    /// Matched, but the global attention budget is used up.
    OverBudget,
    /// Matched, but popups need a stored profile to respect caps and there is none.
    /// (An experience with variants or a holdout is applied without one, in no
    /// experiment: see `decide`.)
    NoStorage,
    /// A placeholder had no value and no fallback.
    MissingValue,
    /// The value is not allowed (a URL off the allow-list).
    Refused,
}

pub(crate) struct DecideInput<'c, 'a> {
    pub config: &'c LoadedConfig,
    pub attributes: &'a Value,
    pub classification: Classification<'c>,
    pub profile: &'a Profile,
    pub now_ms: i64,
    pub storage: Storage,
    pub explain: bool,
}

impl<'c> DecideInput<'c, '_> {
    fn lookup(&self, path: &str) -> Option<String> {
        let mut current = self.attributes;
        for part in path.split('.') {
            current = current.get(part)?;
        }
        match current {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Whether a rule's segments and condition match, with a detail when explaining.
    fn matches(
        &self,
        segments: &[String],
        compiled: &Compiled<impl Sized>,
    ) -> (bool, Option<String>) {
        let visitor_segments = &self.classification.segments;
        if let Some(missing) = segments
            .iter()
            .find(|s| !visitor_segments.contains(&s.as_str()))
        {
            let detail = self.explain.then(|| format!("not in segment `{missing}`"));
            return (false, detail);
        }
        let Some(condition) = &compiled.condition else {
            let detail = self
                .explain
                .then(|| "no condition: applies to everyone in its segments".to_string());
            return (true, detail);
        };
        if self.explain {
            let explanation = condition.explain(self.attributes, &self.config.saved_groups);
            (explanation.matched, Some(explanation.reason))
        } else {
            (
                condition.matches(self.attributes, &self.config.saved_groups),
                None,
            )
        }
    }

    /// A reason to record. Rules that simply did not match are recorded only when
    /// explaining: they are most of the rules, and a fast page view should not pay
    /// for a line per rule it skipped.
    fn reason(
        &self,
        kind: &'static str,
        rule: &'c str,
        outcome: Outcome,
        detail: Option<String>,
    ) -> Option<Reason<'c>> {
        if !self.explain && outcome == Outcome::NotMatched {
            return None;
        }
        Some(Reason {
            kind,
            rule,
            outcome,
            detail: if self.explain { detail } else { None },
        })
    }

    /// Whether the visitor bought within `days` (in the offer's `category`, if it
    /// has one: the latest purchase in that category, whatever was bought since).
    fn suppressed(&self, days: Option<u32>, category: &Option<String>) -> bool {
        let Some(days) = days else {
            return false;
        };
        let funnel = &self.profile.funnel;
        let bought_at = match category {
            Some(offer) => self
                .profile
                .purchased_categories
                .iter()
                .find(|mark| mark.category == *offer)
                .map(|mark| mark.at)
                // A profile from before the categories were kept: its latest purchase.
                .or_else(|| {
                    funnel
                        .last_purchase
                        .as_ref()
                        .filter(|p| p.category.as_deref() == Some(offer.as_str()))
                        .map(|p| p.at)
                }),
            None => funnel.last_purchase.as_ref().map(|p| p.at),
        };
        let now = minutes_from_ms(self.now_ms);
        bought_at.is_some_and(|at| now.saturating_sub(at) <= days.saturating_mul(1440))
    }
}

fn selector_of<'c>(config: &'c LoadedConfig, slot: &str) -> &'c str {
    config.slot_selectors.get(slot).map_or("", String::as_str)
}

/// Renders `{placeholders}` in a content's text.
fn render_content<'c>(
    input: &DecideInput<'c, '_>,
    content: &'c Content,
) -> Option<Cow<'c, Content>> {
    match &content.text {
        Some(text) => {
            let template = Template::parse(text).ok()?;
            let rendered = template.render(&|p| input.lookup(p), &|v| v.to_string())?;
            Some(Cow::Owned(Content {
                text: Some(rendered),
                ..content.clone()
            }))
        }
        None => Some(Cow::Borrowed(content)),
    }
}

pub(crate) fn decide<'c>(input: DecideInput<'c, '_>) -> Decision<'c> {
    let config = input.config;
    let site = &config.site;
    let mut reasons = Vec::new();
    if input.explain {
        // Fast page views list segments in `visitor.segments` only.
        for segment in &input.classification.segments {
            reasons.extend(input.reason("segment", segment, Outcome::Matched, None));
        }
    }

    let visitor_key = input.profile.visitor_key();
    // Slots: the highest-priority matching experience wins each slot.
    let mut slots = Vec::new();
    let mut attributes = Vec::new();
    for (slot_name, candidates) in &config.order.slots {
        let mut decision = SlotDecision {
            slot: slot_name,
            selector: selector_of(config, slot_name),
            experience: None,
            variant: None,
            content: None,
            holdout: false,
        };
        let mut taken = false;
        for &i in candidates {
            let exp = &site.experiences[i];
            let Some(compiled) = config.experiences.get(i) else {
                continue;
            };
            let (matched, detail) = input.matches(&exp.segments, compiled);
            if !matched {
                reasons.extend(input.reason("experience", &exp.id, Outcome::NotMatched, detail));
                continue;
            }
            if taken {
                reasons.extend(input.reason("experience", &exp.id, Outcome::Outranked, detail));
                continue;
            }
            if input.suppressed(exp.suppress_after_purchase_days, &exp.offer_category) {
                reasons.extend(input.reason(
                    "experience",
                    &exp.id,
                    Outcome::Suppressed,
                    Some("the visitor bought this recently".into()),
                ));
                continue;
            }
            // Bucketing as GrowthBook does: the holdout shrinks each variant's range.
            // Without a lasting id (no storage) the visitor id is drawn anew on each
            // page load, and the visitor would switch arms: such a visitor is in no
            // experiment (as GrowthBook skips a visitor with no id) and sees the first
            // variant, never the holdout, the same on every page, reported as no
            // variant.
            let experiment = exp.variants.len() > 1 || exp.holdout > 0.0;
            let bucketed = input.storage.lasting_visitor || !experiment;
            taken = true;
            decision.experience = Some(&exp.id);
            let chosen = if bucketed {
                let seed = exp.seed.as_deref().unwrap_or(&exp.id);
                let n = hash(seed, visitor_key.as_str(), 2).unwrap_or(0.0);
                let chosen = choose_variation(n, &compiled.extra.ranges);
                if chosen < 0 {
                    decision.holdout = true;
                    reasons.extend(input.reason(
                        "experience",
                        &exp.id,
                        Outcome::Holdout,
                        Some(format!(
                            "bucket {} falls in the {} % holdout",
                            rounded(n, 1e4),
                            rounded(exp.holdout * 100.0, 1e2)
                        )),
                    ));
                    continue;
                }
                chosen
            } else {
                0
            };
            let variant = exp.variants.get(chosen as usize);
            // A variant without content beside one with content is the experiment's
            // control arm: it shows the page as it is, its attribute changes
            // included. (An experience whose variants all lack content changes
            // attributes only, in every arm.)
            let control_arm = variant.is_some_and(|v| v.content.is_none())
                && exp.variants.iter().any(|v| v.content.is_some());
            let content = match variant {
                Some(variant) => {
                    decision.variant = bucketed.then_some(variant.id.as_str());
                    variant.content.as_ref()
                }
                None => exp.content.as_ref(),
            };
            match content.map(|c| render_content(&input, c)) {
                // A text whose placeholder has no value: the experience steps aside
                // so a lower-priority one can take the slot.
                Some(None) => {
                    taken = false;
                    decision.experience = None;
                    decision.variant = None;
                    reasons.extend(input.reason(
                        "experience",
                        &exp.id,
                        Outcome::MissingValue,
                        Some("a placeholder has no value and no fallback".into()),
                    ));
                    continue;
                }
                Some(rendered) => decision.content = rendered,
                None => decision.content = None,
            }
            let detail = match (bucketed, detail) {
                (false, Some(why)) => Some(format!(
                    "{why}; in no experiment: variants and holdouts need a stored visitor id"
                )),
                (_, detail) => detail,
            };
            reasons.extend(input.reason("experience", &exp.id, Outcome::Applied, detail));
            let changes = if control_arm {
                &[][..]
            } else {
                &exp.set_attributes[..]
            };
            for (change, template) in changes.iter().zip(&compiled.extra.attribute_values) {
                let is_url = attribute_is_url(&change.attribute);
                let encode = |v: &str| {
                    if is_url {
                        percent_encode(v)
                    } else {
                        v.to_string()
                    }
                };
                let Some(value) = template.render(&|p| input.lookup(p), &encode) else {
                    reasons.extend(input.reason(
                        "attribute",
                        &exp.id,
                        Outcome::MissingValue,
                        Some(change.value.clone()),
                    ));
                    continue;
                };
                if is_url {
                    if let Err(why) = url_is_allowed(&value, &site.links) {
                        reasons.extend(input.reason(
                            "attribute",
                            &exp.id,
                            Outcome::Refused,
                            Some(why),
                        ));
                        continue;
                    }
                }
                attributes.push(AttributeDecision {
                    experience: &exp.id,
                    selector: &change.selector,
                    attribute: &change.attribute,
                    value,
                });
            }
        }
        slots.push(decision);
    }

    // Greetings: per slot, the highest-priority one that matches and renders.
    let mut greetings: Vec<GreetingDecision> = Vec::new();
    for &i in &config.order.greetings {
        let greeting = &site.greetings[i];
        let Some(compiled) = config.greetings.get(i) else {
            continue;
        };
        let (matched, detail) = input.matches(&greeting.segments, compiled);
        if !matched {
            reasons.extend(input.reason("greeting", &greeting.id, Outcome::NotMatched, detail));
            continue;
        }
        if greetings.iter().any(|g| g.slot == greeting.slot) {
            reasons.extend(input.reason("greeting", &greeting.id, Outcome::Outranked, detail));
            continue;
        }
        match compiled
            .extra
            .render(&|p| input.lookup(p), &|v| v.to_string())
        {
            Some(text) => {
                reasons.extend(input.reason("greeting", &greeting.id, Outcome::Applied, detail));
                greetings.push(GreetingDecision {
                    slot: &greeting.slot,
                    selector: selector_of(config, &greeting.slot),
                    greeting: &greeting.id,
                    text,
                });
            }
            None => reasons.extend(input.reason(
                "greeting",
                &greeting.id,
                Outcome::MissingValue,
                Some("a placeholder has no value and no fallback".into()),
            )),
        }
    }

    // Popups: matching, within their caps, within the attention budget.
    let now = minutes_from_ms(input.now_ms);
    let attention = &input.profile.attention;
    let budget_left = site
        .attention
        .per_session
        .saturating_sub(u32::from(attention.session))
        .min(
            site.attention
                .per_day
                .saturating_sub(u32::from(attention.day_count)),
        );
    let mut popups = Vec::new();
    for &i in &config.order.popups {
        let popup = &site.popups[i];
        let Some(compiled) = config.popups.get(i) else {
            continue;
        };
        let (matched, detail) = input.matches(&popup.segments, compiled);
        let outcome = if !matched {
            Outcome::NotMatched
        } else if !input.storage.allowed {
            Outcome::NoStorage
        } else if input.suppressed(popup.suppress_after_purchase_days, &popup.offer_category) {
            Outcome::Suppressed
        } else if let Some(why) = cap_reached(input.profile, &popup.id, &popup.caps, now) {
            reasons.extend(input.reason("popup", &popup.id, Outcome::Capped, Some(why.into())));
            continue;
        } else if popups.len() as u32 >= budget_left {
            Outcome::OverBudget
        } else {
            match render_content(&input, &popup.content) {
                Some(content) => {
                    popups.push(PopupDecision {
                        popup: &popup.id,
                        content,
                        label: popup.label.as_deref(),
                        trigger: if popup.trigger == PopupTrigger::default() {
                            Cow::Owned(PopupTrigger {
                                delay_seconds: Some(5.0),
                                ..PopupTrigger::default()
                            })
                        } else {
                            Cow::Borrowed(&popup.trigger)
                        },
                    });
                    Outcome::Applied
                }
                None => Outcome::MissingValue,
            }
        };
        reasons.extend(input.reason("popup", &popup.id, outcome, detail));
    }

    let html_classes = if site.html_classes.enabled {
        html_classes(config, &input.classification)
    } else {
        Vec::new()
    };
    Decision {
        visitor: input.classification,
        slots,
        greetings,
        popups,
        attributes,
        html_classes,
        reasons,
    }
}

/// Which cap, if any, stops a popup now.
fn cap_reached(
    profile: &Profile,
    id: &str,
    caps: &crate::core::config::PopupCaps,
    now: Minutes,
) -> Option<&'static str> {
    let history = profile.rule(id)?;
    let minutes_since = |t: Minutes| f64::from(now.saturating_sub(t));
    if caps.stop_after_conversion && history.converted > 0 {
        Some("the visitor already converted on it")
    } else if u32::from(history.dismissed) >= caps.stop_after_dismissals {
        Some("dismissed too often")
    } else if u32::from(history.shown) >= caps.max_total {
        Some("shown the maximum number of times")
    } else if u32::from(history.session_shows) >= caps.per_session {
        Some("already shown this session")
    } else if history.shown > 0 && minutes_since(history.last_shown) < caps.every_days * 1440.0 {
        Some("shown too recently")
    } else if history.shown > 0
        && history.converted == 0
        && minutes_since(history.first_shown) > caps.give_up_after_days * 1440.0
    {
        Some("no action long after the first show: stopped pursuing")
    } else {
        None
    }
}

/// `<prefix>exp-new`, `<prefix>stage-hot`, `<prefix>price-premium`,
/// `<prefix>seg-<segment>` (all precomputed at load), `<prefix>int-<interest>`.
/// Interests come from page data via the cookie, so only those made of safe class
/// characters are used.
fn html_classes<'c>(config: &'c LoadedConfig, c: &Classification<'c>) -> Vec<Cow<'c, str>> {
    let names = &config.class_names;
    let safe = |s: &str| {
        !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    let mut classes: Vec<Cow<'c, str>> =
        Vec::with_capacity(3 + c.segments.len() + c.interests.len());
    classes.push(Cow::Borrowed(names.experience(c.experience)));
    classes.push(Cow::Borrowed(names.stage(c.stage)));
    if let Some(band) = c.price_band.and_then(|b| names.band(b)) {
        classes.push(Cow::Borrowed(band));
    }
    classes.extend(
        c.segments
            .iter()
            .filter_map(|s| names.segment(s))
            .map(Cow::Borrowed),
    );
    for interest in c.interests.iter().filter(|i| safe(i)) {
        classes.push(Cow::Owned(format!(
            "{}int-{interest}",
            config.site.html_classes.prefix
        )));
    }
    classes
}

/// `x` rounded to `1 / scale` (`1e4`: four decimals) and written as JavaScript
/// would, for explanations (through the engine's one float formatter, not
/// `core::fmt`'s precision formatting, which the browser build would carry for this
/// alone).
fn rounded(x: f64, scale: f64) -> String {
    crate::core::condition::number_to_string((x * scale).round() / scale)
}
