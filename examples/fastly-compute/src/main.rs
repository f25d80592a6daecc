//! edge-persona on Fastly Compute: the origin's HTML, personalized while it streams
//! through the edge.
//!
//! One request (a Compute instance lives for one request, so the config is loaded
//! for each):
//! 1. the config and signing keys come from the Config Store `edge_persona`
//!    (keys `config`, `signing_keys`, `explain_header`); without a config there, the
//!    demo's config built into the program is used;
//! 2. the request goes to the backend `origin`, without the profile cookie; a page
//!    request (a navigation, or one that accepts HTML) asks for gzip or nothing, so
//!    that a compressing origin's page can be rewritten;
//! 3. the engine decides from the origin's response head: anything that is not a
//!    full HTML page passes through untouched (gzip and all); a page gets the
//!    cache-safety headers and its body streams through the rewriter chunk by chunk,
//!    gzip decoded on the way, and Fastly compresses it again towards the visitor
//!    (`x-compress-hint`).
//!
//! Nothing here panics on the request path, and nothing logged holds visitor data.

use edge_persona::core::pattern::default_engine;
use edge_persona::core::profile::codec::SigningKey;
use edge_persona::edge::request::{
    origin_cookie_without_engine, origin_request_headers, OriginRequestHeaders,
};
use edge_persona::edge::{
    EdgeEngine, EdgeOptions, EdgeRequest, EdgeResponse, HeaderChanges, Personalization,
    ResponseHead,
};
use fastly::config_store::{ConfigStore, OpenError};
use fastly::http::body::StreamingBody;
use fastly::http::header::{
    ACCEPT, ACCEPT_ENCODING, ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_RANGE,
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, REFERER, USER_AGENT, VARY,
};
use fastly::http::{HeaderName, HeaderValue, StatusCode};
use fastly::{Request, Response};
use flate2::bufread::MultiGzDecoder;
use std::io::{BufReader, ErrorKind, Read, Write};
use std::time::{SystemTime, UNIX_EPOCH};

mod geo;

/// The backend the pages come from.
const BACKEND: &str = "origin";
/// The Config Store with the site's config and the edge's settings.
const CONFIG_STORE: &str = "edge_persona";
/// The config used when the Config Store has none: the demo site's.
const DEMO_CONFIG: &str = include_str!("../../../www/demo/config.json");
/// How much of the origin's body is read at a time.
const CHUNK_BYTES: usize = 8192;

fn main() {
    let client = Request::from_client();
    let settings = Settings::load();
    match load_engine(&settings) {
        Some(engine) => personalize(&engine, client),
        None => pass_through(&settings, client),
    }
}

/// Whether this runs under Viceroy, the local Fastly runtime (which names the host
/// `localhost`): only there may a missing site config mean the built-in demo's.
fn running_locally() -> bool {
    std::env::var("FASTLY_HOSTNAME").is_ok_and(|host| host == "localhost")
}

/// What the Config Store holds (each key optional).
struct Settings {
    config: Option<String>,
    signing_keys: Option<String>,
    explain_header: bool,
    /// A key that could not be read (a lookup error, not a missing key): the
    /// settings are not the site's, so requests pass through.
    unreadable: Option<String>,
}

impl Settings {
    fn load() -> Settings {
        let unreadable = std::cell::RefCell::new(None);
        let store = match ConfigStore::try_open(CONFIG_STORE) {
            Ok(store) => Some(store),
            // Not linked, under Viceroy (the local demo): the demo config built in.
            Err(OpenError::ConfigStoreDoesNotExist) if running_locally() => {
                log(&format!(
                    "config store {CONFIG_STORE:?} not linked: using the built-in demo config"
                ));
                None
            }
            Err(error) => {
                *unreadable.borrow_mut() = Some(format!(
                    "config store {CONFIG_STORE:?} cannot be opened ({error})"
                ));
                None
            }
        };
        let get = |key: &str| -> Option<String> {
            let store = store.as_ref()?;
            match store.try_get(key) {
                Ok(value) => value,
                Err(error) => {
                    *unreadable.borrow_mut() = Some(format!(
                        "config store {CONFIG_STORE:?}, key {key:?}: {error}"
                    ));
                    None
                }
            }
        };
        let config = get("config").filter(|c| !c.trim().is_empty());
        // On Fastly, a site with no config of its own passes through: never the demo's.
        if config.is_none() && store.is_some() && !running_locally() {
            unreadable
                .borrow_mut()
                .get_or_insert_with(|| format!("config store {CONFIG_STORE:?} has no `config`"));
        }
        let signing_keys = get("signing_keys").filter(|k| !k.trim().is_empty());
        let explain_header = get("explain_header").is_some_and(|v| v.trim() == "true");
        Settings {
            config,
            signing_keys,
            explain_header,
            unreadable: unreadable.into_inner(),
        }
    }

