//! The JavaScript coercions GrowthBook's condition evaluator relies on, applied to
//! JSON attribute values: `ToString` (`value + ""`), `ToNumber` (`value * 1`),
//! truthiness, strict equality, the abstract relational comparison behind `<`/`>`,
//! `JSON.stringify` equality and `typeof`-style type names.
//!
//! Everything here is iterative or depth-bounded so no attribute value, however deeply
//! nested, can overflow the stack.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;

use crate::core::decimal::parse_decimal_literal;

use serde_json::{Map, Value};

/// An attribute value as the evaluator sees it: a borrowed JSON value, or a number
/// the evaluator made up (an array's `length`, via a dot path or `$size`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Actual<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(&'a str),
    Arr(&'a [Value]),
    Obj(&'a Map<String, Value>),
}

impl<'a> Actual<'a> {
    /// Views a JSON value.
    #[inline]
    pub(crate) fn of(v: &'a Value) -> Self {
        match v {
            Value::Null => Actual::Null,
            Value::Bool(b) => Actual::Bool(*b),
            Value::Number(n) => Actual::Num(num_f64(n)),
            Value::String(s) => Actual::Str(s),
            Value::Array(a) => Actual::Arr(a),
            Value::Object(m) => Actual::Obj(m),
        }
    }

    /// `value === null`.
    #[inline]
    pub(crate) fn is_null(self) -> bool {
        matches!(self, Actual::Null)
    }

    /// JS truthiness (`!!value`).
    #[inline]
    pub(crate) fn truthy(self) -> bool {
        match self {
            Actual::Null => false,
            Actual::Bool(b) => b,
            Actual::Num(n) => n != 0.0 && !n.is_nan(),
            Actual::Str(s) => !s.is_empty(),
            Actual::Arr(_) | Actual::Obj(_) => true,
        }
    }

    /// GrowthBook's `getType`: the `$type` name of the value.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Actual::Null => "null",
            Actual::Bool(_) => "boolean",
            Actual::Num(_) => "number",
            Actual::Str(_) => "string",
            Actual::Arr(_) => "array",
            Actual::Obj(_) => "object",
        }
    }

    /// JS `String(value)` / `value + ""`.
    pub(crate) fn to_js_string(self) -> Cow<'a, str> {
        match self {
            Actual::Str(s) => Cow::Borrowed(s),
            Actual::Null => Cow::Borrowed("null"),
            Actual::Bool(true) => Cow::Borrowed("true"),
            Actual::Bool(false) => Cow::Borrowed("false"),
            Actual::Num(n) => Cow::Owned(number_to_string(n)),
            Actual::Arr(a) => Cow::Owned(join_array(a)),
            Actual::Obj(_) => Cow::Borrowed(OBJECT_STRING),
        }
    }

    /// JS `ToNumber(value)` (what `value * 1` computes).
    pub(crate) fn to_number(self) -> f64 {
        match self {
            Actual::Null => 0.0,
            Actual::Bool(b) => f64::from(u8::from(b)),
            Actual::Num(n) => n,
            Actual::Str(s) => string_to_number(s),
            Actual::Arr(a) => match a {
                // Fast paths for the common shapes; the general case joins.
                [] => 0.0,
                [Value::Number(n)] => num_f64(n),
                _ => string_to_number(&join_array(a)),
            },
            Actual::Obj(_) => f64::NAN,
        }
    }

    /// JS `ToPrimitive(value)` for the relational operators: strings stay strings,
    /// arrays and objects become their string forms, everything else a number.
    pub(crate) fn to_primitive(self) -> Prim<'a> {
        match self {
            Actual::Str(s) => Prim::Str(Cow::Borrowed(s)),
            Actual::Arr(a) => Prim::Str(Cow::Owned(join_array(a))),
            Actual::Obj(_) => Prim::Str(Cow::Borrowed(OBJECT_STRING)),
            other => Prim::Num(other.to_number()),
        }
    }
}

/// What JS prints for a plain object.
pub(crate) const OBJECT_STRING: &str = "[object Object]";

