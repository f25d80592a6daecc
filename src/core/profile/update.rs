//! Applying a page view or an interaction to a profile.

use super::{
    minutes_from_ms, CategoryPurchase, EventCount, Interest, Minutes, Profile, Purchase,
    MAX_PURCHASE_CATEGORIES,
};
use crate::core::classify::advance_stage;
use crate::core::config::{ClassifierSettings, FunnelStage, SiteConfig};
use crate::core::context::{Context, PageAnnotations, PageEvent, PageEventKind};
use crate::core::order::stable_sort_by;
use serde::{Deserialize, Serialize};

/// Longest category or item id kept in the profile, in bytes: 64 ASCII letters, 32
/// Cyrillic ones ("итальянская кухня" is 33 bytes). A longer label is cut, and a
/// condition naming it in full never matches.
pub const MAX_LABEL_BYTES: usize = 64;

/// What recording a page view found out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitFacts {
    /// This page view starts a session (a visit).
    pub new_session: bool,
    /// Minutes since the previous page view (0 on the first).
    pub quiet_minutes: Minutes,
}

/// Something the visitor did with a shown experience or popup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionKind {
    /// It was shown (an exposure; for a popup, an interruption).
    Shown,
    /// The visitor closed it.
    Dismissed,
    /// The visitor did what it asked.
    Converted,
}

/// The visitor-local day number (days since the epoch in the visitor's time zone),
/// for the daily attention budget.
pub fn local_day(now_ms: i64, utc_offset_minutes: i32) -> u32 {
    let local =
        now_ms.saturating_add(i64::from(utc_offset_minutes.clamp(-14 * 60, 14 * 60)) * 60_000);
    (local.max(0) / 86_400_000).min(i64::from(u32::MAX)) as u32
}

/// Records one page view: session and visit counts, prices, funnel events,
/// interests (with decay) and the funnel stage.
pub fn record_page_view(
    profile: &mut Profile,
    context: &Context,
    events: &[PageEvent],
    now_ms: i64,
    day: u32,
    config: &SiteConfig,
) -> VisitFacts {
    let now = minutes_from_ms(now_ms);
    let first = profile.page_views == 0;
    let quiet_minutes = if first {
        0
    } else {
        now.saturating_sub(profile.last_seen)
    };
    let new_session = first || quiet_minutes > config.cookie.session_timeout_minutes;
    if new_session {
        if !first {
            profile.previous_visit_gap = quiet_minutes;
        }
        profile.visits = profile.visits.saturating_add(1);
        profile.session_start = now;
        profile.session_page_views = 0;
        profile.attention.session = 0;
        for history in &mut profile.history {
            history.session_shows = 0;
        }
    }
    start_day(profile, day);
    profile.page_views = profile.page_views.saturating_add(1);
    profile.session_page_views = profile.session_page_views.saturating_add(1);

    let interest_settings = &config.classify.interests;
    decay_interests(profile, quiet_minutes, interest_settings.half_life_days);
    if let Some(price) = context.page.price {
        observe_price(profile, price);
    }
    if let Some(category) = &context.page.category {
        add_interest(profile, category, 1.0, interest_settings.top_k);
    }
    record_event_effects(profile, events, &context.page, now, &config.classify);

    let previous = FunnelStage::from_code(profile.funnel.stage);
    let stage = advance_stage(
        previous,
        quiet_minutes,
        new_session,
        profile,
        events,
        context.page.funnel_step.as_deref(),
        &config.classify,
    );
    profile.funnel.stage = stage.code();
    // Not back by a little: a clock behind the last writer's (the edge and the
    // browser write the same cookie) must not make the next gap look long enough for
    // a new session. A day or more back is a clock put right, and is taken.
    if now >= profile.last_seen || profile.last_seen - now >= MINUTES_PER_DAY {
        profile.last_seen = now;
    }
    VisitFacts {
        new_session,
        quiet_minutes,
    }
}

/// Records events that happen on a page after its page view was counted (the
/// browser's `track()`): funnel counters, a purchase, interests, and the funnel stage
/// they promote to. Nothing here counts as a page view or a visit.
pub fn record_events(
    profile: &mut Profile,
    events: &[PageEvent],
    page: &PageAnnotations,
    now_ms: i64,
    config: &SiteConfig,
) {
    let now = minutes_from_ms(now_ms);
    // The scores the events add to are brought up to now first.
    advance_last_seen(profile, now, config.classify.interests.half_life_days);
    record_event_effects(profile, events, page, now, &config.classify);
    let previous = FunnelStage::from_code(profile.funnel.stage);
    let stage = advance_stage(previous, 0, false, profile, events, None, &config.classify);
    profile.funnel.stage = stage.code();
}

/// Moves `last_seen` on to `now`, decaying the interests over the time between:
/// their scores are as of `last_seen`, so moving it alone would make them younger
/// (a popup shown two days after a view would take two days off its decay).
fn advance_last_seen(profile: &mut Profile, now: Minutes, half_life_days: f64) {
    if now > profile.last_seen {
        decay_interests(profile, now - profile.last_seen, half_life_days);
        profile.last_seen = now;
    }
}

