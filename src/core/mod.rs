//! The platform-independent decision engine.
//!
//! Entry points: [`engine::Engine`] (load a config, run a page view) and
//! [`journey`] (scripted visitor journeys, shared by the CLI and every platform's
//! tests). Nothing here depends on wasm-bindgen, web-sys or js-sys: the same inputs
//! give the same decision natively, in the browser and at the edge.
#![forbid(unsafe_code)]

pub mod attributes;
pub mod bucketing;
pub mod classify;
pub mod condition;
pub mod config;
pub mod consent;
pub mod context;
pub mod cookies;
pub mod decide;
pub mod decimal;
pub mod engine;
pub mod html;
pub mod journey;
pub mod links;
pub mod lowercase;
pub mod order;
pub mod pattern;
pub mod plan;
pub mod profile;
pub mod snippet;
pub mod template;
pub mod value_de;
