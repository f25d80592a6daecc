//! Cookie text as browsers and HTTP carry it: reading a `Cookie` header (or
//! `document.cookie`, which has the same form) and writing the profile cookie as a
//! `Set-Cookie` value. The browser and the edge layers share this, so the cookie is
//! written with the same attributes everywhere.

use crate::core::consent::REFUSED_COOKIE_VALUE;
use crate::core::engine::CookieWrite;
use std::collections::BTreeMap;

/// Longest cookie value kept, in bytes (browsers cap a cookie at 4 KB); a longer
/// value is cut at a character boundary. The header itself is read whole, however
/// long: cut, it would hand on a later cookie's value cut too, and a profile cookie
/// behind a site's large cookies would read as damaged and be replaced.
const MAX_VALUE_BYTES: usize = 8 * 1024;

/// The values of the cookies named in `wanted` from a `Cookie` header (or
/// `document.cookie`). Values are percent-decoded where that gives valid UTF-8 and
/// kept as sent otherwise, so a broken `%E0%A4` stays literal text instead of failing.
/// The first cookie of a name wins, as in browsers' ordering (most specific path
/// first).
pub fn read_cookies(header: &str, wanted: &[&str]) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for pair in header.split(';') {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if !wanted.contains(&name) || found.contains_key(name) {
            continue;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        let value = truncate_at_char_boundary(value, MAX_VALUE_BYTES);
        found.insert(name.to_string(), percent_decode(value));
    }
    found
}

/// The `Set-Cookie` value (also what `document.cookie = …` takes) for a cookie write,
/// or `None` for [`CookieWrite::Unchanged`]. `Path=/`, `SameSite=Lax`, and `Secure`
/// when the page is served over https.
pub fn set_cookie_value(write: &CookieWrite, secure: bool) -> Option<String> {
    let secure = if secure { "; Secure" } else { "" };
    match write {
        CookieWrite::Set {
            name,
            value,
            max_age_seconds,
        } => Some(format!(
            "{name}={value}; Max-Age={max_age_seconds}; Path=/; SameSite=Lax{secure}"
        )),
        CookieWrite::Delete { name } => {
            Some(format!("{name}=; Max-Age=0; Path=/; SameSite=Lax{secure}"))
        }
        CookieWrite::Refuse {
            name,
            max_age_seconds,
        } => Some(format!(
            "{name}={REFUSED_COOKIE_VALUE}; Max-Age={max_age_seconds}; Path=/; SameSite=Lax{secure}"
        )),
        CookieWrite::Unchanged => None,
    }
}

fn truncate_at_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `%XX` sequences decoded; the original text when they do not form valid UTF-8.
fn percent_decode(value: &str) -> String {
    if !value.contains('%') {
        return value.to_string();
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&hi), Some(&lo)) if hex(hi).is_some() && hex(lo).is_some() => {
                let byte = hex(hi).unwrap_or(0) * 16 + hex(lo).unwrap_or(0);
                out.push(byte as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_wanted_cookies_and_decodes_them() {
        let header = "_ga=GA1.2; name=%D0%90%D0%BD%D0%BD%D0%B0; ep=1cABC; other=x";
        let found = read_cookies(header, &["name", "ep"]);
        assert_eq!(found.get("name").map(String::as_str), Some("Анна"));
        assert_eq!(found.get("ep").map(String::as_str), Some("1cABC"));
        assert!(!found.contains_key("_ga"));
    }

    #[test]
    fn broken_percent_encoding_stays_literal_and_first_cookie_wins() {
        let found = read_cookies("name=%E0%A4%zz; name=second", &["name"]);
        assert_eq!(found.get("name").map(String::as_str), Some("%E0%A4%zz"));
        let quoted = read_cookies("name=\"<b>\"", &["name"]);
        assert_eq!(quoted.get("name").map(String::as_str), Some("<b>"));
    }

    #[test]
    fn oversized_values_are_cut_at_a_character_boundary() {
        let header = format!("name={}", "я".repeat(MAX_VALUE_BYTES));
        let found = read_cookies(&header, &["name"]);
        assert!(found["name"].len() <= MAX_VALUE_BYTES);
        assert!(found["name"].starts_with("яя"));
    }

    #[test]
    fn a_cookie_behind_large_ones_is_read_whole() {
        let profile = "1.AbCdEf0123456789-_";
        let header = format!(
            "big={}; other={}; ep={profile}",
            "x".repeat(16_370),
            "y".repeat(4_000)
        );
        let found = read_cookies(&header, &["ep"]);
        assert_eq!(found.get("ep").map(String::as_str), Some(profile));
    }

    #[test]
    fn set_cookie_values() {
        let set = CookieWrite::Set {
            name: "ep".into(),
            value: "1cAAA".into(),
            max_age_seconds: 60,
        };
        assert_eq!(
            set_cookie_value(&set, true).as_deref(),
            Some("ep=1cAAA; Max-Age=60; Path=/; SameSite=Lax; Secure")
        );
        let delete = CookieWrite::Delete { name: "ep".into() };
        assert_eq!(
            set_cookie_value(&delete, false).as_deref(),
            Some("ep=; Max-Age=0; Path=/; SameSite=Lax")
        );
        assert_eq!(set_cookie_value(&CookieWrite::Unchanged, true), None);
    }
}
