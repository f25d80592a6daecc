//! Applying a decision to the page: slot contents, greetings as text, `<html>`
//! classes, attribute changes, and popup markup.
//!
//! Rules that keep a page whole:
//! - new content is built completely (a cloned `<template>`, or text) before it
//!   replaces a slot's children in one `replaceChildren` call, so a failure leaves the
//!   default, never a half-swapped block;
//! - visitor-derived values (greetings) only ever become text nodes;
//! - applying the same plan twice changes nothing the second time (a marker
//!   attribute records what a slot shows), and nothing here watches the DOM, so a
//!   framework that re-renders a slot is never fought over in a loop;
//! - what the page had before is kept (a slot's or greeting's children, an
//!   attribute's value, and what the edge sent along for what it changed), so a
//!   later decision that no longer has a change (an SPA route, `forget()`, consent
//!   withdrawn) puts it back; records of elements that left the document are dropped.

use crate::core::config::Content;
use crate::core::config::LinkPolicy;
use crate::core::config::LoadedConfig;
use crate::core::links::{attribute_is_url, page_url_may_be_restored, url_is_allowed};
use crate::core::plan::{
    AttributePlan, GreetingPlan, PagePlan, SlotPlan, APPLIED_ATTRIBUTE, ORIGINAL_ATTRIBUTES,
};
use crate::core::snippet::{KEPT_ATTRIBUTE, PENDING_ATTRIBUTE};
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, DocumentFragment, Element, HtmlElement, HtmlTemplateElement};

/// What applying a plan did, for the JS layer's events and for `explain()`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    /// Slots and greetings whose elements now show the decided content.
    pub applied: Vec<String>,
    /// Slots that keep their default because something was missing or refused.
    pub errors: Vec<String>,
    /// Slots with at least one element on the page that show their decision,
    /// changed now or already: the slots whose decision the visitor sees (exposure
    /// events go out for these only). A slot that failed to apply is not here.
    pub present: Vec<String>,
}

/// The DOM side of the runtime: the page's default contents, kept for restoring,
/// and the classes it added to `<html>`.
#[derive(Debug, Default)]
pub struct DomState {
    /// Elements' original children, from before their first change.
    defaults: Vec<(Element, DocumentFragment)>,
    /// Elements showing a greeting, with its id.
    greeted: Vec<(Element, String)>,
    /// Attributes changed: the element, the name, and the original value (`None`:
    /// the element had no such attribute).
    attributes: Vec<(Element, String, Option<String>)>,
    classes: Vec<String>,
    /// Every attribute change the config declares (selector, attribute): the only
    /// ones whose original value, kept on the page by the edge, is taken over.
    changeable: Vec<(String, String)>,
    /// The config's link policy, for kept URLs that only the page as it was selects.
    links: LinkPolicy,
}

impl DomState {
    /// The DOM side for `config`'s runtime.
    pub fn new(config: &LoadedConfig) -> DomState {
        let changeable = config
            .site
            .experiences
            .iter()
            .flat_map(|e| &e.set_attributes)
            .map(|c| (c.selector.clone(), c.attribute.clone()))
            .collect();
        DomState {
            changeable,
            links: config.site.links.clone(),
            ..DomState::default()
        }
    }

    /// Takes over what an earlier runtime on this document kept (a framework
    /// remounted): the defaults, greetings, original attribute values and `<html>`
    /// classes it recorded. Elements that have left the document are dropped at the
    /// next apply; which attribute changes count stays this config's.
    pub fn take_over(&mut self, earlier: DomState) {
        self.defaults = earlier.defaults;
        self.greeted = earlier.greeted;
        self.attributes = earlier.attributes;
        self.classes = earlier.classes;
    }