    /// The site's config text: the Config Store's, else (only under Viceroy, see
    /// `load`) the built-in demo config.
    fn config_json(&self) -> &str {
        self.config.as_deref().unwrap_or(DEMO_CONFIG)
    }
}

/// The engine for this request, or `None` (logged) when the config, or the signing
/// keys it is given, cannot be used: a store that could not be read must not mean
/// the demo config, nor signing keys that cannot be read mean no signature checks.
fn load_engine(settings: &Settings) -> Option<EdgeEngine> {
    if let Some(problem) = &settings.unreadable {
        log(&format!(
            "{problem}: every request passes through untouched"
        ));
        return None;
    }
    let keys = match settings.signing_keys.as_deref().map(signing_keys) {
        None => Some(Vec::new()),
        Some(Ok(keys)) => Some(keys),
        Some(Err(error)) => {
            // The message names the rule a key breaks, never a secret.
            log(&format!(
                "signing_keys cannot be used ({error}): every request passes through untouched"
            ));
            None
        }
    };
    let options = EdgeOptions {
        explain_header: settings.explain_header,
        ..EdgeOptions::default()
    };
    // The config is checked even when the keys failed, so that the log names both.
    let engine = EdgeEngine::from_json(
        settings.config_json(),
        default_engine(),
        keys.clone().unwrap_or_default(),
        options,
    );
    match engine {
        Ok(engine) => keys.map(|_| engine),
        Err(errors) => {
            log(&format!(
                "the config cannot be used, every request passes through untouched: {errors}"
            ));
            None
        }
    }
}

/// The signing keys of `[{"id":"k1","secret":"…"}]`, or why the list cannot be used
/// (it does not parse, or a key in it is bad): all of them or none, since a
/// half-applied key list would reject cookies signed with the missing keys.
fn signing_keys(json: &str) -> Result<Vec<SigningKey>, String> {
    let parsed: Result<Vec<SigningKey>, String> = serde_json::from_str::<serde_json::Value>(json)
        .map_err(|e| format!("not JSON: {e}"))
        .and_then(|value| {
            let list = value
                .as_array()
                .ok_or_else(|| "expected an array of {\"id\", \"secret\"}".to_string())?;
            list.iter()
                .enumerate()
                .map(|(i, entry)| {
                    let id = entry.get("id").and_then(|v| v.as_str());
                    let secret = entry.get("secret").and_then(|v| v.as_str());
                    match (id, secret) {
                        (Some(id), Some(secret)) => SigningKey::new(id, secret.as_bytes())
                            .map_err(|e| format!("key {i}: {e}")),
                        _ => Err(format!("key {i}: expected string \"id\" and \"secret\"")),
                    }
                })
                .collect()
        });
    parsed
}

/// No usable config: the response passes through untouched, and the request too but
/// for the profile cookie, which still stays at the edge.
fn pass_through(settings: &Settings, mut client: Request) {
    let cookie = cookie_header_bytes(&client);
    // Only the site's own config text names its cookie (never the demo's): without
    // it, any cookie that reads as a profile stays at the edge.
    let config_text = settings.config.as_deref().unwrap_or_default();
    set_origin_cookie(
        &mut client,
        origin_cookie_without_engine(config_text, cookie.as_deref()),
    );
    match client.send(BACKEND) {
        Ok(response) => response.send_to_client(),
        Err(error) => bad_gateway(&error.to_string()),
    }
}

/// The client's `Cookie` header lines as they came, joined: bytes, since a legacy
/// cookie may not be UTF-8 and the origin must get it unchanged.
fn cookie_header_bytes(client: &Request) -> Option<Vec<u8>> {
    let lines: Vec<&[u8]> = client
        .get_header_all(COOKIE)
        .map(HeaderValue::as_bytes)
        .collect();
    (!lines.is_empty()).then(|| lines.join(&b"; "[..]))
}

/// Sets the request's `Cookie` header to `value`, or removes it.
fn set_origin_cookie(client: &mut Request, value: Option<Vec<u8>>) {
    match value.and_then(|value| HeaderValue::from_bytes(&value).ok()) {
        Some(value) => client.set_header(COOKIE, value),
        None => {
            client.remove_header(COOKIE);
        }
    }
}

