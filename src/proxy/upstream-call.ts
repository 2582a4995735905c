/**
 * UpstreamCall: one downstream request's exchange with a cluster, over one or more tries —
 * retries (on failure kinds, retriable statuses, per-try timeout; jittered backoff, Retry-After,
 * never the same endpoint when another exists, bounded by the retry budget) and hedged tries
 * (a second try after a delay or on per-try timeout; the first usable answer wins, the rest are
 * cancelled). The request body is kept for replay up to a bound; past it, no more tries.
 * Must never: forward a response head it may still retry, or buffer beyond the replay bound.
 */
import type { Duplex } from 'node:stream';
import {
  UpstreamError,
  type Clock,
  type Endpoint,
  type HeaderMap,
  type LbContext,
  type TimerHandle,
  type UpstreamFailureKind,
  type UpstreamRequest,
  type UpstreamResponseHandler,
} from '../api';
import type { HedgeConfig } from '../config/types';
import type { ClusterStats, EngineCluster, EngineEndpoint } from './stream-env';
import { backoffDelay, retryAfterMs, type RetryBudget, type RetryPolicy } from './retry-policy';
import type { CircuitBreaker } from '../upstream/circuit-breaker';
import { failureResult, statusResult, type TryResult } from '../upstream/outlier';

/** How a call ended without a usable response (the engine maps it to a local reply). */
export type CallFailure = UpstreamError | 'per_try_timeout' | 'no_healthy_endpoint';

export interface CallHandler {
  onResponseHeaders(headers: HeaderMap, endStream: boolean): void;
  onResponseData(chunk: Buffer): void;
  onResponseEnd(trailers: HeaderMap | null): void;
  /** No try produced a usable response, or the chosen one broke after its head (`afterHead`). */
  onCallFailure(failure: CallFailure, afterHead: boolean): void;
}

export interface CallOptions {
  readonly cluster: EngineCluster;
  readonly stats: ClusterStats;
  readonly clock: Clock;
  readonly random: () => number;
  readonly retry: RetryPolicy | null;
  readonly budget: RetryBudget | null;
  readonly hedge: HedgeConfig | null;
  readonly breaker: CircuitBreaker;
  readonly sourceIp: string | null;
}

class Attempt implements UpstreamResponseHandler {
  req: UpstreamRequest | null = null;
  timer: TimerHandle | null = null;
  live = true;
  /** Status of this try's response head (0 before one arrived). */
  status = 0;
  readonly started: number;
  constructor(readonly call: UpstreamCall, readonly ep: EngineEndpoint, readonly isRetry: boolean) {
    this.started = call.opts.clock.now();
  }
  onHeaders(h: HeaderMap, end: boolean): void {
    this.call.attemptHeaders(this, h, end);
  }
  onData(c: Buffer): void {
    if (this.call.committed === this) this.call.handler.onResponseData(c);
  }
  onEnd(t: HeaderMap | null): void {
    this.call.attemptEnd(this, t);
  }
  onError(err: UpstreamError): void {
    this.call.attemptError(this, err);
  }
}

export class UpstreamCall implements LbContext {
  committed: Attempt | null = null;
  private readonly attempts: Attempt[] = [];
  private readonly tried: Endpoint[] = [];
  private triesLeft: number;
  private replay: Buffer[] | null;
  private replayBytes = 0;
  private bodyBytesSent = 0;
  private requestEnded: boolean;
  private trailers: HeaderMap | null = null;
  private backoff: TimerHandle | null = null;
  private hedgeTimer: TimerHandle | null = null;
  private retryAfter: number | null = null;
  private lastFailure: CallFailure | null = null;
  private retries = 0;
  private done = false;
  private holdsRequest = false;
  /** A retry slot taken for a try that has not started yet (in backoff). */
  private retrySlotPending = false;
  private drainCb: (() => void) | null = null;

