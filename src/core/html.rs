//! Markup the engine writes: escaping for what it writes itself (the head snippet,
//! the edge's insertions), so every place treats `&`, `"`, `<` and `>` alike, and the
//! check that a config's `content.html` is a whole fragment.

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

/// Elements whose content the HTML tokenizer reads as text up to their end tag (raw
/// text, RCDATA, or markup only without scripting).
pub const TEXT_PARSING: [&str; 10] = [
    "script",
    "style",
    "textarea",
    "title",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "noscript",
    "plaintext",
];

/// Elements that have no end tag.
const VOID: [&str; 15] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen",
];

/// Elements whose end tag may be left out: the parser closes them at their parent's
/// end tag (or the next sibling), so left open in a fragment they take in nothing.
const OPTIONAL_END: [&str; 18] = [
    "li", "p", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "rb",
    "rt", "rtc", "rp", "colgroup", "caption",
];

/// Checks that a config's `content.html` is a whole fragment: every element it opens
/// is closed, in order (but for those whose end tag HTML lets a page leave out, such
/// as `<li>` and `<p>`), no comment is left open, and it holds no `<script>`,
/// `<plaintext>` or `<template>`. The edge inserts the markup as written, so an
/// unclosed `<a>` would take in the rest of the page there (while the browser, which
/// parses it on its own, would show it fine).
///
/// # Errors
/// What is wrong, in words for the config's author.
pub fn check_fragment(html: &str) -> Result<(), String> {
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix("!--") {
            // `<!-->` and `<!--->` are complete (empty) comments.
            let body = after.strip_prefix('-').unwrap_or(after);
            if let Some(after_empty) = body.strip_prefix('>') {
                rest = after_empty;
                continue;
            }
            let Some(end) = after.find("-->") else {
                return Err("a comment `<!--` is not closed with `-->`".into());
            };
            rest = &after[end + 3..];
            continue;
        }
        if rest.starts_with(['!', '?']) {
            return Err(
                "`<!…>` and `<?…>` markup (a doctype, CDATA) have no place in content".into(),
            );
        }
        let closing = rest.starts_with('/');
        let tag = if closing { &rest[1..] } else { rest };
        let name_len = tag
            .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
            .unwrap_or(tag.len());
        let name = tag[..name_len].to_ascii_lowercase();
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            if closing {
                // `</ x>`, `</3>`: a bogus comment, up to the next `>`.
                let Some(end) = tag.find('>') else {
                    return Err(
                        "`</` without a tag name is read up to a `>`, and none follows".into(),
                    );
                };
                rest = &tag[end + 1..];
            }
            // `a < b`, `<3`: text, as the tokenizer reads it.
            continue;
        }
        let Some(tag_end) = tag_end(&tag[name_len..]) else {
            return Err(format!("the tag <{name} is not finished with `>`"));
        };
        let self_closed = tag[name_len..][..tag_end].trim_end().ends_with('/');
        rest = &tag[name_len + tag_end + 1..];
        if closing {
            let Some(at) = open.iter().rposition(|o| *o == name) else {
                return Err(format!("</{name}> has no <{name}> to close"));
            };
            if let Some(inner) = open[at + 1..]
                .iter()
                .rev()
                .find(|o| !OPTIONAL_END.contains(&o.as_str()))
            {
                return Err(format!(
                    "</{name}> comes before <{inner}> inside it is closed"
                ));
            }
            open.truncate(at);
            continue;
        }
        let in_foreign = open.iter().any(|o| o == "svg" || o == "math");
        // An SVG `<script>` runs too where a parser inserts it (the edge).
        if name == "script" && in_foreign {
            return Err(
                "<script> is not allowed in content.html, in <svg> either: keep scripts in the page (the edge would run them, the browser would not)"
                    .into(),
            );
        }
        if !in_foreign && TEXT_PARSING.contains(&name.as_str()) {
            if name == "script" || name == "plaintext" {
                return Err(format!(
                    "<{name}> is not allowed in content.html: keep scripts in the page (the edge would run them, the browser would not)"
                ));
            }
            // Its content is text up to its end tag: that must follow.
            let Some(end) = end_tag_of(rest, &name) else {
                return Err(format!(
                    "<{name}> is not closed: its content is read as text up to </{name}>, and where the edge inserts it that would take in the page"
                ));
            };
            rest = &rest[end..];
            continue;
        }
        if name == "template" {
            return Err("<template> is not allowed in content.html: use the page's own <template data-ep-variant> with `content.template`".into());
        }
        let foreign_root = name == "svg" || name == "math";
        if VOID.contains(&name.as_str()) || (self_closed && (in_foreign || foreign_root)) {
            continue;
        }
        if self_closed {
            return Err(format!(
                "<{name}/> does not close <{name}> in HTML: write <{name}></{name}>"
            ));
        }
        open.push(name);
    }
    match open
        .iter()
        .rev()
        .find(|o| !OPTIONAL_END.contains(&o.as_str()))
    {
        Some(name) => Err(format!("<{name}> is not closed: write </{name}>")),
        None => Ok(()),
    }
}

