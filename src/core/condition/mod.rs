//! Targeting conditions: GrowthBook's MongoDB-style condition language.
//!
//! Semantics follow GrowthBook's JavaScript SDK (`evalCondition` in `mongrule.ts`)
//! exactly, including its JavaScript coercions, so a condition written in GrowthBook
//! decides the same here:
//!
//! - A condition object passes when every key passes. `$and`, `$or` (empty passes),
//!   `$nor` (empty fails) and `$not` combine conditions; every other key, even one
//!   starting with `$`, is a dot path into the attributes (`a.b.0`, `list.length`);
//!   a missing value reads as `null`.
//! - A literal compares like JS: a string with `value + ""`, a number with
//!   `value * 1`, a boolean with `value !== null && !!value`, `null` with `=== null`,
//!   an array or plain object with `JSON.stringify` equality.
//! - An operator object (non-empty, every key `$`-prefixed) passes when every
//!   operator passes: `$eq $ne` (strict), `$lt $lte $gt $gte` (JS relational
//!   comparison), `$exists`, `$in $nin $ini $nini` (array attributes intersect),
//!   `$inGroup $notInGroup` (saved groups), `$all $alli`, `$size`, `$elemMatch`,
//!   `$not`, `$type`, `$regex $regexi $notRegex $notRegexi`, and the version
//!   comparisons `$veq $vne $vgt $vgte $vlt $vlte`.
//!
//! Anything malformed (unknown operator, bad regex, wrong argument shape, nesting
//! deeper than 64 levels) fails closed: that part evaluates to false, and
//! [`Condition::compile`] reports it as a [`ConditionIssue`] with its path.
//!
//! Known differences from the JS SDK, all in corners no real condition uses:
//! JS inherited properties (`constructor`, `__proto__`, ...) are not visible to dot
//! paths; a saved group that is neither an array nor falsy fails closed (JS would
//! throw or do substring matching); object key order in `JSON.stringify` equality is
//! serde_json's map order; regex dialect per [`crate::core::pattern`].

mod compile;
mod eval;
mod explain;
mod js_value;
mod version;

#[cfg(test)]
mod tests;

use crate::core::order::sorted_unique;

use serde_json::{Map, Value};

use crate::core::pattern::PatternEngine;
use compile::{Clause, Compiler, CondObj};
pub(crate) use js_value::number_to_string;
use js_value::Actual;

pub use crate::core::pattern::{default_engine, DefaultPatternEngine};

/// Saved groups: group id -> array of member values (GrowthBook `savedGroups`).
pub type SavedGroups = serde_json::Map<String, serde_json::Value>;

/// A problem found while compiling a condition. The offending part fails closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionIssue {
    /// Where, relative to the condition root: keys joined with `.`, array positions
    /// as `[i]`, e.g. `$and[1].age.$gte`. Empty for the root itself.
    pub path: String,
    /// What is wrong, e.g. "unknown operator `$foo`".
    pub message: String,
}

impl std::fmt::Display for ConditionIssue {
    /// `path: message`, or just the message for the root.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// The verdict of [`Condition::explain`] with a reason a marketer can read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// Same as [`Condition::matches`].
    pub matched: bool,
    /// For a failure, the first clause that failed with the value it saw; for a match,
    /// a short summary of the clauses.
    pub reason: String,
}

/// One condition, compiled once (regexes included) and cheap to evaluate.
///
/// Cloning is cheap for regexes (they are shared through `Rc`, which also makes a
/// `Condition` neither `Send` nor `Sync`: compile one per thread or worker).
#[derive(Clone, Debug)]
pub struct Condition {
    root: CondObj,
    /// The dot paths it reads, sorted, without duplicates.
    paths: Vec<String>,
}

impl Condition {
    /// Compiles condition JSON. Never panics on any JSON.
    ///
    /// Returns the condition, in which invalid parts are fail-closed nodes that
    /// evaluate to false with a reason, plus every issue found, so a config loader
    /// can report them with their paths.
    pub fn compile(json: &Value, patterns: &dyn PatternEngine) -> (Condition, Vec<ConditionIssue>) {
        let mut compiler = Compiler::new(patterns);
        let root = compiler.cond_obj(json, 0);
        let mut paths = Vec::new();
        collect_paths(&root, &mut paths);
        let condition = Condition {
            root,
            paths: sorted_unique(paths),
        };
        (condition, compiler.issues)
    }

