//! The head snippet a script-tag site pastes into `<head>`: an inline style that hides
//! only the config's slots while the runtime decides, and lifts itself by CSS alone
//! after the budget (so a blocked or failed script can never leave anything hidden),
//! then preloads of everything the loader will fetch (the runtime, the wasm-bindgen
//! glue, the wasm and the config, so they arrive together instead of one after
//! another: see BENCHMARKS.md, "Navigation start → decisions applied") and the loader.
//!
//! The runtime reads the budget back from this style (its `ep-reveal` delay), so the
//! two cannot disagree.

use crate::core::config::LoadedConfig;
use crate::core::html::escape_html;

/// Where the snippet's files are and how long slots may stay hidden.
#[derive(Debug, Clone)]
pub struct SnippetOptions<'a> {
    /// Milliseconds the slots may stay hidden (300 is one third of the "instant" limit).
    pub budget_ms: u32,
    /// URL of the folder holding `loader.js` and `edge-persona.js` (e.g. `/ep/`).
    pub base_url: &'a str,
    /// URL of the config JSON, for `data-config`.
    pub config_url: &'a str,
}

/// The `<html>` class that ends the snippet's hiding, added by the browser runtime
/// once it has applied its decision.
pub const READY_CLASS: &str = "ep-ready";

/// The id of the snippet's hiding `<style>`, which the edge narrows on a page it
/// personalized to the slots it left to the runtime (the page already shows the rest).
pub const HIDING_STYLE_ID: &str = "ep-hide";

/// [`HIDING_STYLE_ID`]'s element as a selector.
pub const HIDING_STYLE_SELECTOR: &str = "style#ep-hide";

/// Elements that show a page runs the browser runtime: the head snippet's hiding
/// style, an inline config, the loader as documented, a script marked
/// `data-edge-persona`, or `<meta name="edge-persona">` (for a bundled app, whose
/// bundler may rewrite its script tags). On such a page the edge hands
/// its decision over even when it changed nothing, so the runtime takes that page
/// view instead of recording it a second time; a page without one keeps its bytes.
/// The first is the hiding style, which the edge narrows ([`hiding_style_for_pending`]).
pub const RUNTIME_MARKERS: [&str; 5] = [
    HIDING_STYLE_SELECTOR,
    "script#edge-persona-config",
    "script[data-edge-persona]",
    "script[data-config][src$=\"loader.js\"]",
    "meta[name=\"edge-persona\"]",
];

/// The attribute the edge marks a slot with when it leaves the slot to the browser
/// runtime (it could not apply it while streaming): the hiding style then keeps
/// hiding only such elements, see [`hiding_style_for_pending`].
pub const PENDING_ATTRIBUTE: &str = "data-ep-pending";

/// The attribute on the edge's hand-off element when rewriting stopped early (a
/// bail-out: the rest of the page passed through untouched). Slots after that point
/// were shown with their defaults, so the runtime leaves them so: swapping them now
/// would be the flicker the edge exists to prevent.
pub const CUT_ATTRIBUTE: &str = "data-ep-cut";

/// The attribute the browser runtime puts on an element the edge left to it
/// ([`PENDING_ATTRIBUTE`]) that the head snippet had already revealed when the
/// runtime came (after the budget): the visitor has seen it, so the runtime leaves
/// it as it is, and does not count it as shown.
pub const KEPT_ATTRIBUTE: &str = "data-ep-kept";

/// The hiding style's text, narrowed to the elements the edge left to the runtime
/// ([`PENDING_ATTRIBUTE`]): same keyframes, same budget, so they stay hidden until the
/// runtime applies them or the CSS alone reveals them, and everything the edge
/// personalized shows at once. Empty when the text is not the snippet's own form (the
/// style then hides nothing).
pub fn hiding_style_for_pending(css: &str) -> String {
    let prefix = format!("html:not(.{READY_CLASS})");
    let Some(at) = css.find(&prefix) else {
        return String::new();
    };
    let list_start = css.len() - css[at + prefix.len()..].trim_start().len();
    if !css[list_start..].starts_with(":is(") {
        return String::new();
    }
    // The `:is(…)` list, parentheses inside it included, but not those in a quoted
    // attribute value (`[aria-label="Offers :)"]`) or escaped (`#a\)`).
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (offset, c) in css[list_start..].char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, c) {
            (_, '\\') => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q => {
                quote = None;
                continue;
            }
            (Some(_), _) => continue,
            (None, '"' | '\'') => {
                quote = Some(c);
                continue;
            }
            _ => {}
        }
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    let end = list_start + offset + 1;
                    return format!(
                        "{}{prefix} [{PENDING_ATTRIBUTE}]{}",
                        &css[..at],
                        &css[end..]
                    );
                }
            }
            _ => {}
        }
    }
    String::new()
}

