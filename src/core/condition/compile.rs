//! Compiling condition JSON into the evaluation tree, collecting issues on the way.
//!
//! The tree mirrors GrowthBook's evaluator: a condition object is a list of clauses
//! that must all pass (`evalCondition`), a clause value is either a literal to compare
//! against or an operator object (`evalConditionValue`). Everything that can be
//! worked out once (regexes, padded versions, numeric forms of string literals,
//! lower-cased `$ini` lists) is worked out here, so evaluation allocates little.

use crate::core::lowercase::to_lowercase;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::js_value::{
    display_json, json_depth, num_f64, number_to_string, string_to_number, Actual, Prim, Strict,
};
use super::version::padded_version_of;
use super::ConditionIssue;
use crate::core::pattern::{Pattern, PatternEngine};

/// Deepest nesting of condition objects, operator objects and literals accepted;
/// deeper parts fail closed (which also bounds evaluation recursion).
pub(crate) const MAX_DEPTH: usize = 64;

/// How much of an expected value explanations show.
const SHOWN_CHARS: usize = 80;

/// A condition object: every clause must pass.
#[derive(Clone, Debug, Default)]
pub(crate) struct CondObj {
    pub(crate) clauses: Vec<Clause>,
}

/// One key of a condition object.
#[derive(Clone, Debug)]
pub(crate) enum Clause {
    And(Vec<CondObj>),
    Or(Vec<CondObj>),
    Nor(Vec<CondObj>),
    Not(Box<CondObj>),
    Path(PathClause),
    Invalid(Invalid),
}

/// `"a.b.c": <value condition>`.
#[derive(Clone, Debug)]
pub(crate) struct PathClause {
    /// The key as written, for explanations.
    pub(crate) key: Box<str>,
    /// The key split at dots.
    pub(crate) segments: Box<[Box<str>]>,
    pub(crate) test: ValueTest,
}

/// A part that failed validation: evaluates to false, says why.
#[derive(Clone, Debug)]
pub(crate) struct Invalid {
    /// Issue path relative to the condition root.
    pub(crate) path: String,
    pub(crate) message: String,
}

/// What a value must satisfy (GrowthBook's `evalConditionValue`).
#[derive(Clone, Debug)]
pub(crate) enum ValueTest {
    /// `value + "" === s`; `as_number` is the number whose JS string form is `s`, if
    /// any, so numeric attributes compare without formatting.
    Str {
        s: Box<str>,
        as_number: Option<f64>,
    },
    /// `String(value).toLowerCase() === s` (string items of `$alli`), `s` lower-cased.
    StrI(Box<str>),
    /// `value * 1 === n`.
    Num(f64),
    /// `value !== null && !!value === b`.
    Bool(bool),
    /// `value === null`.
    Null,
    /// `JSON.stringify(value) === JSON.stringify(literal)` (arrays, plain objects).
    Literal(Value),
    /// An operator object: every operator must pass.
    Ops(Vec<OpTest>),
    Invalid(Invalid),
}

/// One `$operator: argument` of an operator object.
#[derive(Clone, Debug)]
pub(crate) struct OpTest {
    /// The operator as written (`$gte`).
    pub(crate) name: Box<str>,
    /// The argument as JSON, shortened, for explanations.
    pub(crate) shown: Box<str>,
    pub(crate) kind: OpKind,
}

/// A version comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VersionOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A relational comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RelOp {
    Lt,
    Lte,
    Gt,
    Gte,
}