/// Where a start or end tag's `>` is in `attributes` (the text after its name).
/// A quote opens a value only right after `=` (`alt=Joe's` has no quoted value),
/// and a quoted value may hold `>`.
fn tag_end(attributes: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut after_equals = false;
    for (i, c) in attributes.char_indices() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '>' => return Some(i),
                '"' | '\'' if after_equals => quote = Some(c),
                '=' => {
                    after_equals = true;
                    continue;
                }
                c if c.is_ascii_whitespace() && after_equals => continue,
                _ => {}
            },
        }
        after_equals = false;
    }
    None
}

/// The position just past `</name…>` in `text` (ASCII case-insensitive), if it
/// is there.
fn end_tag_of(text: &str, name: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let needle = format!("</{name}");
    let mut from = 0;
    while let Some(found) = lower[from..].find(&needle) {
        let after = from + found + needle.len();
        if lower[after..].starts_with(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>') {
            return lower[after..].find('>').map(|end| after + end + 1);
        }
        from = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_fragments_pass() {
        for html in [
            "<b>Welcome</b>",
            "<p class=\"a>b\">Text <a href='/x?a=1&b=2'>link</a></p>",
            "<img src=x alt=\">\"><br><hr/>",
            "<svg viewBox=\"0 0 1 1\"><title>Close</title><path d=\"M0 0\"/></svg>",
            "<svg class=icon/>",
            "a < b and 3 <4 <!-- note --> <!---->",
            "<UL><LI>One</li><li>Two</LI></ul>",
            "<ul><li>One<li>Two</ul>",
            "<p>One<p>Two",
            "<table><tr><td>1<td>2</table>",
            "<img alt=Joe's>",
            "<iframe src=\"https://video.example/embed\"></iframe>",
            "<style>.promo{color:red}</style><b>Sale</b>",
            "<b>x </ y> done</b>",
            "",
        ] {
            assert_eq!(check_fragment(html), Ok(()), "{html}");
        }
    }

    #[test]
    fn fragments_that_would_take_in_the_page_are_refused() {
        for (html, says) in [
            ("<a href=\"/sale\">Spring sale", "<a> is not closed"),
            ("<div class=promo>Sale", "<div> is not closed"),
            ("<ul><li>Sale", "<ul> is not closed"),
            ("<!-- todo", "comment"),
            ("<p><b>x</p></b>", "</p> comes before <b>"),
            ("</div>", "no <div> to close"),
            ("<div/>", "does not close"),
            ("<a href=\"/x\"", "not finished"),
            ("<b>x </ y</b>", "<b> is not closed"),
            ("<b>x </ y", "none follows"),
            ("<script>alert(1)</script>", "<script> is not allowed"),
            (
                "<svg><script>alert(1)</script></svg>",
                "<script> is not allowed",
            ),
            (
                "<math><mi><script>alert(1)</script></mi></math>",
                "<script> is not allowed",
            ),
            ("<style>p{}", "<style> is not closed"),
            ("<iframe src=x>", "<iframe> is not closed"),
            ("<template><b>x</b></template>", "<template> is not allowed"),
            ("<!doctype html>", "doctype"),
        ] {
            let error = check_fragment(html).expect_err(html);
            assert!(error.contains(says), "{html}: {error}");
        }
    }

    #[test]
    fn markup_characters_become_references() {
        assert_eq!(
            escape_html(r#"<a href="x">&</a> Аня"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt; Аня"
        );
    }
}
