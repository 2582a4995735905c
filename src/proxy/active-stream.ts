/**
 * ActiveStream: the per-stream engine. Takes a ServerStream from any codec, runs the request
 * through the filter chain to the terminal router stage (route → cluster → endpoint → upstream
 * pool), and the response back through the filters to the codec, with backpressure both ways,
 * the route timeout, local replies, stats and the access log. It is also the FilterContext
 * filters see and the LbContext balancers see.
 * Must never: parse protocol bytes, block, or join body chunks unless a filter buffers them.
 */
import { randomUUID } from 'node:crypto';
import {
  FrameHeaderMap,
  HeaderMap,
  UpstreamError,
  type FilterContext,
  type LbContext,
  type LocalReply,
  type LocalReplyReason,
  type RequestBodyHandler,
  type RouteInfo,
  type ServerStream,
  type StreamFilter,
  type TimerHandle,
} from '../api';
import type { Clock, Logger } from '../api';
import { FilterChainRunner, type ChainEvents, type ChainSink } from './filter-chain';
import { NO_ROUTE_POLICY, type EngineCluster, type EngineRoute, type RoutePolicy, type StreamEnv } from './stream-env';
import { tunnel, upgradeStats } from './tunnel';
import { setForwardedHeaders } from './forwarded-headers';
import { upstreamFailureReply } from './local-replies';
import { UpstreamCall, type CallFailure, type CallHandler } from './upstream-call';
import type { FaultDecision } from './fault';
import { decideRoute } from './route-stage';
import { Mirror } from './mirror';
import { accessLogEntry, nextRpcRequestId } from './stream-log';

const EMPTY = Buffer.alloc(0);


export class ActiveStream implements FilterContext, LbContext, RequestBodyHandler, CallHandler, ChainEvents {
  /** The request id: the client's x-request-id or a UUID for HTTP; made on demand for RPC. */
  private id: string | null = null;
  private readonly rpc: boolean;
  readonly clock: Clock;
  readonly log: Logger;
  private stateMap: Map<string, unknown> | null = null;
  private filters: StreamFilter[] | null = null;
  private reqChain: FilterChainRunner | null = null;
  private respChain: FilterChainRunner | null = null;
  private engineRoute: EngineRoute | null = null;
  private routeResolved = false;
  private clusterName: string | null = null;
  private call: UpstreamCall | null = null;
  private mirror: Mirror | null = null;
  private routeTimeoutMs = 0;
  /** Request body events that arrived while an injected delay held the request. */
  private held: Array<Buffer | HeaderMap | null> | null = null;
  private timer: TimerHandle | null = null;
  private respHeaders: HeaderMap | null = null;
  private status = 0;
  private reason: LocalReplyReason | null = null;
  private done = false;
  private finished = false;
  private requestEnded: boolean;
  /** Bytes carried by the tunnel after a 101 (upgrades), added to the access-log byte counts. */
  private tunnelIn = 0;
  private tunnelOut = 0;

  constructor(private readonly env: StreamEnv, private readonly stream: ServerStream) {
    this.clock = env.clock;
    this.log = env.log;
    const h = stream.headers;
    // An RPC frame's header view is its attachments: the proxy adds nothing to it (the frame would
    // have to be re-encoded and the provider would see our headers as attachments).
    this.rpc = h instanceof FrameHeaderMap;
    if (!this.rpc) {
      let id = h.get('x-request-id');
      if (id === undefined || id === '') {
        id = randomUUID();
        h.set('x-request-id', id);
      }
      this.id = id;
    }
    this.requestEnded = stream.endStream;
  }

  // ---- FilterContext --------------------------------------------------------------------------

  get requestId(): string {
    if (this.id === null) this.id = nextRpcRequestId();
    return this.id;
  }

