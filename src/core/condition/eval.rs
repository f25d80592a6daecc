//! Evaluating a compiled condition against attributes (the hot path).
//!
//! Recursion follows the compiled tree, whose depth [`super::compile::MAX_DEPTH`]
//! bounds; attribute values are only walked iteratively.

use crate::core::lowercase::to_lowercase;
use std::cmp::Ordering;

use serde_json::Value;

use super::compile::{Clause, CondObj, ElemMatch, OpKind, OpTest, RelOp, ValueTest, VersionOp};
use super::js_value::{js_compare, json_equal, strict_eq_json, utf16_cmp, Actual, Strict};
use super::version::padded_version_string;
use super::SavedGroups;

/// GrowthBook's `getPath`, except that it tells a missing value (`None`) from a
/// present `null`; the evaluator treats both as `null`. Arrays answer numeric
/// indices and `length`, as `in` does for JS arrays.
pub(crate) fn get_path<'a>(root: Actual<'a>, segments: &[Box<str>]) -> Option<Actual<'a>> {
    let mut current = root;
    for seg in segments {
        current = match current {
            Actual::Obj(map) => Actual::of(map.get(&**seg)?),
            Actual::Arr(items) => {
                if &**seg == "length" {
                    Actual::Num(items.len() as f64)
                } else {
                    Actual::of(items.get(array_index(seg)?)?)
                }
            }
            _ => return None,
        };
    }
    Some(current)
}

/// A canonical JS array index ("0", "17"; not "01", "+1" or "1.0").
fn array_index(seg: &str) -> Option<usize> {
    let b = seg.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    seg.parse().ok()
}

/// Whether every clause passes.
pub(crate) fn eval_obj(obj: &CondObj, root: Actual<'_>, groups: &SavedGroups) -> bool {
    obj.clauses.iter().all(|c| eval_clause(c, root, groups))
}

/// GrowthBook's `evalOr`: an empty list passes.
pub(crate) fn eval_or(list: &[CondObj], root: Actual<'_>, groups: &SavedGroups) -> bool {
    list.is_empty() || list.iter().any(|o| eval_obj(o, root, groups))
}

/// One clause of a condition object.
pub(crate) fn eval_clause(clause: &Clause, root: Actual<'_>, groups: &SavedGroups) -> bool {
    match clause {
        Clause::And(list) => list.iter().all(|o| eval_obj(o, root, groups)),
        Clause::Or(list) => eval_or(list, root, groups),
        // `$nor: []` fails, because GrowthBook negates `evalOr`, which passes it.
        Clause::Nor(list) => !eval_or(list, root, groups),
        Clause::Not(inner) => !eval_obj(inner, root, groups),
        Clause::Path(p) => {
            let actual = get_path(root, &p.segments).unwrap_or(Actual::Null);
            eval_value(&p.test, actual, groups)
        }
        Clause::Invalid(_) => false,
    }
}

/// GrowthBook's `evalConditionValue`.
pub(crate) fn eval_value(test: &ValueTest, actual: Actual<'_>, groups: &SavedGroups) -> bool {
    match test {
        ValueTest::Str { s, as_number } => match actual {
            Actual::Str(a) => a == &**s,
            Actual::Num(n) => *as_number == Some(n),
            Actual::Null => &**s == "null",
            Actual::Bool(b) => &**s == if b { "true" } else { "false" },
            other => other.to_js_string() == **s,
        },
        ValueTest::StrI(lower) => lower_eq(&actual.to_js_string(), lower),
        ValueTest::Num(n) => actual.to_number() == *n,
        ValueTest::Bool(b) => !actual.is_null() && actual.truthy() == *b,
        ValueTest::Null => actual.is_null(),
        ValueTest::Literal(lit) => json_equal(actual, lit),
        ValueTest::Ops(ops) => ops.iter().all(|op| eval_op(op, actual, groups)),
        ValueTest::Invalid(_) => false,
    }
}

/// `text.toLowerCase() === lower` where `lower` is lower-cased already.
fn lower_eq(text: &str, lower: &str) -> bool {
    if text.is_ascii() {
        // ASCII lower-casing is byte-wise: no allocation needed.
        return text.eq_ignore_ascii_case(lower);
    }
    to_lowercase(text) == lower
}