/// A JSON number as the f64 JavaScript would have parsed it.
#[inline]
pub(crate) fn num_f64(n: &serde_json::Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

/// A primitive operand of `<`, `<=`, `>`, `>=`.
#[derive(Clone, Debug)]
pub(crate) enum Prim<'a> {
    Str(Cow<'a, str>),
    Num(f64),
}

impl Prim<'_> {
    fn as_number(&self) -> f64 {
        match self {
            Prim::Str(s) => string_to_number(s),
            Prim::Num(n) => *n,
        }
    }
}

/// The JS abstract relational comparison: two strings compare by UTF-16 code units,
/// anything else numerically; `None` when a side is NaN (every comparison is false).
pub(crate) fn js_compare(a: &Prim<'_>, b: &Prim<'_>) -> Option<Ordering> {
    match (a, b) {
        (Prim::Str(x), Prim::Str(y)) => Some(utf16_cmp(x, y)),
        _ => a.as_number().partial_cmp(&b.as_number()),
    }
}

/// Compares strings by UTF-16 code units, as JS `<` does on strings.
pub(crate) fn utf16_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.as_bytes().cmp(b.as_bytes());
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// A strictly-comparable expected value (`===`, `Array.prototype.includes`).
/// Arrays and objects in a condition are never strictly equal to an attribute value
/// (they would be different objects in JS), so they only keep their kind.
#[derive(Clone, Debug)]
pub(crate) enum Strict {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// An array or object: equal to nothing.
    Never,
}

impl Strict {
    /// Captures a JSON value for strict comparison.
    pub(crate) fn of(v: &Value) -> Self {
        match v {
            Value::Null => Strict::Null,
            Value::Bool(b) => Strict::Bool(*b),
            Value::Number(n) => Strict::Num(num_f64(n)),
            Value::String(s) => Strict::Str(s.clone()),
            Value::Array(_) | Value::Object(_) => Strict::Never,
        }
    }

    /// `actual === self`.
    #[inline]
    pub(crate) fn strict_eq(&self, actual: Actual<'_>) -> bool {
        match (self, actual) {
            (Strict::Null, Actual::Null) => true,
            (Strict::Bool(a), Actual::Bool(b)) => *a == b,
            (Strict::Num(a), Actual::Num(b)) => *a == b,
            (Strict::Str(a), Actual::Str(b)) => a == b,
            _ => false,
        }
    }
}

/// `member === actual` for a JSON value (a saved-group member).
#[inline]
pub(crate) fn strict_eq_json(member: &Value, actual: Actual<'_>) -> bool {
    match (member, actual) {
        (Value::Null, Actual::Null) => true,
        (Value::Bool(a), Actual::Bool(b)) => *a == b,
        (Value::Number(a), Actual::Num(b)) => num_f64(a) == b,
        (Value::String(a), Actual::Str(b)) => a == b,
        _ => false,
    }
}

/// JS `Number.prototype.toString()` (radix 10): shortest round-trip digits, with the
/// exponent form (`1e+21`, `1e-7`) outside `1e-7 < |x| < 1e21`.
pub(crate) fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    let (digits, n) = shortest_digits(x.abs());
    let k = digits.len() as i32;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = n - 1;
        let _ = write!(out, "e{}{}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    out
}

