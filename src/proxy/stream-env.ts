/**
 * StreamEnv: everything an ActiveStream needs from the listener generation it started on —
 * compiled routes, built filters, clusters, stats handles, access log, limits. Built once per
 * config generation (by src/runtime) and shared by every stream of that listener.
 * Must never: change while streams use it; a reload builds a new one.
 */
import type { BuiltFilter, Clock, HeaderMap, Logger } from '../api';
import type { Counter, Histogram, StatsRegistry } from '../observability/stats';
import type { AccessLog } from '../observability/access-log';
import type { CompiledRoute, RouteTable } from '../router';
import type { FaultConfig, HedgeConfig, MirrorConfig } from '../config/types';
import type { RateLimiter } from './rate-limiter';
import type { RetryBudget, RetryPolicy } from './retry-policy';
import type { CircuitBreaker } from '../upstream/circuit-breaker';

export type EngineRoute = CompiledRoute;

/** The slice of an upstream endpoint the engine uses. */
export interface EngineEndpoint {
  readonly address: string;
  readonly pool: import('../api').UpstreamPool;
}

export interface EngineCluster {
  readonly name: string;
  readonly protocol: string;
  pick(ctx: import('../api').LbContext | null): EngineEndpoint | null;
  requestStarted(ep: EngineEndpoint): void;
  /** `result`: the try's response status or failure kind (outlier detection); absent when cancelled. */
  requestFinished(ep: EngineEndpoint, ok: boolean, latencyMs?: number, result?: import('../upstream/outlier').TryResult): void;
}

/** Per-cluster metric handles, resolved once. */
export class ClusterStats {
  private readonly byCode = new Map<number, Counter>();
  private readonly byKind = new Map<string, Counter>();
  readonly duration: Histogram;
  readonly retries: Counter;
  readonly hedges: Counter;
  constructor(private readonly stats: StatsRegistry, readonly cluster: string, protocol: string) {
    this.duration = stats.histogram(
      'switchyard_upstream_request_duration_seconds',
      'Time from sending the upstream request to the end of its response.',
      { cluster, protocol },
    );
    this.retries = stats.counter('switchyard_upstream_retries_total', 'Upstream requests retried.', { cluster });
    this.hedges = stats.counter('switchyard_upstream_hedges_total', 'Speculative (hedged) upstream tries sent.', { cluster });
  }
  failures(kind: string): Counter {
    let c = this.byKind.get(kind);
    if (c === undefined) {
      c = this.stats.counter('switchyard_upstream_request_failures_total', 'Upstream requests that got no response.', {
        cluster: this.cluster,
        kind,
      });
      this.byKind.set(kind, c);
    }
    return c;
  }
  requests(code: number): Counter {
    let c = this.byCode.get(code);
    if (c === undefined) {
      c = this.stats.counter('switchyard_upstream_requests_total', 'Upstream requests by response code.', {
        cluster: this.cluster,
        code: String(code),
      });
      this.byCode.set(code, c);
    }
    return c;
  }
}

/** Per-listener metric handles, resolved once per (protocol, code) or reason. */
export class ListenerStats {
  private readonly byCode = new Map<string, Counter>();
  private readonly byReason = new Map<string, Counter>();
  readonly duration: Histogram;
  readonly rateLimited: Counter;
  readonly shed: Counter;
  constructor(readonly stats: StatsRegistry, readonly listener: string) {
    this.shed = stats.counter('switchyard_overload_shed_total', 'Requests refused because the proxy was overloaded.', { listener });
    this.rateLimited = stats.counter('switchyard_rate_limited_total', 'Requests refused by a local rate limit.', {
      listener,
      route: '',
    });
    this.duration = stats.histogram(
      'switchyard_downstream_request_duration_seconds',
      'Time from the request head to the end of the response.',
      { listener },
    );
  }
  requests(protocol: string, code: number): Counter {
    const key = protocol + code;
    let c = this.byCode.get(key);
    if (c === undefined) {
      c = this.stats.counter('switchyard_downstream_requests_total', 'Downstream requests by response code.', {
        listener: this.listener,
        protocol,
        code: String(code),
      });
      this.byCode.set(key, c);
    }
    return c;
  }
  localReplies(reason: string): Counter {
    let c = this.byReason.get(reason);
    if (c === undefined) {
      c = this.stats.counter('switchyard_local_replies_total', 'Responses the proxy answered itself.', {
        listener: this.listener,
        reason,
      });
      this.byReason.set(reason, c);
    }
    return c;
  }
}

/** A route's resilience policy, compiled once per generation. */
export interface RoutePolicy {
  readonly retry: RetryPolicy | null;
  readonly budget: RetryBudget | null;
  readonly hedge: HedgeConfig | null;
  readonly rateLimiter: RateLimiter | null;
  readonly fault: FaultConfig | null;
  readonly mirror: MirrorConfig | null;
  /** Counters of this route's traffic features (only those the route uses are created). */
  readonly counters: RouteCounters | null;
}

export interface RouteCounters {
  readonly rateLimited: Counter;
  readonly faultDelays: Counter;
  readonly faultAborts: Counter;
  readonly mirrored: Counter;
}

export const NO_ROUTE_POLICY: RoutePolicy = {
  retry: null,
  budget: null,
  hedge: null,
  rateLimiter: null,
  fault: null,
  mirror: null,
  counters: null,
};

export interface StreamEnv {
  readonly listener: string;
  readonly routes: RouteTable;
  /** Built filters in chain order (the terminal router is not among them). */
  readonly filters: readonly BuiltFilter[];
  cluster(name: string): EngineCluster | undefined;
  clusterStats(name: string): ClusterStats;
  breaker(cluster: string): CircuitBreaker;
  readonly stats: ListenerStats;
  readonly accessLog: AccessLog | null;
  readonly clock: Clock;
  readonly log: Logger;
  readonly maxBufferBytes: number;
  /** The listener's idle timeout (limits.idle_timeout), applied to upgraded tunnels. */
  readonly idleTimeoutMs: number;
  readonly random: () => number;
  routePolicy(route: EngineRoute): RoutePolicy;
  /** The listener-wide token bucket, if configured. */
  readonly listenerRateLimiter: RateLimiter | null;
  /** Raised while the process is overloaded: new streams are shed. */
  readonly overload: { readonly overloaded: boolean } | null;
}
