//! Which origin responses the edge may rewrite. Everything else passes through
//! untouched: same status, headers and bytes, no cookie, no hand-off.

use serde::Serialize;

/// The parts of the origin's response that decide whether it is rewritten.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResponseHead {
    /// HTTP status.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The `Content-Encoding` header, as the platform hands the body over: a
    /// platform that already decompressed the body passes `None`.
    pub content_encoding: Option<String>,
    /// The response has a `Content-Range` header (an answer to a `Range` request).
    pub content_range: bool,
    /// The `Cache-Control` header.
    pub cache_control: Option<String>,
    /// The `Content-Security-Policy` header (its script nonce is reused).
    pub content_security_policy: Option<String>,
}

/// Why a response passes through untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PassReason {
    /// Not a `GET` (a `HEAD` has no body to personalize; other methods are not
    /// page views).
    Method,
    /// Not a 2xx with a full body (errors, redirects, 204/205, 206).
    Status,
    /// A `Content-Range` answer: a part of a document cannot be rewritten.
    Range,
    /// Not `text/html`.
    NotHtml,
    /// Compressed with an encoding the platform did not undo.
    Encoded,
    /// A character set the rewriter cannot handle (not ASCII-compatible).
    Charset,
    /// `Cache-Control: no-transform`.
    NoTransform,
    /// The config could not be used (the error is logged without visitor data).
    Config,
    /// Not a navigation: a script's `fetch()` of a fragment (`Sec-Fetch-Dest:
    /// empty`), which lands inside a page that was personalized already.
    NotNavigation,
}

impl PassReason {
    /// A short English description, for logs and the explain header.
    pub fn describe(self) -> &'static str {
        match self {
            PassReason::Method => "not a GET request",
            PassReason::Status => "not a 2xx response with a full body",
            PassReason::Range => "a Content-Range response",
            PassReason::NotHtml => "not text/html",
            PassReason::Encoded => "a compressed body",
            PassReason::Charset => "a character set the rewriter cannot handle",
            PassReason::NoTransform => "Cache-Control: no-transform",
            PassReason::Config => "no usable config",
            PassReason::NotNavigation => "not a navigation (a fetch() of a fragment)",
        }
    }
}

/// The character set of a response the edge rewrites.
pub type Charset = &'static encoding_rs::Encoding;

/// A page's character set as far as the response head tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCharset {
    /// The encoding to start in: the `Content-Type` charset, else UTF-8.
    pub encoding: Charset,
    /// Whether `Content-Type` named it. A named charset is final (HTTP overrides the
    /// page); otherwise a `<meta charset>` in the page switches the rewriter.
    pub declared: bool,
}

impl PageCharset {
    /// Whether text the edge writes into the page could end up in another encoding
    /// than UTF-8, so that JSON in it must be plain ASCII (`\u` escapes).
    pub fn may_not_be_utf8(self) -> bool {
        !(self.declared && self.encoding == encoding_rs::UTF_8)
    }
}

/// Whether the response to a `method` request may be rewritten, and in which
/// character set.
///
/// # Errors
/// The reason it must pass through untouched.
pub fn rewritable(method: &str, head: &ResponseHead) -> Result<PageCharset, PassReason> {
    // Methods are case-sensitive (RFC 9110): `fetch` spells `get` as `GET`, Fastly
    // passes a method as sent, and the origin request is prepared for `GET` alone.
    if method != "GET" {
        return Err(PassReason::Method);
    }
    if !(200..300).contains(&head.status) || matches!(head.status, 204..=206) {
        return Err(PassReason::Status);
    }
    if head.content_range {
        return Err(PassReason::Range);
    }
    let content_type = head.content_type.as_deref().unwrap_or("");
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("text/html") {
        return Err(PassReason::NotHtml);
    }
    if head
        .content_encoding
        .as_deref()
        .is_some_and(|e| !e.trim().is_empty() && !e.trim().eq_ignore_ascii_case("identity"))
    {
        return Err(PassReason::Encoded);
    }
    if head.cache_control.as_deref().is_some_and(|cc| {
        cc.split(',')
            .any(|d| d.trim().eq_ignore_ascii_case("no-transform"))
    }) {
        return Err(PassReason::NoTransform);
    }
    match charset_parameter(parts) {
        None => Ok(PageCharset {
            encoding: encoding_rs::UTF_8,
            declared: false,
        }),
        Some(label) => encoding_rs::Encoding::for_label(label.as_bytes())
            // lol-html needs an ASCII-compatible encoding (not UTF-16, not ISO-2022-JP).
            .filter(|e| e.is_ascii_compatible() && *e != encoding_rs::ISO_2022_JP)
            .map(|encoding| PageCharset {
                encoding,
                declared: true,
            })
            .ok_or(PassReason::Charset),
    }
}

