//! Escaping for markup the engine writes itself (the head snippet, the edge's
//! insertions): one function, so every place treats `&`, `"`, `<` and `>` alike.

/// `text` escaped for HTML text content and for a double-quoted attribute value.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_references() {
        assert_eq!(
            escape_html(r#"<a href="x">&</a> Аня"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt; Аня"
        );
    }
}
