//! The browser layer: the wasm-bindgen exports that the script tag and the npm
//! package drive (`js/edge-persona.js`), and the DOM application of decisions.
//!
//! The JS side gathers the page view's facts (URL, referrer, annotations, consent
//! signals), owns timers and listeners, and writes `document.cookie`; this side runs
//! the core engine on them and changes the DOM. Values cross the boundary as JSON
//! text, which costs less code in the wasm than a structured bridge.
//!
//! Nothing here panics on a page path: every failure becomes a `JsError` (config,
//! facts) or an entry in an apply report, and the page keeps its default content.
#![deny(unsafe_code)]

#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests;
mod dom;
mod patterns;

use crate::core::config::ConsentLevel;
use crate::core::consent::{
    answer_or_remembered_refusal, is_refusal, storage_verdict, stored_consent, PrivacySignals,
    StorageVerdict, REFUSED_COOKIE_VALUE,
};
use crate::core::context::{PageEvent, RequestFacts};
use crate::core::cookies::{read_cookies, set_cookie_value};
use crate::core::engine::{CookieWrite, Engine, PageView, PageViewInput, Storage};
use crate::core::plan::PagePlan;
use crate::core::profile::codec::CookieStatus;
use crate::core::profile::update::InteractionKind;
use crate::core::profile::{minutes_from_ms, Profile};
use dom::DomState;
use patterns::JsPatternEngine;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

pub use patterns::JsPatternEngine as BrowserPatternEngine;

/// A decimal literal as JavaScript's `parseFloat` reads it, for
/// [`crate::core::decimal`]: the browser build leaves Rust's float parser out.
#[cfg(target_arch = "wasm32")]
pub(crate) fn number_from_literal(literal: &str) -> f64 {
    web_sys::js_sys::parse_float(literal)
}

/// Text lowercased by JavaScript's `toLowerCase`, for [`crate::core::lowercase`]: the
/// browser build leaves Rust's Unicode case tables out.
#[cfg(target_arch = "wasm32")]
pub(crate) fn lowercase(text: &str) -> String {
    String::from(web_sys::js_sys::JsString::from(text).to_lower_case())
}

thread_local! {
    /// What the last runtime to be freed kept of the page: defaults, originals,
    /// classes. A framework that remounts (`init → destroy → init`, React's
    /// StrictMode) starts a new runtime on the same document after the first has
    /// taken over what the edge sent along; the new one takes this over instead of
    /// starting with nothing to put back.
    static LEFT_BEHIND: std::cell::Cell<Option<DomState>> = const { std::cell::Cell::new(None) };
}

/// One page's runtime: the loaded config, the visitor's profile in memory, and what
/// the last decision did to the page.
#[wasm_bindgen]
pub struct Runtime {
    engine: Engine,
    profile: Profile,
    /// The last page view's inputs, kept so `explain()` can run it again with details.
    last: Option<LastPageView>,
    consent: Option<ConsentLevel>,
    storage_allowed: bool,
    plan: PagePlan,
    /// The plan is the edge's (taken over from its hand-off): only then are the
    /// popups the edge rendered into the page (`<template data-ep-popup>`) its own.
    plan_from_edge: bool,
    dom: DomState,
}

impl Drop for Runtime {
    /// Leaves what this runtime kept of the page for the next one (see `LEFT_BEHIND`):
    /// only what is still in the document, so that the elements an app removed (a
    /// component unmounted for good) are not held in memory for a runtime that may
    /// never come.
    fn drop(&mut self) {
        let mut dom = std::mem::take(&mut self.dom);
        dom.forget_detached();
        LEFT_BEHIND.set(Some(dom));
    }
}

struct LastPageView {
    facts: RequestFacts,
    /// The profile cookie as the page had it (also when it was not read for lack of
    /// consent: a later grant then builds on the stored profile, not over it).
    cookie: Option<String>,
    entropy: u64,
    /// What the decision was built on, for `explain()`.
    basis: Basis,
}

/// What a page view's decision was built on.
enum Basis {
    /// The profile cookie (or a fresh profile): run the page view again.
    Cookie,
    /// The profile held in memory before this view (a later view of the page's
    /// life, the cookie unread or unwritable): visit a copy of it again.
    Memory(Box<Profile>),
    /// The edge's decision, taken over as it was.
    Adopted {
        decision: Value,
        storage: StorageVerdict,
        cookie_status: CookieStatus,
    },
}

