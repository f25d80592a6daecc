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
// It reads the page as the HTML tokenizer does where that matters (tags and their
// quoted attribute values, comments, bogus comments, the content of text-parsing
// elements) and follows lol-html's own ambiguity state machine
// (`tree_builder_simulator/ambiguity_guard.rs`): in select, in a template in a
// select, in or after a frameset. What it does not model, which lol-html does:
// - script data's escaped states (`<script><!--<script>…`), where a `</script>` does
//   not end the script;
// - SVG and MathML, where a `<style>` holds markup, not text.
// A page with a `<select>` or `<frameset>` and one of those may still stop
// HTMLRewriter; the default strategy (our wasm, non-strict) has no such limit.
// A carried element inside a slot that the rewriter empties goes with the slot's old
// content, as it would have; only one that never ends (`<plaintext>`, or a `<style>`
// with no end tag) and is emptied that way still comes out, at the end of the page,
// so that no byte of the origin's is lost. Markup appended at the end of the page
// (the hand-off) then lands in that element's text, as it would with any rewriter.

/** Elements whose content the tokenizer reads as text, up to their end tag. */
const TEXT_PARSING = new Set(["textarea", "title", "plaintext", "script", "style", "iframe", "xmp", "noembed", "noframes", "noscript"]);
/** Start tags that end "in select" without an error (lol-html's list). */
const LEAVE_SELECT = new Set(["select", "textarea", "input", "keygen"]);
/**
 * Where the tokenizer may see something that matters, in text: a comment, a bogus
 * comment (`<!x`, `<?x`, `</ x`), or a start or end tag and its name.
 */
const MARKUP = /<(?:(!--)|[!?]|(\/?)([A-Za-z][^\t\n\f\r />]*)|\/)/g;
/** Never matches: `<plaintext>` has no end tag, the rest of the page is its text. */
const NO_END = /(?!)/g;
const COMMENT_END = /--!?>/g;
const endTags = new Map();

/** The pattern of `name`'s end tag (used with `lastIndex`). */
function endTag(name) {
  if (name === "plaintext") return NO_END;
  let pattern = endTags.get(name);
  if (!pattern) endTags.set(name, (pattern = new RegExp(`</${name}(?=[\\t\\n\\f\\r />])`, "gi")));
  return pattern;
}

/**
 * lol-html's ambiguity state machine: "default", "select", "template" (in a
 * template in a select, `depth` deep) or "frameset" (in or after one).
 */
class AmbiguityState {
  constructor() {
    this.state = "default";
    this.depth = 0;
  }

  /** Tracks a start tag; true when strict mode would refuse it here. */
  refusesStart(name) {
    switch (this.state) {
      case "default":
        if (name === "select") this.state = "select";
        else if (name === "frameset") this.state = "frameset";
        return false;
      case "select":
        if (LEAVE_SELECT.has(name)) this.state = "default";
        else if (name === "template") [this.state, this.depth] = ["template", 1];
        else return name !== "script" && TEXT_PARSING.has(name);
        return false;
      case "template":
        if (name === "template") this.depth += 1;
        else return TEXT_PARSING.has(name);
        return false;
      default: // "frameset"
        return name !== "noframes" && TEXT_PARSING.has(name);
    }
  }

  /** Tracks an end tag. */
  end(name) {
    if (this.state === "select" && name === "select") this.state = "default";
    else if (this.state === "template" && name === "template") {
      this.depth -= 1;
      if (this.depth === 0) this.state = "select";
    }
  }
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
  const ambiguity = new AmbiguityState();
  // Where the tokenizer is: "data" (text and markup), "tag" (inside a tag, until its
  // `>`), "comment", "bogus" (a bogus comment, until `>`) or "text" (the content of a
  // text-parsing element, until `end`).
  let mode = "data";
  // In "tag": { state, textEnd, finishes }: where in the tag the reading is, the end
  // of the element's text if it is a text-parsing start tag, and the carried element
  // this end tag finishes.
  let tag = null;
  let end = null; // in "comment" and "text": the pattern of its end
  let carrying = null; // the carried element the bytes now go to, or null

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