  get listener(): string {
    return this.env.listener;
  }
  get protocol(): string {
    return this.stream.protocol;
  }
  get connection() {
    return this.stream.connection;
  }
  get requestHeaders(): HeaderMap {
    return this.stream.headers;
  }
  get responseHeaders(): HeaderMap | null {
    return this.respHeaders;
  }
  get startTime(): number {
    return this.stream.startTime;
  }
  get state(): Map<string, unknown> {
    if (this.stateMap === null) this.stateMap = new Map();
    return this.stateMap;
  }
  get route(): RouteInfo | null {
    const r = this.matchRoute();
    return r === null ? null : { name: r.name, cluster: this.clusterName };
  }
  get upstreamAddress(): string | null {
    return this.call === null ? null : this.call.endpointAddress;
  }
  // LbContext
  get headers(): HeaderMap {
    return this.stream.headers;
  }
  get sourceIp(): string {
    return this.stream.connection.remoteAddress;
  }

  sendLocalReply(reply: Omit<LocalReply, 'reason'> & { reason?: LocalReply['reason'] }): void {
    this.localReply({ ...reply, reason: reply.reason ?? 'filter_denied' });
  }
  continueRequest(): void {
    if (this.reqChain !== null) this.reqChain.resume();
  }
  continueResponse(): void {
    if (this.respChain !== null) this.respChain.resume();
  }
  bufferedBody(dir: 'request' | 'response'): Buffer {
    const c = dir === 'request' ? this.reqChain : this.respChain;
    return c === null ? EMPTY : c.bufferedBody();
  }
  setBufferedBody(dir: 'request' | 'response', body: Buffer): void {
    const c = dir === 'request' ? this.reqChain : this.respChain;
    if (c === null) throw new Error('no filter chain in this direction');
    c.setBufferedBody(body);
  }
  clearRouteCache(): void {
    this.routeResolved = false;
    this.engineRoute = null;
  }

  // ---- start ----------------------------------------------------------------------------------

  start(): void {
    const stream = this.stream;
    if (!this.rpc) setForwardedHeaders(stream.headers, stream.connection);
    const built = this.env.filters;
    if (built.length > 0) {
      const fs: StreamFilter[] = new Array(built.length);
      for (let i = 0; i < built.length; i++) fs[i] = built[i].createFilter();
      this.filters = fs;
      // The sinks exist only for streams with filters; without, the router stage is called directly.
      this.reqChain = new FilterChainRunner('request', fs, this, new RequestSink(this), this, this.env.maxBufferBytes);
    }
    stream.attach(this);
    const ov = this.env.overload;
    if (ov !== null && ov.overloaded) {
      this.env.stats.shed.inc();
      return this.localReply({ status: 503, reason: 'overload', body: 'proxy overloaded\n' });
    }
    const rl = this.env.listenerRateLimiter;
    if (rl !== null && !rl.tryTake(stream.headers, stream.connection.remoteAddress)) {
      this.env.stats.rateLimited.inc();
      return this.localReply({ status: 429, reason: 'rate_limited', body: 'rate limited\n' });
    }
    if (this.reqChain !== null) this.reqChain.headers(stream.headers, stream.endStream);
    else this.forwardHeaders(stream.headers, stream.endStream);
  }

  // ---- downstream request body (RequestBodyHandler) ---------------------------------------------

  onData(chunk: Buffer): void {
    if (this.done) return;
    if (this.reqChain !== null) this.reqChain.data(chunk, false);
    else this.forwardData(chunk, false);
  }

  onEnd(trailers: HeaderMap | null): void {
    this.requestEnded = true;
    if (this.done) return;
    if (this.reqChain !== null) {
      if (trailers !== null) this.reqChain.trailers(trailers);
      else this.reqChain.data(EMPTY, true);
    } else if (trailers !== null) this.forwardTrailers(trailers);
    else this.forwardData(EMPTY, true);
  }

  onAbort(_reason: string): void {
    if (this.done) return;
    this.done = true;
    this.reason = 'downstream_disconnect';
    this.abortUpstream();
    this.finish();
  }

  // ---- router stage: the terminal of the request chain ------------------------------------------

