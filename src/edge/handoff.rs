//! The edge's decision, handed to the browser runtime in the page, so that the
//! browser does not decide again (no second decision, no flicker) and goes on
//! tracking behaviour and showing popups.
//!
//! The element is `<script type="application/json" id="ep-handoff">`: a data block,
//! which browsers never execute. Its JSON is escaped so that no value (a visitor's
//! name, a UTM parameter) can end the element or start a comment: `<`, `>` and `&`
//! become `\u003c`, `\u003e`, `\u0026`, and U+2028/U+2029 are escaped for old
//! JavaScript parsers.

use crate::core::consent::StorageVerdict;
use crate::core::decide::Decision;
use crate::core::html::escape_html;
use crate::core::profile::codec::CookieStatus;
use crate::core::snippet::CUT_ATTRIBUTE;
use serde::Serialize;

/// The id of the hand-off element, which the browser runtime looks for.
pub const HANDOFF_ELEMENT_ID: &str = "ep-handoff";

/// What the browser runtime needs from the edge.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Handoff<'a, 'c> {
    /// Format version of this object.
    pub version: u32,
    /// The decision the page was rewritten with.
    pub decision: &'a Decision<'c>,
    /// Whether anything may be stored, and why.
    pub storage: &'a StorageVerdict,
    /// What the profile cookie said.
    pub cookie_status: &'a CookieStatus,
}

/// The hand-off as a complete element, ready to insert as HTML. `ascii_only` when
/// the page may not be UTF-8: a `<script>`'s text is not decoded from character
/// references, so every non-ASCII character is then a `\u` escape.
pub fn handoff_element(
    handoff: &Handoff<'_, '_>,
    csp_nonce: Option<&str>,
    ascii_only: bool,
) -> String {
    let nonce = csp_nonce
        .map(|n| format!(" nonce=\"{}\"", escape_html(n)))
        .unwrap_or_default();
    let mut element =
        format!("<script type=\"application/json\" id=\"{HANDOFF_ELEMENT_ID}\"{nonce}>")
            .into_bytes();
    element.reserve(1024);
    if write_script_json(&mut element, handoff, ascii_only).is_err() {
        element.extend_from_slice(b"null");
    }
    element.extend_from_slice(b"</script>");
    // Only whole strings and ASCII were written: always UTF-8.
    String::from_utf8(element).unwrap_or_default()
}

/// A hand-off element from [`handoff_element`] marked [`CUT_ATTRIBUTE`]: rewriting
/// stopped early, and the slots it had not reached show their defaults.
pub fn marked_cut(element: &str) -> String {
    match element.strip_prefix("<script") {
        Some(rest) => format!("<script {CUT_ATTRIBUTE}{rest}"),
        None => element.to_string(),
    }
}

/// Appends `value` as JSON that is safe inside a `<script>` element (see the module
/// docs), in one pass; with `ascii_only`, every non-ASCII character is a `\u`
/// escape too. The text is still valid JSON with the same value.
///
/// # Errors
/// What `value`'s `Serialize` reports (nothing for the hand-off's types).
pub fn write_script_json<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
    ascii_only: bool,
) -> serde_json::Result<()> {
    let mark = out.len();
    let result = value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut *out,
        ScriptSafe { ascii_only },
    ));
    if result.is_err() {
        out.truncate(mark);
    }
    result
}

/// serde_json's compact output, with `<`, `>`, `&`, U+2028 and U+2029 inside
/// strings written as `\u` escapes (and, with `ascii_only`, every non-ASCII
/// character).
struct ScriptSafe {
    ascii_only: bool,
}

impl serde_json::ser::Formatter for ScriptSafe {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut copied = 0;
        for (at, &byte) in bytes.iter().enumerate() {
            // Most bytes need nothing: plain ASCII, or (unless `ascii_only`) a byte
            // of a character other than U+2028/U+2029, which start with E2.
            let candidate = match byte {
                b'<' | b'>' | b'&' => true,
                0x00..=0x7F => false,
                0xE2 => true,
                _ => self.ascii_only && byte >= 0xC0,
            };
            if !candidate || at < copied {
                continue;
            }
            let Some(c) = fragment.get(at..).and_then(|rest| rest.chars().next()) else {
                continue;
            };
            if !(c.is_ascii() || self.ascii_only || matches!(c, '\u{2028}' | '\u{2029}')) {
                continue;
            }
            writer.write_all(&bytes[copied..at])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            copied = at + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[copied..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script_json(text: &str) -> String {
        script_json_with(text, false)
    }

    fn script_json_with(text: &str, ascii_only: bool) -> String {
        let mut out = Vec::new();
        write_script_json(&mut out, text, ascii_only).unwrap_or_default();
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn hostile_json_cannot_end_the_element() {
        let hostile = "</script><script>alert(1)</script><!-- \u{2028}\u{2029} &amp;";
        let escaped = script_json(hostile);
        for forbidden in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
            assert!(!escaped.contains(forbidden), "{forbidden:?} in {escaped}");
        }
        let back: String = serde_json::from_str(&escaped).unwrap_or_default();
        assert_eq!(back, hostile);
    }

    proptest::proptest! {
        #[test]
        fn any_text_survives_escaping_and_never_ends_the_element(text in "\\PC*") {
            let escaped = script_json(&text);
            for forbidden in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
                proptest::prop_assert!(!escaped.contains(forbidden));
            }
            let back: String = serde_json::from_str(&escaped).unwrap_or_default();
            proptest::prop_assert_eq!(back, text);
        }

        #[test]
        fn ascii_only_json_is_ascii_and_keeps_the_value(text in "\\PC*") {
            let escaped = script_json_with(&text, true);
            proptest::prop_assert!(escaped.is_ascii(), "{}", escaped);
            for forbidden in ["<", ">", "&"] {
                proptest::prop_assert!(!escaped.contains(forbidden));
            }
            let back: String = serde_json::from_str(&escaped).unwrap_or_default();
            proptest::prop_assert_eq!(back, text);
        }
    }
}
