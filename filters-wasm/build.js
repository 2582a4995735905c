#!/usr/bin/env node
// Builds every AssemblyScript filter in filters-wasm/examples/ into filters-wasm/build/<name>.wasm
// (`npm run build:filters`). Owns the compiler options of the project's proxy-wasm modules; must never
// leave a half-written .wasm behind (writes to a temp file, then renames) and never rebuild a module
// whose sources are older than it unless asked (--force).
//
// Usage: node filters-wasm/build.js [--force] [name ...]
// Exits non-zero with the compiler's messages when a module fails to compile.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const DIR = __dirname;
const EXAMPLES = path.join(DIR, 'examples');
const SDK = path.join(DIR, 'sdk');
const OUT = path.join(DIR, 'build');

/**
 * Compiler options for proxy-wasm modules:
 * - the two-colour collector (`minimal` runtime): a filter lives as long as the proxy, so garbage
 *   must be collected; the SDK collects at the end of callbacks (sdk/gc.ts), which spares the
 *   request path the incremental collector's write barriers and steps;
 * - abort routed to the SDK's proxy_abort (logs via proxy_log, then traps): no `env.abort` import;
 * - start function exported as `_initialize` (the host calls it after instantiation, once it can
 *   serve host calls), per the proxy-wasm spec's integration section.
 */
const ASC_OPTIONS = [
  '-O3', '--noAssert', '--runtime', 'minimal',
  '--use', 'abort=proxy_abort', '--exportStart', '_initialize',
];

function listExamples() {
  return fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
}

function newestMtime(files) {
  let m = 0;
  for (const f of files) m = Math.max(m, fs.statSync(f).mtimeMs);
  return m;
}

function sdkFiles() {
  return fs.readdirSync(SDK).filter((f) => f.endsWith('.ts')).map((f) => path.join(SDK, f));
}

/** Whether build/<name>.wasm exists and is newer than its example, the SDK and this script. */
function isFresh(name) {
  const out = path.join(OUT, name + '.wasm');
  if (!fs.existsSync(out)) return false;
  const src = [path.join(EXAMPLES, name + '.ts'), __filename, ...sdkFiles()];
  return fs.statSync(out).mtimeMs >= newestMtime(src);
}

let ascPromise = null;
/** asc's own library files (name → source), as loaded, before any compile added to them. */
let baseLibrary = null;
function loadAsc() {
  if (ascPromise === null) {
    ascPromise = import('assemblyscript/asc').then((m) => {
      const asc = m.default ?? m;
      baseLibrary = { ...asc.libraryFiles };
      return asc;
    });
  }
  return ascPromise;
}

/**
 * asc adds the files of a compile's custom `lib` folders (the wasi-shim's, for a third-party SDK
 * build) to its module-wide library and parses them in every later compile of the process, where
 * their imports no longer resolve. Each compile starts from asc's own library (so compiles in one
 * process must not overlap — callers here await each one).
 */
function resetLibrary(asc) {
  const lib = asc.libraryFiles;
  for (const k of Object.keys(lib)) if (!(k in baseLibrary)) delete lib[k];
  Object.assign(lib, baseLibrary);
}

/**
 * Compiles one AssemblyScript entry file to `outFile` with `options` (the project's by default).
 * Resolves to { ok, messages }.
 */
async function compile(entry, outFile, options = ASC_OPTIONS) {
  const asc = await loadAsc();
  resetLibrary(asc);
  const tmp = `${outFile}.${process.pid}.${Date.now()}.tmp`;
  let messages = '';
  const sink = { write(s) { messages += String(s); return true; } };
  const { error } = await asc.main([entry, '-o', tmp, ...options], { stdout: sink, stderr: sink });
  if (error) {
    try { fs.unlinkSync(tmp); } catch { /* not written */ }
    return { ok: false, messages: messages || String(error) };
  }
  fs.renameSync(tmp, outFile);
  return { ok: true, messages };
}

/**
 * Builds the named examples (all by default) into build/. Skips fresh ones unless `force`.
 * Resolves to [{ name, file, built }]; rejects with the compiler's messages on the first failure.
 */
async function buildAll(opts = {}) {
  const names = opts.names && opts.names.length ? opts.names : listExamples();
  fs.mkdirSync(OUT, { recursive: true });
  const results = [];
  for (const name of names) {
    const entry = path.join(EXAMPLES, name + '.ts');
    if (!fs.existsSync(entry)) throw new Error(`no such filter: ${name} (${entry})`);
    const file = path.join(OUT, name + '.wasm');
    if (!opts.force && isFresh(name)) { results.push({ name, file, built: false }); continue; }
    const r = await compile(entry, file);
    if (!r.ok) throw new Error(`asc failed for ${name}:\n${r.messages}`);
    results.push({ name, file, built: true });
  }
  return results;
}

module.exports = { buildAll, compile, isFresh, listExamples, ASC_OPTIONS, OUT_DIR: OUT };

if (require.main === module) {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const names = args.filter((a) => !a.startsWith('--'));
  buildAll({ force, names }).then(
    (res) => {
      for (const r of res) {
        const size = fs.statSync(r.file).size;
        console.log(`${r.built ? 'built' : 'fresh'} ${path.relative(process.cwd(), r.file)} (${size} bytes)`);
      }
    },
    (err) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