  private matchRoute(): EngineRoute | null {
    if (!this.routeResolved) {
      this.engineRoute = this.env.routes.match(this.stream.headers, this.stream.connection);
      this.routeResolved = true;
    }
    return this.engineRoute;
  }

  /** @internal (chain sink) */
  forwardHeaders(h: HeaderMap, end: boolean): void {
    const d = decideRoute(this.env, this.matchRoute(), h, this.stream, this.rpc, this.clock.now());
    this.clusterName = d.clusterName;
    if (d.reply !== null) return this.localReply(d.reply);
    const { cluster, policy, fault } = d;
    if (d.timeoutMs > 0) this.timer = this.clock.setTimer(() => this.onTimeout(), d.timeoutMs);
    this.routeTimeoutMs = d.timeoutMs;
    if (fault !== null && fault.delayMs > 0) {
      policy.counters!.faultDelays.inc();
      this.held = [];
      this.stream.pause();
      this.clock.setTimer(() => this.afterFaultDelay(cluster, policy, h, end, fault.abort), fault.delayMs);
      return;
    }
    if (fault !== null && fault.abort !== null) return this.faultAbort(policy, fault.abort);
    this.startCall(cluster, policy, h, end);
  }

  private faultAbort(policy: RoutePolicy, abort: NonNullable<FaultDecision['abort']>): void {
    policy.counters!.faultAborts.inc();
    this.localReply({ status: abort.status, grpcStatus: abort.grpc_status, reason: 'fault_abort', body: 'fault filter abort\n' });
  }

  /** After an injected delay: abort, or start the upstream call and release what arrived meanwhile. */
  private afterFaultDelay(
    cluster: EngineCluster,
    policy: RoutePolicy,
    h: HeaderMap,
    end: boolean,
    abort: FaultDecision['abort'],
  ): void {
    const held = this.held;
    this.held = null;
    if (this.done) return;
    if (abort !== null) return this.faultAbort(policy, abort);
    this.startCall(cluster, policy, h, end);
    this.stream.resume();
    if (held !== null) {
      for (const ev of held) {
        if (ev === null) this.forwardData(EMPTY, true);
        else if (Buffer.isBuffer(ev)) this.forwardData(ev, false);
        else this.forwardTrailers(ev);
      }
    }
  }

  private startCall(cluster: EngineCluster, policy: RoutePolicy, h: HeaderMap, end: boolean): void {
    if (this.stream.upgrade !== undefined) policy = NO_ROUTE_POLICY; // upgrades: one try, no hedge, no mirror
    const m = policy.mirror;
    if (m !== null && (m.percent >= 100 || this.env.random() * 100 < m.percent)) {
      const shadow = this.env.cluster(m.cluster);
      this.mirror = shadow === undefined ? null : Mirror.start(shadow, h, end, this.clock, this.routeTimeoutMs);
      if (this.mirror !== null) policy.counters!.mirrored.inc();
    }
    this.call = new UpstreamCall(
      {
        cluster,
        stats: this.env.clusterStats(cluster.name),
        clock: this.clock,
        random: this.env.random,
        retry: policy.retry,
        budget: policy.budget,
        hedge: policy.hedge,
        breaker: this.env.breaker(cluster.name),
        sourceIp: this.stream.connection.remoteAddress,
      },
      h,
      end,
      this,
    );
    this.call.start();
  }

  /** @internal (chain sink) */
  forwardData(chunk: Buffer, end: boolean): void {
    if (this.held !== null) {
      if (chunk.length > 0) this.held.push(chunk);
      if (end) this.held.push(null);
      return;
    }
    const mirror = this.mirror;
    if (mirror !== null) {
      if (chunk.length > 0) mirror.write(chunk);
      if (end) mirror.end(null);
    }
    const call = this.call;
    if (call === null || this.done) return;
    if (chunk.length > 0 && !call.write(chunk)) {
      this.stream.pause();
      call.onDrain(() => {
        if (!this.done) this.stream.resume();
      });
    }
    if (end) call.end(null);
  }

