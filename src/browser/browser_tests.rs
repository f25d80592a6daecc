//! The browser layer in a real browser (wasm-bindgen-test, headless Chromium):
//! the demo config through the exported `Runtime`, DOM application (template
//! cloning, greetings as text, idempotence, restoring defaults), `$regex` through
//! the page's `RegExp` (which also confirms the answers the native engine is held
//! to), and a page whose storage and cookies throw.
//!
//! Run with `wasm-pack test --headless --chrome --chromedriver /usr/bin/chromedriver
//! --no-default-features --features browser,regex --lib` (`regex` only brings the
//! native engine in for the comparison test; the runtime always uses `RegExp`).
//!
//! Tests share one document and run one after another: each builds its markup in a
//! [`Fixture`] that removes it again (and restores `<html>`'s classes) when dropped.
//! A panic aborts a wasm test without dropping anything, so a fixture also clears
//! what a failed test before it left behind (its markup, blocked storage).

use super::patterns::JsPatternEngine;
use super::Runtime;
use crate::core::condition::{Condition, SavedGroups};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_sys::{Document, Element, HtmlTemplateElement};

wasm_bindgen_test_configure!(run_in_browser);

/// The demo site's config and landing page, as `scripts/demo` serves them.
const DEMO_CONFIG: &str = include_str!("../../www/demo/config.json");
const DEMO_PAGE: &str = include_str!("../../www/demo/index.html");

/// Wednesday 2026-01-14 19:30 in Moscow (16:30 UTC): no lunch-time segment.
const NOW_MS: i64 = 1_768_408_200_000;

/// The visitor's 64 random bits, fixed so that bucketing (holdouts, variants) is
/// the same on every run.
const ENTROPY: (u32, u32) = (0x1234_5678, 0x9abc_def0);

/// A small SPA-like site: `/sale` shows a weighted promo (two `<template>`
/// variants), greets by name and rewrites a link; other paths change nothing.
const SPA_CONFIG: &str = r##"{
  "version": 1,
  "consent": { "mode": "none" },
  "readCookies": ["name"],
  "slots": {
    "promo": { "selector": "#ep-test-promo" },
    "greeting": { "selector": ".ep-test-greeting" }
  },
  "experiences": [
    { "id": "spring-sale", "slot": "promo", "when": { "url.path": "/sale" },
      "variants": [
        { "id": "banner", "weight": 0.5, "content": { "template": "ep-test-banner" } },
        { "id": "list", "weight": 0.5, "content": { "template": "ep-test-list" } }
      ],
      "setAttributes": [ { "selector": "#ep-test-cta", "attribute": "href",
                           "value": "https://demo.example.ru/sale?from={utm.campaign|promo}" } ] }
  ],
  "greetings": [
    { "id": "by-name", "slot": "greeting", "when": { "url.path": "/sale" },
      "template": "Привет, {cookies.name}!" }
  ],
  "links": { "schemes": ["https"], "hosts": ["demo.example.ru"] }
}"##;

const SPA_PAGE: &str = r#"
<p class="ep-test-greeting">Default <b>greeting</b></p>
<section id="ep-test-promo"><h2>Default promo</h2><p>Everything as usual.</p></section>
<a id="ep-test-cta" href="/catalog">Catalog</a>
<template data-ep-variant="ep-test-banner"><div class="banner"><h2>Spring sale</h2><button type="button">Shop</button></div></template>
<template data-ep-variant="ep-test-list"><ul class="list"><li>Tulips</li><li>Daffodils</li></ul></template>
"#;

#[wasm_bindgen(inline_js = r#"
const state = { accesses: 0, saved: [] };
const refuse = (what) => () => {
  state.accesses++;
  throw new DOMException(what + ' is blocked', 'SecurityError');
};
export function block_storage_and_cookies() {
  state.accesses = 0;
  state.saved = [];
  const blocked = [
    [document, 'cookie', { get: refuse('document.cookie'), set: refuse('document.cookie') }],
    [window, 'localStorage', { get: refuse('localStorage') }],
    [window, 'sessionStorage', { get: refuse('sessionStorage') }],
  ];
  for (const [target, name, accessors] of blocked) {
    state.saved.push([target, name, Object.getOwnPropertyDescriptor(target, name)]);
    Object.defineProperty(target, name, { configurable: true, ...accessors });
  }
}
export function unblock_storage_and_cookies() {
  for (const [target, name, descriptor] of state.saved.reverse()) {
    if (descriptor) Object.defineProperty(target, name, descriptor);
    else delete target[name];
  }
  state.saved = [];
}
export function blocked_accesses() { return state.accesses; }
export function throws(source) {
  try { (0, eval)(source); return false; } catch (e) { return true; }
}
let alerts = 0;
export function stub_alert() { window.alert = () => { alerts++; }; }
export function alert_calls() { return alerts; }
export function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }
export function set_document_cookie(value) { document.cookie = value; }
export function document_cookie() { return document.cookie; }
let observer = null;
export function observe_attributes(root) {
  observer?.disconnect();
  observer = new MutationObserver(() => {});
  observer.observe(root, { attributes: true, subtree: true });
}
export function attribute_mutations() { return observer ? observer.takeRecords().length : 0; }
export function break_set_attribute(element) {
  element.setAttribute = () => { throw new DOMException('refused', 'InvalidStateError'); };
}
export function mend_set_attribute(element) { delete element.setAttribute; }
"#)]
extern "C" {
    /// Makes `document.cookie` (read and write), `localStorage` and
    /// `sessionStorage` throw a `SecurityError`, as in a sandboxed iframe or with
    /// cookies blocked, counting every access.
    fn block_storage_and_cookies();
    /// Puts the original properties back (nothing to do if they are not blocked).
    fn unblock_storage_and_cookies();
    /// Accesses to the blocked properties since they were blocked.
    fn blocked_accesses() -> u32;
    /// Whether evaluating `source` (global scope) throws.
    fn throws(source: &str) -> bool;
    /// Replaces `window.alert` with a counter: a payload that runs shows up in
    /// [`alert_calls`] instead of blocking the test page with a dialog.
    fn stub_alert();
    fn alert_calls() -> u32;
    /// A promise resolved after `ms` milliseconds.
    fn sleep(ms: u32) -> web_sys::js_sys::Promise;
    fn set_document_cookie(value: &str);
    fn document_cookie() -> String;
    /// Starts recording attribute changes under `root` (a new recording each call).
    fn observe_attributes(root: &Element);
    /// Attribute changes recorded since the last call.
    fn attribute_mutations() -> u32;
    /// Makes `element.setAttribute` throw (an element a framework locked, say).
    fn break_set_attribute(element: &Element);
    /// Gives `element` its `setAttribute` back.
    fn mend_set_attribute(element: &Element);
}

