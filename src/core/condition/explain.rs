//! Human-readable reasons for a verdict, for marketers reading a preview.
//!
//! The verdicts themselves always come from the evaluator in [`super::eval`]; this
//! module only decides which part of the condition to talk about.

use super::compile::{Clause, CondObj, OpKind, PathClause, ValueTest};
use super::eval::{eval_clause, eval_obj, eval_op, get_path};
use super::js_value::{display_actual, display_json, number_to_string, quote, Actual};
use super::SavedGroups;

/// How much of an attribute value a reason shows.
const SHOWN_CHARS: usize = 80;

/// Why a failing condition failed: the first clause that failed, drilled down.
pub(crate) fn explain_failure(obj: &CondObj, root: Actual<'_>, groups: &SavedGroups) -> String {
    match obj.clauses.iter().find(|c| !eval_clause(c, root, groups)) {
        Some(clause) => clause_failure(clause, root, groups),
        None => "every clause matched".to_string(),
    }
}

/// Why a matching condition matched: a summary of each clause.
pub(crate) fn explain_match(obj: &CondObj, root: Actual<'_>, groups: &SavedGroups) -> String {
    match obj.clauses.len() {
        0 => "no conditions: always matches".to_string(),
        1 => describe_matched(obj, root, groups),
        n => format!(
            "all {n} clauses matched: {}",
            describe_matched(obj, root, groups)
        ),
    }
}

fn describe_matched(obj: &CondObj, root: Actual<'_>, groups: &SavedGroups) -> String {
    if obj.clauses.is_empty() {
        return "an empty condition matched".to_string();
    }
    obj.clauses
        .iter()
        .map(|c| clause_match(c, root, groups))
        .collect::<Vec<_>>()
        .join("; ")
}

fn clause_match(clause: &Clause, root: Actual<'_>, groups: &SavedGroups) -> String {
    match clause {
        Clause::Path(p) => format!("`{}` is {}", p.key, shown_value(p, root)),
        Clause::And(list) if list.is_empty() => "`$and` is empty".to_string(),
        Clause::And(list) => list
            .iter()
            .map(|o| describe_matched(o, root, groups))
            .collect::<Vec<_>>()
            .join("; "),
        Clause::Or(list) => match list.iter().find(|o| eval_obj(o, root, groups)) {
            Some(alt) => describe_matched(alt, root, groups),
            None => "`$or` is empty".to_string(),
        },
        Clause::Nor(list) => format!("none of the {} `$nor` alternatives matched", list.len()),
        Clause::Not(inner) => format!(
            "the `$not` condition failed ({})",
            explain_failure(inner, root, groups)
        ),
        Clause::Invalid(inv) => inv.message.clone(),
    }
}

fn clause_failure(clause: &Clause, root: Actual<'_>, groups: &SavedGroups) -> String {
    match clause {
        Clause::Path(p) => {
            let actual = get_path(root, &p.segments).unwrap_or(Actual::Null);
            let shown = shown_value(p, root);
            match value_failure(&p.test, actual, groups) {
                Failure::Needs(need) => format!("`{}` is {shown}, needs {need}", p.key),
                Failure::Invalid(why) => {
                    format!("`{}` cannot be checked: {why} (fails closed)", p.key)
                }
            }
        }
        Clause::And(list) => match list.iter().find(|o| !eval_obj(o, root, groups)) {
            Some(o) => explain_failure(o, root, groups),
            None => "an `$and` condition failed".to_string(),
        },
        Clause::Or(list) => match list.first() {
            Some(first) if list.len() == 1 => explain_failure(first, root, groups),
            Some(first) => format!(
                "none of the {} `$or` alternatives matched (the first: {})",
                list.len(),
                explain_failure(first, root, groups)
            ),
            None => "an `$or` condition failed".to_string(),
        },
        Clause::Nor(list) => match list.iter().position(|o| eval_obj(o, root, groups)) {
            Some(i) => format!(
                "`$nor` alternative {} matched: {}",
                i + 1,
                explain_match(&list[i], root, groups)
            ),
            None => "`$nor` with no alternatives never matches".to_string(),
        },
        Clause::Not(inner) => format!(
            "the `$not` condition matched ({})",
            explain_match(inner, root, groups)
        ),
        Clause::Invalid(inv) if inv.path.is_empty() => {
            format!("invalid condition: {} (fails closed)", inv.message)
        }
        Clause::Invalid(inv) => format!(
            "invalid condition at `{}`: {} (fails closed)",
            inv.path, inv.message
        ),
    }
}

/// The attribute value a path clause sees, for display.
fn shown_value(p: &PathClause, root: Actual<'_>) -> String {
    match get_path(root, &p.segments) {
        Some(a) => display_actual(a, SHOWN_CHARS),
        None => "missing".to_string(),
    }
}

/// What a failing value test wanted.
enum Failure {
    Needs(String),
    Invalid(String),
}

fn value_failure(test: &ValueTest, actual: Actual<'_>, groups: &SavedGroups) -> Failure {
    match test {
        ValueTest::Str { s, .. } => Failure::Needs(quote(s)),
        ValueTest::StrI(s) => Failure::Needs(format!("{} (any case)", quote(s))),
        ValueTest::Num(n) => Failure::Needs(number_to_string(*n)),
        ValueTest::Bool(b) => Failure::Needs(b.to_string()),
        ValueTest::Null => Failure::Needs("null".to_string()),
        ValueTest::Literal(v) => Failure::Needs(display_json(v, SHOWN_CHARS)),
        ValueTest::Ops(ops) => match ops.iter().find(|op| !eval_op(op, actual, groups)) {
            Some(op) => match &op.kind {
                OpKind::Invalid(inv) => Failure::Invalid(inv.message.clone()),
                _ => Failure::Needs(format!("{} {}", op.name, op.shown)),
            },
            None => Failure::Needs("a different value".to_string()),
        },
        ValueTest::Invalid(inv) => Failure::Invalid(inv.message.clone()),
    }
}
