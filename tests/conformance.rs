//! GrowthBook conformance: runs the shared language-neutral SDK cases (targeting
//! conditions, hashing, bucket ranges, variation choice, namespaces, equal weights)
//! from `../shared/conformance/growthbook-cases.json` when that file is present.
//!
//! All failures are collected and reported together, so one run shows everything.

use std::path::PathBuf;

use edge_persona::core::bucketing::{
    bucket_ranges, choose_variation, equal_weights, hash, in_namespace,
};
use edge_persona::core::condition::{Condition, SavedGroups};
use edge_persona::core::pattern::{default_engine, PatternEngine};
use serde_json::Value;

fn cases_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join("conformance")
        .join("growthbook-cases.json")
}

/// Rounds like GrowthBook's own tests do before comparing.
fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(60).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

/// Tallies one suite.
#[derive(Default)]
struct Tally {
    run: usize,
    skipped: usize,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.run += 1;
        if !ok {
            self.failures.push(what());
        }
    }
}

fn suite<'a>(root: &'a Value, name: &str) -> &'a [Value] {
    root.get(name)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Whether a condition uses a regex operator (anywhere, as a key).
fn uses_regex(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k.contains("egex") || uses_regex(v)),
        Value::Array(items) => items.iter().any(uses_regex),
        _ => false,
    }
}

fn eval_condition(root: &Value, t: &mut Tally) {
    // A build without a regex engine fails `$regex` closed by design; its cases
    // cannot pass there, so they are skipped (and counted) rather than failed.
    let has_regex = default_engine().compile("a", false).is_ok();
    for case in suite(root, "evalCondition") {
        let name = case[0].as_str().unwrap_or("?").to_string();
        if !has_regex && uses_regex(&case[1]) {
            t.skipped += 1;
            continue;
        }
        let groups: SavedGroups = case
            .get(4)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let expected = case[3].as_bool();
        let (cond, _issues) = Condition::compile(&case[1], default_engine());
        let got = cond.matches(&case[2], &groups);
        let explained = cond.explain(&case[2], &groups);
        t.record(Some(got) == expected && explained.matched == got, || {
            format!(
                "evalCondition {name:?}: expected {expected:?}, got {got} \
                     (explain: {} — {})",
                explained.matched, explained.reason
            )
        });
    }
}

fn hash_suite(root: &Value, t: &mut Tally) {
    for (i, case) in suite(root, "hash").iter().enumerate() {
        let seed = case[0].as_str().unwrap_or_default();
        let value = case[1].as_str().unwrap_or_default();
        let version = case[2].as_u64().unwrap_or(0) as u32;
        let got = hash(seed, value, version);
        let ok = match (got, num(&case[3])) {
            (None, None) => case[3].is_null(),
            (Some(g), Some(e)) => close(g, e),
            _ => false,
        };
        t.record(ok, || {
            format!(
                "hash[{i}] ({seed:?}, {value:?}, v{version}): expected {}, got {got:?}",
                case[3]
            )
        });
    }
}