fn document() -> Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Markup added to `<body>` for one test, removed when dropped (with the classes
/// the runtime put on `<html>`).
struct Fixture {
    root: Element,
    html_class: String,
}

impl Fixture {
    fn new(markup: &str) -> Fixture {
        let document = document();
        unblock_storage_and_cookies();
        while let Some(left_over) = document.get_element_by_id("ep-test-root") {
            left_over.remove();
        }
        let root = document.create_element("div").unwrap();
        root.set_id("ep-test-root");
        root.set_inner_html(markup);
        document.body().unwrap().append_child(&root).unwrap();
        let html_class = document.document_element().unwrap().class_name();
        Fixture { root, html_class }
    }

    /// The demo landing page's `<body>` (slots, greeting, `<template>` variants).
    fn demo_page() -> Fixture {
        let body = DEMO_PAGE.split_once("<body>").unwrap().1;
        Fixture::new(body.split_once("</body>").unwrap().0)
    }

    fn one(&self, selector: &str) -> Element {
        self.root
            .query_selector(selector)
            .unwrap()
            .unwrap_or_else(|| panic!("the fixture has no {selector}"))
    }

    fn template(&self, name: &str) -> HtmlTemplateElement {
        self.one(&format!("template[data-ep-variant=\"{name}\"]"))
            .dyn_into()
            .unwrap()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.root.remove();
        if let Some(html) = document().document_element() {
            html.set_class_name(&self.html_class);
        }
    }
}

/// The message of a `JsError`, for assertions.
fn message(error: JsError) -> String {
    let value = JsValue::from(error);
    value
        .dyn_ref::<web_sys::js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}

fn ok<T>(result: Result<T, JsError>) -> T {
    result.unwrap_or_else(|e| panic!("the runtime failed: {}", message(e)))
}

fn new_runtime(config: &str) -> Runtime {
    ok(Runtime::new(config))
}

/// The page facts the JS layer gathers, for `url`.
fn facts(url: &str) -> String {
    json!({
        "url": url,
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36",
        "language": "ru-RU,ru",
        "nowMs": NOW_MS,
        "utcOffsetMinutes": 180,
    })
    .to_string()
}

/// One page view, parsed.
fn page_view(
    runtime: &mut Runtime,
    url: &str,
    cookie_header: &str,
    consent: Option<&str>,
) -> Value {
    let out = ok(runtime.page_view(
        &facts(url),
        cookie_header,
        consent.map(str::to_string),
        ENTROPY.0,
        ENTROPY.1,
    ));
    serde_json::from_str(&out).unwrap()
}

/// The edge's hand-off text for a page view's output (as the edge writes it).
fn handoff_of(view: &Value) -> String {
    json!({
        "version": 1,
        "decision": view["decision"],
        "storage": view["storage"],
        "cookieStatus": view["cookieStatus"],
    })
    .to_string()
}

fn apply(runtime: &mut Runtime) -> Value {
    serde_json::from_str(&ok(runtime.apply())).unwrap()
}

/// The decision's entry for `slot`.
fn slot<'v>(view: &'v Value, slot: &str) -> &'v Value {
    view["decision"]["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slot"] == slot)
        .unwrap_or_else(|| panic!("no slot {slot:?} in {view}"))
}

#[wasm_bindgen_test]
fn demo_newcomer_gets_the_newcomer_hero_from_its_template() {
    let page = Fixture::demo_page();
    let hero = page.one("[data-ep-slot=\"hero\"]");
    let default_hero = hero.inner_html();
    let mut runtime = new_runtime(DEMO_CONFIG);
    assert_eq!(runtime.cookie_names(), ["ep", "name"]);

    let view = page_view(
        &mut runtime,
        "https://demo.example.ru/",
        "",
        Some("personalization"),
    );
    assert_eq!(view["decision"]["visitor"]["experience"], "new", "{view}");
    assert_eq!(view["cookieStatus"]["status"], "absent", "{view}");
    let hero_decision = slot(&view, "hero");
    assert_eq!(hero_decision["experience"], "hero-newcomer", "{view}");
    assert_eq!(hero_decision["holdout"], false, "{view}");
    // Consent given: the profile cookie is written (by JS, from this value).
    let set_cookie = view["setCookie"].as_str().unwrap();
    assert!(
        set_cookie.starts_with("ep=1c") && set_cookie.ends_with("; Secure"),
        "{set_cookie}"
    );

    let report = apply(&mut runtime);
    assert_eq!(report["errors"], json!([]), "{report}");
    assert!(report["applied"]
        .as_array()
        .unwrap()
        .contains(&json!("hero")));
    assert_ne!(hero.inner_html(), default_hero);
    // The slot shows a clone of the page's template; the template stays as it was.
    let template = page.template("hero-newcomer");
    assert_eq!(hero.inner_html(), template.inner_html());
    assert_eq!(
        hero.get_attribute("data-ep-applied").as_deref(),
        Some("hero-newcomer")
    );
    assert!(template.content().child_element_count() > 0);
    // The newcomer's experience also rewrites the booking link.
    assert_eq!(
        page.one("#book-cta").get_attribute("href").as_deref(),
        Some("/book?promo=welcome")
    );
    // The greeting has no name to use and the newcomer is not greeted back.
    assert_eq!(view["decision"]["greetings"], json!([]), "{view}");
    assert_eq!(
        page.one(".greeting").text_content().as_deref(),
        Some("Лучшие рестораны Москвы — без звонков и ожидания.")
    );
}

#[wasm_bindgen_test]
async fn demo_hostile_name_cookie_is_greeted_as_literal_text() {
    const HOSTILE: &str = "<img src=x onerror=alert(1)>";
    stub_alert();
    let alerts_before = alert_calls();
    let page = Fixture::demo_page();
    // The visitor's browser really holds the cookie; the runtime gets
    // `document.cookie` as the JS layer passes it.
    set_document_cookie(&format!("name={HOSTILE}; path=/"));
    let cookies = document_cookie();
    set_document_cookie("name=; max-age=0; path=/");
    assert!(
        cookies.contains(HOSTILE),
        "the browser did not keep the cookie: {cookies:?}"
    );

    let mut runtime = new_runtime(DEMO_CONFIG);
    let view = page_view(
        &mut runtime,
        "https://demo.example.ru/",
        &cookies,
        Some("personalization"),
    );
    let greetings = view["decision"]["greetings"].as_array().unwrap();
    assert_eq!(greetings.len(), 1, "{view}");
    assert_eq!(greetings[0]["greeting"], "greet-by-name");
    let expected = format!("Здравствуйте, {HOSTILE}!");
    assert_eq!(greetings[0]["text"], expected.as_str());

    let report = apply(&mut runtime);
    assert_eq!(report["errors"], json!([]), "{report}");
    let greeting = page.one(".greeting");
    assert_eq!(greeting.text_content().as_deref(), Some(expected.as_str()));
    // Text, not markup: one text node, no element anywhere made from the value.
    assert_eq!(
        greeting.child_element_count(),
        0,
        "{}",
        greeting.inner_html()
    );
    assert_eq!(greeting.child_nodes().length(), 1);
    assert!(greeting.inner_html().contains("&lt;img"));
    assert!(document()
        .query_selector("img[src=\"x\"]")
        .unwrap()
        .is_none());
    assert!(document().query_selector("[onerror]").unwrap().is_none());
    // Nothing ran: an `<img src=x>` made anywhere, even detached, would have
    // failed to load and called `alert` by now.
    wasm_bindgen_futures::JsFuture::from(sleep(200))
        .await
        .unwrap();
    assert_eq!(alert_calls(), alerts_before, "the cookie's payload ran");
}

#[wasm_bindgen_test]
fn applying_the_same_decision_twice_leaves_identical_dom() {
    let page = Fixture::new(SPA_PAGE);
    let mut runtime = new_runtime(SPA_CONFIG);
    let view = page_view(
        &mut runtime,
        "https://demo.example.ru/sale?utm_campaign=spring",
        "name=Anna",
        None,
    );
    let promo_decision = slot(&view, "promo");
    assert_eq!(promo_decision["experience"], "spring-sale", "{view}");
    let variant = promo_decision["variant"].as_str().unwrap().to_string();
    let template_name = promo_decision["content"]["template"].as_str().unwrap();

    let first = apply(&mut runtime);
    assert_eq!(first["errors"], json!([]), "{first}");
    assert_eq!(first["applied"], json!(["promo", "greeting"]), "{first}");
    let promo = page.one("#ep-test-promo");
    // The slot shows a clone of the variant's template.
    assert_eq!(
        promo.inner_html(),
        page.template(template_name).inner_html()
    );
    assert_eq!(
        promo.get_attribute("data-ep-applied"),
        Some(format!("spring-sale/{variant}"))
    );
    assert_eq!(
        page.one(".ep-test-greeting").text_content().as_deref(),
        Some("Привет, Anna!")
    );
    assert_eq!(
        page.one("#ep-test-cta").get_attribute("href").as_deref(),
        Some("https://demo.example.ru/sale?from=spring")
    );
    let after_first = page.root.outer_html();
    let shown = promo.first_element_child().unwrap();

    // The same plan again: nothing changes, not even node identity.
    let second = apply(&mut runtime);
    assert_eq!(second["applied"], json!([]), "{second}");
    assert_eq!(second["errors"], json!([]), "{second}");
    assert_eq!(page.root.outer_html(), after_first);
    assert!(promo
        .first_element_child()
        .is_some_and(|now| now.is_same_node(Some(&shown))));

    // The same decision from another runtime (the page applied already, e.g. by
    // the edge or an earlier load of the module): the markers keep it idempotent.
    let mut other = new_runtime(SPA_CONFIG);
    let again = page_view(
        &mut other,
        "https://demo.example.ru/sale?utm_campaign=spring",
        "name=Anna",
        None,
    );
    assert_eq!(again["decision"], view["decision"]);
    let third = apply(&mut other);
    assert_eq!(third["applied"], json!([]), "{third}");
    assert_eq!(page.root.outer_html(), after_first);
    assert!(promo
        .first_element_child()
        .is_some_and(|now| now.is_same_node(Some(&shown))));
}

