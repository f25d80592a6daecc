//! Config validation: every problem reported at once, each with its JSON path.

use edge_persona::core::config::load;
use edge_persona::core::pattern::default_engine;

fn errors_of(json: &str) -> Vec<String> {
    match load(json, default_engine()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn the_demo_config_is_valid() {
    let demo =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/www/demo/config.json"))
            .unwrap();
    assert_eq!(errors_of(&demo), Vec::<String>::new());
}

#[test]
fn every_error_is_reported_with_its_path() {
    let config = r#"{
        "cookie": { "name": "ep", "maxAgeDays": "long" },
        "segments": [
            { "name": "vip", "when": { "visitor.visits": { "$gte": 3 } } },
            { "name": "late", "when": { "$or": [ { "time.hour": { "$gte": "late" } } ] } },
            { "name": "vip", "when": { "visitor.visits": { "$between": [1, 2] } } }
        ],
        "slots": { "hero": {} },
        "experiences": [
            { "id": "a", "slot": "hero", "content": { "template": "x" } },
            { "id": "b", "slot": "sidebar", "segments": ["nobody"], "content": { "text": "Hi {cookies.name}" } },
            { "id": "c", "slot": "hero", "colour": "red", "priority": "high",
              "when": { "utm.source": { "$regex": "(" } },
              "content": { "template": "y", "html": "<b>z</b>" },
              "setAttributes": [
                { "selector": "a", "attribute": "onclick", "value": "x" },
                { "selector": "a", "attribute": "href", "value": "javascript:alert(1)" }
              ] }
        ],
        "popups": [ { "id": "a", "content": { "text": "hi" }, "trigger": { "scrollPercent": 150 } } ]
    }"#;
    let errors = errors_of(config);
    let expected = [
        "cookie.maxAgeDays: expected a whole number from 0 to 4294967295, found the string \"long\"",
        "experiences[2].colour: unknown field; expected one of",
        "experiences[2].priority: expected a whole number from -2147483648 to 2147483647, found the string \"high\"",
        "segments[2].name: duplicate segment \"vip\"",
        "segments[1].when.$or[0].time.hour.$gte: expected a number (`time.hour` is a number), found the string \"late\"",
        "segments[2].when.visitor.visits.$between",
        "experiences[1].slot: unknown slot \"sidebar\"",
        "experiences[1].segments[0]: unknown segment \"nobody\"",
        "experiences[1].content.text: placeholder {cookies.name} reads cookie \"name\", which is not in readCookies: add it there",
        "experiences[2].when.utm.source.$regex",
        "experiences[2].content: expected exactly one of `template`, `html` or `text`",
        "experiences[2].setAttributes[0].attribute: attribute \"onclick\" may not be written",
        "experiences[2].setAttributes[1].value: scheme `javascript:` is not in links.schemes",
        "popups[0].id: duplicate id \"a\"",
        "popups[0].trigger.scrollPercent: expected 0 to 100",
    ];
    for want in expected {
        assert!(
            errors.iter().any(|e| e.starts_with(want)),
            "missing error starting with {want:?}; got:\n{}",
            errors.join("\n")
        );
    }
}

#[test]
fn a_wrong_type_is_reported_once() {
    // `maxAgeDays` is checked for its range too; the stand-in value used after the
    // type error must not produce a second, misleading error at the same path.
    let errors = errors_of(
        r#"{ "version": 2, "cookie": { "maxAgeDays": "long" }, "slots": { "Bad Name": {} } }"#,
    );
    assert_eq!(
        errors,
        vec![
            "cookie.maxAgeDays: expected a whole number from 0 to 4294967295, found the string \"long\"".to_string(),
            "version: expected 1, found 2".to_string(),
            "slots.Bad Name: expected a slot name of 1–64 characters from a–z, 0–9, `_` and `-`, found \"Bad Name\"".to_string(),
        ]
    );
}

#[test]
fn broken_json_names_line_and_column() {
    let errors = errors_of("{\n  \"slots\": {,\n}");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("(root): not valid JSON at line 2, column"),
        "{errors:?}"
    );
}

#[test]
fn missing_required_fields_are_all_reported() {
    let errors = errors_of(
        r#"{
        "slots": { "hero": {}, "Bad": {} },
        "experiences": [ { "id": "a", "content": { "text": "x" } } ],
        "popups": [ { "id": "p", "caps": { "perSession": "x" } } ],
        "segments": [ { "when": {} } ]
    }"#,
    );
    for want in [
        "experiences[0].slot: missing required field",
        "popups[0].content: missing required field",
        "popups[0].caps.perSession: expected a whole number",
        "segments[0].name: missing required field",
        "slots.Bad: expected a slot name",
    ] {
        assert!(
            errors.iter().any(|e| e.starts_with(want)),
            "missing error starting with {want:?}; got:\n{}",
            errors.join("\n")
        );
    }
    // The stand-in values of missing fields cause no second error at the same place.
    assert!(
        !errors
            .iter()
            .any(|e| e.starts_with("experiences[0].slot: unknown slot")),
        "{errors:?}"
    );
}