/// GrowthBook's `evalOperatorCondition`.
pub(crate) fn eval_op(op: &OpTest, actual: Actual<'_>, groups: &SavedGroups) -> bool {
    match &op.kind {
        OpKind::Version { op, padded } => {
            let ord = utf16_cmp(&padded_version_string(actual), padded);
            match op {
                VersionOp::Eq => ord == Ordering::Equal,
                VersionOp::Ne => ord != Ordering::Equal,
                VersionOp::Gt => ord == Ordering::Greater,
                VersionOp::Gte => ord != Ordering::Less,
                VersionOp::Lt => ord == Ordering::Less,
                VersionOp::Lte => ord != Ordering::Greater,
            }
        }
        OpKind::Eq(expected) => expected.strict_eq(actual),
        OpKind::Ne(expected) => !expected.strict_eq(actual),
        OpKind::Rel { op, expected } => {
            let ord = js_compare(&actual.to_primitive(), expected);
            match op {
                RelOp::Lt => ord == Some(Ordering::Less),
                RelOp::Lte => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                RelOp::Gt => ord == Some(Ordering::Greater),
                RelOp::Gte => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
            }
        }
        OpKind::Exists(expected) => actual.is_null() != *expected,
        OpKind::In {
            items,
            negate,
            insensitive,
        } => is_in(actual, items, *insensitive) != *negate,
        OpKind::InGroup { group, negate } => match group_members(groups, group) {
            Some(members) => is_in_json(actual, members) != *negate,
            // A malformed group fails closed for both operators.
            None => false,
        },
        OpKind::Not(inner) => !eval_value(inner, actual, groups),
        OpKind::Size(inner) => match actual {
            Actual::Arr(items) => eval_value(inner, Actual::Num(items.len() as f64), groups),
            _ => false,
        },
        OpKind::ElemMatch(check) => match actual {
            Actual::Arr(items) => items.iter().map(Actual::of).any(|el| {
                // GrowthBook skips falsy elements (`actual[i] && check(actual[i])`).
                el.truthy()
                    && match check {
                        ElemMatch::Value(t) => eval_value(t, el, groups),
                        // The element is the root of the nested condition's paths.
                        ElemMatch::Cond(c) => eval_obj(c, el, groups),
                    }
            }),
            _ => false,
        },
        OpKind::All(tests) => match actual {
            Actual::Arr(items) => tests
                .iter()
                .all(|t| items.iter().any(|el| eval_value(t, Actual::of(el), groups))),
            _ => false,
        },
        OpKind::Regex { pattern, negate } => {
            // `RegExp.test` converts its argument with `String()`.
            pattern.pattern.is_match(&actual.to_js_string()) != *negate
        }
        OpKind::Type(name) => actual.type_name() == *name,
        OpKind::Invalid(_) => false,
    }
}

/// GrowthBook's `isIn`: an array attribute matches if any element is in the list.
fn is_in(actual: Actual<'_>, items: &[Strict], insensitive: bool) -> bool {
    let contains = |a: Actual<'_>| {
        items.iter().any(|item| match (item, a) {
            // The case-insensitive lists hold lower-cased strings already.
            (Strict::Str(lower), Actual::Str(s)) if insensitive => lower_eq(s, lower),
            _ => item.strict_eq(a),
        })
    };
    match actual {
        Actual::Arr(els) => els.iter().any(|el| contains(Actual::of(el))),
        other => contains(other),
    }
}

/// `isIn` against a saved group's raw JSON members.
fn is_in_json(actual: Actual<'_>, members: &[Value]) -> bool {
    let contains = |a: Actual<'_>| members.iter().any(|m| strict_eq_json(m, a));
    match actual {
        Actual::Arr(els) => els.iter().any(|el| contains(Actual::of(el))),
        other => contains(other),
    }
}

/// The members of a saved group: `savedGroups[id] || []`. `None` when the entry is
/// something GrowthBook could not use as a list (it would throw or do substring
/// matching), which fails closed.
fn group_members<'g>(groups: &'g SavedGroups, id: &str) -> Option<&'g [Value]> {
    match groups.get(id) {
        None => Some(&[]),
        Some(Value::Array(items)) => Some(items),
        Some(v) if !Actual::of(v).truthy() => Some(&[]),
        Some(_) => None,
    }
}
