//! The edge rewriter on real landing pages (`../shared/corpus/pages/`, unmodified)
//! and on hostile input: byte identity when nothing matches, only the targeted
//! blocks changed otherwise (compared as parsed documents), the same output at any
//! chunking, no markup from visitor values, signed cookies, cache safety and
//! graceful bail-out.
#![cfg(feature = "edge")]

use edge_persona::core::context::Geo;
use edge_persona::core::pattern::default_engine;
use edge_persona::core::profile::codec::SigningKey;
use edge_persona::edge::cache::shared_cache_may_store;
use edge_persona::edge::{
    EdgeEngine, EdgeOptions, EdgeRequest, EdgeResponse, PassReason, Personalization, ResponseHead,
    RewriteLimits,
};
use scraper::{Html, Selector};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const NOW_MS: i64 = 1_800_000_000_000;

fn corpus_pages() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/pages");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus at {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    pages.sort();
    assert!(
        pages.len() >= 10,
        "expected the landing-page corpus in {}",
        dir.display()
    );
    pages
}

fn engine(config: Value, keys: Vec<SigningKey>, limits: RewriteLimits) -> EdgeEngine {
    EdgeEngine::from_json(
        &config.to_string(),
        default_engine(),
        keys,
        EdgeOptions {
            explain_header: true,
            limits,
        },
    )
    .unwrap_or_else(|e| panic!("config: {e}"))
}

fn request(cookie: Option<&str>, query: &str) -> EdgeRequest {
    EdgeRequest {
        method: "GET".into(),
        url: format!("https://shop.example/landing{query}"),
        cookie: cookie.map(str::to_string),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0".into()),
        accept_language: Some("ru-RU,ru;q=0.9".into()),
        geo: Some(Geo {
            country: Some("RU".into()),
            ..Geo::default()
        }),
        now_ms: NOW_MS,
        entropy: 0x5eed_1234_abcd_0042,
        ..EdgeRequest::default()
    }
}

fn html_head() -> ResponseHead {
    ResponseHead {
        status: 200,
        content_type: Some("text/html; charset=utf-8".into()),
        cache_control: Some("public, max-age=600".into()),
        ..ResponseHead::default()
    }
}

fn personalize(engine: &EdgeEngine, request: &EdgeRequest) -> Box<Personalization> {
    match engine.respond(request, &html_head()) {
        EdgeResponse::Personalize(p) => p,
        EdgeResponse::PassThrough(reason) => panic!("passed through: {reason:?}"),
    }
}

/// The page through a fresh rewriter, in chunks of the given sizes (cycled).
fn rewrite(engine: &EdgeEngine, request: &EdgeRequest, page: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut p = personalize(engine, request);
    let mut out = Vec::new();
    let mut rest = page;
    let mut i = 0;
    while !rest.is_empty() {
        let size = sizes[i % sizes.len()].clamp(1, rest.len());
        let (chunk, tail) = rest.split_at(size);
        out.extend(p.rewriter.write(chunk));
        rest = tail;
        i += 1;
    }
    out.extend(p.rewriter.end());
    assert_eq!(p.rewriter.failure(), None);
    out
}

/// `page` through `engine` for `request`, answered with `content_type`, in chunks of
/// `size` bytes: the output, and why rewriting stopped early, if it did.
fn rewrite_as(
    engine: &EdgeEngine,
    request: &EdgeRequest,
    content_type: &str,
    page: &[u8],
    size: usize,
) -> (Vec<u8>, Option<String>) {
    let head = ResponseHead {
        content_type: Some(content_type.into()),
        ..html_head()
    };
    let EdgeResponse::Personalize(mut p) = engine.respond(request, &head) else {
        panic!("{content_type}: passed through");
    };
    let mut out = Vec::new();
    for chunk in page.chunks(size) {
        out.extend(p.rewriter.write(chunk));
    }
    out.extend(p.rewriter.end());
    (out, p.rewriter.failure().map(str::to_string))
}

/// A small deterministic generator, so that a failing split can be replayed from
/// its seed.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn sizes(&mut self, count: usize, max: u64) -> Vec<usize> {
        (0..count)
            .map(|_| (self.next() % max) as usize + 1)
            .collect()
    }
}

/// A config whose rules all match but whose selectors match nothing on the corpus
/// pages, with no `<html>` classes: the pages must come out byte for byte.
/// `page` rewritten for a new visitor at the chunk `sizes`, as text.
fn rewrite_text(engine: &EdgeEngine, page: &str, sizes: &[usize]) -> String {
    String::from_utf8(rewrite(engine, &request(None, ""), page.as_bytes(), sizes)).expect("UTF-8")
}

fn config_matching_no_element() -> Value {
    json!({
        "consent": { "mode": "none" },
        "htmlClasses": { "enabled": false },
        "slots": {
            "hero": { "selector": "#ep-no-such-hero" },
            "greeting": { "selector": "div.ep-no-such-greeting > span" }
        },
        "experiences": [
            { "id": "hero-all", "slot": "hero", "content": { "html": "<b>never</b>" } }
        ],
        "greetings": [ { "id": "hi", "slot": "greeting", "template": "Hi" } ]
    })
}

/// A config that swaps three blocks every corpus page has some of.
fn config_three_slots() -> Value {
    json!({
        "consent": { "mode": "none" },
        "readCookies": ["name"],
        "slots": {
            "headline": { "selector": "h1" },
            "footer": { "selector": "footer" },
            "nav": { "selector": "nav" }
        },
        "experiences": [
            { "id": "headline-new", "slot": "headline",
              "content": { "html": "<span class=\"ep-new\">Добро пожаловать</span>" } },
            { "id": "footer-text", "slot": "footer", "content": { "text": "Мы рядом <всегда> & везде" } }
        ],
        "greetings": [
            { "id": "by-name", "slot": "nav", "template": "Здравствуйте, {cookies.name|гость}!" }
        ]
    })
}