    /// Whether the attributes satisfy the condition. `saved_groups` resolves
    /// `$inGroup`/`$notInGroup`.
    pub fn matches(&self, attributes: &Value, saved_groups: &SavedGroups) -> bool {
        eval::eval_obj(&self.root, Actual::of(attributes), saved_groups)
    }

    /// Same verdict as [`Condition::matches`], with a human-readable reason: for a
    /// failure the first failing clause and the value it saw (e.g.
    /// "`visitor.visits` is 1, needs $gte 3"), for a match a summary (e.g.
    /// "all 2 clauses matched: `utm.source` is \"yandex\"; `device` is \"mobile\"").
    pub fn explain(&self, attributes: &Value, saved_groups: &SavedGroups) -> Explanation {
        let root = Actual::of(attributes);
        let matched = self.matches(attributes, saved_groups);
        let reason = if matched {
            explain::explain_match(&self.root, root, saved_groups)
        } else {
            explain::explain_failure(&self.root, root, saved_groups)
        };
        Explanation { matched, reason }
    }

    /// The top-level attribute names (first dot-path segment) this condition reads,
    /// sorted and without duplicates, through `$and`/`$or`/`$nor`/`$not`. Paths
    /// inside `$elemMatch` are relative to the array elements, so only the array's own
    /// path counts.
    pub fn attribute_roots(&self) -> Vec<String> {
        let roots: Vec<&str> = self
            .paths
            .iter()
            .map(|p| p.split('.').next().unwrap_or(p))
            .collect();
        sorted_unique(roots).into_iter().map(String::from).collect()
    }

    /// The full dot paths this condition reads (outside `$elemMatch`), so a caller
    /// can compute just those attributes.
    pub fn attribute_paths(&self) -> Vec<String> {
        self.paths.clone()
    }
}

fn collect_paths(obj: &CondObj, out: &mut Vec<String>) {
    for clause in &obj.clauses {
        match clause {
            Clause::And(list) | Clause::Or(list) | Clause::Nor(list) => {
                list.iter().for_each(|o| collect_paths(o, out));
            }
            Clause::Not(inner) => collect_paths(inner, out),
            Clause::Path(p) => out.push(p.key.to_string()),
            Clause::Invalid(_) => {}
        }
    }
}

/// Each attribute a condition (as written) tests, with what it is tested against,
/// through `$and`, `$or`, `$nor` and `$not`: for config checks that need the values
/// a condition compares with.
pub fn attribute_tests(condition: &Map<String, Value>) -> Vec<(&str, &Value)> {
    let mut tests = Vec::new();
    collect_tests(condition, &mut tests);
    tests
}

fn collect_tests<'c>(condition: &'c Map<String, Value>, out: &mut Vec<(&'c str, &'c Value)>) {
    for (key, value) in condition {
        match (key.as_str(), value) {
            ("$and" | "$or" | "$nor", Value::Array(list)) => {
                for inner in list.iter().filter_map(Value::as_object) {
                    collect_tests(inner, out);
                }
            }
            ("$not", Value::Object(inner)) => collect_tests(inner, out),
            (key, _) if key.starts_with('$') => {}
            (key, value) => out.push((key, value)),
        }
    }
}

/// The strings a test compares its attribute with exactly (case-sensitively): the
/// value itself, or under `$eq`, `$ne`, `$in`, `$nin`, `$all`, `$elemMatch`, `$not`;
/// not patterns or case-insensitive operators.
pub fn exact_strings(test: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    collect_exact(test, &mut out);
    out
}

/// The saved groups a test names, each with its operator (`$inGroup`,
/// `$notInGroup`, also under `$not`).
pub fn named_groups(test: &Value) -> Vec<(&str, &str)> {
    let Value::Object(ops) = test else {
        return Vec::new();
    };
    ops.iter()
        .flat_map(|(op, arg)| match (op.as_str(), arg) {
            ("$inGroup" | "$notInGroup", Value::String(group)) => {
                vec![(op.as_str(), group.as_str())]
            }
            ("$not", inner) => named_groups(inner),
            _ => Vec::new(),
        })
        .collect()
}

fn collect_exact<'v>(test: &'v Value, out: &mut Vec<&'v str>) {
    match test {
        Value::String(s) => out.push(s),
        Value::Object(ops) if ops.keys().all(|k| k.starts_with('$')) => {
            for (op, arg) in ops {
                match (op.as_str(), arg) {
                    ("$eq" | "$ne" | "$not" | "$elemMatch", _) => collect_exact(arg, out),
                    ("$in" | "$nin" | "$all", Value::Array(items)) => {
                        out.extend(items.iter().filter_map(Value::as_str));
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}
