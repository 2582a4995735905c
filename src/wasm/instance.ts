/**
 * VmInstance: one instantiation of a plugin's module — its memory, root context, stream
 * contexts, tick timer, metrics, pending http calls — and the only place guest exports are
 * called. Stream-affecting requests made by the guest (local reply, continue, close) are recorded
 * and applied after the guest call returns (flush), so the engine never re-enters the guest.
 * Must never: call into the guest while another guest call is running, or survive a trap
 * (the plugin marks it dead and builds a new one).
 */
import type { Clock, HeaderMap, Logger, TimerHandle } from '../api';
import type { CompiledModule } from './module-cache';
import { GuestMemory, type Allocator } from './memory';
import { wasiImports, ProcExit } from './wasi';
import { envImports } from './host-env';
import type { PluginIdentity } from './properties';
import type { HttpCallFn, HttpCallHandle, HttpCallResult } from './http-call';
import type { PluginMetrics, WasmMetric } from './metrics';
import { releaseQueues, type QueueOwner } from './shared';
import type { WasmStream } from './stream';
import { LOG_LEVELS } from './abi';
import { WA, type WaMemory } from './wa';
import { performance } from 'node:perf_hooks';
import { ContextList } from './context-list';
import { WATCHDOG_MIN_BUDGET_MS, enterGuest, leaveGuest, startWatchdog } from './budget-watchdog';

type Fn = (...args: number[]) => number;

/** What an instance needs from its plugin. */
export interface PluginHost {
  readonly identity: PluginIdentity;
  readonly vmConfig: Buffer;
  readonly pluginConfig: Buffer;
  readonly clock: Clock;
  readonly log: Logger;
  /** proxy_get_log_level answer, 0 (trace) .. 5 (critical). */
  readonly logLevel: number;
  /** 0 = unlimited. */
  readonly maxMemory: number;
  /** Wall-clock ms one top-level guest call may take (checked after it returns); 0 = unchecked. */
  readonly callbackBudgetMs: number;
  readonly httpCall: HttpCallFn | null;
  /** Properties set from a root context. */
  readonly rootProps: Map<string, Buffer>;
  readonly metrics: PluginMetrics;
  /** A callback trapped or broke a limit: count it, retire `inst`, arrange a new one. */
  trapped(inst: VmInstance, err: unknown, where: string): void;
}

/** A guest call ran longer than the plugin's callback budget (detected after it returned). */
export class CallbackBudgetError extends Error {
  constructor(readonly elapsedMs: number, readonly budgetMs: number) {
    super(`guest callback ran at least ${elapsedMs.toFixed(1)} ms, over callback_budget_ms ${budgetMs}`);
    this.name = 'CallbackBudgetError';
  }
}

export class MemoryLimitError extends Error {
  constructor(size: number, max: number) {
    super(`memory grew to ${size} bytes, over max_memory ${max}`);
    this.name = 'MemoryLimitError';
  }
}

export interface GuestExports {
  on_context_create?: Fn;
  on_vm_start?: Fn;
  on_configure?: Fn;
  on_tick?: Fn;
  on_queue_ready?: Fn;
  on_request_headers?: Fn;
  on_request_body?: Fn;
  on_request_trailers?: Fn;
  on_response_headers?: Fn;
  on_response_body?: Fn;
  on_response_trailers?: Fn;
  on_http_call_response?: Fn;
  on_done?: Fn;
  on_log?: Fn;
  on_delete?: Fn;
}

const HOOKS: (keyof GuestExports)[] = [
  'on_context_create', 'on_vm_start', 'on_configure', 'on_tick', 'on_queue_ready', 'on_request_headers',
  'on_request_body', 'on_request_trailers', 'on_response_headers', 'on_response_body', 'on_response_trailers',
  'on_http_call_response', 'on_done', 'on_log', 'on_delete',
];

