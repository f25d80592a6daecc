//! Pluggable regular-expression engine for `$regex`-style conditions.
//!
//! The engine itself is kept out of the condition language so each build can pick
//! the cheapest correct one: native builds use the `regex` crate (feature `regex`), the
//! JavaScript builds hand the platform's own `RegExp` in through [`PatternEngine`]
//! (which is also what GrowthBook's JS SDK uses, so those builds match it exactly).
//! A build with neither fails closed: every `$regex` clause evaluates to false and
//! is reported as an issue when the condition is compiled.

use std::rc::Rc;

/// A compiled regular expression.
pub trait Pattern {
    /// Whether the pattern matches anywhere in `text` (JS `RegExp.prototype.test`).
    fn is_match(&self, text: &str) -> bool;
}

/// Compiles pattern source text (JavaScript `RegExp` syntax) into a [`Pattern`].
pub trait PatternEngine {
    /// Compiles `pattern`, case-insensitively when `case_insensitive` is set (the JS
    /// `i` flag). An `Err` carries a human-readable reason and makes the clause fail
    /// closed.
    fn compile(&self, pattern: &str, case_insensitive: bool) -> Result<Rc<dyn Pattern>, String>;
}

/// The built-in engine: the `regex` crate when the `regex` feature is on; otherwise
/// every compile fails with "this build has no regex engine", so `$regex` fails
/// closed.
///
/// Patterns are JavaScript `RegExp` source (no `u` flag), translated so that they
/// mean what they mean in the browser: case-insensitive matching folds Unicode
/// letters (`^анна$` with `i` matches `АННА`), `\d`, `\w` and `\b` are ASCII, `\s`
/// is JavaScript's whitespace (no-break space included) and `.` stops at every line
/// terminator. What remains different: look-around and back-references are
/// invalid here (`edge-persona check` and the edge refuse a config that uses them),
/// and a few exotic case pairs (the Kelvin sign, long s) fold here but not in
/// JavaScript.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultPatternEngine;

/// The shared [`DefaultPatternEngine`], for call sites that need a `&dyn PatternEngine`.
pub fn default_engine() -> &'static DefaultPatternEngine {
    static ENGINE: DefaultPatternEngine = DefaultPatternEngine;
    &ENGINE
}

#[cfg(feature = "regex")]
mod native {
    use super::Pattern;

    /// A `regex` crate regular expression.
    pub(super) struct NativePattern(pub(super) regex::Regex);

    impl Pattern for NativePattern {
        fn is_match(&self, text: &str) -> bool {
            self.0.is_match(text)
        }
    }

    /// JavaScript's `\s`: WhiteSpace and LineTerminator.
    const JS_SPACE: &str = r"\t\n\x0B\x0C\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}";
    /// Every character (for JavaScript's `[^]`; `[]` is its negation).
    const ANY: &str = r"\x00-\x{10FFFF}";

    /// The class an escape like `\d` stands for, as class contents, and whether it
    /// is negated.
    fn class_escape(letter: char) -> Option<(&'static str, bool)> {
        Some(match letter {
            'd' => ("0-9", false),
            'D' => ("0-9", true),
            'w' => ("0-9A-Za-z_", false),
            'W' => ("0-9A-Za-z_", true),
            's' => (JS_SPACE, false),
            'S' => (JS_SPACE, true),
            _ => return None,
        })
    }

    /// Rewrites JavaScript `RegExp` source (no `u` flag) into the `regex` crate's
    /// syntax with the same meaning, as far as the two can agree:
    /// - `\d \w \s` (and negations) become explicit classes: JavaScript's are ASCII,
    ///   except `\s`, which takes in Unicode spaces; `\b \B` are ASCII boundaries;
    /// - `.` excludes `\r`, U+2028 and U+2029 too, as in JavaScript;
    /// - an escaped punctuation character (`\/`, `\<`) is that character, and `\0`
    ///   is NUL;
    /// - inside `[...]`, `[`, `&`, `~` and a doubled `-` are literal (the `regex`
    ///   crate would read nested classes and set operations), `\b` is a backspace,
    ///   and JavaScript's `[]` (nothing) and `[^]` (anything) are spelled out.
    pub(super) fn translate(pattern: &str) -> String {
        let mut out = String::with_capacity(pattern.len() + 16);
        let mut chars = pattern.chars().peekable();
        let mut in_class = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    None => out.push('\\'),
                    Some(letter) => {
                        if let Some((body, negated)) = class_escape(letter) {
                            match (in_class, negated) {
                                (true, false) => out.push_str(body),
                                _ => {
                                    out.push_str(if negated { "[^" } else { "[" });
                                    out.push_str(body);
                                    out.push(']');
                                }
                            }
                        } else if letter == 'b' && in_class {
                            out.push_str(r"\x08");
                        } else if (letter == 'b' || letter == 'B') && !in_class {
                            out.push_str(if letter == 'b' {
                                r"(?-u:\b)"
                            } else {
                                r"(?-u:\B)"
                            });
                        } else if letter == '0' && !chars.peek().is_some_and(char::is_ascii_digit) {
                            out.push_str(r"\x00");
                        } else if letter.is_alphanumeric() {
                            out.push('\\');
                            out.push(letter);
                        } else {
                            // Always a literal, whatever the character means to either engine.
                            out.push_str(&format!("\\x{{{:X}}}", u32::from(letter)));
                        }
                    }
                },
                '[' if !in_class => {
                    let negated = chars.next_if_eq(&'^').is_some();
                    if chars.next_if_eq(&']').is_some() {
                        out.push_str(if negated { "[" } else { "[^" });
                        out.push_str(ANY);
                        out.push(']');
                    } else {
                        in_class = true;
                        out.push_str(if negated { "[^" } else { "[" });
                    }
                }
                ']' if in_class => {
                    in_class = false;
                    out.push(']');
                }
                '[' | '&' | '~' if in_class => {
                    out.push('\\');
                    out.push(c);
                }
                '-' if in_class && chars.peek() == Some(&'-') => out.push_str(r"\-"),
                '.' if !in_class => out.push_str(r"[^\n\r\x{2028}\x{2029}]"),
                _ => out.push(c),
            }
        }
        out
    }
}

