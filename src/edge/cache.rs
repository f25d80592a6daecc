//! Cache safety, the same on every platform: what a personalized response's headers
//! become. A shared cache must never hand visitor A's page to visitor B, so a
//! personalized response is `private, no-store` without validators, and everything
//! visitor-specific (the cookie, the explain header) goes only on such a response.

use crate::edge::response::PassReason;
use serde::Serialize;

/// Headers a personalized response loses:
/// - validators (they describe the origin's bytes, not ours) and the length (the body
///   changes);
/// - `Accept-Ranges` (a part of a personalized body cannot be asked for again);
/// - `Expires`, which would contradict `no-store` for old caches;
/// - the CDN-targeted cache directives (RFC 9213 `CDN-Cache-Control`, Cloudflare's,
///   Fastly's and Akamai's own, nginx's `X-Accel-Expires`): a cache in front of the
///   edge obeys them over `Cache-Control`, so leaving them would let it store one
///   visitor's page for the next;
/// - digests of the origin's body, which the rewritten body no longer matches.
pub const REMOVED_HEADERS: [&str; 14] = [
    "etag",
    "last-modified",
    "content-length",
    "accept-ranges",
    "expires",
    "cdn-cache-control",
    "cloudflare-cdn-cache-control",
    "surrogate-control",
    "edge-control",
    "x-accel-expires",
    "content-md5",
    "content-digest",
    "repr-digest",
    "digest",
];

/// The `Cache-Control` of every personalized response.
pub const PERSONALIZED_CACHE_CONTROL: &str = "private, no-store";

/// The opt-in debugging header: which experience each slot shows (config ids only,
/// never visitor data).
pub const EXPLAIN_HEADER: &str = "edge-persona-explain";

/// How the platform layer changes the origin's response headers, in this order:
/// remove `remove` (case-insensitively), set each of `set` (replacing any), append
/// each of `append` (kept beside existing ones, as `Set-Cookie` must be).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeaderChanges {
    /// Header names to remove, lowercase.
    pub remove: Vec<String>,
    /// Headers to set, replacing any of the same name.
    pub set: Vec<(String, String)>,
    /// Headers to add.
    pub append: Vec<(String, String)>,
}

/// `text` as a header value every platform accepts: visible ASCII and spaces as
/// they are, every other byte (`%` included) percent-encoded. Config ids may be in
/// any script (`hero=акция`), and workerd's `Headers` throws on characters past
/// U+00FF, which would cost the page its personalization.
fn header_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if (b' '..=b'~').contains(&byte) && byte != b'%' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl HeaderChanges {
    /// The changes for a response that passes through untouched (its body and all
    /// else as the origin sent it): none, but for a page a script fetched
    /// ([`PassReason::NotNavigation`]), which varies by `Sec-Fetch-Dest`. Otherwise
    /// the browser's cache could answer a later navigation to the same URL with
    /// that unpersonalized copy, without asking the edge.
    pub fn passed_through(reason: PassReason) -> HeaderChanges {
        match reason {
            PassReason::NotNavigation => HeaderChanges {
                append: vec![("vary".to_string(), "Sec-Fetch-Dest".to_string())],
                ..HeaderChanges::default()
            },
            _ => HeaderChanges::default(),
        }
    }

    /// The changes for a personalized response: no caching by shared caches, no
    /// validators, the profile cookie if there is one, and the explain header if
    /// asked for.
    pub fn personalized(set_cookie: Option<String>, explain: Option<String>) -> HeaderChanges {
        let mut remove: Vec<String> = REMOVED_HEADERS.iter().map(|h| h.to_string()).collect();
        remove.push("cache-control".into());
        let mut set = vec![(
            "cache-control".to_string(),
            PERSONALIZED_CACHE_CONTROL.to_string(),
        )];
        if let Some(explain) = explain {
            set.push((EXPLAIN_HEADER.to_string(), header_safe(&explain)));
        }
        HeaderChanges {
            remove,
            set,
            append: set_cookie
                .map(|value| ("set-cookie".to_string(), value))
                .into_iter()
                .collect(),
        }
    }

    /// Applies the changes to a header list (for platforms and tests that hold
    /// headers as pairs).
    pub fn apply(&self, headers: &mut Vec<(String, String)>) {
        headers.retain(|(name, _)| {
            let name = name.to_ascii_lowercase();
            !self.remove.contains(&name) && !self.set.iter().any(|(n, _)| *n == name)
        });
        headers.extend(self.set.iter().cloned());
        headers.extend(self.append.iter().cloned());
    }
}

/// True when a shared cache may store a response with these headers (RFC 9111:
/// `no-store` and `private` forbid it). Used by the tests' caching layer and by
/// `debug_assert`s in the platform layers.
pub fn shared_cache_may_store(cache_control: Option<&str>) -> bool {
    !cache_control.is_some_and(|cc| {
        cc.split(',').any(|d| {
            let d = d.trim().split('=').next().unwrap_or("").trim();
            d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("private")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_explain_header_is_visible_ascii_whatever_the_ids() {
        let changes =
            HeaderChanges::personalized(None, Some("hero=акция, nav=by-name\r\nx: 1 %".into()));
        let (_, value) = changes
            .set
            .iter()
            .find(|(name, _)| name == EXPLAIN_HEADER)
            .expect("the explain header");
        assert_eq!(
            value,
            "hero=%D0%B0%D0%BA%D1%86%D0%B8%D1%8F, nav=by-name%0D%0Ax: 1 %25"
        );
    }

    #[test]
    fn a_personalized_response_cannot_be_stored_by_a_shared_cache() {
        let mut headers = vec![
            ("Content-Type".to_string(), "text/html".to_string()),
            (
                "Cache-Control".to_string(),
                "public, max-age=600".to_string(),
            ),
            ("ETag".to_string(), "\"abc\"".to_string()),
            (
                "Last-Modified".to_string(),
                "Tue, 01 Jan 2030 00:00:00 GMT".to_string(),
            ),
            ("Content-Length".to_string(), "1234".to_string()),
            ("CDN-Cache-Control".to_string(), "max-age=600".to_string()),
            ("Surrogate-Control".to_string(), "max-age=600".to_string()),
            ("Content-Digest".to_string(), "sha-256=:abc=:".to_string()),
            ("Set-Cookie".to_string(), "origin=1".to_string()),
        ];
        HeaderChanges::personalized(Some("ep=1c; Path=/".into()), None).apply(&mut headers);
        let names: Vec<String> = headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        assert_eq!(
            names,
            ["content-type", "set-cookie", "cache-control", "set-cookie"]
        );
        let cache_control = headers
            .iter()
            .find(|(n, _)| n == "cache-control")
            .map(|(_, v)| v.as_str());
        assert!(!shared_cache_may_store(cache_control));
        assert!(shared_cache_may_store(Some("public, max-age=600")));
        assert!(!shared_cache_may_store(Some(
            "max-age=60, private=\"set-cookie\""
        )));
    }
}