#[wasm_bindgen_test]
fn a_later_decision_without_the_changes_puts_the_originals_back() {
    let page = Fixture::new(SPA_PAGE);
    let original = page.root.inner_html();
    let greeting = page.one(".ep-test-greeting");
    let mut runtime = new_runtime(SPA_CONFIG);

    let view = page_view(
        &mut runtime,
        "https://demo.example.ru/sale",
        "name=Anna",
        None,
    );
    assert_eq!(view["decision"]["greetings"][0]["text"], "Привет, Anna!");
    apply(&mut runtime);
    assert_eq!(greeting.text_content().as_deref(), Some("Привет, Anna!"));
    assert_eq!(
        greeting.get_attribute("data-ep-applied").as_deref(),
        Some("by-name")
    );
    assert_ne!(page.root.inner_html(), original);

    // An SPA navigation to a page that neither greets nor shows the promo.
    let view = page_view(
        &mut runtime,
        "https://demo.example.ru/menu",
        "name=Anna",
        None,
    );
    assert_eq!(view["decision"]["greetings"], json!([]), "{view}");
    assert_eq!(slot(&view, "promo")["content"], Value::Null, "{view}");
    let report = apply(&mut runtime);
    assert_eq!(report["errors"], json!([]), "{report}");
    // The greeting's original children (markup included), the promo's default
    // block and the link's href are back, and no marker is left.
    assert_eq!(greeting.inner_html(), "Default <b>greeting</b>");
    assert!(greeting.get_attribute("data-ep-applied").is_none());
    assert_eq!(
        page.one("#ep-test-cta").get_attribute("href").as_deref(),
        Some("/catalog")
    );
    assert_eq!(page.root.inner_html(), original);

    // And back to /sale: the changes come back.
    show_sale_to_anna(&mut runtime);
    assert_eq!(greeting.text_content().as_deref(), Some("Привет, Anna!"));
}

/// The SPA config's `/sale` page view for a visitor named Anna, applied.
fn show_sale_to_anna(runtime: &mut Runtime) {
    page_view(runtime, "https://demo.example.ru/sale", "name=Anna", None);
    apply(runtime);
}

/// An SPA route off the sale: the runtime decides again for /menu and applies it,
/// with no errors.
fn move_to_the_menu(runtime: &mut Runtime) {
    page_view(runtime, "https://demo.example.ru/menu", "name=Anna", None);
    let report = apply(runtime);
    assert_eq!(report["errors"], json!([]), "{report}");
}

#[wasm_bindgen_test]
fn defaults_the_edge_sent_along_are_put_back_by_a_later_decision() {
    // As the edge leaves a page for slots with `keepDefault`: the greeting shows the
    // edge's text and the promo a variant this runtime will not decide (the edge's
    // decision was not taken over); their defaults travel in templates at the end. A
    // template for another element or key pairs with nothing. One earlier in the page
    // for the same element (user content that keeps `data-*`) loses to the edge's,
    // which come last.
    let page = Fixture::new(
        r#"<template data-ep-default="greeting" data-ep-key="by-name" data-ep-nth="0"><img src="x" alt="forged"></template>
        <p class="ep-test-greeting" data-ep-applied="by-name">Привет, Anna!</p>
        <section id="ep-test-promo" data-ep-applied="edge-only"><p>Edge promo</p></section>
        <template data-ep-default="greeting" data-ep-key="by-name" data-ep-nth="0">Default <b>greeting</b></template>
        <template data-ep-default="greeting" data-ep-key="by-name" data-ep-nth="3">Not this one</template>
        <template data-ep-default="promo" data-ep-key="edge-only" data-ep-nth="0"><h2>Default promo</h2></template>
        <template data-ep-default="promo" data-ep-key="other" data-ep-nth="0">Nor this</template>"#,
    );
    let greeting = page.one(".ep-test-greeting");
    let mut runtime = new_runtime(SPA_CONFIG);
    show_sale_to_anna(&mut runtime);
    assert_eq!(greeting.text_content().as_deref(), Some("Привет, Anna!"));
    assert_eq!(
        page.root
            .query_selector_all("template[data-ep-default]")
            .map(|list| list.length())
            .ok(),
        Some(0),
        "the runtime took the sent defaults over"
    );

    move_to_the_menu(&mut runtime);
    assert_eq!(greeting.inner_html(), "Default <b>greeting</b>");
    assert!(greeting.get_attribute("data-ep-applied").is_none());
    assert_eq!(
        page.one("#ep-test-promo").inner_html(),
        "<h2>Default promo</h2>"
    );
}

#[wasm_bindgen_test]
fn attribute_values_the_edge_kept_are_put_back_by_a_later_decision() {
    // As the edge leaves a page: the CTA's href changed for /sale, the page's own
    // value kept beside it. Markers the config could not have produced (`onclick`; an
    // element no change selects) must set nothing.
    let page = Fixture::new(
        r#"<a id="ep-test-cta" href="https://demo.example.ru/sale?from=promo" data-ep-was="href" data-ep-was-href="/catalog">Catalog</a>
        <a id="ep-test-other" href="/x" data-ep-was="onclick href" data-ep-was-onclick="alert(1)" data-ep-was-href="javascript:alert(2)">Other</a>"#,
    );
    let cta = page.one("#ep-test-cta");
    let other = page.one("#ep-test-other");
    let mut runtime = new_runtime(SPA_CONFIG);
    show_sale_to_anna(&mut runtime);
    assert_eq!(
        cta.get_attribute("href").as_deref(),
        Some("https://demo.example.ru/sale?from=promo"),
        "the same decision keeps the edge's value"
    );
    for element in [&cta, &other] {
        for marker in ["data-ep-was", "data-ep-was-href", "data-ep-was-onclick"] {
            assert!(
                element.get_attribute(marker).is_none(),
                "{marker} left the page"
            );
        }
    }
    assert!(other.get_attribute("onclick").is_none());

    move_to_the_menu(&mut runtime);
    assert_eq!(
        cta.get_attribute("href").as_deref(),
        Some("/catalog"),
        "the page's own again"
    );
    assert_eq!(
        other.get_attribute("href").as_deref(),
        Some("/x"),
        "never changed"
    );
    assert!(other.get_attribute("onclick").is_none());
    drop(page);

    // An element that had no such attribute loses it again.
    let page = Fixture::new(
        r#"<a id="ep-test-cta" href="https://demo.example.ru/sale?from=promo" data-ep-was="href">Catalog</a>"#,
    );
    let mut runtime = new_runtime(SPA_CONFIG);
    move_to_the_menu(&mut runtime);
    assert!(page.one("#ep-test-cta").get_attribute("href").is_none());
    drop(page);

    // Markers are page markup: a forged one on the very element a change selects (as
    // user content that keeps `id` and `data-*` could carry) never brings script.
    let page = Fixture::new(
        r#"<a id="ep-test-cta" href="/catalog" data-ep-was="href" data-ep-was-href="java&#9;script:alert(1)">Catalog</a>"#,
    );
    let mut runtime = new_runtime(SPA_CONFIG);
    move_to_the_menu(&mut runtime);
    let cta = page.one("#ep-test-cta");
    assert_eq!(
        cta.get_attribute("href").as_deref(),
        Some("/catalog"),
        "left as it was"
    );
    assert!(cta.get_attribute("data-ep-was-href").is_none());
}

