// edge-persona/cloudflare — personalized HTML from a Cloudflare Worker.
//
// The visitor receives the page already personalized: no flicker, and the browser
// runtime on the page picks up the edge's decision from the hand-off element instead
// of deciding again. Works in any runtime with fetch, Web Streams and WebAssembly:
// workerd (Cloudflare, Miniflare) and Node (the demo's local edge).
//
//   import wasm from "edge-persona/cloudflare.wasm";   // a WebAssembly.Module in Workers
//   import { createHandler } from "edge-persona/cloudflare";
//   export default createHandler({ config, wasm });
//
// Two rewriting strategies, same decisions:
// - "lol-html": our wasm streams the body through lol-html. Each slot is swapped
//   whole or not at all, `<template data-ep-variant>` variants later in the page are
//   honoured, and a rewriter that bails out passes the rest through.
// - "htmlrewriter": Cloudflare's native HTMLRewriter applies the wasm's plan. Slots
//   whose variant is a page `<template>` are left to the browser runtime (the
//   hand-off tells it), since HTMLRewriter cannot look ahead; nor can it capture
//   content, so no slot's default is sent along (`keepDefault`). Workers only. A response whose
//   Content-Type does not declare UTF-8 goes through "lol-html", which follows a
//   `<meta charset>` and writes text in the page's own encoding. Slot elements whose
//   end tag a page may leave out (`<p>`, `<li>`, table cells) are left to the browser
//   runtime, hidden until it applies them: HTMLRewriter cannot tell where they end.
//   Markup that HTMLRewriter's strict parser refuses (a `<style>` in a `<select>`)
//   is carried around it by ambiguity-guard.js, which costs a JavaScript stream on
//   each side of it.
// - "auto" (default): "lol-html", measured faster than "htmlrewriter" with its guard
//   (BENCHMARKS.md, "Edge").
//
// Nothing here breaks a response: a config that fails to load, a request that does
// not parse, or a wasm failure means the origin's response goes out untouched.

import { initSync, EdgeWorker, originCookieWithoutConfig } from "./edge_persona_edge.js";
import { rewriteAroundAmbiguity } from "./ambiguity-guard.js";

let wasmLoaded = false;
/**
 * The wasm trapped (out of memory, or a bug): its memory can no longer be trusted,
 * so from then on this isolate passes every response through untouched.
 */
let wasmFailed = false;

/**
 * The site's `onError` (or a console line), never throwing: a callback that throws
 * must not cut a response short or leave a session unreleased.
 */
function safely(onError) {
  const report = onError ?? ((error) => console.error(`edge-persona: ${error.message}`));
  return (error) => {
    try {
      report(error);
    } catch {
      /* the site's logger failed */
    }
  };
}

function wasmFailure(error, onError) {
  wasmFailed = true;
  onError(new Error(`the wasm failed; responses pass through from now on (${error?.message ?? error})`));
}

/** The config as the wasm reads it: JSON text (an object is serialized). */
function configText(config) {
  return typeof config === "string" ? config : JSON.stringify(config ?? null) ?? "null";
}

function loadWasm(wasm) {
  if (wasmLoaded) return;
  if (!wasm) throw new Error("edge-persona/cloudflare: pass `wasm` (the WebAssembly.Module or the bytes of edge_persona_edge_bg.wasm)");
  initSync({ module: wasm });
  wasmLoaded = true;
}

/** One formatter per time zone: building an Intl.DateTimeFormat costs far more than using it. */
const offsetFormats = new Map();

function offsetFormat(timeZone) {
  let format = offsetFormats.get(timeZone);
  if (!format) {
    if (offsetFormats.size >= 512) offsetFormats.clear();
    format = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" });
    offsetFormats.set(timeZone, format);
  }
  return format;
}

const QUARTER_HOUR_MS = 15 * 60 * 1000;
/**
 * Each time zone's offset for the current quarter hour (UTC), so that most requests
 * skip `formatToParts`. Exact: offsets are whole quarter hours and change at whole
 * local minutes, so every change falls on a quarter-hour boundary in UTC.
 */