fn personalize(engine: &EdgeEngine, mut client: Request) {
    let request = edge_request(&client);

    // The origin gets the request without the profile cookie (unless the config
    // forwards it).
    let cookie = cookie_header_bytes(&client);
    set_origin_cookie(&mut client, engine.origin_cookie_header(cookie.as_deref()));
    // A page request: gzip (which this program decodes) or nothing, never an
    // encoding the rewriter cannot read such as brotli; no cache validators.
    if let Some(changes) = origin_request_changes(&client, &request) {
        client.set_header(
            ACCEPT_ENCODING,
            HeaderValue::from_static(changes.accept_encoding),
        );
        for name in changes.remove {
            client.remove_header(*name);
        }
    }
    let mut origin = match client.send(BACKEND) {
        Ok(response) => response,
        Err(error) => return bad_gateway(&error.to_string()),
    };

    let mut head = response_head(&origin);
    let gzipped = head
        .content_encoding
        .as_deref()
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("gzip"));
    if gzipped {
        // The rewriter reads the page decoded.
        head.content_encoding = None;
    }
    let mut personalization = match engine.respond(&request, &head) {
        EdgeResponse::PassThrough(reason) => {
            apply_header_changes(&mut origin, &HeaderChanges::passed_through(reason));
            return origin.send_to_client();
        }
        EdgeResponse::Personalize(p) => p,
    };
    let mut body = origin.take_body();
    let start = if gzipped {
        // A body labelled gzip that is not (empty, or plain) cannot be decoded: it
        // goes out as the origin sent it, before any header of ours is set.
        let start = first_bytes(&mut body, GZIP_MAGIC.len());
        if !start.starts_with(&GZIP_MAGIC) {
            origin.set_body(start);
            origin.append_body(body);
            return origin.send_to_client();
        }
        start
    } else {
        Vec::new()
    };
    apply_header_changes(&mut origin, &personalization.headers);
    // The body leaves decoded (`identity` included); Fastly may compress it again.
    origin.remove_header(CONTENT_ENCODING);
    // A new body for this visitor alone: Fastly compresses it towards the visitor
    // if the visitor accepts that, and its encoding depends on Accept-Encoding.
    origin.set_header(
        HeaderName::from_static("x-compress-hint"),
        HeaderValue::from_static("on"),
    );
    origin.append_header(VARY, HeaderValue::from_static("Accept-Encoding"));
    let client_body = origin.stream_to_client();
    // Decoded a piece at a time: memory stays bounded however well the page
    // compresses (one gzip chunk can inflate a thousandfold).
    let source: Box<dyn Read> = if gzipped {
        Box::new(MultiGzDecoder::new(BufReader::with_capacity(
            CHUNK_BYTES,
            std::io::Cursor::new(start).chain(body),
        )))
    } else {
        Box::new(body)
    };
    stream_body(&mut personalization, source, client_body);
}

/// The two bytes every gzip member starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Up to `wanted` bytes from the start of `body` (fewer only at its end, or on a read
/// error), read off it.
fn first_bytes(body: &mut impl Read, wanted: usize) -> Vec<u8> {
    let mut start = Vec::with_capacity(wanted);
    let _ = body.take(wanted as u64).read_to_end(&mut start);
    start
}

/// How a request for a page goes to the origin (`None`: as it came), by the same
/// rule as the Cloudflare layer's. `request` is what the engine read of `client`.
fn origin_request_changes(client: &Request, request: &EdgeRequest) -> Option<OriginRequestHeaders> {
    let encodings = client.get_header_all_str_lossy(ACCEPT_ENCODING);
    let encodings: Vec<&str> = encodings.iter().map(|e| e.as_ref()).collect();
    origin_request_headers(
        &request.method,
        request.fetch_dest.as_deref(),
        request.purpose.as_deref(),
        client.get_header_str_lossy(ACCEPT).as_deref(),
        &encodings,
    )
}

/// The origin's body (`source`: gzip already decoded) through the rewriter, at most
/// `CHUNK_BYTES` at a time, each piece's output sent on at once. A body the origin
/// did not deliver whole (a read error, damaged gzip) ends the visitor's response
/// with an error too, after what was rewritten so far, so that neither the browser
/// nor a cache takes a cut page for a complete one.
fn stream_body(p: &mut Personalization, mut source: Box<dyn Read>, mut client: StreamingBody) {
    let mut buffer = vec![0; CHUNK_BYTES];
    let mut origin_complete = true;
    loop {
        let read = match source.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => {
                log(&format!(
                    "the origin's body could not be read whole (a read error or damaged gzip): {error}"
                ));
                origin_complete = false;
                break;
            }
        };
        let out = p.rewriter.write(buffer.get(..read).unwrap_or_default());
        if send(&mut client, &out).is_err() {
            log("the client went away");
            let _ = client.abandon();
            return;
        }
    }
    // The rewriter's end settles every held slot, so what the visitor gets stays
    // well-formed as far as it goes.
    let rest = p.rewriter.end();
    if let Some(failure) = p.rewriter.failure() {
        log(failure);
    }
    let sent = send(&mut client, &rest);
    if sent.is_err() {
        log("the client went away");
        let _ = client.abandon();
    } else if !origin_complete {
        let _ = client.abandon();
    } else if client.finish().is_err() {
        log("the client went away");
    }
}

