// Keeps Cloudflare's HTMLRewriter from stopping in the middle of a page.
//
// workerd runs lol-html in strict mode, which has no switch: on a text-parsing start
// tag (`<style>`, `<noscript>`, `<iframe>`, `<title>`, …) between `<select>` and
// `</select>`, or anywhere after `<frameset>`, it cannot tell without a tree builder
// whether what follows is markup or text, so it throws. The response stream then
// errors and the visitor gets a truncated page. It takes only non-conforming markup
// (an unclosed `<select>` before Google Tag Manager's `<noscript><iframe>` is enough).
//
// The guard reads the origin's bytes before the rewriter does. In those two contexts
// it takes each text-parsing element out of the rewriter's input (from `<style` up
// to its `</style`) and puts an HTML comment with a per-response nonce in its place;
// on the way out, the comment is replaced by the element's own bytes, untouched.
// The rewriter never sees the tag, so it never throws, and every other byte goes
// through it as before. Nothing is held back: the element's bytes stream out as they
// arrive, and the rewriter gets nothing more until its end tag has passed. The price
// is a JavaScript stream on each side of the rewriter (BENCHMARKS.md, "Edge").
//
// It skips comments and the content of text-parsing elements, as the tokenizer does.
// What it cannot know, since it reads bytes and not a tree:
// - a `<select` inside an attribute value also counts, so some elements may be
//   carried around the rewriter without need (their bytes are the same either way);
// - a carried element inside a slot that the rewriter empties goes with the slot's
//   old content, as it would have; only one that never ends (`<plaintext>`, or a
//   `<style>` with no end tag) and is emptied that way still comes out, at the end
//   of the page, so that no byte of the origin's is lost.

/**
 * Elements whose content is text to the HTML parser, which strict mode refuses inside
 * `<select>` (a `<textarea>` closes the select there and a `<script>` is allowed)…
 */
const REFUSED_IN_SELECT = new Set(["style", "title", "noscript", "iframe", "xmp", "noembed", "noframes", "plaintext"]);
/** …and, with these two, inside a `<template>` in a `<select>` and after `<frameset>`. */
const TEXT_PARSING = [...REFUSED_IN_SELECT, "textarea", "script"];
/** What may follow a tag name: the HTML tokenizer's end of the name. */
const NAME_END = "(?=[\\t\\n\\f\\r />])";
/**
 * What the guard reads: comments, and the start and end tags of `<select>`,
 * `<frameset>`, `<template>` and the text-parsing elements.
 */
const TAG = new RegExp(`<(?:(!--)|(/?)(select|frameset|template|${TEXT_PARSING.join("|")})${NAME_END})`, "gi");
const COMMENT_END = /-->/g;
/** Never matches: `<plaintext>` has no end tag, the rest of the page is its text. */
const NO_END = /(?!)/g;
const endTags = new Map();

/** The pattern of `name`'s end tag (sticky to no position: used with `lastIndex`). */
function endTag(name) {
  if (name === "plaintext") return NO_END;
  let pattern = endTags.get(name);
  if (!pattern) endTags.set(name, (pattern = new RegExp(`</${name}${NAME_END}`, "gi")));
  return pattern;
}
/** Long enough for every tag the guard looks for, with the character after its name. */
const LONGEST_TAG = 12;
/** Byte-for-character text: offsets in the string are offsets in the bytes. */
const bytesAsText = new TextDecoder("windows-1252");
const encoder = new TextEncoder();

/**
 * The index of a `<` in the last `window` characters of `text` that may begin a tag
 * the next chunk completes, or `text.length`.
 */
function unfinishedTagAt(text, window) {
  const at = text.lastIndexOf("<");
  return at >= 0 && at >= text.length - window ? at : text.length;
}

/**
 * `body` (a stream of bytes) rewritten by `rewrite` (a stream of bytes to a stream of
 * bytes, e.g. HTMLRewriter's `transform`) with the text-parsing elements that would
 * make a strict-mode lol-html throw carried around it, byte for byte.
 * @param {ReadableStream<Uint8Array>} body
 * @param {(input: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>} rewrite
 * @returns {ReadableStream<Uint8Array>}
 */
