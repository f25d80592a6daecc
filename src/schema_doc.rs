//! Renders the config's JSON Schema as the Markdown config reference
//! (`docs/CONFIG.md`), so the reference can never drift from the types.

use serde_json::Value;

fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("[{name}](#{})", name.to_lowercase());
    }
    if let Some(options) = schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
    {
        return options.iter().map(type_of).collect::<Vec<_>>().join(" or ");
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
    }
    if let Some(constant) = schema.get("const") {
        return format!("`{constant}`");
    }
    let base = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".into(),
    };
    match (
        base.as_str(),
        schema.get("items"),
        schema.get("additionalProperties"),
    ) {
        ("array", Some(items), _) => format!("array of {}", type_of(items)),
        ("object", _, Some(values)) if values.is_object() => format!("map of {}", type_of(values)),
        _ => base,
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn section(out: &mut String, title: &str, schema: &Value) {
    out.push_str(&format!("\n## {title}\n\n"));
    if let Some(description) = schema.get("description").and_then(Value::as_str) {
        out.push_str(description);
        out.push_str("\n\n");
    }
    if let Some(values) = schema.get("oneOf").or_else(|| schema.get("enum")) {
        let _ = values;
        out.push_str(&format!("Value: {}\n", type_of(schema)));
        if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
            out.push('\n');
            for option in options {
                let description = option
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                out.push_str(&format!("- {}: {}\n", type_of(option), cell(description)));
            }
        }
        return;
    }
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        out.push_str(&format!("Type: {}\n", type_of(schema)));
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push_str("| field | type | required | default | description |\n|---|---|---|---|---|\n");
    for (name, property) in properties {
        let default = property
            .get("default")
            .map(|d| format!("`{d}`"))
            .unwrap_or_default();
        let description = property
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        out.push_str(&format!(
            "| `{name}` | {} | {} | {} | {} |\n",
            type_of(property),
            if required.contains(&name.as_str()) {
                "yes"
            } else {
                ""
            },
            cell(&default),
            cell(description)
        ));
    }
}

/// The Markdown reference for a JSON Schema produced by schemars.
pub fn markdown(schema: &Value) -> String {
    let mut out = String::from(
        "# Config reference\n\n\
         Generated from the Rust types by `edge-persona schema --markdown` (a test fails when it\n\
         drifts). The same types give `schema/config.schema.json` for editors: add\n\
         `\"$schema\": \"<path>/schema/config.schema.json\"` to a config for completion and checks.\n\
         Unknown fields are errors. Conditions (`when`) use GrowthBook's targeting language over the\n\
         attributes listed in [ATTRIBUTES.md](ATTRIBUTES.md).\n",
    );
    section(&mut out, "SiteConfig (the root)", schema);
    if let Some(definitions) = schema.get("$defs").and_then(Value::as_object) {
        for (name, definition) in definitions {
            section(&mut out, name, definition);
        }
    }
    out
}