#[wasm_bindgen_test]
fn a_kept_value_is_put_back_when_the_rule_tests_the_attribute_it_changes() {
    // The rule selects the link by the very value it changes: once the edge has
    // changed it, the selector no longer matches what the page shows, but it matched
    // the page's own value, which the runtime must still be able to put back.
    let config = SPA_CONFIG.replace(
        r##""selector": "#ep-test-cta""##,
        r#""selector": "nav > a[href='/catalog']""#,
    );
    let page = Fixture::new(
        r#"<nav><a id="ep-test-cta" href="https://demo.example.ru/sale?from=promo" data-ep-was="href" data-ep-was-href="/catalog">Catalog</a></nav>
        <nav><a id="ep-test-other" href="https://demo.example.ru/sale?from=promo" data-ep-was="href" data-ep-was-href="/elsewhere">Other</a></nav>"#,
    );
    let mut runtime = new_runtime(&config);
    for _ in 0..2 {
        show_sale_to_anna(&mut runtime);
        assert_eq!(
            page.one("#ep-test-cta").get_attribute("href").as_deref(),
            Some("https://demo.example.ru/sale?from=promo"),
            "the same decision keeps the edge's value, however often applied"
        );
    }
    move_to_the_menu(&mut runtime);
    assert_eq!(
        page.one("#ep-test-cta").get_attribute("href").as_deref(),
        Some("/catalog"),
        "the page's own again"
    );
    assert_eq!(
        page.one("#ep-test-other").get_attribute("href").as_deref(),
        Some("https://demo.example.ru/sale?from=promo"),
        "a value no rule could have changed stays"
    );
}

#[wasm_bindgen_test]
fn a_rule_that_tests_the_attribute_it_changes_holds_across_applies() {
    // No edge: the runtime changes the link itself. Its rule's selector no longer
    // matches the changed link, yet applying the same decision again must keep the
    // change, and only a decision without it puts the page's value back. The
    // selector looks at the link's siblings too, which the page as it was must keep.
    let config = SPA_CONFIG.replace(
        r##""selector": "#ep-test-cta""##,
        r#""selector": "a[href='/intro'] + a[href='/catalog']:nth-child(2)""#,
    );
    let page = Fixture::new(
        r#"<nav><a href="/intro">Intro</a><a id="ep-test-cta" href="/catalog">Catalog</a></nav>
        <nav><a href="/elsewhere">Else</a><a id="ep-test-other" href="/catalog">Catalog</a></nav>"#,
    );
    let cta = page.one("#ep-test-cta");
    let mut runtime = new_runtime(&config);
    for _ in 0..3 {
        show_sale_to_anna(&mut runtime);
        assert_eq!(
            cta.get_attribute("href").as_deref(),
            Some("https://demo.example.ru/sale?from=promo")
        );
    }
    assert_eq!(
        page.one("#ep-test-other").get_attribute("href").as_deref(),
        Some("/catalog"),
        "its sibling does not match"
    );
    move_to_the_menu(&mut runtime);
    assert_eq!(cta.get_attribute("href").as_deref(), Some("/catalog"));
}

#[wasm_bindgen_test]
fn only_selectors_that_may_read_an_attribute_are_asked_of_the_page_as_it_was() {
    use super::dom::selector_may_test_attribute;
    for selector in [
        "a[href='/x']",
        "nav > a[ HREF ^= '/x' ]",
        "a[*|href]",
        "a[|href]",
        ":is(a[href$=x], b)",
        "a:not([href])",
        "ul,\n a[href]",
        "a[hr\\65 f]",
        "a:not(:ANY-LINK)",
    ] {
        assert!(selector_may_test_attribute(selector, "href"), "{selector}");
    }
    for selector in [
        "#cta",
        ".md\\:flex > a",
        "a[hreflang=ru]",
        "a[data-href]",
        "[title=href]",
        "a[",
        "input:placeholder-shown",
    ] {
        assert!(!selector_may_test_attribute(selector, "href"), "{selector}");
    }
    assert!(selector_may_test_attribute(
        "input:placeholder-shown",
        "placeholder"
    ));
}

#[wasm_bindgen_test]
fn rules_that_select_by_values_other_rules_change_hold_and_write_nothing_again() {
    // Two rules select the link by the href one of them changes; whichever comes
    // first, both hold on every apply of the same decision, a repeated apply writes
    // no attribute at all, and a decision without them puts both values back.
    let title = r#"{ "selector": "a[href='/catalog']", "attribute": "title", "value": "Sale" }"#;
    let href = r#"{ "selector": "a[href='/catalog']", "attribute": "href",
                    "value": "https://demo.example.ru/sale?from=promo" }"#;
    for rules in [format!("{title}, {href}"), format!("{href}, {title}")] {
        let start = SPA_CONFIG.find(r#""setAttributes": ["#).unwrap_or_default();
        let end = start + SPA_CONFIG[start..].find("} ] }").unwrap_or_default() + 3;
        let config = format!(
            "{}\"setAttributes\": [ {rules} ]{}",
            &SPA_CONFIG[..start],
            &SPA_CONFIG[end..]
        );
        let page =
            Fixture::new(r#"<a id="ep-test-cta" href="/catalog" title="Our menu">Catalog</a>"#);
        let cta = page.one("#ep-test-cta");
        let mut runtime = new_runtime(&config);
        show_sale_to_anna(&mut runtime);
        observe_attributes(&page.root);
        for _ in 0..3 {
            show_sale_to_anna(&mut runtime);
            assert_eq!(
                cta.get_attribute("title").as_deref(),
                Some("Sale"),
                "{rules}"
            );
            assert_eq!(
                cta.get_attribute("href").as_deref(),
                Some("https://demo.example.ru/sale?from=promo"),
                "{rules}"
            );
        }
        assert_eq!(attribute_mutations(), 0, "a repeated apply wrote: {rules}");
        move_to_the_menu(&mut runtime);
        assert_eq!(cta.get_attribute("title").as_deref(), Some("Our menu"));
        assert_eq!(cta.get_attribute("href").as_deref(), Some("/catalog"));
    }
}

#[wasm_bindgen_test]
fn a_default_kept_after_a_greeting_inside_it_comes_back_without_the_greeting() {
    // /a greets by name and retitles a link inside the promo; /b swaps the promo
    // (keeping its default while both are still in it); /c puts the default back:
    // the page's own greeting and title, never the visitor's name, untracked and
    // left for good.
    let config = r##"{
      "version": 1,
      "consent": { "mode": "none" },
      "readCookies": ["name"],
      "slots": {
        "promo": { "selector": "#ep-test-promo" },
        "greeting": { "selector": ".ep-test-greeting" },
        "other": { "selector": "#ep-test-nowhere" }
      },
      "experiences": [
        { "id": "title-a", "slot": "other", "when": { "url.path": "/a" },
          "content": { "text": "-" },
          "setAttributes": [ { "selector": "#ep-test-cta", "attribute": "title", "value": "For Anna" } ] },
        { "id": "promo-b", "slot": "promo", "when": { "url.path": "/b" },
          "content": { "text": "Promo for /b" } }
      ],
      "greetings": [
        { "id": "by-name", "slot": "greeting", "when": { "url.path": "/a" },
          "template": "Привет, {cookies.name}!" }
      ]
    }"##;
    let page = Fixture::new(
        r#"<section id="ep-test-promo"><p class="ep-test-greeting">Default <b>greeting</b></p><a id="ep-test-cta" title="Menu">Menu</a></section>"#,
    );
    let mut runtime = new_runtime(config);
    for path in ["/a", "/b", "/c"] {
        page_view(
            &mut runtime,
            &format!("https://demo.example.ru{path}"),
            "name=Anna",
            None,
        );
        let report = apply(&mut runtime);
        assert_eq!(report["errors"], json!([]), "{path}: {report}");
    }
    let promo = page.one("#ep-test-promo");
    assert_eq!(
        promo.inner_html(),
        r#"<p class="ep-test-greeting">Default <b>greeting</b></p><a id="ep-test-cta" title="Menu">Menu</a>"#
    );
}

