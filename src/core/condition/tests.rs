//! Unit tests for the condition language, by operator family.

use serde_json::{json, Value};

use super::*;

fn compile(cond: Value) -> (Condition, Vec<ConditionIssue>) {
    Condition::compile(&cond, default_engine())
}

fn check_groups(cond: Value, attrs: Value, groups: &SavedGroups) -> bool {
    let (c, _) = compile(cond);
    let verdict = c.matches(&attrs, groups);
    assert_eq!(verdict, c.explain(&attrs, groups).matched);
    verdict
}

fn check(cond: Value, attrs: Value) -> bool {
    check_groups(cond, attrs, &SavedGroups::new())
}

fn issues(cond: Value) -> Vec<(String, String)> {
    compile(cond)
        .1
        .into_iter()
        .map(|i| (i.path, i.message))
        .collect()
}

fn reason(cond: Value, attrs: Value) -> String {
    compile(cond).0.explain(&attrs, &SavedGroups::new()).reason
}

#[test]
fn string_literals_use_js_string_conversion() {
    assert!(check(json!({"a": "1"}), json!({"a": 1})));
    assert!(check(json!({"a": "1e+21"}), json!({"a": 1e21})));
    assert!(check(json!({"a": "0.000001"}), json!({"a": 0.000001})));
    assert!(check(json!({"a": "1e-7"}), json!({"a": 1e-7})));
    assert!(!check(json!({"a": "1.0"}), json!({"a": 1})));
    assert!(check(json!({"a": "null"}), json!({})));
    assert!(check(json!({"a": "true"}), json!({"a": true})));
    assert!(check(json!({"a": "x,,2"}), json!({"a": ["x", null, 2]})));
    assert!(check(
        json!({"a": "[object Object]"}),
        json!({"a": {"b": 1}})
    ));
    assert!(check(json!({"a.length": "3"}), json!({"a": [1, 2, 3]})));
    assert!(!check(json!({"a": "b"}), json!({"a": "B"})));
}

#[test]
fn number_literals_use_to_number() {
    assert!(check(json!({"a": 5}), json!({"a": "5"})));
    assert!(check(json!({"a": 5}), json!({"a": " 5 "})));
    assert!(check(json!({"a": 26}), json!({"a": "0x1A"})));
    assert!(check(json!({"a": 0}), json!({})));
    assert!(check(json!({"a": 0}), json!({"a": ""})));
    assert!(check(json!({"a": 1}), json!({"a": true})));
    assert!(check(json!({"a": 7}), json!({"a": [7]})));
    assert!(!check(json!({"a": 7}), json!({"a": [7, 8]})));
    assert!(!check(json!({"a": 7}), json!({"a": "7px"})));
}

#[test]
fn boolean_and_null_literals() {
    assert!(check(json!({"a": true}), json!({"a": "x"})));
    assert!(check(json!({"a": true}), json!({"a": []})));
    assert!(check(json!({"a": false}), json!({"a": 0})));
    assert!(check(json!({"a": false}), json!({"a": ""})));
    assert!(!check(json!({"a": false}), json!({"a": null})));
    assert!(!check(json!({"a": false}), json!({})));
    assert!(check(json!({"a": null}), json!({})));
    assert!(check(json!({"a": null}), json!({"a": null})));
    assert!(!check(json!({"a": null}), json!({"a": 0})));
}

#[test]
fn array_and_object_literals_compare_as_json() {
    assert!(check(json!({"a": [1, "x"]}), json!({"a": [1.0, "x"]})));
    assert!(!check(json!({"a": [1, "x"]}), json!({"a": ["x", 1]})));
    assert!(check(json!({"a": {}}), json!({"a": {}})));
    assert!(!check(json!({"a": {}}), json!({"a": {"b": 1}})));
    // Mixed `$`/plain keys are not an operator object: a literal.
    assert!(check(
        json!({"a": {"$gt": 1, "b": 2}}),
        json!({"a": {"$gt": 1, "b": 2}})
    ));
    assert!(issues(json!({"a": {"$gt": 1, "b": 2}})).is_empty());
}

