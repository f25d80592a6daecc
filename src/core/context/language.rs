//! The visitor's preferred languages from `Accept-Language` or
//! `navigator.languages`.
//!
//! Only primary subtags (`ru`, `en`) are kept: conditions choose content by language,
//! and region subtags would make `ru-RU` vs `ru` a needless distinction.

use super::{cap_str, split_byte, split_once_byte, trim};
use crate::core::order::stable_sort_by;

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
    let input = cap_str(input.unwrap_or(""), MAX_INPUT_CHARS);
    // Real headers have a handful of entries: keep up to INLINE on the stack and
    // move to the heap only beyond that (never more than MAX_ENTRIES).
    const INLINE: usize = 8;
    let mut inline = [(Subtag::EMPTY, 0.0f64); INLINE];
    let mut len = 0;
    let mut spilled: Vec<(Subtag, f64)> = Vec::new();
    for entry in split_byte(input, b',').take(MAX_ENTRIES) {
        let Some(parsed) = parse_entry(entry) else {
            continue;
        };
        if let Some(slot) = inline.get_mut(len) {
            *slot = parsed;
        } else {
            if spilled.is_empty() {
                spilled.extend_from_slice(&inline);
            }
            spilled.push(parsed);
        }
        len += 1;
    }
    let entries = if spilled.is_empty() {
        inline.get_mut(..len).unwrap_or(&mut [])
    } else {
        spilled.as_mut_slice()
    };
    // Stable: equal weights keep the header's order.
    stable_sort_by(entries, |a, b| {
        a.1.total_cmp(&b.1) == std::cmp::Ordering::Greater
    });
    // Drop repeats (keeping the first, most preferred) before making strings.
    let mut unique = 0;
    for i in 0..entries.len() {
        let Some(&(lang, _)) = entries.get(i) else {
            break;
        };
        let seen = entries.get(..unique).unwrap_or(&[]);
        if !seen.iter().any(|(l, _)| *l == lang) {
            if let Some(slot) = entries.get_mut(unique) {
                slot.0 = lang;
            }
            unique += 1;
        }
    }
    let entries = entries.get(..unique).unwrap_or(&[]);
    entries
        .iter()
        .map(|(l, _)| l.as_str().to_string())
        .collect()
}

/// The most preferred primary language subtag (see [`languages`]):
/// `"ru-RU,ru;q=0.9,en;q=0.8"` → `"ru"`; missing, `*` or junk → `None`.
pub fn primary_language(input: Option<&str>) -> Option<String> {
    languages(input).into_iter().next()
}

/// A lowercased primary subtag of 2–3 ASCII letters, held inline: the letters,
/// zero-padded to 4 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Subtag([u8; 4]);

impl Subtag {
    const EMPTY: Subtag = Subtag([0; 4]);

    /// `s` lowercased, if it is 2–3 ASCII letters.
    fn parse(s: &str) -> Option<Subtag> {
        let src = s.as_bytes();
        if !(2..=3).contains(&src.len()) || !src.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        // Built in a register: byte stores followed by a word load would stall.
        let word = src
            .iter()
            .rev()
            .fold(0u32, |w, b| (w << 8) | u32::from(b.to_ascii_lowercase()));
        Some(Subtag(word.to_le_bytes()))
    }

    fn as_str(&self) -> &str {
        let len = if self.0[2] == 0 { 2 } else { 3 };
        self.0
            .get(..len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

/// One `tag;q=0.8` entry → (primary subtag, weight), or `None` to skip it.
fn parse_entry(entry: &str) -> Option<(Subtag, f64)> {
    let mut parts = split_byte(entry, b';');
    let tag = trim(parts.next()?);
    let primary = match tag.bytes().position(|b| b == b'-' || b == b'_') {
        Some(i) => tag.get(..i)?,
        None => tag,
    };
    let primary = Subtag::parse(primary)?;
    let mut q = 1.0;
    for param in parts {
        let Some((key, value)) = split_once_byte(param, b'=') else {
            continue;
        };
        if trim(key).eq_ignore_ascii_case("q") {
            let value = trim(value);
            // RFC 9110 qvalue: 0–1 with up to three decimals; be lenient on the
            // decimals but insist on a plain number (no `inf`, `nan`, `1e0`).
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return None;
            }
            q = parse_decimal(value)?;
            if !(q > 0.0 && q <= 1.0) {
                return None;
            }
        }
    }
    Some((primary, q))
}

/// [`parse_decimal_literal`](crate::core::decimal::parse_decimal_literal): exactly
/// `value.parse::<f64>().ok()` for a string of ASCII digits and dots, and no signs,
/// `inf` or `NaN`. The usual short forms (`0.9`, `1`, `.5`) are read here without the
/// general parser, which in the browser is a call out to JavaScript.
fn parse_decimal(value: &str) -> Option<f64> {
    let (int, frac) = split_once_byte(value, b'.').unwrap_or((value, ""));
    let digits = int.len() + frac.len();
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if digits == 0 || digits > 9 || !plain(int) || !plain(frac) {
        return crate::core::decimal::parse_decimal_literal(value);
    }
    // At most 9 digits: the mantissa and the power of ten are exact in an f64, so
    // the one correctly rounded division gives exactly what the parser would.
    let mantissa = int
        .bytes()
        .chain(frac.bytes())
        .fold(0u32, |m, b| m * 10 + u32::from(b.wrapping_sub(b'0')));
    const POW10: [f64; 10] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
    let scale = POW10.get(frac.len())?;
    Some(f64::from(mantissa) / scale)
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

    #[test]
    fn decimals_parse_like_std() {
        for s in [
            "0.9",
            "1",
            "1.0",
            ".5",
            "5.",
            ".",
            "0.123456789",
            "0.1234567891",
            "1.2.3",
            "00.5",
            "999999999",
            "9999999999",
            "0.000000001",
        ] {
            assert_eq!(parse_decimal(s), s.parse().ok(), "{s:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn decimals_parse_like_std_on_any_digits(s in "[0-9.]{0,14}") {
            proptest::prop_assert_eq!(parse_decimal(&s), s.parse::<f64>().ok());
        }

        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let langs = languages(Some(&s));
            proptest::prop_assert!(langs.len() <= MAX_ENTRIES);
        }
    }
}
