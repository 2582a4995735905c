/**
 * Bad WASM input, driven through the `wasm` filter factory with hand-assembled modules: files that
 * are not WASM, lack the ABI marker or import what the host lacks (config errors); traps in every
 * callback kind, callbacks over their time budget, memory growth past max_memory (a per-stream
 * failure and a counter, the instance replaced, other streams untouched or released); and
 * out-of-bounds pointers to every host call family (INVALID_MEMORY_ACCESS / EFAULT, no exception).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, HeaderMap, type BuiltFilter, type StreamFilter } from '../../src/api';
import { wasmFilterFactory } from '../../src/wasm';
import { serializePairs } from '../../src/wasm/memory';
import type { WasmStream } from '../../src/wasm/stream';
import { badModule, op, type BadModuleSpec, type ValType } from '../fixtures/wasm/wasm-builder';
import { fakeCtx, fakeEnv, manyHeaders, type FakeEnv } from '../fixtures/wasm/fake-stream';
import { tinyModule } from '../fixtures/wasm/build';
import { PROXY_WASM_0_2_1_IMPORTS } from '../fixtures/wasm-sdk/abi-spec';

let dir: string;
let n = 0;
const built: BuiltFilter[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-wasm-bad-'));
});
after(async () => {
  for (const b of built) b.destroy?.();
  await rm(dir, { recursive: true, force: true });
});

async function file(bytes: Buffer): Promise<string> {
  const f = join(dir, `m${n++}.wasm`);
  await writeFile(f, bytes);
  return f;
}

async function build(bytes: Buffer, extra: Record<string, unknown> = {}, env: FakeEnv = fakeEnv()): Promise<{ f: BuiltFilter; env: FakeEnv }> {
  const f = await wasmFilterFactory.build({ module: await file(bytes), name: 'bad', ...extra }, env);
  built.push(f);
  return { f, env };
}

async function configError(bytes: Buffer): Promise<ConfigError> {
  try {
    await build(bytes);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
    return err;
  }
  throw new Error('expected a config error');
}

/** Body: trap when the hook's second argument (header count / body size) is at least `min`. */
const trapIfAtLeast = (min: number) => () => [...op.get(1), ...op.i32(min), ...op.geU, ...op.ifVoid, ...op.unreachable, ...op.end, ...op.i32(0)];
const TRAPPING = 12; // headers a request needs to make the skeleton misbehave

function run(f: BuiltFilter, env: FakeEnv, headers: Record<string, string> = {}) {
  const ctx = fakeCtx(env, headers);
  const s = f.createFilter() as StreamFilter;
  const status = s.onRequestHeaders!(ctx, ctx.requestHeaders, false);
  return { ctx, s, status };
}

describe('wasm bad input: modules rejected at config load', () => {
  it('a file that is not WebAssembly', async () => {
    const e = await configError(Buffer.from('\0asm but not really'));
    assert.equal(e.issues[0].path, 'module');
    assert.match(e.message, /not a valid WebAssembly module/);
  });
  it('a module without a proxy-wasm ABI export', async () => {
    const e = await configError(tinyModule({ exports: ['proxy_on_request_headers'] }));
    assert.match(e.message, /not a proxy-wasm module/);
  });
  it('a module importing an unknown function, or a memory, names each import', async () => {
    const b = badModule({ imports: [['env', 'proxy_frobnicate', ['i32'], ['i32']], ['wasi_snapshot_preview1', 'sock_open', [], ['i32']]] });
    const e = await configError(b);
    assert.match(e.message, /"env\.proxy_frobnicate"/);
    assert.match(e.message, /"wasi_snapshot_preview1\.sock_open"/);
    assert.equal(e.issues.length, 2);
  });
  it('a module whose start-up traps', async () => {
    const e = await configError(badModule({ hooks: { proxy_on_vm_start: () => op.unreachable } }));
    assert.match(e.message, /failed to start/);
  });
});