#[test]
fn dot_paths() {
    let attrs = json!({"a": {"b": [{"c": 1}, {"c": 2}]}, "x.y": 3});
    assert!(check(json!({"a.b.1.c": 2}), attrs.clone()));
    assert!(check(json!({"a.b.length": 2}), attrs.clone()));
    assert!(check(
        json!({"a.b.01.c": {"$exists": false}}),
        attrs.clone()
    ));
    assert!(check(json!({"a.b.5": {"$exists": false}}), attrs.clone()));
    // Keys with dots are not reachable: the path is split first.
    assert!(check(json!({"x.y": {"$exists": false}}), attrs.clone()));
    assert!(check(json!({"a.b.c": null}), attrs.clone()));
    // Strings have no properties for paths.
    assert!(check(json!({"s.length": null}), json!({"s": "abc"})));
    // `$`-prefixed keys at condition level are attribute names.
    assert!(check(json!({"$groups": ["a"]}), json!({"$groups": ["a"]})));
}

#[test]
fn strict_equality() {
    assert!(check(json!({"a": {"$eq": 1}}), json!({"a": 1.0})));
    assert!(!check(json!({"a": {"$eq": 1}}), json!({"a": "1"})));
    assert!(check(json!({"a": {"$eq": null}}), json!({})));
    assert!(!check(json!({"a": {"$eq": [1]}}), json!({"a": [1]})));
    assert!(!check(
        json!({"a": {"$eq": {"b": 1}}}),
        json!({"a": {"b": 1}})
    ));
    assert!(check(json!({"a": {"$ne": [1]}}), json!({"a": [1]})));
    assert!(check(json!({"a": {"$ne": "x"}}), json!({})));
    assert!(!check(json!({"a": {"$eq": false}}), json!({})));
}

#[test]
fn relational_comparisons_follow_js() {
    assert!(check(
        json!({"n": {"$gt": 5, "$lt": 10}}),
        json!({"n": "8"})
    ));
    assert!(check(
        json!({"n": {"$gt": "5", "$lt": "10"}}),
        json!({"n": 8})
    ));
    // Two strings compare as strings.
    assert!(!check(json!({"n": {"$gt": "5"}}), json!({"n": "10"})));
    assert!(check(json!({"w": {"$lt": "b"}}), json!({"w": "B"})));
    // Missing is null is 0.
    assert!(check(
        json!({"age": {"$gt": -10, "$lt": 10, "$gte": -9, "$lte": 9, "$ne": 10}}),
        json!({})
    ));
    // NaN compares false every way.
    assert!(!check(json!({"n": {"$lte": 5}}), json!({"n": "abc"})));
    assert!(!check(json!({"n": {"$gte": 5}}), json!({"n": "abc"})));
    assert!(check(
        json!({"n": {"$gte": 1, "$lte": 1}}),
        json!({"n": true})
    ));
    // Arrays become strings: [1,2] -> "1,2".
    assert!(check(json!({"n": {"$gt": "1,1"}}), json!({"n": [1, 2]})));
    assert!(check(json!({"n": {"$lte": 3}}), json!({"n": [3]})));
}

#[test]
fn exists() {
    assert!(check(json!({"a": {"$exists": true}}), json!({"a": 0})));
    assert!(!check(json!({"a": {"$exists": true}}), json!({"a": null})));
    assert!(check(json!({"a": {"$exists": false}}), json!({"a": null})));
    assert!(check(json!({"a.b": {"$exists": false}}), json!({"a": 1})));
    assert!(check(json!({"a": {"$exists": 1}}), json!({"a": "x"})));
    assert_eq!(
        issues(json!({"a": {"$exists": "yes"}})),
        vec![(
            "a.$exists".to_string(),
            "expected true or false, found a string".to_string()
        )]
    );
    assert!(!check(json!({"a": {"$exists": "yes"}}), json!({"a": 1})));
}

#[test]
fn membership() {
    assert!(check(json!({"n": {"$in": [1, 2]}}), json!({"n": 2})));
    assert!(!check(json!({"n": {"$in": [1, 2]}}), json!({"n": "2"})));
    assert!(check(
        json!({"t": {"$in": ["a"]}}),
        json!({"t": ["b", "a"]})
    ));
    assert!(!check(json!({"t": {"$in": ["a"]}}), json!({"t": []})));
    assert!(check(json!({"t": {"$nin": ["a"]}}), json!({"t": []})));
    assert!(check(json!({"t": {"$in": [null]}}), json!({})));
    assert!(!check(json!({"t": {"$in": [[1]]}}), json!({"t": [1]})));
    assert!(check(json!({"c": {"$ini": ["us"]}}), json!({"c": "US"})));
    assert!(check(json!({"c": {"$ini": ["ÉTÉ"]}}), json!({"c": "été"})));
    assert!(check(json!({"c": {"$ini": [1]}}), json!({"c": 1})));
    assert!(!check(
        json!({"c": {"$nini": ["US"]}}),
        json!({"c": ["x", "us"]})
    ));
    assert!(!check(json!({"n": {"$in": 1}}), json!({"n": 1})));
    assert!(!check(json!({"n": {"$nin": 1}}), json!({"n": 1})));
    assert_eq!(
        issues(json!({"n": {"$nin": "a"}})),
        vec![(
            "n.$nin".to_string(),
            "expected an array, found a string".to_string()
        )]
    );
}

