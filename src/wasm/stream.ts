/**
 * WasmStream: the StreamFilter of one stream for one wasm plugin. Creates the guest stream
 * context lazily, maps engine hooks to proxy_on_* callbacks (0 → continue, else stop), applies
 * what the guest asked for (local reply, continue, close) once its call has returned, and turns a
 * trap into a 500 (or a pass when fail_open). Ends with on_done, on_log, on_delete.
 * Must never: call into the guest re-entrantly or outlive the instance it was created in.
 */
import type { FilterContext, FilterStatus, HeaderMap, StreamFilter } from '../api';
import type { VmInstance } from './instance';

type Fn = (...args: number[]) => number;

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

/** What a hook is, for the held bookkeeping: a body stop before the end only buffers. */
const enum Kind {
  Headers = 0,
  Body = 1,
  Trailers = 2,
}

export class WasmStream implements StreamFilter {
  id = 0;
  inst: VmInstance | null = null;
  ctx: FilterContext | null = null;
  reqTrailers: HeaderMap | null = null;
  respHeaders: HeaderMap | null = null;
  respTrailers: HeaderMap | null = null;
  /** End of stream seen on the request / response (proxy_get_buffer_status's flag). */
  reqEos = false;
  respEos = false;
  props: Map<string, Buffer> | null = null;
  pendingReply: DeferredReply | null = null;
  /** Bit 1: continue request; bit 2: continue response. */
  pendingContinue = 0;
  /** Links of the instance's live-context list (VmInstance.addContext). */
  prevCtx: WasmStream | null = null;
  nextCtx: WasmStream | null = null;
  /** Directions this filter holds (a stop not yet continued): bit 1 request, bit 2 response. */
  private held = 0;
  private failed = false;
  private replied = false;
  private ended = false;
  private logged = false;

  constructor(private readonly plugin: StreamPlugin) {}

  /** End-of-stream flag of body buffer `type` (0 request, 1 response). */
  eosOf(type: number): boolean {
    return type === 0 ? this.reqEos : type === 1 ? this.respEos : false;
  }

  // ---- StreamFilter ----------------------------------------------------------------------------

  onRequestHeaders(ctx: FilterContext, headers: HeaderMap, endStream: boolean): FilterStatus {
    this.ctx = ctx;
    let inst = this.inst;
    if (inst === null) {
      inst = this.plugin.live();
      if (inst === null || !this.create(inst)) return this.unavailable();
    } else if (!this.usable()) return this.unavailable();
    this.reqEos = endStream;
    return this.run(inst, 'proxy_on_request_headers', inst.fns.on_request_headers, Dir.Request, Kind.Headers, headers.size, endStream ? 1 : 0);
  }

  onRequestBody(ctx: FilterContext, chunk: Buffer, endStream: boolean): FilterStatus {
    if (!this.usable()) return this.unavailable();
    // The request already ended (end_of_stream on its headers): an empty end-of-stream chunk
    // carries nothing the guest has not been told (proxy-wasm skips the body callback then).
    if (this.reqEos && endStream && chunk.length === 0) return this.passEmpty(Dir.Request);
    this.reqEos = endStream;
    const inst = this.inst!;
    const size = ctx.bufferedBody('request').length;
    return this.run(inst, 'proxy_on_request_body', inst.fns.on_request_body, Dir.Request, Kind.Body, size, endStream ? 1 : 0);
  }

  onRequestTrailers(_ctx: FilterContext, trailers: HeaderMap): FilterStatus {
    if (!this.usable()) return this.unavailable();
    this.reqTrailers = trailers;
    this.reqEos = true;
    const inst = this.inst!;
    return this.run(inst, 'proxy_on_request_trailers', inst.fns.on_request_trailers, Dir.Request, Kind.Trailers, trailers.size, -1);
  }

  onResponseHeaders(_ctx: FilterContext, headers: HeaderMap, endStream: boolean): FilterStatus {
    if (!this.usable()) return this.unavailable();
    this.respHeaders = headers;
    this.respEos = endStream;
    const inst = this.inst!;
    return this.run(inst, 'proxy_on_response_headers', inst.fns.on_response_headers, Dir.Response, Kind.Headers, headers.size, endStream ? 1 : 0);
  }

