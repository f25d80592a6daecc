//! A small, forgiving URL parser for page and referrer URLs.
//!
//! The engine only needs the scheme, host, port, path and query of a URL, and it runs
//! in a size-budgeted wasm build, so this is hand-written instead of pulling in the
//! `url` crate. It never fails: a page URL comes from the browser or a test journey
//! and a referrer comes from a header anyone can set, so the parser keeps what it can
//! read and drops the rest instead of rejecting the whole value.

use crate::core::lowercase::to_lowercase;
use std::borrow::Cow;

use super::{cap_str, cap_string, trim, MAX_URL_PART_CHARS};

/// The most input bytes looked at. Real URLs are far shorter; the cap bounds the work
/// a hostile multi-megabyte value can cause before the per-part caps apply.
const MAX_INPUT_BYTES: usize = 16 * 1024;

/// The most query parameters kept, so a query of thousands of `&a&a&a` pieces cannot
/// bloat the context that conditions and debug JSON carry around.
pub const MAX_QUERY_PARAMS: usize = 64;

/// The longest host name DNS allows; anything longer is not a real host.
const MAX_HOST_CHARS: usize = 253;

/// The parts of a URL the engine reads.
///
/// Every field is already decoded and capped (see [`parse_url`]), so conditions can
/// compare against plain text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ParsedUrl {
    /// Lowercased scheme without `:` (`"https"`); empty for path-only URLs.
    pub scheme: String,
    /// Lowercased host without port or trailing dot. `www.` is kept here; the
    /// referrer classifier ignores it where that matters. IPv6 hosts keep their
    /// brackets (`"[::1]"`) like the browser's `URL.hostname`. Empty when the URL has
    /// no (valid) host.
    pub host: String,
    /// Explicit port, if one was given and is a valid `u16`.
    pub port: Option<u16>,
    /// Percent-decoded path, always starting with `/`.
    pub path: String,
    /// Percent-decoded query pairs in order (`+` decoded as a space). A piece without
    /// `=` gets an empty value; pieces with an empty name are dropped.
    pub query: Vec<(String, String)>,
}

impl Default for ParsedUrl {
    fn default() -> Self {
        ParsedUrl {
            scheme: String::new(),
            host: String::new(),
            port: None,
            path: "/".to_string(),
            query: Vec::new(),
        }
    }
}

impl ParsedUrl {
    /// The value of the first query parameter named exactly `name` (case-sensitive,
    /// like `URLSearchParams.get`).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of the first query parameter whose name equals `name` ignoring ASCII
    /// case. Hand-typed campaign links often contain `UTM_Source`, and being lenient
    /// there costs nothing.
    pub fn query_param_ignore_case(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The host with one leading `www.` removed, for comparing sites
    /// (`www.example.com` and `example.com` are the same site to a visitor).
    pub fn host_without_www(&self) -> &str {
        strip_www(&self.host)
    }
}

/// Removes one leading `www.` label, if any.
pub(crate) fn strip_www(host: &str) -> &str {
    host.strip_prefix("www.").unwrap_or(host)
}

/// Parses an absolute URL (`https://host:port/path?query#fragment`), a
/// scheme-relative one (`//host/path`) or a path-only one (`/path?query`, `?query`).
///
/// Never fails:
/// - Leading/trailing whitespace is ignored and the fragment is dropped.
/// - Userinfo (`user:pass@`) is dropped: it is never useful to conditions and should
///   not end up in debug output.
/// - An invalid host (characters no host name may contain) leaves `host` empty; an
///   invalid or out-of-range port leaves `port` as `None`.
/// - A raw `\` in the authority or path counts as `/`, as browsers do for http(s).
/// - Percent-escapes are decoded; a broken escape such as `%zz` or a trailing `%` is
///   kept literally, and bytes that are not valid UTF-8 become U+FFFD.
/// - Anything else, e.g. `"example.com/x"` or `"not a url"`, is garbage and gives
///   [`ParsedUrl::default`] (empty host, path `/`, no query).
/// - The path and each query name/value are capped at [`MAX_URL_PART_CHARS`]
///   characters and at most [`MAX_QUERY_PARAMS`] pairs are kept.
pub fn parse_url(input: &str) -> ParsedUrl {
    let parts = split_url(input);
    let Some(rest) = parts.rest else {
        // Garbage, or a scheme without `//` (`mailto:x`, `javascript:...`): no host
        // and no path worth keeping.
        return ParsedUrl {
            scheme: parts.scheme.to_ascii_lowercase(),
            ..ParsedUrl::default()
        };
    };
    let (path, query) = split_path_query(rest);
    ParsedUrl {
        scheme: parts.scheme.to_ascii_lowercase(),
        host: parts.host.into_owned(),
        port: parts.port,
        path: decode_path(path),
        query: parse_query(query),
    }
}

/// What [`split_url`] finds before decoding anything.
struct UrlParts<'a> {
    /// The scheme as written (not lowercased); empty when there is none.
    scheme: &'a str,
    /// The lowercased host; empty when there is none or it is invalid.
    host: Cow<'a, str>,
    port: Option<u16>,
    /// The path and query (fragment removed), or `None` when the URL has no path
    /// worth keeping (garbage, or a scheme without `//`).
    rest: Option<&'a str>,
}

