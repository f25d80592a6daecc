//! What a decision does to a page, owned so that it outlives the decision: the one
//! description that the browser layer applies to the DOM and the edge layer applies
//! to the HTML stream, so both show the same thing for the same decision.

use crate::core::config::Content;
use crate::core::decide::Decision;

/// Marks what a slot or greeting element shows: the experience id, or
/// `experience/variant` for a weighted experience, or the greeting id. Set by the
/// browser layer and by the edge, read by the browser layer to stay idempotent.
pub const APPLIED_ATTRIBUTE: &str = "data-ep-applied";

/// What a decision does to the page, owned so it outlives the decision.
#[derive(Debug, Clone, Default)]
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
#[derive(Debug, Clone)]
pub struct SlotPlan {
    /// The slot's name.
    pub slot: String,
    /// The slot's CSS selector.
    pub selector: String,
    /// `experience/variant`, or `None` for the page's default.
    pub key: Option<String>,
    /// What it shows; `None` keeps the page's default.
    pub content: Option<Content>,
}

/// One greeting, as text.
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone)]
pub struct AttributePlan {
    /// The elements' CSS selector.
    pub selector: String,
    /// The attribute's name (checked safe by config validation).
    pub attribute: String,
    /// The value (placeholders rendered and percent-encoded).
    pub value: String,
}

/// One popup the visitor may be shown when its trigger fires.
#[derive(Debug, Clone)]
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
                    key: s.content.as_ref().map(|_| {
                        let experience = s.experience.unwrap_or("");
                        match s.variant {
                            Some(variant) => format!("{experience}/{variant}"),
                            None => experience.to_string(),
                        }
                    }),
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