impl LastPageView {
    /// This page view run again from its inputs, with `consent` as it is now.
    fn rerun<'e>(
        &self,
        engine: &'e Engine,
        consent: Option<ConsentLevel>,
        explain: bool,
    ) -> PageView<'e> {
        engine.page_view(browser_input(
            &self.facts,
            self.cookie.as_deref(),
            consent,
            self.entropy,
            explain,
        ))
    }
}

impl Runtime {
    /// A page view's inputs from JS: the facts with the site cookies the config
    /// names (from `document.cookie`), the profile cookie apart, and the consent
    /// signal.
    fn inputs(
        &self,
        facts_json: &str,
        cookie_header: &str,
        consent: Option<String>,
    ) -> Result<(RequestFacts, Option<String>, Option<ConsentLevel>), JsError> {
        let mut facts: RequestFacts =
            from_json_text(facts_json).map_err(|e| JsError::new(&format!("page facts: {e}")))?;
        let consent = parse_consent(consent.as_deref())?;
        let names = self.cookie_names();
        let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut cookies = read_cookies(cookie_header, &wanted);
        let profile_cookie = names.first().and_then(|name| cookies.remove(name));
        facts.cookies = cookies;
        Ok((facts, profile_cookie, consent))
    }
}

/// What `adopt` returns (as JSON): `pageView`'s shape, with the edge's decision.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AdoptOutput<'a> {
    decision: &'a Value,
    storage: &'a crate::core::consent::StorageVerdict,
    cookie_status: &'a crate::core::profile::codec::CookieStatus,
    set_cookie: Option<String>,
    adopted: bool,
}

/// What `pageView` returns (as JSON).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageViewOutput<'a> {
    decision: &'a crate::core::decide::Decision<'a>,
    storage: &'a crate::core::consent::StorageVerdict,
    cookie_status: &'a crate::core::profile::codec::CookieStatus,
    /// The `document.cookie` assignment to make, if any.
    set_cookie: Option<String>,
}

