//! Pluggable regular-expression engine for `$regex`-style conditions.
//!
//! The engine itself is kept out of the condition language so each build can pick
//! the cheapest correct one: native builds use `regex-lite` (feature `regex`), the
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

/// The built-in engine: `regex-lite` when the `regex` feature is on; otherwise every
/// compile fails with "this build has no regex engine", so `$regex` fails closed.
///
/// `regex-lite` differs from JavaScript regular expressions in a few corners:
/// no look-around or back-references (such patterns are reported as invalid), and
/// `\d`, `\w`, `\s` and case-insensitive matching are ASCII-only.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultPatternEngine;

/// The shared [`DefaultPatternEngine`], for call sites that need a `&dyn PatternEngine`.
pub fn default_engine() -> &'static DefaultPatternEngine {
    static ENGINE: DefaultPatternEngine = DefaultPatternEngine;
    &ENGINE
}

#[cfg(feature = "regex")]
mod lite {
    use super::Pattern;

    /// A `regex-lite` regular expression.
    pub(super) struct LitePattern(pub(super) regex_lite::Regex);

    impl Pattern for LitePattern {
        fn is_match(&self, text: &str) -> bool {
            self.0.is_match(text)
        }
    }

    /// Rewrites the few JavaScript escapes that mean something else (or nothing) to
    /// `regex-lite`: `\<` and `\>` are literal angle brackets in JS but word
    /// boundaries in regex-lite, and `\0` is the NUL character in JS.
    pub(super) fn translate(pattern: &str) -> String {
        let mut out = String::with_capacity(pattern.len() + 4);
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('<') => out.push('<'),
                Some('>') => out.push('>'),
                Some('0') if !chars.peek().is_some_and(|d| d.is_ascii_digit()) => {
                    out.push_str("\\x00")
                }
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        }
        out
    }
}

impl PatternEngine for DefaultPatternEngine {
    #[cfg(feature = "regex")]
    fn compile(&self, pattern: &str, case_insensitive: bool) -> Result<Rc<dyn Pattern>, String> {
        let source = lite::translate(pattern);
        regex_lite::RegexBuilder::new(&source)
            .case_insensitive(case_insensitive)
            .build()
            .map(|re| Rc::new(lite::LitePattern(re)) as Rc<dyn Pattern>)
            .map_err(|e| e.to_string())
    }

    #[cfg(not(feature = "regex"))]
    fn compile(&self, _pattern: &str, _case_insensitive: bool) -> Result<Rc<dyn Pattern>, String> {
        Err("this build has no regex engine".to_string())
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

    #[cfg(not(feature = "regex"))]
    #[test]
    fn no_engine_fails() {
        assert!(default_engine().compile("a", false).is_err());
    }
}
