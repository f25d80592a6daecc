#!/usr/bin/env node
// A dependency-free static server for the demo site (Node 20+).
//
//   node scripts/serve.mjs [--port 8080] [--host 127.0.0.1] [--root www/demo]
//                          [--mount /ep=pkg/npm ...] [--quiet]
//
// Serves files with their MIME types (`.wasm` is `application/wasm`), `/` and
// directories as their `index.html`, an extension-less path as `<path>.html` when
// that file exists (so `/book?promo=x` is `book.html`), `Cache-Control: no-cache`
// with an ETag on every file, and a strict Content-Security-Policy on HTML.
// Traversal (`..` segments, encoded or not, backslashes, NUL) is refused with 403.
//
// Tests start it in-process:
//
//   import { startServer } from "../scripts/serve.mjs";
//   const server = await startServer({ port: 0, root, mounts: ["/ep=pkg/web"],
//     transform(urlPath, res, req) { ... return true when handled ... } });
//   ... fetch(server.url + "index.html") ...
//   await server.close();

import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The Content-Security-Policy sent with every HTML response (unless `csp` says otherwise). */
export const DEFAULT_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
].join("; ");

/** Content types by file extension (lower case, with the dot). */
export const MIME_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".htm": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".cjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/plain; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
};

const DEFAULTS = {
  port: 8080,
  host: "127.0.0.1",
  root: path.join(REPO_ROOT, "www", "demo"),
};

/** The content type of a file name (`application/octet-stream` when unknown). */
export function contentType(fileName) {
  return MIME_TYPES[path.extname(fileName).toLowerCase()] ?? "application/octet-stream";
}

/**
 * Normalizes mounts given as `"/ep=pkg/web"` strings, `{ prefix, dir }` objects, or
 * one `{ "/ep": "pkg/web" }` map, into `{ prefix, dir }` with absolute dirs, longest
 * prefix first. Relative dirs resolve against the current directory.
 */
export function parseMounts(mounts) {
  if (!mounts) return [];
  const list = Array.isArray(mounts)
    ? mounts
    : Object.entries(mounts).map(([prefix, dir]) => ({ prefix, dir }));
  return list
    .map((mount) => {
      let prefix;
      let dir;
      if (typeof mount === "string") {
        const eq = mount.indexOf("=");
        if (eq < 1) throw new Error(`--mount ${mount}: expected PREFIX=DIR, e.g. /ep=pkg/web`);
        prefix = mount.slice(0, eq);
        dir = mount.slice(eq + 1);
      } else {
        ({ prefix, dir } = mount ?? {});
      }
      if (typeof prefix !== "string" || typeof dir !== "string" || dir === "") {
        throw new Error(`mount ${JSON.stringify(mount)}: expected a prefix and a directory`);
      }
      prefix = "/" + prefix.split("/").filter(Boolean).join("/");
      if (prefix.split("/").includes("..")) throw new Error(`mount prefix ${prefix}: no ".." allowed`);
      return { prefix, dir: path.resolve(dir) };
    })
    .sort((a, b) => b.prefix.length - a.prefix.length);
}

/**
 * The decoded path of a request URL, or `null` when it is malformed or tries to
 * leave the served directories.
 */
