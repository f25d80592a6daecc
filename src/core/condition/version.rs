//! GrowthBook's `paddedVersionString`: turns a version into a string whose plain
//! (UTF-16 code unit) order is the version order, for `$veq`, `$vgt`, etc.

use serde_json::Value;

use super::js_value::{number_to_string, Actual};

/// Pads a version the way GrowthBook does: numbers become strings; anything else
/// that is not a non-empty string becomes `"0"`; a leading `v` and a `+build`
/// suffix are dropped; the rest is split at `-` and `.`; a bare `x.y.z` gets a `~`
/// part (so it sorts after its pre-releases); all-digit parts are left-padded with
/// spaces to 5 characters; the parts are joined with `-`.
pub(crate) fn padded_version_string(input: Actual<'_>) -> String {
    let owned;
    let text: &str = match input {
        Actual::Num(n) => {
            owned = number_to_string(n);
            &owned
        }
        Actual::Str(s) if !s.is_empty() => s,
        _ => "0",
    };
    let text = strip_build(text.strip_prefix('v').unwrap_or(text));
    let mut out = String::with_capacity(text.len() + 16);
    let mut count = 0usize;
    for part in text.split(['-', '.']) {
        if count > 0 {
            out.push('-');
        }
        count += 1;
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            out.extend(std::iter::repeat_n(' ', 5usize.saturating_sub(part.len())));
        }
        out.push_str(part);
    }
    if count == 3 {
        out.push_str("-~");
    }
    out
}

/// The expected side of a version operator, padded once at compile time.
pub(crate) fn padded_version_of(expected: &Value) -> String {
    padded_version_string(Actual::of(expected))
}

/// Drops a `+build` suffix like the JS `/\+.*$/` does: `.` does not cross line
/// terminators, so only a `+` after the last line terminator starts a match.
fn strip_build(s: &str) -> &str {
    let tail_start = s
        .char_indices()
        .rev()
        .find(|(_, c)| matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    match s[tail_start..].find('+') {
        Some(p) => &s[..tail_start + p],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pad(v: Value) -> String {
        padded_version_of(&v)
    }

    #[test]
    fn pads_like_growthbook() {
        assert_eq!(pad(json!("1.2.3")), "    1-    2-    3-~");
        assert_eq!(pad(json!("v1.2.3+build.7")), "    1-    2-    3-~");
        assert_eq!(pad(json!("1.0.0-beta.11")), "    1-    0-    0-beta-   11");
        assert_eq!(pad(json!("123456.1")), "123456-    1");
        assert_eq!(pad(json!(2)), "    2");
        assert_eq!(pad(json!(1.5)), "    1-    5");
        assert_eq!(pad(json!(null)), "    0");
        assert_eq!(pad(json!("")), "    0");
        assert_eq!(pad(json!(true)), "    0");
        assert_eq!(pad(json!("1..2")), "    1--    2-~");
        assert_eq!(pad(json!("+x")), "");
        assert_eq!(pad(json!("v+x")), "");
        assert_eq!(pad(json!("1+a\nb")), "1+a\nb");
        assert_eq!(pad(json!("1\n2+a")), "1\n2");
    }

    #[test]
    fn order_is_version_order() {
        let lt = |a: &str, b: &str| pad(json!(a)) < pad(json!(b));
        assert!(lt("0.9.0", "0.10.0"));
        assert!(lt("1.0.0-rc.1", "1.0.0"));
        assert!(lt("1.0.0-beta.2", "1.0.0-beta.11"));
        assert!(!lt("1.2.3", "1.2.3"));
    }
}
