/**
 * Cluster: a named set of endpoints, the load balancer built over the current snapshot of them,
 * and (through each ClusterEndpoint) a lazily created connection pool per endpoint.
 * Snapshots are swapped whole (setEndpoints): the new balancer is built before anything changes,
 * endpoints that stay keep their object, counters and warm pool, and removed ones have their
 * pools closed gracefully. Owns: endpoint records, the balancer, the endpoint gauges.
 * Must never: count requests by status (the engine does), block, or do I/O itself (pools do).
 */
import type { Clock } from '../api/clock';
import type { UpstreamProtocol } from '../api/codec';
import type { DiscoveredEndpoint } from '../api/discovery';
import type { LbContext, LoadBalancer, LoadBalancerFactory, LoadBalancerOptions } from '../api/lb';
import type { PoolOptions } from '../api/stream';
import { registry } from '../api/registry';
import type { ClusterConfig } from '../config/types';
import type { Gauge, StatsRegistry } from '../observability/stats';
import { ClusterEndpoint, formatAddress, type PoolSource } from './endpoint';
import type { CoreLbOptions } from './lb/options';
import { withZoneAwareness } from './lb/zone-aware';

export { ClusterEndpoint } from './endpoint';

export interface ClusterDeps {
  stats: StatsRegistry;
  clock: Clock;
  /** Random source in [0,1) for the balancer; Math.random when absent. */
  random?: () => number;
  /** Upstream protocols by name (e.g. registry.codec(name)?.upstream). */
  protocols: (name: string) => UpstreamProtocol | undefined;
}

/** One endpoint in the admin `/clusters` JSON. */
export interface EndpointSnapshot {
  address: string;
  weight: number;
  zone: string | null;
  healthy: boolean;
  active_requests: number;
  requests_total: number;
  failures: number;
  /** null until the first request created the pool. */
  pool: { connections: number; active: number; pending: number } | null;
}

/** One cluster in the admin `/clusters` JSON. */
export interface ClusterSnapshot {
  name: string;
  protocol: string;
  lb: string;
  endpoints: EndpointSnapshot[];
}

export const ENDPOINTS_GAUGE = 'switchyard_upstream_endpoints';
const ENDPOINTS_HELP = 'Endpoints of a cluster by health';

const EMPTY_LB: LoadBalancer = { pick: () => null };

export class Cluster {
  readonly name: string;
  readonly config: ClusterConfig;
  private readonly lbFactory: LoadBalancerFactory;
  private readonly lbOptions: LoadBalancerOptions;
  private readonly poolSource: PoolSource;
  private readonly healthyGauge: Gauge;
  private readonly unhealthyGauge: Gauge;
  private eps: readonly ClusterEndpoint[] = Object.freeze([]);
  private lb: LoadBalancer = EMPTY_LB;
  /** Endpoints removed from the snapshot whose pools are still closing. */
  private readonly retiring = new Set<ClusterEndpoint>();
  private closing: Promise<void> | null = null;

  constructor(config: ClusterConfig, deps: ClusterDeps) {
    this.name = config.name;
    this.config = config;
    const protocol = deps.protocols(config.protocol);
    if (protocol === undefined) {
      throw new Error(`cluster "${config.name}": no upstream protocol "${config.protocol}" is registered`);
    }
    const factory = registry.loadBalancer(config.lb);
    if (factory === undefined) {
      throw new Error(
        `cluster "${config.name}": no load balancer "${config.lb}" is registered ` +
          `(known: ${registry.loadBalancerNames().join(', ') || 'none'})`,
      );
    }
    // lb_config.local_zone wraps whichever balancer the cluster uses (built-in or plugin).
    this.lbFactory = withZoneAwareness(factory, config.lb_config);
    const lbOptions: CoreLbOptions = { random: deps.random ?? Math.random, config: config.lb_config, clock: deps.clock };
    this.lbOptions = Object.freeze(lbOptions);
    const options: PoolOptions = Object.freeze({
      connectTimeoutMs: config.connect_timeout_ms,
      maxConnections: config.max_connections_per_endpoint,
      maxPending: config.max_pending_requests,
      idleTimeoutMs: config.idle_timeout_ms,
    });
    this.poolSource = Object.freeze({ protocol, options, clock: deps.clock });
    this.healthyGauge = deps.stats.gauge(ENDPOINTS_GAUGE, ENDPOINTS_HELP, { cluster: config.name, health: 'healthy' });
    this.unhealthyGauge = deps.stats.gauge(ENDPOINTS_GAUGE, ENDPOINTS_HELP, { cluster: config.name, health: 'unhealthy' });
    this.setEndpoints(
      config.endpoints.map((e) => ({ host: e.address.host, port: e.address.port, weight: e.weight, zone: e.zone })),
    );
  }

  get protocol(): string {
    return this.config.protocol;
  }
  get lbName(): string {
    return this.config.lb;
  }
  /** The current snapshot (frozen; replaced, never mutated). */
  get endpoints(): readonly ClusterEndpoint[] {
    return this.eps;
  }
  get closed(): boolean {
    return this.closing !== null;
  }

