//! Streaming rewriting of the origin's HTML with lol-html.
//!
//! Every slot and greeting is swapped *whole or not at all*. Its new content is
//! written by lol-html between markers that only this response knows (a random
//! nonce per response), and the bytes from the slot's start tag to its end tag are
//! held back until the slot is complete; then the [`Splicer`] keeps either the new
//! content or the default and drops the markers. So:
//! - a slot whose variant is a `<template data-ep-variant>` *later* in the page is
//!   held until that template has streamed past (bounded by
//!   [`RewriteLimits::hold_bytes`]; past it, the slot keeps its default and the
//!   stream flows again);
//! - a rewriter that bails out in the middle of a slot (memory limit) leaves that
//!   slot's default intact, and lol-html's graceful bail-out passes every input byte
//!   on, so a response is never truncated;
//! - elements inside `<template>` are never touched (as in the browser, where
//!   template content is inert and `querySelectorAll` does not see it).
//!
//! Outside held slots, output leaves as soon as lol-html produces it.

use crate::core::config::Content;
use crate::core::html::escape_html;
use crate::core::plan::{PagePlan, APPLIED_ATTRIBUTE, ORIGINAL_ATTRIBUTES};
use crate::core::snippet::{
    hiding_style_for_pending, HIDING_STYLE_SELECTOR, PENDING_ATTRIBUTE, RUNTIME_MARKERS,
};
use crate::edge::handoff::marked_cut;
use crate::edge::response::{charset_parameter, PageCharset};
use lol_html::errors::RewritingError;
use lol_html::html_content::{ContentType, DocumentEnd, Element, TextChunk};
use lol_html::{
    AsciiCompatibleEncoding, DocumentContentHandlers, ElementContentHandlers, HtmlRewriter,
    MemorySettings, OutputSink, Selector, Settings,
};
use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

/// Memory bounds of one response.
#[derive(Debug, Clone, Copy)]
pub struct RewriteLimits {
    /// lol-html's parsing buffer (one unfinished tag or comment). Past it, the
    /// rewriter bails out and the rest of the page passes through untouched.
    pub parser_bytes: usize,
    /// Output held back while slots are incomplete or wait for a later
    /// `<template>`, and the size of one captured template. Past it, the waiting
    /// slots keep their defaults and the stream flows again.
    pub hold_bytes: usize,
}

impl Default for RewriteLimits {
    fn default() -> Self {
        RewriteLimits {
            parser_bytes: 256 * 1024,
            hold_bytes: 512 * 1024,
        }
    }
}

/// Markup that the edge adds to the page besides slot contents.
#[derive(Debug, Clone, Default)]
pub struct Insertions {
    /// The hand-off element.
    pub handoff: Option<String>,
    /// Popup contents as `<template data-ep-popup>` elements, appended to `<body>`.
    pub popups: Vec<String>,
    /// The slots whose default content is sent along when the edge replaces it
    /// (`keepDefault` in the config), as `<template data-ep-default>` elements.
    pub default_slots: Vec<String>,
    /// Narrow the head snippet's hiding style to the slots left to the runtime
    /// ([`hiding_style_for_pending`]); false where the page's CSP allows the style by
    /// its hash, which other text would break.
    pub narrow_hiding_style: bool,
}

/// The largest default content sent along for one slot element; a larger one is
/// not sent (the page would carry it twice).
const MAX_KEPT_DEFAULT: usize = 64 * 1024;

/// Elements whose content the parser reads as text: their default would read back
/// differently inside a `<template>`, so it is not sent.
const TEXT_CONTENT_ELEMENTS: [&str; 10] = crate::core::html::TEXT_PARSING;

/// One response's rewriter: write the origin's chunks, take what comes out.
pub struct StreamRewriter {
    rewriter: Option<HtmlRewriter<'static, SplicerSink>>,
    splicer: Rc<RefCell<Splicer>>,
    /// The hand-off and popups until they are written.
    closing: Rc<RefCell<Option<Insertions>>>,
    failure: Option<String>,
    /// The page's first bytes, until they tell whether it starts with a byte-order
    /// mark (which browsers obey over any charset); then `None`.
    start: Option<Vec<u8>>,
    /// The encoding rewriting starts in.
    encoding: &'static encoding_rs::Encoding,
    /// The page is in an encoding nothing ASCII may be added to (UTF-16).
    not_ascii_compatible: bool,
}

impl std::fmt::Debug for StreamRewriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamRewriter")
            .field("running", &self.rewriter.is_some())
            .field("failure", &self.failure)
            .finish()
    }
}

/// Why lol-html cannot run `selector`, if it cannot (pseudo-classes like `:has`,
/// sibling combinators, …). Config validation asks, so such selectors never reach a
/// request.
pub fn unsupported_selector(selector: &str) -> Option<String> {
    selector.parse::<Selector>().err().map(|error| {
        if selector_is_broken(&error) {
            format!(
                "the selector {selector:?} does not parse ({error}): browsers refuse it \
                 too, and the slot would keep its default everywhere"
            )
        } else {
            format!(
                "the selector {selector:?} cannot run in the edge's streaming rewriter \
                 ({error}); use tag, #id, .class and [attribute] selectors with descendant \
                 or child combinators"
            )
        }
    })
}

/// Whether lol-html's error means the selector is broken CSS (it ends too soon, is
/// empty, a combinator or an attribute name is missing), which no browser runs
/// either, rather than CSS it does not support.
pub fn selector_is_broken(error: &lol_html::errors::SelectorError) -> bool {
    use lol_html::errors::SelectorError as E;
    matches!(
        error,
        E::UnexpectedEnd | E::EmptySelector | E::DanglingCombinator | E::MissingAttributeName
    )
}

/// The config's selectors that are broken CSS (see [`selector_is_broken`]), each
/// with its message.
pub fn broken_selector(selector: &str) -> Option<String> {
    selector
        .parse::<Selector>()
        .err()
        .filter(selector_is_broken)
        .and_then(|_| unsupported_selector(selector))
}

/// Selectors parsed once per config (parsing them is a good part of the cost of
/// setting up a rewriter); any other selector is parsed when a rewriter needs it.
#[derive(Debug, Default)]
pub struct ParsedSelectors(std::collections::HashMap<String, Selector>);

/// The selectors every rewriter uses besides the config's (and [`RUNTIME_MARKERS`]).
const FIXED_SELECTORS: [&str; 3] = ["template", "html", "body"];

impl ParsedSelectors {
    /// Parses `selectors` (and the fixed ones); those that do not parse are left out
    /// (config validation reports them).
    pub fn new<'s>(selectors: impl IntoIterator<Item = &'s str>) -> ParsedSelectors {
        ParsedSelectors(
            selectors
                .into_iter()
                .chain(FIXED_SELECTORS)
                .chain(RUNTIME_MARKERS)
                .filter_map(|s| Some((s.to_string(), s.parse::<Selector>().ok()?)))
                .collect(),
        )
    }

    fn get(&self, selector: &str) -> Result<Cow<'_, Selector>, String> {
        match self.0.get(selector) {
            Some(parsed) => Ok(Cow::Borrowed(parsed)),
            None => selector
                .parse::<Selector>()
                .map(Cow::Owned)
                .map_err(|e| e.to_string()),
        }
    }
}