/// The operator semantics.
#[derive(Clone, Debug)]
pub(crate) enum OpKind {
    Version {
        op: VersionOp,
        padded: Box<str>,
    },
    Eq(Strict),
    Ne(Strict),
    Rel {
        op: RelOp,
        expected: Prim<'static>,
    },
    Exists(bool),
    /// `$in`/`$nin`/`$ini`/`$nini`; for the case-insensitive ones string items are
    /// lower-cased already.
    In {
        items: Vec<Strict>,
        negate: bool,
        insensitive: bool,
    },
    InGroup {
        group: Box<str>,
        negate: bool,
    },
    Not(Box<ValueTest>),
    Size(Box<ValueTest>),
    ElemMatch(ElemMatch),
    /// `$all`/`$alli`: every test must pass for some element.
    All(Vec<ValueTest>),
    Regex {
        pattern: CompiledPattern,
        negate: bool,
    },
    Type(&'static str),
    Invalid(Invalid),
}

/// `$elemMatch` checks each element either as a value or as a nested condition.
#[derive(Clone, Debug)]
pub(crate) enum ElemMatch {
    Value(Box<ValueTest>),
    Cond(Box<CondObj>),
}

/// A compiled pattern plus its source, so the tree stays `Debug`.
#[derive(Clone)]
pub(crate) struct CompiledPattern {
    pub(crate) source: Box<str>,
    pub(crate) pattern: Rc<dyn Pattern>,
}

impl fmt::Debug for CompiledPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

/// The `$type` names GrowthBook knows.
const TYPE_NAMES: [&str; 7] = [
    "string",
    "number",
    "boolean",
    "array",
    "object",
    "null",
    "undefined",
];

/// Compilation state: where we are, what went wrong, and the regex cache.
pub(crate) struct Compiler<'e> {
    patterns: &'e dyn PatternEngine,
    cache: HashMap<(Box<str>, bool), Rc<dyn Pattern>>,
    pub(crate) issues: Vec<ConditionIssue>,
    /// Issue path of the part being compiled, e.g. `$and[1].age.$gte`.
    path: String,
}

impl<'e> Compiler<'e> {
    pub(crate) fn new(patterns: &'e dyn PatternEngine) -> Self {
        Compiler {
            patterns,
            cache: HashMap::new(),
            issues: Vec::new(),
            path: String::new(),
        }
    }

    /// Runs `f` with `seg` appended to the issue path (`.key` or `[i]`).
    fn at<T>(&mut self, seg: PathSeg<'_>, f: impl FnOnce(&mut Self) -> T) -> T {
        let len = self.path.len();
        match seg {
            PathSeg::Key(k) => {
                if !self.path.is_empty() {
                    self.path.push('.');
                }
                self.path.push_str(k);
            }
            PathSeg::Index(i) => {
                self.path.push('[');
                self.path.push_str(&i.to_string());
                self.path.push(']');
            }
        }
        let out = f(self);
        self.path.truncate(len);
        out
    }

    /// Records an issue at the current path and returns the fail-closed marker.
    fn invalid(&mut self, message: String) -> Invalid {
        self.issues.push(ConditionIssue {
            path: self.path.clone(),
            message: message.clone(),
        });
        Invalid {
            path: self.path.clone(),
            message,
        }
    }

    fn too_deep(&mut self) -> Invalid {
        self.invalid(format!("condition nested deeper than {MAX_DEPTH} levels"))
    }

    /// Compiles a condition object (`evalCondition`'s `condition`).
    pub(crate) fn cond_obj(&mut self, json: &Value, depth: usize) -> CondObj {
        if depth > MAX_DEPTH {
            let inv = self.too_deep();
            return CondObj {
                clauses: vec![Clause::Invalid(inv)],
            };
        }
        let Value::Object(map) = json else {
            let inv = self.invalid(format!(
                "expected a condition object, found {}",
                kind_of(json)
            ));
            return CondObj {
                clauses: vec![Clause::Invalid(inv)],
            };
        };
        let clauses = map
            .iter()
            .map(|(key, value)| self.at(PathSeg::Key(key), |c| c.clause(key, value, depth)))
            .collect();
        CondObj { clauses }
    }

    fn clause(&mut self, key: &str, value: &Value, depth: usize) -> Clause {
        match key {
            "$and" | "$or" | "$nor" => match self.cond_list(value, depth) {
                Ok(list) => match key {
                    "$and" => Clause::And(list),
                    "$or" => Clause::Or(list),
                    _ => Clause::Nor(list),
                },
                Err(inv) => Clause::Invalid(inv),
            },
            "$not" => match value {
                Value::Object(_) => Clause::Not(Box::new(self.cond_obj(value, depth + 1))),
                other => Clause::Invalid(self.invalid(format!(
                    "expected a condition object, found {}",
                    kind_of(other)
                ))),
            },
            // Every other key, `$`-prefixed or not, is an attribute path in GrowthBook.
            _ => Clause::Path(PathClause {
                key: key.into(),
                segments: key.split('.').map(Box::from).collect(),
                test: self.value_test(value, depth + 1, false),
            }),
        }
    }