impl PatternEngine for DefaultPatternEngine {
    #[cfg(feature = "regex")]
    fn compile(&self, pattern: &str, case_insensitive: bool) -> Result<Rc<dyn Pattern>, String> {
        let source = native::translate(pattern);
        regex::RegexBuilder::new(&source)
            .case_insensitive(case_insensitive)
            .build()
            .map(|re| Rc::new(native::NativePattern(re)) as Rc<dyn Pattern>)
            .map_err(|e| e.to_string())
    }

    #[cfg(not(feature = "regex"))]
    fn compile(&self, _pattern: &str, _case_insensitive: bool) -> Result<Rc<dyn Pattern>, String> {
        Err("this build has no regex engine".to_string())
    }
}

/// Patterns whose meaning differs between JavaScript's `RegExp` and the `regex`
/// crate's own syntax, with what JavaScript (no `u` flag) answers: `(pattern,
/// case-insensitive, text, matches)`. The native engine must agree (the unit test
/// below), and `src/browser/browser_tests.rs` checks every answer against the page's
/// `RegExp` in Chromium.
#[cfg(all(test, any(feature = "regex", feature = "browser")))]
pub(crate) const JS_AGREEMENT_CASES: &[(&str, bool, &str, bool)] = &[
    // Case folding is Unicode, as in JS.
    ("^анна$", true, "АННА", true),
    ("^АННА$", true, "анна", true),
    ("^анна$", false, "АННА", false),
    ("[а-я]+", true, "ПРИВЕТ", true),
    // \s takes in Unicode spaces; \d and \w stay ASCII.
    (r"a\sb", false, "a\u{a0}b", true),
    (r"a\sb", false, "a\u{2003}b", true),
    (r"^\w+$", false, "привет", false),
    (r"^\W+$", false, "привет", true),
    (r"^\d$", false, "\u{663}", false),
    (r"^[\w-]+$", false, "utm-source_1", true),
    (r"^[^\s]+$", false, "a\u{a0}b", false),
    // Word boundaries are ASCII: Cyrillic letters are not word characters.
    (r"\bcat\b", false, "кcatк", true),
    // `.` stops at every line terminator.
    ("^a.c$", false, "a\rc", false),
    ("^a.c$", false, "a\u{2028}c", false),
    ("^a.c$", false, "abc", true),
    // Class syntax: `[` `&` `~` are literal inside, `[]` and `[^]`.
    ("^[a[]$", false, "[", true),
    ("^[a&&b]$", false, "&", true),
    ("^[~]$", false, "~", true),
    ("a[]", false, "a", false),
    ("^a[^]c$", false, "a\nc", true),
    (r"^[\b]$", false, "\u{8}", true),
    // Escaped punctuation is literal.
    (r"^\/blog\/", false, "/blog/post", true),
    (r"a\.b", false, "axb", false),
    (r"a\.b", false, "a.b", true),
    (r"^[\-a]+$", false, "-a-", true),
];

/// Panics on the first case of [`JS_AGREEMENT_CASES`] that `engine` answers otherwise
/// (`engine_name` says which engine in the message).
#[cfg(all(test, any(feature = "regex", feature = "browser")))]
pub(crate) fn assert_agrees_with_javascript(engine: &dyn PatternEngine, engine_name: &str) {
    for (pattern, case_insensitive, text, expected) in JS_AGREEMENT_CASES {
        let compiled = engine
            .compile(pattern, *case_insensitive)
            .unwrap_or_else(|error| panic!("{pattern} in {engine_name}: {error}"));
        assert_eq!(
            compiled.is_match(text),
            *expected,
            "/{pattern}/{} on {text:?} in {engine_name}",
            if *case_insensitive { "i" } else { "" }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "regex")]
    #[test]
    fn default_engine_matches_like_js() {
        let e = default_engine();
        let p = e.compile("(Mobile|Tablet)", false).unwrap();
        assert!(p.is_match("Android Mobile Browser"));
        assert!(!p.is_match("android mobile browser"));
        let p = e.compile("(MOBILE|TABLET)", true).unwrap();
        assert!(p.is_match("android mobile browser"));
        // Escaped slashes are common in patterns written for JS.
        let p = e.compile(r"^\/blog\/", false).unwrap();
        assert!(p.is_match("/blog/post"));
        let p = e.compile(r"a\<b\>", false).unwrap();
        assert!(p.is_match("a<b>"));
        let p = e.compile(r"x\0", false).unwrap();
        assert!(p.is_match("x\0"));
        assert!(e.compile("/???***[)", false).is_err());
    }

    #[cfg(feature = "regex")]
    #[test]
    fn default_engine_agrees_with_javascript_where_regex_syntax_differs() {
        let e = default_engine();
        assert_agrees_with_javascript(e, "the native engine");
        // Look-around and back-references: invalid here, so the clause fails closed.
        assert!(e.compile("(?<=a)b", false).is_err());
        assert!(e.compile(r"(a)\1", false).is_err());
        assert!(e.compile(r"(a)\1", false).is_err());
    }

    #[cfg(not(feature = "regex"))]
    #[test]
    fn no_engine_fails() {
        assert!(default_engine().compile("a", false).is_err());
    }
}