/// The page's later changes (greetings, attribute changes) for markup the stream
/// inserts: the browser applies them to the content it swaps in, and the streaming
/// rewriter never matches what it inserted itself, so that markup gets them first.
/// A selector is matched within the markup alone (one that needs an ancestor outside
/// it matches nothing there); markup lol-html cannot read goes in as written.
#[derive(Debug)]
struct ChangesInside(Vec<(Selector, InsideChange)>);

/// One change [`ChangesInside`] makes.
#[derive(Debug)]
enum InsideChange {
    /// A greeting: its text, and its id as the applied marker.
    Text { id: String, text: String },
    /// An attribute change (the value escaped as written into the page).
    Attribute { name: String, value: String },
}

impl ChangesInside {
    /// The plan's greetings, and the attribute changes of the experiences it shows.
    fn of(plan: &PagePlan, selectors: &ParsedSelectors) -> ChangesInside {
        let shown = |experience: &Option<String>| {
            experience.is_none() || plan.slots.iter().any(|slot| slot.experience == *experience)
        };
        let greetings = plan.greetings.iter().map(|greeting| {
            let change = InsideChange::Text {
                id: greeting.greeting.clone(),
                text: greeting.text.clone(),
            };
            (&greeting.selector, change)
        });
        let attributes = plan
            .attributes
            .iter()
            .filter(|change| shown(&change.experience));
        let attributes = attributes.map(|change| {
            let value = change.value.replace('&', "&amp;");
            let change_made = InsideChange::Attribute {
                name: change.attribute.clone(),
                value,
            };
            (&change.selector, change_made)
        });
        ChangesInside(
            greetings
                .chain(attributes)
                .filter_map(|(selector, change)| {
                    Some((selectors.get(selector).ok()?.into_owned(), change))
                })
                .collect(),
        )
    }

    /// `markup` (in `encoding`) with the changes made; `None` if lol-html refused it.
    fn apply(&self, markup: &[u8], encoding: AsciiCompatibleEncoding) -> Option<Vec<u8>> {
        let mut settings = Settings::new().with_encoding(encoding);
        for (selector, change) in &self.0 {
            let handler = ElementContentHandlers::default().element(move |el: &mut Element| {
                match change {
                    InsideChange::Text { id, text } if el.can_have_content() => {
                        el.set_inner_content(text, ContentType::Text);
                        el.set_attribute(APPLIED_ATTRIBUTE, id)?;
                    }
                    InsideChange::Text { .. } => {}
                    InsideChange::Attribute { name, value } => {
                        keep_original_attribute(el, name);
                        el.set_attribute(name, value)?;
                    }
                }
                Ok(())
            });
            settings = settings.append_element_content_handler((Cow::Borrowed(selector), handler));
        }
        let mut out = Vec::with_capacity(markup.len());
        let mut rewriter = HtmlRewriter::new(settings, |chunk: &[u8]| out.extend_from_slice(chunk));
        rewriter.write(markup).ok()?;
        rewriter.end().ok()?;
        Some(out)
    }
}

/// The plan with [`ChangesInside`] made in the markup its slots get from the config.
pub fn with_changes_inside_content(mut plan: PagePlan, selectors: &ParsedSelectors) -> PagePlan {
    let changes = ChangesInside::of(&plan, selectors);
    if changes.0.is_empty() {
        return plan;
    }
    for slot in &mut plan.slots {
        let Some(html) = slot.content.as_mut().and_then(|c| c.html.as_mut()) else {
            continue;
        };
        if !html.contains('<') {
            continue;
        }
        let changed = changes
            .apply(html.as_bytes(), AsciiCompatibleEncoding::utf_8())
            .and_then(|bytes| String::from_utf8(bytes).ok());
        if let Some(changed) = changed {
            *html = changed;
        }
    }
    plan
}

impl StreamRewriter {
    /// A rewriter that applies `plan` to a page in `charset` (switched by a
    /// `<meta charset>` in the page when the header named none). `nonce` makes this
    /// response's markers unguessable (random bits from the platform).
    ///
    /// # Errors
    /// A charset that is not ASCII-compatible (see [`crate::edge::response::rewritable`]).
    pub fn new(
        plan: &PagePlan,
        insertions: Insertions,
        selectors: &ParsedSelectors,
        charset: PageCharset,
        limits: RewriteLimits,
        nonce: u64,
    ) -> Result<StreamRewriter, String> {
        let encoding = AsciiCompatibleEncoding::new(charset.encoding).ok_or_else(|| {
            format!(
                "the charset {} is not ASCII-compatible",
                charset.encoding.name()
            )
        })?;
        let wanted_templates: Vec<String> = plan
            .slots
            .iter()
            .filter_map(|s| s.content.as_ref()?.template.clone())
            .collect();
        let mut splicer = Splicer::new(nonce, limits.hold_bytes, wanted_templates);
        if !splicer.templates.is_empty() {
            let changes_inside = ChangesInside::of(plan, selectors);
            if !changes_inside.0.is_empty() {
                splicer.changes_inside = Some((changes_inside, encoding));
            }
        }
        let splicer = Rc::new(RefCell::new(splicer));
        let mut failure = None;
        // Filled once the handlers are set: they use it only while the page streams.
        let closing = Rc::new(RefCell::new(None));
        let settings = build_settings(
            plan,
            &insertions,
            &closing,
            selectors,
            &splicer,
            limits,
            !charset.declared,
            &mut failure,
        )
        .with_encoding(encoding)
        // What the edge inserts is then written in the page's own encoding.
        .with_adjust_charset_on_meta_tag(!charset.declared);
        *closing.borrow_mut() = Some(insertions);
        Ok(StreamRewriter {
            rewriter: Some(HtmlRewriter::new(settings, SplicerSink(splicer.clone()))),
            splicer,
            closing,
            failure,
            start: Some(Vec::new()),
            encoding: charset.encoding,
            not_ascii_compatible: false,
        })
    }

    /// Rewrites one chunk of the origin's body and returns what may be sent now
    /// (possibly nothing, while a slot is held).
    pub fn write(&mut self, chunk: &[u8]) -> Vec<u8> {
        let Some(start) = &mut self.start else {
            return self.rewrite(chunk);
        };
        // Most pages: the first chunk alone tells, and goes on without a copy.
        if start.is_empty() {
            if let Some(mark) = byte_order_mark(chunk, false) {
                self.start = None;
                self.obey(mark);
                return self.rewrite(chunk);
            }
        }
        start.extend_from_slice(chunk);
        match byte_order_mark(start, false) {
            Some(mark) => {
                let start = self.start.take().unwrap_or_default();
                self.obey(mark);
                self.rewrite(&start)
            }
            None => Vec::new(),
        }
    }

