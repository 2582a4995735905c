/**
 * WasmStream: the StreamFilter of one stream for one wasm plugin. Creates the guest stream
 * context lazily, maps engine hooks to proxy_on_* callbacks (0 → continue, else stop), applies
 * what the guest asked for (local reply, continue, close) once its call has returned, and turns a
 * trap into a 500 (or a pass when fail_open). Ends with on_done, on_log, on_delete.
 * Must never: call into the guest re-entrantly or outlive the instance it was created in.
 */
import type { FilterContext, FilterStatus, HeaderMap, StreamFilter } from '../api';
import type { VmInstance, GuestExports } from './instance';

export interface DeferredReply {
  status: number;
  details: string;
  body: Buffer;
  headers: HeaderMap | undefined;
  grpcStatus: number | undefined;
}

/** What a stream needs from its plugin. */
export interface StreamPlugin {
  readonly failOpen: boolean;
  /** The live instance, building one if allowed; null when none is available. */
  live(): VmInstance | null;
  trapped(inst: VmInstance, err: unknown, where: string): void;
}

const enum Dir {
  Request = 0,
  Response = 1,
}

export class WasmStream implements StreamFilter {
  id = 0;
  inst: VmInstance | null = null;
  ctx: FilterContext | null = null;
  reqTrailers: HeaderMap | null = null;
  respHeaders: HeaderMap | null = null;
  respTrailers: HeaderMap | null = null;
  readonly eos: [boolean, boolean] = [false, false];
  props: Map<string, Buffer> | null = null;
  pendingReply: DeferredReply | null = null;
  /** Bit 1: continue request; bit 2: continue response. */
  pendingContinue = 0;
  /** Directions this filter holds (a stop not yet continued): bit 1 request, bit 2 response. */
  private held = 0;
  private failed = false;
  private replied = false;
  private ended = false;
  private logged = false;

  constructor(private readonly plugin: StreamPlugin) {}

  // ---- StreamFilter ----------------------------------------------------------------------------

  onRequestHeaders(ctx: FilterContext, headers: HeaderMap, endStream: boolean): FilterStatus {
    this.ctx = ctx;
    if (!this.ensure()) return this.unavailable();
    this.eos[Dir.Request] = endStream;
    return this.run('proxy_on_request_headers', 'on_request_headers', Dir.Request, headers.size, endStream ? 1 : 0);
  }

  onRequestBody(ctx: FilterContext, _chunk: Buffer, endStream: boolean): FilterStatus {
    if (!this.usable()) return this.unavailable();
    this.eos[Dir.Request] = endStream;
    return this.run('proxy_on_request_body', 'on_request_body', Dir.Request, ctx.bufferedBody('request').length, endStream ? 1 : 0);
  }

  onRequestTrailers(_ctx: FilterContext, trailers: HeaderMap): FilterStatus {
    if (!this.usable()) return this.unavailable();
    this.reqTrailers = trailers;
    this.eos[Dir.Request] = true;
    return this.run('proxy_on_request_trailers', 'on_request_trailers', Dir.Request, trailers.size, 0);
  }

  onResponseHeaders(_ctx: FilterContext, headers: HeaderMap, endStream: boolean): FilterStatus {
    if (!this.usable()) return this.unavailable();
    this.respHeaders = headers;
    this.eos[Dir.Response] = endStream;
    return this.run('proxy_on_response_headers', 'on_response_headers', Dir.Response, headers.size, endStream ? 1 : 0);
  }

  onResponseBody(ctx: FilterContext, _chunk: Buffer, endStream: boolean): FilterStatus {
    if (!this.usable()) return this.unavailable();
    this.eos[Dir.Response] = endStream;
    return this.run('proxy_on_response_body', 'on_response_body', Dir.Response, ctx.bufferedBody('response').length, endStream ? 1 : 0);
  }

  onResponseTrailers(_ctx: FilterContext, trailers: HeaderMap): FilterStatus {
    if (!this.usable()) return this.unavailable();
    this.respTrailers = trailers;
    this.eos[Dir.Response] = true;
    return this.run('proxy_on_response_trailers', 'on_response_trailers', Dir.Response, trailers.size, 0);
  }

  onLog(): void {
    this.end(false);
  }

  onDestroy(): void {
    this.end(true);
  }

  // ---- internals -------------------------------------------------------------------------------

  private usable(): boolean {
    return this.inst !== null && !this.failed && !this.inst.dead;
  }

  /** Creates the guest stream context on first use. */
  private ensure(): boolean {
    if (this.inst !== null) return this.usable();
    const inst = this.plugin.live();
    if (inst === null) return false;
    this.inst = inst;
    this.id = inst.newContextId();
    inst.contexts.set(this.id, this);
    const create = inst.fns.on_context_create;
    if (create === undefined) return true;
    inst.current = this;
    try {
      inst.invoke(create, this.id, inst.rootId);
    } catch (err) {
      inst.current = null;
      this.fail(inst, err, 'proxy_on_context_create');
      return false;
    }
    inst.current = null;
    return true;
  }

