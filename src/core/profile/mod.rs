//! The visitor's profile: what one first-party cookie remembers between page views.
//!
//! The same [`Profile`] and the same cookie format ([`codec`]) serve the browser and
//! the edge. [`update`] applies a page view or an interaction to it.

pub mod codec;
pub mod update;

use serde::{Deserialize, Serialize};

/// Minutes since the Unix epoch: the profile's clock. Minutes keep the encoding
/// short and are fine enough for sessions and caps.
pub type Minutes = u32;

/// Converts Unix milliseconds to profile minutes (clamped to the `u32` range).
pub fn minutes_from_ms(ms: i64) -> Minutes {
    (ms.max(0) / 60_000).min(i64::from(u32::MAX)) as Minutes
}

/// Everything the engine remembers about one visitor.
///
/// Field order is the wire order of the cookie (see [`codec`]): changing it needs a
/// new format version. A field may be appended at the end, with a zero encoding
/// that the codec supplies to cookies written before it (`APPENDED_FIELDS`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// Random id, used only for bucketing into variants and holdouts.
    pub visitor_id: u64,
    /// First page view.
    pub first_seen: Minutes,
    /// Latest page view or interaction.
    pub last_seen: Minutes,
    /// Start of the current session.
    pub session_start: Minutes,
    /// Sessions (visits), counting the current one.
    pub visits: u32,
    /// Page views in all.
    pub page_views: u32,
    /// Page views in the current session.
    pub session_page_views: u16,
    /// Prices the visitor looked at, summarised.
    pub prices: PriceSummary,
    /// Funnel stage and funnel events.
    pub funnel: FunnelHistory,
    /// Top categories by decayed score, highest first; scores are as of `last_seen`.
    pub interests: Vec<Interest>,
    /// What each experience and popup did with this visitor.
    pub history: Vec<RuleHistory>,
    /// Popups shown this session and this day, across all popups.
    pub attention: AttentionState,
    /// The consent level under which this profile was stored (see
    /// [`crate::core::config::ConsentLevel`]: 0 denied, 1 necessary, 2 personalization;
    /// 3, [`crate::core::consent::STORED_WITHOUT_ANSWER`]: no answer, the config's
    /// mode allowed it).
    pub consent: u8,
    /// The latest purchase in each of the last few categories bought, newest first
    /// (at most [`MAX_PURCHASE_CATEGORIES`]): what suppression after a purchase asks.
    /// Appended after format 1's first fields.
    pub purchased_categories: Vec<CategoryPurchase>,
    /// Minutes between the previous visit's last page view and this visit's first
    /// (0 before a second visit): `daysSinceLastVisit` all through a visit.
    /// Appended after format 1's first fields.
    pub previous_visit_gap: Minutes,
}

/// Purchase categories a profile remembers for suppression, besides the latest purchase.
pub const MAX_PURCHASE_CATEGORIES: usize = 4;

/// When the visitor last bought in a category.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryPurchase {
    /// Category name (at most [`update::MAX_LABEL_BYTES`] bytes).
    pub category: String,
    /// When.
    pub at: Minutes,
}

/// A compact summary of observed prices: enough for a band and a trend.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceSummary {
    /// Prices seen.
    pub count: u32,
    /// Long-run moving average (the visitor's typical price).
    pub typical: f32,
    /// Short-run moving average (where the visitor is heading).
    pub recent: f32,
    /// Lowest price seen.
    pub min: f32,
    /// Highest price seen.
    pub max: f32,
}

/// A stored price (`f32`, to keep the cookie small) as the decimal it was: the
/// shortest decimal that reads back as the same `f32`, so that 1999.99 seen on a page
/// is 1999.99 in conditions and price bands, not 1999.98999….
pub fn price_as_written(price: f32) -> f64 {
    crate::core::decimal::f32_as_written(price)
}