#[wasm_bindgen_test]
fn an_attribute_that_cannot_be_put_back_now_is_kept_for_later_and_the_others_go_back() {
    let config = SPA_CONFIG.replace(
        r##""value": "https://demo.example.ru/sale?from={utm.campaign|promo}" } ]"##,
        r##""value": "https://demo.example.ru/sale?from={utm.campaign|promo}" },
                         { "selector": "#ep-test-cta2", "attribute": "href", "value": "/sale" } ]"##,
    );
    let page = Fixture::new(
        r#"<a id="ep-test-cta" href="/catalog">Catalog</a><a id="ep-test-cta2" href="/menu">Menu</a>"#,
    );
    let (cta, cta2) = (page.one("#ep-test-cta"), page.one("#ep-test-cta2"));
    let mut runtime = new_runtime(&config);
    show_sale_to_anna(&mut runtime);
    assert_eq!(cta2.get_attribute("href").as_deref(), Some("/sale"));
    break_set_attribute(&cta);
    page_view(
        &mut runtime,
        "https://demo.example.ru/menu",
        "name=Anna",
        None,
    );
    let report = apply(&mut runtime);
    assert_ne!(
        report["errors"],
        json!([]),
        "the failure is reported: {report}"
    );
    assert_eq!(
        cta2.get_attribute("href").as_deref(),
        Some("/menu"),
        "the others go back"
    );
    mend_set_attribute(&cta);
    move_to_the_menu(&mut runtime);
    assert_eq!(
        cta.get_attribute("href").as_deref(),
        Some("/catalog"),
        "and the kept one, later"
    );
}

#[wasm_bindgen_test]
fn a_kept_default_undoes_nested_changes_in_the_right_places() {
    // /a swaps the promo to content holding a greeting, and greets there; /b swaps
    // the block around the promo, keeping its default while both changes are in
    // it; /c puts that default back: the promo's own, untouched by the greeting.
    let config = r##"{
      "version": 1,
      "consent": { "mode": "none" },
      "readCookies": ["name"],
      "slots": {
        "outer": { "selector": "#ep-test-outer" },
        "promo": { "selector": "#ep-test-promo" },
        "greeting": { "selector": ".ep-test-greeting" }
      },
      "experiences": [
        { "id": "promo-a", "slot": "promo", "when": { "url.path": "/a" },
          "content": { "html": "<p class=\"ep-test-greeting\">greet here</p>" } },
        { "id": "outer-b", "slot": "outer", "when": { "url.path": "/b" },
          "content": { "text": "Outer B" } }
      ],
      "greetings": [
        { "id": "by-name", "slot": "greeting", "when": { "url.path": "/a" },
          "template": "Привет, {cookies.name}!" }
      ]
    }"##;
    let page = Fixture::new(
        r#"<div id="ep-test-outer"><section id="ep-test-promo"><p class="keep">Default promo</p></section></div>"#,
    );
    let mut runtime = new_runtime(config);
    for path in ["/a", "/b", "/c"] {
        page_view(
            &mut runtime,
            &format!("https://demo.example.ru{path}"),
            "name=Anna",
            None,
        );
        let report = apply(&mut runtime);
        assert_eq!(report["errors"], json!([]), "{path}: {report}");
    }
    assert_eq!(
        page.one("#ep-test-outer").inner_html(),
        r#"<section id="ep-test-promo"><p class="keep">Default promo</p></section>"#
    );
}

#[wasm_bindgen_test]
fn a_runtime_started_again_on_the_page_puts_back_what_the_first_took_over() {
    // A framework remounts (init → destroy → init): the first runtime took over what
    // the edge sent along (and removed it from the page); the second must still be
    // able to put the page's own content and link back.
    let page = Fixture::new(
        r#"<p class="ep-test-greeting" data-ep-applied="by-name">Привет, Anna!</p>
        <template data-ep-default="greeting" data-ep-key="by-name" data-ep-nth="0">Default <b>greeting</b></template>
        <a id="ep-test-cta" href="https://demo.example.ru/sale?from=promo" data-ep-was="href" data-ep-was-href="/catalog">Catalog</a>"#,
    );
    let mut first = new_runtime(SPA_CONFIG);
    show_sale_to_anna(&mut first);
    drop(first);

    let mut second = new_runtime(SPA_CONFIG);
    move_to_the_menu(&mut second);
    assert_eq!(
        page.one(".ep-test-greeting").inner_html(),
        "Default <b>greeting</b>"
    );
    assert_eq!(
        page.one("#ep-test-cta").get_attribute("href").as_deref(),
        Some("/catalog")
    );
}

