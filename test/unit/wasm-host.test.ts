/**
 * proxy-wasm host pieces without a proxy: the header-pairs format, guest memory bounds and
 * allocator copies, module checks (ABI marker, imports), config validation, and host functions
 * answering INVALID_MEMORY_ACCESS instead of throwing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/api';
import { GuestMemory, deserializePairs, serializePairs } from '../../src/wasm/memory';
import { checkModule } from '../../src/wasm/module-cache';
import { validateWasmConfig } from '../../src/wasm/filter';
import { envImports } from '../../src/wasm/host-env';
import { WA } from '../../src/wasm/wa';
import { propertyKey } from '../../src/wasm/properties';
import { tinyModule } from '../fixtures/wasm/build';
import type { VmInstance } from '../../src/wasm/instance';

const WebAssemblyMemory = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer; grow(n: number): number } } })
  .WebAssembly.Memory;

describe('wasm host: header pairs', () => {
  it('serializes exactly as the spec example', () => {
    const b = serializePairs(['a', '1', 'b', '22']);
    assert.equal(b.toString('hex'), '02000000' + '01000000' + '01000000' + '01000000' + '02000000' + '6100' + '3100' + '6200' + '323200');
    assert.equal(b.length, 29);
  });
  it('serializes an empty map as a lone count', () => {
    assert.equal(serializePairs([]).toString('hex'), '00000000');
  });
  it('round-trips latin1 bytes', () => {
    const kv = ['x-bin', '\u00ff\u00e9', 'k', ''];
    assert.deepEqual(deserializePairs(serializePairs(kv)), kv);
  });
  it('rejects truncated input instead of reading past it', () => {
    const b = serializePairs(['abc', 'def']);
    for (let n = 1; n < b.length - 1; n++) assert.equal(deserializePairs(b.subarray(0, n)), null, `length ${n}`);
    assert.equal(deserializePairs(Buffer.from('ffffffff', 'hex')), null);
  });
});

describe('wasm host: guest memory', () => {
  it('copies out through the allocator, writing LE pointer and size; zero length writes 0/0', () => {
    const mem = new WebAssemblyMemory({ initial: 1 });
    let calls = 0;
    const gm = new GuestMemory(mem, (n) => {
      calls++;
      mem.grow(1); // detaches old views: the copy must still land
      return 70000 + n * 0;
    });
    assert.equal(gm.copyOut(Buffer.from('hello'), 8, 12), 0);
    const dv = new DataView(mem.buffer);
    assert.equal(dv.getUint32(8, true), 70000);
    assert.equal(dv.getUint32(12, true), 5);
    assert.equal(Buffer.from(mem.buffer, 70000, 5).toString(), 'hello');
    assert.equal(gm.copyOut(Buffer.alloc(0), 8, 12), 0);
    assert.equal(calls, 1, 'no allocation for zero length');
    assert.equal(dv.getUint32(8, true), 0);
    assert.equal(dv.getUint32(12, true), 0);
  });
  it('throws MemoryAccessError out of bounds', () => {
    const gm = new GuestMemory(new WebAssemblyMemory({ initial: 1 }), null);
    assert.throws(() => gm.view(65530, 10), /out of bounds/);
    assert.throws(() => gm.setU32(65534, 1), /out of bounds/);
    assert.throws(() => gm.string(0xfffffff0, 0x20), /out of bounds/);
  });
  it('host functions answer INVALID_MEMORY_ACCESS for bad pointers', () => {
    const memory = new GuestMemory(new WebAssemblyMemory({ initial: 1 }), () => 1024);
    const fake = {
      memory,
      current: null,
      plugin: { logLevel: 2, identity: { name: 'p', rootId: '', vmId: '' }, rootProps: new Map(), vmConfig: Buffer.from('vm'), pluginConfig: Buffer.from('cfg') },
      logAt() {},
    } as unknown as VmInstance;
    const env = envImports(fake);
    assert.equal(env.proxy_log(2, 65000, 1000), 6);
    assert.equal(env.proxy_get_log_level(65535), 6);
    assert.equal(env.proxy_get_buffer_bytes(7, 0, 100, 65535, 0), 6);
    assert.equal(env.proxy_get_buffer_bytes(7, 0, 100, 16, 20), 0);
    assert.equal(env.proxy_get_header_map_value(0, 0, 1, 16, 20), 1, 'no stream: NOT_FOUND');
    assert.equal(env.proxy_grpc_call(1, 2, 3), 12);
  });
});

describe('wasm host: module checks', () => {
  it('detects the ABI from the marker export', () => {
    const m = new WA.Module(tinyModule({ exports: ['proxy_abi_version_0_2_0'] }));
    assert.deepEqual(checkModule(m), { abi: '0.2.0', problems: [] });
  });
  it('names unknown imports and a missing marker', () => {
    const m = new WA.Module(tinyModule({ imports: [['env', 'proxy_log'], ['env', 'nope'], ['wasi_unstable', 'fd_write']], exports: ['x'] }));
    const r = checkModule(m);
    assert.equal(r.abi, null);
    assert.equal(r.problems.length, 2);
    assert.match(r.problems[0], /not a proxy-wasm module/);
    assert.match(r.problems[1], /"env\.nope"/);
  });
});

describe('wasm host: config', () => {
  it('accepts a full config', () => {
    const c = validateWasmConfig({ module: 'a.wasm', configuration: { a: 1 }, fail_open: true, max_memory: 1 << 20, sha256: 'a'.repeat(64) });
    assert.equal(c.module, 'a.wasm');
  });
  it('reports every problem with its path', () => {
    try {
      validateWasmConfig({ configuration: 3, fail_open: 'yes', max_memory: 10, sha256: 'xyz', bogus: 1 });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.issues.map((i) => i.path).sort(), ['bogus', 'configuration', 'fail_open', 'max_memory', 'module', 'sha256']);
    }
  });
  it('normalizes property paths', () => {
    assert.equal(propertyKey('request\u0000path'), 'request.path');
    assert.equal(propertyKey('plugin_name\u0000'), 'plugin_name');
  });
});