describe('wasm bad input: traps in each callback kind', () => {
  for (const [hook, drive] of [
    ['proxy_on_request_headers', (f: BuiltFilter, env: FakeEnv, bad: boolean) => run(f, env, bad ? manyHeaders(TRAPPING) : {})],
    [
      'proxy_on_request_body',
      (f: BuiltFilter, env: FakeEnv, bad: boolean) => {
        const r = run(f, env);
        r.ctx.body = Buffer.from(bad ? 'x'.repeat(TRAPPING) : 'ok');
        return { ...r, status: r.s.onRequestBody!(r.ctx, r.ctx.body, true) };
      },
    ],
    [
      'proxy_on_response_headers',
      (f: BuiltFilter, env: FakeEnv, bad: boolean) => {
        const r = run(f, env);
        const h = HeaderMap.from({ ':status': '200', ...(bad ? manyHeaders(TRAPPING) : {}) });
        return { ...r, status: r.s.onResponseHeaders!(r.ctx, h, true) };
      },
    ],
  ] as const) {
    it(`${hook}: only that stream fails (500), the trap is counted, the next stream works`, async () => {
      const { f, env } = await build(badModule({ hooks: { [hook]: trapIfAtLeast(TRAPPING) } }));
      const bad = drive(f, env, true);
      assert.equal(bad.status, 'stop');
      assert.equal(bad.ctx.replies.length, 1);
      assert.equal(bad.ctx.replies[0].status, 500);
      assert.equal(bad.ctx.replies[0].details, 'wasm_trap');
      assert.equal(env.metric('wasm_traps_total'), 1);
      const good = drive(f, env, false);
      assert.equal(good.status, 'continue');
      assert.equal(good.ctx.replies.length, 0, 'a fresh instance serves the next stream');
      bad.s.onDestroy!();
      good.s.onDestroy!();
    });
  }

  it('with fail_open the trapping stream passes on instead', async () => {
    const { f, env } = await build(badModule({ hooks: { proxy_on_request_headers: trapIfAtLeast(TRAPPING) } }), { fail_open: true });
    const bad = run(f, env, manyHeaders(TRAPPING));
    assert.equal(bad.status, 'continue');
    assert.equal(bad.ctx.replies.length, 0);
    assert.equal(env.metric('wasm_traps_total'), 1);
  });

  it('proxy_on_log: counted, no reply (the exchange is over); the next stream works', async () => {
    const { f, env } = await build(badModule({ hooks: { proxy_on_log: () => op.unreachable } }));
    const a = run(f, env);
    assert.equal(a.status, 'continue');
    a.s.onLog!(a.ctx);
    a.s.onDestroy!();
    assert.equal(a.ctx.replies.length, 0);
    assert.equal(env.metric('wasm_traps_total'), 1);
    const b = run(f, env);
    assert.equal(b.status, 'continue');
  });

  it('a trap elsewhere releases a stream held by the dead instance: 500, not a hang', async () => {
    // A held stream (request headers returned stop) and another stream that traps.
    const { f, env } = await build(
      badModule({ hooks: { proxy_on_request_headers: () => [...op.get(1), ...op.i32(TRAPPING), ...op.geU, ...op.ifVoid, ...op.unreachable, ...op.end, ...op.i32(1)] } }),
    );
    const held = run(f, env);
    assert.equal(held.status, 'stop');
    const other = run(f, env, manyHeaders(TRAPPING));
    assert.equal(other.ctx.replies[0].details, 'wasm_trap');
    assert.equal(held.ctx.replies.length, 1, 'the held stream was answered');
    assert.equal(held.ctx.replies[0].status, 500);
    assert.equal(held.ctx.replies[0].details, 'wasm_instance_died');
    assert.equal(other.ctx.replies.length, 1, 'no stream got another stream\'s reply');
  });

  it('proxy_on_tick: counted; a stream the instance held gets a 500', async () => {
    const spec: BadModuleSpec = {
      imports: [['env', 'proxy_set_tick_period_milliseconds', ['i32'], ['i32']]],
      hooks: {
        proxy_on_configure: (imp) => [...op.i32(10), ...op.call(imp[0]), ...op.drop, ...op.i32(1)],
        proxy_on_tick: () => op.unreachable,
        proxy_on_request_headers: () => op.i32(1),
      },
    };
    const { f, env } = await build(badModule(spec));
    const held = run(f, env);
    assert.equal(held.status, 'stop');
    env.clock.advance(10);
    assert.equal(env.metric('wasm_traps_total'), 1);
    assert.equal(held.ctx.replies[0]?.details, 'wasm_instance_died');
  });

  it('proxy_on_http_call_response: counted; the stream waiting for the call gets a 500', async () => {
    const CLUSTER = 1024;
    const HDRS = 1100;
    const hdrs = serializePairs([':method', 'GET', ':path', '/check', ':authority', 'authz']);
    const spec: BadModuleSpec = {
      imports: [['env', 'proxy_http_call', Array<ValType>(10).fill('i32'), ['i32']]],
      data: [
        [CLUSTER, Buffer.from('up')],
        [HDRS, hdrs],
      ],
      hooks: {
        proxy_on_request_headers: (imp) => [
          ...op.i32(CLUSTER), ...op.i32(2), ...op.i32(HDRS), ...op.i32(hdrs.length), ...op.i32(0), ...op.i32(0),
          ...op.i32(0), ...op.i32(0), ...op.i32(1000), ...op.i32(2000), ...op.call(imp[0]), ...op.drop, ...op.i32(1),
        ],
        proxy_on_http_call_response: () => op.unreachable,
      },
    };
    const env = fakeEnv();
    let calls = 0;
    env.answerHttpCall = async () => {
      calls++;
      return { headers: HeaderMap.from({ ':status': '200' }), body: Buffer.alloc(0), trailers: null };
    };
    const { f } = await build(badModule(spec), {}, env);
    const held = run(f, env);
    assert.equal(held.status, 'stop');
    assert.equal(calls, 1);
    await new Promise((r) => setImmediate(r));
    assert.equal(env.metric('wasm_traps_total'), 1);
    assert.equal(held.ctx.replies[0]?.details, 'wasm_instance_died');
  });
});

