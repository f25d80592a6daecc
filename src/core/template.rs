//! Text templates with placeholders: `Здравствуйте, {cookies.name|гость}!`.
//!
//! A placeholder names a field from an allow-list ([`ALLOWED_FIELDS`] plus the
//! cookies the config declares) and may give a fallback after `|`. The result is
//! always plain text: the browser sets it as a text node and the edge escapes it, so
//! a visitor-controlled value can never become markup. Values are also cleaned
//! ([`clean_value`]) so they cannot smuggle control or bidi-override characters.

/// Fields a template may use, besides `cookies.<name>` for declared cookies.
pub const ALLOWED_FIELDS: &[&str] = &[
    "utm.source",
    "utm.medium",
    "utm.campaign",
    "utm.term",
    "utm.content",
    "referrer.source",
    "geo.country",
    "geo.region",
    "geo.city",
    "page.category",
    "time.partOfDay",
    "time.weekday",
    "time.season",
    "experience",
    "stage",
    "price.band",
    "topInterest",
];

/// Longest value (in characters) a placeholder takes from visitor data.
pub const MAX_VALUE_CHARS: usize = 64;

/// A parsed template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Field {
        path: String,
        fallback: Option<String>,
    },
}

impl Template {
    /// Parses `text`. `{{` and `}}` stand for literal braces.
    ///
    /// # Errors
    /// A sentence naming the problem: an unclosed or empty placeholder, or a stray `}`.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, n)| n) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|&(_, n)| n) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => {
                    return Err(format!(
                        "stray `}}` at character {at}; write `}}}}` for a brace"
                    ))
                }
                '{' => {
                    let mut inner = String::new();
                    let mut closed = false;
                    for (_, c) in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        inner.push(c);
                    }
                    if !closed {
                        return Err(format!(
                            "placeholder opened at character {at} is not closed"
                        ));
                    }
                    let (path, fallback) = match inner.split_once('|') {
                        Some((path, fallback)) => (path.trim(), Some(fallback.trim().to_string())),
                        None => (inner.trim(), None),
                    };
                    if path.is_empty() {
                        return Err(format!("empty placeholder at character {at}"));
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Field {
                        path: path.to_string(),
                        fallback,
                    });
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template { parts })
    }

    /// The field paths the template reads.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Field { path, .. } => Some(path.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// Whether the template has no placeholders.
    pub fn is_static(&self) -> bool {
        self.fields().next().is_none()
    }

    /// Renders the template. `lookup` gives a field's raw value; `encode` turns a
    /// cleaned value into what is inserted (identity for text, percent-encoding for
    /// URLs). Returns `None` when a field has no value and no fallback.
    pub fn render(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
        encode: &dyn Fn(&str) -> String,
    ) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Field { path, fallback } => {
                    let value = lookup(path)
                        .map(|v| clean_value(&v))
                        .filter(|v| !v.is_empty());
                    match (value, fallback) {
                        (Some(value), _) => out.push_str(&encode(&value)),
                        (None, Some(fallback)) => out.push_str(fallback),
                        (None, None) => return None,
                    }
                }
            }
        }
        Some(out)
    }
}

/// Cleans a visitor-derived value for display: drops control characters and the
/// bidi embedding / override / isolate marks (which could reorder the text around
/// the value), trims, and caps the length at [`MAX_VALUE_CHARS`].
pub fn clean_value(raw: &str) -> String {
    let kept = |c: &char| {
        !c.is_control() && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    let mut out = String::with_capacity(raw.len().min(MAX_VALUE_CHARS * 4));
    // Leading whitespace never counts; trailing whitespace is trimmed at the end.
    for c in raw
        .chars()
        .filter(kept)
        .skip_while(|c| c.is_whitespace())
        .take(MAX_VALUE_CHARS)
    {
        out.push(c);
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

/// Percent-encodes a value for a URL query or path component (RFC 3986 unreserved
/// characters pass).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(path: &str) -> Option<String> {
        match path {
            "cookies.name" => Some("Анна".into()),
            "cookies.evil" => Some("<img src=x onerror=alert(1)>\u{202E}\u{0007}".into()),
            "utm.campaign" => Some("spring sale&x=1".into()),
            _ => None,
        }
    }

    fn text(s: &str) -> String {
        s.to_string()
    }

    #[test]
    fn renders_fields_and_fallbacks() {
        let t = Template::parse("Здравствуйте, {cookies.name}! {{ok}}").unwrap();
        assert_eq!(
            t.render(&lookup, &text).unwrap(),
            "Здравствуйте, Анна! {ok}"
        );
        let t = Template::parse("Hi {cookies.missing|guest}").unwrap();
        assert_eq!(t.render(&lookup, &text).unwrap(), "Hi guest");
        // Spaces around the bar go, on both sides, as they do around the field.
        let t = Template::parse("Привет, {cookies.missing | гость}!").unwrap();
        assert_eq!(t.render(&lookup, &text).unwrap(), "Привет, гость!");
        let t = Template::parse("Hi {cookies.missing}").unwrap();
        assert_eq!(t.render(&lookup, &text), None);
    }

    #[test]
    fn hostile_values_stay_text_without_control_characters() {
        let t = Template::parse("{cookies.evil}").unwrap();
        assert_eq!(
            t.render(&lookup, &text).unwrap(),
            "<img src=x onerror=alert(1)>"
        );
    }

    #[test]
    fn url_values_are_percent_encoded() {
        let t = Template::parse("/book?c={utm.campaign}").unwrap();
        let encode = |v: &str| percent_encode(v);
        assert_eq!(
            t.render(&lookup, &encode).unwrap(),
            "/book?c=spring%20sale%26x%3D1"
        );
    }

    #[test]
    fn malformed_templates_are_errors() {
        assert!(Template::parse("Hi {name").is_err());
        assert!(Template::parse("Hi {}").is_err());
        assert!(Template::parse("Hi }").is_err());
    }

    #[test]
    fn long_values_are_capped() {
        let long = "я".repeat(5000);
        assert_eq!(clean_value(&long).chars().count(), MAX_VALUE_CHARS);
    }
}
