//! Scripted visitor journeys: a sequence of page views (with clock, facts, consent
//! and interactions) and what each should decide.
//!
//! The format is plain JSON and independent of any platform, so the same journey
//! files are replayed natively (`cargo test`, `edge-persona simulate`), in the
//! browser (compared through [`summarize`]) and at the edge (natively and in
//! workerd, compared through [`edge_step`]).
//!
//! ```json
//! { "specVersion": 1, "config": "../www/demo/config.json",
//!   "journeys": [{ "name": "…", "start": "2026-11-02T12:00:00+03:00", "entropy": 7,
//!     "consent": "personalization", "defaults": {"userAgent": "…", "utcOffsetMinutes": 180},
//!     "steps": [{ "after": "3d", "facts": {"url": "…"}, "interactions": [{"rule": "cart-coupon", "kind": "shown"}],
//!                 "expect": {"experience": "returning", "slots": {"hero": "hero-premium"}} }] }] }
//! ```

use crate::core::config::ConsentLevel;
use crate::core::consent::REFUSED_COOKIE_VALUE;
use crate::core::context::RequestFacts;
use crate::core::decide::Outcome;
use crate::core::engine::{CookieWrite, Engine, PageView, PageViewInput};
use crate::core::profile::codec::CookieStatus;
use crate::core::profile::update::InteractionKind;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The journey spec version this build reads.
pub const SPEC_VERSION: u32 = 1;

/// A file of journeys.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JourneyFile {
    /// Must be [`SPEC_VERSION`].
    pub spec_version: u32,
    /// What the file checks.
    #[serde(default)]
    pub description: Option<String>,
    /// The config: a path relative to the journey file, or the config itself.
    pub config: Value,
    /// The journeys.
    pub journeys: Vec<Journey>,
}

impl JourneyFile {
    /// Parses a journey file.
    ///
    /// # Errors
    /// What is wrong with the JSON, with line and column.
    pub fn parse(json: &str) -> Result<JourneyFile, String> {
        let file: JourneyFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
        if file.spec_version != SPEC_VERSION {
            return Err(format!(
                "specVersion {} is not supported; this build reads {SPEC_VERSION}",
                file.spec_version
            ));
        }
        Ok(file)
    }

    /// The config's JSON text: inline, or read from a path relative to `base_dir`
    /// (the journey file's folder).
    ///
    /// # Errors
    /// The path that could not be read, and why.
    pub fn config_json(&self, base_dir: &std::path::Path) -> Result<String, String> {
        match &self.config {
            Value::String(path) => {
                let full = base_dir.join(path);
                std::fs::read_to_string(&full)
                    .map_err(|e| format!("cannot read config {}: {e}", full.display()))
            }
            inline => Ok(inline.to_string()),
        }
    }
}

/// One visitor's journey.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Journey {
    /// Name.
    pub name: String,
    /// When the first step happens: `YYYY-MM-DDTHH:MM[:SS](Z|±HH:MM)`.
    pub start: String,
    /// Random bits for the visitor id (so bucketing is reproducible).
    #[serde(default)]
    pub entropy: u64,
    /// Consent signal for every step unless a step says otherwise.
    #[serde(default)]
    pub consent: JourneyConsent,
    /// Facts every step starts from (camelCase [`RequestFacts`] fields).
    #[serde(default)]
    pub defaults: Map<String, Value>,
    /// The page views.
    pub steps: Vec<Step>,
}

/// A consent signal in a journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JourneyConsent {
    /// The consent platform has not answered.
    #[default]
    Unanswered,
    /// Refused.
    Denied,
    /// Necessary only.
    Necessary,
    /// Personalization granted.
    Personalization,
}

impl JourneyConsent {
    /// As the engine's input.
    pub fn signal(self) -> Option<ConsentLevel> {
        match self {
            JourneyConsent::Unanswered => None,
            JourneyConsent::Denied => Some(ConsentLevel::Denied),
            JourneyConsent::Necessary => Some(ConsentLevel::Necessary),
            JourneyConsent::Personalization => Some(ConsentLevel::Personalization),
        }
    }
}

/// One page view of a journey.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Step {
    /// Time since the previous step (`30s`, `10m`, `2h`, `45d`, combinable: `1d2h`); a
    /// leading `-` steps back (this page view's clock is behind the last one's).
    #[serde(default)]
    pub after: Option<String>,
    /// Facts of this page view, over the journey's defaults.
    #[serde(default)]
    pub facts: Map<String, Value>,
    /// Consent signal for this step.
    #[serde(default)]
    pub consent: Option<JourneyConsent>,
    /// What the visitor does after the page is shown, in order.
    #[serde(default)]
    pub interactions: Vec<Interaction>,
    /// What the page view must decide: keys of [`summarize`]'s output, compared exactly.
    #[serde(default)]
    pub expect: Map<String, Value>,
}