    /// The array of condition objects of `$and`/`$or`/`$nor`; anything else makes the
    /// whole clause invalid, so a malformed `$nor` cannot pass by accident.
    fn cond_list(&mut self, value: &Value, depth: usize) -> Result<Vec<CondObj>, Invalid> {
        let Value::Array(items) = value else {
            return Err(self.invalid(format!(
                "expected an array of condition objects, found {}",
                kind_of(value)
            )));
        };
        let mut list = Vec::with_capacity(items.len());
        let mut first_bad = None;
        for (i, item) in items.iter().enumerate() {
            if item.is_object() {
                list.push(self.at(PathSeg::Index(i), |c| c.cond_obj(item, depth + 1)));
            } else if first_bad.is_none() {
                first_bad = Some(self.at(PathSeg::Index(i), |c| {
                    c.invalid(format!(
                        "expected a condition object, found {}",
                        kind_of(item)
                    ))
                }));
            }
        }
        match first_bad {
            Some(inv) => Err(inv),
            None => Ok(list),
        }
    }

    /// Compiles a clause value (`evalConditionValue`'s `condition`). With
    /// `insensitive` (items of `$alli`), a string compares case-insensitively.
    pub(crate) fn value_test(
        &mut self,
        json: &Value,
        depth: usize,
        insensitive: bool,
    ) -> ValueTest {
        if depth > MAX_DEPTH {
            return ValueTest::Invalid(self.too_deep());
        }
        match json {
            Value::String(s) if insensitive => ValueTest::StrI(to_lowercase(s).into()),
            Value::String(s) => ValueTest::Str {
                s: s.as_str().into(),
                as_number: numeric_form(s),
            },
            Value::Number(n) => ValueTest::Num(num_f64(n)),
            Value::Bool(b) => ValueTest::Bool(*b),
            Value::Null => ValueTest::Null,
            Value::Object(map) if is_operator_object(map) => ValueTest::Ops(
                map.iter()
                    .map(|(op, arg)| self.at(PathSeg::Key(op), |c| c.op_test(op, arg, depth)))
                    .collect(),
            ),
            // Arrays and plain objects compare as JSON; cap their depth like the rest.
            literal => {
                if depth + json_depth(literal) > MAX_DEPTH {
                    ValueTest::Invalid(self.too_deep())
                } else {
                    ValueTest::Literal(literal.clone())
                }
            }
        }
    }

    fn op_test(&mut self, name: &str, arg: &Value, depth: usize) -> OpTest {
        let kind = self.op_kind(name, arg, depth);
        OpTest {
            name: name.into(),
            shown: display_json(arg, SHOWN_CHARS).into(),
            kind,
        }
    }