/// The scheme, host and port of a URL the way [`parse_url`] reads them, without
/// decoding the path and query.
fn split_url(input: &str) -> UrlParts<'_> {
    let input = trim(cap_bytes(input, MAX_INPUT_BYTES));
    // The fragment never reaches the server and carries nothing the engine reads.
    let input = match input.find('#') {
        Some(i) => input.get(..i).unwrap_or(""),
        None => input,
    };
    let mut parts = UrlParts {
        scheme: "",
        host: Cow::Borrowed(""),
        port: None,
        rest: None,
    };
    if let Some((scheme, after)) = split_scheme(input) {
        parts.scheme = scheme;
        if let Some(r) = after.strip_prefix("//") {
            parts.rest = Some(parse_authority(r, &mut parts));
        }
    } else if let Some(r) = input.strip_prefix("//") {
        parts.rest = Some(parse_authority(r, &mut parts));
    } else if input.starts_with('/') || input.starts_with('?') {
        parts.rest = Some(input);
    }
    parts
}

/// The scheme as written and the lowercased host of a URL, exactly as
/// [`parse_url`] would give them (host empty when there is none), without decoding
/// anything: all the referrer classifier needs of the referrer.
pub(crate) fn scheme_and_host(input: &str) -> (&str, Cow<'_, str>) {
    let parts = split_url(input);
    (parts.scheme, parts.host)
}

/// The lowercased host and the raw query of a URL, as [`parse_url`] would read them
/// (the host as in [`ParsedUrl::host`], the query as [`for_each_query_pair`] takes
/// it),
/// without decoding the path or copying anything.
pub(crate) fn host_and_query(input: &str) -> (Cow<'_, str>, &str) {
    let parts = split_url(input);
    let query = parts.rest.map_or("", |rest| split_path_query(rest).1);
    (parts.host, query)
}

/// Splits `path?query` at the first `?`.
fn split_path_query(rest: &str) -> (&str, &str) {
    match rest.find('?') {
        Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i + 1..).unwrap_or("")),
        None => (rest, ""),
    }
}

/// Decodes the path: a raw `\` counts as `/`, escapes are decoded, the result is
/// capped at [`MAX_URL_PART_CHARS`] and always starts with `/`.
fn decode_path(path: &str) -> String {
    // Browsers read a raw `\` as `/` in http(s) paths; do the same so the path a
    // condition sees is the one the browser loaded. (An escaped `%5C` stays `\`.)
    if path.starts_with('/') && !path.bytes().any(|b| b == b'%' || b == b'\\') {
        return cap_str(path, MAX_URL_PART_CHARS).to_string();
    }
    let mut decoded = cap_string(decode(path, false, true), MAX_URL_PART_CHARS);
    if !decoded.starts_with('/') {
        // Only possible for `?query` or `https://host?query`; both mean the root.
        // (`decode` leaves room for this byte.)
        decoded.insert(0, '/');
    }
    decoded
}