fn bucket_range_suite(root: &Value, t: &mut Tally) {
    for case in suite(root, "getBucketRange") {
        let name = case[0].as_str().unwrap_or("?");
        let args = &case[1];
        let n = args[0].as_i64().unwrap_or(0);
        let coverage = args[1].as_f64().unwrap_or(1.0);
        let weights: Option<Vec<f64>> = args[2]
            .as_array()
            .map(|w| w.iter().filter_map(Value::as_f64).collect());
        let got = bucket_ranges(n, coverage, weights.as_deref());
        let expected: Vec<(f64, f64)> = case[2]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .map(|r| {
                        (
                            num(&r[0]).unwrap_or(f64::NAN),
                            num(&r[1]).unwrap_or(f64::NAN),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let ok = got.len() == expected.len()
            && got
                .iter()
                .zip(&expected)
                .all(|(g, e)| close(round(g.0, 6), e.0) && close(round(g.1, 6), e.1));
        t.record(ok, || {
            format!("getBucketRange {name:?}: expected {expected:?}, got {got:?}")
        });
    }
}

fn choose_variation_suite(root: &Value, t: &mut Tally) {
    for case in suite(root, "chooseVariation") {
        let name = case[0].as_str().unwrap_or("?");
        let n = case[1].as_f64().unwrap_or(f64::NAN);
        let ranges: Vec<(f64, f64)> = case[2]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .map(|r| {
                        (
                            num(&r[0]).unwrap_or(f64::NAN),
                            num(&r[1]).unwrap_or(f64::NAN),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let got = choose_variation(n, &ranges);
        t.record(Some(got) == case[3].as_i64(), || {
            format!("chooseVariation {name:?}: expected {}, got {got}", case[3])
        });
    }
}

fn in_namespace_suite(root: &Value, t: &mut Tally) {
    for case in suite(root, "inNamespace") {
        let name = case[0].as_str().unwrap_or("?");
        let id = case[1].as_str().unwrap_or_default();
        let ns = &case[2];
        let got = in_namespace(
            id,
            (
                ns[0].as_str().unwrap_or_default(),
                num(&ns[1]).unwrap_or(f64::NAN),
                num(&ns[2]).unwrap_or(f64::NAN),
            ),
        );
        t.record(Some(got) == case[3].as_bool(), || {
            format!("inNamespace {name:?}: expected {}, got {got}", case[3])
        });
    }
}

fn equal_weights_suite(root: &Value, t: &mut Tally) {
    for case in suite(root, "getEqualWeights") {
        let n = case[0].as_i64().unwrap_or(0);
        let got = equal_weights(n);
        let expected: Vec<f64> = case[1]
            .as_array()
            .map(|w| w.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        let ok = got.len() == expected.len()
            && got
                .iter()
                .zip(&expected)
                .all(|(g, e)| close(round(*g, 8), *e));
        t.record(ok, || {
            format!(
                "getEqualWeights({n}): expected {}, got {got:?}",
                short(&case[1])
            )
        });
    }
}

/// Runs one suite's cases into a tally.
type Suite = fn(&Value, &mut Tally);

#[test]
fn growthbook_conformance() {
    let path = cases_path();
    let Ok(text) = std::fs::read_to_string(&path) else {
        // The cases live beside the repository (../shared), as the corpus pages do;
        // a run without them has checked nothing, so it fails unless told otherwise.
        assert!(
            std::env::var("EP_CONFORMANCE_OPTIONAL").is_ok_and(|v| v == "1"),
            "growthbook conformance: {} not found; it comes with ../shared beside this \
             repository (set EP_CONFORMANCE_OPTIONAL=1 to run without it)",
            path.display()
        );
        println!("SKIP growthbook conformance: {} not found", path.display());
        return;
    };
    let root: Value = serde_json::from_str(&text).expect("growthbook-cases.json is valid JSON");

    let suites: [(&str, Suite); 6] = [
        ("evalCondition", eval_condition),
        ("hash", hash_suite),
        ("getBucketRange", bucket_range_suite),
        ("chooseVariation", choose_variation_suite),
        ("inNamespace", in_namespace_suite),
        ("getEqualWeights", equal_weights_suite),
    ];
    let mut total = 0;
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for (name, run) in suites {
        let mut t = Tally::default();
        run(&root, &mut t);
        assert!(t.run > 0, "suite {name} has no cases in {}", path.display());
        let skipped = if t.skipped > 0 {
            format!(" ({} skipped: no regex engine in this build)", t.skipped)
        } else {
            String::new()
        };
        summary.push(format!(
            "{name} {}/{}{skipped}",
            t.run - t.failures.len(),
            t.run
        ));
        total += t.run;
        failures.extend(t.failures);
    }
    println!(
        "growthbook conformance: {}/{total} passed ({})",
        total - failures.len(),
        summary.join(", ")
    );
    assert!(
        failures.is_empty(),
        "{} of {total} GrowthBook cases failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
