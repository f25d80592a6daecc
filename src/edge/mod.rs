//! The edge layer: personalized HTML streamed from a CDN worker (Cloudflare
//! Workers through wasm, Fastly Compute natively for `wasm32-wasip1`). Behind the
//! `edge` feature; never in the browser build.
//!
//! One request, on every platform:
//! 1. [`EdgeEngine::origin_cookie_header`]: the `Cookie` header the origin gets
//!    (without the profile cookie unless the config says otherwise);
//! 2. [`EdgeEngine::respond`] with the origin's response head: either
//!    [`EdgeResponse::PassThrough`] (the response goes on untouched) or a
//!    [`Personalization`]: header changes (cache safety, `Set-Cookie`) and a
//!    [`StreamRewriter`] for the body;
//! 3. the body's chunks through [`StreamRewriter::write`] and [`StreamRewriter::end`].

pub mod cache;
pub mod handoff;
pub mod request;
pub mod response;
pub mod rewrite;

use crate::core::condition::attribute_tests;
use crate::core::config::{ConfigError, ConfigErrors, ConsentLevel, Content};
use crate::core::consent::{StorageVerdict, STORED_WITHOUT_ANSWER};
use crate::core::cookies::set_cookie_value;
use crate::core::engine::{CookieWrite, Engine, PageViewInput};
use crate::core::html::escape_html;
use crate::core::pattern::PatternEngine;
use crate::core::plan::PagePlan;
use crate::core::profile::codec::SigningKey;
use crate::core::template::Template;
pub use cache::HeaderChanges;
pub use handoff::Handoff;
pub use request::EdgeRequest;
pub use response::{PageCharset, PassReason, ResponseHead};
pub use rewrite::{Insertions, RewriteLimits, StreamRewriter};
use serde::Serialize;

/// Options of the platform layer (not of the site's config).
#[derive(Debug, Clone, Copy, Default)]
pub struct EdgeOptions {
    /// Add the explain header (which experience each slot shows; config ids only).
    pub explain_header: bool,
    /// Memory bounds of one response.
    pub limits: RewriteLimits,
}

/// A loaded config with the edge's signing keys, ready for requests.
#[derive(Debug)]
pub struct EdgeEngine {
    engine: Engine,
    selectors: rewrite::ParsedSelectors,
    keys: Vec<SigningKey>,
    options: EdgeOptions,
    /// The slots with `keepDefault`, read from the config once.
    default_slots: Vec<String>,
}

/// What to do with one origin response.
#[derive(Debug)]
pub enum EdgeResponse {
    /// Send the origin's response on untouched.
    PassThrough(PassReason),
    /// Change the headers and stream the body through the rewriter.
    Personalize(Box<Personalization>),
}

/// A personalized response.
#[derive(Debug)]
pub struct Personalization {
    /// How the origin's headers change.
    pub headers: HeaderChanges,
    /// The body's rewriter.
    pub rewriter: StreamRewriter,
    /// The slots and greetings decided, as `slot=experience` (config ids only), for
    /// logs that must not hold visitor data.
    pub summary: String,
}

impl EdgeEngine {
    /// Loads a config for the edge. Besides the usual validation, every selector
    /// must be one the streaming rewriter can run, and a config that requires signed
    /// cookies needs a valid key to sign them with.
    ///
    /// # Errors
    /// Every problem, each naming the rule and the selector.
    pub fn from_json(
        json: &str,
        patterns: &dyn PatternEngine,
        keys: Vec<SigningKey>,
        options: EdgeOptions,
    ) -> Result<EdgeEngine, ConfigErrors> {
        let engine = Engine::from_json(json, patterns)?;
        let mut problems = edge_selector_problems(&engine);
        if engine.config().site.cookie.require_signature && !keys.iter().any(SigningKey::is_valid) {
            problems.push(ConfigError {
                path: "cookie.requireSignature".into(),
                message: "the edge has no valid signing key (Cloudflare: EDGE_PERSONA_KEYS; \
                          Fastly: `signing_keys`): every profile cookie would be refused as \
                          unsigned and every visitor would be new on every page"
                    .into(),
            });
        }
        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
        let selectors = rewrite::ParsedSelectors::new(config_selectors(&engine).map(|(_, s)| s));
        let default_slots = engine
            .config()
            .site
            .slots
            .iter()
            .filter(|(_, slot)| slot.keep_default)
            .map(|(name, _)| name.clone())
            .collect();
        Ok(EdgeEngine {
            engine,
            selectors,
            keys,
            options,
            default_slots,
        })
    }