#[wasm_bindgen]
impl Runtime {
    /// Loads a config (JSON text). Every problem is reported at once, each with
    /// its JSON path.
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str) -> Result<Runtime, JsError> {
        let engine = Engine::from_json(config_json, &JsPatternEngine)
            .map_err(|errors| JsError::new(errors.to_string().trim_end()))?;
        let mut dom = DomState::new(engine.config());
        if let Some(earlier) = LEFT_BEHIND.take() {
            dom.take_over(earlier);
        }
        Ok(Runtime {
            engine,
            profile: Profile::new(0, 0),
            last: None,
            consent: None,
            storage_allowed: false,
            plan: PagePlan::default(),
            plan_from_edge: false,
            dom,
        })
    }

    /// The cookie names the runtime reads: the profile cookie first, then the
    /// site's own cookies the config names.
    #[wasm_bindgen(js_name = cookieNames)]
    pub fn cookie_names(&self) -> Vec<String> {
        let site = &self.engine.config().site;
        std::iter::once(site.cookie.name.clone())
            .chain(site.read_cookies.iter().cloned())
            .collect()
    }

    /// Seconds of visibility that make a page view engaged
    /// (`classify.engagement.dwellSeconds`); none when time is not a criterion.
    #[wasm_bindgen(js_name = engagementDwellSeconds)]
    pub fn engagement_dwell_seconds(&self) -> Option<f64> {
        self.engine.config().site.classify.engagement.dwell_seconds
    }

    /// Scroll depth in percent that makes a page view engaged
    /// (`classify.engagement.scrollPercent`); none when scrolling is not a criterion.
    #[wasm_bindgen(js_name = engagementScrollPercent)]
    pub fn engagement_scroll_percent(&self) -> Option<f64> {
        self.engine.config().site.classify.engagement.scroll_percent
    }

    /// Runs a page view. `facts_json` is a `RequestFacts` object (see the core's
    /// docs; its `cookies` are filled here from `cookie_header`, which is
    /// `document.cookie`); `consent` is `"denied"`, `"necessary"`,
    /// `"personalization"`, or absent when no consent platform has answered.
    /// Returns JSON `{decision, storage, cookieStatus, setCookie}`; the decision's
    /// `reasons` are empty here (see `explain`).
    #[wasm_bindgen(js_name = pageView)]
    pub fn page_view(
        &mut self,
        facts_json: &str,
        cookie_header: &str,
        consent: Option<String>,
        entropy_high: u32,
        entropy_low: u32,
    ) -> Result<String, JsError> {
        let (facts, profile_cookie, consent) = self.inputs(facts_json, cookie_header, consent)?;
        // A refusal the cookie remembers holds until the page answers otherwise.
        let consent = answer_or_remembered_refusal(consent, profile_cookie.as_deref());
        let site = &self.engine.config().site;
        let storage = storage_verdict(&site.consent, consent, PrivacySignals::of(&facts));
        let https = is_https(&facts.url);
        // A later page view of this page's life (SPA navigation) builds on the profile
        // held in memory when it cannot build on the cookie: without consent (the
        // cookie is not read), or with consent but no cookie (cookies blocked or not
        // kept). The visitor then keeps one id (the same variants) and popup caps
        // count across routes.
        let builds_on_memory =
            self.last.is_some() && (!storage.allowed || profile_cookie.is_none());
        // A refusal (the visitor's "no", or Global Privacy Control) opts out of
        // profiling, in memory too: each route starts from no history, with the
        // same id (so the same variants).
        if builds_on_memory && storage.withdrawn {
            self.profile = Profile::new(self.profile.visitor_id, self.profile.last_seen);
        }
        let json = match &self.last {
            Some(last) if builds_on_memory => {
                let entropy = last.entropy;
                let before = Box::new(self.profile.clone());
                let mut decision = self.engine.visit(
                    &mut self.profile,
                    &facts,
                    consent,
                    Storage::kept(storage.allowed),
                    false,
                );
                decision.reasons.clear();
                let write = if storage.allowed {
                    self.profile.consent = stored_consent(consent);
                    self.engine.store_cookie(&self.profile, &[])
                } else if storage.withdrawn {
                    self.engine
                        .cookie_withdrawn(profile_cookie.as_deref(), facts.global_privacy_control)
                } else {
                    CookieWrite::Unchanged
                };
                let json = to_json(&PageViewOutput {
                    decision: &decision,
                    storage: &storage,
                    cookie_status: &CookieStatus::Absent,
                    set_cookie: set_cookie_value(&write, https),
                })?;
                self.plan = PagePlan::from_decision(&decision);
                self.plan_from_edge = false;
                self.last = Some(LastPageView {
                    facts,
                    cookie: cookie_after(profile_cookie, &write),
                    entropy,
                    basis: Basis::Memory(before),
                });
                json
            }
            _ => {
                let entropy = entropy_of(entropy_high, entropy_low);
                let mut view = self.engine.page_view(browser_input(
                    &facts,
                    profile_cookie.as_deref(),
                    consent,
                    entropy,
                    false,
                ));
                // Reasons are for people: `explain()` gives them in full. Leaving them
                // out here halves the JSON each page view builds and parses.
                view.decision.reasons.clear();
                let json = to_json(&PageViewOutput {
                    decision: &view.decision,
                    storage: &view.storage,
                    cookie_status: &view.cookie_status,
                    set_cookie: set_cookie_value(&view.cookie, https),
                })?;
                self.plan = PagePlan::from_decision(&view.decision);
                self.plan_from_edge = false;
                self.profile = view.profile;
                self.last = Some(LastPageView {
                    facts,
                    cookie: cookie_after(profile_cookie, &view.cookie),
                    entropy,
                    basis: Basis::Cookie,
                });
                json
            }
        };
        self.storage_allowed = storage.allowed;
        self.consent = consent;
        Ok(json)
    }

    /// Takes over the edge's decision instead of deciding again: `handoff_json` is
    /// the text of the page's `<script type="application/json" id="ep-handoff">`.
    /// The plan is checked against this runtime's config (see
    /// `PagePlan::from_handoff`); the profile is read from the cookie the edge wrote
    /// (that visit is already in it), and the page's own annotations and declared
    /// events, which the edge could not see, are recorded into it. Returns the same
    /// JSON as `pageView`.
    ///
    /// `cut`: the hand-off element is marked `data-ep-cut` (the edge's rewriting
    /// stopped early); the slots it did not reach keep the defaults the page showed.
    ///
    /// # Errors
    /// A hand-off of another version or shape, or facts that do not parse: the JS
    /// side then runs `pageView` instead.
    #[allow(clippy::too_many_arguments)]
    pub fn adopt(
        &mut self,
        handoff_json: &str,
        facts_json: &str,
        cookie_header: &str,
        consent: Option<String>,
        entropy_high: u32,
        entropy_low: u32,
        cut: bool,
    ) -> Result<String, JsError> {
        let handoff: Value = serde_json::from_str(handoff_json)
            .map_err(|e| JsError::new(&format!("hand-off: {e}")))?;
        let version = handoff.get("version").and_then(Value::as_u64);
        if version != Some(1) {
            return Err(JsError::new(&format!(
                "hand-off version {version:?} is not supported"
            )));
        }
        let mut decision = handoff.get("decision").cloned().unwrap_or(Value::Null);
        let mut plan = PagePlan::from_handoff(&decision, self.engine.config())
            .map_err(|e| JsError::new(&e))?;
        if cut {
            dom::leave_what_the_edge_did_not_reach(&document()?, &mut plan, &mut decision);
        }
        let (facts, profile_cookie, consent) = self.inputs(facts_json, cookie_header, consent)?;
        let entropy = entropy_of(entropy_high, entropy_low);
        let (profile, cookie_status) =
            self.engine
                .read_profile(profile_cookie.as_deref(), facts.now_ms, entropy, &[]);
        // As at the edge: a stored profile remembers the consent it was stored under.
        let consent = answer_or_remembered_refusal(consent, profile_cookie.as_deref())
            .or_else(|| ConsentLevel::from_stored(profile.consent).filter(|_| profile.visits > 0));
        let site = &self.engine.config().site;
        let storage = storage_verdict(&site.consent, consent, PrivacySignals::of(&facts));
        // The edge stores a profile only under a consent the cookie remembers. When it
        // could not (a first visit, or a cookie from before consent) but the browser
        // knows the consent, this page view was not recorded: record it here, into
        // the stored profile, while the page keeps showing the edge's decision.
        let edge_stored = handoff
            .get("storage")
            .and_then(|s| s.get("allowed"))
            .and_then(Value::as_bool)
            .unwrap_or(true);
        // Popups come from the stored profile (their caps live there): the engine
        // offers none without storage, so none of the edge's opens either.
        if !storage.allowed {
            if let Some(popups) = decision.get_mut("popups") {
                *popups = Value::Array(Vec::new());
            }
        }
        let write = if !storage.allowed && storage.withdrawn {
            // Refused (or GPC) in the browser while the edge, which knows consent only
            // from the cookie, may have stored one: it goes, as on any page view.
            self.profile = Profile::new(entropy, minutes_from_ms(facts.now_ms));
            self.engine
                .cookie_withdrawn(profile_cookie.as_deref(), facts.global_privacy_control)
        } else if storage.allowed && !edge_stored {
            let view = self.engine.page_view_decoded(
                browser_input(&facts, profile_cookie.as_deref(), consent, entropy, false),
                Some((profile, cookie_status)),
            );
            self.profile = view.profile;
            view.cookie
        } else {
            self.profile = if storage.allowed {
                profile
            } else {
                Profile::new(entropy, minutes_from_ms(facts.now_ms))
            };
            self.engine.track(
                &mut self.profile,
                &facts.events,
                &facts.page,
                facts.now_ms,
                storage.allowed,
                &[],
            )
        };
        let json = to_json(&AdoptOutput {
            decision: &decision,
            storage: &storage,
            cookie_status: &cookie_status,
            set_cookie: set_cookie_value(&write, is_https(&facts.url)),
            adopted: true,
        })?;
        self.plan = plan;
        // A remount resumes the browser's own decision for a later SPA route too: the
        // edge's rendered popups are for the URL it served (`fromEdge`, set by the JS
        // when it hands the page view back; absent in the edge's own hand-off).
        self.plan_from_edge = handoff
            .get("fromEdge")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        self.storage_allowed = storage.allowed;
        self.consent = consent;
        self.last = Some(LastPageView {
            facts,
            cookie: cookie_after(profile_cookie, &write),
            entropy,
            basis: Basis::Adopted {
                decision,
                storage,
                cookie_status,
            },
        });
        Ok(json)
    }

    /// The last page view again, with every rule's reason and the values its
    /// condition saw (JSON, like `pageView`). Changes nothing.
    pub fn explain(&self) -> Result<String, JsError> {
        let last = self
            .last
            .as_ref()
            .ok_or_else(|| JsError::new("explain: there has been no page view yet"))?;
        match &last.basis {
            Basis::Cookie => {
                let view = last.rerun(&self.engine, self.consent, true);
                to_json(&PageViewOutput {
                    decision: &view.decision,
                    storage: &view.storage,
                    cookie_status: &view.cookie_status,
                    set_cookie: None,
                })
            }
            Basis::Memory(before) => {
                let site = &self.engine.config().site;
                let storage =
                    storage_verdict(&site.consent, self.consent, PrivacySignals::of(&last.facts));
                let mut profile = (**before).clone();
                let decision = self.engine.visit(
                    &mut profile,
                    &last.facts,
                    self.consent,
                    Storage::kept(storage.allowed),
                    true,
                );
                to_json(&PageViewOutput {
                    decision: &decision,
                    storage: &storage,
                    cookie_status: &CookieStatus::Absent,
                    set_cookie: None,
                })
            }
            // The page shows the edge's decision: that is what is explained (with
            // the edge's reasons), not a second decision made here.
            Basis::Adopted {
                decision,
                storage,
                cookie_status,
            } => to_json(&AdoptOutput {
                decision,
                storage,
                cookie_status,
                set_cookie: None,
                adopted: true,
            }),
        }
    }

    /// Applies the last decision to the document. Returns JSON `{applied, errors}`;
    /// a slot with an error keeps its default content.
    pub fn apply(&mut self) -> Result<String, JsError> {
        let document = document()?;
        let report = self.dom.apply(&document, &self.plan);
        to_json(&report)
    }

    /// Builds the popup `id` of the last decision (detached; see `dom::build_popup`).
    #[wasm_bindgen(js_name = buildPopup)]
    pub fn build_popup(&self, id: &str, close_label: &str) -> Result<web_sys::Element, JsError> {
        let document = document()?;
        self.dom
            .build_popup(&document, &self.plan, self.plan_from_edge, id, close_label)
            .map_err(|e| JsError::new(&e))
    }

    /// Records events that happened on the page (`event_json`: a `PageEvent`, e.g.
    /// `{"kind":"add_to_cart","value":4200,"category":"italian"}`). Returns the
    /// cookie assignment to make, if storage is allowed.
    pub fn track(&mut self, event_json: &str, now_ms: f64) -> Result<Option<String>, JsError> {
        let event: PageEvent =
            from_json_text(event_json).map_err(|e| JsError::new(&format!("track: {e}")))?;
        let (page, url) = match &self.last {
            Some(last) => (last.facts.page.clone(), last.facts.url.as_str()),
            None => (Default::default(), ""),
        };
        let write = self.engine.track(
            &mut self.profile,
            &[event],
            &page,
            now_ms as i64,
            self.storage_allowed,
            &[],
        );
        Ok(set_cookie_value(&write, is_https(url)))
    }

    /// Records that an experience or popup was shown, dismissed or converted
    /// (`kind`: `shown`, `dismissed`, `converted`). Returns the cookie assignment.
    pub fn interaction(
        &mut self,
        rule_id: &str,
        kind: &str,
        now_ms: f64,
    ) -> Result<Option<String>, JsError> {
        let kind = match kind {
            "shown" => InteractionKind::Shown,
            "dismissed" => InteractionKind::Dismissed,
            "converted" => InteractionKind::Converted,
            other => {
                return Err(JsError::new(&format!(
                    "interaction: unknown kind {other:?}"
                )))
            }
        };
        let offset = self.last.as_ref().map_or(0, |l| l.facts.utc_offset_minutes);
        let write = self.engine.interaction(
            &mut self.profile,
            rule_id,
            kind,
            now_ms as i64,
            offset,
            self.storage_allowed,
            &[],
        );
        Ok(set_cookie_value(&write, self.https()))
    }

    /// A new consent answer (`denied`, `necessary`, `personalization`, or absent
    /// for "no answer"). Granting stores the profile from now on; refusing or
    /// withdrawing deletes the cookie. Returns the cookie assignment, if any.
    pub fn consent(&mut self, level: Option<String>) -> Result<Option<String>, JsError> {
        // No answer (`None`) leaves a refusal the cookie remembers in force.
        let remembered = self.last.as_ref().and_then(|l| l.cookie.clone());
        let level =
            answer_or_remembered_refusal(parse_consent(level.as_deref())?, remembered.as_deref());
        let privacy = self
            .last
            .as_ref()
            .map(|l| PrivacySignals::of(&l.facts))
            .unwrap_or_default();
        let verdict = storage_verdict(&self.engine.config().site.consent, level, privacy);
        self.consent = level;
        let was_allowed = self.storage_allowed;
        self.storage_allowed = verdict.allowed;
        let write = if verdict.allowed && !was_allowed && self.last.is_some() {
            // The page view ran without reading the cookie (no consent then). Run it
            // again with the consent, so the stored profile is the visitor's own with
            // this page view added, not a fresh one that would overwrite it. What
            // the page shows stays as it is.
            self.revisit_with_consent()
        } else if verdict.allowed && self.last.is_some() {
            self.profile.consent = stored_consent(level);
            self.engine.store_cookie(&self.profile, &[])
        } else if verdict.withdrawn || (was_allowed && !verdict.allowed) {
            // Nothing of the stored profile may be used any more, in memory either:
            // later page views start from a profile with no history (the same id,
            // so what this page shows does not flip). A "no" leaves the refusal
            // marker, so that an edge stores nothing new either; Global Privacy
            // Control, sent with every request, and an answer taken back leave nothing.
            let now = self.profile.last_seen;
            self.profile = Profile::new(self.profile.visitor_id, now);
            let write = match (verdict.withdrawn, privacy.gpc) {
                (true, false) => self.engine.cookie_refuse(remembered.as_deref()),
                (true, true) if is_refusal(remembered.as_deref()) => CookieWrite::Unchanged,
                _ => self.engine.cookie_delete(),
            };
            if let Some(last) = &mut self.last {
                last.cookie = cookie_after(remembered, &write);
                last.basis = Basis::Memory(Box::new(self.profile.clone()));
            }
            write
        } else {
            CookieWrite::Unchanged
        };
        Ok(set_cookie_value(&write, self.https()))
    }

    /// Forgets the visitor: a fresh in-memory profile, and the cookie assignment that
    /// deletes the stored one.
    pub fn forget(&mut self, now_ms: f64, entropy_high: u32, entropy_low: u32) -> Option<String> {
        let entropy = entropy_of(entropy_high, entropy_low);
        self.profile = Profile::new(entropy, minutes_from_ms(now_ms as i64));
        if let Some(last) = &mut self.last {
            last.cookie = None;
            last.basis = Basis::Memory(Box::new(self.profile.clone()));
        }
        set_cookie_value(&self.engine.cookie_delete(), self.https())
    }

    /// Whether the profile cookie in `cookie_header` (`document.cookie`) is this
    /// runtime's visitor: it reads, and holds the id of the profile in memory. False
    /// when it is gone, cannot be read, or is another visitor's (a `forget()` in
    /// another tab started a new one): the page must not write its profile over it.
    #[wasm_bindgen(js_name = sameVisitor)]
    pub fn same_visitor(&self, cookie_header: &str, now_ms: f64) -> bool {
        self.stored_profile(cookie_header, now_ms)
            .is_some_and(|stored| stored.visitor_id == self.profile.visitor_id)
    }

    /// The visitor's profile as readable JSON, with whether it is stored: what the
    /// profile cookie in `cookie_header` holds now. That is this page's profile, unless
    /// the cookie holds another (stored before consent was asked for again, or by
    /// another tab): then that one, since it is what is kept about the visitor.
    pub fn export(&self, cookie_header: &str, now_ms: f64) -> Result<String, JsError> {
        let stored = self.stored_profile(cookie_header, now_ms);
        let (profile, is_stored) = match &stored {
            Some(stored) if stored.visitor_id != self.profile.visitor_id => (stored, true),
            Some(_) => (&self.profile, true),
            None => (&self.profile, false),
        };
        let mut value = self.engine.export(profile);
        if let Value::Object(map) = &mut value {
            map.insert("stored".into(), Value::Bool(is_stored));
            map.insert(
                "cookie".into(),
                Value::String(self.engine.config().site.cookie.name.clone()),
            );
        }
        to_json(&value)
    }
}

