//! The visitor's preferred languages from `Accept-Language` or
//! `navigator.languages`.
//!
//! Only primary subtags (`ru`, `en`) are kept: conditions choose content by language,
//! and region subtags would make `ru-RU` vs `ru` a needless distinction.

use super::cap_chars;

/// The most input characters examined; real headers are well under 200.
const MAX_INPUT_CHARS: usize = 1024;

/// The most list entries examined, so `a,a,a,…` cannot cause quadratic work.
const MAX_ENTRIES: usize = 32;

/// Primary language subtags ordered by preference (highest `q` first; equal `q`
/// keeps the given order), lowercased and without duplicates.
///
/// Accepts an `Accept-Language` header (`"ru-RU,ru;q=0.9,en;q=0.8"`) or
/// `navigator.languages` joined with commas (`"ru-RU,en-US"`), or a single
/// `navigator.language`. `_` is accepted as a subtag separator (`zh_CN`). Skipped:
/// `*`, entries with `q=0` (RFC 9110: "not acceptable"), entries with a malformed or
/// out-of-range `q`, and tags whose primary subtag is not 2–3 ASCII letters (junk,
/// `x-…`/`i-…` private and grandfathered tags).
pub fn languages(input: Option<&str>) -> Vec<String> {
    let input = cap_chars(input.unwrap_or(""), MAX_INPUT_CHARS);
    let mut entries: Vec<(String, f64)> = input
        .split(',')
        .take(MAX_ENTRIES)
        .filter_map(parse_entry)
        .collect();
    // `sort_by` is stable, so equal weights keep the header's order.
    entries.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut out: Vec<String> = Vec::with_capacity(entries.len());
    for (lang, _) in entries {
        if !out.contains(&lang) {
            out.push(lang);
        }
    }
    out
}

/// The most preferred primary language subtag (see [`languages`]):
/// `"ru-RU,ru;q=0.9,en;q=0.8"` → `"ru"`; missing, `*` or junk → `None`.
pub fn primary_language(input: Option<&str>) -> Option<String> {
    languages(input).into_iter().next()
}

/// One `tag;q=0.8` entry → (primary subtag, weight), or `None` to skip it.
fn parse_entry(entry: &str) -> Option<(String, f64)> {
    let mut parts = entry.split(';');
    let tag = parts.next()?.trim();
    let primary = tag.split(['-', '_']).next()?;
    if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let mut q = 1.0;
    for param in parts {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        if key.trim().eq_ignore_ascii_case("q") {
            let value = value.trim();
            // RFC 9110 qvalue: 0–1 with up to three decimals; be lenient on the
            // decimals but insist on a plain number (no `inf`, `nan`, `1e0`).
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return None;
            }
            q = value.parse::<f64>().ok()?;
            if !(q > 0.0 && q <= 1.0) {
                return None;
            }
        }
    }
    Some((primary.to_ascii_lowercase(), q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(Option<&str>, &[&str])] = &[
            (Some("ru-RU,ru;q=0.9,en;q=0.8"), &["ru", "en"]),
            (Some("en;q=0.5, de"), &["de", "en"]),
            (Some("en-US,en;q=0.9,ru;q=0.9"), &["en", "ru"]),
            (Some("fr;q=0.3, ru;q=0.7, en;q=0.7"), &["ru", "en", "fr"]),
            (Some("ru"), &["ru"]),
            (Some("  RU-ru  "), &["ru"]),
            (Some("zh_CN"), &["zh"]),
            (Some("ru-RU,en-US"), &["ru", "en"]),
            (Some("*"), &[]),
            (Some("*;q=1, fr;q=0.1"), &["fr"]),
            (Some("ru;q=0, en"), &["en"]),
            (Some("ru;q=1.5, en;q=0.2"), &["en"]),
            (Some("ru;q=abc, en"), &["en"]),
            (Some("ru;q=NaN, en;q=inf, de;q="), &[]),
            (Some("ru ; Q = 0.4 , uk;q=0.5"), &["uk", "ru"]),
            (Some("en;level=1, ru"), &["en", "ru"]),
            (Some("x-klingon, i-navajo, 12, @@, r, abcd"), &[]),
            (Some("ру"), &[]),
            (Some(",,,;;;===,"), &[]),
            (Some(""), &[]),
            (None, &[]),
        ];
        for (input, expected) in cases {
            let got = languages(*input);
            assert_eq!(got, *expected, "languages of {input:?}");
            assert_eq!(
                primary_language(*input).as_deref(),
                expected.first().copied(),
                "primary of {input:?}"
            );
        }
    }

    #[test]
    fn hostile_input() {
        let long = "ru-RU;q=0.5,".repeat(500);
        assert_eq!(languages(Some(&long)), vec!["ru"]);
        let junk = "ж;q=".repeat(2000);
        assert_eq!(primary_language(Some(&junk)), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let langs = languages(Some(&s));
            proptest::prop_assert!(langs.len() <= MAX_ENTRIES);
        }
    }
}
