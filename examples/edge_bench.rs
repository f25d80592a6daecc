//! Native lower bounds for the edge benchmarks (`benches/edge/node.mjs` runs it):
//! per corpus page, the median time of a plain memory copy, of lol-html doing the same
//! three swaps with no decision, and of our full path (cookie decode, classify,
//! rewrite three slots, set-cookie), natively.
//!
//!   cargo build --release --example edge_bench --features edge
//!   target/release/examples/edge_bench CONFIG_JSON CORPUS_DIR [ITERATIONS]
//!
//! Prints one JSON line per page: `{"page", "bytes", "memcpyNs", "lolHtmlNs", "oursNs"}`.

use edge_persona::core::pattern::default_engine;
use edge_persona::edge::{EdgeEngine, EdgeOptions, EdgeRequest, EdgeResponse, ResponseHead};
use lol_html::html_content::ContentType;
use lol_html::{element, HtmlRewriter, Settings};
use std::hint::black_box;
use std::time::Instant;

fn median_ns(iterations: usize, mut run: impl FnMut()) -> u128 {
    run();
    let mut times: Vec<u128> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_nanos()
        })
        .collect();
    times.sort_unstable();
    times[times.len() / 2]
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, config_path, corpus, rest @ ..] = args.as_slice() else {
        return Err("usage: edge_bench CONFIG_JSON CORPUS_DIR [ITERATIONS]".into());
    };
    let iterations: usize = rest.first().and_then(|n| n.parse().ok()).unwrap_or(200);
    let config = std::fs::read_to_string(config_path).map_err(|e| format!("{config_path}: {e}"))?;
    let engine = EdgeEngine::from_json(&config, default_engine(), vec![], EdgeOptions::default())
        .map_err(|e| e.to_string())?;
    let head = ResponseHead {
        status: 200,
        content_type: Some("text/html; charset=utf-8".into()),
        ..ResponseHead::default()
    };
    let mut request = EdgeRequest {
        method: "GET".into(),
        url: "https://shop.example/landing?utm_source=yandex&utm_medium=cpc".into(),
        cookie: Some("name=%D0%90%D0%BD%D1%8F".into()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0".into()),
        accept_language: Some("ru-RU,ru;q=0.9".into()),
        now_ms: 1_800_000_000_000,
        entropy: 42,
        ..EdgeRequest::default()
    };
    // A returning visitor: the profile cookie of a first response.
    if let EdgeResponse::Personalize(first) = engine.respond(&request, &head) {
        if let Some((_, set_cookie)) = first.headers.append.iter().find(|(n, _)| n == "set-cookie")
        {
            let pair = set_cookie.split(';').next().unwrap_or_default();
            request.cookie = Some(format!("name=%D0%90%D0%BD%D1%8F; {pair}"));
        }
    }
    let mut pages: Vec<_> = std::fs::read_dir(corpus)
        .map_err(|e| format!("{corpus}: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    pages.sort();
    for page in pages {
        let bytes = std::fs::read(&page).map_err(|e| format!("{}: {e}", page.display()))?;
        let chunks: Vec<&[u8]> = bytes.chunks(16 * 1024).collect();
        let memcpy = median_ns(iterations, || {
            black_box(black_box(&bytes).to_vec());
        });
        let lol_html = median_ns(iterations, || {
            let mut out = Vec::with_capacity(bytes.len() + 1024);
            let mut rewriter = HtmlRewriter::new(
                Settings::new()
                    .append_element_content_handler(element!("h1", |el| {
                        el.set_inner_content(
                            "<span class=\"ep-new\">Добро пожаловать</span>",
                            ContentType::Html,
                        );
                        el.set_attribute("data-ep-applied", "headline-new")?;
                        Ok(())
                    }))
                    .append_element_content_handler(element!("footer", |el| {
                        el.set_inner_content("Мы рядом", ContentType::Text);
                        el.set_attribute("data-ep-applied", "footer-text")?;
                        Ok(())
                    }))
                    .append_element_content_handler(element!("nav", |el| {
                        el.set_inner_content("Здравствуйте, Аня!", ContentType::Text);
                        el.set_attribute("data-ep-applied", "by-name")?;
                        Ok(())
                    })),
                |c: &[u8]| out.extend_from_slice(c),
            );
            for chunk in &chunks {
                let _ = rewriter.write(chunk);
            }
            let _ = rewriter.end();
            black_box(out);
        });
        let ours = median_ns(iterations, || {
            if let EdgeResponse::Personalize(mut p) = engine.respond(black_box(&request), &head) {
                let mut out = Vec::with_capacity(bytes.len() + 1024);
                for chunk in &chunks {
                    out.extend(p.rewriter.write(chunk));
                }
                out.extend(p.rewriter.end());
                black_box((out, p.headers));
            }
        });
        let name = page
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!(
            "{{\"page\":{name:?},\"bytes\":{},\"memcpyNs\":{memcpy},\"lolHtmlNs\":{lol_html},\"oursNs\":{ours}}}",
            bytes.len()
        );
    }
    Ok(())
}