/// An interaction with a shown rule.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Interaction {
    /// Experience or popup id.
    pub rule: String,
    /// What happened.
    pub kind: InteractionKind,
}

/// The outcome of one step.
#[derive(Debug, Clone)]
pub struct StepOutcome<'e> {
    /// When it happened (Unix ms).
    pub now_ms: i64,
    /// The visitor's UTC offset at that step.
    pub utc_offset_minutes: i32,
    /// The page's URL.
    pub url: String,
    /// The step's facts, as the page view got them.
    pub facts: RequestFacts,
    /// The consent signal of the step.
    pub consent: Option<ConsentLevel>,
    /// The profile cookie before the step.
    pub cookie_before: Option<String>,
    /// The journey's entropy (a new visitor's id).
    pub entropy: u64,
    /// The page view.
    pub page_view: PageView<'e>,
    /// The comparable summary.
    pub summary: Value,
    /// The cookie after the step's interactions.
    pub cookie_after: Option<String>,
    /// Expectations that did not hold, as sentences.
    pub failures: Vec<String>,
}

/// The outcome of one journey.
#[derive(Debug, Clone)]
pub struct JourneyOutcome<'e> {
    /// Journey name.
    pub name: String,
    /// Step outcomes, or the error that stopped the journey.
    pub steps: Result<Vec<StepOutcome<'e>>, String>,
}

impl JourneyOutcome<'_> {
    /// Every failure in the journey, each naming its step.
    pub fn failures(&self) -> Vec<String> {
        match &self.steps {
            Err(e) => vec![format!("{}: {e}", self.name)],
            Ok(steps) => steps
                .iter()
                .enumerate()
                .flat_map(|(i, s)| {
                    s.failures
                        .iter()
                        .map(move |f| format!("{} — step {}: {f}", self.name, i + 1))
                })
                .collect(),
        }
    }
}

/// The comparable summary of a page view, the same on every platform.
pub fn summarize(view: &PageView<'_>) -> Value {
    let d = &view.decision;
    let slots: Map<String, Value> = d
        .slots
        .iter()
        .map(|s| {
            let shown = match (&s.experience, &s.variant, s.holdout) {
                (Some(_), _, true) | (None, _, _) => Value::Null,
                (Some(e), Some(v), false) => Value::String(format!("{e}/{v}")),
                (Some(e), None, false) => Value::String(e.to_string()),
            };
            (s.slot.to_string(), shown)
        })
        .collect();
    let greetings: Map<String, Value> = d
        .greetings
        .iter()
        .map(|g| (g.slot.to_string(), Value::String(g.text.clone())))
        .collect();
    json!({
        "experience": d.visitor.experience.as_str(),
        "stage": d.visitor.stage.as_str(),
        "priceBand": d.visitor.price_band,
        "interests": d.visitor.interests,
        "segments": d.visitor.segments,
        "slots": slots,
        "holdouts": d.slots.iter().filter(|s| s.holdout).filter_map(|s| s.experience).collect::<Vec<_>>(),
        "greetings": greetings,
        "popups": d.popups.iter().map(|p| p.popup).collect::<Vec<_>>(),
        "attributes": d.attributes.iter().map(|a| json!({"selector": a.selector, "attribute": a.attribute, "value": a.value})).collect::<Vec<_>>(),
        "classes": d.html_classes,
        // Rules that matched but were held back, and why (not-matched rules are left out).
        "held": d
            .reasons
            .iter()
            .filter(|r| !matches!(r.outcome, Outcome::Applied | Outcome::Matched | Outcome::NotMatched))
            .map(|r| (r.rule.to_string(), serde_json::to_value(r.outcome).unwrap_or(Value::Null)))
            .collect::<Map<String, Value>>(),
        "stored": view.storage.allowed,
        "cookie": match view.cookie { CookieWrite::Set { .. } => "set", CookieWrite::Delete { .. } => "delete", CookieWrite::Refuse { .. } => "refuse", CookieWrite::Unchanged => "unchanged" },
        "cookieStatus": match view.cookie_status {
            CookieStatus::Absent => "absent".to_string(),
            CookieStatus::Valid => "valid".to_string(),
            CookieStatus::Unverified => "unverified".to_string(),
            CookieStatus::Refused => "refused".to_string(),
            CookieStatus::Rejected(r) => format!("rejected:{}", serde_json::to_value(r).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()),
        },
        "visits": view.profile.visits,
    })
}

