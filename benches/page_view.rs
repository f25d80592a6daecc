//! One page-view decision natively: decode the cookie, record the view, classify,
//! decide, encode the cookie, for a realistic config (10 custom rules over 5
//! attributes, the built-in classifiers, 3 slots, 2 popups). Beside it, in the same
//! run: the same rules written by hand in Rust (a lower bound with no engine at all)
//! and the cookie codec alone.
//!
//! Run: `cargo bench --bench page_view --features cli`. Prints a Markdown table for
//! BENCHMARKS.md. Figures are medians over batches, so one noisy batch does not move them.

use edge_persona::core::context::RequestFacts;
use edge_persona::core::engine::{CookieWrite, Engine, PageViewInput};
use edge_persona::core::pattern::default_engine;
use edge_persona::core::profile::codec::CookieCodec;
use std::hint::black_box;

mod common;
use common::median_ns;

fn facts(now_ms: i64) -> RequestFacts {
    serde_json::from_value(serde_json::json!({
        "url": "https://demo.example.ru/r/sixty?utm_source=yandex&utm_medium=cpc&utm_campaign=autumn&yclid=1",
        "referrer": "https://yandex.ru/",
        "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        "language": "ru-RU,ru;q=0.9,en;q=0.8",
        "nowMs": now_ms,
        "utcOffsetMinutes": 180,
        "page": { "price": 6500, "category": "modern", "itemId": "sixty" },
        "cookies": { "name": "Анна" }
    }))
    .expect("bench facts")
}

/// The same ten rules, hand-written over plain values: what a site would write
/// without any engine. No cookie, no classifiers: a lower bound.
#[derive(Clone, Copy)]
struct Plain<'a> {
    source: &'a str,
    class: &'a str,
    device: &'a str,
    visits: u32,
    band: &'a str,
}

fn hand_written(v: Plain<'_>) -> (u8, u8, u8, u8) {
    let yandex = v.source == "yandex";
    let paid = v.class == "paid";
    let mobile = v.device == "mobile";
    let loyal = v.visits >= 3;
    let _premium = v.band == "premium";
    let _search = matches!(v.class, "search" | "social");
    let hero = if yandex && mobile {
        1
    } else if v.visits >= 5 && v.device != "bot" {
        2
    } else if paid {
        3
    } else {
        0
    };
    let offers = u8::from(v.band == "premium" && !v.source.is_empty());
    let greeting = if loyal || v.source == "email" { 1 } else { 0 };
    let popup = u8::from(v.visits < 2);
    (hero, offers, greeting, popup)
}

fn main() {
    let config = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/bench-config.json"
    ))
    .expect("bench config");
    let engine = Engine::from_json(&config, default_engine()).expect("valid bench config");
    let start_ms = 1_795_791_600_000;
    // A returning visitor: three earlier visits leave a realistic cookie.
    let mut cookie = None;
    for visit in 0..3 {
        let f = facts(start_ms + visit * 86_400_000);
        let view = engine.page_view(PageViewInput {
            facts: &f,
            cookie: cookie.as_deref(),
            consent: None,
            entropy: 7,
            keys: &[],
            explain: false,
            new_profile_kept: true,
        });
        if let CookieWrite::Set { value, .. } = view.cookie {
            cookie = Some(value);
        }
    }
    let cookie = cookie.expect("consent mode `required` without a signal stores nothing; the bench config must allow storage");
    let f = facts(start_ms + 4 * 86_400_000);
    let consent = Some(edge_persona::core::config::ConsentLevel::Personalization);

    let page_view = |explain: bool| {
        let view = engine.page_view(PageViewInput {
            facts: black_box(&f),
            cookie: Some(black_box(&cookie)),
            consent,
            entropy: 7,
            keys: &[],
            explain,
            new_profile_kept: true,
        });
        black_box(view);
    };
    let full = median_ns(|| page_view(false), 20_000);
    if std::env::var_os("EP_BENCH_PROFILE").is_some() {
        return; // only the full page view, for `perf record`
    }
    let explained = median_ns(|| page_view(true), 5_000);
    let codec = CookieCodec {
        keys: &[],
        require_signature: false,
        max_age_minutes: u32::MAX,
    };
    let codec_only = median_ns(
        || {
            if let Ok((profile, _)) = codec.decode(black_box(&cookie), 0) {
                black_box(codec.encode(&profile));
            }
        },
        50_000,
    );
    let plain = Plain {
        source: "yandex",
        class: "paid",
        device: "mobile",
        visits: 4,
        band: "premium",
    };
    let hand = median_ns(
        || {
            black_box(hand_written(black_box(plain)));
        },
        1_000_000,
    );

    println!("| what | time per page view |");
    println!("|---|---|");
    println!("| edge-persona page view: decode cookie ({} bytes), record, classify, decide, encode | {:.2} µs |", cookie.len(), full / 1000.0);
    println!(
        "| the same with explain details (reasons with values) | {:.2} µs |",
        explained / 1000.0
    );
    println!(
        "| cookie decode + encode alone | {:.2} µs |",
        codec_only / 1000.0
    );
    println!("| the same 10 rules hand-written in Rust (no cookie, no classifiers; lower bound) | {:.3} µs |", hand / 1000.0);
    println!(
        "\ntarget: page view under 2 µs — {}",
        if full < 2000.0 { "met" } else { "NOT met" }
    );
}
