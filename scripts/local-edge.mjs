#!/usr/bin/env node
// A local edge in front of an origin, for the demo and the tests: the same module a
// Cloudflare Worker runs (`edge-persona/cloudflare`, our wasm with lol-html), in Node.
//
//   node scripts/local-edge.mjs --origin http://127.0.0.1:8080 [--port 8081]
//        [--host 127.0.0.1] [--config www/demo/config.json] [--pkg pkg/npm]
//        [--strategy lol-html] [--explain]
//
// Each request goes to the origin without the profile cookie; HTML answers come back
// personalized and streamed (the first bytes leave before the origin's last ones
// arrive); everything else passes through.
//
// Tests start it in-process:
//
//   import { startLocalEdge } from "../scripts/local-edge.mjs";
//   const edge = await startLocalEdge({ port: 0, origin: originUrl, config });
//   ... fetch(edge.url + "index.html") ...
//   await edge.close();

import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Headers that describe one hop, not the message (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"]);

/** The codings Node's fetch() (undici) decodes; a body in any other (zstd) stays encoded. */
const DECODED_BY_NODE = new Set(["gzip", "x-gzip", "deflate", "br", "identity"]);

/** Whether fetch() handed the body over decoded, so `Content-Encoding` no longer applies. */
function decodedByFetch(contentEncoding) {
  return contentEncoding.split(",").every((coding) => DECODED_BY_NODE.has(coding.trim().toLowerCase()));
}

/**
 * Starts the local edge. `config` is the site config object (or JSON text).
 * Resolves to `{ url, close }`.
 */
export async function startLocalEdge({ port = 8081, host = "127.0.0.1", origin, config, pkgDir = path.join(REPO_ROOT, "pkg/npm"), strategy = "lol-html", explainHeader = false, keys, onError }) {
  if (!origin) throw new Error("startLocalEdge: `origin` (a base URL) is required");
  const { createPersonalizer, originUrl, redirectToSite } = await import(pathToFileURL(path.join(pkgDir, "cloudflare.js")).href);
  // Node's `req.url` is the request target as sent: `//evil.example/x` is a path here,
  // never a host (see originUrl).
  const pathAndQuery = (target) => {
    const query = target.indexOf("?");
    return { pathname: query < 0 ? target : target.slice(0, query), search: query < 0 ? "" : target.slice(query) };
  };
  const wasm = await readFile(path.join(pkgDir, "edge_persona_edge_bg.wasm"));
  const personalizer = createPersonalizer({ config, wasm, keys, strategy, explainHeader, onError });

  const server = createServer(async (req, res) => {
    try {
      const self = `http://${req.headers.host ?? `${host}:${port}`}`;
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (HOP_BY_HOP.has(name) || name === "host" || value === undefined) continue;
        headers.set(name, Array.isArray(value) ? value.join(", ") : value);
      }
      // Only codings this Node's fetch() decodes (newer ones decode zstd too): the
      // body then always leaves as identity, whatever the browser accepts.
      if (headers.has("accept-encoding")) headers.set("accept-encoding", "gzip, deflate, br");
      const hasBody = !["GET", "HEAD"].includes(req.method);
      const request = new Request(originUrl(pathAndQuery(req.url), self), {
        method: req.method,
        headers,
        body: hasBody ? Readable.toWeb(req) : undefined,
        duplex: hasBody ? "half" : undefined,
      });
      const target = originUrl(pathAndQuery(req.url), origin);
      const fetched = await fetch(personalizer.originRequest(request, target));
      const response = personalizer.personalize(request, redirectToSite(fetched, origin, new URL(request.url)));
      const out = {};
      response.headers.forEach((value, name) => {
        // A body fetch() decoded leaves as identity, with its length unknown; one it
        // could not decode (zstd) passes through still encoded, and labelled so.
        if (name === "content-encoding" && !decodedByFetch(value)) out[name] = value;
        if (HOP_BY_HOP.has(name) || name === "content-encoding" || name === "content-length" || name === "set-cookie") return;
        out[name] = value;
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length) out["set-cookie"] = cookies;
      res.writeHead(response.status, response.statusText, out);
      if (req.method === "HEAD" || !response.body) return res.end();
      for await (const chunk of response.body) res.write(chunk);
      res.end();
    } catch (error) {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "text/plain; charset=utf-8" });
        res.end(`edge-persona local edge: the origin did not answer (${error.message})\n`);
      } else {
        res.destroy(error);
      }
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return {
    url: `http://${host}:${address.port}/`,
    ready: personalizer.ready,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

async function main() {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const configPath = option("config", path.join(REPO_ROOT, "www/demo/config.json"));
  const edge = await startLocalEdge({
    port: Number(option("port", process.env.EDGE_PORT ?? 8081)),
    host: option("host", "127.0.0.1"),
    origin: option("origin", "http://127.0.0.1:8080/"),
    config: await readFile(configPath, "utf8"),
    pkgDir: path.resolve(option("pkg", path.join(REPO_ROOT, "pkg/npm"))),
    strategy: option("strategy", "lol-html"),
    explainHeader: args.includes("--explain"),
  });
  if (!edge.ready) {
    console.error("edge-persona local edge: the config did not load; pages pass through untouched");
  }
  console.log(`Local edge (personalized HTML, streamed): ${edge.url}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