    /// The core engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The `Cookie` header to send to the origin (`None`: send none).
    pub fn origin_cookie_header(&self, header: Option<&[u8]>) -> Option<Vec<u8>> {
        let cookie = &self.engine.config().site.cookie;
        request::origin_cookie(header?, &cookie.name, cookie.forward_to_origin)
    }

    /// Decides what to do with the origin's response to `request`: pass it
    /// through, or rewrite it with a [`StreamRewriter`].
    pub fn respond(&self, request: &EdgeRequest, head: &ResponseHead) -> EdgeResponse {
        let decided = self.decide(request, head);
        let (Some(plan), Some(charset)) = (&decided.plan, decided.charset) else {
            return EdgeResponse::PassThrough(decided.pass.unwrap_or(PassReason::Config));
        };
        let insertions = Insertions {
            handoff: decided.handoff,
            popups: decided.popups,
            default_slots: self.default_slots.clone(),
            narrow_hiding_style: decided.narrow_hiding_style,
        };
        // A second, independent nonce for the markers (the visitor id used the
        // entropy as it came).
        let marker_nonce = request.entropy.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15;
        let rewriter = StreamRewriter::new(
            plan,
            insertions,
            &self.selectors,
            charset,
            self.options.limits,
            marker_nonce,
        );
        match rewriter {
            Ok(rewriter) => EdgeResponse::Personalize(Box::new(Personalization {
                headers: decided.headers,
                rewriter,
                summary: decided.summary,
            })),
            Err(_) => EdgeResponse::PassThrough(PassReason::Charset),
        }
    }

    /// The decision for the origin's response to `request`, without a rewriter:
    /// for platforms that rewrite with their own engine (Cloudflare's native
    /// `HTMLRewriter`), and the first half of [`EdgeEngine::respond`].
    pub fn decide(&self, request: &EdgeRequest, head: &ResponseHead) -> Decided {
        let prefetch = request.is_prefetch();
        let fetched_by_script = !prefetch && !request.is_navigation();
        let charset = match response::rewritable(&request.method, head) {
            Ok(charset) => charset,
            // A page a script fetched, whatever else keeps it from being rewritten
            // (compressed, say): it varies by Sec-Fetch-Dest all the same.
            Err(PassReason::Encoded | PassReason::NoTransform | PassReason::Charset)
                if fetched_by_script =>
            {
                return Decided::pass(PassReason::NotNavigation)
            }
            Err(reason) => return Decided::pass(reason),
        };
        if fetched_by_script {
            return Decided::pass(PassReason::NotNavigation);
        }
        let site = &self.engine.config().site;
        let facts = request.facts(&site.read_cookies);
        let cookie = request.profile_cookie(&site.cookie.name);
        // The edge has no consent platform: a profile cookie is only ever written
        // where storage was allowed, and it remembers the answer it was written
        // under (or that there was none: `STORED_WITHOUT_ANSWER`, no grant). Decoded
        // once, for that and for the page view.
        let decoded = cookie.as_deref().map(|value| {
            self.engine
                .read_profile(Some(value), facts.now_ms, request.entropy, &self.keys)
        });
        let stored = decoded
            .as_ref()
            .map(|(profile, _)| profile)
            .filter(|profile| profile.visits > 0);
        let consent = stored.and_then(|profile| ConsentLevel::from_stored(profile.consent));
        // A profile the page's runtime stored, with an answer or where the config's
        // mode needed none: storage was allowed there.
        let stored_by_page = stored
            .is_some_and(|profile| consent.is_some() || profile.consent == STORED_WITHOUT_ANSWER);
        // Storage left to the page's runtime: nothing is stored now, and the hand-off
        // tells the runtime that this page view is still to be recorded.
        let left_to_page = if prefetch {
            // It may never be shown.
            Some("fetched ahead of a navigation (prefetch): the page view is recorded when the page is shown")
        } else if site.consent.consent_on_page && !stored_by_page {
            // Only the page can see whether its consent platform allows storage.
            Some("the page's consent platform decides: its runtime records the page view once storage is allowed")
        } else {
            None
        };
        let input = PageViewInput {
            facts: &facts,
            cookie: cookie.as_deref(),
            consent,
            entropy: request.entropy,
            keys: &self.keys,
            explain: false,
            // Left to the page, a new visitor's id is the runtime's, not this one.
            new_profile_kept: left_to_page.is_none(),
        };
        let mut view = self.engine.page_view_decoded(input, decoded);
        if let Some(reason) = left_to_page.filter(|_| view.storage.allowed) {
            view.storage = StorageVerdict {
                allowed: false,
                reason,
                withdrawn: false,
            };
            view.cookie = CookieWrite::Unchanged;
        }
        let plan = rewrite::with_changes_inside_content(
            PagePlan::from_decision(&view.decision),
            &self.selectors,
        );
        let summary = summarize(&plan);
        let nonce = head
            .content_security_policy
            .as_deref()
            .and_then(response::csp_nonce);
        let handoff = handoff::handoff_element(
            &Handoff {
                version: 1,
                decision: &view.decision,
                storage: &view.storage,
                cookie_status: &view.cookie_status,
            },
            nonce,
            charset.may_not_be_utf8(),
        );
        let set_cookie = set_cookie_value(&view.cookie, request.is_https());
        let explain = self.options.explain_header.then(|| summary.clone());
        Decided {
            pass: None,
            headers: HeaderChanges::personalized(set_cookie, explain),
            popups: plan.popups.iter().filter_map(popup_template).collect(),
            plan: Some(plan),
            handoff: Some(handoff),
            summary,
            charset: Some(charset),
            narrow_hiding_style: !head
                .content_security_policy
                .as_deref()
                .is_some_and(response::csp_allows_styles_by_hash),
        }
    }
}

