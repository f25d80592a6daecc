//! Property tests of the profile cookie: encode/decode round-trips, the 1 KB cap
//! always holds, and no input makes decoding panic.

use edge_persona::core::profile::codec::{CookieCodec, MAX_COOKIE_LEN};
use edge_persona::core::profile::{
    AttentionState, CategoryPurchase, EventCount, FunnelHistory, Interest, PriceSummary, Profile,
    Purchase, RuleHistory,
};
use proptest::prelude::*;

const NOW: u32 = 29_000_000;

fn codec() -> CookieCodec<'static> {
    CookieCodec {
        keys: &[],
        require_signature: false,
        max_age_minutes: u32::MAX,
    }
}

fn count() -> impl Strategy<Value = EventCount> {
    (any::<u32>(), 0..=NOW).prop_map(|(count, last)| EventCount { count, last })
}

fn finite() -> impl Strategy<Value = f32> {
    -1.0e9f32..1.0e9f32
}

prop_compose! {
    fn profile()(
        visitor_id in any::<u64>(),
        times in (0..=NOW, 0..=NOW, 0..=NOW),
        visits in any::<u32>(),
        page_views in any::<u32>(),
        session_page_views in any::<u16>(),
        prices in (any::<u32>(), finite(), finite(), finite(), finite()),
        stage in 0u8..4,
        counts in (count(), count(), count(), count()),
        purchase in proptest::option::of((0..=NOW, proptest::option::of("[a-z]{0,40}"), proptest::option::of("\\PC{0,40}"), proptest::option::of(finite()))),
        interests in proptest::collection::vec(("\\PC{0,40}", finite()), 0..8),
        history in proptest::collection::vec((any::<u32>(), any::<u16>(), any::<u8>(), any::<u8>(), any::<u8>(), 0..=NOW, 0..=NOW), 0..80),
        attention in (any::<u8>(), any::<u32>(), any::<u8>()),
        consent in 0u8..3,
        purchased_categories in proptest::collection::vec(("\\PC{0,40}", 0..=NOW), 0..5),
        previous_visit_gap in 0..=NOW,
    ) -> Profile {
        Profile {
            visitor_id,
            first_seen: times.0,
            last_seen: times.1,
            session_start: times.2,
            visits,
            page_views,
            session_page_views,
            prices: PriceSummary { count: prices.0, typical: prices.1, recent: prices.2, min: prices.3, max: prices.4 },
            funnel: FunnelHistory {
                stage,
                add_to_cart: counts.0,
                checkout: counts.1,
                purchase: counts.2,
                lead: counts.3,
                last_purchase: purchase.map(|(at, category, item_id, value)| Purchase { at, category, item_id, value }),
            },
            interests: interests.into_iter().map(|(category, score)| Interest { category, score }).collect(),
            history: history
                .into_iter()
                .map(|(rule, shown, session_shows, dismissed, converted, first_shown, last_shown)| RuleHistory {
                    rule, shown, session_shows, dismissed, converted, first_shown, last_shown,
                })
                .collect(),
            attention: AttentionState { session: attention.0, day: attention.1, day_count: attention.2 },
            consent,
            purchased_categories: purchased_categories
                .into_iter()
                .map(|(category, at)| CategoryPurchase { category, at })
                .collect(),
            previous_visit_gap,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn profiles_round_trip_within_the_cap(p in profile()) {
        let value = codec().encode(&p);
        prop_assert!(value.len() <= MAX_COOKIE_LEN, "{} bytes", value.len());
        prop_assert!(value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        let (back, _) = codec().decode(&value, NOW).expect("own encoding decodes");
        if value.len() < MAX_COOKIE_LEN - 200 {
            prop_assert_eq!(back, p);
        } else {
            // Trimmed: identity fields survive, variable parts only shrink.
            prop_assert_eq!(back.visitor_id, p.visitor_id);
            prop_assert_eq!(back.visits, p.visits);
            prop_assert!(back.history.len() <= p.history.len());
            prop_assert!(back.interests.len() <= p.interests.len());
        }
    }

    #[test]
    fn decoding_arbitrary_text_never_panics(text in "\\PC{0,1200}") {
        let _ = codec().decode(&text, NOW);
    }

    #[test]
    fn decoding_arbitrary_payloads_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..700), signed in any::<bool>()) {
        use base64::Engine as _;
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        let value = if signed { format!("1sk1.{body}") } else { format!("1c{body}") };
        let _ = codec().decode(&value, NOW);
    }

    #[test]
    fn a_flipped_bit_is_never_accepted_as_a_different_profile(p in profile(), position in any::<prop::sample::Index>(), bit in 0u8..6) {
        let value = codec().encode(&p);
        let mut bytes = value.clone().into_bytes();
        let i = 2 + position.index(bytes.len() - 2);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let index = alphabet.iter().position(|&c| c == bytes[i]).unwrap_or(0);
        bytes[i] = alphabet[index ^ (1 << bit)];
        let damaged = String::from_utf8(bytes).unwrap();
        if let Ok((decoded, _)) = codec().decode(&damaged, NOW) {
            // Only an unused trailing base64 bit can flip without changing the bytes.
            let (original, _) = codec().decode(&value, NOW).unwrap();
            prop_assert_eq!(decoded, original);
        }
    }
}
