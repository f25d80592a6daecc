//! The three swaps of the edge benches (`benches/edge/config.mjs` `SWAPS`) done by
//! lol-html alone in wasm, driven from JavaScript chunk by chunk as our engine is:
//! what our full path would cost with no decision, no hand-off and no
//! whole-or-nothing slots.

use lol_html::html_content::ContentType;
use lol_html::{element, HtmlRewriter, Settings};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Where lol-html writes: the page's output so far.
type Sink = Box<dyn FnMut(&[u8])>;

/// One page's rewriter.
#[wasm_bindgen]
pub struct ThreeSwaps {
    rewriter: Option<HtmlRewriter<'static, Sink>>,
    output: Rc<RefCell<Vec<u8>>>,
}

#[wasm_bindgen]
impl ThreeSwaps {
    #[wasm_bindgen(constructor)]
    pub fn new(headline_html: String, footer_text: String, nav_text: String) -> ThreeSwaps {
        let output = Rc::new(RefCell::new(Vec::new()));
        let sink = output.clone();
        let settings = Settings::new()
            .append_element_content_handler(element!("h1", move |el| {
                el.set_inner_content(&headline_html, ContentType::Html);
                el.set_attribute("data-ep-applied", "headline-new")?;
                Ok(())
            }))
            .append_element_content_handler(element!("footer", move |el| {
                el.set_inner_content(&footer_text, ContentType::Text);
                el.set_attribute("data-ep-applied", "footer-text")?;
                Ok(())
            }))
            .append_element_content_handler(element!("nav", move |el| {
                el.set_inner_content(&nav_text, ContentType::Text);
                el.set_attribute("data-ep-applied", "by-name")?;
                Ok(())
            }));
        let write: Sink = Box::new(move |c: &[u8]| sink.borrow_mut().extend_from_slice(c));
        ThreeSwaps {
            rewriter: Some(HtmlRewriter::new(settings, write)),
            output,
        }
    }

    /// Rewrites one chunk; returns the output so far.
    pub fn write(&mut self, chunk: &[u8]) -> Vec<u8> {
        if let Some(rewriter) = &mut self.rewriter {
            let _ = rewriter.write(chunk);
        }
        std::mem::take(&mut self.output.borrow_mut())
    }

    /// Ends the page; returns the rest.
    pub fn end(&mut self) -> Vec<u8> {
        if let Some(rewriter) = self.rewriter.take() {
            let _ = rewriter.end();
        }
        std::mem::take(&mut self.output.borrow_mut())
    }
}