/// Runs every journey of a file against an engine.
/// A journey step as an edge sees it, for replaying journeys through an edge
/// (natively in `tests/edge.rs`, and in workerd through `edge-persona simulate
/// --edge`): the request, and what the core decides from just that. An edge decides
/// before it reads the page, so the step's page annotations and events are not
/// among its inputs, and it has no banner to ask: consent is what the stored
/// profile records.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EdgeStep {
    /// The page's URL.
    pub url: String,
    /// The `Cookie` header: the step's cookies (percent-encoded) and the profile
    /// cookie as the journey stored it before the step.
    pub cookie: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// `Accept-Language`.
    pub accept_language: Option<String>,
    /// `Referer`.
    pub referer: Option<String>,
    /// `Sec-GPC: 1`.
    pub global_privacy_control: bool,
    /// The platform's geolocation.
    pub geo: Option<crate::core::context::Geo>,
    /// The visitor's UTC offset (from the platform's time zone).
    pub utc_offset_minutes: i32,
    /// The request's time (Unix ms).
    pub now_ms: i64,
    /// The random bits a new visitor's id comes from, in decimal (a `u64` does not
    /// fit a JavaScript number).
    pub entropy: String,
    /// The decision the core makes from these inputs.
    pub decision: Value,
    /// Whether the step gives the edge all it gives the core (no annotations, no
    /// events, the consent the profile records), so that `decision` is also the
    /// journey's own.
    pub same_as_journey: bool,
}

/// [`EdgeStep`] of a step of a journey run on `engine`.
pub fn edge_step(step: &StepOutcome<'_>, engine: &Engine) -> EdgeStep {
    let facts = &step.facts;
    let cookie_name = &engine.config().site.cookie.name;
    let mut cookies: Vec<String> = facts
        .cookies
        .iter()
        .map(|(name, value)| format!("{name}={}", crate::core::template::percent_encode(value)))
        .collect();
    if let Some(profile) = &step.cookie_before {
        cookies.push(format!("{cookie_name}={profile}"));
    }
    let edge_facts = RequestFacts {
        page: Default::default(),
        events: Vec::new(),
        ..facts.clone()
    };
    let (stored, _) = engine.read_profile(
        step.cookie_before.as_deref(),
        facts.now_ms,
        step.entropy,
        &[],
    );
    let inferred = step
        .cookie_before
        .as_ref()
        .and_then(|_| ConsentLevel::from_stored(stored.consent).filter(|_| stored.visits > 0));
    let view = engine.page_view(PageViewInput {
        facts: &edge_facts,
        cookie: step.cookie_before.as_deref(),
        consent: inferred,
        entropy: step.entropy,
        keys: &[],
        explain: false,
        new_profile_kept: true,
    });
    EdgeStep {
        url: facts.url.clone(),
        cookie: (!cookies.is_empty()).then(|| cookies.join("; ")),
        user_agent: facts.user_agent.clone(),
        accept_language: facts.language.clone(),
        referer: facts.referrer.clone(),
        global_privacy_control: facts.global_privacy_control,
        geo: facts.geo.clone(),
        utc_offset_minutes: facts.utc_offset_minutes,
        now_ms: facts.now_ms,
        entropy: step.entropy.to_string(),
        decision: serde_json::to_value(&view.decision).unwrap_or(Value::Null),
        same_as_journey: facts.page == Default::default()
            && facts.events.is_empty()
            && inferred == step.consent,
    }
}

pub fn run<'e>(file: &JourneyFile, engine: &'e Engine, explain: bool) -> Vec<JourneyOutcome<'e>> {
    file.journeys
        .iter()
        .map(|journey| JourneyOutcome {
            name: journey.name.clone(),
            steps: run_journey(journey, engine, explain),
        })
        .collect()
}

fn run_journey<'e>(
    journey: &Journey,
    engine: &'e Engine,
    explain: bool,
) -> Result<Vec<StepOutcome<'e>>, String> {
    let mut now_ms = parse_timestamp(&journey.start).map_err(|e| format!("start: {e}"))?;
    let mut jar: Option<String> = None;
    let mut outcomes = Vec::new();
    for (index, step) in journey.steps.iter().enumerate() {
        let at = |e: String| format!("step {}: {e}", index + 1);
        if let Some(after) = &step.after {
            now_ms = now_ms.saturating_add(parse_duration_ms(after).map_err(at)?);
        }
        let mut merged = journey.defaults.clone();
        merged.extend(step.facts.clone());
        merged.insert("nowMs".into(), json!(now_ms));
        let facts: RequestFacts =
            serde_json::from_value(Value::Object(merged)).map_err(|e| at(format!("facts: {e}")))?;
        let consent = step.consent.unwrap_or(journey.consent).signal();
        let cookie_before = jar.clone();
        let mut view = engine.page_view(PageViewInput {
            facts: &facts,
            cookie: jar.as_deref(),
            consent,
            entropy: journey.entropy,
            keys: &[],
            explain,
            new_profile_kept: true,
        });
        apply(&mut jar, &view.cookie);
        for interaction in &step.interactions {
            let write = engine.interaction(
                &mut view.profile,
                &interaction.rule,
                interaction.kind,
                now_ms,
                facts.utc_offset_minutes,
                view.storage.allowed,
                &[],
            );
            apply(&mut jar, &write);
        }
        let summary = summarize(&view);
        let failures = step
            .expect
            .iter()
            .filter_map(|(key, expected)| match summary.get(key) {
                None => Some(format!("`{key}` is not something a page view reports")),
                Some(actual) if actual != expected => {
                    Some(format!("`{key}`: expected {expected}, got {actual}"))
                }
                Some(_) => None,
            })
            .collect();
        outcomes.push(StepOutcome {
            now_ms,
            utc_offset_minutes: facts.utc_offset_minutes,
            url: facts.url.clone(),
            facts,
            consent,
            cookie_before,
            entropy: journey.entropy,
            page_view: view,
            summary,
            cookie_after: jar.clone(),
            failures,
        });
    }
    Ok(outcomes)
}

