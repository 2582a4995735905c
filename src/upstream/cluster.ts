/**
 * Cluster: a named set of endpoints, the load balancer built over the current snapshot of them,
 * and (through each ClusterEndpoint) a lazily created connection pool per endpoint.
 * Snapshots are swapped whole (setEndpoints): the new balancer is built before anything changes,
 * endpoints that stay keep their object, counters and warm pool, and removed ones have their
 * pools closed gracefully. With `health_check`, a ClusterHealth checks every endpoint (new ones
 * start unavailable until their first check passes); with `outlier_detection`, an
 * OutlierDetector is fed by every finished try and ejects outliers. An endpoint is available to
 * the balancer only when actively healthy and not ejected; either flag changing rebuilds it.
 * Owns: endpoint records, the balancer, the endpoint gauges, the health and outlier machinery.
 * Must never: count requests by status (the engine does), block, or do I/O itself (pools and
 * health probes do).
 */
import type { Clock } from '../api/clock';
import type { UpstreamProtocol } from '../api/codec';
import type { DiscoveredEndpoint } from '../api/discovery';
import type { LbContext, LoadBalancer, LoadBalancerFactory, LoadBalancerOptions } from '../api/lb';
import type { PoolOptions } from '../api/stream';
import { registry } from '../api/registry';
import type { ClusterConfig, HealthCheckConfig } from '../config/types';
import { rpcPoolOptions } from '../config/rpc';
import { http2PoolOptions } from '../config/cluster-http2';
import type { Gauge, StatsRegistry } from '../observability/stats';
import { ClusterEndpoint, formatAddress, type PoolSource } from './endpoint';
import type { CoreLbOptions } from './lb/options';
import { withZoneAwareness } from './lb/zone-aware';
import { poolTls, withUpstreamTls } from './connect';
import { ClusterHealth, createProber, type Prober } from './health';
import { OutlierDetector, type TryResult } from './outlier';

export { ClusterEndpoint } from './endpoint';

export interface ClusterDeps {
  stats: StatsRegistry;
  clock: Clock;
  /** Random source in [0,1) for the balancer; Math.random when absent. */
  random?: () => number;
  /** Upstream protocols by name (e.g. registry.codec(name)?.upstream). */
  protocols: (name: string) => UpstreamProtocol | undefined;
  /** Builds the health-check prober (tests inject fakes); default: the built-in probers. */
  healthProber?: (config: HealthCheckConfig, protocol: string) => Prober;
}

/** Health of one endpoint in the admin `/clusters` JSON. */
export interface EndpointHealthSnapshot {
  /** Active health checks' view; `unchecked` before the first check or without health checking. */
  active: 'healthy' | 'unhealthy' | 'unchecked';
  /** Ejected by outlier detection now. */
  ejected: boolean;
  /** ISO time the current ejection ends, or null. */
  ejected_until: string | null;
  times_ejected: number;
  /** The last health check (ISO time, result, why it failed), or null. */
  last_check: { at: string; result: 'success' | 'failure'; detail?: string } | null;
}

