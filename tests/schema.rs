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

/// An editor checking a config against the schema refuses the cookie settings the
/// loader refuses, instead of passing a config that then turns personalization off.
#[test]
fn schema_bounds_the_cookie_settings_like_the_loader() {
    let schema: serde_json::Value = serde_json::from_str(&edge_persona::schema_json()).unwrap();
    let cookie = &schema["$defs"]["CookieSettings"]["properties"];
    let within_schema = |field: &str, value: &serde_json::Value| -> bool {
        let rule = &cookie[field];
        if let Some(pattern) = rule["pattern"].as_str() {
            let text = value.as_str().unwrap();
            return regex::Regex::new(pattern).unwrap().is_match(text);
        }
        let n = value.as_u64().unwrap();
        rule["minimum"].as_u64().is_none_or(|min| n >= min)
            && rule["maximum"].as_u64().is_none_or(|max| n <= max)
    };
    let loads = |field: &str, value: &serde_json::Value| {
        let config = serde_json::json!({ "cookie": { field: value } });
        edge_persona::core::engine::Engine::from_json(
            &config.to_string(),
            edge_persona::core::pattern::default_engine(),
        )
        .is_ok()
    };
    let cases = [
        ("maxAgeDays", serde_json::json!(0)),
        ("maxAgeDays", serde_json::json!(1)),
        ("maxAgeDays", serde_json::json!(400)),
        ("maxAgeDays", serde_json::json!(401)),
        ("sessionTimeoutMinutes", serde_json::json!(0)),
        ("sessionTimeoutMinutes", serde_json::json!(1)),
        ("name", serde_json::json!("ep_profile-2")),
        ("name", serde_json::json!("ep profile")),
        ("name", serde_json::json!("")),
        ("name", serde_json::json!("ep;x")),
    ];
    for (field, value) in cases {
        assert_eq!(
            loads(field, &value),
            within_schema(field, &value),
            "cookie.{field} = {value}"
        );
    }
}