/// Splits `scheme:rest` when the part before `:` is a valid scheme
/// (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`, RFC 3986 §3.1).
fn split_scheme(input: &str) -> Option<(&str, &str)> {
    // A very long "scheme" is not a scheme; real ones are short. So only the first
    // 33 bytes need a look: a first colon after them makes a scheme of over 32.
    let head = input.as_bytes().get(..33).unwrap_or(input.as_bytes());
    let colon = head.iter().position(|&b| b == b':')?;
    let scheme = input.get(..colon)?;
    let mut bytes = scheme.bytes();
    let first_ok = bytes.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = bytes.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    if first_ok && rest_ok && scheme.len() <= 32 {
        Some((scheme, input.get(colon + 1..)?))
    } else {
        None
    }
}

/// Reads `userinfo@host:port` up to the first `/`, `\` or `?` into `out` and returns
/// what follows (the path and query).
fn parse_authority<'a>(input: &'a str, out: &mut UrlParts<'a>) -> &'a str {
    // Browsers treat `\` like `/` in http(s) URLs, so a hostile `https://evil\@good`
    // must not be read as host `good`.
    let end = input
        .bytes()
        .position(|b| matches!(b, b'/' | b'\\' | b'?'))
        .unwrap_or(input.len());
    let authority = input.get(..end).unwrap_or("");
    let rest = input.get(end..).unwrap_or("");
    let host_port = match authority.bytes().rposition(|b| b == b'@') {
        Some(i) => authority.get(i + 1..).unwrap_or(""),
        None => authority,
    };

    let (host, port) = if host_port.starts_with('[') {
        // IPv6 literal: the port colon comes after the closing bracket.
        match host_port.bytes().position(|b| b == b']') {
            Some(i) => (
                host_port.get(..=i).unwrap_or(""),
                host_port.get(i + 1..).and_then(|p| p.strip_prefix(':')),
            ),
            None => ("", None),
        }
    } else {
        match host_port.bytes().rposition(|b| b == b':') {
            Some(i) => (host_port.get(..i).unwrap_or(""), host_port.get(i + 1..)),
            None => (host_port, None),
        }
    };

    let host = host.strip_suffix('.').unwrap_or(host);
    let Some(host) = lowercase_valid_host(host) else {
        return rest;
    };
    out.host = host;
    out.port = port.and_then(|p| {
        // `u16::from_str` accepts a leading `+`, which no URL port may have.
        if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse().ok()
        } else {
            None
        }
    });
    rest
}

/// `host.to_lowercase()` if that is a valid host (see [`is_valid_host`]), borrowed
/// when it is ASCII without uppercase letters.
fn lowercase_valid_host(host: &str) -> Option<Cow<'_, str>> {
    if host.starts_with('[') || host.len() > MAX_HOST_CHARS {
        // IPv6 literals, and hosts that may be too long once their characters are
        // counted: the general path.
        let lower = to_lowercase(host);
        return is_valid_host(&lower).then_some(Cow::Owned(lower));
    }
    // One pass over a plain host: every byte allowed, and any uppercase letters?
    let (mut all, mut any) = (HOST_OK, 0);
    for &b in host.as_bytes() {
        let class = HOST_BYTES[usize::from(b)];
        all &= class;
        any |= class;
    }
    if host.is_empty() || all & HOST_OK == 0 {
        if any & HOST_NON_ASCII == 0 {
            // ASCII with a forbidden byte (or empty): invalid in any case.
            return None;
        }
        // Non-ASCII: Unicode lowercasing and letters.
        let lower = to_lowercase(host);
        return is_valid_host(&lower).then_some(Cow::Owned(lower));
    }
    Some(if any & HOST_UPPER != 0 {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    })
}

/// [`HOST_BYTES`] flags: allowed in an ASCII host name (letters, digits, `-`, `.`,
/// `_`).
const HOST_OK: u8 = 1;
/// An ASCII uppercase letter.
const HOST_UPPER: u8 = 2;
/// A byte of a non-ASCII character.
const HOST_NON_ASCII: u8 = 4;

static HOST_BYTES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if c.is_ascii_uppercase() {
            HOST_OK | HOST_UPPER
        } else if c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_' {
            HOST_OK
        } else if !c.is_ascii() {
            HOST_NON_ASCII
        } else {
            0
        };
        b += 1;
    }
    table
};

/// Whether `host` (already lowercased) can be a host name or IP literal. Non-ASCII
/// letters are allowed so internationalized names (`пример.рф`) survive; ASCII
/// punctuation other than `-`, `.` and `_` is not, so `<script>` or spaces never end
/// up in a host a condition might echo.
fn is_valid_host(host: &str) -> bool {
    if host.is_empty() || host.chars().count() > MAX_HOST_CHARS {
        return false;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !inner.is_empty()
            && inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
    }
    host.chars().all(|c| {
        if c.is_ascii() {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')
        } else {
            c.is_alphanumeric()
        }
    })
}