impl Runtime {
    /// The profile the cookie in `cookie_header` holds, if it is one this site can read.
    fn stored_profile(&self, cookie_header: &str, now_ms: f64) -> Option<Profile> {
        let name = &self.engine.config().site.cookie.name;
        let value = read_cookies(cookie_header, &[name.as_str()]).remove(name)?;
        let (stored, status) = self
            .engine
            .read_profile(Some(&value), now_ms as i64, 0, &[]);
        matches!(status, CookieStatus::Valid | CookieStatus::Unverified).then_some(stored)
    }

    /// The last page view again, now that storage is allowed: its profile and cookie
    /// write replace the in-memory ones.
    fn revisit_with_consent(&mut self) -> CookieWrite {
        let Some(last) = &self.last else {
            return CookieWrite::Unchanged;
        };
        let view = last.rerun(&self.engine, self.consent, false);
        self.profile = view.profile;
        view.cookie
    }

    fn https(&self) -> bool {
        self.last.as_ref().is_some_and(|l| is_https(&l.facts.url))
    }
}

/// A page view's input in the browser, which never holds signing keys.
fn browser_input<'a>(
    facts: &'a RequestFacts,
    cookie: Option<&'a str>,
    consent: Option<ConsentLevel>,
    entropy: u64,
    explain: bool,
) -> PageViewInput<'a> {
    PageViewInput {
        facts,
        cookie,
        consent,
        entropy,
        keys: &[],
        explain,
        new_profile_kept: true,
    }
}