#[test]
fn saved_groups() {
    let mut groups = SavedGroups::new();
    groups.insert("g".into(), json!([1, "2", 3]));
    groups.insert("empty".into(), json!(null));
    groups.insert("bad".into(), json!({"x": 1}));
    let g = |cond: Value, attrs: Value| check_groups(cond, attrs, &groups);
    assert!(g(json!({"id": {"$inGroup": "g"}}), json!({"id": 1})));
    assert!(g(json!({"id": {"$inGroup": "g"}}), json!({"id": "2"})));
    assert!(!g(json!({"id": {"$inGroup": "g"}}), json!({"id": "3"})));
    assert!(g(json!({"id": {"$inGroup": "g"}}), json!({"id": [9, 3]})));
    assert!(!g(json!({"id": {"$inGroup": "nope"}}), json!({"id": 1})));
    assert!(g(json!({"id": {"$notInGroup": "nope"}}), json!({"id": 1})));
    assert!(g(json!({"id": {"$notInGroup": "empty"}}), json!({"id": 1})));
    assert!(!g(json!({"id": {"$inGroup": "bad"}}), json!({"id": 1})));
    assert!(!g(json!({"id": {"$notInGroup": "bad"}}), json!({"id": 1})));
    assert!(!g(json!({"id": {"$inGroup": 5}}), json!({"id": 1})));
    assert_eq!(
        issues(json!({"id": {"$inGroup": 5}}))[0].0,
        "id.$inGroup".to_string()
    );
}

#[test]
fn size_all_elem_match() {
    assert!(check(json!({"t": {"$size": 2}}), json!({"t": [0, 0]})));
    assert!(check(
        json!({"t": {"$size": {"$gte": 2}}}),
        json!({"t": [0, 0]})
    ));
    assert!(!check(json!({"t": {"$size": 0}}), json!({"t": ""})));
    assert!(!check(json!({"t": {"$size": "2"}}), json!({"t": [0, 0]})));
    assert_eq!(issues(json!({"t": {"$size": "2"}}))[0].0, "t.$size");

    assert!(check(json!({"t": {"$all": []}}), json!({"t": []})));
    assert!(!check(json!({"t": {"$all": []}}), json!({"t": "x"})));
    assert!(check(
        json!({"t": {"$all": [{"$gt": 5}, 1]}}),
        json!({"t": [1, 9]})
    ));
    assert!(check(
        json!({"t": {"$alli": ["A", 1]}}),
        json!({"t": ["a", "1"]})
    ));
    assert!(!check(json!({"t": {"$all": ["A"]}}), json!({"t": ["a"]})));

    assert!(check(
        json!({"t": {"$elemMatch": {"$gt": 10}}}),
        json!({"t": [1, 11]})
    ));
    // Falsy elements are skipped, even when they would match.
    assert!(!check(
        json!({"t": {"$elemMatch": {"$eq": 0}}}),
        json!({"t": [0]})
    ));
    assert!(!check(
        json!({"t": {"$elemMatch": {"$exists": false}}}),
        json!({"t": [null]})
    ));
    // A plain object is a nested condition on each element.
    assert!(check(
        json!({"h": {"$elemMatch": {"name": {"$eq": "pingpong"}}}}),
        json!({"h": [{"name": "bowling"}, {"name": "pingpong"}]})
    ));
    // An empty nested condition matches any truthy element.
    assert!(check(
        json!({"t": {"$elemMatch": {}}}),
        json!({"t": [0, "x"]})
    ));
    assert!(!check(
        json!({"t": {"$elemMatch": {}}}),
        json!({"t": [0, ""]})
    ));
    // Nested paths on arrays: "0" and "length" work.
    assert!(check(
        json!({"t": {"$elemMatch": {"length": 2}}}),
        json!({"t": [[1, 2]]})
    ));
    assert!(!check(json!({"t": {"$elemMatch": 5}}), json!({"t": [1]})));
    assert_eq!(issues(json!({"t": {"$elemMatch": 5}}))[0].0, "t.$elemMatch");
    // Logical operators inside a value are unknown operators in GrowthBook.
    assert!(!check(
        json!({"t": {"$elemMatch": {"$or": [{"a": 1}]}}}),
        json!({"t": [{"a": 1}]})
    ));
}