    /// A byte-order mark decides the page's encoding in a browser, whatever the
    /// charset says: one that disagrees with the encoding rewriting started in
    /// stops it before anything was changed, and the page passes through.
    fn obey(&mut self, mark: Option<&'static encoding_rs::Encoding>) {
        if mark == Some(encoding_rs::UTF_8) {
            self.splicer.borrow_mut().utf8_by_mark = true;
        }
        let Some(encoding) = mark.filter(|&e| e != self.encoding) else {
            return;
        };
        self.not_ascii_compatible = !encoding.is_ascii_compatible();
        self.rewriter = None;
        self.failure = Some(format!(
            "the page starts with a {} byte-order mark, which browsers obey over its charset ({}): it passes through",
            encoding.name(),
            self.encoding.name()
        ));
    }

    fn rewrite(&mut self, chunk: &[u8]) -> Vec<u8> {
        match &mut self.rewriter {
            Some(rewriter) => {
                // Room for what this chunk gives, so lol-html's many small pieces do
                // not regrow the output from empty on every chunk.
                self.splicer.borrow_mut().ready.reserve(chunk.len() + 256);
                if let Err(error) = rewriter.write(chunk) {
                    self.fail(&error);
                }
            }
            None => self.splicer.borrow_mut().ready.extend_from_slice(chunk),
        }
        std::mem::take(&mut self.splicer.borrow_mut().ready)
    }

    /// Ends the body and returns the rest of the output.
    pub fn end(&mut self) -> Vec<u8> {
        // A page of fewer bytes than a byte-order mark.
        let mut out = match self.start.take() {
            Some(start) => {
                self.obey(byte_order_mark(&start, true).flatten());
                self.rewrite(&start)
            }
            None => Vec::new(),
        };
        out.extend(self.finish());
        out
    }

    fn finish(&mut self) -> Vec<u8> {
        if let Some(rewriter) = self.rewriter.take() {
            if let Err(error) = rewriter.end() {
                self.fail(&error);
            }
        }
        self.splicer.borrow_mut().settle_all();
        if self.failure.is_some() && !self.not_ascii_compatible {
            // Rewriting stopped early and the rest passed through: the hand-off still
            // goes at the very end (a browser parses it into <body>), or the page's
            // runtime would decide and count this page view again, marked cut so that
            // the runtime leaves the slots the edge did not reach as they showed.
            // Popups are left out: their markup would not be in the page's encoding.
            let handoff = closing_markup(&self.closing, &self.splicer, false);
            if let Some(handoff) = handoff.as_deref().map(marked_cut) {
                self.splicer
                    .borrow_mut()
                    .ready
                    .extend_from_slice(handoff.as_bytes());
            }
        }
        std::mem::take(&mut self.splicer.borrow_mut().ready)
    }

    /// Why rewriting stopped early, if it did (the rest of the page passed through
    /// untouched).
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// lol-html has already passed every input byte to the sink (graceful
    /// bail-out); held slots keep their defaults and the rewriter is never used again.
    fn fail(&mut self, error: &RewritingError) {
        self.rewriter = None;
        self.failure = Some(format!(
            "rewriting stopped, the rest passes through: {error}"
        ));
        self.splicer.borrow_mut().settle_all();
    }
}

type Handlers = ElementContentHandlers<'static>;

/// What a page's first bytes say about a byte-order mark: `Some(Some(encoding))` one
/// (UTF-8, UTF-16LE or UTF-16BE), `Some(None)` none, `None` too few bytes yet to
/// tell (unless `at_end`).
fn byte_order_mark(start: &[u8], at_end: bool) -> Option<Option<&'static encoding_rs::Encoding>> {
    if let Some((encoding, _)) = encoding_rs::Encoding::for_bom(start) {
        return Some(Some(encoding));
    }
    let may_become_one = [&b"\xEF\xBB\xBF"[..], b"\xFE\xFF", b"\xFF\xFE"]
        .iter()
        .any(|mark| start.len() < mark.len() && mark.starts_with(start));
    (at_end || !may_become_one).then_some(None)
}

/// The encoding a `<meta>` names, as lol-html reads it to switch: `charset`, else
/// `http-equiv="Content-Type"` with a charset in `content`; ASCII-compatible only.
fn meta_charset(el: &Element) -> Option<&'static encoding_rs::Encoding> {
    let encoding = |label: &str| {
        encoding_rs::Encoding::for_label_no_replacement(label.as_bytes())
            .filter(|e| e.is_ascii_compatible())
    };
    el.get_attribute("charset")
        .and_then(|label| encoding(&label))
        .or_else(|| {
            let http_equiv = el.get_attribute("http-equiv")?;
            if !http_equiv.eq_ignore_ascii_case("Content-Type") {
                return None;
            }
            let content = el.get_attribute("content")?;
            encoding(charset_parameter(content.split(';').skip(1))?)
        })
}