const offsetsThisQuarter = new Map();

/** `GMT+03:00` → 180, for the visitor's time zone as the platform names it. */
export function utcOffsetMinutes(timeZone, at = new Date()) {
  if (!timeZone) return 0;
  const quarter = Math.floor(at.getTime() / QUARTER_HOUR_MS);
  const known = offsetsThisQuarter.get(timeZone);
  if (known?.quarter === quarter) return known.minutes;
  let minutes = 0;
  try {
    const part = offsetFormat(timeZone)
      .formatToParts(at)
      .find((p) => p.type === "timeZoneName");
    const match = /GMT([+-])(\d{2}):(\d{2})/.exec(part?.value ?? "");
    if (match) {
      const magnitude = Number(match[2]) * 60 + Number(match[3]);
      minutes = match[1] === "-" ? -magnitude : magnitude;
    }
  } catch {
    minutes = 0;
  }
  if (offsetsThisQuarter.size >= 512) offsetsThisQuarter.clear();
  offsetsThisQuarter.set(timeZone, { quarter, minutes });
  return minutes;
}

/** A request header's value, null when it is absent or empty (as the Fastly program reads them). */
function headerValue(h, name) {
  return h.get(name) || null;
}

function requestFacts(request) {
  const h = request.headers;
  const cf = request.cf ?? {};
  return {
    method: request.method,
    url: request.url,
    cookie: headerValue(h, "cookie"),
    userAgent: headerValue(h, "user-agent"),
    acceptLanguage: headerValue(h, "accept-language"),
    referer: headerValue(h, "referer"),
    globalPrivacyControl: (h.get("sec-gpc") ?? "").trim() === "1",
    fetchDest: headerValue(h, "sec-fetch-dest"),
    purpose: purposeOf(h),
    // The region as a code (`cf.regionCode`, as Fastly gives it), not a name.
    geo: cf.country ? { country: cf.country, region: cf.regionCode ?? null, city: cf.city ?? null } : null,
    utcOffsetMinutes: utcOffsetMinutes(cf.timezone),
    nowMs: Date.now(),
  };
}

/** Why the browser fetched ahead of time, if it did (`Sec-Purpose` or an older name). */
function purposeOf(h) {
  return ["sec-purpose", "purpose", "x-purpose", "x-moz"].map((name) => headerValue(h, name)).find((v) => v !== null) ?? null;
}

/**
 * The encodings every runtime's fetch() decodes before handing the body over: the
 * header stays, but the body is the page itself. workerd decodes exactly `gzip`
 * (and `br` only under a compatibility flag), and only by that lowercase name
 * (`GZIP` stays encoded: checked in workerd 1.20250718), so that is all a page is read in;
 * page requests ask the origin for gzip or nothing (`originRequest`).
 */
const DECODED_BY_FETCH = new Set(["gzip", "identity", ""]);

/** The body's encoding if it may still be encoded (e.g. br, zstd), else null. */
function stillEncoded(contentEncoding) {
  const encoding = (contentEncoding ?? "").trim();
  return DECODED_BY_FETCH.has(encoding) ? null : encoding;
}

function responseHead(response) {
  const h = response.headers;
  return {
    status: response.status,
    contentType: h.get("content-type"),
    // An encoding fetch() did not decode makes the response pass through untouched.
    contentEncoding: stillEncoded(h.get("content-encoding")),
    contentRange: h.has("content-range"),
    cacheControl: h.get("cache-control"),
    contentSecurityPolicy: h.get("content-security-policy"),
  };
}

function entropy() {
  const words = new Uint32Array(2);
  crypto.getRandomValues(words);
  return words;
}

/**
 * The origin's response as it came, with the few header changes a pass-through
 * has (`Vary: Sec-Fetch-Dest` on a page a script fetched); its body and encoding
 * untouched.
 */
