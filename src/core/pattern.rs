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
/// terminator; syntax the `regex` crate knows but JavaScript refuses (inline flags,
/// stacked quantifiers) is refused here too. What remains different: look-around and
/// back-references are invalid here (`edge-persona check` and the edge refuse a
/// config that uses them), a character outside the Basic Multilingual Plane (an
/// emoji) is one character here and two to JavaScript's `.` and `{n,m}`, and a few
/// exotic case pairs (the Kelvin sign, long s) fold here but not in JavaScript.
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
    /// - an escape JavaScript reads as the character itself is that character: any
    ///   punctuation (`\/`, `\<`), and letters that are no escape there (`\p`, `\z`,
    ///   `\A`, `\e`, or `\x`/`\u` without their hex digits); `\0` is NUL, `\cJ` a
    ///   control character, `\xHH` and `\uHHHH` the character they name;
    /// - inside `[...]`, `[`, `&` and `~` are literal (the `regex`
    ///   crate would read nested classes and set operations), `\b` is a backspace, a
    ///   `-` beside a class escape (`[\w-.]`) is literal, and JavaScript's `[]`
    ///   (nothing) and `[^]` (anything) are spelled out.
    ///
    /// # Errors
    /// Syntax the `regex` crate takes but JavaScript refuses, where the browser would
    /// refuse the config that the edge and `edge-persona check` accept: group flags
    /// and `(?P<name>…)` (only `(?:`, `(?<name>`, and look-around, which the `regex`
    /// crate refuses in turn), and a quantifier on a quantifier or an assertion
    /// (`a**`, `a+{2}`, `^*`, `\b+`). Also a doubled `-` in a class (`[+--]`), which
    /// the two read differently: refused here only, escape one as `\-`.
    pub(super) fn translate(pattern: &str) -> Result<String, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let named_groups = pattern.contains("(?<");
        let mut out = String::with_capacity(pattern.len() + 16);
        let mut in_class = false;
        // What the last token was: a quantifier, or one made lazy by `?`.
        let mut quantified = Quantified::No;
        let mut at = 0;
        while let Some(&c) = chars.get(at) {
            at += 1;
            let was_quantified = std::mem::replace(&mut quantified, Quantified::No);
            if c == '\\' {
                let Some(&letter) = chars.get(at) else {
                    out.push('\\');
                    break;
                };
                at += 1;
                if let Some((body, negated)) = class_escape(letter) {
                    if in_class {
                        // `[\w-.]`, `[.-\w]`, `[!-\W]`: the hyphen is a character, not
                        // a range.
                        if out.ends_with('-') && !out.ends_with(r"\-") && !out.ends_with("[-") {
                            out.pop();
                            out.push_str(r"\-");
                        }
                        // A negated escape is a nested class: the `regex` crate's
                        // classes nest as unions.
                        if negated {
                            out.push_str("[^");
                            out.push_str(body);
                            out.push(']');
                        } else {
                            out.push_str(body);
                        }
                        if chars.get(at) == Some(&'-') && chars.get(at + 1) != Some(&']') {
                            out.push_str(r"\-");
                            at += 1;
                        }
                    } else {
                        out.push_str(if negated { "[^" } else { "[" });
                        out.push_str(body);
                        out.push(']');
                    }
                    continue;
                }
                match letter {
                    'b' if in_class => out.push_str(r"\x08"),
                    'b' => {
                        out.push_str(r"(?-u:\b)");
                        quantified = Quantified::Assertion;
                    }
                    'B' if !in_class => {
                        out.push_str(r"(?-u:\B)");
                        quantified = Quantified::Assertion;
                    }
                    '0' if !chars.get(at).is_some_and(char::is_ascii_digit) => {
                        out.push_str(r"\x00")
                    }
                    // Same meaning in both; `\1`… are back-references (or octal) that
                    // the `regex` crate refuses.
                    'f' | 'n' | 'r' | 't' | 'v' | '0'..='9' => {
                        out.push('\\');
                        out.push(letter);
                    }
                    'k' if named_groups => out.push_str(r"\k"),
                    'c' if chars.get(at).is_some_and(char::is_ascii_alphabetic) => {
                        let control = chars[at] as u32 % 32;
                        at += 1;
                        out.push_str(&format!(r"\x{{{control:X}}}"));
                    }
                    'x' | 'u' => {
                        let digits = if letter == 'x' { 2 } else { 4 };
                        let hex: String = chars.iter().skip(at).take(digits).collect();
                        if hex.len() == digits && hex.chars().all(|d| d.is_ascii_hexdigit()) {
                            at += digits;
                            out.push_str(&format!(r"\x{{{hex}}}"));
                        } else {
                            out.push(letter);
                        }
                    }
                    // `\c` without a letter is a backslash and a `c`.
                    'c' => out.push_str(r"\\c"),
                    // Always a literal, whatever the character means to either engine.
                    _ => out.push_str(&format!("\\x{{{:X}}}", u32::from(letter))),
                }
                continue;
            }
            if in_class {
                match c {
                    ']' => {
                        in_class = false;
                        out.push(']');
                    }
                    '[' | '&' | '~' => {
                        out.push('\\');
                        out.push(c);
                    }
                    // `[+--]` is a range to `-` in JavaScript, set difference to the
                    // `regex` crate: refused rather than read otherwise.
                    '-' if chars.get(at) == Some(&'-') => {
                        return Err(
                            "a doubled `-` in `[…]` reads differently natively: escape one as `\\-`"
                                .to_string(),
                        );
                    }
                    _ => out.push(c),
                }
                continue;
            }
            match c {
                '[' => {
                    let negated = chars.get(at) == Some(&'^');
                    if negated {
                        at += 1;
                    }
                    if chars.get(at) == Some(&']') {
                        at += 1;
                        out.push_str(if negated { "[" } else { "[^" });
                        out.push_str(ANY);
                        out.push(']');
                    } else {
                        in_class = true;
                        out.push_str(if negated { "[^" } else { "[" });
                    }
                }
                '(' if chars.get(at) == Some(&'?') => {
                    // `(?:`, `(?<name>`, and look-around; not `(?i)`, `(?P<name>`.
                    let next = chars.get(at + 1).copied();
                    if !matches!(next, Some(':' | '=' | '!' | '<')) {
                        return Err(format!(
                            "`(?{}` is not JavaScript: use `(?:…)` groups, and the `i` option instead of inline flags",
                            next.map(String::from).unwrap_or_default()
                        ));
                    }
                    // A group name is a JavaScript identifier; the `regex` crate
                    // also takes `.`, `[` and `]` in one (`(?<a.b>…)`).
                    if next == Some('<') && !matches!(chars.get(at + 2), Some('=' | '!')) {
                        let name = chars[at + 2..].iter().take_while(|&&n| n != '>');
                        if let Some(bad) = name.into_iter().find(|n| matches!(n, '.' | '[' | ']')) {
                            return Err(format!(
                                "`{bad}` in a group name is not JavaScript: name groups with letters, digits and `_`"
                            ));
                        }
                    }
                    out.push('(');
                }
                // Lazy: `a*?`, `a??`, `a{2}?`.
                '?' if was_quantified == Quantified::Greedy => {
                    out.push('?');
                    quantified = Quantified::Lazy;
                }
                '*' | '+' | '?' if was_quantified != Quantified::No => {
                    return Err(format!(
                        "`{c}` repeats a repetition or an assertion, which JavaScript refuses"
                    ));
                }
                '*' | '+' | '?' => {
                    out.push(c);
                    quantified = Quantified::Greedy;
                }
                '{' => match counted_repetition(&chars[at..]) {
                    // JavaScript reads a brace that starts no `{n,m}` as itself.
                    0 => out.push_str(r"\{"),
                    _ if was_quantified != Quantified::No => {
                        return Err(
                            "`{…}` repeats a repetition or an assertion, which JavaScript refuses"
                                .to_string(),
                        );
                    }
                    length => {
                        out.push('{');
                        out.extend(&chars[at..at + length]);
                        at += length;
                        quantified = Quantified::Greedy;
                    }
                },
                '^' | '$' => {
                    out.push(c);
                    quantified = Quantified::Assertion;
                }
                '}' => out.push_str(r"\}"),
                ']' => out.push_str(r"\]"),
                '.' => out.push_str(r"[^\n\r\x{2028}\x{2029}]"),
                _ => out.push(c),
            }
        }
        Ok(out)
    }

    /// Whether the token before is a quantifier (and whether `?` made it lazy), or an
    /// assertion (`^ $ \b \B`): JavaScript repeats neither.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Quantified {
        No,
        Greedy,
        Lazy,
        Assertion,
    }

    /// The length of `{n}`, `{n,}` or `{n,m}`'s rest after its `{` at the start of
    /// `rest` (through the `}`), or 0 if `rest` does not start one.
    fn counted_repetition(rest: &[char]) -> usize {
        let digits = |from: usize| {
            rest.iter()
                .skip(from)
                .take_while(|c| c.is_ascii_digit())
                .count()
        };
        let first = digits(0);
        if first == 0 {
            return 0;
        }
        let mut at = first;
        if rest.get(at) == Some(&',') {
            at += 1 + digits(at + 1);
        }
        if rest.get(at) == Some(&'}') {
            at + 1
        } else {
            0
        }
    }
}