#[allow(clippy::too_many_arguments)]
fn build_settings<'s>(
    plan: &PagePlan,
    insertions: &Insertions,
    closing: &Rc<RefCell<Option<Insertions>>>,
    selectors: &'s ParsedSelectors,
    splicer: &Rc<RefCell<Splicer>>,
    limits: RewriteLimits,
    follows_meta_charset: bool,
    failure: &mut Option<String>,
) -> Settings<'static, 's> {
    let mut handlers: Vec<(Cow<'s, Selector>, Handlers)> = Vec::new();
    let mut add = |what: &str, selector: &str, handler: Handlers| match selectors.get(selector) {
        Ok(selector) => handlers.push((selector, handler)),
        // Config validation refuses these; a plan that still has one skips it.
        Err(error) => *failure = Some(format!("{what}: selector {selector:?}: {error}")),
    };

    // Where the header names no charset, lol-html switches to the one the page's
    // first `<meta>` names: the markup captured for changes inside a template is
    // then rewritten in that one too.
    // A UTF-8 byte-order mark outranks that `<meta>` in the browser, but not in
    // lol-html: rewriting stops there, and the rest passes through as it is.
    if follows_meta_charset {
        let s = splicer.clone();
        let mut found = false;
        add(
            "meta charset",
            "meta",
            ElementContentHandlers::default().element(move |el: &mut Element| {
                let Some(encoding) = meta_charset(el).filter(|_| !found) else {
                    return Ok(());
                };
                found = true;
                let mut splicer = s.borrow_mut();
                if splicer.utf8_by_mark && encoding != encoding_rs::UTF_8 {
                    return Err(
                        "the page's UTF-8 byte-order mark outranks its <meta charset>, \
                                which rewriting would follow"
                            .into(),
                    );
                }
                if let Some((_, current)) = &mut splicer.changes_inside {
                    *current = AsciiCompatibleEncoding::new(encoding).unwrap_or(*current);
                }
                Ok(())
            }),
        );
    }

    // First, so that every later handler knows whether it is inside a template.
    let s = splicer.clone();
    add(
        "templates",
        "template",
        ElementContentHandlers::default().element(move |el: &mut Element| {
            // `<svg><template/>`: foreign content, no content and no end tag to wait for.
            if !el.can_have_content() {
                return Ok(());
            }
            let capture = {
                let mut splicer = s.borrow_mut();
                splicer.template_depth += 1;
                let name = el.get_attribute("data-ep-variant");
                name.and_then(|n| splicer.start_capture(&n))
            };
            if let Some((open, close)) = capture {
                el.prepend(&open, ContentType::Html);
                el.append(&close, ContentType::Html);
            }
            let s = s.clone();
            el.on_end_tag(Box::new(move |_| {
                let mut splicer = s.borrow_mut();
                splicer.template_depth = splicer.template_depth.saturating_sub(1);
                Ok(())
            }))
        }),
    );

    // Slots with content and greetings (text) are swapped the same way.
    let slots = plan.slots.iter().filter_map(|slot| {
        let what = format!("slot {:?}", slot.slot);
        Some((
            what,
            &slot.slot,
            &slot.selector,
            slot.key.clone()?,
            slot.content.clone()?,
        ))
    });
    let greetings = plan.greetings.iter().map(|greeting| {
        let content = Content {
            text: Some(greeting.text.clone()),
            ..Content::default()
        };
        let what = format!("greeting {:?}", greeting.greeting);
        let key = greeting.greeting.clone();
        (what, &greeting.slot, &greeting.selector, key, content)
    });
    for (what, slot, selector, key, content) in slots.chain(greetings) {
        let s = splicer.clone();
        let keeps_default = insertions
            .default_slots
            .contains(slot)
            .then(|| (slot.clone(), key.clone()));
        add(
            &what,
            selector,
            ElementContentHandlers::default().element(move |el: &mut Element| {
                swap(el, &s, &key, &content, keeps_default.clone());
                Ok(())
            }),
        );
    }
    for change in &plan.attributes {
        let (name, value) = (change.attribute.clone(), change.value.clone());
        let s = splicer.clone();
        add(
            &format!("attribute {name:?}"),
            &change.selector,
            ElementContentHandlers::default().element(move |el: &mut Element| {
                if s.borrow().template_depth == 0 {
                    keep_original_attribute(el, &name);
                    // lol-html escapes only `"` in values; `&` is escaped here so the
                    // browser reads back exactly `value`.
                    if el
                        .set_attribute(&name, &value.replace('&', "&amp;"))
                        .is_ok()
                    {
                        let mut s = s.borrow_mut();
                        let Splicer {
                            changes,
                            slots,
                            parsing_inside,
                            ..
                        } = &mut *s;
                        *changes += 1;
                        // The slots around it no longer hold the page's own default.
                        for &n in parsing_inside.iter() {
                            if let Some(slot) = slots.get_mut(n) {
                                slot.default_changed = true;
                            }
                        }
                    }
                }
                Ok(())
            }),
        );
    }
    // A page that runs the browser runtime gets the hand-off even if nothing on it
    // changed. It leaves the edge showing its decisions, so the head snippet's
    // hiding style (if the page has one) is narrowed to the slots the edge leaves to
    // the runtime (PENDING_ATTRIBUTE): everything else shows at once.
    for marker in RUNTIME_MARKERS {
        let s = splicer.clone();
        let mut handlers = ElementContentHandlers::default().element(move |_: &mut Element| {
            s.borrow_mut().runtime_on_page = true;
            Ok(())
        });
        if marker == HIDING_STYLE_SELECTOR && insertions.narrow_hiding_style {
            let mut css = String::new();
            let mut too_long = false;
            handlers = handlers.text(move |chunk: &mut TextChunk<'_>| {
                if too_long {
                    return Ok(());
                }
                css.push_str(chunk.as_str());
                if chunk.last_in_text_node() {
                    chunk.replace(
                        &hiding_style_for_pending(&std::mem::take(&mut css)),
                        ContentType::Html,
                    );
                } else if css.len() > MAX_HIDING_STYLE {
                    // Not the head snippet's: it goes out as the page wrote it, and
                    // what is held here stays bounded.
                    chunk.replace(&std::mem::take(&mut css), ContentType::Html);
                    too_long = true;
                } else {
                    chunk.remove();
                }
                Ok(())
            });
        }
        add("the browser runtime's elements", marker, handlers);
    }
    if !plan.classes.is_empty() {
        let classes = plan.classes.join(" ");
        let s = splicer.clone();
        add(
            "classes",
            "html",
            ElementContentHandlers::default().element(move |el: &mut Element| {
                s.borrow_mut().changes += 1;
                let joined = match el.get_attribute("class") {
                    Some(existing) if !existing.trim().is_empty() => {
                        format!("{} {classes}", existing.trim())
                    }
                    _ => classes.clone(),
                };
                let _ = el.set_attribute("class", &joined);
                Ok(())
            }),
        );
    }

    // The hand-off and the popups go at the end of <body> (else of the document),
    // and only when the page changed or runs the browser runtime: a page without
    // the runtime that none of the plan's selectors matched leaves the edge byte
    // for byte as it came.
    let (c, s) = (closing.clone(), splicer.clone());
    add(
        "body",
        "body",
        ElementContentHandlers::default().element(move |el: &mut Element| {
            let (c, s) = (c.clone(), s.clone());
            el.on_end_tag(Box::new(move |end| {
                if let Some(markup) = closing_markup(&c, &s, true) {
                    end.before(&markup, ContentType::Html);
                }
                Ok(())
            }))
        }),
    );
    let (c, s) = (closing.clone(), splicer.clone());
    let document_end = DocumentContentHandlers::default().end(move |end: &mut DocumentEnd<'_>| {
        if let Some(markup) = closing_markup(&c, &s, true) {
            end.append(&markup, ContentType::Html);
        }
        Ok(())
    });

    let mut settings = Settings::new()
        .with_memory_settings(
            MemorySettings::new()
                .with_max_allowed_memory_usage(limits.parser_bytes)
                .with_graceful_bail_out_on_memory_limit_exceeded(true),
        )
        // Non-strict: on markup whose parsing lol-html cannot decide without a tree
        // builder (`<select><xmp>…`), it goes on instead of stopping with an error
        // that could cost bytes. Selectors may then match differently from the
        // browser inside such markup; every byte not rewritten still passes as it came.
        .with_strict(false)
        .with_graceful_bail_out_on_content_handler_error(true)
        .append_document_content_handler(document_end);
    for handler in handlers {
        settings = settings.append_element_content_handler(handler);
    }
    settings
}

/// The longest `<style id="ep-hide">` text the edge narrows to the slots it leaves
/// to the runtime (the head snippet's is well under 1 KB).
const MAX_HIDING_STYLE: usize = 16 * 1024;

/// The longest attribute value the edge keeps beside the one it writes.
const MAX_KEPT_ATTRIBUTE: usize = 2048;