export class VmInstance implements QueueOwner {
  readonly rootId = 1;
  private nextId = 2;
  dead = false;
  /** The effective context: a stream, or null for the root context. */
  current: WasmStream | null = null;
  /** Live stream contexts (see context-list.ts). */
  private readonly streams = new ContextList<WasmStream>();
  readonly metrics: WasmMetric[] = [];
  /** Set only while proxy_on_http_call_response runs. */
  httpResponse: HttpCallResult | null = null;
  readonly fns: GuestExports = {};
  memory!: GuestMemory;
  private readonly calls = new Map<number, HttpCallHandle>();
  private nextToken = 1;
  private tick: TimerHandle | null = null;
  private touched: WasmStream[] = [];
  private depth = 0;
  /** The budget applies once started (module start-up runs at config load, unbudgeted). */
  private budgetMs = 0;
  /** Whether the watchdog judges this instance's calls (long budgets; see budget-watchdog.ts). */
  private watched = false;

  constructor(readonly plugin: PluginHost, private readonly compiled: CompiledModule) {}

  /** Instantiates and runs _initialize/_start, root context creation, vm_start and configure. Throws. */
  start(): void {
    const p = this.plugin;
    const wasi = wasiImports({
      memory: () => this.memory,
      line: (fd, text) => this.stdLine(fd, text),
      wallNanos: () => BigInt(Math.round(p.clock.wallNow() * 1e6)),
      monoNanos: () => BigInt(Math.round(p.clock.now() * 1e6)),
    });
    const instance = new WA.Instance(this.compiled.module, {
      env: envImports(this),
      wasi_snapshot_preview1: wasi,
      wasi_unstable: wasi,
    });
    const ex = instance.exports;
    const alloc = (typeof ex.malloc === 'function' ? ex.malloc : ex.proxy_on_memory_allocate) as Allocator | undefined;
    this.memory = new GuestMemory(ex.memory as WaMemory, alloc ?? null);
    for (const h of HOOKS) {
      const f = ex['proxy_' + h];
      if (typeof f === 'function') this.fns[h] = f as Fn;
    }
    const init = (typeof ex._initialize === 'function' ? ex._initialize : ex._start) as Fn | undefined;
    if (init !== undefined) {
      try {
        this.invoke(init);
      } catch (err) {
        if (!(err instanceof ProcExit && err.code === 0)) throw err;
      }
    }
    const f = this.fns;
    if (f.on_context_create !== undefined) this.invoke(f.on_context_create, this.rootId, 0);
    if (f.on_vm_start !== undefined && this.invoke(f.on_vm_start, this.rootId, p.vmConfig.length) === 0) {
      throw new Error('proxy_on_vm_start returned false');
    }
    if (f.on_configure !== undefined && this.invoke(f.on_configure, this.rootId, p.pluginConfig.length) === 0) {
      throw new Error('proxy_on_configure rejected the configuration (returned false)');
    }
    this.budgetMs = p.callbackBudgetMs;
    if (this.budgetMs >= WATCHDOG_MIN_BUDGET_MS) {
      this.watched = true;
      startWatchdog(this.budgetMs);
    }
    this.flush();
  }

  /**
   * Calls a guest export; throws on a trap, when memory passed max_memory, or when a top-level
   * call overran the callback budget. Node cannot interrupt a running wasm call, so the budget is
   * enforced after the fact: the instance is retired, which bounds the damage to one call.
   */
  invoke(fn: Fn, a = 0, b = 0, c = 0, d = 0, e = 0): number {
    const tok = this.enter();
    let r: number;
    try {
      r = fn(a, b, c, d, e);
    } catch (err) {
      this.exit(tok);
      throw err;
    }
    this.settle(tok, this.exit(tok));
    return r >>> 0;
  }

  // Stream callbacks (the hot path) call exactly (no arity adaptation in the JS-to-wasm wrapper).
  // Each top-level call is judged on its own: by the watchdog for long budgets (no clock read),
  // else by a clock read before and after.

