//! The committed JSON Schema and config reference are generated from the types;
//! these tests fail when either drifts, with the command that regenerates it.
#![cfg(feature = "schema")]

use std::path::Path;

fn committed(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn committed_schema_matches_the_types() {
    assert!(
        committed("schema/config.schema.json").trim() == edge_persona::schema_json().trim(),
        "schema/config.schema.json is out of date: run `cargo run --features cli -- schema > schema/config.schema.json`"
    );
}

#[test]
fn committed_config_reference_matches_the_types() {
    assert!(
        committed("docs/CONFIG.md") == edge_persona::config_reference_markdown(),
        "docs/CONFIG.md is out of date: run `cargo run --features cli -- schema --markdown > docs/CONFIG.md`"
    );
}

#[test]
fn schema_rejects_unknown_fields_like_the_loader() {
    let schema: serde_json::Value = serde_json::from_str(&edge_persona::schema_json()).unwrap();
    assert_eq!(schema["additionalProperties"], serde_json::json!(false));
    let experience = &schema["$defs"]["Experience"];
    assert_eq!(experience["additionalProperties"], serde_json::json!(false));
    assert!(experience["required"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("slot")));
}
