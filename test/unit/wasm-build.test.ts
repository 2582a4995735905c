/**
 * filters-wasm/build.js's compile(): one process compiles modules for both SDKs (the bench builds
 * the project's modules and the G-Core one; tests build fixtures of both). A compile with the
 * wasi-shim's `lib` folder must not leak those library files into later compiles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, build } from '../fixtures/wasm-sdk/load';

test('a project-SDK module compiles after a wasi-shim (G-Core SDK) compile in the same process', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-wasm-build-'));
  try {
    const gcoreEntry = path.join(dir, 'add-header-gcore.ts');
    fs.copyFileSync(path.join(ROOT, 'test', 'fixtures', 'wasm-sdk', 'add-header-gcore.as'), gcoreEntry);
    const shim = path.relative(process.cwd(), path.join(ROOT, 'node_modules', '@assemblyscript', 'wasi-shim', 'asconfig.json'));
    const gcore = await build.compile(gcoreEntry, path.join(dir, 'gcore.wasm'), ['--config', shim, '--use', 'abort=abort_proc_exit', '--noAssert']);
    assert.ok(gcore.ok, gcore.messages);

    const ownOut = path.join(dir, 'add-header.wasm');
    const own = await build.compile(path.join(ROOT, 'filters-wasm', 'examples', 'add-header.ts'), ownOut);
    assert.ok(own.ok, `project module failed after the wasi-shim build:\n${own.messages}`);
    const mod = await WebAssembly.compile(fs.readFileSync(ownOut));
    const imports = WebAssembly.Module.imports(mod).map((i) => i.module);
    assert.ok(!imports.includes('wasi_snapshot_preview1'), 'the project module imports no WASI');
    assert.ok(WebAssembly.Module.exports(mod).some((e) => e.name === 'proxy_abi_version_0_2_1'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