/// Keeps the page's own value of an attribute the edge is about to change, for the
/// browser runtime to put back when a later decision on the page (an SPA route,
/// `forget()`) no longer changes it: the names changed go in
/// [`ORIGINAL_ATTRIBUTES`], each original value in `data-ep-was-<name>` (none when the
/// element had no such attribute). Only the first change of an attribute keeps it. A
/// value over [`MAX_KEPT_ATTRIBUTE`] bytes (an inline `data:` image) is not kept: the
/// edge's value then stays, as it would without this.
/// lol-html hands over values as written in the page (entities undecoded) and escapes
/// only `"` when writing one, so the browser reads back the original value.
fn keep_original_attribute(el: &mut Element, name: &str) {
    let mut names = el.get_attribute(ORIGINAL_ATTRIBUTES).unwrap_or_default();
    if names.split_ascii_whitespace().any(|n| n == name) {
        return;
    }
    if let Some(original) = el.get_attribute(name) {
        if original.len() > MAX_KEPT_ATTRIBUTE {
            return;
        }
        let _ = el.set_attribute(&format!("{ORIGINAL_ATTRIBUTES}-{name}"), &original);
    }
    if !names.is_empty() {
        names.push(' ');
    }
    names.push_str(name);
    let _ = el.set_attribute(ORIGINAL_ATTRIBUTES, &names);
}

/// The hand-off (and, with `popups`, the popups and the kept defaults), once, if the
/// page changed or runs the browser runtime.
fn closing_markup(
    insertions: &RefCell<Option<Insertions>>,
    splicer: &RefCell<Splicer>,
    popups: bool,
) -> Option<String> {
    let mut splicer = splicer.borrow_mut();
    if splicer.changes == 0 && !splicer.runtime_on_page {
        return None;
    }
    let insertions = insertions.borrow_mut().take()?;
    let handoff = insertions.handoff.unwrap_or_default();
    Some(if popups {
        // The kept defaults are the page's own bytes: the splicer puts them where
        // this marker comes out, as they came (lol-html would encode text again).
        let defaults = if insertions.default_slots.is_empty() {
            String::new()
        } else {
            splicer.markers_in_flight += 1;
            splicer.comment('d', 0)
        };
        defaults + &insertions.popups.concat() + &handoff
    } else {
        handoff
    })
}

/// Puts a slot's or greeting's new content in front of its default, between this
/// response's markers; the [`Splicer`] keeps one of the two when the slot is done.
///
/// `keeps_default` (the slot's name and `key`): the default is kept aside and sent
/// along.
fn swap(
    el: &mut Element,
    splicer: &Rc<RefCell<Splicer>>,
    key: &str,
    content: &Content,
    keeps_default: Option<(String, String)>,
) {
    let mut s = splicer.borrow_mut();
    if s.template_depth > 0 || !el.can_have_content() {
        return;
    }
    // Inside <script>, <style> and their kind the page's text is read as it is, and
    // inside <title> and <textarea> markup is text: markup, or escaped text in the
    // former, would not read back as the browser's `textContent` puts it. Such a
    // slot is left as it is (the browser runtime, if the page has it, fills it).
    let tag = el.tag_name().to_ascii_lowercase();
    if TEXT_CONTENT_ELEMENTS.contains(&tag.as_str())
        && (content.text.is_none() || !matches!(tag.as_str(), "title" | "textarea"))
    {
        return;
    }
    let (template, inline) = match content {
        Content {
            template: Some(name),
            ..
        } => (s.template_index(name), String::new()),
        Content {
            html: Some(html), ..
        } => (None, html.clone()),
        Content {
            text: Some(text), ..
        } => (None, escape_html(text)),
        _ => return,
    };
    if content.template.is_some() && template.is_none() {
        return;
    }
    // A default travels as markup inside a <template>: only the content of an HTML
    // element that parses as markup reads back the same there (not the text of a
    // <title> or <textarea>, nor SVG or MathML content).
    let keeps_default = keeps_default.filter(|_| {
        el.namespace_uri() == "http://www.w3.org/1999/xhtml"
            && !TEXT_CONTENT_ELEMENTS.contains(&tag.as_str())
    });
    let n = s.open_slot(template, keeps_default);
    let markers = s.markers(n);
    // The marker follows the key in the attribute's value and goes away when the
    // slot is settled (with the whole attribute if the default stays).
    if el
        .set_attribute(APPLIED_ATTRIBUTE, &format!("{key}{}", markers.attribute))
        .is_err()
    {
        return;
    }
    s.markers_in_flight += 3;
    el.prepend(
        &format!("{}{inline}{}", markers.open, markers.middle),
        ContentType::Html,
    );
    s.hold_from_next_output = true;
    s.changes += 1;
    s.parsing_inside.push(n);
    drop(s);
    // lol-html ends an element at its own end tag, or, when the page leaves it out
    // (`<p>…<p>`, `<li>…<li>`, which HTML allows), only at an ancestor's end tag: all
    // that came between would be taken for the slot's default and replaced. A slot
    // that did not end with its own end tag keeps its default, and the page its
    // content.
    // The close marker goes in front of the end tag from its handler, not through
    // `el.append`: one end tag can end several elements (`<div><p>…</div>`), and
    // lol-html gives each its own `append`s by replacing the end tag's, so an inner
    // slot's close marker would be lost; handlers' insertions add up, innermost first.
    let splicer = splicer.clone();
    let close = markers.close;
    if let Some(handlers) = el.end_tag_handlers() {
        handlers.push(Box::new(move |end| {
            end.before(&close, ContentType::Html);
            let mut s = splicer.borrow_mut();
            if let Some(at) = s.parsing_inside.iter().rposition(|&m| m == n) {
                s.parsing_inside.remove(at);
            }
            if !end.name().eq_ignore_ascii_case(&tag) {
                if let Some(slot) = s.slots.get_mut(n) {
                    slot.failed = true;
                }
            }
            Ok(())
        }));
    }
}

struct Markers {
    open: String,
    middle: String,
    close: String,
    attribute: String,
}

/// A slot being swapped.
#[derive(Debug)]
struct HeldSlot {
    /// The captured template it shows, or `None` for inline content.
    template: Option<usize>,
    /// The slot's name and the key it shows, when its default content is sent along.
    keeps_default: Option<(String, String)>,
    /// An attribute change was made inside its default content: the default as it
    /// streamed is no longer the page's own, and is not sent.
    default_changed: bool,
    /// Its end marker has streamed past.
    closed: bool,
    /// It keeps its default (missing template, limits, bail-out).
    failed: bool,
}

/// A `<template data-ep-variant>` a slot needs.
#[derive(Debug)]
struct WantedTemplate {
    name: String,
    captured: Option<Vec<u8>>,
    /// Seen but too big to keep, or the capture was cut short.
    unusable: bool,
}