function passedThrough(originResponse, changes) {
  if (!changes?.remove?.length && !changes?.set?.length && !changes?.append?.length) return originResponse;
  const headers = applyHeaderChanges(new Headers(originResponse.headers), changes);
  return new Response(originResponse.body, { status: originResponse.status, statusText: originResponse.statusText, headers });
}

/** `headers` with the wasm's `{remove, set, append}` changes made. */
function applyHeaderChanges(headers, changes) {
  for (const name of changes.remove ?? []) headers.delete(name);
  for (const [name, value] of changes.set ?? []) headers.set(name, value);
  for (const [name, value] of changes.append ?? []) headers.append(name, value);
  return headers;
}

function changedHeaders(original, changes) {
  const headers = applyHeaderChanges(new Headers(original), changes);
  // The body leaves as identity; the platform may compress it again.
  headers.delete("content-encoding");
  return headers;
}

/**
 * The `Cookie` header for the origin (undefined: send none) when the wasm failed:
 * the profile cookie stays at the edge unless the config text asks to forward it.
 * Its name is read leniently, since a config that fails validation may still name
 * it. Where the wasm runs but the config did not load, the wasm's own rule applies
 * (`originCookieWithoutConfig`, which the Fastly program follows too): without
 * config text to read, it also keeps back any cookie whose value reads as a profile.
 */
export function originCookieWithoutEngine(config, header) {
  if (header === undefined || header === null) return undefined;
  let settings;
  try {
    settings = (typeof config === "string" ? JSON.parse(config) : config)?.cookie;
  } catch {
    settings = undefined;
  }
  if (settings?.forwardToOrigin === true) return header;
  const name = typeof settings?.name === "string" && settings.name.trim() ? settings.name : "ep";
  const nameOf = (pair) => (pair.includes("=") ? pair.slice(0, pair.indexOf("=")) : pair).trim();
  const pairs = header.split(";");
  if (!pairs.some((pair) => nameOf(pair) === name)) return header;
  const kept = pairs.map((pair) => pair.trim()).filter((pair) => pair && nameOf(pair) !== name);
  return kept.length ? kept.join("; ") : undefined;
}

/**
 * Whether `Content-Type` declares UTF-8. Only then may HTMLRewriter insert text:
 * a page in another encoding, or one that names its encoding only in a
 * `<meta charset>`, goes through our wasm, which follows the page's encoding.
 */
export function declaresUtf8(contentType) {
  const label = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? "")?.[1]?.toLowerCase();
  if (!label) return false;
  if (label === "utf-8" || label === "utf8") return true;
  try {
    return new TextDecoder(label).encoding === "utf-8";
  } catch {
    return false;
  }
}

/**
 * Elements whose end tag HTML lets a page leave out (`<p>…<p>`, `<li>…<li>`). Their
 * end is then only known at an ancestor's end tag, and HTMLRewriter's
 * setInnerContent, which removes the old content as it streams, would remove
 * everything up to there. Our wasm holds a slot until its end and keeps the
 * default (and the page) when the end tag was not its own.
 */
/**
 * Elements whose content the tokenizer reads as text (`core::html::TEXT_PARSING`):
 * a slot there gets only text, and only in <title> and <textarea>, as our wasm does.
 */
const TEXT_PARSING = new Set(["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"]);

const END_TAG_OPTIONAL = new Set([
  "p", "li", "dt", "dd", "option", "optgroup", "rb", "rt", "rtc", "rp",
  "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup", "caption",
]);

/**
 * "auto" is our wasm. HTMLRewriter alone measured faster in workerd, but it stops with
 * an error on markup its strict parser refuses, and the guard that prevents that
 * (ambiguity-guard.js) costs more than the whole of our wasm's rewriting
 * (BENCHMARKS.md, "Edge").
 */
const STRATEGIES = ["auto", "lol-html", "htmlrewriter"];

