//! The built-in classifiers: experience, price band, funnel stage, interests.
//!
//! All thresholds come from [`ClassifierSettings`]; their defaults are documented
//! there and in `docs/CONFIG.md`.

use crate::core::config::{ClassifierSettings, FunnelStage, PriceSettings};
use crate::core::context::{PageEvent, PageEventKind};
use crate::core::profile::{price_as_written, Minutes, Profile};
use serde::Serialize;

/// How well the visitor knows the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExperienceLevel {
    /// First visit (fewer than `returningVisits` visits).
    New,
    /// Came back.
    Returning,
    /// Many visits or many page views.
    Experienced,
}

impl ExperienceLevel {
    /// The stable name used in attributes and classes.
    pub fn as_str(self) -> &'static str {
        match self {
            ExperienceLevel::New => "new",
            ExperienceLevel::Returning => "returning",
            ExperienceLevel::Experienced => "experienced",
        }
    }
}

/// Which way the visitor's prices are moving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceTrend {
    /// Fewer than three prices seen.
    Unknown,
    /// Recent prices above the typical one by more than 15 %.
    Up,
    /// Recent prices below the typical one by more than 15 %.
    Down,
    /// Neither.
    Flat,
}

impl PriceTrend {
    /// The stable name used in attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            PriceTrend::Unknown => "unknown",
            PriceTrend::Up => "up",
            PriceTrend::Down => "down",
            PriceTrend::Flat => "flat",
        }
    }
}

/// What the classifiers say about a visitor.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Classification<'c> {
    /// New / returning / experienced.
    pub experience: ExperienceLevel,
    /// The price band of the visitor's typical price, once enough prices were seen.
    pub price_band: Option<&'c str>,
    /// Typical price (long-run moving average).
    pub typical_price: Option<f64>,
    /// Price trend.
    pub price_trend: PriceTrend,
    /// Funnel stage.
    pub stage: FunnelStage,
    /// Interests, strongest first.
    pub interests: Vec<String>,
    /// The site's own segments the visitor is in, in config order.
    pub segments: Vec<&'c str>,
}

/// Classifies a profile (segments are added by the engine, which needs the
/// attributes built from this classification first).
pub fn classify<'c>(profile: &Profile, settings: &'c ClassifierSettings) -> Classification<'c> {
    let thresholds = &settings.experience;
    let experience = if profile.visits >= thresholds.experienced_visits
        || profile.page_views >= thresholds.experienced_page_views
    {
        ExperienceLevel::Experienced
    } else if profile.visits >= thresholds.returning_visits {
        ExperienceLevel::Returning
    } else {
        ExperienceLevel::New
    };
    let prices = &profile.prices;
    let enough = prices.count >= settings.price.min_observations.max(1);
    let typical = price_as_written(prices.typical);
    let price_band = if enough {
        band_of(typical, &settings.price)
    } else {
        None
    };
    let price_trend = if prices.count < 3 || typical <= 0.0 {
        PriceTrend::Unknown
    } else {
        let ratio = price_as_written(prices.recent) / typical;
        if ratio > 1.15 {
            PriceTrend::Up
        } else if ratio < 0.85 {
            PriceTrend::Down
        } else {
            PriceTrend::Flat
        }
    };
    let counts_from =
        settings.interests.min_score - score_tolerance(settings.interests.half_life_days);
    // Kept strongest first; the profile holds candidates beyond the top K.
    let interests = profile
        .interests
        .iter()
        .filter(|i| f64::from(i.score) >= counts_from)
        .take(usize::from(settings.interests.top_k.max(1)))
        .map(|i| i.category.clone())
        .collect();
    Classification {
        experience,
        price_band,
        typical_price: enough.then_some(typical),
        price_trend,
        stage: FunnelStage::from_code(profile.funnel.stage),
        interests,
        segments: Vec::new(),
    }
}

/// How long "one visit" is for [`score_tolerance`], in minutes.
const ONE_VISIT_MINUTES: f64 = 144.0;