#[wasm_bindgen_test]
fn a_slot_that_keeps_its_default_is_not_reported_as_seen() {
    // The variant names a template this page does not have: the slot keeps its
    // default, so the exposure event (sent for `present` slots) must not claim it.
    let config = r##"{
      "version": 1,
      "consent": { "mode": "none" },
      "slots": { "hero": { "selector": "#ep-test-hero" }, "offers": { "selector": "#ep-test-offers" } },
      "experiences": [
        { "id": "hero-missing", "slot": "hero", "content": { "template": "ep-test-no-such-template" } },
        { "id": "offers-text", "slot": "offers", "content": { "text": "Set lunch" } }
      ]
    }"##;
    let page = Fixture::new(
        r#"<section id="ep-test-hero"><h1>Default hero</h1></section><p id="ep-test-offers">Default offers</p>"#,
    );
    let mut runtime = new_runtime(config);
    let view = page_view(&mut runtime, "https://demo.example.ru/", "", None);
    assert_eq!(slot(&view, "hero")["experience"], "hero-missing", "{view}");
    let report = apply(&mut runtime);
    assert_eq!(
        report["errors"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    assert_eq!(report["present"], json!(["offers"]), "{report}");
    assert_eq!(report["applied"], json!(["offers"]), "{report}");
    assert_eq!(
        page.one("#ep-test-hero").inner_html(),
        "<h1>Default hero</h1>"
    );
    assert_eq!(
        page.one("#ep-test-offers").text_content().as_deref(),
        Some("Set lunch")
    );
}

/// `$regex` cases on which the page's `RegExp` and the native engine must agree:
/// (condition, attributes, expected).
fn shared_regex_cases() -> Vec<(Value, Value, bool)> {
    vec![
        (
            json!({"ua": {"$regex": "(Mobile|Tablet)"}}),
            json!({"ua": "Mozilla/5.0 (Linux; Android 14) Mobile Safari"}),
            true,
        ),
        (
            json!({"ua": {"$regex": "(MOBILE|TABLET)"}}),
            json!({"ua": "android mobile"}),
            false,
        ),
        (
            json!({"ua": {"$regexi": "(MOBILE|TABLET)"}}),
            json!({"ua": "android mobile"}),
            true,
        ),
        (
            json!({"path": {"$regex": "^\\/blog\\/"}}),
            json!({"path": "/blog/post-1"}),
            true,
        ),
        (
            json!({"path": {"$regex": "^\\/blog\\/"}}),
            json!({"path": "/news/blog/"}),
            false,
        ),
        (
            json!({"phone": {"$regex": "^\\+7 \\d{3} \\d{3}-\\d{2}-\\d{2}$"}}),
            json!({"phone": "+7 495 123-45-67"}),
            true,
        ),
        // `\<` is a literal `<` in JS (a word boundary to some other engines).
        (
            json!({"q": {"$regex": "a\\<b\\>"}}),
            json!({"q": "a<b>"}),
            true,
        ),
        (
            json!({"role": {"$notRegexi": "^admin"}}),
            json!({"role": "Administrator"}),
            false,
        ),
        (
            json!({"role": {"$notRegexi": "^admin"}}),
            json!({"role": "editor"}),
            true,
        ),
        // As with JS's `RegExp.prototype.test`, a number is matched by its text.
        (json!({"n": {"$regex": "^1"}}), json!({"n": 12}), true),
        (json!({"n": {"$regex": "^2"}}), json!({"n": 12}), false),
        // Invalid patterns fail closed, negated or not.
        (
            json!({"x": {"$regex": "(unclosed"}}),
            json!({"x": "(unclosed"}),
            false,
        ),
        (
            json!({"x": {"$notRegex": "[a-"}}),
            json!({"x": "zzz"}),
            false,
        ),
        (
            json!({"$or": [{"x": {"$regex": "*"}}, {"x": {"$regex": "^z"}}]}),
            json!({"x": "zzz"}),
            true,
        ),
    ]
}

fn evaluate(engine: &dyn crate::core::pattern::PatternEngine, when: &Value, attrs: &Value) -> bool {
    let (condition, _issues) = Condition::compile(when, engine);
    condition.matches(attrs, &SavedGroups::new())
}

#[wasm_bindgen_test]
fn regex_conditions_run_on_the_pages_regexp() {
    for (when, attrs, expected) in shared_regex_cases() {
        assert_eq!(
            evaluate(&JsPatternEngine, &when, &attrs),
            expected,
            "{when} on {attrs}"
        );
    }
    // Invalid patterns are reported with the browser's own message.
    let (_, issues) = Condition::compile(&json!({"x": {"$regex": "(unclosed"}}), &JsPatternEngine);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert!(
        issues[0].message.contains("invalid regular expression"),
        "{}",
        issues[0]
    );
    // What only JavaScript's RegExp does: look-ahead (the native engine refuses it,
    // so `edge-persona check` refuses such a config), so this passes only here.
    let js_only = [(
        json!({"path": {"$regex": "^/menu(?=/)"}}),
        json!({"path": "/menu/wine"}),
    )];
    for (when, attrs) in js_only {
        assert!(
            evaluate(&JsPatternEngine, &when, &attrs),
            "{when} on {attrs}"
        );
    }
}

/// The answers the native engine's unit test holds it to (Unicode case folding,
/// ASCII `\w \d \b`, Unicode `\s`, `.` and class syntax) are JavaScript's own.
#[wasm_bindgen_test]
fn javascript_gives_the_answers_the_native_engine_is_held_to() {
    crate::core::pattern::assert_agrees_with_javascript(&JsPatternEngine, "the page's RegExp");
}

#[cfg(feature = "regex")]
#[wasm_bindgen_test]
fn the_pages_regexp_agrees_with_the_native_engine() {
    let native = crate::core::pattern::default_engine();
    for (when, attrs, expected) in shared_regex_cases() {
        let js = evaluate(&JsPatternEngine, &when, &attrs);
        let rust = evaluate(native, &when, &attrs);
        assert_eq!((js, rust), (expected, expected), "{when} on {attrs}");
    }
}

#[wasm_bindgen_test]
fn runtime_segments_use_the_pages_regexp() {
    // A look-ahead compiles only in JavaScript: the runtime's segment matching
    // on it shows that its `$regex` goes through the page's `RegExp`.
    let config = r#"{
      "version": 1,
      "consent": { "mode": "none" },
      "segments": [
        { "name": "wine_pages", "when": { "url.path": { "$regex": "^/menu(?=/wine)" } } },
        { "name": "from_vk", "when": { "utm.source": { "$regexi": "^VK$" } } },
        { "name": "never", "when": { "url.path": { "$regex": "^/nothing" } } }
      ]
    }"#;
    let mut runtime = new_runtime(config);
    let view = page_view(
        &mut runtime,
        "https://demo.example.ru/menu/wine?utm_source=vk",
        "",
        None,
    );
    assert_eq!(
        view["decision"]["visitor"]["segments"],
        json!(["wine_pages", "from_vk"]),
        "{view}"
    );
    let view = page_view(&mut runtime, "https://demo.example.ru/menu/beer", "", None);
    assert_eq!(view["decision"]["visitor"]["segments"], json!([]), "{view}");
}

#[wasm_bindgen_test]
fn storage_and_cookies_that_throw_do_not_break_the_runtime() {
    let page = Fixture::demo_page();
    block_storage_and_cookies();
    let blocked = [
        throws("document.cookie"),
        throws("document.cookie = 'a=b'"),
        throws("localStorage.getItem('x')"),
        throws("sessionStorage.length"),
    ];
    let accesses_of_the_check = blocked_accesses();
    // Everything the JS layer calls, with what it has when cookies are blocked
    // (an empty cookie header); none of it may fail or touch storage or cookies.
    let run = || -> Result<(Value, Value), String> {
        let mut runtime = Runtime::new(DEMO_CONFIG).map_err(message)?;
        runtime.cookie_names();
        let out = runtime
            .page_view(
                &facts("https://demo.example.ru/"),
                "",
                Some("personalization".into()),
                ENTROPY.0,
                ENTROPY.1,
            )
            .map_err(message)?;
        let report = runtime.apply().map_err(message)?;
        runtime.explain().map_err(message)?;
        runtime
            .track(
                r#"{"kind":"add_to_cart","value":2200,"category":"italian"}"#,
                NOW_MS as f64,
            )
            .map_err(message)?;
        runtime
            .interaction("hero-newcomer", "shown", NOW_MS as f64)
            .map_err(message)?;
        runtime.consent(Some("denied".into())).map_err(message)?;
        runtime
            .consent(Some("personalization".into()))
            .map_err(message)?;
        runtime.export("", NOW_MS as f64).map_err(message)?;
        runtime.forget(NOW_MS as f64, 1, 2);
        Ok((
            serde_json::from_str(&out).map_err(|e| e.to_string())?,
            serde_json::from_str(&report).map_err(|e| e.to_string())?,
        ))
    };
    let result = run();
    let accesses = blocked_accesses() - accesses_of_the_check;
    unblock_storage_and_cookies();

    assert_eq!(blocked, [true; 4], "the overrides did not take");
    let (view, report) = result.unwrap();
    assert_eq!(slot(&view, "hero")["experience"], "hero-newcomer", "{view}");
    assert_eq!(report["errors"], json!([]), "{report}");
    assert_eq!(
        page.one("[data-ep-slot=\"hero\"]")
            .get_attribute("data-ep-applied")
            .as_deref(),
        Some("hero-newcomer")
    );
    // Storage stays in JS: the wasm never reads storage or writes the cookie itself.
    assert_eq!(accesses, 0);
    assert!(!throws("document.cookie"), "the overrides were not undone");
}

/// The edge knows the visitor's consent only from the cookie; a refusal the page
/// knows (its banner, `data-consent`, GPC) must still delete what the edge stored.
#[wasm_bindgen_test]
fn taking_over_the_edge_decision_after_a_refusal_replaces_the_stored_profile_by_the_marker() {
    let url = "https://demo.example.ru/";
    let mut edge_like = new_runtime(DEMO_CONFIG);
    let view = page_view(&mut edge_like, url, "", Some("personalization"));
    let stored = view["setCookie"].as_str().expect("stored under consent");
    let cookie = stored.split(';').next().unwrap_or_default().to_string();
    let handoff = handoff_of(&view);
    let adopt = |consent: Option<&str>| -> Value {
        let mut runtime = new_runtime(DEMO_CONFIG);
        let out = ok(runtime.adopt(
            &handoff,
            &facts(url),
            &cookie,
            consent.map(str::to_string),
            ENTROPY.0,
            ENTROPY.1,
            false,
        ));
        serde_json::from_str(&out).unwrap()
    };

    let refused = adopt(Some("denied"));
    assert_eq!(refused["adopted"], true);
    let marker = refused["setCookie"].as_str().unwrap_or_default();
    assert!(
        marker.starts_with("ep=0;"),
        "only the refusal is kept: {refused}"
    );
    assert_eq!(
        refused["decision"]["popups"],
        json!([]),
        "no popup without storage"
    );

    // The consent the cookie remembers: the profile stays.
    let kept = adopt(None);
    let write = kept["setCookie"].as_str().unwrap_or_default();
    assert!(
        !write.contains("Max-Age=0") && !write.starts_with("ep=0;"),
        "nothing deleted: {kept}"
    );
    assert_eq!(kept["decision"]["popups"], view["decision"]["popups"]);
}