/** The strategy to run: a name in any case (`HTMLRewriter`); an unknown one is reported and runs the default. */
function chooseStrategy(requested, onError) {
  const strategy = String(requested).toLowerCase();
  if (!STRATEGIES.includes(strategy)) {
    onError(new Error(`unknown strategy ${JSON.stringify(requested)} (one of ${STRATEGIES.join(", ")}): using "auto"`));
    return "lol-html";
  }
  return strategy === "auto" ? "lol-html" : strategy;
}

/**
 * A personalizer for one worker isolate: loads the wasm and the config once.
 * @param {object} options
 * @param {object|string} options.config  the site config (object or JSON text)
 * @param {WebAssembly.Module|BufferSource} options.wasm  edge_persona_edge_bg.wasm
 * @param {{id: string, secret: string}[]|string} [options.keys]  HMAC keys for the profile cookie (or their JSON text)
 * @param {boolean} [options.explainHeader]  add `edge-persona-explain` (config ids only)
 * @param {"auto"|"lol-html"|"htmlrewriter"} [options.strategy]
 * @param {(error: Error) => void} [options.onError]  told about failures (no visitor data)
 */
export function createPersonalizer(options) {
  const { config, wasm, keys, explainHeader = false } = options;
  const onError = safely(options.onError);
  const strategy = chooseStrategy(options.strategy ?? "auto", onError);
  let worker = null;
  /** The config as JSON text, once (also for the origin's Cookie rule when it fails to load). */
  let configJson = "null";
  let runtimeMarkers = [];
  let pendingAttribute = "data-ep-pending";
  try {
    loadWasm(wasm);
    configJson = configText(config);
    const keysJson = typeof keys === "string" ? keys : keys ? JSON.stringify(keys) : undefined;
    worker = new EdgeWorker(configJson, keysJson, explainHeader);
    runtimeMarkers = worker.runtimeMarkers();
    pendingAttribute = worker.pendingAttribute();
  } catch (error) {
    onError(error instanceof Error ? error : new Error(String(error)));
  }

  /** The request to send to the origin: the profile cookie stays at the edge. */
  function originRequest(request, url = request.url) {
    const headers = new Headers(request.headers);
    const sent = request.headers.get("cookie") ?? undefined;
    let cookie;
    try {
      // Without a usable wasm (or config) the profile cookie still stays at the edge.
      if (wasmFailed || !wasmLoaded) cookie = originCookieWithoutEngine(config, sent);
      else if (worker) cookie = worker.originCookie(sent);
      else cookie = originCookieWithoutConfig(configJson, sent);
    } catch (error) {
      wasmFailure(error, onError);
      cookie = originCookieWithoutEngine(config, sent);
    }
    if (cookie === undefined) headers.delete("cookie");
    else headers.set("cookie", cookie);
    // A page request: gzip or nothing (`fetch()` decodes only gzip), no validators.
    const changes = pageRequestHeaders(request);
    if (changes) {
      headers.set("accept-encoding", changes.acceptEncoding);
      for (const name of changes.remove) headers.delete(name);
    }
    // A streamed body needs `duplex: "half"` in Node (workerd ignores it).
    const body = request.body ?? undefined;
    return new Request(url, { method: request.method, headers, body, redirect: "manual", ...(body ? { duplex: "half" } : {}) });
  }

  /** The header changes of a page request on its way to the origin, or null. */
  function pageRequestHeaders(request) {
    if (!worker || wasmFailed) return null;
    const h = request.headers;
    try {
      const json = worker.originRequestHeaders(request.method, h.get("sec-fetch-dest") ?? undefined,
        purposeOf(h) ?? undefined, h.get("accept") ?? undefined, h.get("accept-encoding") ?? undefined);
      return json === undefined ? null : JSON.parse(json);
    } catch (error) {
      wasmFailure(error, onError);
      return null;
    }
  }

  /** The origin's response, personalized for `request` (or untouched). */
  function personalize(request, originResponse) {
    if (!worker || wasmFailed || !originResponse.body) return originResponse;
    try {
      return strategy === "htmlrewriter" && declaresUtf8(originResponse.headers.get("content-type"))
        ? withHtmlRewriter(worker, { runtimeMarkers, pendingAttribute }, request, originResponse, onError)
        : withLolHtml(worker, request, originResponse, onError);
    } catch (error) {
      // A trap (out of memory, a bug) leaves the wasm's memory unusable: no more of it.
      if (error instanceof WebAssembly.RuntimeError) wasmFailure(error, onError);
      else onError(error instanceof Error ? error : new Error(String(error)));
      return originResponse;
    }
  }

  return { originRequest, personalize, strategy, get ready() { return worker !== null; } };
}