function requestPath(rawUrl) {
  let pathname = (rawUrl ?? "/").split(/[?#]/, 1)[0];
  if (!pathname.startsWith("/")) {
    // An absolute-form request target ("GET http://host/path").
    try {
      pathname = new URL(pathname).pathname;
    } catch {
      return null;
    }
  }
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return null;
  if (decoded.split("/").some((segment) => segment === "..")) return null;
  return decoded;
}

/** Where a request path lives on disk: a mount's directory or the root. */
function locate(urlPath, root, mounts) {
  for (const { prefix, dir } of mounts) {
    if (urlPath === prefix || urlPath.startsWith(prefix + "/")) {
      return { base: dir, rest: urlPath.slice(prefix.length) || "/" };
    }
  }
  return { base: root, rest: urlPath };
}

function inside(base, file) {
  const relative = path.relative(base, file);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

async function statOrNull(file) {
  try {
    return await stat(file);
  } catch {
    return null;
  }
}

/** The file a request path names: index.html for directories, `.html` for clean URLs. */
async function resolveFile(base, rest) {
  const file = path.join(base, rest);
  if (!inside(base, file)) return null;
  let info = await statOrNull(file);
  if (info?.isDirectory()) {
    const index = path.join(file, "index.html");
    info = await statOrNull(index);
    return info?.isFile() ? { file: index, info } : null;
  }
  if (info?.isFile()) return { file, info };
  if (!rest.endsWith("/") && path.extname(rest) === "") {
    const html = file + ".html";
    info = await statOrNull(html);
    if (info?.isFile()) return { file: html, info };
  }
  return null;
}

/** Refuses files that escape their base through a symbolic link. */
async function realInside(base, file) {
  try {
    const [realBase, realFile] = await Promise.all([realpath(base), realpath(file)]);
    return inside(realBase, realFile);
  } catch {
    return false;
  }
}

function sendText(res, status, text, extra = {}) {
  const body = Buffer.from(text + "\n", "utf8");
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": body.length,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    ...extra,
  });
  res.end(res.req?.method === "HEAD" ? undefined : body);
}

/**
 * Starts the server.
 *
 * @param {object} [options]
 * @param {number} [options.port=8080] 0 picks a free port.
 * @param {string} [options.host="127.0.0.1"]
 * @param {string} [options.root] The site directory (default: www/demo of this repository).
 * @param {Array<string|{prefix:string,dir:string}>|Record<string,string>} [options.mounts]
 *   Extra directories under URL prefixes, e.g. `["/ep=pkg/web"]`.
 * @param {Record<string,string>|((urlPath:string)=>Record<string,string>)} [options.headers]
 *   Extra headers on every file response; they replace the defaults of the same
 *   name, and a null value removes one.
 * @param {string|null} [options.csp] The CSP of HTML responses; `null` sends none.
 * @param {(urlPath:string, res:import("node:http").ServerResponse, req:import("node:http").IncomingMessage)=>boolean|Promise<boolean>} [options.transform]
 *   Sees every request first (with the decoded path, query removed); returns true
 *   when it has handled (or will handle) the response itself.
 * @param {boolean} [options.quiet=true] When false, logs one line per request.
 * @returns {Promise<{url:string, port:number, host:string, server:import("node:http").Server, close:()=>Promise<void>}>}
 */
export async function startServer(options = {}) {
  const port = options.port ?? DEFAULTS.port;
  const host = options.host ?? DEFAULTS.host;
  const root = path.resolve(options.root ?? DEFAULTS.root);
  const mounts = parseMounts(options.mounts);
  const csp = options.csp === undefined ? DEFAULT_CSP : options.csp;
  const { transform, headers } = options;
  const quiet = options.quiet ?? true;

  const rootInfo = await statOrNull(root);
  if (!rootInfo?.isDirectory()) throw new Error(`root ${root} is not a directory`);

  async function handle(req, res) {
    const urlPath = requestPath(req.url);
    if (urlPath === null) return sendText(res, 403, "403 Forbidden");

    if (transform && (await transform(urlPath, res, req))) return;

    if (req.method !== "GET" && req.method !== "HEAD") {
      return sendText(res, 405, "405 Method Not Allowed", { Allow: "GET, HEAD" });
    }

    const { base, rest } = locate(urlPath, root, mounts);
    const found = await resolveFile(base, rest);
    if (!found || !(await realInside(base, found.file))) return sendText(res, 404, "404 Not Found");

    const { file, info } = found;
    const type = contentType(file);
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const responseHeaders = {
      "Content-Type": type,
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
      ETag: etag,
      "Last-Modified": info.mtime.toUTCString(),
    };
    if (type.startsWith("text/html") && csp) responseHeaders["Content-Security-Policy"] = csp;
    const extra = typeof headers === "function" ? headers(urlPath) : headers;
    for (const [name, value] of Object.entries(extra ?? {})) {
      // A null or undefined value removes a default header (e.g. the CSP).
      for (const key of Object.keys(responseHeaders)) {
        if (key.toLowerCase() === name.toLowerCase()) delete responseHeaders[key];
      }
      if (value != null) responseHeaders[name] = value;
    }

    if (req.headers["if-none-match"] === etag) {
      delete responseHeaders["Content-Type"];
      res.writeHead(304, responseHeaders);
      return res.end();
    }
    responseHeaders["Content-Length"] = info.size;
    res.writeHead(200, responseHeaders);
    if (req.method === "HEAD") return res.end();
    const stream = createReadStream(file);
    stream.on("error", () => res.destroy());
    stream.pipe(res);
  }

  const server = createServer((req, res) => {
    if (!quiet) res.once("close", () => console.log(`${req.method} ${req.url} ${res.statusCode}`));
    handle(req, res).catch((error) => {
      if (!quiet) console.error(error);
      if (!res.headersSent) sendText(res, 500, "500 Internal Server Error");
      else res.destroy();
    });
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });

  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${actualPort}/`,
    port: actualPort,
    host,
    server,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

const USAGE = `usage: node scripts/serve.mjs [--port 8080] [--host 127.0.0.1] [--root www/demo]
                           [--mount PREFIX=DIR ...] [--quiet]

  --port N          port to listen on (0 picks a free one; default 8080)
  --host H          interface to bind (default 127.0.0.1)
  --root DIR        the site directory (default: this repository's www/demo)
  --mount P=DIR     also serve DIR under the URL prefix P, e.g. --mount /ep=pkg/web
                    (may be repeated; the longest prefix wins)
  --quiet           no per-request log lines`;

/** Parses the command line into `startServer` options. */
export function parseArgs(argv) {
  const options = { mounts: [], quiet: false };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 2) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case "--port": {
        const port = Number(next());
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number`);
        options.port = port;
        break;
      }
      case "--host":
        options.host = next();
        break;
      case "--root":
        options.root = next();
        break;
      case "--mount":
        options.mounts.push(next());
        break;
      case "--quiet":
        options.quiet = true;
        break;
      case "-h":
      case "--help":
        options.help = true;
        break;
      default:
        throw new Error(`unknown argument ${arg}`);
    }
  }
  return options;
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
    if (options.help) {
      console.log(USAGE);
      return;
    }
    parseMounts(options.mounts);
  } catch (error) {
    console.error(`serve.mjs: ${error.message}\n${USAGE}`);
    process.exit(2);
  }
  const server = await startServer(options);
  console.log(`edge-persona demo: ${server.url}`);
  const stop = () => server.close().finally(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

const invokedAs = process.argv[1] ? pathToFileURL(path.resolve(process.argv[1])).href : "";
if (import.meta.url === invokedAs) {
  main().catch((error) => {
    console.error(`serve.mjs: ${error.message}`);
    process.exit(1);
  });
}