fn send(client: &mut StreamingBody, bytes: &[u8]) -> std::io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    client.write_all(bytes)?;
    client.flush()
}

/// What the engine reads of the client's request.
fn edge_request(client: &Request) -> EdgeRequest {
    let header = |name: HeaderName| -> Option<String> {
        client
            .get_header_str_lossy(name)
            .map(|v| v.into_owned())
            .filter(|v| !v.is_empty())
    };
    let cookies = client.get_header_all_str_lossy(COOKIE);
    let cookie = (!cookies.is_empty()).then(|| cookies.join("; "));
    let geo = client.get_client_ip_addr().and_then(geo::lookup);
    let utc_offset_minutes = geo.as_ref().and_then(|g| g.utc_offset_minutes).unwrap_or(0);
    EdgeRequest {
        method: client.get_method_str().to_string(),
        url: absolute_url(client),
        cookie,
        user_agent: header(USER_AGENT),
        accept_language: header(ACCEPT_LANGUAGE),
        referer: header(REFERER),
        global_privacy_control: EdgeRequest::gpc_header(
            client
                .get_header_str_lossy(HeaderName::from_static("sec-gpc"))
                .as_deref(),
        ),
        fetch_dest: header(HeaderName::from_static("sec-fetch-dest")),
        purpose: ["sec-purpose", "purpose", "x-purpose", "x-moz"]
            .into_iter()
            .find_map(|name| header(HeaderName::from_static(name))),
        geo: geo.map(|g| g.place),
        utc_offset_minutes,
        now_ms: now_ms(),
        entropy: entropy(),
    }
}

/// The request's absolute URL, `https` when the client came over TLS (the profile
/// cookie is then `Secure`).
fn absolute_url(client: &Request) -> String {
    let url = client.get_url_str();
    match url.strip_prefix("http://") {
        Some(rest) if client.get_tls_protocol_bytes().is_some() => format!("https://{rest}"),
        _ => url.to_string(),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Random bits from WASI's `random_get`; should that ever fail, the clock's
/// nanoseconds mixed (a visitor id then is merely unlikely to repeat).
fn entropy() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mut z = nanos.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

/// What the engine reads of the origin's response. Headers that may come more than
/// once are joined as one list.
fn response_head(origin: &Response) -> ResponseHead {
    let joined = |name: HeaderName| -> Option<String> {
        let values = origin.get_header_all_str_lossy(name);
        (!values.is_empty()).then(|| values.join(", "))
    };
    ResponseHead {
        status: origin.get_status().as_u16(),
        // All its lines, as Cloudflare's `Headers.get` gives them: two lines are not
        // one HTML type, and the page passes through on both platforms.
        content_type: joined(CONTENT_TYPE),
        content_encoding: joined(CONTENT_ENCODING),
        content_range: origin.contains_header(CONTENT_RANGE),
        cache_control: joined(CACHE_CONTROL),
        content_security_policy: joined(CONTENT_SECURITY_POLICY),
    }
}

/// Removes, sets and appends, in that order (`Set-Cookie` is appended beside the
/// origin's own). A header the HTTP library refuses is skipped and logged by name.
fn apply_header_changes(response: &mut Response, changes: &HeaderChanges) {
    for name in &changes.remove {
        if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
            response.remove_header(name);
        }
    }
    let parsed = |name: &str, value: &str| -> Option<(HeaderName, HeaderValue)> {
        let pair = HeaderName::from_bytes(name.as_bytes())
            .ok()
            .zip(HeaderValue::from_str(value).ok());
        if pair.is_none() {
            log(&format!("header {name:?} skipped: not a valid header"));
        }
        pair
    };
    for (name, value) in &changes.set {
        if let Some((name, value)) = parsed(name, value) {
            response.set_header(name, value);
        }
    }
    for (name, value) in &changes.append {
        if let Some((name, value)) = parsed(name, value) {
            response.append_header(name, value);
        }
    }
}

fn bad_gateway(error: &str) {
    log(&format!("the origin could not be reached: {error}"));
    Response::from_status(StatusCode::BAD_GATEWAY)
        .with_header(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )
        .with_header(CACHE_CONTROL, HeaderValue::from_static("no-store"))
        .with_body("502 Bad Gateway: the origin could not be reached.\n")
        .send_to_client();
}

/// One line on stderr (Viceroy prints it; on Fastly it goes to the service's log
/// tail). Never visitor data: config ids, header names and error kinds only.
fn log(message: &str) {
    eprintln!("edge-persona: {message}");
}