/** Personalizers made by `personalize`, one per options object. */
const personalizers = new WeakMap();

/**
 * The origin's response personalized for `request`, in one call: the personalizer
 * for `options` is made on first use and kept, so pass the same options object
 * every time (a module-level constant) to load the config once per isolate.
 * @param {Request} request
 * @param {Response} originResponse
 * @param {Parameters<typeof createPersonalizer>[0]} options
 */
export function personalize(request, originResponse, options) {
  return personalizerFor(options).personalize(request, originResponse);
}

/**
 * The request to send to the origin for `request`, in one call (the companion of
 * `personalize`, with the same options object): without the profile cookie (unless
 * the config forwards it), and for a page, asking for an encoding the edge reads.
 *
 * @param {Request} request
 * @param {string} [url]  where on the origin (default: the request's own URL)
 * @param {Parameters<typeof createPersonalizer>[0]} options
 */
export function originRequest(request, url, options) {
  return personalizerFor(options).originRequest(request, url ?? request.url);
}

/** The personalizer made for `options`, on first use, kept for the isolate. */
function personalizerFor(options) {
  let personalizer = personalizers.get(options);
  if (!personalizer) {
    personalizer = createPersonalizer(options);
    personalizers.set(options, personalizer);
  }
  return personalizer;
}

function withLolHtml(worker, request, originResponse, onError) {
  const [hi, lo] = entropy();
  const session = worker.respond(JSON.stringify(requestFacts(request)), JSON.stringify(responseHead(originResponse)), hi, lo);
  if (session.pass !== undefined) {
    let changes;
    try {
      changes = JSON.parse(session.headers);
    } finally {
      session.free();
    }
    return passedThrough(originResponse, changes);
  }
  let headers;
  try {
    headers = changedHeaders(originResponse.headers, JSON.parse(session.headers));
  } catch (error) {
    // A header the runtime's Headers refuses: the page passes through (the caller
    // reports it), and the session must not be left holding a rewriter.
    session.free();
    throw error;
  }
  // Until the session has given out its first bytes, the input is kept: if the wasm
  // fails by then, the page goes out whole, as the origin sent it.
  let unanswered = [];
  let passing = false;
  let freed = false;
  let cancelled = false; // the visitor went away
  const release = () => {
    if (!freed && !wasmFailed) {
      freed = true;
      session.free();
    }
  };
  // The origin's body is pulled as the visitor reads, rather than piped through a
  // TransformStream: in workerd that costs less per response (BENCHMARKS.md, "Edge").
  const origin = originResponse.body.getReader();
  /**
   * Sends the visitor what `chunk` of the origin's body (or its end, when `chunk` is
   * null) gives: true once bytes were sent or the stream ended, false if the session
   * holds them for now and the next chunk is needed.
   */
  const step = (controller, chunk) => {
    const last = chunk === null;
    if (passing) {
      if (last) controller.close();
      else controller.enqueue(chunk);
      return true;
    }
    // Another response's failure leaves this session's memory gone too.
    if (wasmFailed) return failed(controller, chunk);
    let out;
    try {
      out = last ? session.end() : session.write(chunk);
    } catch (error) {
      wasmFailure(error, onError);
      return failed(controller, chunk);
    }
    if (last) {
      // Rewriting that stopped early (a memory limit: the rest went out untouched)
      // is the site's to know; the message names no visitor data.
      const failure = session.failure;
      if (failure) onError(new Error(`edge-persona: ${failure}`));
      release();
      if (out.length) controller.enqueue(out);
      controller.close();
      return true;
    }
    if (!out.length) {
      unanswered?.push(chunk);
      return false;
    }
    unanswered = null;
    controller.enqueue(out);
    return true;
  };
  // The wasm failed (it does not panic: this is out of memory or a trap, here or in
  // another response of this isolate) and the bytes it held are gone with it.
  const failed = (controller, chunk) => {
    if (unanswered) {
      passing = true;
      for (const held of unanswered) controller.enqueue(held);
      unanswered = null;
      if (chunk) controller.enqueue(chunk);
      else controller.close();
      return true;
    }
    // Part of the page has left and part is lost: end the response as failed, so
    // the browser and any cache see an incomplete response, not a whole page
    // with a hole in it.
    const error = new Error("edge-persona: the rewriter failed mid-page");
    controller.error(error);
    origin.cancel(error).catch(() => {});
    return true;
  };
  const body = new ReadableStream({
    async pull(controller) {
      // A pull that enqueues nothing is not called again: read until something goes out.
      for (;;) {
        let next;
        try {
          next = await origin.read();
        } catch (error) {
          release();
          throw error;
        }
        // Cancelling ends a pending read as done: the session is gone by then.
        if (cancelled || step(controller, next.done ? null : next.value)) return;
      }
    },
    // The visitor went away mid-stream: the session's memory goes back to the wasm.
    cancel(reason) {
      cancelled = true;
      release();
      return origin.cancel(reason);
    },
  });
  return new Response(body, {
    status: originResponse.status,
    statusText: originResponse.statusText,
    headers,
  });
}