  /** The plugin cannot serve this stream (no instance, or its instance died). */
  private unavailable(): FilterStatus {
    if (this.plugin.failOpen || this.ctx === null) return 'continue';
    if (!this.replied) {
      this.replied = true;
      this.ctx.sendLocalReply({ status: 500, reason: 'internal_error', body: 'wasm plugin unavailable\n', details: 'wasm_unavailable' });
    }
    return 'stop';
  }

  private fail(inst: VmInstance, err: unknown, where: string): void {
    this.failed = true;
    this.plugin.trapped(inst, err, where);
  }

  private run(where: string, hook: keyof GuestExports, dir: Dir, a: number, b: number): FilterStatus {
    const inst = this.inst!;
    const fn = inst.fns[hook];
    const bit = dir === Dir.Request ? 1 : 2;
    this.held &= ~bit; // the chain called in again: whatever held it has passed
    if (fn === undefined) return 'continue';
    let rc: number;
    inst.current = this;
    try {
      rc = inst.invoke(fn, this.id, a, b);
    } catch (err) {
      inst.current = null;
      this.pendingReply = null;
      this.pendingContinue = 0;
      this.fail(inst, err, where);
      if (this.plugin.failOpen) return 'continue';
      this.replied = true;
      this.ctx!.sendLocalReply({ status: 500, reason: 'internal_error', body: 'wasm plugin failed\n', details: 'wasm_trap' });
      return 'stop';
    }
    inst.current = null;
    const reply = this.pendingReply;
    if (reply !== null) {
      this.pendingReply = null;
      this.pendingContinue = 0;
      this.sendReply(reply);
      inst.flush();
      return 'stop';
    }
    let status: FilterStatus = rc === 0 ? 'continue' : 'stop';
    if ((this.pendingContinue & bit) !== 0) {
      // Continuing from inside the callback that stopped: the stop is undone.
      this.pendingContinue &= ~bit;
      status = 'continue';
    }
    // A body stop before the end only buffers; every other stop holds the stream.
    if (status === 'stop' && (hook.endsWith('headers') || hook.endsWith('trailers') || this.eos[dir])) this.held |= bit;
    inst.flush();
    return status;
  }

  private sendReply(r: DeferredReply): void {
    this.ctx!.sendLocalReply({
      status: r.status,
      body: r.body.length > 0 ? r.body : undefined,
      headers: r.headers,
      details: r.details === '' ? undefined : r.details,
      grpcStatus: r.grpcStatus,
      reason: 'filter_denied',
    });
  }

  /** Called by the instance after a guest call made from another context (tick, http response). */
  applyDeferred(): void {
    const ctx = this.ctx;
    if (ctx === null || this.ended) return;
    const reply = this.pendingReply;
    if (reply !== null) {
      this.pendingReply = null;
      this.pendingContinue = 0;
      this.sendReply(reply);
      return;
    }
    const c = this.pendingContinue;
    this.pendingContinue = 0;
    this.held &= ~c;
    if ((c & 1) !== 0) ctx.continueRequest();
    if ((c & 2) !== 0) ctx.continueResponse();
  }

  /**
   * The instance died (a trap elsewhere: another stream, a tick, an http call response). A stream
   * it holds would wait forever: answer it (500) or, with fail_open, let it go on. Streams not
   * held fail (or pass) at their next hook.
   */
  instanceDied(): void {
    const ctx = this.ctx;
    if (ctx === null || this.failed || this.ended || this.replied || this.held === 0) return;
    const h = this.held;
    this.held = 0;
    this.pendingReply = null;
    this.pendingContinue = 0;
    if (this.plugin.failOpen) {
      if ((h & 1) !== 0) ctx.continueRequest();
      if ((h & 2) !== 0) ctx.continueResponse();
      return;
    }
    this.replied = true;
    ctx.sendLocalReply({ status: 500, reason: 'internal_error', body: 'wasm plugin failed\n', details: 'wasm_instance_died' });
  }

  /** on_done + on_log (once), then on_delete when `del`. */
  private end(del: boolean): void {
    const inst = this.inst;
    if (inst === null || this.ended) return;
    if (!del && this.logged) return;
    const alive = !this.failed && !inst.dead;
    if (!this.logged) {
      this.logged = true;
      if (alive && !this.call(inst, 'on_done', 'proxy_on_done')) return this.drop(inst);
      if (alive && !this.call(inst, 'on_log', 'proxy_on_log')) return this.drop(inst);
    }
    if (!del) return;
    if (alive) this.call(inst, 'on_delete', 'proxy_on_delete');
    this.drop(inst);
  }

  private drop(inst: VmInstance): void {
    this.ended = true;
    inst.contexts.delete(this.id);
  }

  private call(inst: VmInstance, hook: keyof GuestExports, where: string): boolean {
    const fn = inst.fns[hook];
    if (fn === undefined) return true;
    inst.current = this;
    try {
      inst.invoke(fn, this.id);
    } catch (err) {
      inst.current = null;
      this.fail(inst, err, where);
      return false;
    }
    inst.current = null;
    inst.flush();
    return true;
  }
}
