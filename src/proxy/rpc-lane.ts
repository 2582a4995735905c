/**
 * RPC fast lane: one downstream RPC request (a ServerStream whose headers are a FrameHeaderMap)
 * proxied to a cluster in one object, without the filter-chain / ActiveStream / UpstreamCall
 * machinery, when nothing needs it: the listener has no filters, no listener rate limit, the
 * process is not shedding load, and the matched route forwards to a cluster with no retry,
 * hedge, rate limit, fault, mirror or rewrite. Everything else goes the full path (tryRpcLane
 * returns false before touching the stream). Kept, with the same values as the full path:
 * routing on RPC keys, LB pick with requestStarted/requestFinished (latency, outlier result),
 * the circuit breaker's request slot, the route / frame deadline (also written into the frame),
 * listener and cluster stats with the protocol label, local replies with the same reasons and
 * bodies, downstream-close handling and the access log line.
 * Must never: parse protocol bytes, change the request frame, report a request twice, or take a
 * request the full path would treat differently.
 */
import {
  FrameHeaderMap,
  UpstreamError,
  type Endpoint,
  type HeaderMap,
  type LbContext,
  type LocalReply,
  type LocalReplyReason,
  type RequestBodyHandler,
  type ServerStream,
  type TimerHandle,
  type UpstreamRequest,
  type UpstreamResponseHandler,
} from '../api';
import { NO_ROUTE_POLICY, type ClusterStats, type EngineCluster, type EngineEndpoint, type EngineRoute, type StreamEnv } from './stream-env';
import { upstreamFailureReply } from './local-replies';
import { accessLogEntry, nextRpcRequestId } from './stream-log';
import { applyDeadline } from './grpc-deadline';
import type { CircuitBreaker } from '../upstream/circuit-breaker';
import { failureResult, statusResult } from '../upstream/outlier';

const NO_EXCLUDE: readonly Endpoint[] = Object.freeze([]);

/**
 * Proxies `stream` on the fast lane and returns true, or returns false (having done nothing) when
 * the request needs the full engine.
 */
export function tryRpcLane(env: StreamEnv, stream: ServerStream): boolean {
  const h = stream.headers;
  if (!(h instanceof FrameHeaderMap) || env.filters.length !== 0 || env.listenerRateLimiter !== null) return false;
  if (stream.upgrade !== undefined) return false;
  const ov = env.overload;
  if (ov !== null && ov.overloaded) return false;
  const route = env.routes.match(h, stream.connection);
  if (route === null || route.action === 'direct' || route.action === 'redirect') return false;
  if (route.hostRewrite !== undefined || route.config.prefix_rewrite !== undefined) return false;
  if (env.routePolicy(route) !== NO_ROUTE_POLICY) return false;
  const name = route.pickCluster();
  if (name === null) return false;
  const cluster = env.cluster(name);
  if (cluster === undefined) return false;
  new RpcLaneCall(env, stream, h, route, cluster).start();
  return true;
}

/** Receives the downstream request body for a call (the names clash with the upstream handler's). */
class LaneBody implements RequestBodyHandler {
  constructor(private readonly call: RpcLaneCall) {}
  onData(chunk: Buffer): void {
    this.call.requestData(chunk);
  }
  onEnd(_trailers: HeaderMap | null): void {
    this.call.requestEnd();
  }
  onAbort(_reason: string): void {
    this.call.downstreamAbort();
  }
}

/** One request on the fast lane: LB context and upstream response handler at once. */
export class RpcLaneCall implements UpstreamResponseHandler, LbContext {
  private req: UpstreamRequest | null = null;
  private ep: EngineEndpoint | null = null;
  private sentAt = 0;
  private timer: TimerHandle | null = null;
  private breaker: CircuitBreaker | null = null;
  private stats: ClusterStats | null = null;
  private status = 0;
  private reason: LocalReplyReason | null = null;
  /** The upstream try is over (answered, failed or cancelled): requestFinished was reported. */
  private tryDone = true;
  private done = false;
  private requestEnded = false;

  constructor(
    private readonly env: StreamEnv,
    private readonly stream: ServerStream,
    readonly headers: FrameHeaderMap,
    private readonly route: EngineRoute,
    private readonly cluster: EngineCluster,
  ) {}

  // LbContext
  get sourceIp(): string {
    return this.stream.connection.remoteAddress;
  }
  get exclude(): readonly Endpoint[] {
    return NO_EXCLUDE;
  }

  start(): void {
    const stream = this.stream;
    const env = this.env;
    stream.attach(new LaneBody(this));
    // The smaller of the route timeout and the frame's own; travels in the frame, not as a header.
    const timeoutMs = applyDeadline(null, this.route.timeoutMs, stream.timeoutMs, 0);
    if (timeoutMs > 0) {
      this.headers.deadlineMs = timeoutMs;
      this.timer = env.clock.setTimer(this.onTimeout, timeoutMs);
    }
    const cluster = this.cluster;
    this.stats = env.clusterStats(cluster.name);
    const breaker = (this.breaker = env.breaker(cluster.name));
    if (!breaker.tryRequest()) {
      this.breaker = null;
      return this.fail(new UpstreamError('overflow', `cluster "${cluster.name}" is at max_requests`, true));
    }
    const ep = cluster.pick(this);
    if (ep === null) return this.fail('no_healthy_endpoint');
    this.ep = ep;
    this.tryDone = false;
    this.sentAt = env.clock.now();
    cluster.requestStarted(ep);
    this.req = ep.pool.request(this.headers, stream.endStream, this);
  }

