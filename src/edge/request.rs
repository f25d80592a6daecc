//! What the edge knows about a request, and what it forwards to the origin.

use crate::core::config::CookieSettings;
use crate::core::context::{Geo, RequestFacts};
use crate::core::cookies::read_cookies;
use crate::core::profile::codec::looks_like_profile_cookie;
use std::collections::BTreeMap;

/// The parts of a request the engine reads, filled in by the platform layer
/// (Cloudflare from `Request` and `request.cf`, Fastly from its request and geo
/// lookup). Nothing else of the request is looked at.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EdgeRequest {
    /// `GET`, `HEAD`, …
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// The `Cookie` header.
    pub cookie: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The `Accept-Language` header.
    pub accept_language: Option<String>,
    /// The `Referer` header.
    pub referer: Option<String>,
    /// `Sec-GPC: 1`: the visitor asks not to be tracked.
    pub global_privacy_control: bool,
    /// The `Sec-Fetch-Dest` header: what the browser fetches the response for.
    pub fetch_dest: Option<String>,
    /// Why the browser fetched ahead of time, if it did: the `Sec-Purpose` header
    /// (else the older `Purpose`, `X-Purpose` or `X-Moz`), e.g. `prefetch`.
    pub purpose: Option<String>,
    /// Coarse location from the platform's IP lookup.
    pub geo: Option<Geo>,
    /// The visitor's UTC offset in minutes east of UTC, when the platform knows
    /// their time zone (0 otherwise).
    pub utc_offset_minutes: i32,
    /// Current time, Unix milliseconds.
    pub now_ms: i64,
    /// Random bits from the platform (a new visitor's id, the response's markers).
    /// Not read from JSON: JavaScript numbers cannot hold 64 bits.
    #[serde(skip)]
    pub entropy: u64,
}

impl EdgeRequest {
    /// True for `Sec-GPC` values that mean "on" (the spec's only value is `1`).
    pub fn gpc_header(value: Option<&str>) -> bool {
        value.is_some_and(|v| v.trim() == "1")
    }

    /// The browser fetched the page ahead of a navigation that may never happen
    /// (`<link rel=prefetch>`, speculation rules' prefetch or prerender): it is
    /// personalized, but its page view is left for when the page is shown.
    pub fn is_prefetch(&self) -> bool {
        self.purpose.as_deref().is_some_and(|purpose| {
            purpose.split(';').any(|token| {
                let token = token.trim();
                token.eq_ignore_ascii_case("prefetch") || token.eq_ignore_ascii_case("preview")
            })
        })
    }

    /// Whether the response is for a document the visitor navigates to. A
    /// `Sec-Fetch-Dest` other than a document or frame is a script's `fetch()` of a
    /// fragment (htmx, Turbo, …): the page around it was personalized already, and
    /// hand-off or popups in a fragment would land inside that page. Without the
    /// header (older browsers, crawlers), a navigation.
    pub fn is_navigation(&self) -> bool {
        self.fetch_dest.as_deref().is_none_or(|dest| {
            let dest = dest.trim();
            ["document", "iframe", "frame", ""]
                .iter()
                .any(|kind| dest.eq_ignore_ascii_case(kind))
        })
    }

    /// Minutes east of UTC from a ±HHMM number, as CDNs' geolocation gives it
    /// (Fastly's `utc_offset`: `-500` is UTC−5, `545` is UTC+5:45); `None` for
    /// Fastly's "unknown" (9999) and anything that is not a real offset.
    pub fn utc_offset_from_hhmm(hhmm: i32) -> Option<i32> {
        let (hours, minutes) = (hhmm / 100, hhmm % 100);
        // Real offsets run from UTC−12 to UTC+14; `%` keeps the sign, so -530 is
        // -5 h -30 min.
        ((-12..=14).contains(&hours) && minutes.abs() < 60).then_some(hours * 60 + minutes)
    }