/// The output side: passes bytes on, holds them while slots are incomplete,
/// captures templates, and settles slots.
#[derive(Debug)]
struct Splicer {
    /// `<!--ep:<nonce>:`: the start of every comment marker.
    comment_prefix: Vec<u8>,
    /// Its searcher, built once (lol-html hands the output over in many small pieces).
    comment_finder: memchr::memmem::Finder<'static>,
    /// `ep:<nonce>:a`: the start of every attribute marker.
    attribute_prefix: Vec<u8>,
    ready: Vec<u8>,
    held: Option<Vec<u8>>,
    hold_from_next_output: bool,
    hold_limit: usize,
    slots: Vec<HeldSlot>,
    templates: Vec<WantedTemplate>,
    capturing: Option<(usize, Vec<u8>)>,
    /// What a captured template gets before it fills its slot (see [`ChangesInside`]),
    /// in the page's encoding.
    changes_inside: Option<(ChangesInside, AsciiCompatibleEncoding)>,
    /// The page starts with a UTF-8 byte-order mark: a `<meta>` naming another
    /// charset must not switch rewriting to it.
    utf8_by_mark: bool,
    template_depth: usize,
    /// Elements changed so far (slots, greetings, attributes, `<html>` classes).
    changes: usize,
    /// Whether one of [`RUNTIME_MARKERS`] has streamed past.
    runtime_on_page: bool,
    /// The slot whose new content is streaming (between its open and middle
    /// markers): the hold limit waits until it is complete, so a given-up slot never
    /// shows part of it.
    in_new_part: Option<usize>,
    /// A slot given up before its open marker came: its new content, up to its
    /// middle marker, is dropped as it streams (its default shows).
    dropping_new_part: Option<usize>,
    /// The end of the last chunk when it may be the start of a marker split across
    /// chunks (lol-html's encoder may split inserted content).
    carry: Vec<u8>,
    /// Markers inserted but not yet seen in the output. While there are none, the
    /// output cannot hold one and passes on without being searched (most of a page).
    markers_in_flight: usize,
    /// The default contents of settled slots that keep theirs, in document order,
    /// until the end of `<body>` sends them.
    kept_defaults: Vec<KeptDefault>,
    /// How many elements show each kept-default key so far: the next one's `nth`.
    shown_with_default: std::collections::HashMap<String, usize>,
    /// The slots whose content lol-html is parsing now (outermost first).
    parsing_inside: Vec<usize>,
}

/// A slot element's default content, sent along as
/// `<template data-ep-default="<slot>" data-ep-key="<key>" data-ep-nth="<n>">`: the
/// `n`-th element (from 0, in document order) that shows `key` had it. The browser
/// runtime pairs them the same way.
#[derive(Debug)]
struct KeptDefault {
    slot: String,
    key: String,
    nth: usize,
    bytes: Vec<u8>,
}

impl KeptDefault {
    /// The `<template>` element that carries it.
    fn write_to(&self, out: &mut Vec<u8>) {
        let start = format!(
            "<template data-ep-default=\"{}\" data-ep-key=\"{}\" data-ep-nth=\"{}\">",
            escape_html(&self.slot),
            escape_html(&self.key),
            self.nth
        );
        out.extend_from_slice(start.as_bytes());
        out.extend_from_slice(&self.bytes);
        out.extend_from_slice(b"</template>");
    }
}

struct SplicerSink(Rc<RefCell<Splicer>>);

impl OutputSink for SplicerSink {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        self.0.borrow_mut().receive(chunk);
    }
}

/// What a marker says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Open(usize),
    Middle(usize),
    Close(usize),
    TemplateStart(usize),
    TemplateEnd(usize),
    /// Where the kept defaults go (the end of `<body>`).
    Defaults,
}

impl Splicer {
    fn new(nonce: u64, hold_limit: usize, wanted: Vec<String>) -> Splicer {
        let mut templates: Vec<WantedTemplate> = Vec::new();
        for name in wanted {
            if !templates.iter().any(|t| t.name == name) {
                templates.push(WantedTemplate {
                    name,
                    captured: None,
                    unusable: false,
                });
            }
        }
        let comment_prefix = format!("<!--ep:{nonce:016x}:").into_bytes();
        Splicer {
            comment_finder: memchr::memmem::Finder::new(&comment_prefix).into_owned(),
            comment_prefix,
            attribute_prefix: format!("ep:{nonce:016x}:a").into_bytes(),
            ready: Vec::new(),
            held: None,
            hold_from_next_output: false,
            hold_limit,
            slots: Vec::new(),
            templates,
            capturing: None,
            changes_inside: None,
            utf8_by_mark: false,
            template_depth: 0,
            changes: 0,
            runtime_on_page: false,
            in_new_part: None,
            dropping_new_part: None,
            carry: Vec::new(),
            markers_in_flight: 0,
            kept_defaults: Vec::new(),
            shown_with_default: std::collections::HashMap::new(),
            parsing_inside: Vec::new(),
        }
    }

    fn comment(&self, kind: char, n: usize) -> String {
        format!(
            "{}{kind}{n}-->",
            String::from_utf8_lossy(&self.comment_prefix)
        )
    }

    fn markers(&self, n: usize) -> Markers {
        Markers {
            open: self.comment('s', n),
            middle: self.comment('m', n),
            close: self.comment('e', n),
            attribute: format!("{}{n}", String::from_utf8_lossy(&self.attribute_prefix)),
        }
    }

    fn template_index(&self, name: &str) -> Option<usize> {
        self.templates.iter().position(|t| t.name == name)
    }

    fn open_slot(
        &mut self,
        template: Option<usize>,
        keeps_default: Option<(String, String)>,
    ) -> usize {
        self.slots.push(HeldSlot {
            template,
            closed: false,
            failed: false,
            keeps_default,
            default_changed: false,
        });
        self.slots.len() - 1
    }

    /// The markers to put around a template's content, if a slot wants it and it
    /// is not captured yet.
    fn start_capture(&mut self, name: &str) -> Option<(String, String)> {
        if self.template_depth > 1 || self.capturing.is_some() {
            return None;
        }
        let index = self.template_index(name)?;
        let template = self.templates.get(index)?;
        if template.captured.is_some() || template.unusable {
            return None;
        }
        self.markers_in_flight += 2;
        Some((self.comment('t', index), self.comment('u', index)))
    }

    fn receive(&mut self, chunk: &[u8]) {
        if self.markers_in_flight == 0 && self.carry.is_empty() {
            self.emit(chunk);
            return;
        }
        let joined;
        let mut bytes = if self.carry.is_empty() {
            chunk
        } else {
            let mut carried = std::mem::take(&mut self.carry);
            carried.extend_from_slice(chunk);
            joined = carried;
            &joined[..]
        };
        while let Some(at) = self.comment_finder.find(bytes) {
            self.emit(&bytes[..at]);
            let rest = &bytes[at..];
            match parse_mark(&rest[self.comment_prefix.len()..]) {
                Some((mark, len)) => {
                    let whole = &rest[..self.comment_prefix.len() + len];
                    self.markers_in_flight = self.markers_in_flight.saturating_sub(1);
                    self.on_mark(mark, whole);
                    bytes = &rest[whole.len()..];
                }
                None if rest.len() < self.comment_prefix.len() + MAX_MARK_LEN
                    && !rest.contains(&b'>') =>
                {
                    // A marker cut by the end of the chunk: finish it next time.
                    self.carry = rest.to_vec();
                    return;
                }
                None => {
                    // Not one of ours after all (cannot happen for our own
                    // insertions); pass it on as it is.
                    self.emit(&rest[..self.comment_prefix.len()]);
                    bytes = &rest[self.comment_prefix.len()..];
                }
            }
        }
        // The start of a marker cut by the end of the chunk waits for the next one:
        // the earliest `<` of the chunk's tail that begins the prefix.
        let tail = bytes.len().saturating_sub(self.comment_prefix.len() - 1);
        let cut = memchr::memchr_iter(b'<', &bytes[tail..])
            .map(|at| tail + at)
            .find(|&at| self.comment_prefix.starts_with(&bytes[at..]));
        match cut {
            Some(at) => {
                let (now, later) = bytes.split_at(at);
                self.emit(now);
                self.carry = later.to_vec();
            }
            None => self.emit(bytes),
        }
    }