  // ---- downstream request body (through LaneBody) ---------------------------------------------

  requestData(chunk: Buffer): void {
    const req = this.req;
    if (this.done || req === null || this.tryDone || chunk.length === 0) return;
    if (!req.write(chunk)) {
      this.stream.pause();
      req.onDrain(this.onUpstreamDrain);
    }
  }

  requestEnd(): void {
    this.requestEnded = true;
    const req = this.req;
    if (this.done || req === null || this.tryDone) return;
    req.end(null);
  }

  downstreamAbort(): void {
    if (this.done) return;
    this.done = true;
    this.reason = 'downstream_disconnect';
    this.cancelTry(undefined);
    this.finish();
  }

  private readonly onUpstreamDrain = (): void => {
    if (!this.done) this.stream.resume();
  };

  // ---- upstream response (UpstreamResponseHandler) ----------------------------------------------

  onHeaders(headers: HeaderMap, end: boolean): void {
    if (this.done || this.tryDone) return;
    const status = Number(headers.get(':status')) || 0;
    this.status = status;
    this.stats!.requests(status).inc();
    this.stream.respond(headers, end);
    if (end) this.complete();
  }

  onData(chunk: Buffer): void {
    if (this.done || this.tryDone) return;
    this.stream.write(chunk);
  }

  onEnd(_trailers: HeaderMap | null): void {
    if (this.done || this.tryDone) return;
    this.stream.end(null);
    this.complete();
  }

  onError(err: UpstreamError): void {
    if (this.done || this.tryDone) return;
    this.endTry(false, failureResult(err.kind));
    if (this.status !== 0 || this.stream.responseStarted) {
      // Broke after its head: the downstream answer is already under way.
      this.reason = err.kind === 'protocol_error' ? 'upstream_protocol_error' : 'upstream_reset';
      this.done = true;
      this.stream.reset();
      return this.finish();
    }
    this.stats!.failures(err.kind).inc();
    this.fail(err);
  }

  // ---- endings -------------------------------------------------------------------------------

  private readonly onTimeout = (): void => {
    this.timer = null;
    if (this.done) return;
    this.cancelTry(failureResult('timeout'));
    if (!this.stream.responseStarted) return this.localReply({ status: 504, reason: 'timeout', body: 'upstream request timeout\n' });
    this.reason = 'timeout';
    this.done = true;
    this.stream.reset();
    this.finish();
  };

  /** No usable response: the local reply the full path gives for the same failure. */
  private fail(f: UpstreamError | 'no_healthy_endpoint'): void {
    this.releaseBreaker();
    if (f === 'no_healthy_endpoint') return this.localReply({ status: 503, reason: 'no_healthy_endpoint', body: 'no healthy upstream\n' });
    this.localReply(upstreamFailureReply(f));
  }

  private localReply(reply: LocalReply): void {
    if (this.done) return;
    this.cancelTry(undefined);
    if (this.stream.responseStarted) {
      this.reason = reply.reason;
      this.done = true;
      this.stream.reset();
      return this.finish();
    }
    this.done = true;
    this.status = reply.status;
    this.reason = reply.reason;
    this.env.stats.localReplies(reply.reason).inc();
    this.stream.sendLocalReply(reply);
    this.finish();
  }

  /** The response was handed to the downstream whole. */
  private complete(): void {
    if (this.done) return;
    this.done = true;
    this.stats!.duration.observe((this.env.clock.now() - this.sentAt) / 1000);
    this.endTry(true, statusResult(this.status));
    if (!this.requestEnded) this.cancelTry(undefined);
    this.finish();
  }

  /** Reports the try's end to the cluster (LB feedback, outlier result) and frees the breaker slot. */
  private endTry(ok: boolean, result: ReturnType<typeof statusResult> | undefined): void {
    if (this.tryDone) return;
    this.tryDone = true;
    this.cluster.requestFinished(this.ep!, ok, this.env.clock.now() - this.sentAt, result);
    this.releaseBreaker();
  }

  /** Cancels an unfinished try (`result` for outlier detection, undefined for a plain cancel). */
  private cancelTry(result: ReturnType<typeof statusResult> | undefined): void {
    if (!this.tryDone) {
      const req = this.req;
      // A try with a response head is judged by its status, as the full path does.
      this.endTry(false, this.status !== 0 ? statusResult(this.status) : result);
      if (req !== null) req.abort();
    }
    this.releaseBreaker();
  }

  private releaseBreaker(): void {
    const b = this.breaker;
    if (b === null) return;
    this.breaker = null;
    b.endRequest();
  }

  private finish(): void {
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    const env = this.env;
    const stream = this.stream;
    const now = env.clock.now();
    env.stats.requests(stream.protocol, this.status).inc();
    env.stats.duration.observe((now - stream.startTime) / 1000);
    if (env.accessLog === null) return;
    env.accessLog.write(
      accessLogEntry(env, stream, now, {
        route: this.route.name,
        cluster: this.cluster.name,
        upstream: this.ep === null ? null : this.ep.address,
        status: this.status,
        reason: this.reason,
        requestId: nextRpcRequestId(),
        rpc: true,
      }),
    );
  }
}