describe('wasm bad input: limits', () => {
  it('a callback over callback_budget_ms: that stream fails, counted, instance replaced', async () => {
    // Loops 20M times (tens of ms at least) when the request is "bad"; the budget is 1 ms.
    const body = [
      ...op.get(1), ...op.i32(TRAPPING), ...op.geU, ...op.ifVoid,
      ...op.loop, ...op.i32(64), ...op.get(3), ...op.i32(1), ...op.add, ...op.tee(3), ...op.store(),
      ...op.get(3), ...op.i32(20_000_000), ...op.ltU, ...op.brIf(0), ...op.end,
      ...op.end, ...op.i32(0),
    ];
    const { f, env } = await build(badModule({ hooks: { proxy_on_request_headers: () => body }, locals: { proxy_on_request_headers: ['i32'] } }), {
      callback_budget_ms: 1,
    });
    const slow = run(f, env, manyHeaders(TRAPPING));
    assert.equal(slow.status, 'stop');
    assert.equal(slow.ctx.replies[0].status, 500);
    assert.equal(env.metric('wasm_callback_overruns_total'), 1);
    assert.equal(env.metric('wasm_traps_total'), 1);
    const next = run(f, env);
    assert.equal(next.status, 'continue');
  });

  it('memory grown past max_memory: that stream fails, counted, a fresh instance has its memory back', async () => {
    const grow = () => [...op.get(1), ...op.i32(TRAPPING), ...op.geU, ...op.ifVoid, ...op.i32(8), ...op.grow, ...op.drop, ...op.end, ...op.i32(0)];
    const { f, env } = await build(badModule({ hooks: { proxy_on_request_headers: grow } }), { max_memory: 3 * 65536 });
    const bad = run(f, env, manyHeaders(TRAPPING));
    assert.equal(bad.ctx.replies[0].status, 500);
    assert.equal(env.metric('wasm_memory_limit_total'), 1);
    const next = run(f, env);
    assert.equal(next.status, 'continue');
    assert.equal((next.s as WasmStream).inst!.memory.byteLength, 2 * 65536);
  });

  it('rejects a bad callback_budget_ms', async () => {
    await assert.rejects(build(badModule(), { callback_budget_ms: -1 }), /callback_budget_ms/);
  });
});

