//! `$regex` conditions through the browser's own `RegExp`, so the browser build
//! matches GrowthBook's JS SDK exactly and carries no Rust regex engine.

use crate::core::pattern::{Pattern, PatternEngine};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// JavaScript's `RegExp`.
    #[wasm_bindgen(js_name = RegExp)]
    type JsRegExp;

    /// `new RegExp(source, flags)`; a syntax error comes back as `Err`, not a trap.
    #[wasm_bindgen(constructor, catch, js_class = "RegExp")]
    fn new(source: &str, flags: &str) -> Result<JsRegExp, JsValue>;

    /// `RegExp.prototype.test`.
    #[wasm_bindgen(method)]
    fn test(this: &JsRegExp, text: &str) -> bool;
}

/// Compiles patterns with the page's `RegExp`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsPatternEngine;

struct JsPattern(JsRegExp);

impl Pattern for JsPattern {
    fn is_match(&self, text: &str) -> bool {
        self.0.test(text)
    }
}

impl PatternEngine for JsPatternEngine {
    fn compile(&self, pattern: &str, case_insensitive: bool) -> Result<Rc<dyn Pattern>, String> {
        let flags = if case_insensitive { "i" } else { "" };
        match JsRegExp::new(pattern, flags) {
            Ok(regex) => Ok(Rc::new(JsPattern(regex))),
            Err(error) => Err(error
                .as_string()
                .unwrap_or_else(|| "not a valid JavaScript regular expression".to_string())),
        }
    }
}
