/**
 * The project's proxy-wasm SDK builds conforming ABI 0.2.1 modules: every example's imports are in the
 * spec's import set with the spec's signatures (and no env.abort), the ABI marker, allocator and
 * callbacks are exported, the allocator honours the return-slot contract, and the build script
 * reports compiler errors. Also checks the mock host's map serialization against the spec example.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MockHost, PROXY_WASM_0_2_1_IMPORTS, parseMap, readImports, serializeMap } from '../fixtures/wasm-mock-host';
import { build, loadExample } from '../fixtures/wasm-sdk/load';

const EXAMPLES = ['add-header', 'auth', 'ext-authz', 'rate-limit'];

const REQUIRED_EXPORTS = [
  'proxy_abi_version_0_2_1', 'proxy_on_memory_allocate', 'malloc', 'memory', '_initialize',
  'proxy_on_context_create', 'proxy_on_vm_start', 'proxy_on_configure', 'proxy_on_tick', 'proxy_on_queue_ready',
  'proxy_on_request_headers', 'proxy_on_request_body', 'proxy_on_request_trailers',
  'proxy_on_response_headers', 'proxy_on_response_body', 'proxy_on_response_trailers',
  'proxy_on_http_call_response', 'proxy_on_done', 'proxy_on_log', 'proxy_on_delete',
];

test('map serialization of the mock host matches the spec example', () => {
  const b = serializeMap([['a', '1'], ['b', '22']]);
  assert.equal(b.toString('hex'), '02000000' + '01000000' + '01000000' + '01000000' + '02000000' + '6100' + '3100' + '6200' + '323200');
  assert.equal(b.length, 29);
  assert.deepEqual(parseMap(b), [['a', '1'], ['b', '22']]);
  assert.equal(serializeMap([]).toString('hex'), '00000000');
});

for (const name of EXAMPLES) {
  test(`${name}: imports are proxy-wasm 0.2.1 host functions with spec signatures`, async () => {
    const bytes = await loadExample(name);
    const imports = readImports(bytes);
    assert.ok(imports.length > 0);
    for (const imp of imports) {
      assert.equal(imp.kind, 'func', `${imp.module}.${imp.name} is a ${imp.kind} import`);
      assert.equal(imp.module, 'env', `${imp.module}.${imp.name}: SDK modules import only env`);
      assert.notEqual(imp.name, 'abort', 'env.abort must not be imported (no proxy-wasm host has it)');
      const spec = PROXY_WASM_0_2_1_IMPORTS[imp.module]?.[imp.name];
      assert.ok(spec, `${imp.module}.${imp.name} is not a proxy-wasm 0.2.1 host function`);
      assert.deepEqual(imp.sig, spec, `${imp.name} signature`);
    }
    const mod = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    const exported = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
    for (const e of REQUIRED_EXPORTS) assert.ok(exported.has(e), `missing export ${e}`);
  });
}

test('allocator: host bytes land where the return slots point; zero length writes 0/0', async () => {
  const bytes = await loadExample('add-header');
  const host = await MockHost.load(bytes);
  const p = host.call('proxy_on_memory_allocate', 100) >>> 0;
  const q = host.call('malloc', 100) >>> 0;
  assert.ok(p > 0 && q > 0 && p !== q, 'unarmed allocations are distinct heap blocks');
  const mem = new Uint8Array((host.instance.exports.memory as WebAssembly.Memory).buffer);
  mem.fill(7, p, p + 100);
  mem.fill(9, q, q + 100);
  assert.equal(mem[p + 99], 7);
  // The root context reads an empty configuration without allocating.
  host.call('proxy_on_context_create', 1, 0);
  host.resetCounters();
  assert.equal(host.call('proxy_on_configure', 1, 0), 1);
  assert.equal(host.allocations, 0);
});

test('build script: compiler errors are reported, and nothing is written', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-sdk-'));
  const entry = path.join(dir, 'broken.ts');
  fs.writeFileSync(entry, 'export function f(): i32 { return undefinedThing; }\n');
  const out = path.join(dir, 'broken.wasm');
  const r = await build.compile(entry, out);
  assert.equal(r.ok, false);
  assert.match(r.messages, /undefinedThing/);
  assert.equal(fs.existsSync(out), false);
  fs.rmSync(dir, { recursive: true, force: true });
});