/// Funnel counters, the last purchase and interests from `events`; a field an event
/// leaves out is taken from the page's annotations.
fn record_event_effects(
    profile: &mut Profile,
    events: &[PageEvent],
    page: &PageAnnotations,
    now: Minutes,
    classify: &ClassifierSettings,
) {
    let top_k = classify.interests.top_k;
    for event in events {
        let category = event.category.as_ref().or(page.category.as_ref());
        let (counter, weight) = match event.kind {
            PageEventKind::AddToCart => (Some(&mut profile.funnel.add_to_cart), 2.0),
            PageEventKind::Checkout => (Some(&mut profile.funnel.checkout), 2.0),
            PageEventKind::Purchase => (Some(&mut profile.funnel.purchase), 3.0),
            PageEventKind::Lead => (Some(&mut profile.funnel.lead), 1.0),
            PageEventKind::Engaged => (None, classify.engagement.interest_weight as f32),
            PageEventKind::PageView | PageEventKind::Custom => (None, 0.0),
        };
        if let Some(counter) = counter {
            bump(counter, now);
        }
        if event.kind == PageEventKind::Purchase {
            if let Some(category) = category {
                record_category_purchase(profile, label(category), now);
            }
            profile.funnel.last_purchase = Some(Purchase {
                at: now,
                category: category.map(|c| label(c)),
                item_id: event
                    .item_id
                    .as_ref()
                    .or(page.item_id.as_ref())
                    .map(|i| label(i)),
                value: event.value.filter(|v| v.is_finite()).map(|v| v as f32),
            });
        }
        if let (Some(category), true) = (category, weight > 0.0) {
            add_interest(profile, category, weight, top_k);
        }
    }
}

/// Keeps `category`'s latest purchase first among the categories remembered.
pub(crate) fn record_category_purchase(profile: &mut Profile, category: String, at: Minutes) {
    let marks = &mut profile.purchased_categories;
    marks.retain(|mark| mark.category != category);
    marks.insert(0, CategoryPurchase { category, at });
    marks.truncate(MAX_PURCHASE_CATEGORIES);
}

/// Minutes in a day.
const MINUTES_PER_DAY: u32 = 24 * 60;

/// Starts the per-day attention count on a later day: the edge and the browser may
/// date the same moment on neighbouring days (different UTC offsets), and going back
/// and forth between them must not reset the count each time.
fn start_day(profile: &mut Profile, day: u32) {
    // One day back is another offset's date for the same moment; more is a clock
    // put right.
    if day > profile.attention.day || day.saturating_add(1) < profile.attention.day {
        profile.attention.day = day;
        profile.attention.day_count = 0;
    }
}

/// Records an interaction with an experience or popup. `is_popup` makes a show
/// count against the attention budget.
pub fn record_interaction(
    profile: &mut Profile,
    rule_id: &str,
    kind: InteractionKind,
    is_popup: bool,
    now_ms: i64,
    day: u32,
    interest_half_life_days: f64,
) {
    let now = minutes_from_ms(now_ms);
    start_day(profile, day);
    let history = profile.rule_mut(rule_id);
    match kind {
        InteractionKind::Shown => {
            if history.shown == 0 {
                history.first_shown = now;
            }
            history.shown = history.shown.saturating_add(1);
            history.session_shows = history.session_shows.saturating_add(1);
            history.last_shown = now;
            if is_popup {
                profile.attention.session = profile.attention.session.saturating_add(1);
                profile.attention.day_count = profile.attention.day_count.saturating_add(1);
            }
        }
        InteractionKind::Dismissed => history.dismissed = history.dismissed.saturating_add(1),
        InteractionKind::Converted => history.converted = history.converted.saturating_add(1),
    }
    advance_last_seen(profile, now, interest_half_life_days);
}

fn bump(counter: &mut EventCount, now: Minutes) {
    counter.count = counter.count.saturating_add(1);
    counter.last = now;
}