#[test]
fn consent_levels_below_personalization_are_refused() {
    let errors = errors_of(r#"{ "consent": { "mode": "implied", "level": "denied" } }"#);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("consent.level: expected `personalization`"));
}

#[test]
fn engagement_criteria_are_above_zero_or_null() {
    let errors = errors_of(
        r#"{ "classify": { "engagement": { "dwellSeconds": 0, "scrollPercent": 120, "interestWeight": -1 } } }"#,
    );
    for want in [
        "classify.engagement.dwellSeconds: expected above 0 and at most 3600 (null turns it off)",
        "classify.engagement.scrollPercent: expected above 0 and at most 100 (null turns it off)",
        "classify.engagement.interestWeight: expected 0 to 10",
    ] {
        assert!(
            errors.iter().any(|e| e == want),
            "missing {want:?}; got:\n{}",
            errors.join("\n")
        );
    }
    // `null` turns a criterion off; both off is a site that reports engagement itself.
    let off =
        r#"{ "classify": { "engagement": { "dwellSeconds": null, "scrollPercent": null } } }"#;
    assert_eq!(errors_of(off), Vec::<String>::new());
}

#[test]
fn a_dismissal_cap_of_zero_is_refused() {
    let errors = errors_of(
        r#"{ "popups": [ { "id": "p", "content": { "text": "x" }, "caps": { "stopAfterDismissals": 0 } } ] }"#,
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("popups[0].caps.stopAfterDismissals: must be at least 1")),
        "{errors:?}"
    );
}

#[test]
fn content_html_must_be_a_whole_fragment() {
    let config = r#"{
        "slots": { "hero": {}, "offers": {} },
        "experiences": [
            { "id": "a", "slot": "hero", "content": { "html": "<a href=\"/sale\">Spring sale" } },
            { "id": "b", "slot": "offers", "variants": [
                { "id": "x", "weight": 0.5, "content": { "html": "<b>ok</b>" } },
                { "id": "y", "weight": 0.5, "content": { "html": "<!-- todo" } } ] },
            { "id": "c", "slot": "hero", "content": { "html": "<b>Привет, {cookies.name|друг}</b>" } }
        ],
        "popups": [ { "id": "p", "content": { "html": "<script>track()</script>" }, "trigger": { "delaySeconds": 1 } } ]
    }"#;
    let errors = errors_of(config);
    for want in [
        "experiences[0].content.html: <a> is not closed",
        "experiences[1].variants[1].content.html: a comment `<!--` is not closed",
        "popups[0].content.html: <script> is not allowed",
        "experiences[2].content.html: placeholders such as `{cookies.…}` are filled only in `text`",
    ] {
        assert!(
            errors.iter().any(|e| e.starts_with(want)),
            "missing error starting with {want:?}; got:\n{}",
            errors.join("\n")
        );
    }
    assert_eq!(errors.len(), 4, "{errors:#?}");
}

#[test]
fn a_url_with_placeholders_is_checked_as_visitors_would_get_it() {
    let config = r#"{
        "readCookies": ["name"],
        "slots": { "hero": {} },
        "links": { "hosts": ["booking.example"] },
        "experiences": [
            { "id": "a", "slot": "hero", "content": { "text": "Hi" },
              "setAttributes": [
                { "selector": "a.partner", "attribute": "href", "value": "https://partner.example/?c={utm.campaign|direct}" },
                { "selector": "a.search", "attribute": "href", "value": "/search?q={utm.term|summer sale}" },
                { "selector": "a.js", "attribute": "href", "value": "javascript:track('{utm.source|x}')" },
                { "selector": "a.ok", "attribute": "href", "value": "https://booking.example/?c={utm.campaign|direct}" },
                { "selector": "a.rel", "attribute": "href", "value": "/book?promo={utm.campaign|welcome}" },
                { "selector": "a.geo", "attribute": "href", "value": "https://{geo.country|booking}.example/" }
              ] }
        ]
    }"#;
    let errors = errors_of(config);
    for want in [
        "experiences[0].setAttributes[0].value:",
        "experiences[0].setAttributes[1].value:",
        "experiences[0].setAttributes[2].value: scheme `javascript:` is not in links.schemes",
    ] {
        assert!(
            errors.iter().any(|e| e.starts_with(want)),
            "missing error starting with {want:?}; got:\n{}",
            errors.join("\n")
        );
    }
    assert!(errors[0].contains("partner.example"), "{errors:#?}");
    assert!(errors[1].contains("fallbacks"), "{errors:#?}");
    assert_eq!(errors.len(), 3, "{errors:#?}");
}