  /** @internal (chain sink) */
  forwardTrailers(t: HeaderMap): void {
    if (this.held !== null) return void this.held.push(t);
    if (this.mirror !== null) this.mirror.end(t);
    const call = this.call;
    if (call === null || this.done) return;
    call.end(t);
  }

  private onTimeout(): void {
    this.timer = null;
    if (this.done) return;
    this.abortUpstream(true);
    if (!this.stream.responseStarted) {
      this.localReply({ status: 504, reason: 'timeout', body: 'upstream request timeout\n' });
    } else {
      this.reason = 'timeout';
      this.resetDownstream();
    }
  }

  // ---- upstream response (UpstreamResponseHandler) ---------------------------------------------

  onResponseHeaders(headers: HeaderMap, end: boolean): void {
    if (this.done) return;
    this.status = Number(headers.get(':status')) || 0;
    this.respHeaders = headers;
    if (this.filters !== null) {
      this.respChain = new FilterChainRunner('response', this.filters, this, new ResponseSink(this), this, this.env.maxBufferBytes);
      this.respChain.headers(headers, end);
    } else this.respond(headers, end);
  }

  onCallFailure(f: CallFailure, afterHead: boolean): void {
    if (this.done) return;
    this.call = null;
    if (afterHead || this.stream.responseStarted) {
      this.reason = f instanceof UpstreamError && f.kind === 'protocol_error' ? 'upstream_protocol_error' : 'upstream_reset';
      return this.resetDownstream();
    }
    if (f === 'per_try_timeout') return this.localReply({ status: 504, reason: 'timeout', body: 'upstream request timeout\n' });
    if (f === 'no_healthy_endpoint') return this.localReply({ status: 503, reason: 'no_healthy_endpoint', body: 'no healthy upstream\n' });
    this.localReply(upstreamFailureReply(f));
  }

  /** @internal (chain sink) */
  respond(h: HeaderMap, end: boolean): void {
    if (this.stream.upgrade !== undefined && h.get(':status') === '101') return this.switchProtocols(h);
    this.stream.respond(h, end);
    if (end) this.complete();
  }

  // ---- upgrades: after the upstream's 101, the two sockets are bridged (tunnel.ts) ----------------

  private switchProtocols(h: HeaderMap): void {
    const call = this.call;
    if (this.done || call === null) return;
    const up = call.takeSocket();
    if (up === null || this.stream.takeSocket === undefined) {
      return this.localReply({ status: 502, reason: 'upstream_protocol_error', body: 'upgrade cannot be tunnelled\n' });
    }
    this.stream.respond(h, false);
    let down;
    try {
      down = this.stream.takeSocket();
    } catch {
      up.destroy();
      return this.resetDownstream();
    }
    this.done = true;
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    tunnel(down, up, {
      clock: this.clock,
      idleTimeoutMs: this.env.idleTimeoutMs,
      stats: upgradeStats(this.env.stats),
      protocol: this.stream.upgrade,
      onClose: (r) => {
        this.tunnelIn = r.bytesFromDownstream;
        this.tunnelOut = r.bytesFromUpstream;
        this.finish();
      },
    });
  }

  /** @internal (chain sink) */
  writeDown(chunk: Buffer, end: boolean): void {
    if (this.done) return;
    if (chunk.length > 0 && !this.stream.write(chunk) && this.call !== null) {
      const call = this.call;
      call.pause();
      this.stream.onDrain(() => call.resume());
    }
    if (end) this.endDown(null);
  }

  /** @internal (chain sink) */
  endDown(t: HeaderMap | null): void {
    if (this.done) return;
    this.stream.end(t);
    this.complete();
  }

  // CallHandler: what the upstream call reports back (onResponseHeaders and onCallFailure above).

  onResponseData(chunk: Buffer): void {
    if (this.done) return;
    if (this.respChain !== null) this.respChain.data(chunk, false);
    else this.writeDown(chunk, false);
  }

