//! What a decision does to a page, owned so that it outlives the decision: the one
//! description that the browser layer applies to the DOM and the edge layer applies
//! to the HTML stream, so both show the same thing for the same decision.

use crate::core::config::{Content, LoadedConfig};
use crate::core::decide::Decision;
use crate::core::links::{attribute_is_url, url_is_allowed};
use serde::{Deserialize, Serialize};

/// Marks what a slot or greeting element shows: the experience id, or
/// `experience/variant` for a weighted experience, or the greeting id. Set by the
/// browser layer and by the edge, read by the browser layer to stay idempotent.
pub const APPLIED_ATTRIBUTE: &str = "data-ep-applied";

/// On an element whose attributes the edge changed: their names, space-separated. The
/// page's own value of each is in `data-ep-was-<name>` (absent when the element had
/// none), so that the browser layer can put it back when a later decision no longer
/// changes it.
pub const ORIGINAL_ATTRIBUTES: &str = "data-ep-was";

/// What a decision does to the page, owned so it outlives the decision.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PagePlan {
    /// Slot contents, in config order.
    pub slots: Vec<SlotPlan>,
    /// Greetings, set as text.
    pub greetings: Vec<GreetingPlan>,
    /// Classes added to `<html>`.
    pub classes: Vec<String>,
    /// Attribute changes.
    pub attributes: Vec<AttributePlan>,
    /// Popups the visitor may be shown.
    pub popups: Vec<PopupPlan>,
}

/// One slot's content.
#[derive(Debug, Clone, Serialize)]
pub struct SlotPlan {
    /// The slot's name.
    pub slot: String,
    /// The slot's CSS selector.
    pub selector: String,
    /// `experience/variant`, or `None` for the page's default.
    pub key: Option<String>,
    /// The experience whose content it shows, if any.
    pub experience: Option<String>,
    /// What it shows; `None` keeps the page's default.
    pub content: Option<Content>,
}

/// One greeting, as text.
#[derive(Debug, Clone, Serialize)]
pub struct GreetingPlan {
    /// The slot's name.
    pub slot: String,
    /// The slot's CSS selector.
    pub selector: String,
    /// The greeting's id.
    pub greeting: String,
    /// The rendered text (may hold visitor data: only ever set as text).
    pub text: String,
}

/// One attribute change.
#[derive(Debug, Clone, Serialize)]
pub struct AttributePlan {
    /// The experience that makes the change: it goes with that experience's slot
    /// content, and is held back where that content cannot be shown.
    pub experience: Option<String>,
    /// The elements' CSS selector.
    pub selector: String,
    /// The attribute's name (checked safe by config validation).
    pub attribute: String,
    /// The value (placeholders rendered and percent-encoded).
    pub value: String,
}

/// One popup the visitor may be shown when its trigger fires.
#[derive(Debug, Clone, Serialize)]
pub struct PopupPlan {
    /// The popup's id.
    pub id: String,
    /// Its accessible label.
    pub label: Option<String>,
    /// What it shows.
    pub content: Content,
}

impl PagePlan {
    /// The plan of a decision.
    pub fn from_decision(decision: &Decision<'_>) -> PagePlan {
        PagePlan {
            slots: decision
                .slots
                .iter()
                .map(|s| SlotPlan {
                    slot: s.slot.to_string(),
                    selector: s.selector.to_string(),
                    key: s
                        .content
                        .as_ref()
                        .map(|_| applied_key(s.experience.unwrap_or(""), s.variant)),
                    experience: s.content.as_ref().and(s.experience).map(str::to_string),
                    content: s.content.as_ref().map(|c| c.as_ref().clone()),
                })
                .collect(),
            greetings: decision
                .greetings
                .iter()
                .map(|g| GreetingPlan {
                    slot: g.slot.to_string(),
                    selector: g.selector.to_string(),
                    greeting: g.greeting.to_string(),
                    text: g.text.clone(),
                })
                .collect(),
            classes: decision
                .html_classes
                .iter()
                .map(|c| c.to_string())
                .collect(),
            attributes: decision
                .attributes
                .iter()
                .map(|a| AttributePlan {
                    experience: Some(a.experience.to_string()),
                    selector: a.selector.to_string(),
                    attribute: a.attribute.to_string(),
                    value: a.value.clone(),
                })
                .collect(),
            popups: decision
                .popups
                .iter()
                .map(|p| PopupPlan {
                    id: p.popup.to_string(),
                    label: p.label.map(str::to_string),
                    content: p.content.as_ref().clone(),
                })
                .collect(),
        }
    }
}