#[test]
fn not_and_type() {
    assert!(check(
        json!({"n": {"$not": {"$regex": "^h"}}}),
        json!({"n": "world"})
    ));
    assert!(check(json!({"n": {"$not": 5}}), json!({"n": 4})));
    assert!(!check(json!({"n": {"$not": null}}), json!({})));
    for (t, v) in [
        ("string", json!("a")),
        ("number", json!(1.5)),
        ("boolean", json!(false)),
        ("array", json!([])),
        ("object", json!({})),
        ("null", json!(null)),
    ] {
        assert!(check(json!({"a": {"$type": t}}), json!({ "a": v })), "{t}");
    }
    assert!(check(json!({"a": {"$type": "null"}}), json!({})));
    assert!(!check(json!({"a": {"$type": "undefined"}}), json!({})));
    assert!(!check(json!({"a": {"$type": "int"}}), json!({"a": 1})));
    assert_eq!(issues(json!({"a": {"$type": "int"}}))[0].0, "a.$type");
    assert!(issues(json!({"a": {"$type": "undefined"}})).is_empty());
}

#[cfg(feature = "regex")]
#[test]
fn regexes() {
    assert!(check(
        json!({"u": {"$regex": "Mobile"}}),
        json!({"u": "A Mobile"})
    ));
    assert!(!check(
        json!({"u": {"$regex": "mobile"}}),
        json!({"u": "A Mobile"})
    ));
    assert!(check(
        json!({"u": {"$regexi": "mobile"}}),
        json!({"u": "A Mobile"})
    ));
    assert!(check(
        json!({"u": {"$notRegex": "mobile"}}),
        json!({"u": "A Mobile"})
    ));
    assert!(!check(
        json!({"u": {"$notRegexi": "mobile"}}),
        json!({"u": "A Mobile"})
    ));
    // RegExp.test stringifies: a missing value is "null", numbers print like JS.
    assert!(check(json!({"u": {"$regex": "^null$"}}), json!({})));
    assert!(check(
        json!({"u": {"$regex": "^1e\\+21$"}}),
        json!({"u": 1e21})
    ));
    assert!(check(
        json!({"u": {"$regex": "^a,b$"}}),
        json!({"u": ["a", "b"]})
    ));
    assert!(check(
        json!({"p": {"$regex": "^/blog/"}}),
        json!({"p": "/blog/x"})
    ));
    assert!(check(
        json!({"p": {"$regex": "^\\/blog\\/"}}),
        json!({"p": "/blog/x"})
    ));
    // Invalid patterns fail closed, negated ones too.
    assert!(!check(
        json!({"n": {"$regex": "/???***[)"}}),
        json!({"n": "hello"})
    ));
    assert!(!check(
        json!({"n": {"$notRegex": "(("}}),
        json!({"n": "hello"})
    ));
    assert!(!check(json!({"n": {"$regex": 5}}), json!({"n": "5"})));
    let found = issues(json!({"$or": [{"n": {"$regex": "(("}}]}));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "$or[0].n.$regex");
    assert!(found[0].1.starts_with("invalid regular expression: "));
}

#[test]
fn regex_fails_closed_without_engine() {
    struct NoEngine;
    impl PatternEngine for NoEngine {
        fn compile(
            &self,
            _: &str,
            _: bool,
        ) -> Result<std::rc::Rc<dyn crate::core::pattern::Pattern>, String> {
            Err("this build has no regex engine".into())
        }
    }
    let (c, found) = Condition::compile(&json!({"u": {"$notRegex": "x"}}), &NoEngine);
    assert!(!c.matches(&json!({"u": "y"}), &SavedGroups::new()));
    assert_eq!(
        found,
        vec![ConditionIssue {
            path: "u.$notRegex".into(),
            message: "invalid regular expression: this build has no regex engine".into()
        }]
    );
}