    fn emit(&mut self, bytes: &[u8]) {
        if bytes.is_empty() || self.dropping_new_part.is_some() {
            return;
        }
        if let Some((index, captured)) = &mut self.capturing {
            captured.extend_from_slice(bytes);
            if captured.len() > self.hold_limit {
                if let Some(template) = self.templates.get_mut(*index) {
                    template.unusable = true;
                }
                self.capturing = None;
            }
        }
        self.start_holding_if_due();
        self.hold_from_next_output = false;
        match &mut self.held {
            Some(held) => {
                held.extend_from_slice(bytes);
                self.check_hold_limit();
            }
            None => self.ready.extend_from_slice(bytes),
        }
    }

    /// A slot opened since the last output and nothing is held: holding starts now.
    fn start_holding_if_due(&mut self) {
        if self.hold_from_next_output && self.held.is_none() {
            self.held = Some(Vec::new());
            self.hold_from_next_output = false;
        }
    }

    fn check_hold_limit(&mut self) {
        let over = self
            .held
            .as_ref()
            .is_some_and(|h| h.len() > self.hold_limit);
        if over && self.in_new_part.is_none() {
            self.give_up_waiting();
        }
    }

    fn on_mark(&mut self, mark: Mark, whole: &[u8]) {
        match mark {
            Mark::Defaults => {
                self.start_holding_if_due();
                if let Some(held) = &mut self.held {
                    // Slots before it are still held: the defaults go out where the
                    // marker is, once they are settled (`flush_held`).
                    held.extend_from_slice(whole);
                    return;
                }
                let mut templates = Vec::new();
                for kept in std::mem::take(&mut self.kept_defaults) {
                    kept.write_to(&mut templates);
                }
                self.emit(&templates);
            }
            Mark::TemplateStart(index) => {
                if self.capturing.is_none() {
                    self.capturing = Some((index, Vec::new()));
                }
            }
            Mark::TemplateEnd(index) => {
                if let Some((capturing, bytes)) = self.capturing.take() {
                    // The index comes from a marker in the output: checked, never trusted.
                    if let Some(template) =
                        self.templates.get_mut(index).filter(|_| capturing == index)
                    {
                        let changed = self
                            .changes_inside
                            .as_ref()
                            .and_then(|(changes, encoding)| changes.apply(&bytes, *encoding));
                        template.captured = Some(changed.unwrap_or(bytes));
                    }
                }
                self.settle_if_ready();
            }
            Mark::Open(n) | Mark::Middle(n) | Mark::Close(n) => {
                self.start_holding_if_due();
                let Some(held) = &mut self.held else {
                    // Its slot was already given up and flushed (the hold limit ran
                    // out as its start tag went by): the marker goes, and so does the
                    // new content after an open marker, so that the default shows alone.
                    match mark {
                        Mark::Open(n) if self.slots.get(n).is_some_and(|s| s.failed) => {
                            self.dropping_new_part = Some(n);
                        }
                        Mark::Middle(n) if self.dropping_new_part == Some(n) => {
                            self.dropping_new_part = None;
                        }
                        _ => {}
                    }
                    return;
                };
                held.extend_from_slice(whole);
                match mark {
                    Mark::Open(n) => self.in_new_part = Some(n),
                    Mark::Middle(_) => {
                        self.in_new_part = None;
                        self.check_hold_limit();
                        return;
                    }
                    _ => {}
                }
                if let (Mark::Close(_), Some(slot)) = (mark, self.slots.get_mut(n)) {
                    slot.closed = true;
                    self.settle_if_ready();
                } else if self.slots.get(n).is_none() {
                    // A marker we never made cannot occur; stay safe anyway.
                    self.give_up_waiting();
                }
            }
        }
    }

    /// A settled slot shows its new content: it is complete, was not given up,
    /// and its template (if it needs one) was captured.
    fn shows_new(&self, slot: &HeldSlot) -> bool {
        !slot.failed
            && slot.closed
            && slot
                .template
                .is_none_or(|t| self.templates.get(t).is_some_and(|t| t.captured.is_some()))
    }

    /// A slot can be settled when it is complete and its content is known.
    fn settleable(&self, slot: &HeldSlot) -> bool {
        slot.failed
            || (slot.closed
                && slot.template.is_none_or(|t| {
                    // A template the slot names that is not listed cannot come: settle.
                    self.templates
                        .get(t)
                        .is_none_or(|template| template.captured.is_some() || template.unusable)
                }))
    }

    fn settle_if_ready(&mut self) {
        if self.held.is_some() && self.slots.iter().all(|s| self.settleable(s)) {
            self.flush_held();
        }
    }

    /// Past the hold limit: every unsettled slot keeps its default.
    fn give_up_waiting(&mut self) {
        let pending: Vec<bool> = self.slots.iter().map(|s| !self.settleable(s)).collect();
        for (slot, pending) in self.slots.iter_mut().zip(pending) {
            if pending {
                slot.failed = true;
            }
        }
        self.flush_held();
    }

    /// The end of the document or of rewriting: settle everything.
    fn settle_all(&mut self) {
        // Whatever comes now is the page's (what lol-html passes through after a
        // bail-out): nothing more is dropped.
        self.dropping_new_part = None;
        let carried = std::mem::take(&mut self.carry);
        self.emit(&carried);
        self.capturing = None;
        self.in_new_part = None;
        for template in &mut self.templates {
            if template.captured.is_none() {
                template.unusable = true;
            }
        }
        for slot in &mut self.slots {
            if !slot.closed {
                slot.failed = true;
            }
        }
        self.flush_held();
    }

