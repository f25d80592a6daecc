//! Property tests: compiling and evaluating arbitrary JSON conditions against
//! arbitrary JSON attributes never panics, and `explain` agrees with `matches`.

use edge_persona::core::condition::{Condition, SavedGroups};
use edge_persona::core::pattern::default_engine;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Every operator GrowthBook knows, the logical ones, and a few it does not.
const OPERATORS: &[&str] = &[
    "$and",
    "$or",
    "$nor",
    "$not",
    "$eq",
    "$ne",
    "$lt",
    "$lte",
    "$gt",
    "$gte",
    "$exists",
    "$in",
    "$nin",
    "$ini",
    "$nini",
    "$inGroup",
    "$notInGroup",
    "$all",
    "$alli",
    "$size",
    "$elemMatch",
    "$type",
    "$regex",
    "$regexi",
    "$notRegex",
    "$notRegexi",
    "$veq",
    "$vne",
    "$vgt",
    "$vgte",
    "$vlt",
    "$vlte",
    "$foo",
    "$",
    "$groups",
];

const KEYS: &[&str] = &[
    "a", "b", "a.b", "a.0", "a.length", "b.c.d", "", ".", "a..b", "0", "length", "tags",
];

const STRINGS: &[&str] = &[
    "",
    "a",
    "A",
    "b",
    "null",
    "true",
    "1",
    "1.0",
    "1e+21",
    "0x1A",
    " 7 ",
    "-0",
    "Infinity",
    "NaN",
    "1.2.3",
    "v1.2.3-rc.1+b",
    "1.0.0-beta.11",
    "^a",
    "(a|b)",
    "((",
    "[",
    "/???***[)",
    "string",
    "number",
    "boolean",
    "array",
    "object",
    "undefined",
    "g",
    "é",
    "\u{1F600}",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..20).prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        prop::sample::select(STRINGS).prop_map(|s| Value::String(s.to_string())),
        prop::collection::vec(any::<char>(), 0..6)
            .prop_map(|cs| Value::String(cs.into_iter().collect())),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(OPERATORS).prop_map(str::to_string),
        prop::sample::select(KEYS).prop_map(str::to_string),
        prop::collection::vec(prop::sample::select(&['a', 'b', '.', '$', '0'][..]), 0..4)
            .prop_map(|cs| cs.into_iter().collect()),
    ]
}

/// Nested JSON up to depth 8 with condition-ish keys.
fn json_tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(8, 96, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn groups() -> impl Strategy<Value = SavedGroups> {
    prop::collection::vec(
        (prop::sample::select(&["g", "h", "1"][..]), json_tree()),
        0..3,
    )
    .prop_map(|kv| {
        kv.into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<SavedGroups>()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_conditions_never_panic(
        cond in json_tree(),
        attrs in json_tree(),
        groups in groups(),
    ) {
        let (c, issues) = Condition::compile(&cond, default_engine());
        let verdict = c.matches(&attrs, &groups);
        let explained = c.explain(&attrs, &groups);
        prop_assert_eq!(verdict, explained.matched);
        prop_assert!(!explained.reason.is_empty());
        for issue in &issues {
            prop_assert!(!issue.message.is_empty());
        }
        let _ = c.attribute_roots();
    }

    #[test]
    fn conditions_on_matching_shapes_never_panic(
        ops in prop::collection::vec((prop::sample::select(OPERATORS), json_tree()), 0..4),
        path in prop::sample::select(KEYS),
        attrs in json_tree(),
    ) {
        // Operator objects on a path, the shape real conditions have.
        let op_obj: Map<String, Value> = ops.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let cond = json!({ path: Value::Object(op_obj) });
        let attrs = json!({ "a": attrs.clone(), "b": attrs, "tags": ["a", 1, null] });
        let (c, _) = Condition::compile(&cond, default_engine());
        let groups = SavedGroups::new();
        prop_assert_eq!(c.matches(&attrs, &groups), c.explain(&attrs, &groups).matched);
    }
}

/// `{key: value}` without `json!`, whose interpolation re-serializes (recursively).
fn obj(key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_string(), value);
    Value::Object(m)
}

#[test]
fn very_deep_json_is_handled() {
    // Far deeper than the compile cap, in every position that recurses.
    let mut cond = obj("a", json!(1));
    let mut attrs = json!(1);
    for i in 0..3000 {
        cond = match i % 4 {
            0 => obj("$not", cond),
            1 => obj("$and", Value::Array(vec![cond])),
            2 => obj("x", obj("$elemMatch", cond)),
            _ => obj(
                "$or",
                Value::Array(vec![cond, json!({"b": {"$size": {"$not": {"$eq": 1}}}})]),
            ),
        };
        let mut next = obj("x", Value::Array(vec![attrs]));
        if let Value::Object(m) = &mut next {
            m.insert("a".to_string(), json!(1));
        }
        attrs = next;
    }
    let (c, issues) = Condition::compile(&cond, default_engine());
    assert!(!issues.is_empty());
    let groups = SavedGroups::new();
    assert_eq!(
        c.matches(&attrs, &groups),
        c.explain(&attrs, &groups).matched
    );
    let _ = c.attribute_roots();
    let first_cond = cond;
    // A deep literal and deep operator arguments.
    let mut lit = json!(1);
    for _ in 0..3000 {
        lit = Value::Array(vec![lit]);
    }
    for op in [
        "$eq", "$in", "$all", "$size", "$not", "$lt", "$veq", "$regex",
    ] {
        let cond = obj("x", obj(op, lit.clone_shallow_safe()));
        let (c, _) = Condition::compile(&cond, default_engine());
        assert_eq!(
            c.matches(&attrs, &groups),
            c.explain(&attrs, &groups).matched
        );
        unwind(cond);
    }
    let cond = obj("x", lit.clone_shallow_safe());
    let (c, issues) = Condition::compile(&cond, default_engine());
    assert_eq!(issues.len(), 1);
    assert!(!c.matches(&attrs, &groups));
    unwind(cond);
    let (c, _) = Condition::compile(&obj("x", json!({"$gt": 0})), default_engine());
    let wrapped = obj("x", lit.clone_shallow_safe());
    assert_eq!(
        c.matches(&wrapped, &groups),
        c.explain(&wrapped, &groups).matched
    );
    for v in [first_cond, wrapped, lit, attrs] {
        unwind(v);
    }
}

/// Deep-copies a value iteratively (a derived `clone` would recurse).
trait CloneShallowSafe {
    fn clone_shallow_safe(&self) -> Value;
}

impl CloneShallowSafe for Value {
    fn clone_shallow_safe(&self) -> Value {
        // Only chains of single-element arrays are deep in these tests.
        let mut depth = 0;
        let mut cur = self;
        while let Value::Array(items) = cur {
            match items.first() {
                Some(first) => {
                    depth += 1;
                    cur = first;
                }
                None => break,
            }
        }
        let mut out = cur.clone();
        for _ in 0..depth {
            out = Value::Array(vec![out]);
        }
        out
    }
}

/// Takes a deep value apart iteratively, so dropping it cannot overflow the stack.
fn unwind(mut v: Value) {
    let mut stack = Vec::new();
    loop {
        match &mut v {
            Value::Object(m) => stack.extend(std::mem::take(m).into_iter().map(|(_, c)| c)),
            Value::Array(items) => stack.append(items),
            _ => {}
        }
        match stack.pop() {
            Some(next) => v = next,
            None => break,
        }
    }
}