/// The shortest decimal digits that read back as `x` (finite, above 0), without
/// leading or trailing zeros, and the position of the decimal point relative to
/// them: `x = 0.d₁d₂…dₖ × 10ⁿ`. From zmij, the formatter serde_json writes numbers
/// with, so that no other float formatter is carried (`core::fmt`'s is large in wasm).
fn shortest_digits(x: f64) -> (String, i32) {
    let mut buffer = zmij::Buffer::new();
    let printed = buffer.format_finite(x);
    let (mantissa, exponent) = printed.split_once(['e', 'E']).unwrap_or((printed, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits = format!("{whole}{fraction}");
    let mut point = whole.len() as i32 + exponent;
    let leading = digits.bytes().take_while(|&b| b == b'0').count();
    digits.drain(..leading);
    point -= leading as i32;
    digits.truncate(digits.trim_end_matches('0').len());
    (digits, point)
}

/// JS `StrWhiteSpaceChar`: what `ToNumber` trims from strings.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\u{9}' | '\u{A}' | '\u{B}' | '\u{C}' | '\u{D}' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// JS `StringToNumber`: trims white space; empty is 0; `0x`/`0o`/`0b` integers;
/// an optionally signed decimal literal or `Infinity`; anything else is NaN.
pub(crate) fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_space);
    if t.is_empty() {
        return 0.0;
    }
    let b = t.as_bytes();
    if b.len() > 2 && b[0] == b'0' {
        let radix = match b[1] {
            b'x' | b'X' => 16,
            b'o' | b'O' => 8,
            b'b' | b'B' => 2,
            _ => 0,
        };
        if radix != 0 {
            return parse_radix(&t[2..], radix);
        }
    }
    let (negative, rest) = match b[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let magnitude = if rest == "Infinity" {
        f64::INFINITY
    } else if let Some(magnitude) = parse_decimal_literal(rest) {
        magnitude
    } else {
        return f64::NAN;
    };
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// Digits in `radix` (at least one) as a number; NaN on any other character.
fn parse_radix(digits: &str, radix: u32) -> f64 {
    if digits.is_empty() {
        return f64::NAN;
    }
    let mut value = 0.0f64;
    for c in digits.chars() {
        match c.to_digit(radix) {
            Some(d) => value = value * f64::from(radix) + f64::from(d),
            None => return f64::NAN,
        }
    }
    value
}

/// `Array.prototype.join(",")` as JS applies it for `ToString`: `null` elements are
/// empty, nested arrays are joined recursively, objects are `[object Object]`.
/// Iterative, so nesting depth is no concern.
pub(crate) fn join_array(arr: &[Value]) -> String {
    let mut out = String::new();
    // Each stack entry: the remaining elements of one array and whether it has
    // emitted an element yet (to place the commas).
    let mut stack: Vec<(std::slice::Iter<'_, Value>, bool)> = vec![(arr.iter(), false)];
    while let Some((iter, started)) = stack.last_mut() {
        let Some(item) = iter.next() else {
            stack.pop();
            continue;
        };
        if *started {
            out.push(',');
        }
        *started = true;
        match item {
            Value::Null => {}
            Value::Array(inner) => stack.push((inner.iter(), false)),
            other => out.push_str(&Actual::of(other).to_js_string()),
        }
    }
    out
}

/// `JSON.stringify(actual) === JSON.stringify(expected)`, compared structurally and
/// iteratively. Object members compare in iteration order, as the strings would.
pub(crate) fn json_equal(actual: Actual<'_>, expected: &Value) -> bool {
    let mut pending: Vec<(Actual<'_>, &Value)> = vec![(actual, expected)];
    while let Some((a, e)) = pending.pop() {
        match (a, e) {
            (Actual::Null, Value::Null) => {}
            (Actual::Bool(x), Value::Bool(y)) if x == *y => {}
            // JSON numbers are finite, and JSON.stringify prints -0 as "0".
            (Actual::Num(x), Value::Number(y)) if x == num_f64(y) => {}
            (Actual::Str(x), Value::String(y)) if x == y => {}
            (Actual::Arr(x), Value::Array(y)) if x.len() == y.len() => {
                pending.extend(x.iter().map(Actual::of).zip(y.iter()));
            }
            (Actual::Obj(x), Value::Object(y)) if x.len() == y.len() => {
                for ((ka, va), (ke, ve)) in x.iter().zip(y.iter()) {
                    if ka != ke {
                        return false;
                    }
                    pending.push((Actual::of(va), ve));
                }
            }
            _ => return false,
        }
    }
    true
}

/// Nesting depth of a JSON value (scalars 0, `[]`/`{}` 1), computed iteratively.
pub(crate) fn json_depth(v: &Value) -> usize {
    let mut max = 0;
    let mut pending: Vec<(&Value, usize)> = vec![(v, 0)];
    while let Some((v, d)) = pending.pop() {
        match v {
            Value::Array(a) => {
                max = max.max(d + 1);
                pending.extend(a.iter().map(|c| (c, d + 1)));
            }
            Value::Object(m) => {
                max = max.max(d + 1);
                pending.extend(m.values().map(|c| (c, d + 1)));
            }
            _ => {}
        }
    }
    max
}

/// A short display form of a value for explanations: JSON, cut to `limit` chars.
pub(crate) fn display_json(v: &Value, limit: usize) -> String {
    display_actual(Actual::of(v), limit)
}

/// A short display form of an attribute value for explanations: JSON-like (numbers
/// as JS prints them), cut to `limit` chars. Stops descending after a few levels
/// and once the text is long enough, so huge or deep values cost little.
pub(crate) fn display_actual(a: Actual<'_>, limit: usize) -> String {
    let mut out = String::new();
    write_bounded(a, &mut out, 0, limit.saturating_mul(4).max(8));
    truncate(out, limit)
}

/// Nesting shown by [`display_actual`] before eliding with `…`.
const DISPLAY_DEPTH: usize = 8;

fn write_bounded(a: Actual<'_>, out: &mut String, depth: usize, budget: usize) {
    match a {
        Actual::Null => out.push_str("null"),
        Actual::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Actual::Num(n) => out.push_str(&number_to_string(n)),
        Actual::Str(s) => out.push_str(&quote(s)),
        Actual::Arr(items) if depth >= DISPLAY_DEPTH && !items.is_empty() => out.push_str("[…]"),
        Actual::Obj(map) if depth >= DISPLAY_DEPTH && !map.is_empty() => out.push_str("{…}"),
        Actual::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if out.len() > budget {
                    return;
                }
                if i > 0 {
                    out.push(',');
                }
                write_bounded(Actual::of(item), out, depth + 1, budget);
            }
            out.push(']');
        }
        Actual::Obj(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if out.len() > budget {
                    return;
                }
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&quote(key));
                out.push(':');
                write_bounded(Actual::of(item), out, depth + 1, budget);
            }
            out.push('}');
        }
    }
}

