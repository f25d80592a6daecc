//! The demo pages carry the head snippet that `edge-persona snippet` generates for the
//! demo config: a slot added to the config but not to the snippet would flicker.

use edge_persona::core::config::load;
use edge_persona::core::pattern::default_engine;
use edge_persona::core::snippet::{head_snippet, SnippetOptions};

#[test]
fn demo_pages_hide_exactly_the_configs_slots() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/www/demo");
    let config = std::fs::read_to_string(format!("{root}/config.json")).expect("demo config");
    let loaded = load(&config, default_engine()).expect("the demo config is valid");
    let snippet = head_snippet(
        &loaded,
        &SnippetOptions {
            budget_ms: 300,
            base_url: "/ep/",
            config_url: "/config.json",
        },
    );
    // The style and the preloads (the loader's own tag carries page-specific
    // attributes, e.g. data-debug-allowed).
    let wanted: Vec<&str> = snippet
        .lines()
        .filter(|l| l.starts_with("<style id=\"ep-hide\">") || l.starts_with("<link "))
        .collect();
    assert_eq!(wanted.len(), 5, "a style and four preloads: {snippet}");
    let mut pages = 0;
    for entry in std::fs::read_dir(root).expect("www/demo") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "html") {
            let html = std::fs::read_to_string(&path).expect("page");
            for line in &wanted {
                assert!(
                    html.contains(line),
                    "{} does not carry the generated snippet's\n{line}\n(regenerate with `cargo run --features cli -- snippet www/demo/config.json`)",
                    path.display()
                );
            }
            pages += 1;
        }
    }
    assert!(pages >= 3, "expected the demo pages, found {pages}");
}