  /** An endpoint from the current snapshot; null when it is empty or the cluster is closed. */
  pick(ctx: LbContext | null): ClusterEndpoint | null {
    return this.lb.pick(ctx) as ClusterEndpoint | null;
  }

  /** Call when a request is sent to `ep` (it counts as active until requestFinished). */
  requestStarted(ep: ClusterEndpoint): void {
    ep.markStarted();
  }

  /**
   * Call exactly once per requestStarted; ok = false counts a failure. latencyMs (clock time since
   * the request was sent) feeds latency-aware balancers through LoadBalancer.onRequestEnd.
   */
  requestFinished(ep: ClusterEndpoint, ok: boolean, latencyMs?: number): void {
    ep.markFinished(ok);
    if (latencyMs !== undefined && latencyMs >= 0) {
      const lb = this.lb;
      if (lb.onRequestEnd !== undefined) {
        try {
          lb.onRequestEnd(ep, latencyMs, ok);
        } catch {
          // A plugin balancer's feedback bug must not break request completion.
        }
      }
    }
  }

  /**
   * Replaces the endpoint set atomically. Endpoints are matched by address: those that stay keep
   * their object, counters, health and pool (weight and zone are updated); new ones start
   * healthy without a pool; removed ones are retired (pools closed gracefully). Duplicate
   * addresses: the first entry wins. Ignored once the cluster is closed.
   */
  setEndpoints(snapshot: readonly DiscoveredEndpoint[]): void {
    if (this.closing !== null) return;
    const old = new Map<string, ClusterEndpoint>();
    for (const ep of this.eps) old.set(ep.address, ep);
    const next: ClusterEndpoint[] = [];
    const seen = new Set<string>();
    const updates: Array<[ClusterEndpoint, number, string | undefined]> = [];
    for (const d of snapshot) {
      const address = formatAddress(d.host, d.port);
      if (seen.has(address)) continue;
      seen.add(address);
      const prev = old.get(address);
      if (prev !== undefined) {
        updates.push([prev, d.weight, d.zone]);
        next.push(prev);
      } else {
        next.push(new ClusterEndpoint(d.host, d.port, d.weight, d.zone, this.poolSource));
      }
    }
    // Weight and zone of kept endpoints change only together with the balancer that reads them.
    const saved = updates.map(([ep]) => [ep.weight, ep.zone] as const);
    for (const [ep, w, z] of updates) ep.update(w, z);
    const frozen = Object.freeze(next);
    let lb: LoadBalancer;
    try {
      lb = this.lbFactory.create(frozen, this.lbOptions);
    } catch (err) {
      updates.forEach(([ep], i) => ep.update(saved[i][0], saved[i][1]));
      throw err;
    }
    this.eps = frozen;
    this.lb = lb;
    for (const ep of old.values()) if (!seen.has(ep.address)) this.retireEndpoint(ep);
    this.updateGauges();
  }

  /** Marks an endpoint healthy or unhealthy (health checks, outlier detection). */
  setHealthy(ep: ClusterEndpoint, healthy: boolean): void {
    if (ep.healthy === healthy) return;
    ep.setHealthy(healthy);
    if (this.closing !== null || !this.eps.includes(ep)) return;
    // Balancers built only from flags at creation time stay correct: rebuild (rare event).
    this.lb = this.lbFactory.create(this.eps, this.lbOptions);
    this.updateGauges();
  }

  /** The admin `/clusters` view. */
  snapshot(): ClusterSnapshot {
    return {
      name: this.name,
      protocol: this.config.protocol,
      lb: this.config.lb,
      endpoints: this.eps.map((ep) => {
        const p = ep.existingPool;
        return {
          address: ep.address,
          weight: ep.weight,
          zone: ep.zone ?? null,
          healthy: ep.healthy,
          active_requests: ep.activeRequests,
          requests_total: ep.requestsTotal,
          failures: ep.failures,
          pool: p === null ? null : { connections: p.stats.connections, active: p.stats.active, pending: p.stats.pending },
        };
      }),
    };
  }

  /**
   * Graceful: stops picking, closes every pool once its in-flight requests finish (including
   * pools of endpoints removed earlier and still closing). Idempotent.
   */
  close(): Promise<void> {
    if (this.closing === null) {
      this.lb = EMPTY_LB;
      const waits: Promise<void>[] = [];
      for (const ep of this.eps) waits.push(ep.retire());
      for (const ep of this.retiring) waits.push(ep.retire());
      this.closing = Promise.all(waits).then(() => undefined);
    }
    return this.closing;
  }

  /** Immediate: stops picking and destroys every pool, in-flight requests included. */
  destroy(): void {
    if (this.closing === null) this.closing = Promise.resolve();
    this.lb = EMPTY_LB;
    for (const ep of this.eps) ep.destroy();
    for (const ep of this.retiring) ep.destroy();
    this.retiring.clear();
  }

  private retireEndpoint(ep: ClusterEndpoint): void {
    this.retiring.add(ep);
    void ep.retire().then(() => this.retiring.delete(ep));
  }

  private updateGauges(): void {
    let healthy = 0;
    for (const ep of this.eps) if (ep.healthy) healthy++;
    this.healthyGauge.set(healthy);
    this.unhealthyGauge.set(this.eps.length - healthy);
  }
}