/** One endpoint in the admin `/clusters` JSON. */
export interface EndpointSnapshot {
  address: string;
  weight: number;
  zone: string | null;
  /** Available to the balancer: actively healthy and not ejected. */
  healthy: boolean;
  health: EndpointHealthSnapshot;
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
  private readonly clock: Clock;
  private readonly health: ClusterHealth<ClusterEndpoint> | null = null;
  private readonly outlier: OutlierDetector<ClusterEndpoint> | null = null;

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
      options: withUpstreamTls({ ...rpcPoolOptions(config.rpc), ...http2PoolOptions(config.http2) }, config),
    });
    this.poolSource = Object.freeze({ protocol, options, clock: deps.clock });
    this.healthyGauge = deps.stats.gauge(ENDPOINTS_GAUGE, ENDPOINTS_HELP, { cluster: config.name, health: 'healthy' });
    this.unhealthyGauge = deps.stats.gauge(ENDPOINTS_GAUGE, ENDPOINTS_HELP, { cluster: config.name, health: 'unhealthy' });
    this.clock = deps.clock;
    const hc = config.health_check;
    const prober = hc === undefined ? null : (deps.healthProber ?? createProber)(hc, config.protocol);
    if (hc !== undefined && prober !== null) {
      this.health = new ClusterHealth<ClusterEndpoint>(hc, {
        cluster: config.name,
        clock: deps.clock,
        random: deps.random ?? Math.random,
        stats: deps.stats,
        prober,
        tls: poolTls(options),
        setHealthy: (ep, healthy) => this.setHealthy(ep, healthy),
      });
    }
    if (config.outlier_detection !== undefined) {
      this.outlier = new OutlierDetector<ClusterEndpoint>(config.outlier_detection, {
        cluster: config.name,
        clock: deps.clock,
        stats: deps.stats,
        setEjected: (ep, ejected) => this.setEjected(ep, ejected),
      });
    }
    try {
      this.setEndpoints(
        config.endpoints.map((e) => ({ host: e.address.host, port: e.address.port, weight: e.weight, zone: e.zone })),
      );
    } catch (err) {
      this.health?.stop();
      this.outlier?.stop();
      throw err;
    }
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
   * `result` (the response status or failure kind) feeds outlier detection; leave it out for a
   * try that was cancelled (it says nothing about the endpoint).
   */
  requestFinished(ep: ClusterEndpoint, ok: boolean, latencyMs?: number, result?: TryResult): void {
    ep.markFinished(ok);
    if (result !== undefined && this.outlier !== null) this.outlier.record(ep, result);
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
   * healthy without a pool (with health checking: unhealthy, their first check starting now);
   * removed ones are retired (pools closed gracefully, checks stopped, outlier state dropped).
   * Duplicate addresses: the first entry wins. Ignored once the cluster is closed.
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
        next.push(new ClusterEndpoint(d.host, d.port, d.weight, d.zone, this.poolSource, this.health === null));
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
    this.outlier?.sync(frozen);
    this.health?.sync(frozen);
  }

  /**
   * Sets an endpoint's active-health flag (health checks call this; so may tests and plugins).
   * The endpoint is available only while also not ejected.
   */
  setHealthy(ep: ClusterEndpoint, healthy: boolean): void {
    if (ep.activeHealthy === healthy) return;
    ep.setHealthy(healthy);
    this.availabilityChanged(ep);
  }

  /** Sets an endpoint's outlier-ejection flag (outlier detection calls this). */
  setEjected(ep: ClusterEndpoint, ejected: boolean): void {
    if (ep.ejected === ejected) return;
    ep.setEjected(ejected);
    this.availabilityChanged(ep);
  }

  private availabilityChanged(ep: ClusterEndpoint): void {
    if (this.closing !== null || !this.eps.includes(ep)) return;
    // Balancers built only from flags at creation time stay correct: rebuild (rare event).
    try {
      this.lb = this.lbFactory.create(this.eps, this.lbOptions);
    } catch {
      // It built from this very snapshot before; keep the previous balancer (it reads flags live).
    }
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
          health: this.healthSnapshot(ep),
          active_requests: ep.activeRequests,
          requests_total: ep.requestsTotal,
          failures: ep.failures,
          pool: p === null ? null : { connections: p.stats.connections, active: p.stats.active, pending: p.stats.pending },
        };
      }),
    };
  }

  private healthSnapshot(ep: ClusterEndpoint): EndpointHealthSnapshot {
    const h = this.health?.info(ep) ?? null;
    const o = this.outlier?.info(ep) ?? null;
    const wallAt = (t: number) => new Date(this.clock.wallNow() + (t - this.clock.now())).toISOString();
    const last = h?.lastCheck ?? null;
    return {
      active: h === null ? 'unchecked' : h.active,
      ejected: ep.ejected,
      ejected_until: o !== null && o.ejectedUntil !== null ? wallAt(o.ejectedUntil) : null,
      times_ejected: o?.timesEjected ?? 0,
      last_check:
        last === null
          ? null
          : {
              at: new Date(last.at).toISOString(),
              result: last.ok ? 'success' : 'failure',
              ...(last.detail !== null ? { detail: last.detail } : {}),
            },
    };
  }

  /**
   * Graceful: stops picking and checking, closes every pool once its in-flight requests finish
   * (including pools of endpoints removed earlier and still closing). Idempotent.
   */
  close(): Promise<void> {
    if (this.closing === null) {
      this.health?.stop();
      this.outlier?.stop();
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
    this.health?.stop();
    this.outlier?.stop();
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