  /**
   * In "tag" from `at`: the index after the tag's `>`, or -1 if it goes on past
   * `limit` (`tag.state` then says where in it the next chunk starts). The states are
   * lol-html's (and the HTML tokenizer's) from the tag name to the tag's end: a quote
   * opens a value only right after `=`, before anything else of the value.
   */
  const tagEnd = (text, at, limit) => {
    let state = tag.state;
    for (let i = at; i < limit; i += 1) {
      const c = text[i];
      const space = c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f";
      if (state === "selfClosing") {
        if (c === ">") return i + 1;
        state = "beforeName";
      }
      switch (state) {
        case "tagName":
          if (space) state = "beforeName";
          else if (c === "/") state = "selfClosing";
          else if (c === ">") return i + 1;
          break;
        case "beforeName":
          if (c === "/") state = "selfClosing";
          else if (c === ">") return i + 1;
          else if (!space) state = "name";
          break;
        case "name":
          if (space) state = "afterName";
          else if (c === "=") state = "beforeValue";
          else if (c === "/") state = "selfClosing";
          else if (c === ">") return i + 1;
          break;
        case "afterName":
          if (c === "/") state = "selfClosing";
          else if (c === "=") state = "beforeValue";
          else if (c === ">") return i + 1;
          else if (!space) state = "name";
          break;
        case "beforeValue":
          if (c === '"') state = "doubleQuoted";
          else if (c === "'") state = "singleQuoted";
          else if (c === ">") {
            // lol-html's quirk: after `src=>` it goes on in markup, not in the
            // element's text (a carried element is out of its sight anyway).
            if (!carrying) tag.textEnd = null;
            return i + 1;
          } else if (!space) state = "unquoted";
          break;
        case "doubleQuoted":
          if (c === '"') state = "beforeName";
          break;
        case "singleQuoted":
          if (c === "'") state = "beforeName";
          break;
        default: // "unquoted"
          if (space) state = "beforeName";
          else if (c === ">") return i + 1;
      }
    }
    tag.state = state;
    return -1;
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
      if (carrying) append(carrying, part);
      else controller.enqueue(part);
      from = to;
    };
    let at = 0;
    while (at < limit) {
      if (mode === "tag") {
        const after = tagEnd(text, at, limit);
        if (after < 0) {
          at = limit;
          break;
        }
        at = after;
        [mode, end] = tag.textEnd ? ["text", tag.textEnd] : ["data", null];
        if (tag.finishes) {
          passUpTo(at);
          finish(tag.finishes);
          carrying = null;
        }
        tag = null;
        continue;
      }
      if (mode === "bogus") {
        const after = text.indexOf(">", at);
        if (after < 0 || after >= limit) {
          at = limit;
          break;
        }
        at = after + 1;
        mode = "data";
        continue;
      }
      if (mode === "comment" || mode === "text") {
        end.lastIndex = at;
        const found = end.exec(text);
        if (!found || found.index >= limit) {
          // Its end may begin in the last few bytes (`--` of `-->`).
          if (!last) stop = Math.max(at, limit - LONGEST_TAG);
          break;
        }
        at = found.index + found[0].length;
        if (mode === "text") {
          // The end tag goes on to its `>`, attributes and all, as lol-html reads it;
          // a carried element ends there.
          [mode, end] = ["tag", null];
          tag = { state: "tagName", textEnd: null, finishes: carrying };
        } else {
          [mode, end] = ["data", null];
        }
        continue;
      }
      MARKUP.lastIndex = at;
      const found = MARKUP.exec(text);
      if (!found || found.index >= limit) break;
      const [whole, comment, closing, rawName] = found;
      at = found.index + whole.length;
      if (comment) {
        // `<!-->` and `<!--->` end at once; otherwise at `-->` or `--!>`.
        const abrupt = /^-?>/.exec(text.slice(at, at + 2));
        if (abrupt) at += abrupt[0].length;
        else [mode, end] = ["comment", COMMENT_END];
        continue;
      }
      if (!rawName) {
        mode = "bogus";
        continue;
      }
      const name = rawName.toLowerCase();
      let textEnd = null;
      if (closing) {
        ambiguity.end(name);
      } else if (ambiguity.refusesStart(name)) {
        // Where strict mode would throw: carried around the rewriter, a marker in its place.
        passUpTo(found.index);
        const element = { marker: carried.length, parts: [], done: false, drained: false, toEnd: false };
        carried.push(element);
        controller.enqueue(encoder.encode(`${markerStart}${element.marker}-->`));
        carrying = element;
        textEnd = endTag(name);
      } else if (TEXT_PARSING.has(name)) {
        // Its content is text: a `<select` in a script is not a select.
        textEnd = endTag(name);
      }
      mode = "tag";
      tag = { state: "tagName", textEnd, finishes: null };
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
      // A carried element the page never ended: its bytes run to the end.
      if (carrying) {
        carrying.toEnd = true;
        finish(carrying);
        carrying = null;
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
      // Elements before it whose markers never came out went with a slot's old
      // content (each had ended before the next began): their bytes are not needed.
      for (let i = scanFrom; i < element.marker; i += 1) carried[i].parts = [];
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