/// How far below `minScore` a score still counts: what a view's 1 loses in
/// [`ONE_VISIT_MINUTES`] (2.4 hours) at this half-life. Scores decay continuously, so
/// two views minutes apart add up to just under 2 (1.99997 a minute apart at the
/// default 14-day half-life); "two views in one visit" must still mean two views,
/// while views days apart add up to less. 0.005 at the default half-life, 0.067 at 1 day.
fn score_tolerance(half_life_days: f64) -> f64 {
    1.0 - 0.5f64.powf(ONE_VISIT_MINUTES / (half_life_days * 1440.0))
}

/// The band a price falls in.
pub fn band_of(price: f64, settings: &PriceSettings) -> Option<&str> {
    settings
        .bands
        .iter()
        .find(|band| band.below.is_none_or(|below| price < below))
        .map(|band| band.name.as_str())
}

/// The funnel stage after a page view.
///
/// First the stage cools: each full `quietDays` without a visit steps it down once
/// (customer → warm, hot → warm, warm → cold). Then this page view can promote it:
/// a purchase makes a customer; add to cart, a checkout or a page step mapped to
/// `hot` makes hot (a customer stays a customer); coming back (`warmVisits`) within
/// the quiet period (`starts_visit`: this page view starts a visit after a quiet
/// time of `quiet_minutes`), enough page views in the session, a lead, an engaged page view
/// (unless `engagement.makesWarm` is off), or a step mapped to `warm` make warm.
/// Stages never rise from cooling or fall from promotion.
pub fn advance_stage(
    previous: FunnelStage,
    quiet_minutes: Minutes,
    starts_visit: bool,
    profile: &Profile,
    events: &[PageEvent],
    funnel_step: Option<&str>,
    classify: &ClassifierSettings,
) -> FunnelStage {
    let settings = &classify.funnel;
    let period = settings.quiet_days.max(1).saturating_mul(24 * 60);
    let mut stage = previous;
    for _ in 0..(quiet_minutes / period).min(3) {
        stage = match stage {
            FunnelStage::Customer | FunnelStage::Hot => FunnelStage::Warm,
            FunnelStage::Warm | FunnelStage::Cold => FunnelStage::Cold,
        };
    }
    let mut promoted = FunnelStage::Cold;
    // Judged when the visit starts: later in it the quiet time is since its last page.
    let came_back_soon =
        starts_visit && profile.visits >= settings.warm_visits && quiet_minutes < period;
    if came_back_soon || u32::from(profile.session_page_views) >= settings.warm_session_page_views {
        promoted = FunnelStage::Warm;
    }
    if let Some(step) = funnel_step.and_then(|s| settings.steps.get(s)) {
        promoted = promoted.max(*step);
    }
    for event in events {
        let from_event = match event.kind {
            PageEventKind::Purchase => FunnelStage::Customer,
            PageEventKind::AddToCart | PageEventKind::Checkout => FunnelStage::Hot,
            PageEventKind::Lead => FunnelStage::Warm,
            PageEventKind::Engaged if classify.engagement.makes_warm => FunnelStage::Warm,
            PageEventKind::Engaged | PageEventKind::PageView | PageEventKind::Custom => {
                FunnelStage::Cold
            }
        };
        promoted = promoted.max(from_event);
    }
    stage.max(promoted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::ClassifierSettings;

    fn event(kind: PageEventKind) -> PageEvent {
        PageEvent {
            kind,
            name: None,
            value: None,
            category: None,
            item_id: None,
        }
    }

    #[test]
    fn experience_follows_visits_and_page_views() {
        let settings = ClassifierSettings::default();
        let mut p = Profile::new(1, 0);
        p.visits = 1;
        assert_eq!(classify(&p, &settings).experience, ExperienceLevel::New);
        p.visits = 2;
        assert_eq!(
            classify(&p, &settings).experience,
            ExperienceLevel::Returning
        );
        p.page_views = 25;
        assert_eq!(
            classify(&p, &settings).experience,
            ExperienceLevel::Experienced
        );
    }

    #[test]
    fn price_bands_and_trend() {
        let settings = ClassifierSettings::default();
        let mut p = Profile::new(1, 0);
        assert_eq!(classify(&p, &settings).price_band, None);
        p.prices.count = 3;
        p.prices.typical = 6000.0;
        p.prices.recent = 8000.0;
        let c = classify(&p, &settings);
        assert_eq!(c.price_band, Some("premium"));
        assert_eq!(c.price_trend, PriceTrend::Up);
        p.prices.typical = 999.0;
        p.prices.recent = 999.0;
        let c = classify(&p, &settings);
        assert_eq!(c.price_band, Some("budget"));
        assert_eq!(c.price_trend, PriceTrend::Flat);
    }

    #[test]
    fn stages_rise_with_intent_and_cool_when_quiet() {
        let settings = ClassifierSettings::default();
        let mut p = Profile::new(1, 0);
        p.visits = 1;
        p.session_page_views = 1;
        let day = 24 * 60;
        assert_eq!(
            advance_stage(FunnelStage::Cold, 0, false, &p, &[], None, &settings),
            FunnelStage::Cold
        );
        let cart = [event(PageEventKind::AddToCart)];
        assert_eq!(
            advance_stage(FunnelStage::Cold, 0, false, &p, &cart, None, &settings),
            FunnelStage::Hot
        );
        let buy = [event(PageEventKind::Purchase)];
        assert_eq!(
            advance_stage(FunnelStage::Hot, 0, false, &p, &buy, None, &settings),
            FunnelStage::Customer
        );
        assert_eq!(
            advance_stage(FunnelStage::Customer, 0, false, &p, &cart, None, &settings),
            FunnelStage::Customer
        );
        // 45 quiet days: one step down; 60: two.
        assert_eq!(
            advance_stage(
                FunnelStage::Customer,
                45 * day,
                false,
                &p,
                &[],
                None,
                &settings
            ),
            FunnelStage::Warm
        );
        assert_eq!(
            advance_stage(FunnelStage::Hot, 60 * day, false, &p, &[], None, &settings),
            FunnelStage::Cold
        );
        // Coming back soon is engagement; coming back after a long silence is not.
        p.visits = 2;
        assert_eq!(
            advance_stage(FunnelStage::Cold, 3 * day, true, &p, &[], None, &settings),
            FunnelStage::Warm
        );
        // …judged as the visit starts: a visit after a long silence stays cold on
        // its next pages, a minute apart.
        assert_eq!(
            advance_stage(FunnelStage::Cold, 1, false, &p, &[], None, &settings),
            FunnelStage::Cold
        );
        assert_eq!(
            advance_stage(FunnelStage::Hot, 60 * day, false, &p, &[], None, &settings),
            FunnelStage::Cold
        );
    }

    #[test]
    fn the_tolerance_is_what_a_view_loses_in_one_visit() {
        assert!((score_tolerance(14.0) - 0.004_95).abs() < 1e-4);
        // Two views 30 minutes apart at a 1-day half-life still make 2.
        let two_views = 0.5f64.powf(30.0 / 1440.0) + 1.0;
        assert!(two_views >= 2.0 - score_tolerance(1.0));
        // Two views a day apart do not.
        assert!(1.5 < 2.0 - score_tolerance(1.0));
    }

    #[test]
    fn an_engaged_page_view_warms_unless_the_site_turns_that_off() {
        let mut settings = ClassifierSettings::default();
        let p = Profile::new(1, 0);
        let read = [event(PageEventKind::Engaged)];
        assert_eq!(
            advance_stage(FunnelStage::Cold, 0, false, &p, &read, None, &settings),
            FunnelStage::Warm
        );
        // It never lowers a stage.
        assert_eq!(
            advance_stage(FunnelStage::Hot, 0, false, &p, &read, None, &settings),
            FunnelStage::Hot
        );
        settings.engagement.makes_warm = false;
        assert_eq!(
            advance_stage(FunnelStage::Cold, 0, false, &p, &read, None, &settings),
            FunnelStage::Cold
        );
    }
}