  onResponseBody(ctx: FilterContext, chunk: Buffer, endStream: boolean): FilterStatus {
    if (!this.usable()) return this.unavailable();
    if (this.respEos && endStream && chunk.length === 0) return this.passEmpty(Dir.Response);
    this.respEos = endStream;
    const inst = this.inst!;
    const size = ctx.bufferedBody('response').length;
    return this.run(inst, 'proxy_on_response_body', inst.fns.on_response_body, Dir.Response, Kind.Body, size, endStream ? 1 : 0);
  }

  onResponseTrailers(_ctx: FilterContext, trailers: HeaderMap): FilterStatus {
    if (!this.usable()) return this.unavailable();
    this.respTrailers = trailers;
    this.respEos = true;
    const inst = this.inst!;
    return this.run(inst, 'proxy_on_response_trailers', inst.fns.on_response_trailers, Dir.Response, Kind.Trailers, trailers.size, -1);
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

  /** Creates the guest stream context (first hook). */
  private create(inst: VmInstance): boolean {
    this.inst = inst;
    this.id = inst.newContextId();
    inst.addContext(this);
    const create = inst.fns.on_context_create;
    if (create === undefined) return true;
    inst.current = this;
    try {
      inst.call2(create, this.id, inst.rootId);
    } catch (err) {
      inst.current = null;
      this.fail(inst, err, 'proxy_on_context_create');
      return false;
    }
    inst.current = null;
    return true;
  }

  /** A skipped body callback: what the chain would have got from a guest that continued. */
  private passEmpty(dir: Dir): FilterStatus {
    this.held &= ~(dir === Dir.Request ? 1 : 2);
    return 'continue';
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

  /**
   * Calls hook `fn` (b < 0: a two-argument hook, trailers), then maps its answer: 0 → continue,
   * else stop; a pending local reply wins. A hook the module does not export continues.
   */
  private run(inst: VmInstance, where: string, fn: Fn | undefined, dir: Dir, kind: Kind, a: number, b: number): FilterStatus {
    const bit = dir === Dir.Request ? 1 : 2;
    this.held &= ~bit; // the chain called in again: whatever held it has passed
    if (fn === undefined) return 'continue';
    let rc: number;
    inst.current = this;
    try {
      rc = b < 0 ? inst.call2(fn, this.id, a) : inst.call3(fn, this.id, a, b);
    } catch (err) {
      return this.trappedIn(inst, err, where);
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
    if (rc === 0) {
      if ((this.pendingContinue & bit) !== 0) this.pendingContinue &= ~bit;
      inst.flush();
      return 'continue';
    }
    if ((this.pendingContinue & bit) !== 0) {
      // Continuing from inside the callback that stopped: the stop is undone.
      this.pendingContinue &= ~bit;
      inst.flush();
      return 'continue';
    }
    // A body stop before the end only buffers; every other stop holds the stream.
    if (kind !== Kind.Body || (dir === Dir.Request ? this.reqEos : this.respEos)) this.held |= bit;
    inst.flush();
    return 'stop';
  }

  /** A guest call trapped or overran: fail this stream (500, or continue when fail_open). */
  private trappedIn(inst: VmInstance, err: unknown, where: string): FilterStatus {
    inst.current = null;
    this.pendingReply = null;
    this.pendingContinue = 0;
    this.fail(inst, err, where);
    if (this.plugin.failOpen) return 'continue';
    this.replied = true;
    this.ctx!.sendLocalReply({ status: 500, reason: 'internal_error', body: 'wasm plugin failed\n', details: 'wasm_trap' });
    return 'stop';
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
    if (this.failed || inst.dead) {
      this.logged = true;
      if (del) this.drop(inst);
      return;
    }
    let where = 'proxy_on_done';
    inst.current = this;
    try {
      if (!this.logged) {
        this.logged = true;
        const f = inst.fns;
        if (f.on_done !== undefined) inst.call1(f.on_done, this.id);
        where = 'proxy_on_log';
        if (f.on_log !== undefined) inst.call1(f.on_log, this.id);
      }
      if (del) {
        where = 'proxy_on_delete';
        const d = inst.fns.on_delete;
        if (d !== undefined) inst.call1(d, this.id);
      }
    } catch (err) {
      inst.current = null;
      this.fail(inst, err, where);
      return this.drop(inst);
    }
    inst.current = null;
    inst.flush();
    if (del) this.drop(inst);
  }

  private drop(inst: VmInstance): void {
    this.ended = true;
    inst.removeContext(this);
  }
}