    /// Sends the held bytes with each slot settled: its new content or its default,
    /// never both, no markers. The default a slot replaced is kept aside when the
    /// slot sends its default along.
    fn flush_held(&mut self) {
        let Some(held) = self.held.take() else {
            return;
        };
        let mut out = Vec::with_capacity(held.len());
        let mut shown_with_default = std::mem::take(&mut self.shown_with_default);
        // Defaults kept before this flush and in it, until the end of <body> sends them.
        let mut kept_defaults = std::mem::take(&mut self.kept_defaults);
        // Which regions are kept: (slot, in its new part?) for each open slot.
        let mut open: Vec<(usize, bool)> = Vec::new();
        let keep = |open: &[(usize, bool)]| {
            open.iter().all(|&(n, new_part)| {
                new_part == self.slots.get(n).is_some_and(|s| self.shows_new(s))
            })
        };
        // The default being kept aside: its slot, and its bytes while they are
        // still sendable (no marker of another slot in them).
        let mut aside: Option<(usize, usize, Option<Vec<u8>>)> = None;
        let mut rest: &[u8] = &held;
        loop {
            let next = self.comment_finder.find(rest);
            let text = &rest[..next.unwrap_or(rest.len())];
            if keep(&open) {
                self.copy_resolving_attributes(text, &mut out);
            } else if let Some((_, _, Some(bytes))) = &mut aside {
                if find(text, &self.attribute_prefix).is_some() {
                    aside = aside.map(|(n, nth, _)| (n, nth, None));
                } else {
                    bytes.extend_from_slice(text);
                }
            }
            let Some(at) = next else { break };
            let after = &rest[at + self.comment_prefix.len()..];
            let Some((mark, len)) = parse_mark(after) else {
                rest = after;
                continue;
            };
            rest = &after[len..];
            match mark {
                Mark::Open(n) => {
                    // Another slot inside a default: that default is not sent.
                    aside = aside.map(|(m, nth, _)| (m, nth, None));
                    open.push((n, true));
                }
                Mark::Middle(n) => {
                    let new_part_kept = keep(&open);
                    if let Some(last) = open.last_mut().filter(|(m, _)| *m == n) {
                        last.1 = false;
                    }
                    // A template slot's new content is the captured template.
                    let slot = self.slots.get(n);
                    let captured = slot
                        .and_then(|slot| slot.template)
                        .and_then(|t| self.templates.get(t)?.captured.as_ref());
                    if let (true, Some(bytes)) = (new_part_kept, captured) {
                        out.extend_from_slice(bytes);
                    }
                    // An element that shows its new content and sends its default:
                    // its default is kept aside, numbered among those showing its key.
                    let key = slot.and_then(|s| Some(s.keeps_default.as_ref()?.1.clone()));
                    if let (true, Some(key)) = (new_part_kept, key) {
                        let count = shown_with_default.entry(key).or_insert(0);
                        if aside.is_none() {
                            aside = Some((n, *count, Some(Vec::new())));
                        }
                        *count += 1;
                    }
                }
                Mark::Close(n) => {
                    // Slots opened inside it and never closed end with it.
                    if let Some(at) = open.iter().rposition(|(m, _)| *m == n) {
                        open.truncate(at);
                    }
                    if let Some((_, nth, bytes)) = aside.take_if(|(m, _, _)| *m == n) {
                        let slot = self.slots.get(n).filter(|s| !s.default_changed);
                        let names = slot.and_then(|s| s.keeps_default.clone());
                        let kept_bytes: usize = kept_defaults.iter().map(|k| k.bytes.len()).sum();
                        if let (Some((slot, key)), Some(bytes)) = (names, bytes) {
                            if kept_bytes + bytes.len() <= self.hold_limit
                                && sendable_default(&bytes)
                            {
                                kept_defaults.push(KeptDefault {
                                    slot,
                                    key,
                                    nth,
                                    bytes,
                                });
                            }
                        }
                    }
                }
                Mark::Defaults => {
                    if keep(&open) {
                        for kept in kept_defaults.drain(..) {
                            kept.write_to(&mut out);
                        }
                    }
                }
                Mark::TemplateStart(_) | Mark::TemplateEnd(_) => {}
            }
        }
        self.ready.extend_from_slice(&out);
        self.kept_defaults.append(&mut kept_defaults);
        self.shown_with_default = shown_with_default;
        // Settled slots are done; a slot given up before its end marker came stays
        // listed as failed so that its late markers are dropped.
    }

    /// Copies `text`, settling attribute markers: a slot that shows its new content
    /// keeps `data-ep-applied="key"`; one that keeps its default gets
    /// `data-ep-pending="key"` instead, left to the browser runtime (which hides it
    /// until then on a page with the head snippet).
    fn copy_resolving_attributes(&self, mut text: &[u8], out: &mut Vec<u8>) {
        while let Some(at) = find(text, &self.attribute_prefix) {
            out.extend_from_slice(&text[..at]);
            let after = &text[at + self.attribute_prefix.len()..];
            let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
            let n = std::str::from_utf8(&after[..digits])
                .ok()
                .and_then(|d| d.parse::<usize>().ok());
            text = &after[digits..];
            let succeeded = n
                .and_then(|n| self.slots.get(n))
                .is_some_and(|s| self.shows_new(s));
            if !succeeded {
                // ` data-ep-applied="key` written so far becomes ` data-ep-pending="key`
                // (in any case: lol-html keeps the page's spelling of an attribute
                // it changes, `DATA-EP-APPLIED`).
                let applied = format!(" {APPLIED_ATTRIBUTE}=\"");
                if let Some(start) = rfind_ignoring_ascii_case(out, applied.as_bytes()) {
                    let key = out.split_off(start + applied.len());
                    out.truncate(start);
                    out.extend_from_slice(format!(" {PENDING_ATTRIBUTE}=\"").as_bytes());
                    out.extend_from_slice(&key);
                }
            }
        }
        out.extend_from_slice(text);
    }
}

/// Whether a slot's default content can travel inside a `<template>` and come back
/// as it was: not too big, and nothing that would run again when put back
/// (`<script>`) or end the template early (`</template>`, `<plaintext>`).
fn sendable_default(bytes: &[u8]) -> bool {
    // `<noscript>` (and `<noembed>`, `<noframes>`) content is text in the page but
    // markup inside a template, where an unclosed `<style>` in it would run on.
    const REFUSED: [&[u8]; 7] = [
        b"<script",
        b"<template",
        b"</template",
        b"<plaintext",
        b"<noscript",
        b"<noembed",
        b"<noframes",
    ];
    bytes.len() <= MAX_KEPT_DEFAULT
        && !REFUSED.iter().any(|needle| {
            bytes
                .windows(needle.len())
                .any(|window| window.eq_ignore_ascii_case(needle))
        })
}

/// The longest mark after the prefix: a kind, up to 20 digits and `-->`.
const MAX_MARK_LEN: usize = 24;

/// Parses `s12-->` (after the prefix): the mark and the length it takes.
fn parse_mark(bytes: &[u8]) -> Option<(Mark, usize)> {
    let kind = *bytes.first()?;
    let digits = bytes[1..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || bytes.get(1 + digits..1 + digits + 3)? != b"-->" {
        return None;
    }
    let n: usize = std::str::from_utf8(&bytes[1..1 + digits])
        .ok()?
        .parse()
        .ok()?;
    let mark = match kind {
        b's' => Mark::Open(n),
        b'm' => Mark::Middle(n),
        b'e' => Mark::Close(n),
        b't' => Mark::TemplateStart(n),
        b'u' => Mark::TemplateEnd(n),
        b'd' => Mark::Defaults,
        _ => return None,
    };
    Some((mark, 1 + digits + 3))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// The last `needle` in `haystack`, ASCII letters in any case.
fn rfind_ignoring_ascii_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    (0..=haystack.len().checked_sub(needle.len())?)
        .rev()
        .find(|&at| {
            haystack
                .get(at..at + needle.len())
                .is_some_and(|window| window.eq_ignore_ascii_case(needle))
        })
}