    /// The page view's facts: the site cookies the config names are read from the
    /// `Cookie` header; page annotations and events stay empty (the browser layer
    /// records them on the page).
    pub fn facts(&self, read_cookie_names: &[String]) -> RequestFacts {
        RequestFacts {
            url: self.url.clone(),
            referrer: self.referer.clone(),
            user_agent: self.user_agent.clone(),
            language: self.accept_language.clone(),
            now_ms: self.now_ms,
            utc_offset_minutes: self.utc_offset_minutes,
            geo: self.geo.clone(),
            cookies: self.cookies(read_cookie_names),
            global_privacy_control: self.global_privacy_control,
            ..RequestFacts::default()
        }
    }

    fn cookies(&self, names: &[String]) -> BTreeMap<String, String> {
        let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
        self.cookie
            .as_deref()
            .map(|header| read_cookies(header, &wanted))
            .unwrap_or_default()
    }

    /// The profile cookie's value, if the request has one.
    pub fn profile_cookie(&self, name: &str) -> Option<String> {
        let header = self.cookie.as_deref()?;
        read_cookies(header, &[name]).remove(name)
    }

    /// True when the page is served over https (the cookie gets `Secure`).
    pub fn is_https(&self) -> bool {
        self.url
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }
}

/// The `Cookie` header to send to the origin: the request's header without the
/// cookie `name`, or `None` when nothing is left. Other cookies pass as they came,
/// byte for byte: a header that is not UTF-8 (a legacy cookie in another encoding)
/// is cut only at its `;` separators, never re-encoded.
pub fn without_cookie(header: &[u8], name: &str) -> Option<Vec<u8>> {
    fn name_of(pair: &[u8]) -> &[u8] {
        pair.split(|byte| *byte == b'=')
            .next()
            .unwrap_or(pair)
            .trim_ascii()
    }
    let pairs = || header.split(|byte| *byte == b';');
    if !pairs().any(|pair| name_of(pair) == name.as_bytes()) {
        // Nothing to remove: the header goes on exactly as the browser sent it.
        return Some(header.to_vec());
    }
    let kept: Vec<&[u8]> = pairs()
        .map(<[u8]>::trim_ascii)
        .filter(|pair| !pair.is_empty())
        .filter(|pair| name_of(pair) != name.as_bytes())
        .collect();
    (!kept.is_empty()).then(|| kept.join(&b"; "[..]))
}

/// The `Cookie` header for the origin when the config could not be loaded (`None`:
/// send none). The profile cookie still stays at the edge, unless the config text
/// asks to forward it: its name is read from the text leniently (`cookie.name`, else
/// the default), since a config that fails validation may still say it. Without
/// config text to read (empty, or not JSON: a config store that could not be read),
/// the name is unknown, so every cookie whose value reads as a profile cookie stays
/// too, whatever its name.
pub fn origin_cookie_without_engine(config_json: &str, header: Option<&[u8]>) -> Option<Vec<u8>> {
    let header = header?;
    let config: Option<serde_json::Value> = serde_json::from_str(config_json).ok();
    if config.is_none() {
        return without_profile_cookies(header, &CookieSettings::default_name());
    }
    let cookie = config.as_ref().and_then(|c| c.get("cookie"));
    let setting = |key: &str| cookie.and_then(|c| c.get(key));
    let forward = setting("forwardToOrigin").and_then(serde_json::Value::as_bool) == Some(true);
    let name = setting("name")
        .and_then(serde_json::Value::as_str)
        .filter(|name| !name.trim().is_empty())
        .map_or_else(CookieSettings::default_name, str::to_string);
    origin_cookie(header, &name, forward)
}

/// The header without the cookie `name` and without any cookie whose value decodes
/// as a profile cookie (format, checksum or structure; signatures are not checked).
fn without_profile_cookies(header: &[u8], name: &str) -> Option<Vec<u8>> {
    let header = without_cookie(header, name)?;
    let is_profile = |pair: &[u8]| {
        let value = pair
            .splitn(2, |byte| *byte == b'=')
            .nth(1)
            .unwrap_or_default();
        std::str::from_utf8(value.trim_ascii()).is_ok_and(looks_like_profile_cookie)
    };
    if !header.split(|byte| *byte == b';').any(is_profile) {
        return Some(header);
    }
    let kept: Vec<&[u8]> = header
        .split(|byte| *byte == b';')
        .map(<[u8]>::trim_ascii)
        .filter(|pair| !pair.is_empty() && !is_profile(pair))
        .collect();
    (!kept.is_empty()).then(|| kept.join(&b"; "[..]))
}