    fn op_kind(&mut self, name: &str, arg: &Value, depth: usize) -> OpKind {
        let version = |op| OpKind::Version {
            op,
            padded: padded_version_of(arg).into(),
        };
        let rel = |op| OpKind::Rel {
            op,
            expected: static_prim(arg),
        };
        match name {
            "$veq" => version(VersionOp::Eq),
            "$vne" => version(VersionOp::Ne),
            "$vgt" => version(VersionOp::Gt),
            "$vgte" => version(VersionOp::Gte),
            "$vlt" => version(VersionOp::Lt),
            "$vlte" => version(VersionOp::Lte),
            "$eq" => OpKind::Eq(Strict::of(arg)),
            "$ne" => OpKind::Ne(Strict::of(arg)),
            "$lt" => rel(RelOp::Lt),
            "$lte" => rel(RelOp::Lte),
            "$gt" => rel(RelOp::Gt),
            "$gte" => rel(RelOp::Gte),
            "$exists" => match arg {
                Value::Bool(b) => OpKind::Exists(*b),
                Value::Number(n) if matches!(n.as_f64(), Some(x) if x == 0.0 || x == 1.0) => {
                    OpKind::Exists(num_f64(n) != 0.0)
                }
                other => OpKind::Invalid(
                    self.invalid(format!("expected true or false, found {}", kind_of(other))),
                ),
            },
            "$in" | "$nin" | "$ini" | "$nini" => {
                let insensitive = name.ends_with('i');
                match arg {
                    Value::Array(items) => OpKind::In {
                        items: items
                            .iter()
                            .map(|v| match v {
                                Value::String(s) if insensitive => Strict::Str(to_lowercase(s)),
                                other => Strict::of(other),
                            })
                            .collect(),
                        negate: name.starts_with("$n"),
                        insensitive,
                    },
                    other => OpKind::Invalid(self.expected_array(other)),
                }
            }
            "$inGroup" | "$notInGroup" => match arg {
                Value::String(group) => OpKind::InGroup {
                    group: group.as_str().into(),
                    negate: name == "$notInGroup",
                },
                other => OpKind::Invalid(self.invalid(format!(
                    "expected a saved group id (a string), found {}",
                    kind_of(other)
                ))),
            },
            "$not" => OpKind::Not(Box::new(self.value_test(arg, depth + 1, false))),
            "$size" => match arg {
                Value::Number(_) | Value::Object(_) => {
                    OpKind::Size(Box::new(self.value_test(arg, depth + 1, false)))
                }
                other => OpKind::Invalid(self.invalid(format!(
                    "expected a number or an operator object, found {}",
                    kind_of(other)
                ))),
            },
            "$elemMatch" => match arg {
                Value::Object(map) if is_operator_object(map) => OpKind::ElemMatch(
                    ElemMatch::Value(Box::new(self.value_test(arg, depth + 1, false))),
                ),
                Value::Object(_) => {
                    OpKind::ElemMatch(ElemMatch::Cond(Box::new(self.cond_obj(arg, depth + 1))))
                }
                other => OpKind::Invalid(
                    self.invalid(format!("expected an object, found {}", kind_of(other))),
                ),
            },
            "$all" | "$alli" => match arg {
                Value::Array(items) => {
                    let insensitive = name == "$alli";
                    OpKind::All(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, item)| {
                                self.at(PathSeg::Index(i), |c| {
                                    c.value_test(item, depth + 1, insensitive)
                                })
                            })
                            .collect(),
                    )
                }
                other => OpKind::Invalid(self.expected_array(other)),
            },
            "$regex" | "$regexi" | "$notRegex" | "$notRegexi" => match arg {
                Value::String(source) => match self.pattern(source, name.ends_with('i')) {
                    Ok(pattern) => OpKind::Regex {
                        pattern: CompiledPattern {
                            source: source.as_str().into(),
                            pattern,
                        },
                        negate: name.starts_with("$not"),
                    },
                    Err(e) => {
                        OpKind::Invalid(self.invalid(format!("invalid regular expression: {e}")))
                    }
                },
                other => OpKind::Invalid(self.invalid(format!(
                    "expected a regular expression string, found {}",
                    kind_of(other)
                ))),
            },
            "$type" => match arg {
                Value::String(t) => match TYPE_NAMES.iter().find(|n| **n == t.as_str()) {
                    Some(n) => OpKind::Type(n),
                    None => OpKind::Invalid(self.invalid(format!(
                        "unknown type {:?}: expected one of {}",
                        t,
                        TYPE_NAMES.join(", ")
                    ))),
                },
                other => OpKind::Invalid(
                    self.invalid(format!("expected a type name, found {}", kind_of(other))),
                ),
            },
            "$and" | "$or" | "$nor" => OpKind::Invalid(self.invalid(format!(
                "unknown operator `{name}` here: `$and`, `$or` and `$nor` combine whole \
                 conditions, not values of one attribute"
            ))),
            _ => OpKind::Invalid(self.invalid(format!("unknown operator `{name}`"))),
        }
    }

    fn expected_array(&mut self, found: &Value) -> Invalid {
        self.invalid(format!("expected an array, found {}", kind_of(found)))
    }

    /// Compiles a regex once per distinct (source, flags) in this condition.
    fn pattern(&mut self, source: &str, insensitive: bool) -> Result<Rc<dyn Pattern>, String> {
        let key: (Box<str>, bool) = (source.into(), insensitive);
        if let Some(p) = self.cache.get(&key) {
            return Ok(Rc::clone(p));
        }
        let p = self.patterns.compile(source, insensitive)?;
        self.cache.insert(key, Rc::clone(&p));
        Ok(p)
    }
}

/// A segment of an issue path.
enum PathSeg<'a> {
    Key(&'a str),
    Index(usize),
}

/// GrowthBook's `isOperatorObject`: non-empty, every key starts with `$`.
pub(crate) fn is_operator_object(map: &Map<String, Value>) -> bool {
    !map.is_empty() && map.keys().all(|k| k.starts_with('$'))
}

/// The number whose JS string form is exactly `s`, if there is one.
fn numeric_form(s: &str) -> Option<f64> {
    let n = string_to_number(s);
    (!n.is_nan() && number_to_string(n) == s).then_some(n)
}

/// The expected side of a relational operator, converted with `ToPrimitive` once.
fn static_prim(v: &Value) -> Prim<'static> {
    match Actual::of(v).to_primitive() {
        Prim::Str(s) => Prim::Str(std::borrow::Cow::Owned(s.into_owned())),
        Prim::Num(n) => Prim::Num(n),
    }
}

/// "a string", "an array", ... for messages.
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