impl PatternEngine for DefaultPatternEngine {
    #[cfg(feature = "regex")]
    fn compile(&self, pattern: &str, case_insensitive: bool) -> Result<Rc<dyn Pattern>, String> {
        let source = native::translate(pattern)?;
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
    // Letters that are no escape in JavaScript are themselves.
    (r"^\p{L}+$", false, "Анна", false),
    (r"^\p{L}+$", false, "p{L}}", true),
    (r"a\z", false, "az", true),
    (r"\Aa", false, "Aa", true),
    (r"^\e$", false, "e", true),
    (r"^\x4$", false, "x4", true),
    (r"^\u{2}$", false, "uu", true),
    // …and the escapes JavaScript has name the same characters.
    (r"^\x41\u0042$", false, "AB", true),
    (r"^a\cJb$", false, "a\nb", true),
    (r"^\c1$", false, "\\c1", true),
    // A hyphen beside a class escape is a character.
    (r"^[\w-.]+$", false, "a-b.c", true),
    (r"^[.-\w]+$", false, "a-.", true),
    (r"^[!-\W]$", false, "-", true),
    (r"^[!-\W]$", false, "#", true),
    (r"^[!-\W]$", false, "a", false),
    (r"^[a-\W]$", false, "a", true),
    (r"^[a-\W]$", false, "b", false),
    // Braces and brackets that start nothing are themselves.
    (r"^a{$", false, "a{", true),
    (r"^a{x}$", false, "a{x}", true),
    (r"^}]$", false, "}]", true),
    (r"^a{2}?$", false, "aa", true),
    (r"^a??b$", false, "b", true),
];

/// Patterns the `regex` crate would take that JavaScript refuses: every engine must
/// refuse them (the unit test below, and `src/browser/browser_tests.rs` with the
/// page's `RegExp`), so that a config the browser refuses is refused everywhere.
#[cfg(all(test, any(feature = "regex", feature = "browser")))]
pub(crate) const JS_REFUSED: &[&str] = &[
    "(?i)yandex",
    "(?s)a.b",
    "(?P<n>a)",
    "a**",
    "a+{2}",
    "a{2}*",
    "a*?+",
    "^*/blog",
    "a$?",
    r"\b+",
    "^{2}",
    "[a--b]",
    "^(?<a.b>ya)",
    "(?<a[0]>x)",
];

/// Panics on the first case of [`JS_AGREEMENT_CASES`] that `engine` answers otherwise
/// (`engine_name` says which engine in the message).
#[cfg(all(test, any(feature = "regex", feature = "browser")))]
pub(crate) fn assert_agrees_with_javascript(engine: &dyn PatternEngine, engine_name: &str) {
    for pattern in JS_REFUSED {
        assert!(
            engine.compile(pattern, false).is_err(),
            "{pattern} compiles in {engine_name}"
        );
    }
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