/// The `charset` among a media type's parameters (what follows its first `;`, split
/// at each `;`), unquoted.
pub fn charset_parameter<'a>(mut parameters: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    parameters.find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// The script nonce of a `Content-Security-Policy`, if it has one, so the hand-off
/// element carries the same nonce as the page's own scripts. The nonce is read from
/// the directive that governs `<script>` elements: `script-src-elem`, else
/// `script-src`, else `default-src` (a `style-src` nonce is not a script's).
pub fn csp_nonce(header: &str) -> Option<&str> {
    const GOVERNING: [&str; 3] = ["script-src-elem", "script-src", "default-src"];
    // Several policies may arrive joined by commas; each is checked on its own.
    header.split(',').find_map(|policy| {
        governing_sources(policy, &GOVERNING)?
            .split_ascii_whitespace()
            .filter_map(|token| token.strip_prefix("'nonce-")?.strip_suffix('\''))
            .find(|nonce| {
                !nonce.is_empty()
                    && nonce.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
                    })
            })
    })
}

/// Whether a `Content-Security-Policy` allows inline styles by hash (a `'sha256-…'`,
/// `'sha384-…'` or `'sha512-…'` source in the directive that governs `<style>`:
/// `style-src-elem`, else `style-src`, else `default-src`). The head snippet's hiding
/// style is then allowed for its exact text, and the edge leaves that text alone.
pub fn csp_allows_styles_by_hash(header: &str) -> bool {
    const GOVERNING: [&str; 3] = ["style-src-elem", "style-src", "default-src"];
    header.split(',').any(|policy| {
        governing_sources(policy, &GOVERNING).is_some_and(|sources| {
            sources.split_ascii_whitespace().any(|token| {
                let token = token.to_ascii_lowercase();
                ["'sha256-", "'sha384-", "'sha512-"]
                    .iter()
                    .any(|prefix| token.starts_with(prefix))
            })
        })
    })
}