  /**
   * Before a guest call: marks the host as inside the guest and opens the call's budget — 0 when
   * unjudged (unbudgeted, or nested in a guest call); the watchdog's sequence number (> 0); else
   * -1 - performance.now() (< 0) to time it here.
   */
  private enter(): number {
    const outer = this.depth === 0;
    this.depth++;
    if (!outer || this.budgetMs <= 0) return 0;
    if (this.watched) {
      const s = enterGuest(this.budgetMs);
      if (s !== 0) return s;
    }
    return -1 - performance.now();
  }

  /** After a guest call, returned or thrown: the watchdog's finding for it (ms over), or -1. */
  private exit(tok: number): number {
    this.depth--;
    return tok > 0 ? leaveGuest(tok) : -1;
  }

  /** After a guest call returned: throws when it overran its budget or memory passed max_memory. */
  private settle(tok: number, ran: number): void {
    if (tok > 0) {
      if (ran >= 0) throw new CallbackBudgetError(ran, this.budgetMs);
    } else if (tok < 0) {
      const took = performance.now() - (-1 - tok);
      if (took > this.budgetMs) throw new CallbackBudgetError(took, this.budgetMs);
    }
    this.memoryCheck();
  }

  private memoryCheck(): void {
    const max = this.plugin.maxMemory;
    if (max > 0 && this.memory.byteLength > max) throw new MemoryLimitError(this.memory.byteLength, max);
  }

  /** `fn(id)`; throws on a trap, an overrun budget or past max_memory. */
  call1(fn: Fn, id: number): number {
    const tok = this.enter();
    let r: number;
    try {
      r = fn(id);
    } catch (err) {
      this.exit(tok);
      throw err;
    }
    this.settle(tok, this.exit(tok));
    return r >>> 0;
  }

  /** `fn(id, a)`, as call1. */
  call2(fn: Fn, id: number, a: number): number {
    const tok = this.enter();
    let r: number;
    try {
      r = fn(id, a);
    } catch (err) {
      this.exit(tok);
      throw err;
    }
    this.settle(tok, this.exit(tok));
    return r >>> 0;
  }

  /** `fn(id, a, b)`, as call1. */
  call3(fn: Fn, id: number, a: number, b: number): number {
    const tok = this.enter();
    let r: number;
    try {
      r = fn(id, a, b);
    } catch (err) {
      this.exit(tok);
      throw err;
    }
    this.settle(tok, this.exit(tok));
    return r >>> 0;
  }

  get inGuest(): boolean {
    return this.depth > 0;
  }

  newContextId(): number {
    return this.nextId++;
  }

  /** Links a stream context into the live list (once, at context creation). */
  addContext(s: WasmStream): void {
    this.streams.add(s);
  }

  /** Unlinks a stream context (at its deletion). */
  removeContext(s: WasmStream): void {
    this.streams.remove(s);
    if (this.onIdle !== null && this.streams.size === 0) this.onIdle();
  }

  /** Set while the plugin is retiring this instance: called when the last stream context goes. */
  onIdle: (() => void) | null = null;

  /** The live stream context `id`, for proxy_set_effective_context. */
  contextById(id: number): WasmStream | undefined {
    return this.streams.byId(id);
  }

  /** How many stream contexts are live (created and not yet deleted). */
  get contextCount(): number {
    return this.streams.size;
  }

  /** Records that `s` has deferred actions to apply after the guest call. */
  touch(s: WasmStream): void {
    if (!this.touched.includes(s)) this.touched.push(s);
  }

  /** Applies deferred stream actions; only when no guest call is running. Never throws. */
  flush(): void {
    if (this.depth > 0 || this.touched.length === 0) return;
    const list = this.touched;
    this.touched = [];
    for (const s of list) {
      try {
        s.applyDeferred();
      } catch (err) {
        this.logAt(4, `applying a stream action failed: ${String(err)}`);
      }
    }
  }

  /** After a trap retired this instance: every stream it held is answered or released. */
  abandonStreams(): void {
    this.touched = [];
    for (const s of this.streams.toArray()) {
      try {
        s.instanceDied();
      } catch (err) {
        this.logAt(4, `failing a stream of a dead instance failed: ${String(err)}`);
      }
    }
  }