/// Count and latest time of one kind of funnel event.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCount {
    /// How many.
    pub count: u32,
    /// When the latest happened.
    pub last: Minutes,
}

/// The funnel: the stage and the events behind it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunnelHistory {
    /// Stage code (see [`crate::core::config::FunnelStage`]).
    pub stage: u8,
    /// Add-to-cart events.
    pub add_to_cart: EventCount,
    /// Checkouts (or bookings) started.
    pub checkout: EventCount,
    /// Purchases.
    pub purchase: EventCount,
    /// Leads (forms sent).
    pub lead: EventCount,
    /// The latest purchase.
    pub last_purchase: Option<Purchase>,
}

/// One purchase, as far as suppression needs it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Purchase {
    /// When.
    pub at: Minutes,
    /// Category of what was bought.
    pub category: Option<String>,
    /// Item id.
    pub item_id: Option<String>,
    /// Order value.
    pub value: Option<f32>,
}

/// A category and its decayed score.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interest {
    /// Category name (at most [`update::MAX_LABEL_BYTES`] bytes).
    pub category: String,
    /// Score as of the profile's `last_seen`.
    pub score: f32,
}

/// What one experience or popup did with this visitor.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleHistory {
    /// FNV-1a hash of the rule id (ids themselves would cost bytes in the cookie).
    pub rule: u32,
    /// Times shown.
    pub shown: u16,
    /// Times shown in the current session.
    pub session_shows: u8,
    /// Times dismissed.
    pub dismissed: u8,
    /// Times converted.
    pub converted: u8,
    /// First show.
    pub first_shown: Minutes,
    /// Latest show.
    pub last_shown: Minutes,
}

/// Interruptions across all popups.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttentionState {
    /// Popups shown in the current session.
    pub session: u8,
    /// The visitor-local day (days since the epoch) `day_count` is for.
    pub day: u32,
    /// Popups shown on that day.
    pub day_count: u8,
}

/// A visitor id as text, without allocating (see [`Profile::visitor_key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitorKey([u8; 16]);

impl VisitorKey {
    /// The key as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or("0000000000000000")
    }
}

/// The id under which a rule's history is kept.
pub fn rule_key(rule_id: &str) -> u32 {
    crate::core::bucketing::fnv1a32_bytes(rule_id.as_bytes())
}

impl Profile {
    /// A new visitor seen for the first time at `now`.
    pub fn new(visitor_id: u64, now: Minutes) -> Profile {
        Profile {
            visitor_id,
            first_seen: now,
            last_seen: now,
            session_start: now,
            ..Profile::default()
        }
    }

    /// The visitor id as the text that bucketing hashes: 16 lowercase hex digits.
    pub fn visitor_key(&self) -> VisitorKey {
        let mut digits = [0u8; 16];
        for (i, digit) in digits.iter_mut().enumerate() {
            let nibble = (self.visitor_id >> (60 - 4 * i)) & 0xf;
            *digit = b"0123456789abcdef"[nibble as usize];
        }
        VisitorKey(digits)
    }

    /// The history of one rule, if it ever did anything.
    pub fn rule(&self, rule_id: &str) -> Option<&RuleHistory> {
        let key = rule_key(rule_id);
        self.history.iter().find(|h| h.rule == key)
    }

    /// The history of one rule, created when missing.
    pub fn rule_mut(&mut self, rule_id: &str) -> &mut RuleHistory {
        let key = rule_key(rule_id);
        let index = match self.history.iter().position(|h| h.rule == key) {
            Some(index) => index,
            None => {
                self.history.push(RuleHistory {
                    rule: key,
                    ..RuleHistory::default()
                });
                self.history.len() - 1
            }
        };
        &mut self.history[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitor_keys_are_sixteen_hex_digits() {
        for id in [0, 1, 0x1234_5678_9abc_def0, u64::MAX] {
            assert_eq!(
                Profile::new(id, 0).visitor_key().as_str(),
                format!("{id:016x}")
            );
        }
    }
}
