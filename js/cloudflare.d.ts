// Types of `edge-persona/cloudflare`.
import type { SiteConfig } from "./config.js";

/** Options of {@link createPersonalizer} and {@link createHandler}. */
export interface EdgeOptions {
  /** The site config, as an object or JSON text. */
  config: SiteConfig | string;
  /** `edge_persona_edge_bg.wasm`: a `WebAssembly.Module` in Workers, its bytes in Node. */
  wasm: WebAssembly.Module | BufferSource;
  /**
   * HMAC-SHA256 keys for the profile cookie; the first signs, all verify. Also their
   * JSON text (as the `EDGE_PERSONA_KEYS` secret holds it). A key id is 1–8
   * characters of `a-z0-9`; a secret is at least 32 bytes (of its UTF-8 text). Text
   * that does not parse, or any key that breaks these rules, fails the load:
   * `onError` is told, {@link Personalizer.ready} is false, and every response then
   * passes through untouched (the origin request still leaves the profile cookie
   * out). Without keys, cookies are checksummed, not signed.
   */
  keys?: { id: string; secret: string }[] | string;
  /** Add the `edge-persona-explain` header (config ids only, never visitor data). */
  explainHeader?: boolean;
  /**
   * `"lol-html"` (our wasm), `"htmlrewriter"` (Cloudflare's native rewriter driven by our
   * decisions; page `<template>` variants and slot elements whose end tag a page may
   * leave out, such as `<p>` and `<li>`, are left to the browser runtime, no default is
   * sent along (`keepDefault`), markup its strict parser refuses is carried around
   * it, and a slot on another element whose end tag the page leaves out, such as an
   * unclosed `<div>`, loses the page's content up to its parent's end tag), or
   * `"auto"` (default): `"lol-html"`, measured the faster of the two in workerd. With
   * `"htmlrewriter"`, a response whose `Content-Type` does not declare UTF-8 is still
   * rewritten by `"lol-html"`, which follows the page's `<meta charset>`. Read in
   * any case (`"HTMLRewriter"`, as `EDGE_PERSONA_STRATEGY` may hold it); another
   * name is reported to `onError` and runs `"auto"`.
   */
  strategy?: "auto" | "lol-html" | "htmlrewriter";
  /** Told about failures; the response then goes out untouched. */
  onError?: (error: Error) => void;
}

/** A personalizer for one isolate. */
export interface Personalizer {
  /** False when the config or the wasm failed to load (every response passes through). */
  readonly ready: boolean;
  /** The strategy in use (`"auto"` resolved). */
  readonly strategy: "lol-html" | "htmlrewriter";
  /** The request for the origin, without the profile cookie (unless the config forwards it). */
  originRequest(request: Request, url?: string): Request;
  /** The origin's response, personalized for `request`, or untouched. */
  personalize(request: Request, originResponse: Response): Response;
}

export function createPersonalizer(options: EdgeOptions): Personalizer;

/**
 * The origin's response personalized for `request` (or untouched), in one call. The
 * personalizer for `options` is made on first use and kept: pass the same options
 * object every time to load the config once per isolate. The origin request should
 * come from {@link originRequest} with the same options (it leaves the profile cookie out).
 */
export function personalize(request: Request, originResponse: Response, options: EdgeOptions): Response;

/**
 * The request to send to the origin, in one call with the same options object as
 * {@link personalize}: without the profile cookie (unless the config forwards it).
 */
export function originRequest(request: Request, url: string | undefined, options: EdgeOptions): Request;

/** A ready Worker (`export default createHandler({ config, wasm })`). */
export function createHandler(
  options: EdgeOptions & { origin?: string },
): { fetch(request: Request, env?: Record<string, string>, ctx?: unknown): Promise<Response> };

/** The origin's URL for a request: its path and query on `origin`, never another host. */
export function originUrl(url: URL, origin: string | URL): string;

/** A redirect to the origin's own host pointed at the site the visitor asked instead; any other response as it is. */
export function redirectToSite(response: Response, origin: string | URL, siteUrl: URL): Response;

/** The UTC offset in minutes east of UTC of an IANA time zone (`Europe/Moscow` → 180). */
export function utcOffsetMinutes(timeZone: string | undefined, at?: Date): number;

/**
 * The `Cookie` header for the origin when the wasm cannot say it (the config did
 * not load, or the wasm failed): without the profile cookie (its name read leniently
 * from the config, else `ep`) unless the config forwards it; `undefined`: send none.
 */
export function originCookieWithoutEngine(config: unknown, header: string | null | undefined): string | undefined;

/** Whether a `Content-Type` header declares UTF-8 (any WHATWG label for it). */
export function declaresUtf8(contentType: string | null | undefined): boolean;
