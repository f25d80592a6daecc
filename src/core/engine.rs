//! One page view, end to end: decode the cookie, record the view, classify, decide,
//! encode the cookie. The browser and edge layers call this; so do the CLI and the
//! journey tests, which is what keeps every platform's decisions the same.

use crate::core::attributes::{self, AttributePlan, AttributeSources};
use crate::core::classify::classify;
use crate::core::config::{self, ConfigErrors, ConsentLevel, LoadedConfig};
use crate::core::consent::{
    answer_or_remembered_refusal, is_refusal, storage_verdict, stored_consent, PrivacySignals,
    StorageVerdict,
};
use crate::core::context::{Context, ContextNeeds, PageAnnotations, PageEvent, RequestFacts};
use crate::core::decide::{decide, DecideInput, Decision};
use crate::core::pattern::PatternEngine;
use crate::core::profile::codec::{CookieCodec, CookieStatus, SigningKey};
use crate::core::profile::update::{
    local_day, record_events, record_interaction, record_page_view, InteractionKind,
};
use crate::core::profile::{minutes_from_ms, Profile};
use serde::Serialize;
use serde_json::Value;
use std::cell::RefCell;

/// A loaded config, ready to decide page views.
#[derive(Debug, Clone)]
pub struct Engine {
    config: LoadedConfig,
    /// The attributes object of the previous page view, reused so that a warm page
    /// view keeps its keys and string buffers instead of allocating them again.
    scratch: RefCell<Value>,
}

/// One page view's input.
#[derive(Debug, Clone, Copy)]
pub struct PageViewInput<'a> {
    /// What the page view knows.
    pub facts: &'a RequestFacts,
    /// The profile cookie's value, if the request had one.
    pub cookie: Option<&'a str>,
    /// What the consent platform said; `None` if it has not answered.
    pub consent: Option<ConsentLevel>,
    /// Random bits from the platform, for a new visitor's id.
    pub entropy: u64,
    /// Signing keys (edge only; empty in the browser).
    pub keys: &'a [SigningKey],
    /// Fill in the reasons' details (slower; for explain output and debugging).
    pub explain: bool,
    /// Whether a new visitor's profile from this page view is kept: stored here, or
    /// by the page's runtime from this very profile. False where the edge leaves
    /// storage to the page, whose runtime starts the visitor with an id of its own:
    /// the id drawn here then does not last, and the visitor is in no experiment.
    pub new_profile_kept: bool,
}

/// What a page view may do with the visitor's profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Storage {
    /// The profile may be stored (consent, no Global Privacy Control).
    pub allowed: bool,
    /// The visitor's id lasts beyond this page view (a stored profile's, or a new
    /// one that will be kept): only then are they bucketed into experiments.
    pub lasting_visitor: bool,
}

impl Storage {
    /// Storage as allowed, for a profile kept from page view to page view.
    pub fn kept(allowed: bool) -> Storage {
        Storage {
            allowed,
            lasting_visitor: allowed,
        }
    }
}

/// What to do with the profile cookie after a page view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "action")]
pub enum CookieWrite {
    /// Set it (name, value and lifetime from the config).
    Set {
        /// Cookie name.
        name: String,
        /// Cookie value.
        value: String,
        /// Lifetime in seconds.
        max_age_seconds: u32,
    },
    /// Delete it: `forget()`, or a consent answer taken back to none. (A consent
    /// platform that has not answered yet deletes nothing.)
    Delete {
        /// Cookie name.
        name: String,
    },
    /// Replace it by [`crate::core::consent::REFUSED_COOKIE_VALUE`]: the visitor
    /// refused, withdrew consent or sends Global Privacy Control. What was stored
    /// goes; only the answer stays.
    Refuse {
        /// Cookie name.
        name: String,
        /// Lifetime in seconds (the config's).
        max_age_seconds: u32,
    },
    /// Leave cookies alone.
    Unchanged,
}