/// A hand-off marked cut (the edge's rewriting stopped early, the rest of the page
/// passed through): the slots the edge reached are taken over as they are; one it
/// never reached showed its default to the visitor and keeps it, in the page and in
/// the decision the page reports.
#[wasm_bindgen_test]
fn a_cut_hand_off_leaves_what_the_edge_did_not_reach_as_it_showed() {
    let url = "https://demo.example.ru/";
    let name = "name=%D0%90%D0%BD%D1%8F";
    let mut edge_like = new_runtime(DEMO_CONFIG);
    let view = page_view(&mut edge_like, url, name, Some("personalization"));
    assert_eq!(
        view["decision"]["greetings"][0]["slot"], "greeting",
        "{view}"
    );
    assert_eq!(
        view["decision"]["attributes"][0]["selector"], "#book-cta",
        "{view}"
    );
    let hero = slot(&view, "hero")["experience"]
        .as_str()
        .expect("a hero")
        .to_string();
    let handoff = handoff_of(&view);
    for cut in [true, false] {
        let page = Fixture::demo_page();
        // The edge applied the hero, then stopped before the greeting.
        page.one("[data-ep-slot=\"hero\"]")
            .set_attribute("data-ep-applied", &hero)
            .unwrap();
        let shown = page.one(".greeting").text_content();
        let mut runtime = new_runtime(DEMO_CONFIG);
        let out: Value = serde_json::from_str(&ok(runtime.adopt(
            &handoff,
            &facts(url),
            name,
            Some("personalization".into()),
            ENTROPY.0,
            ENTROPY.1,
            cut,
        )))
        .unwrap();
        apply(&mut runtime);
        let greeting = page.one(".greeting").text_content();
        let link = page.one("#book-cta").get_attribute("href");
        if cut {
            assert_eq!(greeting, shown, "the default the visitor saw stays");
            assert_eq!(out["decision"]["greetings"], json!([]), "{out}");
            // The edge changed the link nowhere (no data-ep-was): it stays the page's.
            assert_eq!(link.as_deref(), Some("/book.html"));
            assert_eq!(out["decision"]["attributes"], json!([]), "{out}");
        } else {
            assert_eq!(greeting.as_deref(), Some("Здравствуйте, Аня!"));
            assert!(link.unwrap_or_default().starts_with("/book?promo="));
        }
        assert_eq!(
            slot(&out, "hero")["experience"],
            hero.as_str(),
            "the hero is the edge's"
        );
    }
}

#[wasm_bindgen_test]
fn an_experience_whose_slot_cannot_be_shown_changes_no_attribute_either() {
    // One config for many pages: this page has no `hero-premium` template, so the
    // hero keeps its default, and the premium booking link must not appear beside it.
    let config = r##"{
      "version": 1,
      "consent": { "mode": "none" },
      "slots": { "hero": { "selector": "#ep-test-hero" }, "note": { "selector": "#ep-test-note" } },
      "experiences": [
        { "id": "hero-premium", "slot": "hero",
          "content": { "template": "hero-premium" },
          "setAttributes": [ { "selector": "#ep-test-cta", "attribute": "title", "value": "Premium booking" } ] },
        { "id": "note-all", "slot": "note",
          "content": { "text": "Welcome" },
          "setAttributes": [ { "selector": "#ep-test-cta", "attribute": "data-note", "value": "shown" } ] }
      ]
    }"##;
    let page = Fixture::new(
        r#"<section id="ep-test-hero"><h1>Default hero</h1></section><p id="ep-test-note">Default note</p><a id="ep-test-cta" title="Book">Book</a>"#,
    );
    let mut runtime = new_runtime(config);
    page_view(&mut runtime, "https://demo.example.ru/", "", None);
    let report = apply(&mut runtime);
    let errors = report["errors"].to_string();
    assert!(
        errors.contains("hero-premium") && errors.contains("held back"),
        "{report}"
    );
    let cta = page.one("#ep-test-cta");
    assert_eq!(
        cta.get_attribute("title").as_deref(),
        Some("Book"),
        "{report}"
    );
    assert_eq!(
        page.one("#ep-test-hero").inner_html(),
        "<h1>Default hero</h1>"
    );
    // The other experience, whose slot was shown, makes its change.
    assert_eq!(
        page.one("#ep-test-note").text_content().as_deref(),
        Some("Welcome")
    );
    assert_eq!(cta.get_attribute("data-note").as_deref(), Some("shown"));
    assert_eq!(report["applied"], json!(["note"]), "{report}");
}

#[wasm_bindgen_test]
fn a_slot_inside_another_slots_content_is_filled_whatever_the_order() {
    // `badge` comes before `offers` in the config; the offers variant brings a fresh
    // `.badge` in with it, which must show the badge's experience too.
    let config = r##"{
      "version": 1,
      "consent": { "mode": "none" },
      "slots": { "badge": { "selector": ".ep-test-badge" }, "offers": { "selector": "#ep-test-offers" } },
      "experiences": [
        { "id": "badge-new", "slot": "badge", "content": { "text": "New!" } },
        { "id": "offers-fine", "slot": "offers", "content": { "template": "ep-test-fine" } }
      ]
    }"##;
    let page = Fixture::new(
        r#"<section id="ep-test-offers"><span class="ep-test-badge">Default badge</span><p>Default offers</p></section>
        <template data-ep-variant="ep-test-fine"><span class="ep-test-badge">Default badge</span><p>Fine dining</p></template>"#,
    );
    let mut runtime = new_runtime(config);
    page_view(&mut runtime, "https://demo.example.ru/", "", None);
    let report = apply(&mut runtime);
    assert_eq!(report["errors"], json!([]), "{report}");
    let offers = page.one("#ep-test-offers");
    assert_eq!(
        offers.text_content().as_deref(),
        Some("New!Fine dining"),
        "{}",
        offers.inner_html()
    );
    // Idempotent: applying again changes nothing.
    let before = offers.inner_html();
    apply(&mut runtime);
    assert_eq!(offers.inner_html(), before);
}

#[wasm_bindgen_test]
fn a_variant_holding_its_own_slot_element_does_not_nest_on_every_apply() {
    // A variant copied from the page with its slot element around it.
    let config = r##"{
      "version": 1,
      "consent": { "mode": "none" },
      "slots": { "hero": { "selector": ".ep-test-hero" } },
      "experiences": [ { "id": "hero-new", "slot": "hero", "content": { "template": "ep-test-hero-new" } } ]
    }"##;
    let page = Fixture::new(
        r#"<section class="ep-test-hero"><h1>Default</h1></section>
        <template data-ep-variant="ep-test-hero-new"><section class="ep-test-hero"><h1>New</h1></section></template>"#,
    );
    let mut runtime = new_runtime(config);
    page_view(&mut runtime, "https://demo.example.ru/", "", None);
    apply(&mut runtime);
    let first = page.one(".ep-test-hero").outer_html();
    apply(&mut runtime);
    page_view(&mut runtime, "https://demo.example.ru/", "", None);
    apply(&mut runtime);
    assert_eq!(page.one(".ep-test-hero").outer_html(), first);
    assert_eq!(
        page.root
            .query_selector_all(".ep-test-hero .ep-test-hero")
            .map(|list| list.length())
            .unwrap_or(99),
        1,
        "one level: the variant's own element, inside the page's"
    );
}