/// A decision for one response, before any rewriting.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decided {
    /// Why the response passes through untouched (then nothing else is set).
    pub pass: Option<PassReason>,
    /// How the origin's headers change.
    pub headers: HeaderChanges,
    /// What the page shows.
    pub plan: Option<PagePlan>,
    /// The hand-off element (HTML), for the end of `<body>`. Not in the JSON form
    /// (it would be escaped a second time): platforms take it as it is.
    #[serde(skip)]
    pub handoff: Option<String>,
    /// Popup contents as `<template data-ep-popup>` elements, for the end of `<body>`.
    pub popups: Vec<String>,
    /// Which rule fills each slot (config ids only), for logs.
    pub summary: String,
    /// The response's character set.
    #[serde(skip)]
    pub charset: Option<response::PageCharset>,
    /// Whether the head snippet's hiding style may be narrowed to the slots left
    /// to the runtime: not where the page's CSP allows it by its hash.
    pub narrow_hiding_style: bool,
}

impl Decided {
    fn pass(reason: PassReason) -> Decided {
        Decided {
            pass: Some(reason),
            headers: HeaderChanges::passed_through(reason),
            plan: None,
            handoff: None,
            popups: Vec::new(),
            summary: String::new(),
            charset: None,
            narrow_hiding_style: false,
        }
    }
}

/// `hero=hero-newcomer, offers=default, greeting=greet-back`: which rule fills each
/// slot, by config id.
fn summarize(plan: &PagePlan) -> String {
    let slots = plan
        .slots
        .iter()
        .map(|s| format!("{}={}", s.slot, s.key.as_deref().unwrap_or("default")));
    let greetings = plan
        .greetings
        .iter()
        .map(|g| format!("{}={}", g.slot, g.greeting));
    slots.chain(greetings).collect::<Vec<_>>().join(", ")
}

/// A popup's content for the browser runtime, as an inert `<template>` the runtime
/// clones when the trigger fires (no HTML string parsing in the page, so it works
/// under Trusted Types). Popups that name a page template need nothing.
fn popup_template(popup: &crate::core::plan::PopupPlan) -> Option<String> {
    let body = match &popup.content {
        Content {
            template: Some(_), ..
        } => return None,
        Content {
            html: Some(html), ..
        } => html.clone(),
        Content {
            text: Some(text), ..
        } => escape_html(text),
        _ => return None,
    };
    Some(format!(
        "<template data-ep-popup=\"{}\">{body}</template>",
        escape_html(&popup.id)
    ))
}