#[test]
fn versions() {
    assert!(check(
        json!({"v": {"$vgt": "1.2.3"}}),
        json!({"v": "v1.10.0"})
    ));
    assert!(check(
        json!({"v": {"$vlt": "1.0.0"}}),
        json!({"v": "1.0.0-rc.1"})
    ));
    assert!(check(
        json!({"v": {"$veq": "1.2.3"}}),
        json!({"v": "1.2.3+build"})
    ));
    assert!(check(
        json!({"v": {"$vne": "1.2.3"}}),
        json!({"v": "1.2.3-a"})
    ));
    assert!(check(
        json!({"v": {"$vgte": "1.2.3", "$vlte": "1.2.3"}}),
        json!({"v": "1-2-3"})
    ));
    assert!(check(json!({"v": {"$vgte": 2}}), json!({"v": 10})));
    // Non-strings pad as "0".
    assert!(check(json!({"v": {"$veq": "0"}}), json!({})));
}

#[test]
fn logical_operators() {
    assert!(check(json!({"$or": []}), json!({})));
    assert!(check(json!({"$and": []}), json!({})));
    assert!(!check(json!({"$nor": []}), json!({})));
    assert!(check(json!({"$nor": [{"a": 1}]}), json!({"a": 2})));
    assert!(check(json!({"$not": {"a": 1}}), json!({"a": 2})));
    assert!(!check(json!({"$not": {}}), json!({})));
    assert!(!check(
        json!({"$or": [{"a": 1}], "b": 2}),
        json!({"a": 1, "b": 1})
    ));
    assert!(check(json!({}), json!({})));
    assert!(check(json!({}), json!(null)));
}

#[test]
fn malformed_logical_operators_fail_closed_with_paths() {
    let cases = [
        (
            json!({"$or": {"a": 1}}),
            "$or",
            "expected an array of condition objects, found an object",
        ),
        (
            json!({"$nor": [{"a": 1}, 5]}),
            "$nor[1]",
            "expected a condition object, found a number",
        ),
        (
            json!({"$and": "x"}),
            "$and",
            "expected an array of condition objects, found a string",
        ),
        (
            json!({"$not": [1]}),
            "$not",
            "expected a condition object, found an array",
        ),
        (
            json!([1]),
            "",
            "expected a condition object, found an array",
        ),
    ];
    for (cond, path, message) in cases {
        assert_eq!(
            issues(cond.clone()),
            vec![(path.to_string(), message.to_string())],
            "{cond}"
        );
        assert!(!check(cond.clone(), json!({"a": 1})), "{cond}");
        assert!(!check(cond, json!({"a": 2})));
    }
}

#[test]
fn issues_display_with_their_path() {
    let (_, found) = compile(json!({"a": {"$foo": 1}}));
    assert_eq!(found[0].to_string(), "a.$foo: unknown operator `$foo`");
    let (_, found) = compile(json!(5));
    assert_eq!(
        found[0].to_string(),
        "expected a condition object, found a number"
    );
}

#[test]
fn unknown_operators_fail_closed() {
    assert!(!check(
        json!({"n": {"$regx": "hello"}}),
        json!({"n": "hello"})
    ));
    assert_eq!(
        issues(json!({"$and": [{"a": 1}, {"age": {"$gte": 1, "$foo": 2}}]})),
        vec![(
            "$and[1].age.$foo".to_string(),
            "unknown operator `$foo`".to_string()
        )]
    );
    let found = issues(json!({"a": {"$or": [{"b": 1}]}}));
    assert_eq!(found[0].0, "a.$or");
    assert!(found[0].1.starts_with("unknown operator `$or`"));
}

#[test]
fn deep_nesting_fails_closed() {
    let mut cond = json!({"a": 1});
    for _ in 0..200 {
        // Not `json!`: its interpolation re-serializes the value recursively.
        cond = Value::Object([("$not".to_string(), cond)].into_iter().collect());
    }
    let (c, found) = compile(cond);
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("deeper than 64"));
    // 200 negations of a fail-closed node: the verdict is defined, nothing overflows.
    let _ = c.matches(&json!({"a": 1}), &SavedGroups::new());
    let _ = c.explain(&json!({"a": 1}), &SavedGroups::new());

    let mut lit = json!(1);
    for _ in 0..100 {
        lit = Value::Array(vec![lit]);
    }
    let (c, found) = compile(json!({ "a": lit }));
    assert_eq!(found.len(), 1);
    assert!(!c.matches(&json!({"a": 1}), &SavedGroups::new()));

    let mut elem = json!({"$gt": 1});
    for _ in 0..100 {
        elem = Value::Object([("$elemMatch".to_string(), elem)].into_iter().collect());
    }
    let (_, found) = compile(json!({ "a": elem }));
    assert_eq!(found.len(), 1);
}

