/**
 * The SDK's context table (a direct-mapped slot per id, a Map for taken slots) through the real host:
 * hundreds of streams in flight at once — more than the table's slots, so ids collide — each find
 * their own context in every callback, and contexts deleted out of order free their slots. And the
 * SDK's collection points (sdk/gc.ts, the two-colour collector run at the end of callbacks) keep
 * memory flat over many streams.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { HeaderMap, type BuiltFilter, type StreamFilter } from '../../src/api';
import { wasmFilterFactory } from '../../src/wasm';
import type { WasmStream } from '../../src/wasm/stream';
import { fakeCtx, fakeEnv } from '../fixtures/wasm/fake-stream';

const MODULE = join(__dirname, '..', '..', '..', 'filters-wasm', 'build', 'add-header.wasm');
const CONFIG = { response_headers_to_add: [{ name: 'x-c', value: '2' }], request_headers_to_add: [{ name: 'x-a', value: '1' }] };
const built: BuiltFilter[] = [];
after(() => {
  for (const b of built) b.destroy?.();
});

describe('SDK context table', () => {
  it('600 streams in flight, released out of order: every callback reaches its own context', async () => {
    const env = fakeEnv();
    const f = await wasmFilterFactory.build({ module: MODULE, configuration: CONFIG }, env);
    built.push(f);
    const open = (): { s: StreamFilter; ctx: ReturnType<typeof fakeCtx> } => {
      const s = f.createFilter() as StreamFilter;
      const ctx = fakeCtx(env);
      assert.equal(s.onRequestHeaders!(ctx, ctx.requestHeaders, true), 'continue');
      assert.equal(ctx.requestHeaders.get('x-a'), '1');
      return { s, ctx };
    };
    const respond = (x: { s: StreamFilter; ctx: ReturnType<typeof fakeCtx> }): void => {
      const h = new HeaderMap([':status', '200']);
      assert.equal(x.s.onResponseHeaders!(x.ctx, h, true), 'continue');
      assert.equal(h.get('x-c'), '2', 'the stream found its context');
      x.s.onLog!(x.ctx);
      x.s.onDestroy!();
    };
    const live = Array.from({ length: 600 }, open);
    // Release every third stream first, then open more (reusing freed slots), then the rest.
    for (let i = 0; i < live.length; i += 3) respond(live[i]);
    const more = Array.from({ length: 300 }, open);
    for (let i = 0; i < live.length; i++) if (i % 3 !== 0) respond(live[i]);
    for (const x of more.reverse()) respond(x);
    assert.equal(env.metric('wasm_traps_total'), 0);
    // A stream whose callbacks could not find its context would have passed untouched above.
    respond(open());
  });

  it('garbage is collected: 60,000 streams leave memory where the first 2,000 left it', async () => {
    const env = fakeEnv();
    const f = await wasmFilterFactory.build({ module: MODULE, configuration: CONFIG }, env);
    built.push(f);
    let bytes = 0;
    for (let i = 0; i < 60_000; i++) {
      const s = f.createFilter() as StreamFilter;
      const ctx = fakeCtx(env);
      s.onRequestHeaders!(ctx, ctx.requestHeaders, true);
      s.onResponseHeaders!(ctx, new HeaderMap([':status', '200']), true);
      s.onLog!(ctx);
      s.onDestroy!();
      if (i === 1999) bytes = (s as WasmStream).inst!.memory.byteLength;
      if (i === 59_999) assert.equal((s as WasmStream).inst!.memory.byteLength, bytes, 'memory did not grow');
    }
    assert.equal(env.metric('wasm_traps_total'), 0);
  });
});