/// The `Cookie` header for the origin (`None`: send none): as the browser sent it
/// when the config forwards the profile cookie, else without the profile cookie.
pub fn origin_cookie(header: &[u8], profile_cookie: &str, forward: bool) -> Option<Vec<u8>> {
    if forward {
        Some(header.to_vec())
    } else {
        without_cookie(header, profile_cookie)
    }
}

/// What a page request's headers are in the request to the origin, beside its
/// `Cookie` header ([`origin_cookie`]): see [`origin_request_headers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OriginRequestHeaders {
    /// `Accept-Encoding` instead of the visitor's: `gzip` if they accept it, else
    /// `identity`. Every platform layer reads a gzip body (Cloudflare's `fetch()`
    /// decodes exactly `gzip`, Fastly's program decodes it itself); a page in any
    /// other encoding would pass through unpersonalized.
    pub accept_encoding: &'static str,
    /// Request headers not forwarded: the visitor's cache validators. A response
    /// the edge personalizes never carries a validator, so one the browser sends
    /// belongs to a copy that went by unpersonalized (fetched by a script, or cached
    /// before the edge was there), and the origin's `304` would keep the visitor
    /// on that copy for as long as the page does not change.
    pub remove: &'static [&'static str],
}

/// The request headers the edge changes on the way to the origin for a request
/// whose response it may personalize: a `GET` for a document (a navigation, a
/// frame, a prefetch; without `Sec-Fetch-Dest`, one that accepts HTML). `None` for
/// every other request, which reaches the origin as it came.
/// `accept_encoding` is each `Accept-Encoding` header line.
pub fn origin_request_headers(
    method: &str,
    fetch_dest: Option<&str>,
    purpose: Option<&str>,
    accept: Option<&str>,
    accept_encoding: &[&str],
) -> Option<OriginRequestHeaders> {
    let request = EdgeRequest {
        method: method.to_string(),
        fetch_dest: fetch_dest.map(str::to_string),
        purpose: purpose.map(str::to_string),
        ..EdgeRequest::default()
    };
    let for_a_page = match fetch_dest.map(str::trim).filter(|dest| !dest.is_empty()) {
        Some(_) => request.is_navigation() || request.is_prefetch(),
        None => accept.is_some_and(|accept| accept.to_ascii_lowercase().contains("text/html")),
    };
    (method == "GET" && for_a_page).then(|| OriginRequestHeaders {
        accept_encoding: if accepts_gzip(accept_encoding) {
            "gzip"
        } else {
            "identity"
        },
        remove: &["if-none-match", "if-modified-since"],
    })
}

