//! The Cloudflare Worker's wasm exports (feature `cloudflare`): the edge layer for
//! JavaScript workers (`js/cloudflare.js`), and for the local edge that serves the
//! demo from Node. wasm-bindgen only, no web-sys: a worker has no DOM.
//!
//! Values cross as JSON text; body chunks as bytes. Nothing here panics: a bad
//! config or request is a `JsError`, and the JS side then passes the origin's
//! response through untouched.
#![deny(unsafe_code)]

use crate::core::pattern::default_engine;
use crate::core::profile::codec::SigningKey;
use crate::core::snippet::{hiding_style_for_pending, PENDING_ATTRIBUTE, RUNTIME_MARKERS};
use crate::edge::request::origin_request_headers;
use crate::edge::{
    EdgeEngine, EdgeOptions, EdgeRequest, EdgeResponse, HeaderChanges, ResponseHead, StreamRewriter,
};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

/// A signing key as the worker's secrets give it.
#[derive(Deserialize)]
struct KeyInput {
    id: String,
    secret: String,
}

/// The engine for one worker isolate: load once, use for every request.
#[wasm_bindgen]
pub struct EdgeWorker {
    engine: EdgeEngine,
}

#[wasm_bindgen]
impl EdgeWorker {
    /// Loads `config_json`; `keys_json` is `[{"id":"k1","secret":"…"}]` or empty.
    ///
    /// # Errors
    /// Every config problem (including selectors the streaming rewriter cannot run)
    /// or a bad key, as one message.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config_json: &str,
        keys_json: Option<String>,
        explain_header: bool,
    ) -> Result<EdgeWorker, JsError> {
        let keys = match keys_json.as_deref().map(str::trim) {
            None | Some("") => Vec::new(),
            Some(json) => serde_json::from_str::<Vec<KeyInput>>(json)
                .map_err(|e| JsError::new(&format!("signing keys: {e}")))?
                .into_iter()
                .map(|k| {
                    SigningKey::new(&k.id, k.secret.as_bytes())
                        .map_err(|e| JsError::new(&format!("signing key {:?}: {e}", k.id)))
                })
                .collect::<Result<_, _>>()?,
        };
        let options = EdgeOptions {
            explain_header,
            ..EdgeOptions::default()
        };
        let engine = EdgeEngine::from_json(config_json, default_engine(), keys, options)
            .map_err(|e| JsError::new(e.to_string().trim_end()))?;
        Ok(EdgeWorker { engine })
    }

    /// The `Cookie` header for the origin (`undefined`: send none).
    #[wasm_bindgen(js_name = originCookie)]
    pub fn origin_cookie(&self, header: Option<String>) -> Option<String> {
        // JS strings in, so only cut at ASCII `;`: the result is the same text.
        self.engine
            .origin_cookie_header(header.as_deref().map(str::as_bytes))
            .map(|kept| String::from_utf8_lossy(&kept).into_owned())
    }

    /// How a request's headers change on the way to the origin, beside `Cookie`:
    /// `{"acceptEncoding": "gzip", "remove": ["if-none-match", …]}` for a page
    /// request the edge may personalize, `undefined` for one that goes as it came
    /// (see [`origin_request_headers`]).
    #[wasm_bindgen(js_name = originRequestHeaders)]
    pub fn origin_request_headers(
        &self,
        method: &str,
        fetch_dest: Option<String>,
        purpose: Option<String>,
        accept: Option<String>,
        accept_encoding: Option<String>,
    ) -> Option<String> {
        let changes = origin_request_headers(
            method,
            fetch_dest.as_deref(),
            purpose.as_deref(),
            accept.as_deref(),
            accept_encoding
                .as_slice()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
        )?;
        serde_json::to_string(&changes).ok()
    }

    /// Decides what to do with the origin's response. `request_json` and
    /// `head_json` follow [`EdgeRequest`] and [`ResponseHead`] (camelCase);
    /// `entropy_hi`/`entropy_lo` are 64 random bits from `crypto.getRandomValues`.
    ///
    /// # Errors
    /// Request or head JSON that does not parse.
    pub fn respond(
        &self,
        request_json: &str,
        head_json: &str,
        entropy_hi: u32,
        entropy_lo: u32,
    ) -> Result<EdgeSession, JsError> {
        let (request, head) = parse_exchange(request_json, head_json, entropy_hi, entropy_lo)?;
        Ok(match self.engine.respond(&request, &head) {
            EdgeResponse::PassThrough(reason) => EdgeSession {
                pass: Some(reason.describe().to_string()),
                headers: HeaderChanges::passed_through(reason),
                summary: String::new(),
                rewriter: None,
            },
            EdgeResponse::Personalize(p) => EdgeSession {
                pass: None,
                headers: p.headers,
                summary: p.summary,
                rewriter: Some(p.rewriter),
            },
        })
    }

    /// Selectors of the elements that show a page runs the browser runtime: a
    /// worker rewriting with its own engine hands the decision over to such a page
    /// even when it changed nothing on it, as the streaming rewriter does.
    #[wasm_bindgen(js_name = runtimeMarkers)]
    pub fn runtime_markers(&self) -> Vec<String> {
        RUNTIME_MARKERS.iter().map(|m| (*m).to_string()).collect()
    }

    /// The head snippet's hiding style (its text) narrowed to the slots the worker
    /// leaves to the browser runtime, marked [`PENDING_ATTRIBUTE`]: see
    /// [`hiding_style_for_pending`].
    #[wasm_bindgen(js_name = hidingStyleForPending)]
    pub fn hiding_style_for_pending(&self, css: &str) -> String {
        hiding_style_for_pending(css)
    }

    /// The attribute that marks a slot left to the browser runtime.
    #[wasm_bindgen(js_name = pendingAttribute)]
    pub fn pending_attribute(&self) -> String {
        PENDING_ATTRIBUTE.to_string()
    }

    /// The decision alone, for a worker that rewrites with Cloudflare's native
    /// `HTMLRewriter`: `json` is `{ pass, headers, plan, popups, summary }`, and
    /// `handoff` the hand-off element's HTML.
    ///
    /// # Errors
    /// Request or head JSON that does not parse.
    pub fn decide(
        &self,
        request_json: &str,
        head_json: &str,
        entropy_hi: u32,
        entropy_lo: u32,
    ) -> Result<EdgeDecision, JsError> {
        let (request, head) = parse_exchange(request_json, head_json, entropy_hi, entropy_lo)?;
        let decided = self.engine.decide(&request, &head);
        Ok(EdgeDecision {
            json: serde_json::to_string(&decided).map_err(|e| JsError::new(&e.to_string()))?,
            handoff: decided.handoff,
        })
    }
}