#[test]
fn slots_on_the_same_elements_and_an_empty_attention_budget_are_refused() {
    let errors = errors_of(
        r##"{
        "slots": { "hero": { "selector": "#hero" }, "hi": { "selector": " #hero " }, "offers": {} },
        "attention": { "perSession": 0 }
    }"##,
    );
    assert_eq!(
        errors,
        vec![
            "slots.hi.selector: slot \"hero\" has the same selector \"#hero\": give each slot its own elements".to_string(),
            "attention.perSession: must be at least 1 (0 would keep every popup from opening; remove the popups to turn them off)".to_string(),
        ],
    );
}

#[test]
fn a_condition_on_an_attribute_the_engine_never_fills_is_refused() {
    let errors = errors_of(
        r#"{
        "readCookies": ["name"],
        "segments": [
            { "name": "yandex-paid", "when": { "utm.sourse": "yandex" } },
            { "name": "pro", "when": { "$or": [ { "cookies.plan": "pro" }, { "cookies.name": { "$exists": true } } ] } },
            { "name": "typo-root", "when": { "vistor.visits": { "$gte": 2 } } },
            { "name": "fine", "when": { "url.query.ref": "x", "interests.0": { "$exists": true }, "utm.source": "yandex" } }
        ]
    }"#,
    );
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors[0]
            .starts_with("segments[0].when: unknown attribute `utm.sourse`; `utm` has source,"),
        "{errors:#?}"
    );
    assert!(
        errors[1].starts_with(
            "segments[1].when: `cookies.plan` reads cookie \"plan\", which is not in readCookies"
        ),
        "{errors:#?}"
    );
    assert!(
        errors[2].starts_with("segments[2].when: unknown attribute `vistor` (in `vistor.visits`)"),
        "{errors:#?}"
    );
}

#[test]
fn a_saved_group_a_condition_names_must_exist() {
    let errors = errors_of(
        r#"{ "version": 1, "savedGroups": { "search": ["yandex"] },
             "segments": [ { "name": "s", "when": { "utm.source": { "$inGroup": "serch" } } },
                           { "name": "t", "when": { "$or": [ { "utm.source": { "$notInGroup": "search" } } ] } } ] }"#,
    );
    assert_eq!(
        errors,
        ["segments[0].when.utm.source.$inGroup: no saved group \"serch\" in savedGroups (defined: search)"]
    );
}

#[test]
fn a_byte_order_mark_is_read_past_and_json_mistakes_get_a_hint() {
    assert_eq!(
        errors_of("\u{FEFF}{ \"version\": 1 }"),
        Vec::<String>::new()
    );
    assert_eq!(
        errors_of("{\n  // the hero\n  \"version\": 1 }"),
        ["(root): not valid JSON at line 2, column 3: key must be a string (comments are not allowed in JSON)"]
    );
    assert_eq!(
        errors_of("{ 'version': 1 }"),
        ["(root): not valid JSON at line 1, column 3: key must be a string (JSON strings take double quotes)"]
    );
}

#[test]
fn values_a_condition_can_never_meet_are_errors() {
    let errors = errors_of(
        r#"{ "version": 1,
             "segments": [
               { "name": "a", "when": { "segments": { "$in": ["b"] } } },
               { "name": "b", "when": { "device": "Mobile" } },
               { "name": "c", "when": { "$or": [ { "utm.source": { "$in": ["yandex", "Google"] } }, { "geo.country": "ru" } ] } },
               { "name": "d", "when": { "segments": "mobile_users", "utm.source": { "$regexi": "Yandex" } } },
               { "name": "e", "when": { "segments": "a", "device": "mobile" } }
             ] }"#,
    );
    assert_eq!(
        errors,
        [
            "segments[0].when.segments: segment \"b\" is evaluated after this one (segments go in order): move it above, or this never sees it",
            "segments[1].when.device: `device` is always lowercase: \"Mobile\" never matches; write \"mobile\"",
            "segments[2].when.utm.source: `utm.source` is always lowercase: \"Google\" never matches; write \"google\"",
            "segments[2].when.geo.country: `geo.country` is an uppercase ISO code: \"ru\" never matches; write \"RU\"",
            "segments[3].when.segments: unknown segment \"mobile_users\"; define it under `segments`",
        ]
    );
}

#[test]
fn link_hosts_and_schemes_are_written_bare() {
    let errors = errors_of(
        r#"{ "version": 1, "links": { "hosts": ["https://example.com/", "*.shop.example", "example.com:8080"], "schemes": ["https://", "tel"] } }"#,
    );
    assert_eq!(
        errors,
        [
            "links.hosts[0]: expected a bare host name (`example.com`, or `*.example.com` for its subdomains), found \"https://example.com/\": write \"example.com\"",
            "links.hosts[2]: expected a bare host name (`example.com`, or `*.example.com` for its subdomains), found \"example.com:8080\": write \"example.com\"",
            "links.schemes[0]: expected a scheme alone (`https`, `tel`), found \"https://\"",
        ]
    );
}
