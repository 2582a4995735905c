/**
 * The WASM request path's cheap forms keep their behaviour: stream contexts leave the instance's
 * live list when deleted (and proxy_set_effective_context still finds live ones), a body callback
 * is skipped only for the empty end-of-stream chunk after headers that ended the stream, the time
 * budget still covers context creation and on_done/on_log/on_delete and is enforced by the
 * watchdog for long budgets (an overrun fails its stream, a quick call never does), and guest strings decoded
 * through the short-string cache are the bytes the guest wrote (latin1, UTF-8, after memory.grow).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuiltFilter, StreamFilter } from '../../src/api';
import { wasmFilterFactory } from '../../src/wasm';
import { GuestMemory } from '../../src/wasm/memory';
import { watchdogRunning } from '../../src/wasm/budget-watchdog';
import type { WasmStream } from '../../src/wasm/stream';
import { badModule, op } from '../fixtures/wasm/wasm-builder';
import { fakeCtx, fakeEnv, type FakeEnv } from '../fixtures/wasm/fake-stream';

let dir: string;
let n = 0;
const built: BuiltFilter[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-wasm-hot-'));
});
after(async () => {
  for (const b of built) b.destroy?.();
  await rm(dir, { recursive: true, force: true });
});

async function build(bytes: Buffer, extra: Record<string, unknown> = {}, env: FakeEnv = fakeEnv()): Promise<{ f: BuiltFilter; env: FakeEnv }> {
  const file = join(dir, `m${n++}.wasm`);
  await writeFile(file, bytes);
  const f = await wasmFilterFactory.build({ module: file, name: 'hot', ...extra }, env);
  built.push(f);
  return { f, env };
}

/** Hook body: memory[at] += 1, then return `ret` (when the hook returns a value). */
const count = (at: number, ret: number | null = 0) => () => [
  ...op.i32(at), ...op.i32(at), ...op.load(), ...op.i32(1), ...op.add, ...op.store(),
  ...(ret === null ? [] : op.i32(ret)),
];

/** Hook body: spins 20M iterations (tens of ms at least) using local `l`, then returns `ret`. */
const spin = (l: number, ret: number | null) => () => [
  ...op.loop, ...op.get(l), ...op.i32(1), ...op.add, ...op.tee(l), ...op.i32(20_000_000), ...op.ltU, ...op.brIf(0), ...op.end,
  ...(ret === null ? [] : op.i32(ret)),
];

function u32(s: StreamFilter, at: number): number {
  return (s as WasmStream).inst!.memory.u32(at);
}

describe('wasm hot path: stream contexts', () => {
  it('every deleted stream leaves the live list; live ones stay findable by id', async () => {
    const { f, env } = await build(badModule());
    const streams: StreamFilter[] = [];
    for (let i = 0; i < 5; i++) {
      const s = f.createFilter() as StreamFilter;
      const ctx = fakeCtx(env);
      assert.equal(s.onRequestHeaders!(ctx, ctx.requestHeaders, true), 'continue');
      streams.push(s);
    }
    const inst = (streams[0] as WasmStream).inst!;
    assert.equal(inst.contextCount, 5);
    // Delete the middle, the first and the last: the list must relink around each.
    for (const i of [2, 0, 4]) {
      streams[i].onLog!(fakeCtx(env));
      streams[i].onDestroy!();
    }
    assert.equal(inst.contextCount, 2);
    assert.equal(inst.contextById((streams[1] as WasmStream).id), streams[1]);
    assert.equal(inst.contextById((streams[3] as WasmStream).id), streams[3]);
    assert.equal(inst.contextById((streams[2] as WasmStream).id), undefined);
    streams[1].onDestroy!();
    streams[3].onDestroy!();
    streams[3].onDestroy!(); // twice: no double unlink
    assert.equal(inst.contextCount, 0);
    assert.equal(inst.contextById((streams[3] as WasmStream).id), undefined);
  });
});

describe('wasm hot path: body callbacks', () => {
  const COUNTER = 100;
  const module = () => badModule({ hooks: { proxy_on_request_body: count(COUNTER) } });

  it('headers that ended the request: the empty end-of-stream chunk does not reach on_request_body', async () => {
    const { f, env } = await build(module());
    const s = f.createFilter() as StreamFilter;
    const ctx = fakeCtx(env);
    assert.equal(s.onRequestHeaders!(ctx, ctx.requestHeaders, true), 'continue');
    assert.equal(s.onRequestBody!(ctx, Buffer.alloc(0), true), 'continue');
    assert.equal(u32(s, COUNTER), 0);
  });

  it('a request with a body: every chunk, the empty end chunk included, reaches on_request_body', async () => {
    const { f, env } = await build(module());
    const s = f.createFilter() as StreamFilter;
    const ctx = fakeCtx(env);
    s.onRequestHeaders!(ctx, ctx.requestHeaders, false);
    ctx.body = Buffer.from('abc');
    s.onRequestBody!(ctx, ctx.body, false);
    ctx.body = Buffer.alloc(0);
    s.onRequestBody!(ctx, ctx.body, true);
    assert.equal(u32(s, COUNTER), 2);
  });
});

