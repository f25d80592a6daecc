use edge_persona::core::pattern::default_engine;
use edge_persona::edge::{EdgeEngine, EdgeOptions, EdgeRequest, EdgeResponse, ResponseHead};
use std::time::Instant;
fn main() {
    let config = std::fs::read_to_string("/tmp/bench-config.json").unwrap();
    let engine =
        EdgeEngine::from_json(&config, default_engine(), vec![], EdgeOptions::default()).unwrap();
    let head = ResponseHead {
        status: 200,
        content_type: Some("text/html; charset=utf-8".into()),
        ..ResponseHead::default()
    };
    let mut request = EdgeRequest {
        method: "GET".into(),
        url: "https://shop.example/landing?utm_source=yandex&utm_medium=cpc".into(),
        cookie: Some("name=%D0%90%D0%BD%D1%8F".into()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36".into()),
        accept_language: Some("ru-RU,ru;q=0.9,en;q=0.8".into()),
        now_ms: 1_800_000_000_000, entropy: 42, ..EdgeRequest::default()
    };
    if let EdgeResponse::Personalize(first) = engine.respond(&request, &head) {
        let (_, sc) = first
            .headers
            .append
            .iter()
            .find(|(n, _)| n == "set-cookie")
            .unwrap();
        request.cookie = Some(format!(
            "name=%D0%90%D0%BD%D1%8F; {}",
            sc.split(';').next().unwrap()
        ));
    }
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100000);
    let t = Instant::now();
    let mut total = 0;
    for _ in 0..n {
        let d = engine.decide(&request, &head);
        total += d.handoff.map_or(0, |h| h.len());
    }
    let json = serde_json::to_string(&engine.decide(&request, &head)).unwrap();
    eprintln!(
        "{} ns per decide; handoff+json {} {}",
        t.elapsed().as_nanos() / n as u128,
        total / n,
        json.len()
    );
}