  onResponseEnd(trailers: HeaderMap | null): void {
    if (this.done) return;
    if (this.respChain !== null) {
      if (trailers !== null) this.respChain.trailers(trailers);
      else this.respChain.data(EMPTY, true);
    } else this.endDown(trailers);
  }

  // ---- endings -------------------------------------------------------------------------------

  // ChainEvents: what the filter-chain runners report.

  onFilterError(err: unknown): void {
    this.log.error('filter failed', { err: String(err), request_id: this.requestId });
    this.localReply({ status: 500, reason: 'internal_error', body: 'filter error\n' });
  }

  onBufferOverflow(): void {
    if (!this.stream.responseStarted) this.localReply({ status: 413, reason: 'payload_too_large', body: 'payload too large\n' });
    else {
      this.reason = 'payload_too_large';
      this.resetDownstream();
    }
  }

  pauseSource(): void {
    this.stream.pause();
  }

  resumeSource(): void {
    this.stream.resume();
  }

  isDone(): boolean {
    return this.done;
  }

  private localReply(reply: LocalReply): void {
    if (this.done) return;
    this.abortUpstream();
    if (this.stream.responseStarted) {
      this.reason = reply.reason;
      this.resetDownstream();
      return;
    }
    this.done = true;
    this.status = reply.status;
    this.reason = reply.reason;
    this.env.stats.localReplies(reply.reason).inc();
    this.stream.sendLocalReply(reply);
    this.finish();
  }

  private resetDownstream(): void {
    this.done = true;
    this.stream.reset();
    this.finish();
  }

  private complete(): void {
    if (this.done) return;
    this.done = true;
    if (!this.requestEnded) this.abortUpstream();
    this.finish();
  }

  /** timedOut: the route timeout fired (reported to outlier detection as a timeout). */
  private abortUpstream(timedOut = false): void {
    const call = this.call;
    if (call === null) return;
    call.abort(timedOut);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    const env = this.env;
    const now = this.clock.now();
    env.stats.requests(this.stream.protocol, this.status).inc();
    env.stats.duration.observe((now - this.stream.startTime) / 1000);
    const filters = this.filters;
    if (filters !== null) {
      for (const f of filters) {
        try {
          if (f.onLog !== undefined) f.onLog(this);
          if (f.onDestroy !== undefined) f.onDestroy();
        } catch (err) {
          this.log.warn('filter onLog/onDestroy failed', { err: String(err) });
        }
      }
    }
    if (env.accessLog !== null) this.writeAccessLog(now);
  }

  private writeAccessLog(now: number): void {
    const route = this.engineRoute;
    this.env.accessLog!.write(
      accessLogEntry(this.env, this.stream, now, {
        route: route === null ? null : route.name,
        cluster: this.clusterName,
        upstream: this.upstreamAddress,
        status: this.status,
        reason: this.reason,
        requestId: this.requestId,
        rpc: this.rpc,
        tunnelIn: this.tunnelIn,
        tunnelOut: this.tunnelOut,
      }),
    );
  }
}

/** Where the request chain's output goes: the router stage. One object per filtered stream. */
class RequestSink implements ChainSink {
  constructor(private readonly s: ActiveStream) {}
  headers(h: HeaderMap, end: boolean): void {
    this.s.forwardHeaders(h, end);
  }
  data(chunk: Buffer, end: boolean): void {
    this.s.forwardData(chunk, end);
  }
  trailers(t: HeaderMap): void {
    this.s.forwardTrailers(t);
  }
}

/** Where the response chain's output goes: the downstream. One object per filtered response. */
class ResponseSink implements ChainSink {
  constructor(private readonly s: ActiveStream) {}
  headers(h: HeaderMap, end: boolean): void {
    this.s.respond(h, end);
  }
  data(chunk: Buffer, end: boolean): void {
    this.s.writeDown(chunk, end);
  }
  trailers(t: HeaderMap): void {
    this.s.endDown(t);
  }
}
