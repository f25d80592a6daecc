#!/usr/bin/env node
// Generates js/config.d.ts (the TypeScript types of a site config) from
// schema/config.schema.json with json-schema-to-typescript.
//
//   node scripts/gen-config-types.mjs           writes js/config.d.ts
//   node scripts/gen-config-types.mjs --check   exits 1 if js/config.d.ts is stale
//
// The output is deterministic: a fixed banner (no timestamp, no tool version),
// fixed formatting options, LF endings.

import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMA = join(ROOT, 'schema', 'config.schema.json');
const OUTPUT = join(ROOT, 'js', 'config.d.ts');

const BANNER = `/*
 * Generated from schema/config.schema.json by scripts/gen-config-types.mjs — do not edit.
 * Regenerate with \`node scripts/gen-config-types.mjs\`.
 */`;

/**
 * Two rewrites that give one named type per `$defs` entry:
 * - every definition gets its key as `title`, so unions of constants (`ConsentLevel`)
 *   become named types instead of being inlined at each use;
 * - a `$ref` with siblings (`{"$ref": …, "description": …, "default": …}`, as
 *   schemars writes it) becomes `{"description": …, "allOf": [{"$ref": …}]}`.
 *   The ref parser would otherwise merge the siblings into a copy of the target,
 *   which the generator emits as a duplicate (`Content1`) carrying the property's
 *   description instead of the type's.
 */
function prepare(node) {
  if (Array.isArray(node)) return node.map(prepare);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) out[key] = prepare(value);
  if (typeof out.$ref === 'string' && Object.keys(out).length > 1) {
    // `default` goes: the generator prints no defaults (the descriptions state
    // them), and a scalar one would intersect the type with the default's type
    // (`Hemisphere & string`).
    const { $ref, default: _default, ...siblings } = out;
    return { ...siblings, allOf: [{ $ref }] };
  }
  return out;
}

async function generate() {
  const schema = prepare(JSON.parse(await readFile(SCHEMA, 'utf8')));
  for (const [key, definition] of Object.entries(schema.$defs || {})) {
    if (definition && typeof definition === 'object' && !definition.title) definition.title = key;
  }
  // The root's name comes from the `name` argument; a `title` would win over it.
  delete schema.title;
  const code = await compile(schema, 'SiteConfig', {
    bannerComment: BANNER,
    additionalProperties: false,
    cwd: dirname(SCHEMA),
    declareExternallyReferenced: true,
    enableConstEnums: false,
    format: true,
    // Formatted by the project's pinned prettier (package-lock.json), with every
    // option spelled out so a change of prettier's defaults cannot change the output.
    style: {
      bracketSpacing: true,
      endOfLine: 'lf',
      printWidth: 100,
      semi: true,
      singleQuote: true,
      tabWidth: 2,
      trailingComma: 'all',
      useTabs: false,
    },
    strictIndexSignatures: true,
    unknownAny: true,
    unreachableDefinitions: false,
  });
  return code.replace(/\r\n/g, '\n').replace(/\s*$/, '\n');
}

async function main() {
  const check = process.argv.includes('--check');
  const generated = await generate();
  const name = relative(ROOT, OUTPUT);
  if (check) {
    let current = null;
    try { current = await readFile(OUTPUT, 'utf8'); } catch { /* missing */ }
    if (current !== generated) {
      console.error(`${name} is out of date with schema/config.schema.json: run node scripts/gen-config-types.mjs`);
      process.exit(1);
    }
    console.log(`${name} is up to date`);
    return;
  }
  await writeFile(OUTPUT, generated);
  console.log(`wrote ${name}`);
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(2);
});