/// The sources of the first of `governing` that `policy` (one policy) has.
fn governing_sources<'p>(policy: &'p str, governing: &[&str]) -> Option<&'p str> {
    let directives: Vec<(&str, &str)> = policy
        .split(';')
        .filter_map(|directive| {
            let directive = directive.trim();
            let (name, values) = directive.split_once([' ', '\t']).unwrap_or((directive, ""));
            (!name.is_empty()).then_some((name, values))
        })
        .collect();
    governing.iter().find_map(|wanted| {
        directives
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, values)| *values)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(status: u16) -> ResponseHead {
        ResponseHead {
            status,
            content_type: Some("text/html; charset=utf-8".into()),
            ..ResponseHead::default()
        }
    }

    #[test]
    fn only_full_html_get_responses_are_rewritten() {
        assert!(rewritable("GET", &html(200)).is_ok());
        assert_eq!(rewritable("HEAD", &html(200)), Err(PassReason::Method));
        assert_eq!(rewritable("get", &html(200)), Err(PassReason::Method));
        assert_eq!(rewritable("POST", &html(200)), Err(PassReason::Method));
        for status in [204, 206, 301, 304, 404, 500] {
            assert_eq!(rewritable("GET", &html(status)), Err(PassReason::Status));
        }
        let ranged = ResponseHead {
            content_range: true,
            ..html(200)
        };
        assert_eq!(rewritable("GET", &ranged), Err(PassReason::Range));
        let json = ResponseHead {
            content_type: Some("application/json".into()),
            ..html(200)
        };
        assert_eq!(rewritable("GET", &json), Err(PassReason::NotHtml));
        let gzip = ResponseHead {
            content_encoding: Some("gzip".into()),
            ..html(200)
        };
        assert_eq!(rewritable("GET", &gzip), Err(PassReason::Encoded));
        let no_transform = ResponseHead {
            cache_control: Some("public, No-Transform".into()),
            ..html(200)
        };
        assert_eq!(
            rewritable("GET", &no_transform),
            Err(PassReason::NoTransform)
        );
    }

    #[test]
    fn charsets() {
        let with = |ct: &str| ResponseHead {
            content_type: Some(ct.into()),
            ..html(200)
        };
        assert_eq!(
            rewritable("GET", &with("text/html")),
            Ok(PageCharset {
                encoding: encoding_rs::UTF_8,
                declared: false
            })
        );
        assert_eq!(
            rewritable("GET", &with("TEXT/HTML; charset=\"windows-1251\"")),
            Ok(PageCharset {
                encoding: encoding_rs::WINDOWS_1251,
                declared: true
            })
        );
        assert_eq!(
            rewritable("GET", &with("text/html; charset=utf-16le")),
            Err(PassReason::Charset)
        );
        assert_eq!(
            rewritable("GET", &with("text/html; charset=klingon")),
            Err(PassReason::Charset)
        );
    }

    #[test]
    fn nonces() {
        assert_eq!(
            csp_nonce("default-src 'self'; script-src 'nonce-r4nd0m+/=' 'strict-dynamic'"),
            Some("r4nd0m+/=")
        );
        assert_eq!(csp_nonce("script-src 'self'"), None);
        // The directive that governs scripts, not the first nonce anywhere.
        assert_eq!(
            csp_nonce("style-src 'nonce-style1'; script-src 'nonce-script1'"),
            Some("script1")
        );
        assert_eq!(
            csp_nonce("script-src 'nonce-a'; script-src-elem 'nonce-b'"),
            Some("b")
        );
        assert_eq!(csp_nonce("default-src 'nonce-d'; img-src *"), Some("d"));
        // script-src governs and has no nonce: none, even if default-src has one.
        assert_eq!(csp_nonce("default-src 'nonce-d'; script-src 'self'"), None);
        assert_eq!(csp_nonce("style-src 'nonce-only-styles'"), None);
        // Two policies: the first that governs scripts with a nonce.
        assert_eq!(
            csp_nonce("img-src *, script-src 'nonce-second'"),
            Some("second")
        );
        assert_eq!(csp_nonce("script-src 'nonce-\"><x'"), None);
    }
    #[test]
    fn a_policy_that_allows_styles_by_hash_pins_the_hiding_style() {
        assert!(csp_allows_styles_by_hash(
            "style-src 'self' 'sha256-RsSc5ArY81af='"
        ));
        assert!(csp_allows_styles_by_hash(
            "default-src 'self' 'SHA384-abc='"
        ));
        assert!(csp_allows_styles_by_hash(
            "script-src 'self', style-src-elem 'sha512-x='"
        ));
        // The directive that governs <style> decides: style-src-elem over style-src.
        assert!(!csp_allows_styles_by_hash(
            "style-src 'sha256-a='; style-src-elem 'unsafe-inline'"
        ));
        assert!(!csp_allows_styles_by_hash(
            "default-src 'sha256-a='; style-src 'unsafe-inline'"
        ));
        assert!(!csp_allows_styles_by_hash("script-src 'sha256-a='"));
        assert!(!csp_allows_styles_by_hash("style-src 'nonce-abc'"));
        assert!(!csp_allows_styles_by_hash(""));
    }
}