/**
 * Registers `handler` for the element's end tag; false if it can have none (a void
 * element, or a self-closed one in SVG or MathML), where HTMLRewriter's onEndTag
 * throws. (workerd's Element has no `canHaveContent`.)
 */
function whenItEnds(el, handler) {
  try {
    el.onEndTag(handler);
    return true;
  } catch {
    return false;
  }
}

/** The longest `<style id="ep-hide">` text narrowed to the pending slots (as in our wasm). */
const MAX_HIDING_STYLE = 16 * 1024;

/** The longest attribute value kept beside the one written (as in our wasm). */
const MAX_KEPT_ATTRIBUTE = 2048;

/**
 * The page's own value of an attribute about to change, kept beside it for the
 * browser runtime, as our wasm keeps it (`ORIGINAL_ATTRIBUTES` in src/core/plan.rs):
 * the names in `data-ep-was`, each value in `data-ep-was-<name>`. Values come as the
 * page wrote them (entities undecoded) and go back the same way.
 */
function keepOriginalAttribute(el, name) {
  const names = el.getAttribute("data-ep-was") ?? "";
  if (names.split(/[\t\n\f\r ]+/).includes(name)) return;
  const original = el.getAttribute(name);
  if (original !== null && original.length > MAX_KEPT_ATTRIBUTE) return;
  if (original !== null) el.setAttribute(`data-ep-was-${name}`, original);
  el.setAttribute("data-ep-was", names ? `${names} ${name}` : name);
}