/// The outcome of one page view.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageView<'c> {
    /// What the page shows.
    pub decision: Decision<'c>,
    /// Whether anything may be stored, and why.
    pub storage: StorageVerdict,
    /// What the cookie said.
    pub cookie_status: CookieStatus,
    /// What to do with the cookie.
    pub cookie: CookieWrite,
    /// The profile after this page view (in memory only when storage is not allowed).
    pub profile: Profile,
}

impl Engine {
    /// Loads and validates a config (JSON text).
    ///
    /// # Errors
    /// Every problem in the config, each with its JSON path.
    pub fn from_json(json: &str, patterns: &dyn PatternEngine) -> Result<Engine, ConfigErrors> {
        Ok(Engine::new(config::load(json, patterns)?))
    }

    /// Wraps an already loaded config.
    pub fn new(config: LoadedConfig) -> Engine {
        Engine {
            config,
            scratch: RefCell::new(Value::Null),
        }
    }

    /// The loaded config.
    pub fn config(&self) -> &LoadedConfig {
        &self.config
    }

    fn codec<'k>(&self, keys: &'k [SigningKey]) -> CookieCodec<'k> {
        let cookie = &self.config.site.cookie;
        CookieCodec {
            keys,
            require_signature: cookie.require_signature,
            max_age_minutes: cookie.max_age_days.saturating_mul(24 * 60),
        }
    }

    fn cookie_set(&self, profile: &Profile, keys: &[SigningKey]) -> CookieWrite {
        let cookie = &self.config.site.cookie;
        CookieWrite::Set {
            name: cookie.name.clone(),
            value: self.codec(keys).encode(profile),
            max_age_seconds: cookie.max_age_seconds(),
        }
    }

    /// Decodes the profile cookie; a missing or unusable cookie gives a fresh profile.
    pub fn read_profile(
        &self,
        cookie: Option<&str>,
        now_ms: i64,
        entropy: u64,
        keys: &[SigningKey],
    ) -> (Profile, CookieStatus) {
        let now = minutes_from_ms(now_ms);
        match cookie.filter(|c| !c.is_empty()) {
            None => (Profile::new(entropy, now), CookieStatus::Absent),
            Some(value) if is_refusal(Some(value)) => {
                (Profile::new(entropy, now), CookieStatus::Refused)
            }
            Some(value) => match self.codec(keys).decode(value, now) {
                Ok(found) => found,
                Err(reason) => (Profile::new(entropy, now), CookieStatus::Rejected(reason)),
            },
        }
    }

    /// Runs one page view.
    pub fn page_view(&self, input: PageViewInput<'_>) -> PageView<'_> {
        self.page_view_decoded(input, None)
    }

    /// Runs one page view whose profile cookie the caller has already decoded
    /// (`read_profile` of `input.cookie`, e.g. to read the consent it remembers), so
    /// it is not decoded and verified a second time. `None` decodes it here.
    pub fn page_view_decoded(
        &self,
        input: PageViewInput<'_>,
        decoded: Option<(Profile, CookieStatus)>,
    ) -> PageView<'_> {
        let site = &self.config.site;
        // A visitor who said no before (the refusal marker) is heard until the page
        // answers otherwise.
        let consent = answer_or_remembered_refusal(input.consent, input.cookie);
        let storage = storage_verdict(&site.consent, consent, PrivacySignals::of(input.facts));
        let (mut profile, cookie_status) = if storage.allowed {
            decoded.unwrap_or_else(|| {
                self.read_profile(input.cookie, input.facts.now_ms, input.entropy, input.keys)
            })
        } else {
            // Contextual mode: decide from this request alone; the cookie is not read
            // (a refusal it remembers is reported as such).
            let status = if is_refusal(input.cookie) {
                CookieStatus::Refused
            } else {
                CookieStatus::Absent
            };
            (
                Profile::new(input.entropy, minutes_from_ms(input.facts.now_ms)),
                status,
            )
        };
        // An id that lasts: the stored profile's, or a new one that will be kept.
        let lasting_visitor = storage.allowed
            && (input.new_profile_kept
                || matches!(
                    cookie_status,
                    CookieStatus::Valid | CookieStatus::Unverified
                ));
        let decision = self.visit(
            &mut profile,
            input.facts,
            consent,
            Storage {
                allowed: storage.allowed,
                lasting_visitor,
            },
            input.explain,
        );
        let cookie = if storage.allowed {
            profile.consent = stored_consent(consent);
            self.cookie_set(&profile, input.keys)
        } else if storage.withdrawn {
            self.cookie_withdrawn(input.cookie, input.facts.global_privacy_control)
        } else {
            CookieWrite::Unchanged
        };
        PageView {
            decision,
            storage,
            cookie_status,
            cookie,
            profile,
        }
    }

    /// Records a page view into `profile` and decides. For layers that keep the
    /// profile in memory between calls (the browser); [`Engine::page_view`] wraps it.
    pub fn visit(
        &self,
        profile: &mut Profile,
        facts: &RequestFacts,
        consent: Option<ConsentLevel>,
        storage: Storage,
        explain: bool,
    ) -> Decision<'_> {
        let site = &self.config.site;
        let needs = if explain {
            ContextNeeds::ALL
        } else {
            self.config.attribute_plan.context_needs()
        };
        let context = Context::from_facts_with(facts, hemisphere(site), needs);
        // Events and cookies cleaned (NaN prices, lengths, counts); only the cookies
        // the config names are ever looked at.
        let events = facts.sanitized_events();
        let cookies = facts.named_cookies(&site.read_cookies);
        let day = local_day(facts.now_ms, facts.utc_offset_minutes);
        let visit = record_page_view(profile, &context, &events, facts.now_ms, day, site);
        let mut classification = classify(profile, &site.classify);
        let sources = AttributeSources {
            now_ms: facts.now_ms,
            events: &events,
            cookies: &cookies,
            gpc: facts.global_privacy_control,
            context: &context,
            profile,
            visit,
            classification: &classification,
            consent,
        };
        // Explanations read everything, into a fresh object; fast page views reuse the
        // scratch object (falling back to a fresh one if it is somehow in use).
        let mut fresh = Value::Null;
        let mut scratch = self.scratch.try_borrow_mut();
        let (attributes, plan) = match (&mut scratch, explain) {
            (Ok(scratch), false) => (&mut **scratch, &self.config.attribute_plan),
            (Err(_), false) => (&mut fresh, &self.config.attribute_plan),
            (_, true) => (&mut fresh, AttributePlan::all_roots()),
        };
        attributes::build_into(attributes, &sources, plan);
        let segments_read = plan.reads_segments();
        if let (true, Some(Value::Array(list))) = (segments_read, attributes.get_mut("segments")) {
            list.clear();
        }

        // Segments in order, each visible to the ones after it.
        let mut segments = Vec::new();
        for (rule, compiled) in site.segments.iter().zip(&self.config.segments) {
            let matched = compiled
                .condition
                .as_ref()
                .is_some_and(|c| c.matches(attributes, &self.config.saved_groups));
            if matched {
                segments.push(rule.name.as_str());
                if let (true, Some(Value::Array(list))) =
                    (segments_read, attributes.get_mut("segments"))
                {
                    list.push(Value::String(rule.name.clone()));
                }
            }
        }
        classification.segments = segments;
        decide(DecideInput {
            config: &self.config,
            attributes,
            classification,
            profile,
            now_ms: facts.now_ms,
            storage,
            explain,
        })
    }

    /// Records that the visitor saw, dismissed or acted on an experience or popup,
    /// and gives the cookie to write. Nothing is written without storage consent.
    #[allow(clippy::too_many_arguments)]
    pub fn interaction(
        &self,
        profile: &mut Profile,
        rule_id: &str,
        kind: InteractionKind,
        now_ms: i64,
        utc_offset_minutes: i32,
        storage_allowed: bool,
        keys: &[SigningKey],
    ) -> CookieWrite {
        let is_popup = self.config.site.popups.iter().any(|p| p.id == rule_id);
        let day = local_day(now_ms, utc_offset_minutes);
        let half_life = self.config.site.classify.interests.half_life_days;
        record_interaction(profile, rule_id, kind, is_popup, now_ms, day, half_life);
        if storage_allowed {
            self.cookie_set(profile, keys)
        } else {
            CookieWrite::Unchanged
        }
    }

    /// Records events that happen on a page after its page view (an add-to-cart
    /// click, a purchase reported by the site), and gives the cookie to write.
    /// Events are cleaned like a page view's; nothing is written without storage
    /// consent.
    pub fn track(
        &self,
        profile: &mut Profile,
        events: &[PageEvent],
        page: &PageAnnotations,
        now_ms: i64,
        storage_allowed: bool,
        keys: &[SigningKey],
    ) -> CookieWrite {
        let events: Vec<PageEvent> = events.iter().map(PageEvent::sanitized).collect();
        record_events(
            profile,
            &events,
            &page.sanitized(),
            now_ms,
            &self.config.site,
        );
        if storage_allowed {
            self.cookie_set(profile, keys)
        } else {
            CookieWrite::Unchanged
        }
    }

    /// The cookie write that stores `profile` (after consent was granted mid-page).
    pub fn store_cookie(&self, profile: &Profile, keys: &[SigningKey]) -> CookieWrite {
        self.cookie_set(profile, keys)
    }

    /// The cookie write that deletes the profile cookie (`forget()`, a consent answer
    /// taken back).
    pub fn cookie_delete(&self) -> CookieWrite {
        CookieWrite::Delete {
            name: self.config.site.cookie.name.clone(),
        }
    }

    /// The cookie write when storage is withdrawn, given the profile cookie the
    /// visitor sent: a refusal leaves the refusal marker ([`Engine::cookie_refuse`]);
    /// Global Privacy Control, which comes with every request and needs no memory,
    /// deletes a stored profile (a marker already there stays).
    pub fn cookie_withdrawn(&self, cookie: Option<&str>, gpc: bool) -> CookieWrite {
        match cookie.filter(|c| !c.is_empty()) {
            _ if !gpc => self.cookie_refuse(cookie),
            Some(value) if !is_refusal(Some(value)) => self.cookie_delete(),
            _ => CookieWrite::Unchanged,
        }
    }

    /// The cookie write for a visitor who said no, given the profile cookie they
    /// sent (if known): the refusal marker, unless it is already there.
    pub fn cookie_refuse(&self, cookie: Option<&str>) -> CookieWrite {
        if is_refusal(cookie) {
            return CookieWrite::Unchanged;
        }
        let settings = &self.config.site.cookie;
        CookieWrite::Refuse {
            name: settings.name.clone(),
            max_age_seconds: settings.max_age_seconds(),
        }
    }

    /// The visitor's data as readable JSON (for `export()`): the profile with rule
    /// histories named by the config's ids where they are known.
    pub fn export(&self, profile: &Profile) -> Value {
        let site = &self.config.site;
        let ids = site
            .experiences
            .iter()
            .map(|e| e.id.as_str())
            .chain(site.popups.iter().map(|p| p.id.as_str()))
            .chain(site.greetings.iter().map(|g| g.id.as_str()));
        let names: std::collections::HashMap<u32, &str> = ids
            .map(|id| (crate::core::profile::rule_key(id), id))
            .collect();
        let mut value = serde_json::to_value(profile).unwrap_or(Value::Null);
        // A 64-bit id as a number loses digits in JavaScript's JSON.parse.
        if let Some(id) = value.get_mut("visitorId") {
            if let Some(number) = id.as_u64() {
                *id = Value::String(number.to_string());
            }
        }
        if let Some(Value::Array(history)) = value.get_mut("history") {
            for entry in history {
                let key = entry.get("rule").and_then(Value::as_u64).unwrap_or(0) as u32;
                if let (Some(name), Value::Object(map)) = (names.get(&key), entry) {
                    map.insert("rule".into(), Value::String((*name).to_string()));
                }
            }
        }
        value
    }
}

fn hemisphere(site: &crate::core::config::SiteConfig) -> crate::core::context::Hemisphere {
    match site.classify.hemisphere {
        crate::core::config::Hemisphere::North => crate::core::context::Hemisphere::North,
        crate::core::config::Hemisphere::South => crate::core::context::Hemisphere::South,
    }
}