  constructor(
    readonly opts: CallOptions,
    readonly headers: HeaderMap,
    endStream: boolean,
    readonly handler: CallHandler,
  ) {
    this.requestEnded = endStream;
    const extra = opts.retry !== null ? opts.retry.config.attempts : opts.hedge !== null ? opts.hedge.max_in_flight - 1 : 0;
    this.triesLeft = 1 + extra;
    this.replay = extra > 0 && !endStream ? [] : null;
    if (opts.budget !== null) opts.budget.onRequest();
  }

  // LbContext: balancers see the request and the endpoints already tried.
  get sourceIp(): string | null {
    return this.opts.sourceIp;
  }
  get exclude(): readonly Endpoint[] {
    return this.tried;
  }

  /** Address of the endpoint whose answer is used (or the last one tried). */
  get endpointAddress(): string | null {
    const a = this.committed ?? this.attempts[this.attempts.length - 1];
    return a === undefined ? null : a.ep.address;
  }

  start(): void {
    if (!this.opts.breaker.tryRequest()) return this.fail(new UpstreamError('overflow', `cluster "${this.opts.cluster.name}" is at max_requests`, true));
    this.holdsRequest = true;
    if (!this.startAttempt(false)) return this.fail('no_healthy_endpoint');
    const h = this.opts.hedge;
    if (h !== null && h.delay_ms > 0) this.hedgeTimer = this.opts.clock.setTimer(this.onHedgeTimer, h.delay_ms);
  }

  // ---- request body ---------------------------------------------------------------------------

  write(chunk: Buffer): boolean {
    if (this.done) return true;
    if (this.replay !== null) {
      this.replay.push(chunk);
      this.replayBytes += chunk.length;
      if (this.replayBytes > this.maxReplay()) this.replay = null;
    }
    this.bodyBytesSent += chunk.length;
    let ok = true;
    for (const a of this.attempts) if (a.live && a.req !== null && !a.req.write(chunk)) ok = false;
    if (!ok) return false;
    if (this.liveCount() === 0 && this.replay === null && !this.done) {
      // Between tries with a body too large to keep: no further try can be complete.
      this.fail(this.lastFailure ?? new UpstreamError('reset', 'request body too large to retry'));
    }
    return true;
  }

  end(trailers: HeaderMap | null): void {
    if (this.done) return;
    this.requestEnded = true;
    this.trailers = trailers;
    for (const a of this.attempts) if (a.live && a.req !== null) a.req.end(trailers);
  }

  onDrain(cb: () => void): void {
    this.drainCb = cb;
    const a = this.primary();
    if (a === null || a.req === null) return this.fireDrain();
    a.req.onDrain(() => this.fireDrain());
  }

  pause(): void {
    if (this.committed !== null && this.committed.req !== null) this.committed.req.pause();
  }

  resume(): void {
    if (this.committed !== null && this.committed.req !== null) this.committed.req.resume();
  }

  /**
   * Upgrades: after the committed try's 101 head, takes its connection for a tunnel and ends the
   * call (counted as a completed request). Null when the pool cannot hand it over.
   */
  takeSocket(): Duplex | null {
    const a = this.committed;
    if (a === null || this.done || a.req === null || a.req.takeSocket === undefined) return null;
    const s = a.req.takeSocket();
    if (s !== null) this.complete(a);
    return s;
  }

  /** The downstream is gone or answered otherwise: cancel every try. */
  abort(timedOut = false): void {
    if (this.done) return;
    this.done = true;
    this.clearTimers();
    // The committed try's head is its verdict; for tries without one, a route timeout says the
    // endpoint was too slow, while a downstream leaving says nothing about it.
    const pending = timedOut ? failureResult('timeout') : undefined;
    for (const a of this.attempts) this.finishAttempt(a, false, true, a.status !== 0 ? statusResult(a.status) : pending);
    this.release();
  }

  // ---- tries ----------------------------------------------------------------------------------