/// The request and the origin's response head from their JSON, with the entropy.
fn parse_exchange(
    request_json: &str,
    head_json: &str,
    entropy_hi: u32,
    entropy_lo: u32,
) -> Result<(EdgeRequest, ResponseHead), JsError> {
    let mut request: EdgeRequest =
        serde_json::from_str(request_json).map_err(|e| JsError::new(&format!("request: {e}")))?;
    request.entropy = (u64::from(entropy_hi) << 32) | u64::from(entropy_lo);
    let head: ResponseHead = serde_json::from_str(head_json)
        .map_err(|e| JsError::new(&format!("response head: {e}")))?;
    Ok((request, head))
}

/// The `Cookie` header for the origin (`undefined`: send none) when the config did
/// not load: the rule the Fastly program follows too
/// ([`crate::edge::request::origin_cookie_without_engine`]).
#[wasm_bindgen(js_name = originCookieWithoutConfig)]
pub fn origin_cookie_without_config(config_json: &str, header: Option<String>) -> Option<String> {
    crate::edge::request::origin_cookie_without_engine(
        config_json,
        header.as_deref().map(str::as_bytes),
    )
    .map(|kept| String::from_utf8_lossy(&kept).into_owned())
}

/// A decision for a worker that rewrites with its own engine.
#[wasm_bindgen]
pub struct EdgeDecision {
    json: String,
    handoff: Option<String>,
}

#[wasm_bindgen]
impl EdgeDecision {
    /// `{ pass, headers, plan, popups, summary }` as JSON.
    #[wasm_bindgen(getter)]
    pub fn json(&self) -> String {
        self.json.clone()
    }

    /// The hand-off element's HTML (`undefined` when the response passes through).
    #[wasm_bindgen(getter)]
    pub fn handoff(&self) -> Option<String> {
        self.handoff.clone()
    }
}

/// One response: pass through, or header changes and a body rewriter.
#[wasm_bindgen]
pub struct EdgeSession {
    pass: Option<String>,
    headers: HeaderChanges,
    summary: String,
    rewriter: Option<StreamRewriter>,
}

#[wasm_bindgen]
impl EdgeSession {
    /// Why the response passes through untouched; `undefined` when it is rewritten.
    #[wasm_bindgen(getter)]
    pub fn pass(&self) -> Option<String> {
        self.pass.clone()
    }

    /// The header changes as JSON `{ remove: [..], set: [[n, v]..], append: [[n, v]..] }`.
    #[wasm_bindgen(getter)]
    pub fn headers(&self) -> String {
        serde_json::to_string(&self.headers).unwrap_or_else(|_| "{}".into())
    }

    /// Which rule fills each slot (config ids only), for logs.
    #[wasm_bindgen(getter)]
    pub fn summary(&self) -> String {
        self.summary.clone()
    }

    /// Rewrites one body chunk; returns what may be sent now.
    pub fn write(&mut self, chunk: &[u8]) -> Vec<u8> {
        match &mut self.rewriter {
            Some(rewriter) => rewriter.write(chunk),
            None => chunk.to_vec(),
        }
    }

    /// Ends the body; returns the rest.
    pub fn end(&mut self) -> Vec<u8> {
        self.rewriter
            .as_mut()
            .map(StreamRewriter::end)
            .unwrap_or_default()
    }

    /// Why rewriting stopped early, if it did (the rest passed through).
    #[wasm_bindgen(getter)]
    pub fn failure(&self) -> Option<String> {
        self.rewriter
            .as_ref()
            .and_then(|r| r.failure().map(str::to_string))
    }
}