/// Whether `Accept-Encoding` (its header lines) allows gzip: a `gzip` entry decides
/// alone (RFC 9110: `gzip;q=0, *` refuses gzip); else `*`; never with `q=0`.
pub fn accepts_gzip(accept_encoding: &[&str]) -> bool {
    let codings: Vec<(String, bool)> = accept_encoding
        .iter()
        .flat_map(|value| value.split(','))
        .map(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.to_ascii_lowercase()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name, !refused)
        })
        .collect();
    let allowed = |wanted: &str| codings.iter().find(|(name, _)| name == wanted).map(|c| c.1);
    allowed("gzip").or_else(|| allowed("*")).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_requests_ask_the_origin_for_gzip_or_nothing_and_drop_validators() {
        let html = Some("text/html,application/xhtml+xml,*/*;q=0.8");
        let page = origin_request_headers("GET", Some("document"), None, html, &["gzip, br, zstd"]);
        assert_eq!(
            page,
            Some(OriginRequestHeaders {
                accept_encoding: "gzip",
                remove: &["if-none-match", "if-modified-since"],
            })
        );
        let no_gzip =
            origin_request_headers("GET", Some("iframe"), None, html, &["br", "gzip;q=0, *"]);
        assert_eq!(no_gzip.map(|h| h.accept_encoding), Some("identity"));
        let none_at_all = origin_request_headers("GET", Some("document"), None, html, &[]);
        assert_eq!(none_at_all.map(|h| h.accept_encoding), Some("identity"));
        // A prefetch is personalized too (`<link rel=prefetch>` has dest "empty").
        let prefetch =
            origin_request_headers("GET", Some("empty"), Some("prefetch"), None, &["gzip"]);
        assert_eq!(prefetch.map(|h| h.accept_encoding), Some("gzip"));
        // Without Sec-Fetch-Dest, a request that accepts HTML.
        assert!(origin_request_headers("GET", None, None, html, &["gzip"]).is_some());
        assert!(origin_request_headers("GET", Some(" "), None, html, &["gzip"]).is_some());
        // Everything else reaches the origin as it came.
        for (method, dest, accept) in [
            ("GET", Some("image"), Some("image/avif,*/*")),
            ("GET", Some("empty"), html),
            ("GET", Some("script"), None),
            ("GET", None, Some("image/webp")),
            ("GET", None, None),
            ("POST", Some("document"), html),
            ("HEAD", Some("document"), html),
        ] {
            assert_eq!(
                origin_request_headers(method, dest, None, accept, &["gzip"]),
                None,
                "{method} {dest:?} {accept:?}"
            );
        }
    }

    #[test]
    fn accept_encoding_allows_gzip_as_rfc_9110_reads_it() {
        assert!(accepts_gzip(&["gzip"]));
        assert!(accepts_gzip(&["br", "GZIP;q=0.5"]));
        assert!(accepts_gzip(&["*"]));
        assert!(!accepts_gzip(&["gzip;q=0, *"]));
        assert!(!accepts_gzip(&["*;q=0"]));
        assert!(!accepts_gzip(&["br, zstd"]));
        assert!(!accepts_gzip(&[]));
    }

    #[test]
    fn without_a_usable_config_the_profile_cookie_still_stays_at_the_edge() {
        let header = Some(&b"ep=1cAAAA; session=abc; visit=1"[..]);
        // Not JSON at all: the default name.
        assert_eq!(
            origin_cookie_without_engine("{oops", header).as_deref(),
            Some(&b"session=abc; visit=1"[..])
        );
        // Fails validation (an unknown key) but names its cookie.
        let named = r#"{"cookie": {"name": "visit"}, "unknownKey": 1}"#;
        assert_eq!(
            origin_cookie_without_engine(named, header).as_deref(),
            Some(&b"ep=1cAAAA; session=abc"[..])
        );
        let forwarded = r#"{"cookie": {"forwardToOrigin": true}, "slots": 3}"#;
        assert_eq!(
            origin_cookie_without_engine(forwarded, header),
            header.map(<[u8]>::to_vec)
        );
        assert_eq!(origin_cookie_without_engine("{}", Some(b"ep=1")), None);
        assert_eq!(origin_cookie_without_engine("{}", None), None);
    }

    #[test]
    fn without_config_text_a_profile_cookie_of_any_name_stays_at_the_edge() {
        use crate::core::profile::codec::CookieCodec;
        use crate::core::profile::Profile;
        let codec = CookieCodec {
            keys: &[],
            require_signature: false,
            max_age_minutes: u32::MAX,
        };
        let profile = codec.encode(&Profile::new(7, 1_000));
        assert!(looks_like_profile_cookie(&profile));
        let header = format!("persona={profile}; sid=1; ep=old; other=1cAAAA");
        // A config store that could not be read: no text, so no name.
        assert_eq!(
            origin_cookie_without_engine("", Some(header.as_bytes())).as_deref(),
            Some(&b"sid=1; other=1cAAAA"[..])
        );
        // A config that names its cookie: only that name is the profile's.
        let named = r#"{"cookie": {"name": "persona"}}"#;
        assert_eq!(
            origin_cookie_without_engine(named, Some(header.as_bytes())).as_deref(),
            Some(&b"sid=1; ep=old; other=1cAAAA"[..])
        );
    }

    #[test]
    fn the_profile_cookie_is_removed_and_the_rest_kept() {
        let without = |header: &str| {
            without_cookie(header.as_bytes(), "ep")
                .map(|kept| String::from_utf8_lossy(&kept).into_owned())
        };
        assert_eq!(
            without("a=1; ep=1cABC; b=x=y").as_deref(),
            Some("a=1; b=x=y")
        );
        assert_eq!(without("ep=1cABC"), None);
        assert_eq!(without(" ep=1; ep=2 ;"), None);
        // A cookie whose name only starts with the profile cookie's stays.
        assert_eq!(without("epx=1").as_deref(), Some("epx=1"));
        // Without the profile cookie, the header is left exactly as it came.
        assert_eq!(without("a=1;b=2").as_deref(), Some("a=1;b=2"));
    }

    #[test]
    fn a_cookie_header_that_is_not_utf8_keeps_its_other_bytes() {
        // "name=Аня" in windows-1251, as a legacy site sets it, beside the profile cookie.
        let header = b"name=\xc0\xed\xff; ep=1cABC; b=\xff\xfe";
        assert_eq!(
            without_cookie(header, "ep").as_deref(),
            Some(&b"name=\xc0\xed\xff; b=\xff\xfe"[..])
        );
    }

    #[test]
    fn prefetches_and_fragments_are_told_from_navigations() {
        let request = |dest: Option<&str>, purpose: Option<&str>| EdgeRequest {
            fetch_dest: dest.map(str::to_string),
            purpose: purpose.map(str::to_string),
            ..EdgeRequest::default()
        };
        assert!(request(Some("document"), None).is_navigation());
        assert!(request(Some("IFrame"), None).is_navigation());
        assert!(
            request(None, None).is_navigation(),
            "no header: a navigation"
        );
        assert!(
            !request(Some("empty"), None).is_navigation(),
            "a fetch() by htmx or Turbo"
        );
        assert!(!request(Some("script"), None).is_navigation());
        assert!(!request(Some("document"), None).is_prefetch());
        assert!(request(Some("document"), Some("prefetch")).is_prefetch());
        assert!(request(Some("document"), Some("prefetch;prerender")).is_prefetch());
        assert!(request(Some("empty"), Some("Prefetch")).is_prefetch());
        assert!(
            request(None, Some("preview")).is_prefetch(),
            "X-Purpose: preview"
        );
        assert!(!request(None, Some("prerender-ish")).is_prefetch());
    }

    #[test]
    fn hhmm_offsets_become_minutes_east_of_utc() {
        let minutes = EdgeRequest::utc_offset_from_hhmm;
        assert_eq!(minutes(300), Some(180));
        assert_eq!(minutes(-500), Some(-300));
        assert_eq!(minutes(-330), Some(-210));
        assert_eq!(minutes(545), Some(345));
        assert_eq!(minutes(0), Some(0));
        assert_eq!(minutes(1400), Some(840));
        assert_eq!(minutes(9999), None);
        assert_eq!(minutes(-1300), None);
        assert_eq!(minutes(175), None);
    }

    #[test]
    fn facts_read_only_the_named_cookies() {
        let request = EdgeRequest {
            url: "https://example.test/".into(),
            cookie: Some("name=%D0%90%D0%BD%D1%8F; secret=1; ep=1c".into()),
            ..EdgeRequest::default()
        };
        let facts = request.facts(&["name".to_string()]);
        assert_eq!(facts.cookies.len(), 1);
        assert_eq!(facts.cookies.get("name").map(String::as_str), Some("Аня"));
        assert!(request.is_https());
        assert_eq!(request.profile_cookie("ep").as_deref(), Some("1c"));
    }
}