describe('wasm bad input: out-of-bounds pointers to every host call family', () => {
  const OOB = -16; // 0xfffffff0
  const STATUS_AT = 4096;
  /** Host functions that touch guest memory, and the argument to use per parameter ('t' = 0). */
  const CALLS: Record<string, string> = {
    proxy_log: 'ppp',
    proxy_get_log_level: 'p',
    proxy_get_current_time_nanoseconds: 'p',
    proxy_get_status: 'ppp',
    proxy_get_buffer_bytes: 'ttppp',
    proxy_set_buffer_bytes: 'ttppp',
    proxy_get_buffer_status: 'tpp',
    proxy_get_header_map_size: 'tp',
    proxy_get_header_map_pairs: 'tpp',
    proxy_set_header_map_pairs: 'tpp',
    proxy_get_header_map_value: 'tpppp',
    proxy_add_header_map_value: 'tpppp',
    proxy_replace_header_map_value: 'tpppp',
    proxy_remove_header_map_value: 'tpp',
    proxy_send_local_response: 'pppppppp',
    proxy_http_call: 'pppppppppp',
    proxy_set_shared_data: 'ppppp',
    proxy_get_shared_data: 'ppppp',
    proxy_register_shared_queue: 'ppp',
    proxy_resolve_shared_queue: 'ppppp',
    proxy_enqueue_shared_queue: 'tpp',
    proxy_define_metric: 'tppp',
    proxy_get_property: 'pppp',
    proxy_set_property: 'pppp',
  };
  const WASI: Record<string, string> = { fd_write: 'pppp', clock_time_get: 'tIp', random_get: 'pp', environ_sizes_get: 'pp', args_sizes_get: 'pp' };

  it('each answers INVALID_MEMORY_ACCESS (WASI: EFAULT) and the stream goes on', async () => {
    const names = [...Object.keys(CALLS).map((k) => ['env', k] as const), ...Object.keys(WASI).map((k) => ['wasi_snapshot_preview1', k] as const)];
    const imports = names.map(([m, k]) => {
      const sig = PROXY_WASM_0_2_1_IMPORTS[m][k];
      return [m, k, sig.params as ValType[], sig.results as ValType[]] as [string, string, ValType[], ValType[]];
    });
    const body = (imp: number[]) => {
      const out: number[] = [];
      names.forEach(([m, k], i) => {
        const pattern = m === 'env' ? CALLS[k] : WASI[k];
        out.push(...op.i32(STATUS_AT + 4 * i));
        for (const c of pattern) out.push(...(c === 'I' ? op.i64(0) : op.i32(c === 't' ? 0 : OOB)));
        out.push(...op.call(imp[i]), ...op.store());
      });
      out.push(...op.i32(0));
      return out;
    };
    const { f, env } = await build(badModule({ imports, hooks: { proxy_on_request_headers: body } }));
    const r = run(f, env);
    assert.equal(r.status, 'continue');
    assert.equal(r.ctx.replies.length, 0);
    assert.equal(env.metric('wasm_traps_total'), 0);
    const mem = (r.s as WasmStream).inst!.memory.view(STATUS_AT, 4 * names.length);
    const got: Record<string, number> = {};
    const want: Record<string, number> = {};
    names.forEach(([m, k], i) => {
      got[k] = mem.readUInt32LE(4 * i);
      want[k] = m === 'env' ? 6 : 21;
    });
    assert.deepEqual(got, want);
    assert.equal(r.ctx.requestHeaders.size, 4, 'no header was added from garbage');
  });
});