/// A JSON string literal for `s`.
pub(crate) fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn truncate(mut text: String, limit: usize) -> String {
    if let Some((cut, _)) = text.char_indices().nth(limit) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn number_formatting_matches_js() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (100.0, "100"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1.5e21, "1.5e+21"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.25e-7, "1.25e-7"),
            (0.000123, "0.000123"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::INFINITY, "Infinity"),
            (f64::NAN, "NaN"),
            (0.1 + 0.2, "0.30000000000000004"),
            // Exactly between two shortest candidates (…0312 and …0313): JavaScript
            // takes the even one; Rust's `{}` and `{:e}` write …0313.
            (f64::from_bits(0x426c_d0f8_a224_6100), "990120317219.0312"),
        ];
        for (x, s) in cases {
            assert_eq!(number_to_string(*x), *s, "{x}");
        }
    }

    proptest::proptest! {
        /// The digits read back as `x` and are as few as Rust's own shortest
        /// round-trip formatting (`{:e}`) gives. (They may differ from it where two
        /// shortest candidates are equally close: JavaScript then takes the even
        /// one, as zmij does, and `core::fmt` does not; see the table above.)
        #[test]
        fn shortest_digits_read_back_and_are_shortest(bits in proptest::prelude::any::<u64>()) {
            let x = f64::from_bits(bits).abs();
            proptest::prop_assume!(x.is_finite() && x > 0.0);
            let (digits, point) = shortest_digits(x);
            let back: f64 = format!("0.{digits}e{point}").parse().unwrap_or(f64::NAN);
            proptest::prop_assert_eq!(back, x);
            let sci = format!("{x:e}");
            let mantissa = sci.split('e').next().unwrap_or_default();
            proptest::prop_assert_eq!(digits.len(), mantissa.replace('.', "").len());
        }
    }

    #[test]
    fn string_to_number_matches_js() {
        let cases: &[(&str, f64)] = &[
            ("", 0.0),
            ("  \n\t", 0.0),
            (" 42 ", 42.0),
            ("+5", 5.0),
            ("-5.5", -5.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("1E-2", 0.01),
            ("0x1A", 26.0),
            ("0b101", 5.0),
            ("0o17", 15.0),
            ("Infinity", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            ("\u{FEFF}7\u{3000}", 7.0),
        ];
        for (s, n) in cases {
            assert_eq!(string_to_number(s), *n, "{s:?}");
        }
        for bad in [
            "abc", ".", "1e", "1,2", "0x", "-0x1", "inf", "nan", "NaN", "1_0", "e5", "+-1", "5 5",
            "\u{85}5",
        ] {
            assert!(string_to_number(bad).is_nan(), "{bad:?}");
        }
    }

    #[test]
    fn js_string_of_values() {
        let v = json!([1, null, [2, [3, null]], {"a": 1}, true, "x"]);
        assert_eq!(
            Actual::of(&v).to_js_string(),
            "1,,2,3,,[object Object],true,x"
        );
        assert_eq!(Actual::of(&json!([])).to_js_string(), "");
        assert_eq!(Actual::of(&json!([[], []])).to_js_string(), ",");
        assert_eq!(Actual::of(&json!(null)).to_js_string(), "null");
        assert_eq!(Actual::of(&json!({})).to_js_string(), "[object Object]");
    }

    #[test]
    fn to_number_of_values() {
        assert_eq!(Actual::of(&json!(null)).to_number(), 0.0);
        assert_eq!(Actual::of(&json!(true)).to_number(), 1.0);
        assert_eq!(Actual::of(&json!([])).to_number(), 0.0);
        assert_eq!(Actual::of(&json!(["7"])).to_number(), 7.0);
        assert_eq!(Actual::of(&json!([[3]])).to_number(), 3.0);
        assert!(Actual::of(&json!([1, 2])).to_number().is_nan());
        assert!(Actual::of(&json!({})).to_number().is_nan());
    }

    #[test]
    fn relational_comparison() {
        let s = |x: &'static str| Prim::Str(Cow::Borrowed(x));
        assert_eq!(js_compare(&s("a"), &s("b")), Some(Ordering::Less));
        assert_eq!(js_compare(&s("10"), &s("9")), Some(Ordering::Less));
        assert_eq!(
            js_compare(&s("10"), &Prim::Num(9.0)),
            Some(Ordering::Greater)
        );
        assert_eq!(js_compare(&s("x"), &Prim::Num(9.0)), None);
        // U+FF61 sorts after U+1F600 by code point, but before it by UTF-16 units.
        assert_eq!(utf16_cmp("\u{FF61}", "\u{1F600}"), Ordering::Greater);
    }

    #[test]
    fn display_is_bounded() {
        assert_eq!(
            display_json(&json!({"a": [1.0, "x", null]}), 80),
            r#"{"a":[1,"x",null]}"#
        );
        assert_eq!(display_json(&json!("abcdef"), 4), "\"abc…");
        let mut deep = json!(1);
        for _ in 0..10_000 {
            // Not `json!([deep])`: its interpolation re-serializes recursively.
            deep = Value::Array(vec![deep]);
        }
        let shown = display_json(&deep, 80);
        assert!(shown.starts_with("[[[[[[[[[…]"), "{shown}");
        let long: Vec<Value> = (0..100_000).map(|i| json!(i)).collect();
        assert!(display_json(&Value::Array(long), 20).ends_with('…'));
        // Dropping a very deep value recursively is serde_json's business, not ours;
        // keep the test's stack safe by unwrapping it iteratively.
        let mut v = deep;
        while let Value::Array(mut items) = v {
            v = items.pop().unwrap_or(Value::Null);
        }
    }

    #[test]
    fn json_equality() {
        let v = json!({"a": [1, {"b": null}], "c": "d"});
        assert!(json_equal(Actual::of(&v), &v.clone()));
        assert!(json_equal(Actual::of(&json!([1.0])), &json!([1])));
        assert!(!json_equal(Actual::of(&json!([1, 2])), &json!([2, 1])));
        assert!(!json_equal(Actual::of(&json!({"a": 1})), &json!({"b": 1})));
        assert!(!json_equal(Actual::Null, &json!([])));
        assert_eq!(json_depth(&json!([[1], {"a": [2]}])), 3);
    }
}