/// Splits and decodes `a=1&b=2` into pairs, keeping at most [`MAX_QUERY_PARAMS`].
fn parse_query(query: &str) -> Vec<(String, String)> {
    if query.is_empty() {
        return Vec::new();
    }
    // A guess that fits typical queries (`utm_source=yandex&` is 18 bytes) without
    // a counting pass; more pairs just grow the vector.
    let mut pairs = Vec::with_capacity((query.len() / 16 + 1).min(MAX_QUERY_PARAMS));
    for_each_query_pair(query, |k, v| pairs.push((k.into_owned(), v.into_owned())));
    pairs
}

/// Calls `f` with each pair of a raw query string (`a=1&b=2`, without the `?`)
/// exactly as [`ParsedUrl::query`] holds them: decoded (`+` as a space), capped,
/// empty names skipped, at most [`MAX_QUERY_PARAMS`]; borrowed where there is
/// nothing to decode.
pub(crate) fn for_each_query_pair<'a>(
    query: &'a str,
    mut f: impl FnMut(Cow<'a, str>, Cow<'a, str>),
) {
    let bytes = query.as_bytes();
    let mut kept = 0;
    // Where the current piece starts; past the end when done.
    let mut pos = 0;
    while kept < MAX_QUERY_PARAMS && pos <= bytes.len() {
        // One pass over the piece: its end, its first `=`, and whether the name
        // (before it) or the value (after it) has `%` or `+` to decode.
        let start = pos;
        let mut end = start;
        let mut eq: Option<usize> = None;
        let (mut encoded_name, mut encoded_value) = (false, false);
        while let Some(&b) = bytes.get(end) {
            // All four bytes that matter are below 64: one bit test skips the rest.
            const SPECIAL: u64 = 1 << b'&' | 1 << b'=' | 1 << b'%' | 1 << b'+';
            if b >= 64 || SPECIAL & (1 << b) == 0 {
                end += 1;
                continue;
            }
            match b {
                b'&' => break,
                b'=' if eq.is_none() => eq = Some(end),
                b'%' | b'+' if eq.is_none() => encoded_name = true,
                b'%' | b'+' => encoded_value = true,
                _ => {}
            }
            end += 1;
        }
        pos = end + 1;
        if end == start {
            continue;
        }
        // `&` and `=` are ASCII, so these are char boundaries.
        let (name, value) = match eq {
            Some(e) => (query.get(start..e), query.get(e + 1..end)),
            None => (query.get(start..end), Some("")),
        };
        let name = decode_part(name.unwrap_or(""), encoded_name);
        if name.is_empty() {
            continue;
        }
        kept += 1;
        f(name, decode_part(value.unwrap_or(""), encoded_value));
    }
}

/// One query name or value: decoded (`+` as a space) when `encoded` (it contains
/// `%` or `+`), and capped.
fn decode_part(s: &str, encoded: bool) -> Cow<'_, str> {
    if encoded {
        Cow::Owned(cap_string(decode(s, true, false), MAX_URL_PART_CHARS))
    } else {
        Cow::Borrowed(cap_str(s, MAX_URL_PART_CHARS))
    }
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as form-encoded
/// queries do). A `%` not followed by two hex digits is kept literally, the way
/// browsers' `decodeURIComponent` fallbacks and servers do, and invalid UTF-8 is
/// replaced rather than rejected.
///
/// Borrows the input when there is nothing to decode.
pub fn percent_decode(input: &str, plus_is_space: bool) -> Cow<'_, str> {
    let needs_work = input
        .bytes()
        .any(|b| b == b'%' || (plus_is_space && b == b'+'));
    if needs_work {
        Cow::Owned(decode(input, plus_is_space, false))
    } else {
        Cow::Borrowed(input)
    }
}