    /// Applies `plan` to `document`. Never throws: every problem is reported and the
    /// element concerned keeps what it had.
    pub fn apply(&mut self, document: &Document, plan: &PagePlan) -> ApplyReport {
        let mut report = ApplyReport::default();
        self.take_edge_defaults(document);
        self.take_edge_attributes(document);
        self.forget_detached();
        // Experiences whose slot content could not be shown here: their attribute
        // changes are held back too, so that the page never shows half of one (a
        // default hero beside the premium hero's booking link).
        let mut failed_experiences: Vec<&str> = Vec::new();
        // A slot's content may hold another slot's element (a badge inside an offers
        // template): a second pass fills what the first one brought in, whatever the
        // slots' order. Slots already showing their content are left alone.
        for pass in 0..2 {
            let mut changed_any = false;
            for slot in &plan.slots {
                let outcome = select_all(document, &slot.selector).and_then(|elements| {
                    let changed = self.apply_slot(document, slot, &elements)?;
                    Ok((elements, changed))
                });
                // Elements the visitor saw their default in are not the decision's.
                let on_page = outcome.as_ref().is_ok_and(|(elements, _)| {
                    elements.iter().any(|e| !e.has_attribute(KEPT_ATTRIBUTE))
                });
                let outcome = outcome.map(|(_, changed)| changed);
                if let (Err(_), Some(experience)) = (&outcome, &slot.experience) {
                    failed_experiences.push(experience);
                }
                match outcome {
                    Ok(changed) => {
                        if on_page && !report.present.contains(&slot.slot) {
                            report.present.push(slot.slot.clone());
                        }
                        if changed > 0 && !report.applied.contains(&slot.slot) {
                            report.applied.push(slot.slot.clone());
                        }
                        changed_any |= changed > 0;
                    }
                    // Not exposed: the visitor sees the default, not the decision.
                    Err(error) if pass == 0 => report.errors.push(format!(
                        "slot {:?} ({}): {error}; it keeps its default",
                        slot.slot, slot.selector
                    )),
                    Err(_) => {}
                }
            }
            if !changed_any {
                break;
            }
        }
        let mut greeted_now = Vec::new();
        for greeting in &plan.greetings {
            match self.apply_greeting(document, greeting, &mut greeted_now) {
                Ok(0) => {}
                Ok(_) => report.applied.push(greeting.slot.clone()),
                Err(error) => report.errors.push(format!(
                    "greeting {:?} ({}): {error}",
                    greeting.greeting, greeting.selector
                )),
            }
        }
        if let Err(error) = self.ungreet_others(&greeted_now) {
            report
                .errors
                .push(format!("restoring a greeting's default: {error}"));
        }
        let (held_back, attributes): (Vec<&AttributePlan>, Vec<&AttributePlan>) =
            plan.attributes.iter().partition(|change| {
                change
                    .experience
                    .as_deref()
                    .is_some_and(|e| failed_experiences.contains(&e))
            });
        for change in held_back {
            report.errors.push(format!(
                "attribute {} on {}: held back with experience {:?}, whose slot keeps its default",
                change.attribute,
                change.selector,
                change.experience.as_deref().unwrap_or_default()
            ));
        }
        let changed_now = self.apply_attributes(document, &attributes, &mut report);
        if let Err(error) = self.restore_other_attributes(&changed_now) {
            report
                .errors
                .push(format!("restoring an attribute: {error}"));
        }
        self.apply_classes(document, &plan.classes);
        report
    }

    /// Drops what is kept for elements no longer in the document (an SPA replaced
    /// them): nothing will restore them, and keeping them would hold them in memory.
    pub fn forget_detached(&mut self) {
        self.defaults.retain(|(element, _)| element.is_connected());
        self.greeted.retain(|(element, _)| element.is_connected());
        self.attributes
            .retain(|(element, _, _)| element.is_connected());
    }

    /// How many elements it keeps something for (defaults, greetings, attributes).
    #[cfg(all(test, target_arch = "wasm32"))]
    pub fn kept_elements(&self) -> usize {
        self.defaults.len() + self.greeted.len() + self.attributes.len()
    }