/// Inside `<style>` and `<script>` text is read as it is, and inside `<title>` markup
/// is text: only what reads back as the browser's `textContent` would put it goes in.
#[test]
fn slots_on_text_parsing_elements_get_only_what_reads_back_the_same() {
    let config = json!({
        "consent": { "mode": "none" },
        "slots": {
            "theme": { "selector": "style#theme" },
            "heading": { "selector": "title" },
            "data": { "selector": "script#data" }
        },
        "experiences": [
            { "id": "dark", "slot": "theme", "content": { "text": ".hero > h1 {{ color: red }}" } },
            { "id": "named", "slot": "heading", "content": { "text": "Tom & Jerry" } },
            { "id": "json", "slot": "data", "content": { "html": "<b>x</b>" } }
        ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    let page = "<html><head><title>Home</title><style id=\"theme\">h1 { color: blue }</style>\
                <script id=\"data\" type=\"application/json\">{\"a\":1}</script></head>\
                <body><h1>Hi</h1></body></html>";
    let out = rewrite_text(&engine, page, &[7]);
    assert!(
        out.contains("<style id=\"theme\">h1 { color: blue }</style>"),
        "{out}"
    );
    assert!(out.contains("{\"a\":1}</script>"), "{out}");
    assert!(out.contains(">Tom &amp; Jerry</title>"), "{out}");
}

#[test]
fn a_config_that_matches_nothing_gives_byte_identical_pages() {
    let engine = engine(
        config_matching_no_element(),
        vec![],
        RewriteLimits::default(),
    );
    for page in corpus_pages() {
        let bytes = std::fs::read(&page).expect("readable page");
        let out = rewrite(&engine, &request(None, ""), &bytes, &[64 * 1024]);
        assert!(out == bytes, "{} changed", page.display());
    }
}

/// The edge records the page view in the profile cookie whether or not the page
/// changed. A page that runs the browser runtime must then get the hand-off, or the
/// runtime records that page view a second time; a page without the runtime keeps
/// its bytes.
#[test]
fn a_page_that_runs_the_browser_runtime_gets_the_handoff_even_when_nothing_changed() {
    let engine = engine(
        config_matching_no_element(),
        vec![],
        RewriteLimits::default(),
    );
    let page = |head: &str| {
        format!("<!doctype html><html><head>{head}</head><body><h1>Hi</h1></body></html>")
    };
    let with_runtime = [
        r#"<style id="ep-hide">html:not(.ep-ready) h1{visibility:hidden}</style>"#,
        r#"<script type="application/json" id="edge-persona-config">{}</script>"#,
        r#"<script type="module" src="/assets/app.js" data-edge-persona></script>"#,
        r#"<script type="module" src="/ep/loader.js" data-config="/ep/config.json"></script>"#,
        r#"<meta name="edge-persona">"#,
    ];
    for head in with_runtime {
        let html = page(head);
        let out = String::from_utf8(rewrite(&engine, &request(None, ""), html.as_bytes(), &[7]))
            .expect("UTF-8");
        let handoff = handoff_json(&out);
        assert_eq!(handoff["version"], 1, "{head}");
        assert_eq!(handoff["storage"]["allowed"], true, "{head}");
        assert!(
            out.contains("<body><h1>Hi</h1><script type=\"application/json\" id=\"ep-handoff\""),
            "{head}: the hand-off at the end of <body>, nothing else changed: {out}"
        );
        // The hiding style hides nothing any more (the page shows its decisions):
        // this one is not the snippet's form, so it is emptied; the rest stays.
        if head.contains("ep-hide") {
            assert!(
                out.contains("<style id=\"ep-hide\"></style>"),
                "{head}: {out}"
            );
        } else {
            assert!(out.contains(head), "{head} kept: {out}");
        }
    }
    let without_runtime = [
        r#"<script type="module" src="/assets/app.js"></script>"#,
        r#"<script src="/vendor/widget.js" data-config="/widget.json"></script>"#,
        r#"<style id="site-styles">h1{color:red}</style>"#,
        r#"<meta name="description" content="edge-persona">"#,
    ];
    for head in without_runtime {
        let html = page(head);
        let out = rewrite(&engine, &request(None, ""), html.as_bytes(), &[7]);
        assert!(out == html.as_bytes(), "{head}: changed");
    }
}

#[test]
fn every_chunking_gives_the_same_output() {
    let engine = engine(config_three_slots(), vec![], RewriteLimits::default());
    let seed: u64 = std::env::var("EP_SPLIT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_127);
    let mut random = SplitMix(seed);
    for page in corpus_pages() {
        let bytes = std::fs::read(&page).expect("readable page");
        let req = request(Some("name=%D0%90%D0%BD%D1%8F"), "");
        let whole = rewrite(&engine, &req, &bytes, &[bytes.len()]);
        assert_ne!(whole, bytes, "{}: nothing was rewritten", page.display());
        let one_byte = rewrite(&engine, &req, &bytes, &[1]);
        assert!(
            one_byte == whole,
            "{}: 1-byte chunks differ",
            page.display()
        );
        for round in 0..4 {
            let sizes = random.sizes(64, [7, 100, 1500, 20_000][round]);
            let split = rewrite(&engine, &req, &bytes, &sizes);
            assert!(
                split == whole,
                "{}: chunking differs (EP_SPLIT_SEED={seed}, round {round})",
                page.display()
            );
        }
    }
}

/// The document with the targeted elements emptied, the edge's own additions
/// removed and `data-ep-applied` dropped, serialized.
fn without_targets(html: &str, targets: &[&str]) -> String {
    let mut document = Html::parse_document(html);
    let mut doomed = Vec::new();
    for target in targets {
        let selector = Selector::parse(target).expect("valid selector");
        for element in document.select(&selector) {
            doomed.extend(element.children().map(|c| c.id()));
        }
    }
    let additions = Selector::parse("#ep-handoff, template[data-ep-popup]").expect("valid");
    doomed.extend(document.select(&additions).map(|e| e.id()));
    for id in doomed {
        if let Some(mut node) = document.tree.get_mut(id) {
            node.detach();
        }
    }
    document
        .html()
        .replace(" data-ep-applied=\"headline-new\"", "")
        .replace(" data-ep-applied=\"footer-text\"", "")
        .replace(" data-ep-applied=\"by-name\"", "")
        .replace(" class=\"ep-exp-new ep-stage-cold\"", "")
        .replace(" ep-exp-new ep-stage-cold", "")
}

#[test]
fn only_the_targeted_blocks_change() {
    let engine = engine(config_three_slots(), vec![], RewriteLimits::default());
    let req = request(Some("name=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"), "");
    for page in corpus_pages() {
        let original = std::fs::read_to_string(&page).expect("readable page");
        let out = rewrite(&engine, &req, original.as_bytes(), &[4096]);
        let out = String::from_utf8(out).expect("UTF-8 stays UTF-8");
        let after = Html::parse_document(&out);
        let before = Html::parse_document(&original);
        let count = |doc: &Html, s: &str| doc.select(&Selector::parse(s).expect("valid")).count();

        // Every targeted element shows the new content, and nothing else changed.
        for h1 in after.select(&Selector::parse("h1").expect("valid")) {
            assert_eq!(
                h1.inner_html(),
                "<span class=\"ep-new\">Добро пожаловать</span>"
            );
            assert_eq!(h1.value().attr("data-ep-applied"), Some("headline-new"));
        }
        for footer in after.select(&Selector::parse("footer").expect("valid")) {
            assert_eq!(
                footer.text().collect::<String>(),
                "Мы рядом <всегда> & везде"
            );
            assert_eq!(footer.children().count(), 1, "text only");
        }
        for nav in after.select(&Selector::parse("nav").expect("valid")) {
            assert_eq!(
                nav.text().collect::<String>(),
                "Здравствуйте, <img src=x onerror=alert(1)>!",
                "{}",
                page.display()
            );
        }
        assert_eq!(count(&after, "h1"), count(&before, "h1"));
        assert_eq!(
            count(&after, "img"),
            count(&before, "img") - count(&before, "nav img, footer img, h1 img")
        );
        assert_eq!(count(&after, "[onerror]"), count(&before, "[onerror]"));
        // `<html>` classes change every page, so every page gets the hand-off.
        assert_eq!(count(&after, "#ep-handoff"), 1, "{}", page.display());
        assert_eq!(
            without_targets(&out, &["h1", "footer", "nav"]),
            without_targets(&original, &["h1", "footer", "nav"]),
            "{}: something outside the targeted blocks changed",
            page.display()
        );
    }
}

fn handoff_json(html: &str) -> Value {
    let document = Html::parse_document(html);
    let selector = Selector::parse("script#ep-handoff").expect("valid");
    let script = document
        .select(&selector)
        .next()
        .expect("a hand-off element");
    assert_eq!(script.value().attr("type"), Some("application/json"));
    serde_json::from_str(&script.text().collect::<String>()).expect("hand-off is JSON")
}

/// The browser applies greetings and attribute changes to the content it swaps in;
/// so does the edge, to the config's markup before it goes in (the stream's own
/// handlers never see what was inserted).
#[test]
fn greetings_and_attribute_changes_reach_the_content_a_slot_gets() {
    let config = json!({
        "consent": { "mode": "none" },
        "readCookies": ["name"],
        "slots": { "hero": { "selector": "#hero" }, "greeting": { "selector": ".greeting" } },
        "experiences": [
            { "id": "hero-new", "slot": "hero",
              "content": { "html": "<h1><span class=\"greeting\">Hello</span></h1><a id=\"cta\" href=\"/book\">Book</a>" },
              "setAttributes": [ { "selector": "#cta", "attribute": "href", "value": "/book?c={utm.campaign|none}&x=1" } ] }
        ],
        "greetings": [ { "id": "hi", "slot": "greeting", "template": "Hi {cookies.name|guest}" } ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    let page = "<!doctype html><html><body><div id=\"hero\">Default</div></body></html>";
    let req = request(
        Some("name=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"),
        "?utm_campaign=spring",
    );
    let out = String::from_utf8(rewrite(&engine, &req, page.as_bytes(), &[5])).expect("UTF-8");
    let doc = Html::parse_document(&out);
    let one = |css: &str| {
        let found: Vec<_> = doc.select(&Selector::parse(css).unwrap()).collect();
        assert_eq!(found.len(), 1, "{css} in {out}");
        found[0]
    };
    let greeting = one("#hero h1 .greeting");
    assert_eq!(
        greeting.text().collect::<String>(),
        "Hi <img src=x onerror=alert(1)>"
    );
    assert_eq!(greeting.value().attr("data-ep-applied"), Some("hi"));
    assert_eq!(
        one("#hero #cta").value().attr("href"),
        Some("/book?c=spring&x=1")
    );
    assert!(
        doc.select(&Selector::parse("img").unwrap())
            .next()
            .is_none(),
        "{out}"
    );
}

/// The same for a variant taken from a `<template>` later in the page, in the page's
/// own charset.
#[test]
fn greetings_and_attribute_changes_reach_a_template_variant() {
    let config = json!({
        "consent": { "mode": "none" },
        "readCookies": ["name"],
        "slots": { "hero": { "selector": "#hero" }, "greeting": { "selector": ".greeting" } },
        "experiences": [
            { "id": "hero-new", "slot": "hero", "content": { "template": "hero-new" },
              "setAttributes": [ { "selector": "#cta", "attribute": "href", "value": "/book?c={utm.campaign|none}" } ] }
        ],
        "greetings": [ { "id": "hi", "slot": "greeting", "template": "Привет, {cookies.name|гость}" } ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    let page = "<!doctype html><html><head><meta charset=\"utf-8\"></head><body>\
        <div id=\"hero\">Default</div><p>filler</p>\
        <template data-ep-variant=\"hero-new\"><h1><span class=\"greeting\">Hello</span></h1>\
        <a id=\"cta\" href=\"/book\">Book</a></template></body></html>";
    let req = request(Some("name=%D0%90%D0%BD%D1%8F"), "?utm_campaign=spring");
    for sizes in [&[1][..], &[7], &[4096]] {
        let out = String::from_utf8(rewrite(&engine, &req, page.as_bytes(), sizes)).expect("UTF-8");
        let doc = Html::parse_document(&out);
        let in_hero = |css: &str| {
            doc.select(&Selector::parse(&format!("#hero {css}")).unwrap())
                .next()
        };
        let greeting = in_hero(".greeting").unwrap_or_else(|| panic!("{out}"));
        assert_eq!(greeting.text().collect::<String>(), "Привет, Аня", "{out}");
        let cta = in_hero("#cta").unwrap_or_else(|| panic!("{out}"));
        assert_eq!(cta.value().attr("href"), Some("/book?c=spring"), "{out}");
    }
}

/// A page whose `<meta>` names windows-1251 (the header names no charset): the
/// greeting goes into the template variant in that encoding, as into the page.
#[test]
fn changes_inside_a_template_variant_follow_the_meta_charset() {
    let config = json!({
        "consent": { "mode": "none" },
        "readCookies": ["name"],
        "slots": { "hero": { "selector": "#hero" }, "greeting": { "selector": ".greeting" } },
        "experiences": [ { "id": "hero-new", "slot": "hero", "content": { "template": "hero-new" } } ],
        "greetings": [ { "id": "hi", "slot": "greeting", "template": "Привет, {cookies.name|гость}" } ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    let page = "<!doctype html><html><head><meta charset=\"windows-1251\"></head><body>\
        <div id=\"hero\">Старый</div><p class=\"greeting\">Здравствуйте</p>\
        <template data-ep-variant=\"hero-new\"><h1><span class=\"greeting\">Здравствуйте</span></h1></template>\
        </body></html>";
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(page);
    let visitor = request(Some("name=%D0%90%D0%BD%D1%8F"), "");
    let (out, _) = rewrite_as(&engine, &visitor, "text/html", &cp1251, 5);
    let (text, _, malformed) = encoding_rs::WINDOWS_1251.decode(&out);
    assert!(!malformed);
    let doc = Html::parse_document(&text);
    let greetings: Vec<String> = doc
        .select(&Selector::parse(".greeting").unwrap())
        .map(|g| g.text().collect())
        .collect();
    assert_eq!(greetings[..2], ["Привет, Аня", "Привет, Аня"], "{text}");
}

#[test]
fn hostile_values_never_become_markup_in_the_page_or_the_handoff() {
    let config = json!({
        "consent": { "mode": "none" },
        "readCookies": ["name"],
        "slots": { "greeting": { "selector": ".greeting" }, "cta": { "selector": "#cta" } },
        "experiences": [
            { "id": "cta", "slot": "cta", "content": { "text": "Go" },
              "setAttributes": [ { "selector": "#cta", "attribute": "href", "value": "/book?c={utm.campaign}&x=1" } ] }
        ],
        "greetings": [ { "id": "hi", "slot": "greeting", "template": "Hi {cookies.name}, via {utm.campaign}" } ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    let page = "<!doctype html><html><head><title>t</title></head><body>\
        <p class=\"greeting\">Hello</p><a id=\"cta\" href=\"/book\">Book</a></body></html>";
    let names = [
        "<img src=x onerror=alert(1)>",
        "</script><script>alert(1)</script>",
        "%E0%A4%A",
        "\u{202e}evil",
        &"x".repeat(4096),
    ];
    for name in names {
        let cookie = format!("name={}", name.replace(';', "%3B"));
        let campaign = "%22%3E%3Cscript%3Ealert(2)%3C/script%3E%E2%80%A8";
        let mut req = request(Some(&cookie), &format!("?utm_campaign={campaign}"));
        // Headers the edge reads are visitor-controlled too.
        req.user_agent = Some(format!("Mozilla/5.0 {name}"));
        req.referer = Some(format!(
            "https://evil.example/?q={name}\"><script>alert(3)</script>"
        ));
        req.accept_language = Some("ru\"><img src=x onerror=alert(4)>".into());
        req.geo = Some(Geo {
            country: Some("<b>".into()),
            region: Some(name.into()),
            city: Some("</script>".into()),
        });
        let out = String::from_utf8(rewrite(&engine, &req, page.as_bytes(), &[16])).expect("UTF-8");
        let document = Html::parse_document(&out);
        let count = |s: &str| document.select(&Selector::parse(s).expect("valid")).count();
        assert_eq!(count("img"), 0, "{out}");
        assert_eq!(count("script"), 1, "only the hand-off: {out}");
        assert_eq!(count("[onerror]"), 0);
        let link = document
            .select(&Selector::parse("#cta").expect("valid"))
            .next()
            .expect("the link stays");
        let href = link.value().attr("href").unwrap_or_default();
        assert!(
            href.starts_with("/book?c=") && href.ends_with("&x=1"),
            "{href}"
        );
        assert!(!href.contains('"') && !href.contains('<'), "{href}");
        let handoff = handoff_json(&out);
        let text = handoff["decision"]["greetings"][0]["text"]
            .as_str()
            .unwrap_or_default();
        assert!(text.starts_with("Hi "), "{text}");
    }
}

#[test]
fn templates_later_in_the_page_fill_their_slot_and_missing_ones_keep_the_default() {
    let config = json!({
        "consent": { "mode": "none" },
        "htmlClasses": { "enabled": false },
        "slots": { "hero": {}, "offers": {} },
        "experiences": [
            { "id": "hero-late", "slot": "hero", "content": { "template": "late" } },
            { "id": "offers-missing", "slot": "offers", "content": { "template": "absent" } }
        ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    let page = "<html><body><div data-ep-slot=\"hero\"><p>Default hero</p></div>\
        <section data-ep-slot=\"offers\"><p>Default offers</p></section>\
        <template data-ep-variant=\"late\"><h2 class=\"x\">Late hero <b>bold</b></h2></template>\
        </body></html>";
    for sizes in [vec![page.len()], vec![1], vec![5, 13]] {
        let out = String::from_utf8(rewrite(
            &engine,
            &request(None, ""),
            page.as_bytes(),
            &sizes,
        ))
        .expect("UTF-8");
        assert!(
            out.contains("<div data-ep-slot=\"hero\" data-ep-applied=\"hero-late\"><h2 class=\"x\">Late hero <b>bold</b></h2></div>"),
            "{out}"
        );
        assert!(
            out.contains("<section data-ep-slot=\"offers\" data-ep-pending=\"offers-missing\"><p>Default offers</p></section>"),
            "{out}"
        );
        // The template stays in the page for the browser runtime.
        assert!(
            out.contains("<template data-ep-variant=\"late\"><h2"),
            "{out}"
        );
        assert!(!out.contains("<!--ep:"), "a marker leaked: {out}");
    }
}

#[test]
fn a_slot_held_past_the_hold_limit_keeps_its_default_and_the_stream_flows() {
    let config = json!({
        "consent": { "mode": "none" },
        "slots": { "hero": {} },
        "experiences": [ { "id": "hero-late", "slot": "hero", "content": { "template": "late" } } ]
    });
    let limits = RewriteLimits {
        hold_bytes: 2048,
        ..RewriteLimits::default()
    };
    let engine = engine(config, vec![], limits);
    let filler = "<p>filler paragraph</p>".repeat(400);
    let page = format!(
        "<html><body><div data-ep-slot=\"hero\">Default</div>{filler}\
         <template data-ep-variant=\"late\">Late</template></body></html>"
    );
    let mut p = personalize(&engine, &request(None, ""));
    let mut out = Vec::new();
    // What has gone out once half the page has come in.
    let (mut read, mut sent_by_the_middle) = (0, None);
    for chunk in page.as_bytes().chunks(512) {
        out.extend(p.rewriter.write(chunk));
        read += chunk.len();
        if read >= page.len() / 2 && sent_by_the_middle.is_none() {
            sent_by_the_middle = Some(out.len());
        }
    }
    out.extend(p.rewriter.end());
    let out = String::from_utf8(out).expect("UTF-8");
    assert!(
        out.contains("<div data-ep-slot=\"hero\" data-ep-pending=\"hero-late\">Default</div>"),
        "{out}"
    );
    assert!(!out.contains("<!--ep:"));
    assert!(out.contains(&filler));
    let sent_by_the_middle = sent_by_the_middle.unwrap_or(0);
    assert!(
        sent_by_the_middle > page.len() / 4,
        "output kept flowing: {sent_by_the_middle} of {} bytes by the middle of the page",
        page.len()
    );
}

#[test]
fn a_bail_out_passes_the_rest_through_and_never_truncates() {
    let engine = engine(
        config_three_slots(),
        vec![],
        RewriteLimits {
            parser_bytes: 4096,
            ..RewriteLimits::default()
        },
    );
    // Inside the footer slot, a <nav> (the greeting's slot) whose start tag is
    // longer than the parser's memory: lol-html must buffer a tag it has a handler for.
    let huge = "x".repeat(20_000);
    let page = format!(
        "<html><body><h1>Title</h1><footer><p>Default footer</p>\
         <nav data-x=\"{huge}\"><p>after</p></nav></footer><p>tail</p></body></html>"
    );
    let mut p = personalize(&engine, &request(None, ""));
    let mut out = Vec::new();
    for chunk in page.as_bytes().chunks(1000) {
        out.extend(p.rewriter.write(chunk));
    }
    out.extend(p.rewriter.end());
    assert!(
        p.rewriter.failure().is_some(),
        "the limit must have been hit"
    );
    let out = String::from_utf8(out).expect("UTF-8");
    // The footer keeps its whole default (never half-swapped); nothing is lost.
    let expected_tail = format!(
        "<footer data-ep-pending=\"footer-text\"><p>Default footer</p><nav data-x=\"{huge}\"><p>after</p></nav></footer><p>tail</p></body></html>"
    );
    let (page_part, after) = out
        .split_once("</html>")
        .expect("the whole page, then the hand-off");
    assert!(
        format!("{page_part}</html>").ends_with(&expected_tail),
        "{}",
        &out[..200.min(out.len())]
    );
    assert!(out.contains("<h1 data-ep-applied=\"headline-new\"><span"));
    assert!(!out.contains("<!--ep:"));
    // The page changed before the bail-out, so the page's runtime still gets the
    // decision (it would otherwise decide and count the page view again), marked cut:
    // the slots after the cut showed their defaults, and keep them.
    assert!(
        after.starts_with("<script data-ep-cut type=\"application/json\" id=\"ep-handoff\""),
        "{after}"
    );
    assert_eq!(handoff_json(&out)["version"], 1);
}

#[test]
fn a_config_that_requires_signatures_needs_a_key_at_the_edge() {
    let config = json!({
        "consent": { "mode": "none" },
        "cookie": { "requireSignature": true },
        "slots": { "hero": {} },
    })
    .to_string();
    let load = |keys: Vec<SigningKey>| {
        EdgeEngine::from_json(&config, default_engine(), keys, EdgeOptions::default())
    };
    let Err(errors) = load(vec![]) else {
        panic!("a config that requires signatures loaded without a key");
    };
    let errors = errors.0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].path, "cookie.requireSignature");
    let key = SigningKey::new("k1", b"0123456789abcdef0123456789abcdef").expect("key");
    assert!(load(vec![key]).is_ok());
}

#[test]
fn signed_cookies_round_trip_and_damaged_ones_are_ignored() {
    let key = SigningKey::new("k1", b"0123456789abcdef0123456789abcdef").expect("key");
    let config = json!({
        "consent": { "mode": "none" },
        "cookie": { "requireSignature": true },
        "slots": { "hero": {} },
        "experiences": [
            { "id": "welcome-back", "slot": "hero", "when": { "experience": { "$ne": "new" } },
              "content": { "text": "Welcome back" } }
        ]
    });
    let mut unsigned_config = config.clone();
    unsigned_config["cookie"]["requireSignature"] = json!(false);
    let without_keys = engine(unsigned_config, vec![], RewriteLimits::default());
    let signing = engine(config, vec![key], RewriteLimits::default());
    let page = b"<html><body><div data-ep-slot=\"hero\">Hello</div></body></html>";
    let first_cookie = |engine: &EdgeEngine| {
        let first = personalize(engine, &request(None, ""));
        let set_cookie = first
            .headers
            .append
            .iter()
            .find(|(n, _)| n == "set-cookie")
            .map(|(_, v)| v.clone())
            .expect("a profile cookie");
        assert!(set_cookie.contains("; Secure") && set_cookie.contains("SameSite=Lax"));
        set_cookie
            .split(';')
            .next()
            .and_then(|pair| pair.split_once('='))
            .map(|(_, v)| v.to_string())
            .expect("name=value")
    };
    let value = first_cookie(&signing);
    assert!(value.starts_with("1sk1."), "signed: {value}");

    // Two days later: a new session, so a read profile makes a returning visitor.
    let status_with = |engine: &EdgeEngine, cookie: &str| {
        let mut next_visit = request(Some(&format!("ep={cookie}")), "");
        next_visit.now_ms = NOW_MS + 2 * 86_400_000;
        let out = rewrite(engine, &next_visit, page, &[64]);
        let out = String::from_utf8(out).expect("UTF-8");
        (
            out.contains("Welcome back"),
            handoff_json(&out)["cookieStatus"].clone(),
        )
    };
    let status = |cookie: &str| status_with(&signing, cookie);
    let (returning, _) = status(&value);
    assert!(returning, "a good signature is read");

    let mut flipped = value.clone().into_bytes();
    let last = flipped.len() - 3;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    // A well-formed unsigned (checksummed) cookie, which an edge that does not
    // require signatures reads: here it must be refused for want of a signature.
    let unsigned = first_cookie(&without_keys);
    assert!(unsigned.starts_with("1c"), "unsigned: {unsigned}");
    assert!(
        status_with(&without_keys, &unsigned).0,
        "the unsigned cookie is a good one where no signature is required"
    );
    let wrong_kid = value.replacen("1sk1.", "1sk2.", 1);
    let truncated = &value[..value.len() - 4];
    for damaged in [
        String::from_utf8(flipped).expect("ASCII"),
        unsigned,
        wrong_kid,
        truncated.to_string(),
    ] {
        let (returning, cookie_status) = status(&damaged);
        assert!(!returning, "{damaged} must be ignored ({cookie_status})");
    }

    // Expired: the same cookie read far in the future.
    let mut late = request(Some(&format!("ep={value}")), "");
    late.now_ms = NOW_MS + 400 * 86_400_000;
    let out = {
        let mut p = personalize(&signing, &late);
        let mut out = p.rewriter.write(page);
        out.extend(p.rewriter.end());
        String::from_utf8(out).expect("UTF-8")
    };
    assert!(
        !out.contains("Welcome back"),
        "an expired cookie is ignored"
    );
}

/// A shared cache in front of the edge, as a CDN would be: it stores what RFC 9111
/// lets it store and serves it to the next visitor.
#[test]
fn two_visitors_through_a_shared_cache_never_see_each_others_page() {
    let config = json!({
        "consent": { "mode": "none" },
        "readCookies": ["name"],
        "slots": { "greeting": { "selector": ".greeting" } },
        "greetings": [ { "id": "hi", "slot": "greeting", "template": "Hi {cookies.name|there}" } ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    let page = b"<html><body><p class=\"greeting\">Hello</p></body></html>";
    let mut cache: Option<Vec<u8>> = None;
    let mut serve = |cookie: &str| -> Vec<u8> {
        if let Some(stored) = &cache {
            return stored.clone();
        }
        let mut p = personalize(&engine, &request(Some(cookie), ""));
        let mut headers = vec![(
            "cache-control".to_string(),
            "public, max-age=600".to_string(),
        )];
        p.headers.apply(&mut headers);
        let mut body = p.rewriter.write(page);
        body.extend(p.rewriter.end());
        let cache_control = headers
            .iter()
            .find(|(n, _)| n == "cache-control")
            .map(|(_, v)| v.as_str());
        if shared_cache_may_store(cache_control) {
            cache = Some(body.clone());
        }
        body
    };
    let anna = String::from_utf8(serve("name=Anna")).expect("UTF-8");
    let boris = String::from_utf8(serve("name=Boris")).expect("UTF-8");
    assert!(anna.contains("Hi Anna"));
    assert!(
        boris.contains("Hi Boris") && !boris.contains("Anna"),
        "{boris}"
    );
}

#[test]
fn what_is_not_a_full_html_page_passes_through() {
    let engine = engine(config_three_slots(), vec![], RewriteLimits::default());
    let cases: [(&str, ResponseHead, PassReason); 7] = [
        ("HEAD", html_head(), PassReason::Method),
        (
            "GET",
            ResponseHead {
                status: 404,
                ..html_head()
            },
            PassReason::Status,
        ),
        (
            "GET",
            ResponseHead {
                content_range: true,
                ..html_head()
            },
            PassReason::Range,
        ),
        (
            "GET",
            ResponseHead {
                content_type: Some("image/png".into()),
                ..html_head()
            },
            PassReason::NotHtml,
        ),
        (
            "GET",
            ResponseHead {
                content_encoding: Some("br".into()),
                ..html_head()
            },
            PassReason::Encoded,
        ),
        (
            "GET",
            ResponseHead {
                cache_control: Some("public, no-transform".into()),
                ..html_head()
            },
            PassReason::NoTransform,
        ),
        (
            "GET",
            ResponseHead {
                content_type: Some("text/html; charset=utf-16le".into()),
                ..html_head()
            },
            PassReason::Charset,
        ),
    ];
    for (method, head, expected) in cases {
        let mut req = request(Some("ep=1cAAAA"), "");
        req.method = method.into();
        match engine.respond(&req, &head) {
            EdgeResponse::PassThrough(reason) => assert_eq!(reason, expected),
            EdgeResponse::Personalize(_) => panic!("{method} {head:?} must pass through"),
        }
    }
}

/// Markup whose parsing lol-html cannot decide in strict mode (`<select><xmp>`) does
/// not stop the rewriter: it goes through byte for byte, and the rest of the page is
/// still rewritten.
#[test]
fn markup_strict_mode_would_refuse_goes_through_byte_for_byte() {
    let engine = engine(config_three_slots(), vec![], RewriteLimits::default());
    let odd = "<select><xmp><option>1</option></xmp></select><noscript><p>x</p></noscript>";
    let page = format!("<html><body><h1>Old</h1>{odd}<footer>Old footer</footer></body></html>");
    let visitor = request(None, "");
    let mut p = personalize(&engine, &visitor);
    let mut out = p.rewriter.write(page.as_bytes());
    out.extend(p.rewriter.end());
    assert_eq!(p.rewriter.failure(), None);
    let out = String::from_utf8(out).expect("UTF-8");
    assert!(out.contains(odd), "{out}");
    assert!(
        out.contains("Добро пожаловать") && out.contains("Мы рядом"),
        "{out}"
    );
    assert!(out.trim_end().ends_with("</html>"), "complete: {out}");
}

#[test]
fn the_profile_cookie_stays_at_the_edge_unless_the_config_forwards_it() {
    let engine_default = engine(config_three_slots(), vec![], RewriteLimits::default());
    assert_eq!(
        engine_default
            .origin_cookie_header(Some(b"ep=1cXYZ; session=abc"))
            .as_deref(),
        Some(&b"session=abc"[..])
    );
    let mut forwarding = config_three_slots();
    forwarding["cookie"] = json!({ "forwardToOrigin": true });
    let engine_forwarding = engine(forwarding, vec![], RewriteLimits::default());
    assert_eq!(
        engine_forwarding
            .origin_cookie_header(Some(b"ep=1cXYZ; session=abc"))
            .as_deref(),
        Some(&b"ep=1cXYZ; session=abc"[..])
    );
}

#[test]
fn selectors_the_streaming_rewriter_cannot_run_are_refused_when_the_config_loads() {
    let config = json!({
        "slots": { "hero": { "selector": "section:has(> h1)" }, "cta": { "selector": "h1 + p" } },
        "experiences": [ { "id": "x", "slot": "hero", "content": { "text": "x" } } ]
    });
    let error = EdgeEngine::from_json(
        &config.to_string(),
        default_engine(),
        vec![],
        EdgeOptions::default(),
    )
    .expect_err("refused");
    let message = error.to_string();
    assert!(message.contains("slots.hero.selector"), "{message}");
    assert!(message.contains("slots.cta.selector"), "{message}");
    assert!(message.contains("streaming rewriter"), "{message}");
}

#[test]
fn broken_selectors_are_told_apart_from_ones_only_the_edge_cannot_run() {
    use edge_persona::core::engine::Engine;
    use edge_persona::edge::broken_selectors;
    let config = json!({
        "slots": {
            "hero": { "selector": "#hero[" },
            "list": { "selector": ".a," },
            "card": { "selector": "section:has(> h1)" },
            "ok": { "selector": "main > .offers" }
        }
    });
    let engine =
        Engine::from_json(&config.to_string(), default_engine()).expect("the core loads it");
    let broken: Vec<String> = broken_selectors(&engine)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(broken.len(), 2, "{broken:#?}");
    assert!(
        broken[0].starts_with("slots.hero.selector: the selector \"#hero[\" does not parse"),
        "{broken:#?}"
    );
    assert!(broken[1].starts_with("slots.list.selector:"), "{broken:#?}");
}

#[test]
fn the_explain_header_and_cache_headers_hold_no_visitor_data() {
    let engine = engine(config_three_slots(), vec![], RewriteLimits::default());
    let p = personalize(
        &engine,
        &request(Some("name=Secret%20Name"), "?utm_campaign=hidden-campaign"),
    );
    let explain = p
        .headers
        .set
        .iter()
        .find(|(n, _)| n == "edge-persona-explain")
        .map(|(_, v)| v.clone())
        .expect("explain header asked for");
    for part in ["headline=headline-new", "footer=footer-text", "nav=by-name"] {
        assert!(explain.contains(part), "{explain}");
    }
    for (_, value) in p.headers.set.iter().chain(&p.headers.append) {
        assert!(
            !value.contains("Secret") && !value.contains("hidden-campaign"),
            "{value}"
        );
    }
    assert!(p.headers.remove.iter().any(|h| h == "etag"));
}

/// The journeys of `tests/journeys/` through the edge. The edge sees a request, not a
/// page: no page annotations or events, and consent only as the stored profile
/// remembers it. So each step is checked twice:
/// - through the whole edge path (Cookie header, request facts, hand-off JSON), the
///   decision equals the core's for the same inputs;
/// - where the step gives the edge all the journey gives the core (no annotations, no
///   events, the same consent), it equals the journey's own decision.
#[test]
fn journeys_through_the_edge_decide_as_the_core_does() {
    use edge_persona::core::engine::Engine;
    use edge_persona::core::journey::{edge_step, run, JourneyFile};

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/journeys");
    let mut same_as_journey = 0;
    let mut steps = 0;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/journeys")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for path in files {
        let file = JourneyFile::parse(&std::fs::read_to_string(&path).expect("readable"))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let config = file.config_json(&dir).expect("config");
        let native = Engine::from_json(&config, default_engine()).expect("config loads");
        let edge = EdgeEngine::from_json(&config, default_engine(), vec![], EdgeOptions::default())
            .expect("config loads at the edge");
        for journey in run(&file, &native, false) {
            for (i, step) in journey.steps.expect("journey runs").iter().enumerate() {
                let at = format!("{} / {} / step {}", path.display(), journey.name, i + 1);
                let seen = edge_step(step, &native);
                let request = EdgeRequest {
                    method: "GET".into(),
                    url: seen.url.clone(),
                    cookie: seen.cookie.clone(),
                    user_agent: seen.user_agent.clone(),
                    accept_language: seen.accept_language.clone(),
                    referer: seen.referer.clone(),
                    global_privacy_control: seen.global_privacy_control,
                    geo: seen.geo.clone(),
                    utc_offset_minutes: seen.utc_offset_minutes,
                    now_ms: seen.now_ms,
                    entropy: step.entropy,
                    ..EdgeRequest::default()
                };
                let mut p = match edge.respond(&request, &html_head()) {
                    EdgeResponse::Personalize(p) => p,
                    EdgeResponse::PassThrough(reason) => {
                        panic!("{at}: passed through ({reason:?})")
                    }
                };
                let mut out = p
                    .rewriter
                    .write(b"<html><head></head><body><p data-ep-slot=\"x\">x</p></body></html>");
                out.extend(p.rewriter.end());
                let handed = handoff_json(&String::from_utf8(out).expect("UTF-8"));
                assert_eq!(
                    handed["decision"], seen.decision,
                    "{at}: edge and core differ on the same inputs"
                );
                steps += 1;
                if seen.same_as_journey {
                    let journey_decision =
                        serde_json::to_value(&step.page_view.decision).expect("serializable");
                    assert_eq!(
                        handed["decision"], journey_decision,
                        "{at}: the edge differs from the journey"
                    );
                    same_as_journey += 1;
                }
            }
        }
    }
    assert!(steps >= 20, "only {steps} journey steps replayed");
    assert!(
        same_as_journey >= 5,
        "only {same_as_journey} steps compared with the journeys themselves"
    );
}

/// A page in windows-1251, as many Russian sites still serve: what the edge writes
/// into it (slots, greeting, hand-off) must be in the page's own encoding, whether
/// the header names the charset or only a `<meta charset>` does; a header charset
/// wins over the page's meta, as in browsers.
#[test]
fn what_the_edge_writes_follows_the_pages_charset() {
    let engine = engine(config_three_slots(), vec![], RewriteLimits::default());
    let visitor = request(Some("name=%D0%90%D0%BD%D1%8F"), "");
    let page = "<!doctype html><html><head><meta charset=\"windows-1251\"><title>Ресторан</title>\
                </head><body><h1>Старый заголовок</h1><nav>Меню</nav><p>Текст страницы</p>\
                <footer>Подвал</footer></body></html>";
    let run = |content_type: &str, bytes: &[u8]| -> Vec<u8> {
        let (out, failure) = rewrite_as(&engine, &visitor, content_type, bytes, 7);
        assert_eq!(failure, None, "{content_type}");
        out
    };
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(page);
    for content_type in ["text/html", "text/html; charset=windows-1251"] {
        let out = run(content_type, &cp1251);
        let (text, _, malformed) = encoding_rs::WINDOWS_1251.decode(&out);
        assert!(!malformed, "{content_type}");
        for expected in [
            "<title>Ресторан</title>",
            "Текст страницы",
            "Добро пожаловать",
            "Мы рядом &lt;всегда&gt; &amp; везде",
            "Здравствуйте, Аня!",
        ] {
            assert!(
                text.contains(expected),
                "{content_type}: no {expected:?} in {text}"
            );
        }
        // The hand-off is plain ASCII, so that it reads the same in any encoding.
        let script = text
            .split("id=\"ep-handoff\">")
            .nth(1)
            .and_then(|rest| rest.split("</script>").next())
            .expect("a hand-off");
        assert!(script.is_ascii(), "{content_type}: {script}");
        let handoff = handoff_json(&text);
        assert_eq!(
            handoff["decision"]["greetings"][0]["text"],
            "Здравствуйте, Аня!"
        );
    }
    // The header says UTF-8: a stray windows-1251 meta in the page changes nothing.
    let out = run("text/html; charset=utf-8", page.as_bytes());
    let text = String::from_utf8(out).expect("UTF-8 out");
    assert!(text.contains("Здравствуйте, Аня!") && text.contains("Текст страницы"));
}

/// A byte-order mark decides a page's encoding in the browser, over the charset the
/// header or a `<meta>` names: one that disagrees with what the edge would write in
/// stops rewriting before anything changes (a UTF-16 page gets nothing added at all);
/// one that agrees changes nothing, whatever the chunk sizes.
#[test]
fn a_byte_order_mark_decides_the_encoding() {
    let engine = engine(config_three_slots(), vec![], RewriteLimits::default());
    let visitor = request(Some("name=%D0%90%D0%BD%D1%8F"), "");
    let page = "<!doctype html><html><head></head><body><h1>Old</h1><nav>Menu</nav></body></html>";
    let run = |content_type: &str, bytes: &[u8], size: usize| {
        rewrite_as(&engine, &visitor, content_type, bytes, size)
    };
    let utf8_bom = [&b"\xEF\xBB\xBF"[..], page.as_bytes()].concat();
    for size in [1, 2, 7, 4096] {
        // The header says windows-1251, the mark UTF-8: the browser reads UTF-8.
        let (out, failure) = run("text/html; charset=windows-1251", &utf8_bom, size);
        assert!(
            out.starts_with(&utf8_bom),
            "{size}: {}",
            String::from_utf8_lossy(&out)
        );
        assert!(failure.is_some_and(|f| f.contains("byte-order mark")));
        let text = String::from_utf8(out).expect("UTF-8");
        assert!(
            !text.contains("Здравствуйте"),
            "nothing written in the wrong encoding"
        );
        // UTF-16: not one byte added.
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(page.encode_utf16().flat_map(u16::to_le_bytes));
        let (out, failure) = run("text/html; charset=utf-8", &utf16, size);
        assert_eq!(out, utf16, "{size}");
        assert!(failure.is_some());
        // The mark agrees: rewritten as usual, the mark kept.
        for content_type in ["text/html; charset=utf-8", "text/html"] {
            let (out, failure) = run(content_type, &utf8_bom, size);
            assert_eq!(failure, None, "{content_type} {size}");
            let text = String::from_utf8(out).expect("UTF-8");
            assert!(text.starts_with('\u{FEFF}'), "{content_type} {size}");
            assert!(
                text.contains("Здравствуйте, Аня!"),
                "{content_type} {size}: {text}"
            );
        }
    }
    // The mark says UTF-8, a `<meta>` another charset, the header none: the browser
    // reads UTF-8, so rewriting stops at the meta rather than switch.
    let with_meta = [
        &b"\xEF\xBB\xBF"[..],
        page.replace("<head>", "<head><meta charset=\"windows-1251\">")
            .as_bytes(),
    ]
    .concat();
    for size in [1, 7, 4096] {
        let (out, failure) = run("text/html", &with_meta, size);
        assert!(
            failure.is_some_and(|f| f.contains("byte-order mark")),
            "{size}"
        );
        let text = String::from_utf8(out).expect("still UTF-8");
        assert!(text.contains("<nav>Menu</nav>"), "{size}: {text}");
    }
    // A page shorter than a mark.
    let (out, failure) = run("text/html", b"\xEF\xBB", 1);
    assert_eq!((out, failure), (b"\xEF\xBB".to_vec(), None));
}

/// The `Set-Cookie` values a personalization adds.
fn set_cookies(p: &Personalization) -> Vec<&str> {
    p.headers
        .set
        .iter()
        .chain(&p.headers.append)
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, value)| value.as_str())
        .collect()
}

/// Where consent is implied, the edge stores a profile for a visitor without one: a
/// visitor who said no on a page carries the refusal marker instead, and gets no new
/// profile (nor a cookie write) until they say yes on a page.
#[test]
fn a_remembered_refusal_stores_nothing_where_consent_is_implied() {
    let mut config = config_three_slots();
    config["consent"] = json!({ "mode": "implied" });
    let engine = engine(config, vec![], RewriteLimits::default());
    let new_visitor = personalize(&engine, &request(None, ""));
    assert_eq!(
        set_cookies(&new_visitor).len(),
        1,
        "implied: a new visitor is stored"
    );
    let refused = personalize(&engine, &request(Some("ep=0; name=Anna"), ""));
    assert!(set_cookies(&refused).is_empty(), "{:?}", refused.headers);
    let mut p = refused;
    let mut out = p
        .rewriter
        .write(b"<html><body><nav>Menu</nav></body></html>");
    out.extend(p.rewriter.end());
    let handoff = handoff_json(&String::from_utf8(out).expect("UTF-8"));
    assert_eq!(handoff["storage"]["allowed"], false, "{handoff}");
    assert_eq!(handoff["cookieStatus"]["status"], "refused", "{handoff}");
}

#[test]
fn a_prefetch_is_personalized_but_its_page_view_is_left_to_the_page() {
    let engine = engine(config_three_slots(), vec![], RewriteLimits::default());
    let page = b"<html><body><nav>Menu</nav><h1>Hi</h1></body></html>";
    for purpose in ["prefetch", "prefetch;prerender"] {
        let prefetch = EdgeRequest {
            fetch_dest: Some("document".into()),
            purpose: Some(purpose.into()),
            ..request(Some("name=Anna"), "")
        };
        let p = personalize(&engine, &prefetch);
        assert_eq!(
            set_cookies(&p),
            Vec::<&str>::new(),
            "{purpose}: nothing stored"
        );
        let out = String::from_utf8(rewrite(&engine, &prefetch, page, &[7])).expect("UTF-8");
        assert!(
            out.contains("Здравствуйте, Anna!"),
            "{purpose}: personalized: {out}"
        );
        let handoff = handoff_json(&out);
        assert_eq!(handoff["storage"]["allowed"], false, "{purpose}: {handoff}");
        assert_eq!(
            handoff["storage"]["withdrawn"], false,
            "{purpose}: {handoff}"
        );
    }
    // The same page as a navigation records the page view.
    let navigation = EdgeRequest {
        fetch_dest: Some("document".into()),
        ..request(Some("name=Anna"), "")
    };
    assert_eq!(set_cookies(&personalize(&engine, &navigation)).len(), 1);
}

#[test]
fn with_consent_on_the_page_a_first_page_view_is_left_to_the_page() {
    // The page's Consent Mode may withhold storage, which only its runtime can see:
    // under `implied` or `none` the edge stores nothing for a visitor without a
    // profile cookie, and tells the runtime to record the page view.
    let page = b"<html><body><nav>Menu</nav><h1>Hi</h1></body></html>";
    for mode in ["implied", "none"] {
        let mut config = config_three_slots();
        config["consent"] = json!({ "mode": mode, "consentOnPage": true });
        let engine = engine(config, vec![], RewriteLimits::default());
        let first = request(Some("name=Anna"), "");
        assert_eq!(
            set_cookies(&personalize(&engine, &first)),
            Vec::<&str>::new(),
            "{mode}: nothing stored on a first page view"
        );
        let out = String::from_utf8(rewrite(&engine, &first, page, &[7])).expect("UTF-8");
        assert!(
            out.contains("Здравствуйте, Anna!"),
            "{mode}: personalized: {out}"
        );
        let handoff = handoff_json(&out);
        assert_eq!(handoff["storage"]["allowed"], false, "{mode}: {handoff}");
        assert_eq!(handoff["storage"]["withdrawn"], false, "{mode}: {handoff}");

        // A profile the page's runtime stored (storage was allowed there) goes on
        // at the edge.
        let mut without = config_three_slots();
        without["consent"] = json!({ "mode": mode });
        let stored = set_cookies(&personalize(
            &self::engine(without, vec![], RewriteLimits::default()),
            &first,
        ))
        .first()
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
        .expect("without consentOnPage, the edge stores a first page view");
        let returning = request(Some(&format!("{stored}; name=Anna")), "");
        assert_eq!(
            set_cookies(&personalize(&engine, &returning)).len(),
            1,
            "{mode}: a returning visitor's profile is updated"
        );
    }
}

#[test]
fn a_profile_stored_without_an_answer_is_no_grant_when_the_site_comes_to_require_consent() {
    // Stored where the config implied consent: no answer from the visitor.
    let mut implied = config_three_slots();
    implied["consent"] = json!({ "mode": "implied" });
    let first = request(Some("name=Anna"), "");
    let stored = set_cookies(&personalize(
        &engine(implied, vec![], RewriteLimits::default()),
        &first,
    ))
    .first()
    .and_then(|c| c.split(';').next())
    .map(str::to_string)
    .expect("implied consent: the edge stores the first page view");
    // The site now requires consent: that profile is not an answer of the visitor's.
    let mut required = config_three_slots();
    required["consent"] = json!({ "mode": "required" });
    let engine = engine(required, vec![], RewriteLimits::default());
    let returning = request(Some(&format!("{stored}; name=Anna")), "");
    assert_eq!(
        set_cookies(&personalize(&engine, &returning)),
        Vec::<&str>::new(),
        "nothing stored (nor deleted) until the visitor answers"
    );
}

#[test]
fn a_script_fetching_a_fragment_gets_it_untouched() {
    let engine = engine(config_three_slots(), vec![], RewriteLimits::default());
    let fragment = EdgeRequest {
        fetch_dest: Some("empty".into()),
        ..request(Some("name=Anna"), "")
    };
    assert!(matches!(
        engine.respond(&fragment, &html_head()),
        EdgeResponse::PassThrough(PassReason::NotNavigation)
    ));
    // The browser caches it apart from a navigation to the same URL, which the
    // edge personalizes; every other pass-through leaves the headers alone.
    let decided = engine.decide(&fragment, &html_head());
    assert_eq!(
        decided.headers.append,
        vec![("vary".to_string(), "Sec-Fetch-Dest".to_string())]
    );
    // The same for one that could not be rewritten anyway (brotli the platform did
    // not decode): it is a page a script fetched all the same.
    let compressed = ResponseHead {
        content_encoding: Some("br".into()),
        ..html_head()
    };
    assert_eq!(
        engine.decide(&fragment, &compressed).headers.append,
        vec![("vary".to_string(), "Sec-Fetch-Dest".to_string())]
    );
    let head = ResponseHead {
        status: 404,
        ..html_head()
    };
    assert_eq!(
        engine.decide(&request(None, ""), &head).headers,
        Default::default()
    );
}

#[test]
fn a_slot_whose_end_tag_the_page_leaves_out_keeps_its_default_and_the_page_its_content() {
    // HTML lets a page leave out `</p>` and `</li>`; lol-html then ends the element
    // only at an ancestor's end tag, so a swap would replace everything up to it.
    let config = json!({
        "consent": { "mode": "none" },
        "slots": {
            "lead": { "selector": "p.lead" },
            "item": { "selector": "li.offer" },
            "closed": { "selector": "p.closed" }
        },
        "experiences": [
            { "id": "lead-new", "slot": "lead", "content": { "text": "New lead" } },
            { "id": "item-new", "slot": "item", "content": { "text": "New offer" } },
            { "id": "closed-new", "slot": "closed", "content": { "text": "New closed" } }
        ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    let hiding = "<style id=\"ep-hide\">@keyframes ep-reveal{to{visibility:visible}}html:not(.ep-ready) \
                  :is(p.lead,li.offer,p.closed){visibility:hidden;animation:ep-reveal 0s 300ms forwards}</style>";
    let page = format!(
        "<html><head>{hiding}</head><body><main><p class=lead>Old lead<p>Next paragraph</p><ul><li class=offer>Old offer<li>Second</ul></main>\
         <p class=closed>Old closed</p><footer>end</footer></body></html>"
    );
    for sizes in [&[1][..], &[16], &[4096]] {
        let out = String::from_utf8(rewrite(&engine, &request(None, ""), page.as_bytes(), sizes))
            .expect("UTF-8");
        for kept in [
            "Old lead",
            "Next paragraph",
            "Old offer",
            "<li>Second</ul></main>",
            "<footer>end</footer>",
        ] {
            assert!(out.contains(kept), "{sizes:?}: {kept:?} is gone: {out}");
        }
        let markup = out
            .split("<script type=\"application/json\" id=\"ep-handoff\"")
            .next()
            .unwrap_or("");
        assert!(
            !markup.contains("New lead") && !markup.contains("New offer"),
            "{sizes:?}: {out}"
        );
        // Left to the page's runtime, which knows where they end.
        assert!(
            markup.contains("<p class=lead data-ep-pending=\"lead-new\">Old lead")
                && markup.contains("<li class=offer data-ep-pending=\"item-new\">Old offer"),
            "{sizes:?}: {markup}"
        );
        // The hiding style now hides only those, for the same 300 ms at most.
        assert!(
            markup.contains("<style id=\"ep-hide\">@keyframes ep-reveal{to{visibility:visible}}html:not(.ep-ready) \
                             [data-ep-pending]{visibility:hidden;animation:ep-reveal 0s 300ms forwards}</style>"),
            "{sizes:?}: {markup}"
        );
        // An element that does end with its own end tag is swapped as usual.
        assert!(out.contains(">New closed</p>"), "{sizes:?}: {out}");
        assert!(!out.contains("Old closed"), "{sizes:?}: {out}");
    }
}

/// The `<template data-ep-default>` elements of `out`, in order: (the rest of the
/// start tag, content).
fn kept_defaults(out: &str) -> Vec<(String, String)> {
    out.split("<template data-ep-default=")
        .skip(1)
        .map(|rest| {
            let (tag, rest) = rest.split_once('>').expect("a whole start tag");
            let content = rest.split("</template>").next().unwrap_or_default();
            (tag.to_string(), content.to_string())
        })
        .collect()
}

#[test]
fn a_slot_that_keeps_its_default_sends_it_along_inert_and_whole() {
    let config = json!({
        "consent": { "mode": "none" },
        "htmlClasses": { "enabled": false },
        "readCookies": ["name"],
        "slots": {
            "hero": { "keepDefault": true },
            "offers": {},
            "greeting": { "selector": ".greeting", "keepDefault": true },
            "promo": { "keepDefault": true }
        },
        "experiences": [
            { "id": "hero-new", "slot": "hero", "content": { "html": "<h2>New hero</h2>" } },
            { "id": "offers-new", "slot": "offers", "content": { "text": "New offers" } },
            { "id": "promo-new", "slot": "promo", "content": { "text": "New promo" } }
        ],
        "greetings": [ { "id": "by-name", "slot": "greeting", "template": "Hi, {cookies.name}!" } ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    let page = "<!doctype html><html><body>\
        <div data-ep-slot=\"hero\"><p>Default <b>hero</b> &amp; more</p></div>\
        <div data-ep-slot=\"hero\"><p>Second hero</p></div>\
        <section data-ep-slot=\"offers\"><p>Default offers</p></section>\
        <p class=\"greeting\">Hello, guest</p>\
        <div data-ep-slot=\"promo\"><p>Promo</p><script>window.promo = 1</script></div>\
        <div data-ep-slot=\"promo\"><span class=\"greeting\">Nested</span></div>\
        </body></html>";
    let visitor = request(Some("name=%3Cb%3EAnn%3C%2Fb%3E"), "");
    let mut outputs = Vec::new();
    for sizes in [vec![page.len()], vec![1], vec![5, 13]] {
        let out =
            String::from_utf8(rewrite(&engine, &visitor, page.as_bytes(), &sizes)).expect("UTF-8");
        assert!(!out.contains("<!--ep:"), "a marker leaked: {out}");
        outputs.push(out);
    }
    let out = &outputs[0];
    assert!(
        outputs.iter().all(|o| o == out),
        "chunking changed the output"
    );
    // The slots show the decision; their defaults come after them, inert, before
    // the hand-off, as the page had them.
    assert!(
        out.contains(
            "<div data-ep-slot=\"hero\" data-ep-applied=\"hero-new\"><h2>New hero</h2></div>"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "<p class=\"greeting\" data-ep-applied=\"by-name\">Hi, &lt;b&gt;Ann&lt;/b&gt;!</p>"
        ),
        "{out}"
    );
    assert_eq!(
        kept_defaults(out),
        [
            (
                r#""hero" data-ep-key="hero-new" data-ep-nth="0""#,
                "<p>Default <b>hero</b> &amp; more</p>",
            ),
            (
                r#""hero" data-ep-key="hero-new" data-ep-nth="1""#,
                "<p>Second hero</p>",
            ),
            (
                r#""greeting" data-ep-key="by-name" data-ep-nth="0""#,
                "Hello, guest",
            ),
        ]
        .map(|(slot, content)| (slot.to_string(), content.to_string())),
        "{out}"
    );
    let defaults_at = out.find("<template data-ep-default").expect("defaults");
    let handoff_at = out.find("id=\"ep-handoff\"").expect("a hand-off");
    let body_end = out.find("</body>").expect("</body>");
    assert!(defaults_at < handoff_at && handoff_at < body_end, "{out}");
    // Not sent: a slot without keepDefault, a default with a script (it would run
    // again when put back) and one holding another slot (its content changed).
    assert!(
        !out.contains("<template data-ep-default=\"offers\""),
        "{out}"
    );
    assert!(
        !out.contains("<template data-ep-default=\"promo\""),
        "{out}"
    );
    assert_eq!(out.matches("window.promo").count(), 0, "{out}");
    assert_eq!(out.matches("Nested").count(), 0, "{out}");
    assert_eq!(
        out.matches("<div data-ep-slot=\"promo\" data-ep-applied=\"promo-new\">New promo</div>")
            .count(),
        2,
        "{out}"
    );
}

#[test]
fn kept_defaults_are_the_pages_own_bytes_at_any_chunking() {
    let mut config = config_three_slots();
    for slot in ["headline", "footer", "nav"] {
        config["slots"][slot]["keepDefault"] = json!(true);
    }
    let engine = engine(config, vec![], RewriteLimits::default());
    let req = request(Some("name=%D0%90%D0%BD%D1%8F"), "");
    let mut sent = 0;
    for page in corpus_pages() {
        let bytes = std::fs::read(&page).expect("readable page");
        let whole = rewrite(&engine, &req, &bytes, &[bytes.len()]);
        let one_byte = rewrite(&engine, &req, &bytes, &[1]);
        assert!(
            one_byte == whole,
            "{}: 1-byte chunks differ",
            page.display()
        );
        let original = String::from_utf8_lossy(&bytes);
        let out = String::from_utf8_lossy(&whole);
        let defaults = kept_defaults(&out);
        for (slot, content) in &defaults {
            assert!(
                original.contains(content.as_str()),
                "{}: the kept default of {slot} is not the page's own: {content}",
                page.display()
            );
        }
        // One per element swapped, unless refused (a script in it).
        let swapped = out.matches(" data-ep-applied=\"").count();
        assert!(defaults.len() <= swapped, "{}", page.display());
        sent += defaults.len();
    }
    assert!(sent >= 12, "only {sent} defaults sent over the corpus");
}

#[test]
fn kept_defaults_stay_in_the_pages_encoding() {
    let mut config = config_three_slots();
    config["slots"]["headline"]["keepDefault"] = json!(true);
    let engine = engine(config, vec![], RewriteLimits::default());
    let page = "<!doctype html><html><head><meta charset=\"windows-1251\"></head>\
                <body><h1>Старый заголовок</h1><p>Текст</p></body></html>";
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(page);
    let out = rewrite(&engine, &request(None, ""), &cp1251, &[7]);
    let (text, _, malformed) = encoding_rs::WINDOWS_1251.decode(&out);
    assert!(!malformed);
    assert!(
        text.contains("data-ep-nth=\"0\">Старый заголовок</template>"),
        "{text}"
    );
}

#[test]
fn a_default_that_would_not_read_back_the_same_or_is_not_the_pages_own_is_not_sent() {
    let config = json!({
        "consent": { "mode": "none" },
        "htmlClasses": { "enabled": false },
        "readCookies": ["name"],
        "slots": {
            "title": { "selector": "title", "keepDefault": true },
            "hero": { "keepDefault": true },
            "promo": { "keepDefault": true },
            "greeting": { "selector": ".greeting", "keepDefault": true }
        },
        "experiences": [
            { "id": "title-new", "slot": "title", "content": { "text": "New title" } },
            { "id": "hero-new", "slot": "hero", "content": { "text": "New hero" },
              "setAttributes": [ { "selector": "#cta", "attribute": "data-who", "value": "{cookies.name}" } ] },
            { "id": "promo-late", "slot": "promo", "content": { "template": "never-there" } }
        ],
        "greetings": [ { "id": "by-name", "slot": "greeting", "template": "Hi, {cookies.name}!" } ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    // The title's text would start a <style> inside a template; the hero's default
    // carries the visitor's name in an attribute the edge set; the promo waits to the
    // end for a template that never comes, so everything after it (the greeting and
    // </body>) is still held when </body> passes.
    let page = "<!doctype html><html><head><title>Using <style> well</title></head><body>\
        <div data-ep-slot=\"hero\"><a id=\"cta\" href=\"/book\">Book</a></div>\
        <div data-ep-slot=\"promo\"><p>Promo</p></div>\
        <p class=\"greeting\">Hello, guest</p>\
        </body></html>";
    let visitor = request(Some("name=Ann"), "");
    for sizes in [vec![page.len()], vec![1], vec![3, 11]] {
        let out =
            String::from_utf8(rewrite(&engine, &visitor, page.as_bytes(), &sizes)).expect("UTF-8");
        assert!(
            out.contains("<title data-ep-applied=\"title-new\">New title</title>"),
            "{out}"
        );
        assert_eq!(
            kept_defaults(&out),
            [(
                r#""greeting" data-ep-key="by-name" data-ep-nth="0""#.to_string(),
                "Hello, guest".to_string()
            )],
            "only the greeting's own default is sent: {out}"
        );
        assert!(
            out.contains("data-ep-pending=\"promo-late\"><p>Promo</p>"),
            "{out}"
        );
        assert!(!out.contains("<!--ep:"), "a marker leaked: {out}");
        let handoff_at = out.find("id=\"ep-handoff\"").expect("a hand-off");
        assert!(
            out.find("data-ep-default")
                .is_some_and(|at| at < handoff_at),
            "{out}"
        );
    }
}

/// An attribute the edge changes keeps the page's own value beside it, for the
/// browser runtime to put back on a later decision (an SPA route) that no longer
/// changes it; an element that had no such attribute is marked as such. The value is
/// the one the browser reads from the page (entities and quotes as written there).
#[test]
fn an_attribute_the_edge_changes_keeps_the_pages_own_value_beside_it() {
    let config = json!({
        "consent": { "mode": "none" },
        "slots": { "hero": { "selector": "h1" }, "note": { "selector": "p.note" } },
        "experiences": [
            { "id": "hero", "slot": "hero", "content": { "text": "New" },
              "setAttributes": [
                  { "selector": "#cta", "attribute": "href", "value": "/premium" },
                  { "selector": "#cta", "attribute": "title", "value": "Premium" },
                  { "selector": "a.more", "attribute": "title", "value": "More" },
                  { "selector": "img", "attribute": "src", "value": "/premium.png" }
              ] },
            { "id": "second", "slot": "note", "content": { "text": "Other" },
              "setAttributes": [ { "selector": "#cta", "attribute": "href", "value": "/second" } ] }
        ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    let page = "<!doctype html><html><body><h1>Old</h1>\
        <a id=cta href='/book?a=1&amp;b=\"2\"&lt;' title=\"\">Book</a><a class=more href=/more>More</a><p class=note>n</p>";
    // An inline image is too big to keep twice: the edge's value then stays.
    let page = format!(
        "{page}<img src=\"data:image/png;base64,{}\"></body></html>",
        "A".repeat(4000)
    );
    let outputs: Vec<Vec<u8>> = [vec![1], vec![7, 3], vec![4096]]
        .iter()
        .map(|sizes| rewrite(&engine, &request(None, ""), page.as_bytes(), sizes))
        .collect();
    assert!(
        outputs.windows(2).all(|w| w[0] == w[1]),
        "the same at every chunking"
    );
    let out = String::from_utf8(outputs[0].clone()).expect("UTF-8");
    let document = Html::parse_document(&out);
    let element = |s: &str| {
        document
            .select(&Selector::parse(s).expect("valid"))
            .next()
            .expect("on the page")
            .value()
            .clone()
    };
    let cta = element("#cta");
    assert_eq!(cta.attr("href"), Some("/second"), "the later change: {out}");
    assert_eq!(cta.attr("title"), Some("Premium"));
    assert_eq!(
        cta.attr("data-ep-was"),
        Some("href title"),
        "each name once: {out}"
    );
    assert_eq!(
        cta.attr("data-ep-was-href"),
        Some("/book?a=1&b=\"2\"<"),
        "the page's, not the first change's: {out}"
    );
    assert_eq!(
        cta.attr("data-ep-was-title"),
        Some(""),
        "an empty value is a value"
    );
    let more = element("a.more");
    assert_eq!(more.attr("title"), Some("More"));
    assert_eq!(more.attr("data-ep-was"), Some("title"));
    assert_eq!(
        more.attr("data-ep-was-title"),
        None,
        "it had no title: {out}"
    );
    assert_eq!(more.attr("href"), Some("/more"), "untouched");
    let image = element("img");
    assert_eq!(image.attr("src"), Some("/premium.png"));
    assert_eq!(image.attr("data-ep-was"), None, "not kept: {}", out.len());
}

#[test]
fn a_slot_closed_by_another_slots_end_tag_loses_no_page_bytes() {
    // `</div>` ends both the hero and the greeting inside it, whose `</p>` the page
    // left out; the hero waits for a template further down. Nothing between may
    // be lost and no marker may leak, at any chunking.
    let config = json!({
        "consent": { "mode": "none" },
        "htmlClasses": { "enabled": false },
        "readCookies": ["name"],
        "slots": { "hero": { "selector": "div.hero" }, "greeting": { "selector": "p.greeting" } },
        "experiences": [ { "id": "hero-late", "slot": "hero", "content": { "template": "late" } } ],
        "greetings": [ { "id": "hi", "slot": "greeting", "template": "Hello, {cookies.name|guest}!" } ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    let page = "<html><body><div class=hero><p class=greeting>Hi</div>\
        <section id=middle><p>Middle of the page</p></section>\
        <template data-ep-variant=\"late\"><h2>Late hero</h2></template>\
        <footer>end</footer></body></html>";
    for sizes in [vec![page.len()], vec![1], vec![7, 3]] {
        let out = rewrite_text(&engine, page, &sizes);
        for kept in [
            "<section id=middle><p>Middle of the page</p></section>",
            "<template data-ep-variant=\"late\"><h2>Late hero</h2></template>",
            "<footer>end</footer>",
        ] {
            assert!(out.contains(kept), "{sizes:?}: {kept:?} is gone: {out}");
        }
        assert!(
            !out.contains("<!--ep:"),
            "{sizes:?}: a marker leaked: {out}"
        );
    }
}

#[test]
fn a_slot_given_up_as_it_opens_shows_its_default_or_its_content_never_both() {
    // A slot waits for a template further down, so everything after it is held; the
    // hold limit may run out at any byte, including as the next slot opens.
    let config = json!({
        "consent": { "mode": "none" },
        "htmlClasses": { "enabled": false },
        "slots": { "hero": { "selector": "div.hero" }, "promo": { "selector": "div.promo" } },
        "experiences": [
            { "id": "hero-late", "slot": "hero", "content": { "template": "late" } },
            { "id": "promo-new", "slot": "promo", "content": { "text": "NEW PROMO" } }
        ]
    });
    let limits = RewriteLimits {
        hold_bytes: 256,
        ..RewriteLimits::default()
    };
    let engine = engine(config, vec![], limits);
    for filler_len in 0..330 {
        let filler = "x".repeat(filler_len);
        let page = format!(
            "<html><body><div class=hero>Default hero</div><p>{filler}</p>\
             <div class=promo>OLD PROMO</div><p>after</p>\
             <template data-ep-variant=\"late\">Late</template></body></html>"
        );
        for sizes in [vec![page.len()], vec![1], vec![64]] {
            let out = rewrite_text(&engine, &page, &sizes);
            let markup = out
                .split("<script type=\"application/json\" id=\"ep-handoff\"")
                .next()
                .unwrap_or("");
            assert!(
                !(markup.contains("NEW PROMO") && markup.contains("OLD PROMO")),
                "filler {filler_len}, {sizes:?}: both shown: {markup}"
            );
            assert!(
                markup.contains(&filler) && markup.contains("<p>after</p>"),
                "{markup}"
            );
            assert!(
                !out.contains("<!--ep:"),
                "filler {filler_len}, {sizes:?}: a marker leaked: {out}"
            );
        }
    }
}

#[test]
fn a_self_closed_template_in_svg_does_not_stop_the_rewriting() {
    let engine = engine(config_three_slots(), vec![], RewriteLimits::default());
    let page = "<html><body><svg><template/><circle r=\"1\"/></svg>\
        <h1 data-ep-slot=\"headline\">Old headline</h1></body></html>";
    let plain = rewrite_text(&engine, page, &[page.len()]);
    let after_svg = plain.split("</svg>").nth(1).unwrap_or_default();
    assert!(after_svg.contains("Добро пожаловать"), "{plain}");
    assert!(!after_svg.contains("Old headline"), "{plain}");
}

#[test]
fn a_hiding_style_too_long_to_be_the_snippets_goes_out_as_the_page_wrote_it() {
    let engine = engine(config_three_slots(), vec![], RewriteLimits::default());
    let css = format!(
        "html:not(.ep-ready) h1{{visibility:hidden}}/*{}*/",
        "x".repeat(40_000)
    );
    let page = format!(
        "<html><head><style id=\"ep-hide\">{css}</style></head><body>\
         <h1 data-ep-slot=\"headline\">Old headline</h1></body></html>"
    );
    for sizes in [vec![page.len()], vec![1000]] {
        let out = rewrite_text(&engine, &page, &sizes);
        assert!(
            out.contains(&format!("<style id=\"ep-hide\">{css}</style>")),
            "{sizes:?}"
        );
        assert!(
            !out.contains("Old headline"),
            "{sizes:?}: the page is still rewritten"
        );
    }
}

#[test]
fn a_slot_whose_page_spells_the_applied_attribute_in_capitals_is_marked_itself() {
    // lol-html keeps the page's spelling of an attribute it changes: a slot that
    // keeps its default must still be the one marked pending, not an earlier one.
    let config = json!({
        "consent": { "mode": "none" },
        "htmlClasses": { "enabled": false },
        "slots": { "a": { "selector": "#a" }, "b": { "selector": "#b" } },
        "experiences": [
            { "id": "a-new", "slot": "a", "content": { "text": "New A" } },
            { "id": "b-missing", "slot": "b", "content": { "template": "absent" } }
        ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    let page = "<html><body><div id=a>Old A</div><div id=b DATA-EP-APPLIED=\"old\">Old B</div></body></html>";
    for sizes in [vec![page.len()], vec![1]] {
        let out = rewrite_text(&engine, page, &sizes);
        assert!(
            out.contains("<div id=a data-ep-applied=\"a-new\">New A</div>"),
            "{sizes:?}: {out}"
        );
        assert!(
            out.contains("data-ep-pending=\"b-missing\">Old B</div>"),
            "{sizes:?}: {out}"
        );
        assert!(
            !out.contains("<!--ep:") && !out.contains("ep:"),
            "{sizes:?}: a marker leaked: {out}"
        );
    }
}

#[test]
fn a_hiding_style_the_pages_csp_allows_by_hash_goes_out_as_the_page_wrote_it() {
    // A site that allows the head snippet's style by its hash (as the docs suggest):
    // other text would be blocked, leaving the slots left to the runtime unhidden.
    let engine = engine(config_three_slots(), vec![], RewriteLimits::default());
    let css = "@keyframes ep-reveal{to{visibility:visible}}html:not(.ep-ready) \
               :is(h1,footer,nav){visibility:hidden;animation:ep-reveal 0s 300ms forwards}";
    let page = format!(
        "<html><head><style id=\"ep-hide\">{css}</style></head><body>\
         <h1 data-ep-slot=\"headline\">Old headline</h1></body></html>"
    );
    let run = |csp: Option<&str>| {
        let head = ResponseHead {
            content_security_policy: csp.map(str::to_string),
            ..html_head()
        };
        let EdgeResponse::Personalize(mut p) = engine.respond(&request(None, ""), &head) else {
            panic!("passed through");
        };
        let mut out = p.rewriter.write(page.as_bytes());
        out.extend(p.rewriter.end());
        String::from_utf8(out).expect("UTF-8")
    };
    let pinned = run(Some(
        "default-src 'self'; style-src 'self' 'sha256-RsSc5ArY81af='",
    ));
    assert!(
        pinned.contains(&format!("<style id=\"ep-hide\">{css}</style>")),
        "{pinned}"
    );
    assert!(
        !pinned.contains("Old headline"),
        "the page is still rewritten: {pinned}"
    );
    // With a nonce, or no CSP, it is narrowed to what the edge left to the runtime.
    for csp in [Some("style-src 'nonce-abc'"), None] {
        let narrowed = run(csp);
        assert!(
            narrowed.contains("html:not(.ep-ready) [data-ep-pending]{"),
            "{csp:?}: {narrowed}"
        );
    }
}

#[test]
fn a_visitor_whose_storage_the_edge_leaves_to_the_page_is_in_no_experiment_there() {
    // consentOnPage: the page's runtime stores the visitor with an id of its own, so
    // the id this request draws does not last, and bucketing on it would switch arms.
    let config = json!({
        "consent": { "mode": "implied", "consentOnPage": true },
        "slots": { "hero": {} },
        "experiences": [ { "id": "hero-ab", "slot": "hero", "holdout": 0.3, "variants": [
            { "id": "a", "weight": 0.5, "content": { "text": "Вариант A" } },
            { "id": "b", "weight": 0.5, "content": { "text": "Вариант B" } } ] } ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    let page = "<html><body><div data-ep-slot=\"hero\">Default</div></body></html>";
    for entropy in 1..=12u64 {
        let request = EdgeRequest {
            entropy,
            ..request(None, "")
        };
        let out =
            String::from_utf8(rewrite(&engine, &request, page.as_bytes(), &[4096])).expect("UTF-8");
        let handed = handoff_json(&out);
        let hero = &handed["decision"]["slots"][0];
        assert_eq!(hero["experience"], "hero-ab", "{entropy}: {hero}");
        assert_eq!(hero["variant"], Value::Null, "{entropy}: {hero}");
        assert_eq!(hero["holdout"], false, "{entropy}: {hero}");
        assert!(
            out.contains(">Вариант A</div>"),
            "{entropy}: the first variant: {out}"
        );
    }
}

/// `check --edge` notes the rules that read what only the page knows.
#[test]
fn rules_on_what_only_the_page_knows_are_noted() {
    let config = json!({
        "consent": { "mode": "none" },
        "slots": { "hero": {}, "greeting": { "selector": ".greeting" } },
        "segments": [ { "name": "checkout", "when": { "$or": [ { "page.funnelStep": "checkout" }, { "utm.source": "ya" } ] } } ],
        "experiences": [
            { "id": "cart", "slot": "hero", "when": { "events": { "$elemMatch": { "$eq": "add_to_cart" } } }, "content": { "text": "Your cart" } },
            { "id": "plain", "slot": "hero", "when": { "utm.source": "ya" }, "content": { "text": "Hi" } }
        ],
        "greetings": [ { "id": "cat", "slot": "greeting", "template": "Best {page.category|food} deals" } ]
    });
    let engine = engine(config, vec![], RewriteLimits::default());
    let notes: Vec<String> = edge_persona::edge::browser_only_rules(engine.engine())
        .iter()
        .map(|n| n.path.clone())
        .collect();
    assert_eq!(
        notes,
        [
            "segments[0].when",
            "experiences[0].when",
            "greetings[0].template"
        ]
    );
}