fn parse_consent(level: Option<&str>) -> Result<Option<ConsentLevel>, JsError> {
    match level {
        None | Some("") => Ok(None),
        Some("denied") => Ok(Some(ConsentLevel::Denied)),
        Some("necessary") => Ok(Some(ConsentLevel::Necessary)),
        Some("personalization") => Ok(Some(ConsentLevel::Personalization)),
        Some(other) => Err(JsError::new(&format!(
            "consent: unknown level {other:?} (denied, necessary or personalization)"
        ))),
    }
}

/// The 64 random bits JS passes as two 32-bit halves (a JS number holds only 53).
fn entropy_of(high: u32, low: u32) -> u64 {
    (u64::from(high) << 32) | u64::from(low)
}

fn is_https(url: &str) -> bool {
    url.starts_with("https:")
}

fn document() -> Result<web_sys::Document, JsError> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsError::new("no document"))
}

/// What the profile cookie holds after `write`, given what a page view `read`: what
/// later answers on the page go by (a refusal marker it wrote is remembered). A
/// profile it set leaves `read`, the basis a revisited page view builds on.
fn cookie_after(read: Option<String>, write: &CookieWrite) -> Option<String> {
    match write {
        CookieWrite::Refuse { .. } => Some(REFUSED_COOKIE_VALUE.to_string()),
        CookieWrite::Delete { .. } => None,
        CookieWrite::Set { .. } | CookieWrite::Unchanged => read,
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String, JsError> {
    serde_json::to_string(value).map_err(|e| JsError::new(&format!("serialising: {e}")))
}

/// `T` from JSON text, read through a `serde_json::Value` like the config is: one
/// deserializer for every type in the browser build instead of two (≈3 KB brotli
/// less; the Value costs a few µs per page view).
fn from_json_text<T: serde::de::DeserializeOwned>(json: &str) -> serde_json::Result<T> {
    let value: Value = serde_json::from_str(json)?;
    crate::core::value_de::from_value(&value)
}
