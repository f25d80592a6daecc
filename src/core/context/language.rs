//! The visitor's preferred languages from `Accept-Language` or
//! `navigator.languages`.
//!
//! Only primary subtags (`ru`, `en`) are kept: conditions choose content by language,
//! and region subtags would make `ru-RU` vs `ru` a needless distinction.

use super::cap_str;

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
    // At most MAX_ENTRIES entries, kept on the stack.
    let mut entries = [(Subtag::EMPTY, 0.0f64); MAX_ENTRIES];
    let mut len = 0;
    for entry in input.split(',').take(MAX_ENTRIES) {
        if let (Some(parsed), Some(slot)) = (parse_entry(entry), entries.get_mut(len)) {
            *slot = parsed;
            len += 1;
        }
    }
    let entries = entries.get_mut(..len).unwrap_or(&mut []);
    // `sort_by` is stable, so equal weights keep the header's order.
    entries.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut out: Vec<String> = Vec::with_capacity(entries.len());
    for (lang, _) in entries.iter() {
        let lang = lang.as_str();
        if !out.iter().any(|l| l == lang) {
            out.push(lang.to_string());
        }
    }
    out
}

/// The most preferred primary language subtag (see [`languages`]):
/// `"ru-RU,ru;q=0.9,en;q=0.8"` → `"ru"`; missing, `*` or junk → `None`.
pub fn primary_language(input: Option<&str>) -> Option<String> {
    languages(input).into_iter().next()
}

/// A lowercased primary subtag of 2–3 ASCII letters, held inline.
#[derive(Clone, Copy)]
struct Subtag {
    bytes: [u8; 3],
    len: u8,
}

impl Subtag {
    const EMPTY: Subtag = Subtag {
        bytes: [0; 3],
        len: 0,
    };

    /// `s` lowercased, if it is 2–3 ASCII letters.
    fn parse(s: &str) -> Option<Subtag> {
        let src = s.as_bytes();
        if !(2..=3).contains(&src.len()) || !src.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        let mut tag = Subtag::EMPTY;
        for (dst, b) in tag.bytes.iter_mut().zip(src) {
            *dst = b.to_ascii_lowercase();
        }
        tag.len = u8::try_from(src.len()).unwrap_or(0);
        Some(tag)
    }

    fn as_str(&self) -> &str {
        self.bytes
            .get(..usize::from(self.len))
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

/// One `tag;q=0.8` entry → (primary subtag, weight), or `None` to skip it.
fn parse_entry(entry: &str) -> Option<(Subtag, f64)> {
    let mut parts = entry.split(';');
    let tag = parts.next()?.trim();
    let primary = Subtag::parse(tag.split(['-', '_']).next()?)?;
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
            q = parse_decimal(value)?;
            if !(q > 0.0 && q <= 1.0) {
                return None;
            }
        }
    }
    Some((primary, q))
}

/// `value.parse::<f64>().ok()` for a string of ASCII digits and dots, without the
/// general parser for the usual short forms (`0.9`, `1`, `.5`).
fn parse_decimal(value: &str) -> Option<f64> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    let digits = int.len() + frac.len();
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if digits == 0 || digits > 15 || !plain(int) || !plain(frac) {
        return value.parse().ok();
    }
    // At most 15 digits: the mantissa and the power of ten are exact in an f64, so
    // the one correctly rounded division gives exactly what the parser would.
    let mantissa = int
        .bytes()
        .chain(frac.bytes())
        .fold(0u64, |m, b| m * 10 + u64::from(b.wrapping_sub(b'0')));
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let scale = POW10.get(frac.len())?;
    Some(mantissa as f64 / scale)
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
