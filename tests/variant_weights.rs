//! Variant weights as marketers write them: thirds as 0.33 each are three variants
//! that together take everyone, not a 1 % holdout nobody asked for.

use edge_persona::core::context::RequestFacts;
use edge_persona::core::engine::{Engine, PageView, PageViewInput};
use edge_persona::core::pattern::default_engine;

/// A first page view (no cookie, no consent answer) of the visitor `entropy` makes.
fn first_view<'e>(engine: &'e Engine, facts: &RequestFacts, entropy: u64) -> PageView<'e> {
    engine.page_view(PageViewInput {
        facts,
        cookie: None,
        consent: None,
        entropy: entropy.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        keys: &[],
        explain: false,
        new_profile_kept: true,
    })
}

fn facts() -> RequestFacts {
    serde_json::from_value(serde_json::json!({
        "url": "https://shop.example/", "nowMs": 1_800_000_000_000_i64
    }))
    .expect("facts")
}

#[test]
fn weights_that_round_to_one_leave_no_visitor_without_a_variant() {
    let config = r#"{
      "consent": { "mode": "none" },
      "slots": { "hero": {} },
      "experiences": [ { "id": "thirds", "slot": "hero", "variants": [
        { "id": "a", "weight": 0.33, "content": { "text": "A" } },
        { "id": "b", "weight": 0.33, "content": { "text": "B" } },
        { "id": "c", "weight": 0.33, "content": { "text": "C" } } ] } ]
    }"#;
    let engine = Engine::from_json(config, default_engine()).expect("a valid config");
    let facts = facts();
    let mut counts = [0usize; 3];
    for entropy in 0..6000u64 {
        let view = first_view(&engine, &facts, entropy);
        let slot = &view.decision.slots[0];
        assert!(!slot.holdout, "visitor {entropy} held out");
        let variant = slot.variant.expect("a variant");
        counts[["a", "b", "c"]
            .iter()
            .position(|v| *v == variant)
            .expect("known")] += 1;
    }
    for count in counts {
        assert!((1800..=2200).contains(&count), "{counts:?}");
    }
}

/// Without storage consent the visitor id is new on every page load: such a visitor is
/// in no experiment (the first variant, never the holdout, reported as no variant), so
/// that the page does not change arm from one load to the next.
#[test]
fn a_visitor_without_a_stored_id_is_in_no_experiment() {
    let config = r#"{
      "consent": { "mode": "required" },
      "slots": { "hero": {} },
      "experiences": [ { "id": "hero-ab", "slot": "hero", "holdout": 0.3, "variants": [
        { "id": "a", "weight": 0.5, "content": { "text": "A" } },
        { "id": "b", "weight": 0.5, "content": { "text": "B" } } ] } ]
    }"#;
    let engine = Engine::from_json(config, default_engine()).expect("a valid config");
    let facts = facts();
    let mut arms = std::collections::BTreeSet::new();
    for entropy in 0..200u64 {
        let view = first_view(&engine, &facts, entropy);
        assert!(!view.storage.allowed);
        let slot = &view.decision.slots[0];
        let text = slot.content.as_ref().and_then(|c| c.text.clone());
        arms.insert((slot.experience, slot.variant, slot.holdout, text));
    }
    assert_eq!(
        arms.into_iter().collect::<Vec<_>>(),
        vec![(Some("hero-ab"), None, false, Some("A".to_string()))]
    );
}