/// Every selector of the config with its JSON path: the slots' and the attribute
/// changes'.
fn config_selectors(engine: &Engine) -> impl Iterator<Item = (String, &str)> {
    let site = &engine.config().site;
    let slots = engine
        .config()
        .slot_selectors()
        .map(|(name, selector)| (format!("slots.{name}.selector"), selector));
    let attributes = site.experiences.iter().enumerate().flat_map(|(i, e)| {
        e.set_attributes.iter().enumerate().map(move |(j, a)| {
            (
                format!("experiences[{i}].setAttributes[{j}].selector"),
                a.selector.as_str(),
            )
        })
    });
    slots.chain(attributes)
}

/// Rules that read what only the page knows (`page.*`, the page view's `events`),
/// each with its JSON path: at the edge those read as null and empty, and the
/// browser takes the edge's decision over, so such a rule decides only in the
/// browser (pages the edge does not personalize, SPA routes). `edge-persona check
/// --edge` prints them as notes.
pub fn browser_only_rules(engine: &Engine) -> Vec<ConfigError> {
    let site = &engine.config().site;
    let mut notes = Vec::new();
    let mut note = |path: String, what: &str| {
        notes.push(ConfigError {
            path,
            message: format!(
                "reads {what}, which the edge does not see (null or empty there): this rule decides only in the browser"
            ),
        });
    };
    let conditions = site
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("segments[{i}].when"), Some(&s.when)))
        .chain(
            site.experiences
                .iter()
                .enumerate()
                .map(|(i, e)| (format!("experiences[{i}].when"), e.when.as_ref())),
        )
        .chain(
            site.greetings
                .iter()
                .enumerate()
                .map(|(i, g)| (format!("greetings[{i}].when"), g.when.as_ref())),
        )
        .chain(
            site.popups
                .iter()
                .enumerate()
                .map(|(i, p)| (format!("popups[{i}].when"), p.when.as_ref())),
        );
    for (path, when) in conditions {
        let page_only = when
            .into_iter()
            .flat_map(attribute_tests)
            .find(|(attribute, _)| {
                *attribute == "events" || *attribute == "page" || attribute.starts_with("page.")
            });
        if let Some((attribute, _)) = page_only {
            note(path, &format!("`{attribute}`"));
        }
    }
    let texts = site
        .experiences
        .iter()
        .enumerate()
        .flat_map(|(i, e)| {
            let content = e.content.as_ref().and_then(|c| c.text.as_deref());
            let values = e.set_attributes.iter().enumerate().map(move |(j, a)| {
                (
                    format!("experiences[{i}].setAttributes[{j}].value"),
                    Some(a.value.as_str()),
                )
            });
            std::iter::once((format!("experiences[{i}].content.text"), content)).chain(values)
        })
        .chain(site.greetings.iter().enumerate().map(|(i, g)| {
            (
                format!("greetings[{i}].template"),
                Some(g.template.as_str()),
            )
        }))
        .chain(site.popups.iter().enumerate().map(|(i, p)| {
            (
                format!("popups[{i}].content.text"),
                p.content.text.as_deref(),
            )
        }));
    for (path, text) in texts {
        // Parsed as the engine reads it, so `{{page.x}}` (literal braces) is no field.
        let reads_page = text
            .and_then(|t| Template::parse(t).ok())
            .is_some_and(|t| t.fields().any(|field| field.starts_with("page.")));
        if reads_page {
            note(path, "a `{page.…}` placeholder");
        }
    }
    notes
}

/// Every selector of the config that is broken CSS (no browser runs it either), each
/// with its JSON path: `edge-persona check` fails on them.
pub fn broken_selectors(engine: &Engine) -> Vec<ConfigError> {
    config_selectors(engine)
        .filter_map(|(path, selector)| {
            rewrite::broken_selector(selector).map(|message| ConfigError { path, message })
        })
        .collect()
}

/// Every selector of the config that the streaming rewriter cannot run, each with
/// its JSON path.
pub fn edge_selector_problems(engine: &Engine) -> Vec<ConfigError> {
    config_selectors(engine)
        .filter_map(|(path, selector)| {
            rewrite::unsupported_selector(selector).map(|message| ConfigError { path, message })
        })
        .collect()
}