    /// Elements greeted earlier that this decision greets no more get their original
    /// children back, unless something else (a slot's content) marked them since.
    fn ungreet_others(&mut self, greeted_now: &[Element]) -> Result<(), String> {
        let earlier = std::mem::take(&mut self.greeted);
        let mut first_error = None;
        for (element, greeting) in earlier {
            if greeted_now.iter().any(|e| e.is_same_node(Some(&element))) {
                self.greeted.push((element, greeting));
                continue;
            }
            if element.get_attribute(APPLIED_ATTRIBUTE).as_deref() != Some(&greeting) {
                continue;
            }
            let restored = match self.saved_default(&element) {
                Some(default) => {
                    clone_fragment(&default).and_then(|copy| replace_children(&element, &copy))
                }
                None => Ok(()),
            }
            .and_then(|()| mark(&element, None));
            // One that fails is kept for the next decision; the others go on.
            if let Err(error) = restored {
                first_error.get_or_insert(error);
                self.greeted.push((element, greeting));
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Sets the plan's attribute changes, keeping each original value the first
    /// time. Every rule's elements are found before anything is written, on the page
    /// as it was before the attribute changes made so far ([`PageAsItWas`]): a rule
    /// may select by a value a change writes (`a[href="/book"]`) and must go on
    /// selecting what it changed. Each (element, attribute) is then written once, the
    /// last rule's value winning, and only if it differs: a repeated apply writes
    /// nothing. Returns what this decision changes.
    fn apply_attributes(
        &mut self,
        document: &Document,
        changes: &[&AttributePlan],
        report: &mut ApplyReport,
    ) -> Vec<(Element, String)> {
        let mut as_it_was = PageAsItWas::new(self.attributes.iter().collect());
        let mut targets: Vec<(Element, &str, &str)> = Vec::new();
        for change in changes {
            match as_it_was.select(document, &change.selector) {
                Ok(elements) => {
                    // An earlier rule's value for the same attribute gives way.
                    targets.retain(|(e, name, _)| {
                        *name != change.attribute
                            || !elements.iter().any(|element| e.is_same_node(Some(element)))
                    });
                    targets.extend(elements.into_iter().map(|element| {
                        (element, change.attribute.as_str(), change.value.as_str())
                    }));
                }
                Err(error) => report.errors.push(format!(
                    "attribute {} on {}: {error}",
                    change.attribute, change.selector
                )),
            }
        }
        let mut changed_now = Vec::new();
        for (element, name, value) in targets {
            if !self.keeps_original(&element, name) {
                let original = element.get_attribute(name);
                self.attributes
                    .push((element.clone(), name.to_owned(), original));
            }
            if element.get_attribute(name).as_deref() != Some(value) {
                if let Err(error) = set(&element, name, value) {
                    report.errors.push(format!("attribute {name}: {error}"));
                }
            }
            changed_now.push((element, name.to_owned()));
        }
        changed_now
    }

    /// Attributes changed earlier that this decision no longer changes go back to
    /// their original values (or away, if the element had none).
    fn restore_other_attributes(
        &mut self,
        changed_now: &[(Element, String)],
    ) -> Result<(), String> {
        let earlier = std::mem::take(&mut self.attributes);
        let mut first_error = None;
        for (element, name, original) in earlier {
            let still = changed_now
                .iter()
                .any(|(e, n)| *n == name && e.is_same_node(Some(&element)));
            if still {
                self.attributes.push((element, name, original));
                continue;
            }
            let restored = match &original {
                Some(value) => set(&element, &name, value),
                None => element.remove_attribute(&name).map_err(js_error),
            };
            // One that fails is kept for the next decision; the others go on.
            if let Err(error) = restored {
                first_error.get_or_insert(error);
                self.attributes.push((element, name, original));
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Whether the original value of this element's attribute is kept already.
    fn keeps_original(&self, element: &Element, name: &str) -> bool {
        self.attributes
            .iter()
            .any(|(e, n, _)| n == name && e.is_same_node(Some(element)))
    }

    /// Swaps the elements of one slot; returns how many changed. An element inside
    /// another of the same slot is part of that one's content (a variant that holds
    /// the slot's own element, copied from the page): it is not filled again, or the
    /// slot would nest one level deeper on every apply.
    /// Elements marked [`KEPT_ATTRIBUTE`] stay as the visitor saw them.
    fn apply_slot(
        &mut self,
        document: &Document,
        slot: &SlotPlan,
        elements: &[Element],
    ) -> Result<usize, String> {
        let mut changed = 0;
        // In document order, an element inside the last outermost one is part of it.
        let mut outer: Option<&Element> = None;
        for element in elements {
            if outer.is_some_and(|o| o.contains(Some(element))) {
                continue;
            }
            outer = Some(element);
            if element.has_attribute(KEPT_ATTRIBUTE) {
                continue;
            }
            // Text content may hold placeholders (`{page.category}`): the same
            // experience on a later route may render other text.
            let shows = element.get_attribute(APPLIED_ATTRIBUTE);
            let text_differs = slot
                .content
                .as_ref()
                .and_then(|c| c.text.as_ref())
                .is_some_and(|text| element.text_content().as_deref() != Some(text.as_str()));
            if shows == slot.key && !text_differs {
                continue;
            }
            let replacement = match &slot.content {
                Some(content) => render(document, content)?,
                None => match self.saved_default(element) {
                    Some(default) => clone_fragment(&default)?,
                    None => continue,
                },
            };
            self.keep_default(document, element)?;
            replace_children(element, &replacement)?;
            mark(element, slot.key.as_deref())?;
            changed += 1;
        }
        Ok(changed)
    }

    fn apply_greeting(
        &mut self,
        document: &Document,
        greeting: &GreetingPlan,
        greeted_now: &mut Vec<Element>,
    ) -> Result<usize, String> {
        let mut changed = 0;
        for element in select_all(document, &greeting.selector)? {
            if element.has_attribute(KEPT_ATTRIBUTE) {
                continue;
            }
            greeted_now.push(element.clone());
            match self
                .greeted
                .iter_mut()
                .find(|(e, _)| e.is_same_node(Some(&element)))
            {
                Some(record) => record.1.clone_from(&greeting.greeting),
                None => self
                    .greeted
                    .push((element.clone(), greeting.greeting.clone())),
            }
            if element.get_attribute(APPLIED_ATTRIBUTE).as_deref() == Some(&greeting.greeting)
                && element.text_content().as_deref() == Some(&greeting.text)
            {
                continue;
            }
            self.keep_default(document, &element)?;
            // Text, never markup: the greeting may carry a visitor's name.
            element.set_text_content(Some(&greeting.text));
            mark(&element, Some(&greeting.greeting))?;
            changed += 1;
        }
        Ok(changed)
    }

    fn apply_classes(&mut self, document: &Document, classes: &[String]) {
        let Some(root) = document.document_element() else {
            return;
        };
        let list = root.class_list();
        for stale in self.classes.iter().filter(|c| !classes.contains(c)) {
            let _ = list.remove_1(stale);
        }
        for class in classes {
            let _ = list.add_1(class);
        }
        self.classes = classes.to_vec();
    }

    /// Takes over the defaults the edge sent along for slots it changed (`keepDefault`
    /// in the config): `<template data-ep-default="<slot>" data-ep-key="<key>"
    /// data-ep-nth="<n>">` holds what the `n`-th element (in document order) marked
    /// `data-ep-applied="<key>"` had, which is how the edge numbered them. They become
    /// those elements' saved defaults, whatever this runtime decides (so a later
    /// decision can put them back), and leave the page. Looked for on every apply (none
    /// is there after the first that found them), so a page still parsing its end
    /// when the first apply ran loses nothing. The edge writes them at the end of
    /// `<body>`: for one element, the last template counts (an earlier one is page
    /// content, which anyone who can put `data-*` attributes on the page can write).
    fn take_edge_defaults(&mut self, document: &Document) {
        let templates = match select_all(document, "template[data-ep-default]") {
            Ok(templates) if !templates.is_empty() => templates,
            _ => return,
        };
        let marked = select_all(document, &format!("[{APPLIED_ATTRIBUTE}]")).unwrap_or_default();
        for template in templates.into_iter().rev() {
            template.remove();
            let key = template.get_attribute("data-ep-key");
            let nth = template.get_attribute("data-ep-nth");
            let Some(nth) = nth.and_then(|n| n.parse::<usize>().ok()) else {
                continue;
            };
            let element = marked
                .iter()
                .filter(|e| e.get_attribute(APPLIED_ATTRIBUTE) == key)
                .nth(nth);
            let (Some(element), Some(template)) =
                (element, template.dyn_ref::<HtmlTemplateElement>())
            else {
                continue;
            };
            if self.saved_default(element).is_none() {
                if let Ok(copy) = clone_fragment(&template.content()) {
                    self.defaults.push((element.clone(), copy));
                }
            }
        }
    }

    /// Takes over the page's own attribute values that the edge kept beside the ones
    /// it changed ([`ORIGINAL_ATTRIBUTES`] and `data-ep-was-<name>`): they become the
    /// originals a later decision puts back, whatever this runtime decides. The
    /// markers are page markup, which anyone who can put `data-*` attributes on the
    /// page can write, so a name counts only where a change the config declares may
    /// set it on that element, and a URL only if it could not run script
    /// ([`page_url_may_be_restored`]); otherwise the value now shown stays. The
    /// markers leave the page. Looked for on every apply, like the sent defaults.
    fn take_edge_attributes(&mut self, document: &Document) {
        let elements = match select_all(document, &format!("[{ORIGINAL_ATTRIBUTES}]")) {
            Ok(elements) if !elements.is_empty() => elements,
            _ => return,
        };
        // Every marker is read first: the page as it was has all their values back.
        let mut kept: Vec<(Element, String, Option<String>)> = Vec::new();
        for element in elements {
            let names = element
                .get_attribute(ORIGINAL_ATTRIBUTES)
                .unwrap_or_default();
            let _ = element.remove_attribute(ORIGINAL_ATTRIBUTES);
            for name in names.split_ascii_whitespace() {
                let marker = format!("{ORIGINAL_ATTRIBUTES}-{name}");
                let original = element.get_attribute(&marker);
                let _ = element.remove_attribute(&marker);
                if !kept
                    .iter()
                    .any(|(e, n, _)| n == name && e.is_same_node(Some(&element)))
                {
                    kept.push((element.clone(), name.to_owned(), original));
                }
            }
        }
        let taken: Vec<bool> = {
            let mut as_it_was = PageAsItWas::new(self.attributes.iter().chain(&kept).collect());
            kept.iter()
                .map(|(element, name, original)| {
                    let is_url = attribute_is_url(name);
                    let harmless =
                        !is_url || original.as_deref().is_none_or(page_url_may_be_restored);
                    if !harmless || self.keeps_original(element, name) {
                        return false;
                    }
                    // On the page as it was, the marker itself makes the element
                    // selected: a URL must then also be one the config could write.
                    let allowed_as_it_was = !is_url
                        || original
                            .as_deref()
                            .is_none_or(|url| url_is_allowed(url, &self.links).is_ok());
                    self.changeable.iter().any(|(selector, attribute)| {
                        attribute == name
                            && (element.matches(selector).unwrap_or(false)
                                || (allowed_as_it_was
                                    && as_it_was.matches(document, element, selector)))
                    })
                })
                .collect()
        };
        for (record, take) in kept.into_iter().zip(taken) {
            if take {
                self.attributes.push(record);
            }
        }
    }

    fn saved_default(&self, element: &Element) -> Option<DocumentFragment> {
        self.defaults
            .iter()
            .find(|(saved, _)| saved.is_same_node(Some(element)))
            .map(|(_, fragment)| fragment.clone())
    }

    /// Keeps a copy of the element's original children the first time it changes.
    fn keep_default(&mut self, document: &Document, element: &Element) -> Result<(), String> {
        if self.saved_default(element).is_some() {
            return Ok(());
        }
        let copy = document.create_document_fragment();
        let children = element.child_nodes();
        for index in 0..children.length() {
            if let Some(child) = children.item(index) {
                let cloned = child.clone_node_with_deep(true).map_err(js_error)?;
                copy.append_child(&cloned).map_err(js_error)?;
            }
        }
        self.undo_changes_inside(element, &copy);
        self.defaults.push((element.clone(), copy));
        Ok(())
    }

    /// Undoes, in `copy` (a copy of `element`'s children), what this runtime changed
    /// inside `element`: a default kept now must be the page's own, not hold a
    /// greeting (a visitor's name), another slot's content or a changed attribute,
    /// which would come back with it, no longer tracked, and stay for good.
    fn undo_changes_inside(&self, element: &Element, copy: &DocumentFragment) {
        let copy_of = |changed: &Element| {
            if changed.is_same_node(Some(element)) || !element.contains(Some(changed)) {
                return None;
            }
            let path = path_below(element, changed)?;
            descend(copy.first_element_child(), &path)
        };
        // Every place is found before anything in the copy changes: putting one
        // element's default back moves what was inside it.
        let defaults: Vec<(Element, &DocumentFragment)> = self
            .defaults
            .iter()
            .filter_map(|(changed, default)| Some((copy_of(changed)?, default)))
            .collect();
        let attributes: Vec<(Element, &str, Option<&str>)> = self
            .attributes
            .iter()
            .filter_map(|(changed, name, original)| {
                Some((copy_of(changed)?, name.as_str(), original.as_deref()))
            })
            .collect();
        for (copied, name, original) in attributes {
            let _ = match original {
                Some(value) => copied.set_attribute(name, value),
                None => copied.remove_attribute(name),
            };
        }
        for (copied, default) in defaults {
            if let Ok(original) = clone_fragment(default) {
                let _ = replace_children(&copied, &original);
            }
            let _ = copied.remove_attribute(APPLIED_ATTRIBUTE);
        }
    }

    /// Builds a popup: a fixed backdrop holding a labelled dialog with a close button
    /// and the popup's content. Returned detached; the JS layer inserts it and
    /// handles focus, Escape and clicks. Styling comes from CSS custom properties
    /// (`--ep-popup-bg`, `-fg`, `-radius`, `-shadow`, `-accent`, `--ep-backdrop`),
    /// set through the CSSOM so a CSP without `'unsafe-inline'` styles still allows it.
    pub fn build_popup(
        &self,
        document: &Document,
        plan: &PagePlan,
        plan_from_edge: bool,
        id: &str,
        close_label: &str,
    ) -> Result<Element, String> {
        let popup = plan
            .popups
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| format!("popup {id:?} is not allowed on this page view"))?;
        // The edge puts a popup's config content into the page as an inert
        // `<template data-ep-popup>`: cloning it parses no string here, so it works
        // under Trusted Types too. It is the edge's rendering (placeholders filled for
        // the URL it served): a later decision (an SPA route) renders its own.
        let edge_template = if plan_from_edge {
            edge_popup_template(document, id)?
        } else {
            None
        };
        let content = match edge_template {
            Some(template) => {
                let fragment = document.create_document_fragment();
                let copy = document
                    .import_node_with_deep(&template.content(), true)
                    .map_err(js_error)?;
                fragment.append_child(&copy).map_err(js_error)?;
                fragment
            }
            None => render(document, &popup.content)?,
        };
        let backdrop = create(document, "div")?;
        set(&backdrop, "class", "ep-popup-backdrop")?;
        set(&backdrop, "data-ep-popup", id)?;
        style(
            &backdrop,
            &[
                ("position", "fixed"),
                ("inset", "0"),
                ("display", "flex"),
                ("align-items", "center"),
                ("justify-content", "center"),
                ("background", "var(--ep-backdrop, rgba(0, 0, 0, 0.45))"),
                ("z-index", "2147483000"),
                ("padding", "1rem"),
            ],
        )?;
        let dialog = create(document, "div")?;
        set(&dialog, "class", "ep-popup")?;
        set(&dialog, "role", "dialog")?;
        set(&dialog, "aria-modal", "true")?;
        set(&dialog, "tabindex", "-1")?;
        set(&dialog, "aria-label", popup.label.as_deref().unwrap_or(id))?;
        style(
            &dialog,
            &[
                ("position", "relative"),
                ("box-sizing", "border-box"),
                ("max-width", "min(100%, 30rem)"),
                ("max-height", "calc(100vh - 2rem)"),
                ("overflow", "auto"),
                ("padding", "1.75rem 1.5rem 1.5rem"),
                ("background", "var(--ep-popup-bg, #fff)"),
                ("color", "var(--ep-popup-fg, #1a1a1a)"),
                ("border-radius", "var(--ep-popup-radius, 12px)"),
                (
                    "box-shadow",
                    "var(--ep-popup-shadow, 0 12px 40px rgba(0, 0, 0, 0.3))",
                ),
            ],
        )?;
        let close = create(document, "button")?;
        set(&close, "type", "button")?;
        set(&close, "class", "ep-popup-close")?;
        set(&close, "aria-label", close_label)?;
        set(&close, "data-ep-close", "")?;
        close.set_text_content(Some("×"));
        style(
            &close,
            &[
                ("position", "absolute"),
                ("top", "0.25rem"),
                // The end side in the page's writing direction (left on RTL pages).
                ("inset-inline-end", "0.5rem"),
                ("border", "0"),
                ("background", "none"),
                ("color", "inherit"),
                ("font-size", "1.75rem"),
                ("line-height", "1"),
                ("cursor", "pointer"),
            ],
        )?;
        dialog.append_child(&close).map_err(js_error)?;
        dialog.append_child(&content).map_err(js_error)?;
        backdrop.append_child(&dialog).map_err(js_error)?;
        Ok(backdrop)
    }
}

/// The content as a fragment ready to insert: a clone of the page's
/// `<template data-ep-variant="…">`, a text node, or (config-authored only) HTML.
fn render(document: &Document, content: &Content) -> Result<DocumentFragment, String> {
    let fragment = document.create_document_fragment();
    if let Some(name) = &content.template {
        let template = find_template(document, name)?;
        let copy = document
            .import_node_with_deep(&template.content(), true)
            .map_err(js_error)?;
        fragment.append_child(&copy).map_err(js_error)?;
    } else if let Some(html) = &content.html {
        // Markup written in the config by the site (never visitor data). Under
        // Trusted Types this assignment throws; the slot then keeps its default and
        // the report says to use a <template> instead.
        let template: HtmlTemplateElement = create(document, "template")?
            .dyn_into()
            .map_err(|_| "no <template> support".to_string())?;
        // Through Reflect so that the Trusted Types exception comes back as an error
        // (web-sys's `set_inner_html` would throw across the wasm boundary).
        web_sys::js_sys::Reflect::set(
            &template,
            &JsValue::from_str("innerHTML"),
            &JsValue::from_str(html),
        )
        .map_err(|e| {
            format!(
                "{}; use a <template data-ep-variant> in the page instead of `html`",
                js_error(e)
            )
        })?;
        let copy = document
            .import_node_with_deep(&template.content(), true)
            .map_err(js_error)?;
        fragment.append_child(&copy).map_err(js_error)?;
    } else if let Some(text) = &content.text {
        fragment.set_text_content(Some(text));
    }
    Ok(fragment)
}

/// The `<template data-ep-popup>` the edge wrote for popup `id`, if the page has one
/// (found by comparing the attribute: no selector is built from config text).
fn edge_popup_template(
    document: &Document,
    id: &str,
) -> Result<Option<HtmlTemplateElement>, String> {
    // The last: the edge adds its templates at the end of <body>, after any content
    // of the page's own (user content may carry such an attribute).
    Ok(select_all(document, "template[data-ep-popup]")?
        .into_iter()
        .rfind(|t| t.get_attribute("data-ep-popup").as_deref() == Some(id))
        .and_then(|t| t.dyn_into::<HtmlTemplateElement>().ok()))
}

/// The page's `<template data-ep-variant>` with this name, found by comparing the
/// attribute (no selector is built from config text).
fn find_template(document: &Document, name: &str) -> Result<HtmlTemplateElement, String> {
    select_all(document, "template[data-ep-variant]")?
        .into_iter()
        .find(|t| t.get_attribute("data-ep-variant").as_deref() == Some(name))
        .and_then(|t| t.dyn_into::<HtmlTemplateElement>().ok())
        .ok_or_else(|| format!("the page has no <template data-ep-variant=\"{name}\">"))
}

/// After a hand-off marked cut (`CUT_ATTRIBUTE`: the edge's rewriting stopped early):
/// the slots and greetings that no element on the page shows as handled by the edge
/// (`data-ep-applied`, or `data-ep-pending` for one it left to the runtime), and the
/// attribute changes it made nowhere (`data-ep-was`), came after the cut, and the
/// visitor has seen the page's own. They stay so, in `plan` and in the hand-off's
/// `decision` (which the page's events report): changing them now would be the
/// flicker the edge exists to prevent. (A selector with elements on both sides of
/// the cut counts as reached.)
pub(crate) fn leave_what_the_edge_did_not_reach(
    document: &Document,
    plan: &mut PagePlan,
    decision: &mut Value,
) {
    let reached = |selector: &str| {
        select_all(document, selector).is_ok_and(|found| {
            found.iter().any(|element| {
                element.has_attribute(APPLIED_ATTRIBUTE) || element.has_attribute(PENDING_ATTRIBUTE)
            })
        })
    };
    let mut left: Vec<String> = Vec::new();
    for slot in &mut plan.slots {
        if slot.content.is_some() && !reached(&slot.selector) {
            slot.content = None;
            slot.key = None;
            left.push(slot.slot.clone());
        }
    }
    plan.greetings.retain(|greeting| {
        let keep = reached(&greeting.selector);
        if !keep {
            left.push(greeting.slot.clone());
        }
        keep
    });
    let is_left = |entry: &Value| {
        entry
            .get("slot")
            .and_then(Value::as_str)
            .is_some_and(|slot| left.iter().any(|l| l == slot))
    };
    if let Some(Value::Array(slots)) = decision.get_mut("slots") {
        for entry in slots.iter_mut().filter(|entry| is_left(entry)) {
            if let Some(fields) = entry.as_object_mut() {
                for field in ["experience", "variant", "content"] {
                    fields.insert(field.into(), Value::Null);
                }
                fields.insert("holdout".into(), Value::Bool(false));
            }
        }
    }
    if let Some(Value::Array(greetings)) = decision.get_mut("greetings") {
        greetings.retain(|entry| !is_left(entry));
    }
    // An attribute the edge changed is listed in its element's `data-ep-was`.
    let changed_at_edge = |selector: &str, attribute: &str| {
        select_all(document, selector).is_ok_and(|found| {
            found.iter().any(|element| {
                element
                    .get_attribute(ORIGINAL_ATTRIBUTES)
                    .is_some_and(|names| names.split_ascii_whitespace().any(|n| n == attribute))
            })
        })
    };
    plan.attributes
        .retain(|change| changed_at_edge(&change.selector, &change.attribute));
    if let Some(Value::Array(changes)) = decision.get_mut("attributes") {
        changes.retain(|entry| {
            let field = |name: &str| entry.get(name).and_then(Value::as_str).unwrap_or_default();
            changed_at_edge(field("selector"), field("attribute"))
        });
    }
}

fn select_all(document: &Document, selector: &str) -> Result<Vec<Element>, String> {
    elements_found(document.query_selector_all(selector), selector)
}

/// The elements of a `querySelectorAll` answer, or the error naming the selector.
fn elements_found(
    found: Result<web_sys::NodeList, JsValue>,
    selector: &str,
) -> Result<Vec<Element>, String> {
    let nodes =
        found.map_err(|_| format!("{selector:?} is not a selector this browser accepts"))?;
    Ok((0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|node| node.dyn_into::<Element>().ok())
        .collect())
}

/// `element.replaceChildren(fragment)` with an exception returned, not thrown: a JS
/// exception crossing the wasm boundary would abandon the rest of `apply` and leave
/// the runtime borrowed, so every later call would fail.
fn replace_children(element: &Element, fragment: &DocumentFragment) -> Result<(), String> {
    use web_sys::js_sys::{Function, Reflect};
    let method = Reflect::get(element, &JsValue::from_str("replaceChildren"))
        .map_err(js_error)?
        .dyn_into::<Function>()
        .map_err(|_| "this browser has no replaceChildren".to_string())?;
    method
        .call1(element, fragment)
        .map(|_| ())
        .map_err(js_error)
}

fn clone_fragment(fragment: &DocumentFragment) -> Result<DocumentFragment, String> {
    fragment
        .clone_node_with_deep(true)
        .map_err(js_error)?
        .dyn_into::<DocumentFragment>()
        .map_err(|_| "a cloned fragment is not a fragment".to_string())
}

fn mark(element: &Element, key: Option<&str>) -> Result<(), String> {
    match key {
        Some(key) => set(element, APPLIED_ATTRIBUTE, key),
        None => element
            .remove_attribute(APPLIED_ATTRIBUTE)
            .map_err(js_error),
    }
}

fn create(document: &Document, tag: &str) -> Result<Element, String> {
    document.create_element(tag).map_err(js_error)
}

fn set(element: &Element, name: &str, value: &str) -> Result<(), String> {
    element.set_attribute(name, value).map_err(js_error)
}

fn style(element: &Element, properties: &[(&str, &str)]) -> Result<(), String> {
    let Some(element) = element.dyn_ref::<HtmlElement>() else {
        return Ok(());
    };
    let declaration = element.style();
    for (name, value) in properties {
        declaration.set_property(name, value).map_err(js_error)?;
    }
    Ok(())
}

/// A thrown DOM exception as text.
fn js_error(error: JsValue) -> String {
    error
        .as_string()
        .or_else(|| {
            error
                .dyn_ref::<web_sys::js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "the browser refused the change".to_string())
}

/// The page as it was before the attribute changes made so far (by this runtime or
/// the edge): what a rule's selector is asked of, since a rule may select by a value
/// a change writes (`a[href="/book"]`). Only for a selector that may look at a
/// changed attribute is the page copied (once, deeply, into an inert document,
/// where nothing loads or runs) and the original values put back on the copy;
/// otherwise the page itself answers, as it would. The copy has the page's
/// structure and attributes; state pseudo-classes (`:hover`, `:checked`,
/// `:defined`) may read differently there.
struct PageAsItWas<'a> {
    /// The changed attributes: element, name, the page's own value (`None`: none).
    originals: Vec<&'a (Element, String, Option<String>)>,
    /// The copy with the originals back (made on first need; `None` inside if the
    /// page could not be copied).
    copy: Option<Option<Element>>,
}

impl<'a> PageAsItWas<'a> {
    fn new(originals: Vec<&'a (Element, String, Option<String>)>) -> PageAsItWas<'a> {
        PageAsItWas {
            originals,
            copy: None,
        }
    }

    /// Whether `selector` could read differently on the page as it was.
    fn needed_for(&self, selector: &str) -> bool {
        self.originals
            .iter()
            .any(|(_, name, _)| selector_may_test_attribute(selector, name))
    }

    /// The copy's root element, made on first call.
    fn copy_root(&mut self, page: &Document) -> Option<Element> {
        let originals = &self.originals;
        self.copy
            .get_or_insert_with(|| copy_as_it_was(page, originals).ok())
            .clone()
    }

    /// The page's elements that `selector` selects on the page as it was.
    fn select(&mut self, page: &Document, selector: &str) -> Result<Vec<Element>, String> {
        let roots = if self.needed_for(selector) {
            self.copy_root(page).zip(page.document_element())
        } else {
            None
        };
        let Some((copy_root, page_root)) = roots else {
            return select_all(page, selector);
        };
        let found = elements_found(copy_root.query_selector_all(selector), selector)?;
        // The root itself is not among what `querySelectorAll` on it returns.
        let mut selected: Vec<Element> = copy_root
            .matches(selector)
            .unwrap_or(false)
            .then(|| page_root.clone())
            .into_iter()
            .collect();
        selected.extend(
            found
                .iter()
                .filter_map(|copied| counterpart(&copy_root, copied, &page_root)),
        );
        Ok(selected)
    }

    /// Whether `selector` matches the page's `element` on the page as it was (false
    /// when it cannot read differently there: the caller asks the page first).
    fn matches(&mut self, page: &Document, element: &Element, selector: &str) -> bool {
        if !self.needed_for(selector) {
            return false;
        }
        let (Some(copy_root), Some(page_root)) = (self.copy_root(page), page.document_element())
        else {
            return false;
        };
        counterpart(&page_root, element, &copy_root)
            .is_some_and(|copied| copied.matches(selector).unwrap_or(false))
    }
}

/// A deep copy of the page's root element in a new inert document, with the
/// `originals` put back; returns the copy's root.
fn copy_as_it_was(
    page: &Document,
    originals: &[&(Element, String, Option<String>)],
) -> Result<Element, JsValue> {
    let page_root = page
        .document_element()
        .ok_or_else(|| JsValue::from_str("no root element"))?;
    let inert = page.implementation()?.create_html_document()?;
    let copy = inert.import_node_with_deep(&page_root, true)?;
    match inert.document_element() {
        Some(empty_root) => inert.replace_child(&copy, &empty_root)?,
        None => inert.append_child(&copy)?,
    };
    let copy_root = copy.dyn_into::<Element>().map_err(JsValue::from)?;
    for (element, name, original) in originals {
        if let Some(copied) = counterpart(&page_root, element, &copy_root) {
            let _ = match original {
                Some(value) => copied.set_attribute(name, value),
                None => copied.remove_attribute(name),
            };
        }
    }
    Ok(copy_root)
}

/// The element at the same place under `to_root` as `element` under `from_root`
/// (the page and its copy have the same element tree). `None` if `element` is not
/// under `from_root` (detached, in a shadow tree) or the place does not exist.
fn counterpart(from_root: &Element, element: &Element, to_root: &Element) -> Option<Element> {
    let path = path_below(from_root, element)?;
    if path.is_empty() {
        return Some(to_root.clone());
    }
    descend(to_root.first_element_child(), &path)
}

/// The element-sibling positions from `root` down to `element`, top first (empty:
/// `element` is `root`); `None` if `element` is not under `root`.
fn path_below(root: &Element, element: &Element) -> Option<Vec<usize>> {
    let mut positions = Vec::new();
    let mut at = element.clone();
    while !at.is_same_node(Some(root)) {
        let mut position = 0;
        let mut before = at.previous_element_sibling();
        while let Some(sibling) = before {
            position += 1;
            before = sibling.previous_element_sibling();
        }
        positions.push(position);
        at = at.parent_element()?;
    }
    positions.reverse();
    Some(positions)
}

/// The element at `path` (non-empty) below a node whose first element child is
/// `first`.
fn descend(first: Option<Element>, path: &[usize]) -> Option<Element> {
    let mut children = first;
    let mut found = None;
    for &position in path {
        let mut child = children?;
        for _ in 0..position {
            child = child.next_element_sibling()?;
        }
        children = child.first_element_child();
        found = Some(child);
    }
    found
}

/// Whether `selector` may read the attribute `name`: an attribute test on it
/// (`[href…]`, `[ HREF…]`, `[*|href…]`; names are ASCII case-insensitive in HTML),
/// a pseudo-class that depends on it (`:any-link`, `:placeholder-shown`, …), or an
/// escape this does not decode (`[hr\65 f]`), to be safe. Only such a selector can
/// select differently once the attribute changed.
pub(crate) fn selector_may_test_attribute(selector: &str, name: &str) -> bool {
    let tested = selector.split('[').skip(1).any(|test| {
        let inside = test.split(']').next().unwrap_or(test);
        // An escape is not decoded here: counted as a test of this attribute.
        if inside.contains('\\') {
            return true;
        }
        let inside = inside.trim_start();
        let inside = inside
            .strip_prefix("*|")
            .or_else(|| inside.strip_prefix('|'))
            .unwrap_or(inside)
            .as_bytes();
        let named = inside
            .get(..name.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(name.as_bytes()));
        let ends = inside
            .get(name.len())
            .is_none_or(|&b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        named && ends
    });
    let pseudo_classes: &[&str] = match name.to_ascii_lowercase().as_str() {
        "href" => &[":any-link", ":link", ":visited", ":local-link"],
        "placeholder" => &[":placeholder-shown"],
        _ => &[],
    };
    tested
        || (!pseudo_classes.is_empty() && {
            let lowered = selector.to_ascii_lowercase();
            pseudo_classes.iter().any(|p| lowered.contains(p))
        })
}