/// Cuts a label to at most [`MAX_LABEL_BYTES`] on a character boundary.
fn truncated(text: &str) -> &str {
    let mut end = text.len().min(MAX_LABEL_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn label(text: &str) -> String {
    truncated(text).to_string()
}

fn observe_price(profile: &mut Profile, price: f64) {
    if !(price.is_finite() && price > 0.0) {
        return;
    }
    let price = price.min(f64::from(f32::MAX)) as f32;
    let prices = &mut profile.prices;
    prices.count = prices.count.saturating_add(1);
    if prices.count == 1 {
        prices.typical = price;
        prices.recent = price;
        prices.min = price;
        prices.max = price;
        return;
    }
    // A plain mean while few prices are known, then moving averages: the typical
    // price forgets slowly (α = 0.1), the recent one quickly (α = 0.5).
    let n = prices.count as f32;
    let slow = (1.0 / n).max(0.1);
    let fast = (1.0 / n).max(0.5);
    prices.typical += slow * (price - prices.typical);
    prices.recent += fast * (price - prices.recent);
    prices.min = prices.min.min(price);
    prices.max = prices.max.max(price);
}

fn decay_interests(profile: &mut Profile, minutes: Minutes, half_life_days: f64) {
    if minutes == 0 || profile.interests.is_empty() || half_life_days <= 0.0 {
        return;
    }
    let factor = 0.5f64.powf(f64::from(minutes) / (half_life_days * 1440.0)) as f32;
    for interest in &mut profile.interests {
        interest.score *= factor;
    }
    // Scores this small will never count again; drop them to save bytes.
    profile.interests.retain(|i| i.score >= 0.05);
}

fn add_interest(profile: &mut Profile, category: &str, weight: f32, top_k: u8) {
    let category = truncated(category.trim());
    if category.is_empty() {
        return;
    }
    match profile
        .interests
        .iter_mut()
        .find(|i| i.category == category)
    {
        Some(interest) => interest.score += weight,
        None => profile.interests.push(Interest {
            category: category.to_string(),
            score: weight,
        }),
    }
    stable_sort_by(&mut profile.interests, |a, b| {
        a.score.total_cmp(&b.score) == std::cmp::Ordering::Greater
    });
    profile.interests.truncate(interest_candidates(top_k));
}

/// How many categories the profile keeps for a config's `topK` interests: twice as
/// many, so that a new category can build up its score beside `topK` settled ones
/// (kept to `topK`, each new one would be the first cut, and could never count).
pub fn interest_candidates(top_k: u8) -> usize {
    usize::from(top_k.max(1)) * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Minutes = 1440;

    fn sushi_fan(score: f32, last_seen: Minutes) -> Profile {
        let mut profile = Profile::new(1, last_seen);
        profile.interests.push(Interest {
            category: "sushi".to_string(),
            score,
        });
        profile.last_seen = last_seen;
        profile
    }

    fn ms(minutes: Minutes) -> i64 {
        i64::from(minutes) * 60_000
    }

    #[test]
    fn an_interaction_later_decays_the_interests_it_moves_last_seen_past() {
        let mut profile = sushi_fan(2.0, 100 * DAY);
        record_interaction(
            &mut profile,
            "offer",
            InteractionKind::Shown,
            true,
            ms(114 * DAY),
            114,
            14.0,
        );
        assert_eq!(profile.last_seen, 114 * DAY);
        assert!(
            (profile.interests[0].score - 1.0).abs() < 1e-4,
            "{:?}",
            profile.interests
        );
    }

    /// Views of `categories` in order, a minute apart, in one visit.
    fn viewed(profile: &mut Profile, categories: &[&str], top_k: u8) {
        for category in categories {
            add_interest(profile, category, 1.0, top_k);
        }
    }

    fn interests_of(profile: &Profile) -> Vec<String> {
        let settings: ClassifierSettings = serde_json::from_str("{}").unwrap();
        crate::core::classify::classify(profile, &settings).interests
    }

    #[test]
    fn a_new_category_becomes_an_interest_beside_settled_ones() {
        let mut profile = Profile::new(1, 0);
        let settled = ["sushi", "wine", "steak", "pasta", "pizza"];
        viewed(&mut profile, &settled, 5);
        viewed(&mut profile, &settled, 5);
        assert_eq!(interests_of(&profile).len(), 5);
        viewed(&mut profile, &["desserts", "desserts", "desserts"], 5);
        let interests = interests_of(&profile);
        assert_eq!(interests.len(), 5, "at most topK: {interests:?}");
        assert_eq!(interests[0], "desserts", "{interests:?}");
    }

    #[test]
    fn categories_viewed_in_turn_all_build_up() {
        let mut profile = Profile::new(1, 0);
        for _ in 0..4 {
            viewed(&mut profile, &["a", "b", "c", "d", "e", "f"], 5);
        }
        assert_eq!(interests_of(&profile).len(), 5, "{:?}", profile.interests);
        assert_eq!(profile.interests.len(), 6);
    }

    #[test]
    fn events_tracked_later_add_to_scores_decayed_to_their_time() {
        let config: SiteConfig =
            serde_json::from_str(r#"{"version":1}"#).unwrap_or_else(|e| panic!("{e}"));
        let mut profile = sushi_fan(2.0, 100 * DAY);
        record_events(
            &mut profile,
            &[],
            &PageAnnotations::default(),
            ms(114 * DAY),
            &config,
        );
        assert_eq!(profile.last_seen, 114 * DAY);
        assert!(
            (profile.interests[0].score - 1.0).abs() < 1e-4,
            "{:?}",
            profile.interests
        );
        // An earlier time (a clock behind) moves nothing.
        record_events(
            &mut profile,
            &[],
            &PageAnnotations::default(),
            ms(110 * DAY),
            &config,
        );
        assert_eq!(profile.last_seen, 114 * DAY);
        assert!((profile.interests[0].score - 1.0).abs() < 1e-4);
    }
}