describe('wasm hot path: the callback budget', () => {
  it('covers context creation: a slow proxy_on_context_create fails its stream', async () => {
    const { f, env } = await build(
      badModule({ hooks: { proxy_on_context_create: spin(2, null) }, locals: { proxy_on_context_create: ['i32'] } }),
      { callback_budget_ms: 1 },
    );
    const s = f.createFilter() as StreamFilter;
    const ctx = fakeCtx(env);
    assert.equal(s.onRequestHeaders!(ctx, ctx.requestHeaders, true), 'stop');
    assert.equal(ctx.replies[0]?.status, 500);
    assert.equal(env.metric('wasm_callback_overruns_total'), 1);
  });

  it('covers on_done/on_log/on_delete: a slow proxy_on_log retires the instance', async () => {
    const { f, env } = await build(badModule({ hooks: { proxy_on_log: spin(1, null) }, locals: { proxy_on_log: ['i32'] } }), {
      callback_budget_ms: 1,
    });
    const s = f.createFilter() as StreamFilter;
    const ctx = fakeCtx(env);
    assert.equal(s.onRequestHeaders!(ctx, ctx.requestHeaders, true), 'continue');
    const inst = (s as WasmStream).inst!;
    s.onLog!(ctx);
    s.onDestroy!();
    assert.equal(env.metric('wasm_callback_overruns_total'), 1);
    assert.equal(inst.dead, true);
    assert.equal(inst.contextCount, 0);
  });
});

describe('wasm hot path: the budget watchdog', () => {
  it('a long budget is judged by the watchdog: a call blocked past it fails its stream, quick ones pass', async () => {
    const env = fakeEnv();
    let blockMs = 0;
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    // proxy_log lands here: block the thread (a guest call that takes that long, as seen by the host).
    env.log.info = () => {
      if (blockMs > 0) Atomics.wait(sleeper, 0, 0, blockMs);
    };
    const logOnce = (imp: number[]) => [...op.i32(2), ...op.i32(0), ...op.i32(0), ...op.call(imp[0]), ...op.drop, ...op.i32(0)];
    const { f } = await build(
      badModule({ imports: [['env', 'proxy_log', ['i32', 'i32', 'i32'], ['i32']]], hooks: { proxy_on_request_headers: logOnce } }),
      { callback_budget_ms: 100 },
      env,
    );
    // Wait for the watchdog's first turn so calls are judged by it, not by clock reads.
    for (let i = 0; i < 400 && !watchdogRunning(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(watchdogRunning(), 'the watchdog runs');
    const one = (): [string | undefined, number | undefined] => {
      const s = f.createFilter() as StreamFilter;
      const ctx = fakeCtx(env);
      return [s.onRequestHeaders!(ctx, ctx.requestHeaders, true) as string, ctx.replies[0]?.status];
    };
    blockMs = 30; // well under the budget, and longer than the watchdog's 10 ms poll
    for (let i = 0; i < 3; i++) assert.deepEqual(one(), ['continue', undefined]);
    blockMs = 250;
    assert.deepEqual(one(), ['stop', 500]);
    assert.equal(env.metric('wasm_callback_overruns_total'), 1);
    // The flag is for that call only: the replacement instance's quick calls pass.
    blockMs = 0;
    await new Promise((r) => setTimeout(r, 50)); // past the rebuild backoff, if any
    const after = one();
    assert.equal(env.metric('wasm_callback_overruns_total'), 1, `after: ${JSON.stringify(after)}`);
  });
});

describe('wasm hot path: guest strings', () => {
  function memory(): { mem: GuestMemory; wa: WebAssembly.Memory; u8: () => Uint8Array } {
    const wa = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    return { mem: new GuestMemory(wa, null), wa, u8: () => new Uint8Array(wa.buffer) };
  }

  it('short strings decode to the bytes written, also when the same slot is reused', () => {
    const { mem, u8 } = memory();
    const put = (at: number, bytes: number[]) => u8().set(bytes, at);
    put(0, [0x78, 0x2d, 0x61]); // x-a
    assert.equal(mem.string(0, 3, 'latin1'), 'x-a');
    assert.equal(mem.string(0, 3, 'latin1'), 'x-a');
    put(0, [0x78, 0x2d, 0x62]); // same place, new bytes
    assert.equal(mem.string(0, 3, 'latin1'), 'x-b');
    put(10, [0x63, 0xe9]); // "cé" in latin1
    assert.equal(mem.string(10, 2, 'latin1'), 'c\u00e9');
    put(20, [0x63, 0xc3, 0xa9]); // "cé" in UTF-8
    assert.equal(mem.string(20, 3, 'utf8'), 'c\u00e9');
    assert.equal(mem.string(20, 3, 'latin1'), 'c\u00c3\u00a9');
    assert.equal(mem.string(0, 0, 'latin1'), '');
    for (let i = 0; i < 3000; i++) {
      const s = `k${i}`;
      u8().set(Buffer.from(s, 'latin1'), 100);
      assert.equal(mem.string(100, s.length, 'latin1'), s);
    }
    const long = 'v'.repeat(40);
    u8().set(Buffer.from(long), 200);
    assert.equal(mem.string(200, 40, 'latin1'), long);
  });

  it('reads past the old end after memory.grow, and still refuses out-of-bounds reads', () => {
    const { mem, wa, u8 } = memory();
    assert.equal(mem.string(0, 1, 'latin1'), '\0');
    assert.throws(() => mem.string(65536, 1, 'latin1'), /out of bounds/);
    wa.grow(1);
    u8().set([0x7a], 65536);
    assert.equal(mem.string(65536, 1, 'latin1'), 'z');
    assert.equal(mem.u32(65536), 0x7a);
    assert.throws(() => mem.view(2 * 65536 - 1, 2), /out of bounds/);
  });
});
