//! Any JSON `[condition, attributes]`: compiling and evaluating never panics, and
//! `explain` agrees with `matches`.
#![no_main]
use edge_persona::core::condition::{Condition, SavedGroups};
use edge_persona::core::pattern::default_engine;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Array(pair)) = serde_json::from_slice::<Value>(data) else { return };
    let (Some(condition), Some(attributes)) = (pair.first(), pair.get(1)) else { return };
    let groups: SavedGroups = match pair.get(2) {
        Some(Value::Object(map)) => map.clone(),
        _ => SavedGroups::new(),
    };
    let (compiled, _) = Condition::compile(condition, default_engine());
    let matched = compiled.matches(attributes, &groups);
    assert_eq!(matched, compiled.explain(attributes, &groups).matched);
});
