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

/// The hand-off as a complete element, ready to insert as HTML.
pub fn handoff_element(handoff: &Handoff<'_, '_>, csp_nonce: Option<&str>) -> String {
    let nonce = csp_nonce
        .map(|n| format!(" nonce=\"{}\"", escape_html(n)))
        .unwrap_or_default();
    let mut element = format!(
        "<script type=\"application/json\" id=\"{HANDOFF_ELEMENT_ID}\"{nonce}>"
    )
    .into_bytes();
    element.reserve(1024);
    if write_script_json(&mut element, handoff).is_err() {
        element.extend_from_slice(b"null");
    }
    element.extend_from_slice(b"</script>");
    // Only whole strings and ASCII were written: always UTF-8.
    String::from_utf8(element).unwrap_or_default()
}

/// Appends `value` as JSON that is safe inside a `<script>` element (see the module
/// docs), in one pass. The text is still valid JSON with the same value.
///
/// # Errors
/// What `value`'s `Serialize` reports (nothing for the hand-off's types).
pub fn write_script_json<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> serde_json::Result<()> {
    let mark = out.len();
    let result = value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut *out,
        ScriptSafe,
    ));
    if result.is_err() {
        out.truncate(mark);
    }
    result
}

/// serde_json's compact output, with `<`, `>`, `&`, U+2028 and U+2029 inside
/// strings written as `\u` escapes.
struct ScriptSafe;

impl serde_json::ser::Formatter for ScriptSafe {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut copied = 0;
        for (at, &byte) in bytes.iter().enumerate() {
            let escape: &[u8] = match byte {
                b'<' => b"\\u003c",
                b'>' => b"\\u003e",
                b'&' => b"\\u0026",
                // U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8.
                0xE2 if bytes.get(at + 1) == Some(&0x80) && bytes.get(at + 2) == Some(&0xA8) => {
                    b"\\u2028"
                }
                0xE2 if bytes.get(at + 1) == Some(&0x80) && bytes.get(at + 2) == Some(&0xA9) => {
                    b"\\u2029"
                }
                _ => continue,
            };
            writer.write_all(&bytes[copied..at])?;
            writer.write_all(escape)?;
            copied = at + if byte == 0xE2 { 3 } else { 1 };
        }
        writer.write_all(&bytes[copied..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script_json(text: &str) -> String {
        let mut out = Vec::new();
        write_script_json(&mut out, text).unwrap_or_default();
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
    }
}