/// The browser build reads decimal literals with the page's `parseFloat` and
/// lowercases with its `toLowerCase` (see `core::decimal`, `core::lowercase`): both
/// must give what Rust's own parser and `to_lowercase` give natively and at the edge.
#[wasm_bindgen_test]
fn platform_numbers_and_lowercase_match_rust() {
    use crate::core::decimal::parse_decimal_literal;
    use crate::core::lowercase::to_lowercase;
    for literal in [
        "0",
        "1",
        "1999.99",
        ".5",
        "5.",
        "0.1",
        "2e3",
        "2E-3",
        "1e400",
        "1e-400",
        "131383.13",
        "9007199254740993",
        "0.30000000000000004",
        "2.2250738585072011e-308",
        "4.9406564584124654e-324",
        "123456789012345678901234567890.123456789",
    ] {
        let expected: f64 = literal.parse().unwrap_or(f64::NAN);
        let got = parse_decimal_literal(literal).unwrap_or(f64::NAN);
        assert_eq!(got.to_bits(), expected.to_bits(), "{literal:?}");
    }
    for text in [
        "ВЕСНА Акция",
        "ΣΑΣ ΟΔΟΣ",
        "İstanbul",
        "STRASSE ẞ",
        "Ǆemal",
        "ﬀ ǅ ῼ",
        "ЁЛКА",
    ] {
        assert_eq!(to_lowercase(text), text.to_lowercase(), "{text:?}");
    }
}

/// The edge renders a config popup into the page as `<template data-ep-popup>`, with
/// its placeholders filled for the URL it served. The runtime shows that one for the
/// edge's decision, and its own rendering for a later decision (an SPA route).
#[wasm_bindgen_test]
fn a_popup_the_edge_rendered_is_used_only_for_the_edge_decision() {
    const POPUP_CONFIG: &str = r#"{
      "version": 1,
      "consent": { "mode": "none" },
      "slots": {},
      "attention": { "perSession": 5, "perDay": 10 },
      "popups": [
        { "id": "promo", "label": "Promo", "content": { "text": "Your code: {utm.campaign|none}" }, "trigger": { "delaySeconds": 1 } }
      ]
    }"#;
    let _page = Fixture::new(r#"<template data-ep-popup="promo">Your code: A</template>"#);
    let served = "https://demo.example.ru/?utm_campaign=A";
    let mut edge_like = new_runtime(POPUP_CONFIG);
    let view = page_view(&mut edge_like, served, "", None);
    assert_eq!(view["decision"]["popups"][0]["popup"], "promo", "{view}");
    let mut runtime = new_runtime(POPUP_CONFIG);
    ok(runtime.adopt(
        &handoff_of(&view),
        &facts(served),
        "",
        None,
        ENTROPY.0,
        ENTROPY.1,
        false,
    ));
    let shown = |runtime: &Runtime| {
        runtime
            .build_popup("promo", "Close")
            .map_err(|_| "build_popup failed")
            .unwrap()
            .text_content()
            .unwrap_or_default()
    };
    assert!(
        shown(&runtime).contains("Your code: A"),
        "{}",
        shown(&runtime)
    );
    let route = "https://demo.example.ru/?utm_campaign=B";
    let later_view = page_view(&mut runtime, route, "", None);
    let later = shown(&runtime);
    assert!(
        later.contains("Your code: B"),
        "the route's own rendering: {later}"
    );
    // A remount on that route resumes the browser's decision, which the JS hands back
    // marked as not the edge's.
    let mut resumed: Value = serde_json::from_str(&handoff_of(&later_view)).unwrap();
    resumed["fromEdge"] = json!(false);
    let mut remounted = new_runtime(POPUP_CONFIG);
    ok(remounted.adopt(
        &resumed.to_string(),
        &facts(route),
        "",
        None,
        ENTROPY.0,
        ENTROPY.1,
        false,
    ));
    let after_remount = shown(&remounted);
    assert!(
        after_remount.contains("Your code: B"),
        "a remount on the route keeps the route's rendering: {after_remount}"
    );
}

/// A slot's text may hold placeholders: the same experience on a later route (an SPA
/// navigation) renders it anew, not the text of the route before.
#[wasm_bindgen_test]
fn a_slot_text_with_placeholders_follows_the_route() {
    const CONFIG: &str = r##"{
      "version": 1,
      "consent": { "mode": "none" },
      "slots": { "banner": { "selector": "#banner" } },
      "experiences": [
        { "id": "code", "slot": "banner", "content": { "text": "Code {utm.campaign|none}" } }
      ]
    }"##;
    let page = Fixture::new(r##"<p id="banner">Default</p>"##);
    let mut runtime = new_runtime(CONFIG);
    page_view(
        &mut runtime,
        "https://demo.example.ru/?utm_campaign=a",
        "",
        None,
    );
    apply(&mut runtime);
    assert_eq!(
        page.one("#banner").text_content().as_deref(),
        Some("Code a")
    );
    page_view(
        &mut runtime,
        "https://demo.example.ru/b?utm_campaign=b",
        "",
        None,
    );
    apply(&mut runtime);
    assert_eq!(
        page.one("#banner").text_content().as_deref(),
        Some("Code b")
    );
}

/// A runtime freed for good (a component unmounted) leaves only what is still in the
/// document for a next one: elements the app removed are not held in memory.
#[wasm_bindgen_test]
fn a_freed_runtime_leaves_no_removed_element_behind() {
    const CONFIG: &str = r##"{
      "version": 1,
      "consent": { "mode": "none" },
      "slots": { "banner": { "selector": "#banner" } },
      "experiences": [ { "id": "code", "slot": "banner", "content": { "text": "New" } } ]
    }"##;
    let page = Fixture::new(r##"<p id="banner">Default</p>"##);
    let mut runtime = new_runtime(CONFIG);
    page_view(&mut runtime, "https://demo.example.ru/", "", None);
    apply(&mut runtime);
    assert_eq!(page.one("#banner").text_content().as_deref(), Some("New"));
    page.one("#banner").remove();
    drop(runtime);
    let left = super::LEFT_BEHIND.take().expect("left behind");
    assert_eq!(left.kept_elements(), 0);
}

/// Where consent is implied, a refusal the cookie remembers (the marker `0`) holds on
/// a page whose consent platform has not answered, also through an answer taken
/// back; a grant replaces it with a fresh profile.
#[wasm_bindgen_test]
fn a_remembered_refusal_holds_until_a_grant() {
    const IMPLIED: &str = r#"{ "version": 1, "consent": { "mode": "implied" }, "slots": {} }"#;
    const LEAD: &str = r#"{"kind":"lead"}"#;
    let url = "https://demo.example.ru/";
    let mut runtime = new_runtime(IMPLIED);
    let view = page_view(&mut runtime, url, "ep=0", None);
    assert_eq!(view["storage"]["allowed"], false, "{view}");
    assert_eq!(view["setCookie"], Value::Null, "{view}");
    assert_eq!(
        ok(runtime.consent(None)),
        None,
        "no answer: nothing written"
    );
    assert_eq!(ok(runtime.track(LEAD, NOW_MS as f64)), None);

    // A page that refused itself: the same after an answer taken back.
    let mut refusing = new_runtime(IMPLIED);
    let stored = page_view(&mut refusing, url, "", None);
    assert!(
        stored["setCookie"]
            .as_str()
            .is_some_and(|c| c.starts_with("ep=1")),
        "{stored}"
    );
    let marker = ok(refusing.consent(Some("denied".into()))).unwrap_or_default();
    assert!(marker.starts_with("ep=0;"), "{marker}");
    assert_eq!(ok(refusing.consent(None)), None);
    assert_eq!(ok(refusing.track(LEAD, NOW_MS as f64)), None);

    let granted = ok(runtime.consent(Some("personalization".into()))).unwrap_or_default();
    assert!(granted.starts_with("ep=1"), "a fresh profile: {granted}");
}