/// The decoding loop of [`percent_decode`], always into a new string; with
/// `backslash_is_slash` a raw `\` (not an escaped `%5C`) becomes `/`.
fn decode(input: &str, plus_is_space: bool, backslash_is_slash: bool) -> String {
    let bytes = input.as_bytes();
    // Room for the `/` the path may need in front.
    let mut out = Vec::with_capacity(bytes.len() + 1);
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|&h| hex_value(h));
                let lo = bytes.get(i + 2).and_then(|&l| hex_value(l));
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi << 4) | lo);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' if plus_is_space => out.push(b' '),
            b'\\' if backslash_is_slash => out.push(b'/'),
            _ => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
fn cap_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_table() {
        // (input, scheme, host, port, path, query)
        type Case = (
            &'static str,
            &'static str,
            &'static str,
            Option<u16>,
            &'static str,
            &'static [(&'static str, &'static str)],
        );
        let cases: &[Case] = &[
            (
                "https://Example.COM/Path?a=1&b=2",
                "https",
                "example.com",
                None,
                "/Path",
                &[("a", "1"), ("b", "2")],
            ),
            (
                "https://example.com",
                "https",
                "example.com",
                None,
                "/",
                &[],
            ),
            (
                "https://example.com?x=1",
                "https",
                "example.com",
                None,
                "/",
                &[("x", "1")],
            ),
            (
                "http://example.com:8080/a#frag?not=query",
                "http",
                "example.com",
                Some(8080),
                "/a",
                &[],
            ),
            (
                "http://[::1]:8080/x",
                "http",
                "[::1]",
                Some(8080),
                "/x",
                &[],
            ),
            ("http://[::1]/", "http", "[::1]", None, "/", &[]),
            (
                "/landing?utm_source=vk&q=a+b%20c",
                "",
                "",
                None,
                "/landing",
                &[("utm_source", "vk"), ("q", "a b c")],
            ),
            ("?a=1", "", "", None, "/", &[("a", "1")]),
            (
                "//cdn.example.com/lib.js",
                "",
                "cdn.example.com",
                None,
                "/lib.js",
                &[],
            ),
            (
                "https://user:pw@Host.example/p",
                "https",
                "host.example",
                None,
                "/p",
                &[],
            ),
            (
                "https://evil.example\\@good.example/",
                "https",
                "evil.example",
                None,
                "/@good.example/",
                &[],
            ),
            (
                "https://example.com./",
                "https",
                "example.com",
                None,
                "/",
                &[],
            ),
            (
                "https://example.com:99999/",
                "https",
                "example.com",
                None,
                "/",
                &[],
            ),
            (
                "https://example.com:+80/",
                "https",
                "example.com",
                None,
                "/",
                &[],
            ),
            ("https://exa mple.com/", "https", "", None, "/", &[]),
            (
                "https://пример.рф/путь",
                "https",
                "пример.рф",
                None,
                "/путь",
                &[],
            ),
            (
                "  https://example.com/%D0%BF%D1%80%D0%B8  ",
                "https",
                "example.com",
                None,
                "/при",
                &[],
            ),
            (
                "/a%zzb?k=%zz&p=100%&e=%E2%82",
                "",
                "",
                None,
                "/a%zzb",
                &[("k", "%zz"), ("p", "100%"), ("e", "\u{FFFD}")],
            ),
            (
                "/?flag&=nokey&&x=1=2",
                "",
                "",
                None,
                "/",
                &[("flag", ""), ("x", "1=2")],
            ),
            ("/p+q", "", "", None, "/p+q", &[]),
            ("/a\\b%5Cc", "", "", None, "/a/b\\c", &[]),
            ("mailto:someone@example.com", "mailto", "", None, "/", &[]),
            ("example.com/x", "", "", None, "/", &[]),
            ("not a url", "", "", None, "/", &[]),
            ("", "", "", None, "/", &[]),
        ];
        for (input, scheme, host, port, path, query) in cases {
            let u = parse_url(input);
            assert_eq!(u.scheme, *scheme, "scheme of {input:?}");
            assert_eq!(u.host, *host, "host of {input:?}");
            assert_eq!(u.port, *port, "port of {input:?}");
            assert_eq!(u.path, *path, "path of {input:?}");
            assert_eq!(u.query, q(query), "query of {input:?}");
        }
    }

    #[test]
    fn query_param_returns_first() {
        let u = parse_url("/?a=1&a=2&UTM_Source=VK");
        assert_eq!(u.query_param("a"), Some("1"));
        assert_eq!(u.query_param("missing"), None);
        assert_eq!(u.query_param("utm_source"), None);
        assert_eq!(u.query_param_ignore_case("utm_source"), Some("VK"));
    }

    #[test]
    fn host_without_www() {
        assert_eq!(
            parse_url("https://www.example.com/").host_without_www(),
            "example.com"
        );
        assert_eq!(
            parse_url("https://www2.example.com/").host_without_www(),
            "www2.example.com"
        );
    }

    #[test]
    fn hostile_input_is_capped_and_does_not_panic() {
        let garbage: String = "%ж\u{0}%%?&=#:[@/\\".repeat(300);
        assert!(garbage.len() > 4096);
        for input in [
            garbage.clone(),
            format!("https://{garbage}"),
            format!("https://example.com/{garbage}"),
            format!("/?{}", "a=b&".repeat(2000)),
            format!("/?k={}", "x".repeat(5000)),
            "https://[".to_string(),
            "https://[::1".to_string(),
            "https://:80".to_string(),
            "%".to_string(),
            "https://ж".repeat(3000),
        ] {
            let u = parse_url(&input);
            assert!(u.path.starts_with('/'));
            assert!(u.path.chars().count() <= MAX_URL_PART_CHARS);
            assert!(u.query.len() <= MAX_QUERY_PARAMS);
            for (k, v) in &u.query {
                assert!(k.chars().count() <= MAX_URL_PART_CHARS);
                assert!(v.chars().count() <= MAX_URL_PART_CHARS);
            }
        }
    }

    #[test]
    fn cap_bytes_respects_char_boundaries() {
        assert_eq!(cap_bytes("жжж", 3), "ж");
        assert_eq!(cap_bytes("abc", 10), "abc");
        assert_eq!(cap_bytes("ж", 1), "");
    }

    #[test]
    fn percent_decode_borrows_when_nothing_to_decode() {
        assert!(matches!(
            percent_decode("plain/text", true),
            Cow::Borrowed("plain/text")
        ));
        assert!(matches!(percent_decode("a+b", false), Cow::Borrowed("a+b")));
        assert_eq!(percent_decode("a+b", true), "a b");
        assert_eq!(percent_decode("%D0%BF%zz%", false), "п%zz%");
    }

    /// What `Context::from_facts_with` reads without a full parse agrees with
    /// `parse_url`.
    fn check_host_and_query(s: &str) {
        let url = parse_url(s);
        let (host, query) = host_and_query(s);
        assert_eq!(host, url.host, "host of {s:?}");
        let mut pairs: Vec<(String, String)> = Vec::new();
        for_each_query_pair(query, |k, v| pairs.push((k.into_owned(), v.into_owned())));
        assert_eq!(pairs, url.query, "query of {s:?}");
        let (scheme, host) = scheme_and_host(s);
        assert_eq!(scheme.to_ascii_lowercase(), url.scheme, "scheme of {s:?}");
        assert_eq!(host, url.host, "host of {s:?}");
    }

    #[test]
    fn host_and_query_agree_with_parse_url() {
        for s in [
            "https://Example.COM/Path?a=1&b=2#f",
            "HTTPS://WWW.Shop.Example.RU:8443/?utm_source=vk&&=x&flag",
            "mailto:x@example.com?subject=hi",
            "/p?q=a+b%20c",
            "//cdn.example.com?x",
            "https://пример.рф/?к=в",
            "garbage?x=1",
        ] {
            check_host_and_query(s);
        }
    }

    proptest::proptest! {
        #[test]
        fn host_and_query_agree_on_any_input(s in "\\PC{0,120}") {
            check_host_and_query(&s);
        }

        #[test]
        fn host_and_query_agree_on_url_like(s in "(https?://|//|/|\\?)?[a-zA-Zа-я0-9:.@\\[\\]%+&=?#/\\\\-]{0,80}") {
            check_host_and_query(&s);
        }

        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let u = parse_url(&s);
            proptest::prop_assert!(u.path.starts_with('/'));
        }

        #[test]
        fn never_panics_on_url_like(s in "(https?://|//|/|\\?)?[a-zа-я0-9:.@\\[\\]%+&=?#/\\\\-]{0,80}") {
            let u = parse_url(&s);
            proptest::prop_assert!(u.path.starts_with('/'));
        }
    }
}