#[test]
fn deep_attributes_do_not_overflow() {
    let mut deep = json!("x");
    for _ in 0..100 {
        deep = Value::Array(vec![deep]);
    }
    let attrs = json!({ "a": deep });
    assert!(check(json!({"a": "x"}), attrs.clone()));
    assert!(!check(json!({"a": [[1]]}), attrs.clone()));
    assert!(check(json!({"a": {"$gt": "w"}}), attrs));
}

#[test]
fn attribute_roots_are_top_level_names() {
    let (c, _) = compile(json!({
        "utm.source": "x",
        "$or": [{"device": "mobile"}, {"$not": {"visitor.visits": {"$gt": 1}}}],
        "$nor": [{"geo.country": "RU"}],
        "$and": [{"device": {"$exists": true}}],
        "items": {"$elemMatch": {"sku": "a"}},
    }));
    assert_eq!(
        c.attribute_roots(),
        vec!["device", "geo", "items", "utm", "visitor"]
    );
    assert_eq!(
        c.attribute_paths(),
        vec![
            "device",
            "geo.country",
            "items",
            "utm.source",
            "visitor.visits"
        ]
    );
}

#[test]
fn explain_failures_name_the_first_failing_clause() {
    assert_eq!(
        reason(
            json!({"visitor.visits": {"$gte": 3}}),
            json!({"visitor": {"visits": 1}})
        ),
        "`visitor.visits` is 1, needs $gte 3"
    );
    assert_eq!(
        reason(json!({"device": "mobile"}), json!({"device": "desktop"})),
        "`device` is \"desktop\", needs \"mobile\""
    );
    assert_eq!(
        reason(json!({"device": "mobile"}), json!({})),
        "`device` is missing, needs \"mobile\""
    );
    assert_eq!(
        reason(json!({"n": {"$gt": 1, "$lt": 5}}), json!({"n": 7})),
        "`n` is 7, needs $lt 5"
    );
    assert_eq!(
        reason(json!({"$or": [{"a": 1}, {"b": 2}]}), json!({"a": 0})),
        "none of the 2 `$or` alternatives matched (the first: `a` is 0, needs 1)"
    );
    assert_eq!(
        reason(json!({"$not": {"a": 1}}), json!({"a": 1})),
        "the `$not` condition matched (`a` is 1)"
    );
    assert_eq!(
        reason(json!({"$nor": [{"a": 2}, {"a": 1}]}), json!({"a": 1})),
        "`$nor` alternative 2 matched: `a` is 1"
    );
    assert_eq!(
        reason(json!({"a": {"$foo": 1}}), json!({"a": 1})),
        "`a` cannot be checked: unknown operator `$foo` (fails closed)"
    );
    assert_eq!(
        reason(json!({"$and": 5}), json!({})),
        "invalid condition at `$and`: expected an array of condition objects, found a number (fails closed)"
    );
    assert_eq!(
        reason(
            json!({"$and": [{"a": 1}, {"b": {"$in": ["x", "y"]}}]}),
            json!({"a": 1, "b": "z"})
        ),
        "`b` is \"z\", needs $in [\"x\",\"y\"]"
    );
}

#[test]
fn explain_matches_summarise() {
    assert_eq!(
        reason(
            json!({"utm.source": "yandex", "device": "mobile"}),
            json!({"utm": {"source": "yandex"}, "device": "mobile"})
        ),
        "all 2 clauses matched: `device` is \"mobile\"; `utm.source` is \"yandex\""
    );
    assert_eq!(
        reason(json!({}), json!({})),
        "no conditions: always matches"
    );
    assert_eq!(
        reason(json!({"$or": [{"a": 1}, {"b": 2}]}), json!({"b": 2})),
        "`b` is 2"
    );
    assert_eq!(
        reason(json!({"$nor": [{"a": 1}]}), json!({})),
        "none of the 1 `$nor` alternatives matched"
    );
    assert_eq!(
        reason(json!({"a": {"$ne": "x"}}), json!({})),
        "`a` is missing"
    );
}

#[cfg(feature = "regex")]
#[test]
fn compile_is_cloneable_and_debuggable() {
    let (c, _) = compile(json!({"a": {"$regex": "x"}, "b": {"$regex": "x"}}));
    let d = c.clone();
    assert!(format!("{d:?}").contains("Pattern"));
}