function withHtmlRewriter(worker, { runtimeMarkers, pendingAttribute }, request, originResponse, onError) {
  if (typeof HTMLRewriter === "undefined") throw new Error("the htmlrewriter strategy needs Cloudflare's HTMLRewriter");
  const [hi, lo] = entropy();
  const decision = worker.decide(JSON.stringify(requestFacts(request)), JSON.stringify(responseHead(originResponse)), hi, lo);
  const decided = JSON.parse(decision.json);
  decided.handoff = decision.handoff;
  decision.free();
  if (decided.pass || !decided.plan) return passedThrough(originResponse, decided.headers);
  const plan = decided.plan;
  let changes = 0;
  let templateDepth = 0;
  let runtimeOnPage = false;
  let closed = false;
  // The hand-off and popups, once, if the page changed or runs the browser runtime
  // (which then takes this page view instead of recording it again).
  const closing = () =>
    closed || (changes === 0 && !runtimeOnPage) ? "" : ((closed = true), decided.popups.join("") + (decided.handoff ?? ""));
  const escapeText = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const rewriter = new HTMLRewriter().on("template", {
    element(el) {
      // `<svg><template/>` has no end tag: onEndTag throws, and it holds nothing.
      if (!whenItEnds(el, () => { templateDepth -= 1; })) return;
      templateDepth += 1;
    },
  });
  const swap = (selector, key, html, isText) =>
    rewriter.on(selector, {
      element(el) {
        // Inside a template, or an element with no content (`<img>`): as our wasm does.
        if (templateDepth > 0 || !whenItEnds(el, () => {})) return;
        const tag = el.tagName.toLowerCase();
        if (TEXT_PARSING.has(tag) && !(isText && (tag === "title" || tag === "textarea"))) return;
        if (END_TAG_OPTIONAL.has(tag)) {
          // Its end tag may be missing: left to the runtime, hidden until it applies
          // the hand-off (or the snippet's budget ends).
          el.setAttribute(pendingAttribute, key);
          changes += 1;
          return;
        }
        el.setInnerContent(html, { html: true });
        el.setAttribute("data-ep-applied", key);
        changes += 1;
      },
    });
  for (const slot of plan.slots) {
    const content = slot.content;
    if (!content || !slot.key || content.template) continue; // templates: the browser runtime
    swap(slot.selector, slot.key, content.html ?? escapeText(content.text ?? ""), content.html == null);
  }
  for (const greeting of plan.greetings) swap(greeting.selector, greeting.greeting, escapeText(greeting.text), true);
  for (const change of plan.attributes) {
    rewriter.on(change.selector, {
      element(el) {
        if (templateDepth > 0) return;
        keepOriginalAttribute(el, change.attribute);
        el.setAttribute(change.attribute, change.value.replace(/&/g, "&amp;"));
        changes += 1;
      },
    });
  }
  if (plan.classes.length) {
    rewriter.on("html", {
      element(el) {
        const existing = (el.getAttribute("class") ?? "").trim();
        el.setAttribute("class", existing ? `${existing} ${plan.classes.join(" ")}` : plan.classes.join(" "));
        changes += 1;
      },
    });
  }
  // The page shows its decisions once parsed, unless a slot waits for the browser
  // runtime (its variant is a page <template>): only then does the snippet's hiding
  // style (the first marker) stay whole. Otherwise it is narrowed to the elements
  // left to the runtime (pendingAttribute), as our wasm's rewriter does.
  // Nor where the page's CSP allows the style by its hash (other text would be blocked).
  const keepHidingStyle = plan.slots.some((slot) => slot.content?.template) || !decided.narrowHidingStyle;
  let hidingCss = "";
  runtimeMarkers.forEach((selector, index) => {
    const handlers = { element() { runtimeOnPage = true; } };
    if (index === 0 && !keepHidingStyle) {
      let tooLong = false;
      handlers.text = (chunk) => {
        if (tooLong) return;
        hidingCss += chunk.text;
        if (!chunk.lastInTextNode) {
          if (hidingCss.length <= MAX_HIDING_STYLE) return chunk.remove();
          // Not the head snippet's: it goes out as the page wrote it (as in our wasm).
          chunk.replace(hidingCss, { html: true });
          hidingCss = "";
          tooLong = true;
          return;
        }
        let narrowed = "";
        try {
          narrowed = wasmFailed ? "" : worker.hidingStyleForPending(hidingCss);
        } catch (error) {
          if (error instanceof WebAssembly.RuntimeError) wasmFailure(error, onError);
          narrowed = ""; // the style then hides nothing
        }
        hidingCss = "";
        // Style text is raw: as text, HTMLRewriter would escape its `>` and `&`.
        chunk.replace(narrowed, { html: true });
      };
    }
    rewriter.on(selector, handlers);
  });
  rewriter.on("body", {
    element(el) {
      whenItEnds(el, (end) => {
        const markup = closing();
        if (markup) end.before(markup, { html: true });
      });
    },
  });
  rewriter.onDocument({
    end(end) {
      const markup = closing();
      if (markup) end.append(markup, { html: true });
    },
  });
  const headers = changedHeaders(originResponse.headers, decided.headers);
  // Markup that would stop HTMLRewriter's strict parser goes around it, untouched.
  const body = originResponse.body && rewriteAroundAmbiguity(originResponse.body,
    (input) => rewriter.transform(new Response(input, { headers: originResponse.headers })).body);
  return new Response(body, { status: originResponse.status, statusText: originResponse.statusText, headers });
}