export function rewriteAroundAmbiguity(body, rewrite) {
  const nonce = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
  const markerStart = `<!--ep-carried:${nonce}:`;
  /** The carried elements in page order: `{ marker, parts, done, drained, toEnd }`. */
  const carried = [];
  let output = null; // the outgoing stream's controller
  let draining = null; // the carried element whose marker the output has reached
  let heldOutput = []; // the rewriter's output after that marker, until it is done

  // The way in: what the rewriter reads.
  let carry = new Uint8Array(0); // the end of the last chunk, if it may start a tag
  let inSelect = false;
  let templateInSelect = false;
  let afterFrameset = false;
  // The comment or text-parsing element being read, with the pattern of its end;
  // `element` is set when it is carried around the rewriter.
  let open = null;

  const append = (element, bytes) => {
    if (!bytes.length) return;
    if (draining === element) output.enqueue(bytes);
    else element.parts.push(bytes);
  };

  const finish = (element) => {
    element.done = true;
    if (draining === element) {
      draining = null;
      const rest = heldOutput;
      heldOutput = [];
      for (const chunk of rest) emit(chunk);
    }
  };

  /** Reads `bytes` (the carry and a new chunk); `last` at the end of the body. */
  const read = (bytes, last, controller) => {
    const text = bytesAsText.decode(bytes);
    const limit = last ? text.length : unfinishedTagAt(text, LONGEST_TAG);
    let stop = limit; // what is read now; the rest waits for the next chunk
    let from = 0; // the bytes before it have gone to the rewriter or a carried element
    // One piece per chunk where nothing is carried: every chunk costs the rewriter.
    const passUpTo = (to) => {
      if (to <= from) return;
      const part = from === 0 && to === bytes.length ? bytes : bytes.slice(from, to);
      if (open?.element) append(open.element, part);
      else controller.enqueue(part);
      from = to;
    };
    let at = 0;
    while (at < limit) {
      if (open) {
        // Inside a comment or a text-parsing element: only its end counts.
        open.end.lastIndex = at;
        const end = open.end.exec(text);
        if (!end || end.index >= limit) {
          // Its end may begin in the last few bytes (`--` of `-->`).
          if (!last) stop = Math.max(at, limit - LONGEST_TAG);
          break;
        }
        at = end.index + end[0].length;
        if (open.element) {
          passUpTo(at);
          finish(open.element);
        }
        open = null;
        continue;
      }
      TAG.lastIndex = at;
      const tag = TAG.exec(text);
      if (!tag || tag.index >= limit) break;
      const [, comment, closing, rawName] = tag;
      const name = rawName?.toLowerCase();
      if (comment) {
        open = { element: null, end: COMMENT_END };
      } else if (name === "select") {
        inSelect = !closing;
        templateInSelect = false;
      } else if (name === "frameset") {
        afterFrameset ||= !closing;
      } else if (name === "template") {
        templateInSelect ||= inSelect && !closing;
      } else if (!closing) {
        const end = endTag(name);
        if (afterFrameset || templateInSelect || (inSelect && REFUSED_IN_SELECT.has(name))) {
          // Where strict mode would throw: carried around the rewriter, a marker in its place.
          passUpTo(tag.index);
          const element = { marker: carried.length, parts: [], done: false, drained: false, toEnd: false };
          carried.push(element);
          controller.enqueue(encoder.encode(`${markerStart}${element.marker}-->`));
          open = { element, end };
        } else {
          // Its content is text: a `<select` in a script is not a select.
          open = { element: null, end };
        }
      }
      at = tag.index + tag[0].length;
    }
    passUpTo(stop);
    carry = bytes.slice(stop);
  };

  const input = new TransformStream({
    transform(chunk, controller) {
      const bytes = carry.length ? concat(carry, chunk) : chunk;
      read(bytes, false, controller);
    },
    flush(controller) {
      if (carry.length) read(carry, true, controller);
      if (open) {
        open.element.toEnd = true;
        finish(open.element);
        open = null;
      }
    },
  });

  // The way out: markers replaced by the carried bytes.
  const markerText = new RegExp(`${markerStart.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\d+)-->`, "g");
  let scanFrom = 0; // carried elements before this one are drained or were dropped
  let tail = new Uint8Array(0); // the end of the last output chunk, if it may start a marker

  /** Where a marker that the next chunk may complete begins in `text`, or `text.length`. */
  const unfinishedMarkerAt = (text) => {
    const at = text.lastIndexOf("<");
    if (at < 0) return text.length;
    const rest = text.slice(at);
    const partial = rest.length <= markerStart.length
      ? markerStart.startsWith(rest)
      : rest.startsWith(markerStart) && /^\d*-?-?$/.test(rest.slice(markerStart.length));
    return partial ? at : text.length;
  };

  function emit(chunk) {
    if (draining) {
      heldOutput.push(chunk);
      return;
    }
    if (scanFrom >= carried.length && !tail.length) {
      output.enqueue(chunk);
      return;
    }
    const bytes = tail.length ? concat(tail, chunk) : chunk;
    const text = bytesAsText.decode(bytes);
    const limit = unfinishedMarkerAt(text);
    markerText.lastIndex = 0;
    let at = 0;
    for (let found = markerText.exec(text); found && found.index < limit; found = markerText.exec(text)) {
      if (found.index > at) output.enqueue(bytes.slice(at, found.index));
      at = found.index + found[0].length;
      const element = carried[Number(found[1])];
      if (!element || element.drained) continue;
      // Elements before it whose markers never came out went with a slot's old content.
      scanFrom = Math.max(scanFrom, element.marker + 1);
      element.drained = true;
      for (const part of element.parts) output.enqueue(part);
      element.parts = [];
      if (!element.done) {
        draining = element;
        heldOutput.push(bytes.slice(at));
        tail = new Uint8Array(0);
        return;
      }
    }
    if (at < limit) output.enqueue(bytes.slice(at, limit));
    tail = bytes.slice(limit);
  }

  const restore = new TransformStream({
    start(controller) {
      output = controller;
    },
    transform(chunk) {
      emit(chunk);
    },
    flush() {
      // (Only if the rewriter stopped early: its input ends after every element has.)
      if (draining) for (const chunk of heldOutput) output.enqueue(chunk);
      if (tail.length) output.enqueue(tail);
      // An element that ran to the end of the page but went with a slot's content:
      // its bytes still go out, so that the page is never cut short.
      for (const element of carried) {
        if (!element.drained && element.toEnd) for (const part of element.parts) output.enqueue(part);
      }
    },
  });

  return rewrite(body.pipeThrough(input)).pipeThrough(restore);
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
