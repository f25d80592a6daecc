//! The context of one typical page view, part by part: URL parsing, UTM tags,
//! referrer classification, User-Agent parsing, languages, local time, and the whole
//! `Context::from_facts` (plus the lazy `from_facts_with` for a config that reads
//! only a few parts). Each figure includes allocating and dropping the result; the
//! `Context::clone` line shows what allocating the strings of a full context alone
//! costs with this allocator.
//!
//! Run: `cargo bench --bench context`. Figures are nanoseconds per call, medians over
//! 15 batches, so one noisy batch does not move them.

use edge_persona::core::context::{
    classify_referrer, languages, local_time, parse_url, parse_user_agent, Context, ContextNeeds,
    Hemisphere, PageAnnotations, RequestFacts, Utm,
};
use std::hint::black_box;

mod common;
use common::median_ns;

fn facts() -> RequestFacts {
    RequestFacts {
        url: "https://demo.example.ru/r/sixty?utm_source=yandex&utm_medium=cpc&utm_campaign=autumn&yclid=1".into(),
        referrer: Some("https://yandex.ru/".into()),
        user_agent: Some("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148".into()),
        language: Some("ru-RU,ru;q=0.9,en;q=0.8".into()),
        now_ms: 1_795_791_600_000,
        utc_offset_minutes: 180,
        page: PageAnnotations {
            price: Some(6500.0),
            category: Some("modern".into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn main() {
    let f = facts();
    let url = parse_url(&f.url);
    let utm = Utm::from_url(&url);
    const N: u32 = 50_000;

    let t_url = median_ns(|| drop(black_box(parse_url(black_box(&f.url)))), N);
    let t_utm = median_ns(|| drop(black_box(Utm::from_url(black_box(&url)))), N);
    let t_ref = median_ns(
        || {
            black_box(classify_referrer(
                black_box(f.referrer.as_deref()),
                black_box(&url),
                black_box(&utm),
            ));
        },
        N,
    );
    let t_ua = median_ns(
        || {
            drop(black_box(parse_user_agent(black_box(
                f.user_agent.as_deref(),
            ))))
        },
        N,
    );
    let t_lang = median_ns(
        || drop(black_box(languages(black_box(f.language.as_deref())))),
        N,
    );
    let t_time = median_ns(
        || {
            black_box(local_time(
                black_box(f.now_ms),
                black_box(f.utc_offset_minutes),
                Hemisphere::North,
            ));
        },
        N,
    );
    let t_all = median_ns(
        || {
            drop(black_box(Context::from_facts(
                black_box(&f),
                Hemisphere::North,
            )))
        },
        N,
    );
    let few = ContextNeeds {
        utm: true,
        user_agent: true,
        ..ContextNeeds::default()
    };
    let t_few = median_ns(
        || {
            drop(black_box(Context::from_facts_with(
                black_box(&f),
                Hemisphere::North,
                few,
            )))
        },
        N,
    );
    let typical = ContextNeeds {
        referrer: true,
        user_agent: true,
        ..ContextNeeds::default()
    };
    let t_typical = median_ns(
        || {
            drop(black_box(Context::from_facts_with(
                black_box(&f),
                Hemisphere::North,
                typical,
            )))
        },
        N,
    );
    let ctx = Context::from_facts(&f, Hemisphere::North);
    let t_clone = median_ns(|| drop(black_box(black_box(&ctx).clone())), N);
    let t_none = median_ns(
        || {
            drop(black_box(Context::from_facts_with(
                black_box(&f),
                Hemisphere::North,
                ContextNeeds::default(),
            )))
        },
        N,
    );

    let sum = t_url + t_utm + t_ref + t_ua + t_lang + t_time;
    println!("| part | ns per call |");
    println!("|---|---:|");
    println!("| parse_url | {t_url:.0} |");
    println!("| Utm::from_url | {t_utm:.0} |");
    println!("| classify_referrer(\"https://yandex.ru/\") | {t_ref:.0} |");
    println!("| parse_user_agent(iPhone) | {t_ua:.0} |");
    println!("| languages(\"ru-RU,ru;q=0.9,en;q=0.8\") | {t_lang:.0} |");
    println!("| local_time | {t_time:.0} |");
    println!("| sum of parts | {sum:.0} |");
    println!("| Context::from_facts | {t_all:.0} |");
    println!("| Context::from_facts_with(utm + user_agent) | {t_few:.0} |");
    println!("| Context::from_facts_with(referrer + user_agent) | {t_typical:.0} |");
    println!("| Context::from_facts_with(nothing: page and geo only) | {t_none:.0} |");
    println!(
        "| Context::clone (allocating the same strings: the floor for from_facts) | {t_clone:.0} |"
    );
}