/**
 * The origin's URL for a request: the request's path and query on `origin`. Set as
 * a path, never resolved as a URL reference, so that a path like `//evil.example/`
 * stays a path on the origin instead of naming another host.
 * @param {URL} url  the request's URL
 * @param {string|URL} origin
 */
export function originUrl(url, origin) {
  const target = new URL(origin);
  target.pathname = url.pathname;
  target.search = url.search;
  return target.toString();
}

/**
 * A redirect to an absolute URL on the origin's own host, pointed at the site the
 * visitor asked (`siteUrl`) instead: the origin's address is the edge's business,
 * and a visitor sent there would leave the edge. Any other response as it is.
 * @param {Response} response
 * @param {string|URL} origin
 * @param {URL} siteUrl  the visitor's request URL
 */
export function redirectToSite(response, origin, siteUrl) {
  const location = response.headers.get("location");
  if (!location || response.status < 300 || response.status > 399) return response;
  let target;
  try {
    target = new URL(location); // a relative one already stays on the site
  } catch {
    return response;
  }
  if (target.origin !== new URL(origin).origin) return response;
  const site = new URL(siteUrl.origin);
  site.pathname = target.pathname;
  site.search = target.search;
  site.hash = target.hash;
  const headers = new Headers(response.headers);
  headers.set("location", site.toString());
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * A ready Worker: `export default createHandler({ config, wasm })`. Requests go to
 * `origin` (a base URL; else the `EDGE_PERSONA_ORIGIN` variable; else the request's
 * own URL, i.e. the zone's origin) without the profile cookie, and HTML responses
 * come back personalized. `EDGE_PERSONA_KEYS` (a secret) holds the signing keys,
 * `EDGE_PERSONA_EXPLAIN = "true"` adds the explain header, `EDGE_PERSONA_STRATEGY`
 * picks the rewriting strategy.
 */
export function createHandler(options) {
  let personalizer = null;
  const onError = safely(options.onError);
  return {
    async fetch(request, env, ctx) {
      personalizer ??= createPersonalizer({
        ...options,
        onError,
        // The secret's JSON text as it is: one that does not parse fails the load
        // (reported), and pages then pass through untouched.
        keys: options.keys ?? (env?.EDGE_PERSONA_KEYS || undefined),
        explainHeader: options.explainHeader ?? env?.EDGE_PERSONA_EXPLAIN === "true",
        strategy: options.strategy ?? env?.EDGE_PERSONA_STRATEGY ?? "auto",
      });
      const url = new URL(request.url);
      const origin = options.origin ?? env?.EDGE_PERSONA_ORIGIN;
      const target = origin ? originUrl(url, origin) : request.url;
      let response;
      try {
        response = await fetch(personalizer.originRequest(request, target));
      } catch {
        // The origin is unreachable: say so, as a CDN would, instead of an exception.
        // (The error's own text may hold the request's URL, so it is not logged.)
        onError(new Error("the origin did not answer"));
        return new Response("502 Bad Gateway: the origin did not answer\n", {
          status: 502,
          headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
        });
      }
      return personalizer.personalize(request, origin ? redirectToSite(response, origin, url) : response);
    },
  };
}