fn apply(jar: &mut Option<String>, write: &CookieWrite) {
    match write {
        CookieWrite::Set { value, .. } => *jar = Some(value.clone()),
        CookieWrite::Delete { .. } => *jar = None,
        CookieWrite::Refuse { .. } => *jar = Some(REFUSED_COOKIE_VALUE.to_string()),
        CookieWrite::Unchanged => {}
    }
}

/// Parses `YYYY-MM-DDTHH:MM[:SS](Z|±HH:MM)` into Unix milliseconds.
///
/// # Errors
/// A sentence saying what is wrong.
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    let bad = || format!("expected a time like 2026-11-02T12:00:00+03:00, found {text:?}");
    let (date, rest) = text.split_once('T').ok_or_else(bad)?;
    let mut date_parts = date.splitn(3, '-').map(str::parse::<i64>);
    let (Some(Ok(year)), Some(Ok(month)), Some(Ok(day))) =
        (date_parts.next(), date_parts.next(), date_parts.next())
    else {
        return Err(bad());
    };
    let (clock, offset_minutes) = if let Some(clock) = rest.strip_suffix('Z') {
        (clock, 0)
    } else {
        let split = rest.rfind(['+', '-']).ok_or_else(bad)?;
        let (clock, offset) = rest.split_at(split);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let (h, m) = offset[1..].split_once(':').ok_or_else(bad)?;
        let hours: i64 = h.parse().map_err(|_| bad())?;
        let minutes: i64 = m.parse().map_err(|_| bad())?;
        if hours > 14 || minutes > 59 {
            return Err(bad());
        }
        (clock, sign * (hours * 60 + minutes))
    };
    let mut clock_parts = clock.split(':').map(str::parse::<i64>);
    let hour = clock_parts.next().and_then(Result::ok).ok_or_else(bad)?;
    let minute = clock_parts.next().and_then(Result::ok).ok_or_else(bad)?;
    let second = clock_parts.next().and_then(Result::ok).unwrap_or(0);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    if !(1970..=9999).contains(&year) || offset_minutes.abs() > 14 * 60 {
        return Err(bad());
    }
    let days = days_from_civil(year, month, day);
    Ok(((days * 24 + hour) * 60 + minute - offset_minutes) * 60_000 + second * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `30s`, `10m`, `2h`, `45d` or combinations (`1d2h`) into milliseconds; a
/// leading `-` goes back (a page view whose clock is behind the last one's: the edge
/// and the browser write the same cookie with their own clocks).
///
/// # Errors
/// A sentence saying what is wrong.
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let trimmed = text.trim();
    let (sign, unsigned) = match trimmed.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, trimmed),
    };
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in unsigned.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            _ => {
                return Err(format!(
                    "unknown unit {c:?} in duration {text:?}; use s, m, h or d"
                ))
            }
        };
        let n: i64 = number
            .parse()
            .map_err(|_| format!("expected a number before {c:?} in {text:?}"))?;
        total = total.saturating_add(n.saturating_mul(unit));
        number.clear();
    }
    if !number.is_empty() {
        return Err(format!(
            "duration {text:?} ends without a unit (s, m, h or d)"
        ));
    }
    if unsigned.is_empty() {
        return Err(format!("duration {text:?} is empty"));
    }
    Ok(sign * total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_durations() {
        assert_eq!(parse_timestamp("1970-01-01T00:00Z"), Ok(0));
        assert_eq!(
            parse_timestamp("2026-11-27T18:00:00+03:00"),
            Ok(1_795_791_600_000)
        );
        assert!(parse_timestamp("yesterday").is_err());
        assert_eq!(parse_duration_ms("1d2h"), Ok(93_600_000));
        assert!(parse_duration_ms("5").is_err());
        assert!(parse_duration_ms("5w").is_err());
        assert_eq!(parse_duration_ms("-44m"), Ok(-2_640_000));
        assert!(parse_duration_ms("-").is_err());
    }
}
