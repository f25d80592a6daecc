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
    let json = serde_json::to_string(handoff).unwrap_or_else(|_| "null".to_string());
    let nonce = csp_nonce
        .map(|n| format!(" nonce=\"{}\"", escape_attribute(n)))
        .unwrap_or_default();
    format!(
        "<script type=\"application/json\" id=\"{HANDOFF_ELEMENT_ID}\"{nonce}>{}</script>",
        escape_json_for_script(&json)
    )
}

/// JSON text made safe inside a `<script>` element (see the module docs). The
/// result is still valid JSON with the same value.
pub fn escape_json_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// An attribute value escaped for a double-quoted attribute.
pub fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_json_cannot_end_the_element() {
        let hostile = "</script><script>alert(1)</script><!-- \u{2028}\u{2029} &amp;";
        let json = serde_json::to_string(&hostile).unwrap_or_default();
        let escaped = escape_json_for_script(&json);
        for forbidden in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
            assert!(!escaped.contains(forbidden), "{forbidden:?} in {escaped}");
        }
        let back: String = serde_json::from_str(&escaped).unwrap_or_default();
        assert_eq!(back, hostile);
    }
}