  private maxReplay(): number {
    return this.opts.retry !== null ? this.opts.retry.config.max_replay_bytes : 64 * 1024;
  }

  private liveCount(): number {
    let n = 0;
    for (const a of this.attempts) if (a.live) n++;
    return n;
  }

  private primary(): Attempt | null {
    for (let i = this.attempts.length - 1; i >= 0; i--) if (this.attempts[i].live) return this.attempts[i];
    return null;
  }

  private fireDrain(): void {
    const cb = this.drainCb;
    this.drainCb = null;
    if (cb !== null) cb();
  }

  /** Starts one try on an endpoint not tried yet where possible; false when none is available. */
  private startAttempt(isRetry: boolean): boolean {
    const { cluster } = this.opts;
    const ep = cluster.pick(this);
    if (ep === null) {
      if (isRetry) this.opts.breaker.endRetry();
      return false;
    }
    this.triesLeft--;
    this.tried.push(ep as unknown as Endpoint);
    const a = new Attempt(this, ep, isRetry);
    this.attempts.push(a);
    cluster.requestStarted(ep);
    const replay = this.replay;
    const hasBody = this.bodyBytesSent > 0 || !this.requestEnded;
    a.req = ep.pool.request(this.headers, !hasBody, a);
    if (!a.live) return true; // failed synchronously (e.g. overflow): handled in attemptError
    if (hasBody && replay !== null) for (const c of replay) a.req.write(c);
    if (hasBody && this.requestEnded) a.req.end(this.trailers);
    const perTry = this.opts.retry !== null ? this.opts.retry.config.per_try_timeout_ms : 0;
    if (perTry > 0) a.timer = this.opts.clock.setTimer(() => this.attemptTimeout(a), perTry);
    return true;
  }

  /** Whether one more try may be sent now (tries left, body replayable, budget). */
  private mayRetry(): boolean {
    if (this.done || this.triesLeft <= 0) return false;
    if (this.bodyBytesSent > 0 && this.replay === null) return false;
    if (this.opts.budget !== null && !this.opts.budget.tryWithdraw()) return false;
    return this.opts.breaker.tryRetry();
  }

  private scheduleRetry(): void {
    this.retries++;
    this.opts.stats.retries.inc();
    const r = this.opts.retry;
    let delay = r !== null ? backoffDelay(this.retries - 1, r.config.backoff.base_ms, r.config.backoff.max_ms, this.opts.random) : 0;
    if (this.retryAfter !== null) delay = Math.max(delay, this.retryAfter);
    this.retryAfter = null;
    this.retrySlotPending = true;
    const go = () => {
      this.backoff = null;
      this.retrySlotPending = false;
      if (this.done) return this.opts.breaker.endRetry();
      if (!this.startAttempt(true)) this.fail(this.lastFailure ?? 'no_healthy_endpoint');
    };
    if (delay <= 0) go();
    else this.backoff = this.opts.clock.setTimer(go, delay);
  }

  private readonly onHedgeTimer = (): void => {
    this.hedgeTimer = null;
    this.hedge();
  };

  /** Sends an extra try alongside the live ones (hedging), if allowed. */
  private hedge(): boolean {
    const h = this.opts.hedge;
    if (h === null || this.committed !== null || this.liveCount() >= h.max_in_flight || !this.mayRetry()) return false;
    this.opts.stats.hedges.inc();
    return this.startAttempt(true);
  }