/// What `data-ep-applied` says a slot shows: the experience id, or
/// `experience/variant`.
fn applied_key(experience: &str, variant: Option<&str>) -> String {
    match variant {
        Some(variant) => format!("{experience}/{variant}"),
        None => experience.to_string(),
    }
}

/// A decision as the edge's hand-off carries it (the parts a plan needs).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct HandoffDecision {
    slots: Vec<HandoffSlot>,
    greetings: Vec<HandoffGreeting>,
    popups: Vec<HandoffPopup>,
    attributes: Vec<HandoffAttribute>,
    html_classes: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct HandoffSlot {
    slot: String,
    experience: Option<String>,
    variant: Option<String>,
    content: Option<Content>,
}

#[derive(Debug, Deserialize)]
struct HandoffGreeting {
    slot: String,
    greeting: String,
    text: String,
}

#[derive(Debug, Deserialize)]
struct HandoffPopup {
    popup: String,
    content: Content,
}

#[derive(Debug, Deserialize)]
struct HandoffAttribute {
    /// The experience the edge made the change for.
    #[serde(default)]
    experience: Option<String>,
    selector: String,
    attribute: String,
    value: String,
}

impl PagePlan {
    /// The plan of a decision handed over by the edge (the `decision` of the page's
    /// hand-off element), checked against the config the page runs: selectors,
    /// markup, attribute names and popup contents come from the config, and only
    /// rendered text (greetings, text content) and rendered attribute values come
    /// from the hand-off. A hand-off that names rules the config does not have
    /// contributes nothing for them.
    ///
    /// # Errors
    /// A decision that is not the hand-off's JSON shape.
    pub fn from_handoff(
        decision: &serde_json::Value,
        config: &LoadedConfig,
    ) -> Result<PagePlan, String> {
        // Through `&Value`, as every typed value in the browser build is read: an
        // owned `Value` would bring a second deserializer for each type (≈17 KB).
        let decision = crate::core::value_de::from_value::<HandoffDecision>(decision)
            .map_err(|e| format!("hand-off: {e}"))?;
        let site = &config.site;
        let selector_of = |slot: &str| config.slot_selectors.get(slot).cloned();
        // Config content, with the edge's rendering of text (placeholders filled).
        let checked =
            |configured: &Content, handed: Option<&Content>| match (&configured.text, handed) {
                (
                    Some(_),
                    Some(Content {
                        text: Some(text), ..
                    }),
                ) => Content {
                    text: Some(text.clone()),
                    ..Content::default()
                },
                _ => configured.clone(),
            };
        let slots = decision
            .slots
            .iter()
            .filter_map(|s| {
                let selector = selector_of(&s.slot)?;
                let configured = s.experience.as_deref().and_then(|id| {
                    let experience = site
                        .experiences
                        .iter()
                        .find(|e| e.id == id && e.slot == s.slot)?;
                    match s.variant.as_deref() {
                        Some(v) => experience
                            .variants
                            .iter()
                            .find(|x| x.id == v)?
                            .content
                            .as_ref(),
                        // No variant named: the experience's content, or for a
                        // visitor in no experiment (no lasting id), its first
                        // variant's, as `decide` shows them.
                        None => experience.content.as_ref().or_else(|| {
                            experience.variants.first().and_then(|x| x.content.as_ref())
                        }),
                    }
                });
                let content = match (configured, s.content.as_ref()) {
                    (Some(configured), Some(handed)) => Some(checked(configured, Some(handed))),
                    _ => None,
                };
                Some(SlotPlan {
                    slot: s.slot.clone(),
                    selector,
                    key: content.as_ref().map(|_| {
                        applied_key(s.experience.as_deref().unwrap_or(""), s.variant.as_deref())
                    }),
                    experience: content.as_ref().and(s.experience.clone()),
                    content,
                })
            })
            .collect();
        let greetings = decision
            .greetings
            .iter()
            .filter(|g| {
                site.greetings
                    .iter()
                    .any(|c| c.id == g.greeting && c.slot == g.slot)
            })
            .filter_map(|g| {
                Some(GreetingPlan {
                    slot: g.slot.clone(),
                    selector: selector_of(&g.slot)?,
                    greeting: g.greeting.clone(),
                    text: g.text.clone(),
                })
            })
            .collect();
        // An attribute change the config declares, whose value keeps the declared
        // value's literal start (placeholders render only after it), with the
        // experience that declares it.
        let attributes = decision
            .attributes
            .iter()
            .filter_map(|a| {
                let declares = |e: &&crate::core::config::Experience| {
                    e.set_attributes.iter().any(|c| {
                        let literal = c.value.split('{').next().unwrap_or("");
                        c.selector == a.selector
                            && c.attribute == a.attribute
                            && a.value.starts_with(literal)
                    })
                };
                // The experience the edge names, if it declares the change; else the
                // first that does (an older edge named none).
                let declared_by = site
                    .experiences
                    .iter()
                    .filter(declares)
                    .find(|e| a.experience.as_deref().is_none_or(|named| named == e.id))?;
                // A value that starts with a placeholder has no literal start to
                // hold it to: a URL must pass the link policy, as when decided.
                if attribute_is_url(&a.attribute) && url_is_allowed(&a.value, &site.links).is_err()
                {
                    return None;
                }
                Some(AttributePlan {
                    experience: Some(declared_by.id.clone()),
                    selector: a.selector.clone(),
                    attribute: a.attribute.clone(),
                    value: a.value.clone(),
                })
            })
            .collect();
        let popups = decision
            .popups
            .iter()
            .filter_map(|p| {
                let configured = site.popups.iter().find(|c| c.id == p.popup)?;
                Some(PopupPlan {
                    id: p.popup.clone(),
                    label: configured.label.clone(),
                    content: checked(&configured.content, Some(&p.content)),
                })
            })
            .collect();
        let prefix = &site.html_classes.prefix;
        let classes = decision
            .html_classes
            .into_iter()
            .filter(|c| {
                c.starts_with(prefix.as_str())
                    && c.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
            })
            .collect();
        Ok(PagePlan {
            slots,
            greetings,
            classes,
            attributes,
            popups,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::context::RequestFacts;
    use crate::core::engine::{Engine, PageViewInput};
    use crate::core::pattern::default_engine;

    const CONFIG: &str = r##"{
        "consent": { "mode": "none" },
        "readCookies": ["name"],
        "slots": { "hero": {}, "greeting": { "selector": ".greeting" } },
        "experiences": [
            { "id": "hero-new", "slot": "hero", "content": { "html": "<b>Welcome</b>" },
              "setAttributes": [ { "selector": "#cta", "attribute": "href", "value": "/book?c={utm.campaign|none}" } ] }
        ],
        "greetings": [ { "id": "hi", "slot": "greeting", "template": "Hi {cookies.name|there}" } ]
    }"##;

    fn plan_pair() -> (PagePlan, serde_json::Value, Engine) {
        let engine = Engine::from_json(CONFIG, default_engine()).unwrap_or_else(|e| panic!("{e}"));
        let (plan, json) = decided(&engine, "https://example.test/?utm_campaign=spring");
        (plan, json, engine)
    }

    /// A first visitor's page view of `url`: its plan, and its decision as the
    /// hand-off's JSON.
    fn decided(engine: &Engine, url: &str) -> (PagePlan, serde_json::Value) {
        let facts = RequestFacts {
            url: url.into(),
            now_ms: 1_800_000_000_000,
            ..RequestFacts::default()
        };
        let view = engine.page_view(PageViewInput {
            facts: &facts,
            cookie: None,
            consent: None,
            entropy: 7,
            keys: &[],
            explain: false,
            new_profile_kept: true,
        });
        let json = serde_json::to_value(&view.decision).unwrap_or_default();
        (PagePlan::from_decision(&view.decision), json)
    }

    fn debug(value: &impl std::fmt::Debug) -> String {
        format!("{value:?}")
    }

    #[test]
    fn a_handoff_for_a_visitor_in_no_experiment_carries_the_first_variant() {
        // No storage consent: no lasting id, so the first variant, reported as none.
        let config = r#"{
            "consent": { "mode": "required" },
            "slots": { "hero": {} },
            "experiences": [ { "id": "hero-ab", "slot": "hero", "holdout": 0.3, "variants": [
                { "id": "a", "weight": 0.5, "content": { "text": "A" } },
                { "id": "b", "weight": 0.5, "content": { "text": "B" } } ] } ]
        }"#;
        let engine = Engine::from_json(config, default_engine()).unwrap_or_else(|e| panic!("{e}"));
        let (plan, json) = decided(&engine, "https://example.test/");
        assert_eq!(json["slots"][0]["variant"], serde_json::Value::Null);
        let handed = PagePlan::from_handoff(&json, engine.config()).unwrap_or_default();
        assert_eq!(debug(&handed), debug(&plan));
        assert_eq!(
            handed.slots[0]
                .content
                .as_ref()
                .and_then(|c| c.text.as_deref()),
            Some("A")
        );
    }

    #[test]
    fn a_handoff_gives_the_plan_of_the_decision_it_carries() {
        let (plan, json, engine) = plan_pair();
        let handed = PagePlan::from_handoff(&json, engine.config()).unwrap_or_default();
        assert_eq!(debug(&handed), debug(&plan));
        assert_eq!(handed.attributes[0].value, "/book?c=spring");
    }

    #[test]
    fn a_handoff_keeps_the_experience_of_each_attribute_change() {
        // Two experiences make the same change, in two slots: the plan credits it to
        // the one the edge decided for, whose slot it goes with.
        let config = r##"{
            "consent": { "mode": "none" },
            "slots": { "hero": {}, "offers": {} },
            "experiences": [
                { "id": "hero-sale", "slot": "hero", "when": { "url.path": "/hero" },
                  "content": { "text": "Sale" },
                  "setAttributes": [ { "selector": "#cta", "attribute": "title", "value": "Book" } ] },
                { "id": "offers-sale", "slot": "offers", "content": { "text": "Offers" },
                  "setAttributes": [ { "selector": "#cta", "attribute": "title", "value": "Book" } ] }
            ]
        }"##;
        let engine = Engine::from_json(config, default_engine()).unwrap_or_else(|e| panic!("{e}"));
        let (plan, json) = decided(&engine, "https://example.test/offers");
        assert_eq!(
            plan.attributes[0].experience.as_deref(),
            Some("offers-sale")
        );
        let handed = PagePlan::from_handoff(&json, engine.config()).unwrap_or_default();
        assert_eq!(debug(&handed), debug(&plan));
    }

