/**
 * LoadBalancer: picks an endpoint of a cluster. Built from an immutable snapshot of the endpoints
 * that may receive traffic; rebuilt (not mutated) when the snapshot changes, as grpc-js pickers.
 * pick() is synchronous and allocation-free on the common path. Must never: do I/O.
 */
import type { HeaderMap } from './headers';

/** One upstream endpoint; counters are live, identity and weight are fixed per snapshot. */
export interface Endpoint {
  /** "host:port" */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly zone?: string;
  /** Requests in flight to this endpoint now. */
  readonly activeRequests: number;
  readonly healthy: boolean;
}

export interface LbContext {
  readonly headers: HeaderMap | null;
  readonly sourceIp: string | null;
  /** Endpoints to avoid (already tried) when another exists. */
  readonly exclude?: readonly Endpoint[];
}

export interface LoadBalancer {
  /** Returns null only when the snapshot is empty. */
  pick(ctx: LbContext | null): Endpoint | null;
  /**
   * Optional feedback: a request sent to `endpoint` (picked by this balancer or by an earlier
   * balancer of the same cluster) finished after `latencyMs`; ok = false for a failure.
   * Latency-aware balancers (peak_ewma) use it; others leave it out. Must not throw.
   */
  onRequestEnd?(endpoint: Endpoint, latencyMs: number, ok: boolean): void;
}

export interface LoadBalancerOptions {
  /** Random source in [0,1), injectable for tests. */
  random: () => number;
  /** Balancer-specific config from the cluster (e.g. hash_on). */
  config?: Readonly<Record<string, unknown>>;
}

export interface LoadBalancerFactory {
  readonly name: string;
  create(endpoints: readonly Endpoint[], options: LoadBalancerOptions): LoadBalancer;
}