/// The `<style>`, `<link rel=modulepreload>` and `<script type=module>` elements.
pub fn head_snippet(config: &LoadedConfig, options: &SnippetOptions<'_>) -> String {
    let selectors: Vec<String> = config
        .slot_selectors()
        .map(|(_, selector)| css_in_style(selector))
        .collect();
    let base = options.base_url.trim_end_matches('/');
    format!(
        "<!-- edge-persona: hides only the personalized slots while the module runs; CSS alone lifts it after {budget} ms. -->\n\
         <style id=\"{HIDING_STYLE_ID}\">@keyframes ep-reveal{{to{{visibility:visible}}}}html:not(.{READY_CLASS}) :is({list}){{visibility:hidden;animation:ep-reveal 0s {budget}ms forwards!important}}</style>\n\
         <link rel=\"modulepreload\" href=\"{base}/edge-persona.js\">\n\
         <link rel=\"modulepreload\" href=\"{base}/edge_persona.js\">\n\
         <link rel=\"preload\" as=\"fetch\" crossorigin href=\"{base}/edge_persona_bg.wasm\">\n\
         <link rel=\"preload\" as=\"fetch\" crossorigin href=\"{config}\">\n\
         <script type=\"module\" src=\"{base}/loader.js\" data-config=\"{config}\"></script>\n",
        budget = options.budget_ms,
        list = selectors.join(","),
        base = escape_html(base),
        config = escape_html(options.config_url),
    )
}

/// A selector made safe inside `<style>`: `<` is written as the CSS escape `\3c `,
/// so no selector text can close the element.
fn css_in_style(selector: &str) -> String {
    selector.replace('<', "\\3c ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::load;
    use crate::core::pattern::default_engine;

    fn config(slots: &str) -> LoadedConfig {
        let json = format!(r#"{{"version": 1, "slots": {slots}}}"#);
        load(&json, default_engine()).expect("valid config")
    }

    #[test]
    fn lists_every_slot_selector_with_the_budget() {
        let loaded = config(r##"{"hero": {}, "offers": {"selector": "#offers"}}"##);
        let snippet = head_snippet(
            &loaded,
            &SnippetOptions {
                budget_ms: 250,
                base_url: "/ep/",
                config_url: "/config.json",
            },
        );
        assert!(snippet.contains(r#":is([data-ep-slot="hero"],#offers){visibility:hidden;animation:ep-reveal 0s 250ms forwards!important}"#));
        assert!(snippet.contains(
            r#"<script type="module" src="/ep/loader.js" data-config="/config.json"></script>"#
        ));
        assert!(snippet.contains(r#"<link rel="modulepreload" href="/ep/edge-persona.js">"#));
    }

    #[test]
    fn the_hiding_style_narrows_to_pending_elements() {
        let loaded = config(r##"{"hero": {}, "odd": {"selector": "li:not(.a)"}}"##);
        let options = SnippetOptions {
            budget_ms: 250,
            base_url: "/ep/",
            config_url: "/config.json",
        };
        let snippet = head_snippet(&loaded, &options);
        let css = snippet
            .split_once("<style id=\"ep-hide\">")
            .and_then(|(_, rest)| rest.split_once("</style>"))
            .map(|(css, _)| css)
            .expect("the hiding style");
        assert_eq!(
            hiding_style_for_pending(css),
            "@keyframes ep-reveal{to{visibility:visible}}html:not(.ep-ready) [data-ep-pending]{visibility:hidden;animation:ep-reveal 0s 250ms forwards!important}"
        );
        // Parentheses in a quoted or escaped selector do not end the list.
        let quoted =
            r#"html:not(.ep-ready) :is([aria-label="Offers :)"],#a\),.b){visibility:hidden}"#;
        assert_eq!(
            hiding_style_for_pending(quoted),
            "html:not(.ep-ready) [data-ep-pending]{visibility:hidden}"
        );
        // Not the snippet's form: nothing stays hidden.
        assert_eq!(hiding_style_for_pending(".hero{visibility:hidden}"), "");
        assert_eq!(hiding_style_for_pending("html:not(.ep-ready) :is(.a"), "");
    }

    #[test]
    fn nothing_can_close_the_style_or_an_attribute() {
        // Config validation already refuses `<` in selectors; the snippet does not
        // rely on it.
        assert_eq!(css_in_style("[title='</style>']"), "[title='\\3c /style>']");
        let loaded = config(r#"{"x": {"selector": "[title='a b']"}}"#);
        let snippet = head_snippet(
            &loaded,
            &SnippetOptions {
                budget_ms: 300,
                base_url: "/ep\"><script>",
                config_url: "/c.json\" onload=\"x",
            },
        );
        assert_eq!(snippet.matches("</style>").count(), 1);
        assert_eq!(snippet.matches("<script").count(), 1);
        assert!(!snippet.contains("\" onload="));
    }
}