  /** Runs a root-context callback; a trap retires the instance. */
  private rootCall(where: string, fn: Fn | undefined, a = 0, b = 0, c = 0, d = 0, e = 0): void {
    if (fn === undefined || this.dead) return;
    const prev = this.current;
    this.current = null;
    try {
      this.invoke(fn, a, b, c, d, e);
    } catch (err) {
      this.current = prev;
      this.plugin.trapped(this, err, where);
      return;
    }
    this.current = prev;
    this.flush();
  }

  // ---- timers, queues, http calls -------------------------------------------------------------

  setTickPeriod(ms: number): void {
    if (this.tick !== null) this.tick.cancel();
    this.tick = null;
    if (ms <= 0 || this.dead) return;
    const t = this.plugin.clock.setTimer(() => {
      if (this.tick !== t || this.dead) return;
      this.rootCall('proxy_on_tick', this.fns.on_tick, this.rootId);
      if (this.tick === t && !this.dead) t.refresh();
    }, ms);
    this.tick = t;
  }

  onQueueReady(token: number): void {
    this.rootCall('proxy_on_queue_ready', this.fns.on_queue_ready, this.rootId, token);
  }

  /** Starts an http call; returns the token, or a negative status. */
  httpCall(cluster: string, headers: HeaderMap, body: Buffer, timeoutMs: number): number {
    const caller = this.plugin.httpCall;
    if (caller === null) return -12;
    const token = this.nextToken++;
    const h = caller(cluster, headers, body, timeoutMs, (res) => {
      this.calls.delete(token);
      if (this.dead) return;
      this.httpResponse = res;
      const nh = res === null ? 0 : res.headers.size;
      const nb = res === null ? 0 : res.body.length;
      const nt = res === null || res.trailers === null ? 0 : res.trailers.size;
      this.rootCall('proxy_on_http_call_response', this.fns.on_http_call_response, this.rootId, token, nh, nb, nt);
      this.httpResponse = null;
    });
    if (h === null) return -2;
    this.calls.set(token, h);
    return token;
  }

  // ---- logging ---------------------------------------------------------------------------------

  logAt(level: number, msg: string): void {
    const p = this.plugin;
    if (level < p.logLevel) return;
    const extra = { plugin: p.identity.name };
    if (level <= 1) p.log.debug(msg, extra);
    else if (level === 2) p.log.info(msg, extra);
    else if (level === 3) p.log.warn(msg, extra);
    else p.log.error(msg, extra);
  }

  /** A stdout/stderr line; SDKs that log through WASI prefix it with `[LEVEL]: `. */
  private stdLine(fd: number, text: string): void {
    let level = fd === 2 ? 4 : 2;
    const m = /^\[(TRACE|DEBUG|INFO|WARN|ERROR|CRITICAL)\]:? ?/.exec(text);
    if (m !== null) {
      level = LOG_LEVELS.indexOf(m[1].toLowerCase() as (typeof LOG_LEVELS)[number]);
      text = text.slice(m[0].length);
    }
    this.logAt(level, text);
  }

  // ---- teardown --------------------------------------------------------------------------------

  /** Stops timers and calls; `graceful` also tells the guest (on_done/on_delete on the root). */
  destroy(graceful: boolean): void {
    if (graceful && !this.dead) {
      this.rootCallQuiet(this.fns.on_done);
      this.rootCallQuiet(this.fns.on_delete);
    }
    this.dead = true;
    if (this.tick !== null) this.tick.cancel();
    this.tick = null;
    for (const c of this.calls.values()) c.cancel();
    this.calls.clear();
    releaseQueues(this);
  }

  private rootCallQuiet(fn: Fn | undefined): void {
    if (fn === undefined) return;
    this.current = null;
    try {
      this.invoke(fn, this.rootId);
    } catch {
      /* some SDKs trap on root on_done/on_delete; the instance is going away anyway */
    }
  }
}
