#!/usr/bin/env node
// Runs a wasm32-wasip1 program (a test binary) under Node's WASI, as cargo's runner
// for that target: `CARGO_TARGET_WASM32_WASIP1_RUNNER=scripts/wasi-run.mjs`. The host
// filesystem is visible read-only-in-practice at "/", so tests find their data files
// at the same absolute paths as natively.
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
import process from "node:process";

const [, , program, ...args] = process.argv;
const wasi = new WASI({
  version: "preview1",
  args: [program, ...args],
  env: process.env,
  preopens: { "/": "/" },
  returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(program));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
