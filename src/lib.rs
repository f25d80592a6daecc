//! # edge-persona
//!
//! Privacy-first personalization for landing pages. The decision engine lives in
//! [`core`]: plain Rust with no browser or edge dependencies, so the same inputs give
//! the same decision natively, in the browser and at the edge.
// wasm-bindgen's generated glue needs `unsafe`; everything of ours forbids it
// (`core` and `browser` say so themselves).
#![cfg_attr(
    not(any(feature = "browser", feature = "cloudflare")),
    forbid(unsafe_code)
)]

/// The browser build's allocator: Talc instead of Rust's default for wasm32
/// (dlmalloc), which is 6 KB smaller there at the same speed (BENCHMARKS.md). The
/// module is single-threaded, which is what `WasmDynamicTalc` is for.
#[cfg(all(
    feature = "browser",
    target_family = "wasm",
    not(target_feature = "atomics")
))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(feature = "browser")]
pub mod browser;
#[cfg(feature = "cloudflare")]
pub mod cloudflare;
pub mod core;
#[cfg(feature = "edge")]
pub mod edge;
#[cfg(feature = "schema")]
pub mod schema_doc;

/// The config's JSON Schema (generated from the Rust types), pretty-printed.
#[cfg(feature = "schema")]
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(core::config::SiteConfig);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

/// The config reference in Markdown (`docs/CONFIG.md`), generated from the schema.
#[cfg(feature = "schema")]
pub fn config_reference_markdown() -> String {
    let schema = schemars::schema_for!(core::config::SiteConfig);
    schema_doc::markdown(&serde_json::to_value(&schema).unwrap_or_default())
}