  attemptHeaders(a: Attempt, h: HeaderMap, end: boolean): void {
    if (!a.live || this.done) return;
    const status = Number(h.get(':status')) || 0;
    this.opts.stats.requests(status).inc();
    const policy = this.opts.retry;
    if (this.committed === null && policy !== null && policy.retriableResponse(status, h)) {
      const others = this.liveCount() > 1;
      if (others || this.mayRetry()) {
        this.retryAfter = retryAfterMs(h, this.opts.clock.wallNow());
        this.lastFailure = new UpstreamError('reset', `retriable status ${status}`);
        this.finishAttempt(a, false, true, statusResult(status));
        if (!others) this.scheduleRetry();
        return;
      }
    }
    // This answer is the one: cancel the other tries and forward it.
    this.committed = a;
    a.status = status;
    this.clearTimers();
    if (a.timer !== null) {
      a.timer.cancel();
      a.timer = null;
    }
    for (const o of this.attempts) if (o !== a && o.live) this.finishAttempt(o, false, true);
    this.handler.onResponseHeaders(h, end);
    if (end) this.complete(a);
  }

  attemptEnd(a: Attempt, t: HeaderMap | null): void {
    if (this.committed !== a || this.done) return;
    this.handler.onResponseEnd(t);
    this.complete(a);
  }

  private complete(a: Attempt): void {
    this.opts.stats.duration.observe((this.opts.clock.now() - a.started) / 1000);
    this.done = true;
    this.finishAttempt(a, true, false, statusResult(a.status));
    this.release();
  }

  /** Gives back the breaker's request slot (and a retry slot held in backoff), once. */
  private release(): void {
    if (this.holdsRequest) {
      this.holdsRequest = false;
      this.opts.breaker.endRequest();
    }
    if (this.retrySlotPending) {
      this.retrySlotPending = false;
      this.opts.breaker.endRetry();
    }
  }

  attemptError(a: Attempt, err: UpstreamError): void {
    if (!a.live || this.done) {
      a.live = false;
      return;
    }
    this.finishAttempt(a, false, false, failureResult(err.kind));
    if (this.committed === a) {
      this.done = true;
      this.clearTimers();
      this.release();
      return this.handler.onCallFailure(err, true);
    }
    this.opts.stats.failures(err.kind).inc();
    this.lastFailure = err;
    this.afterFailure(err.kind, err.beforeRequestSent);
  }

  private attemptTimeout(a: Attempt): void {
    a.timer = null;
    if (!a.live || this.done || this.committed !== null) return;
    const h = this.opts.hedge;
    if (h !== null && h.on_per_try_timeout && this.hedge()) return;
    this.finishAttempt(a, false, true, failureResult('timeout'));
    this.opts.stats.failures('per_try_timeout').inc();
    this.lastFailure = 'per_try_timeout';
    this.afterFailure('per_try_timeout', false);
  }

  private afterFailure(kind: UpstreamFailureKind | 'per_try_timeout', refused: boolean): void {
    if (this.liveCount() > 0) return; // a hedged try is still out: wait for it
    const policy = this.opts.retry;
    const retriable = policy !== null ? policy.retriableFailure(kind, refused) : this.opts.hedge !== null;
    if (retriable && this.mayRetry()) return this.scheduleRetry();
    this.fail(this.lastFailure ?? 'no_healthy_endpoint');
  }

  private fail(f: CallFailure): void {
    if (this.done) return;
    this.done = true;
    this.clearTimers();
    for (const a of this.attempts) if (a.live) this.finishAttempt(a, false, true);
    this.release();
    this.handler.onCallFailure(f, false);
  }

  /** `result` feeds outlier detection; leave it out for a cancelled try. */
  private finishAttempt(a: Attempt, ok: boolean, abort: boolean, result?: TryResult): void {
    if (!a.live) return;
    a.live = false;
    if (a.timer !== null) {
      a.timer.cancel();
      a.timer = null;
    }
    if (abort && a.req !== null) a.req.abort();
    if (a.isRetry) this.opts.breaker.endRetry();
    this.opts.cluster.requestFinished(a.ep, ok, this.opts.clock.now() - a.started, result);
  }

  private clearTimers(): void {
    if (this.backoff !== null) {
      this.backoff.cancel();
      this.backoff = null;
    }
    if (this.hedgeTimer !== null) {
      this.hedgeTimer.cancel();
      this.hedgeTimer = null;
    }
  }
}