    #[test]
    fn a_forged_handoff_cannot_bring_a_url_the_link_policy_refuses() {
        let config = r##"{
            "consent": { "mode": "none" },
            "slots": { "hero": {} },
            "experiences": [ { "id": "hero-new", "slot": "hero", "content": { "text": "Hi" },
              "setAttributes": [ { "selector": "#cta", "attribute": "href", "value": "{utm.content|/book}" } ] } ]
        }"##;
        let engine = Engine::from_json(config, default_engine()).unwrap_or_else(|e| panic!("{e}"));
        let handed = |value: &str| {
            let json = serde_json::json!({
                "attributes": [ { "selector": "#cta", "attribute": "href", "value": value } ]
            });
            PagePlan::from_handoff(&json, engine.config())
                .unwrap_or_default()
                .attributes
                .len()
        };
        assert_eq!(handed("/book?c=spring"), 1, "a value the config could give");
        assert_eq!(handed("javascript:alert(1)"), 0);
        assert_eq!(
            handed("https://evil.example/"),
            0,
            "a host the policy does not allow"
        );
    }

    #[test]
    fn a_forged_handoff_cannot_bring_markup_attributes_or_selectors() {
        let (plan, mut json, engine) = plan_pair();
        json["slots"][0]["content"] = serde_json::json!({ "html": "<img src=x onerror=alert(1)>" });
        json["slots"][0]["selector"] = serde_json::json!("body");
        json["attributes"][0]["attribute"] = serde_json::json!("onclick");
        let forged = serde_json::json!({ "selector": "#cta", "attribute": "href", "value": "javascript:alert(1)" });
        if let Some(list) = json["attributes"].as_array_mut() {
            list.push(forged);
        }
        json["htmlClasses"] = serde_json::json!(["ep-ok", "x\" onload=\"alert(1)"]);
        let handed = PagePlan::from_handoff(&json, engine.config()).unwrap_or_default();
        assert_eq!(
            debug(&handed.slots),
            debug(&plan.slots),
            "config markup and selector"
        );
        assert!(handed.attributes.is_empty(), "{:?}", handed.attributes);
        assert_eq!(handed.classes, ["ep-ok"]);
        assert!(PagePlan::from_handoff(&serde_json::json!([1]), engine.config()).is_err());
    }
}
