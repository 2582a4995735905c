/**
 * ClusterHealth: active health checking for one cluster — one EndpointChecker per endpoint,
 * started when the endpoint joins (sync) and stopped when it leaves or the cluster closes; each
 * transition is applied through `setHealthy` (the cluster rebuilds its balancer). Also owns the
 * prober choice for the configured type and the health-check metrics:
 *   switchyard_upstream_health_checks_total{cluster, result=success|failure}
 *   switchyard_upstream_health_transitions_total{cluster, to=healthy|unhealthy}
 * Must never: change endpoint flags directly, or check endpoints of another cluster.
 */
import type { Clock } from '../../api/clock';
import { registry } from '../../api/registry';
import type { HealthCheckConfig } from '../../config/types';
import type { Counter, StatsRegistry } from '../../observability/stats';
import { EndpointChecker, type ActiveHealth, type LastCheck } from './checker';
import type { Prober, ProbeTarget } from './probe';
import type { UpstreamTls } from '../connect';
import { tcpProber } from './probe-tcp';
import { httpProber } from './probe-http';
import { grpcProber } from './probe-grpc';
import { heartbeatProber } from './probe-heartbeat';

export const HEALTH_CHECKS_COUNTER = 'switchyard_upstream_health_checks_total';
export const HEALTH_TRANSITIONS_COUNTER = 'switchyard_upstream_health_transitions_total';

/** Builds the prober for a cluster's health_check; throws when `heartbeat` has no RpcCodec. */
export function createProber(cfg: HealthCheckConfig, protocol: string): Prober {
  switch (cfg.type) {
    case 'tcp':
      return tcpProber;
    case 'http':
      return httpProber({ path: cfg.path, host: cfg.host, expectedStatuses: cfg.expected_statuses });
    case 'grpc':
      return grpcProber({ serviceName: cfg.service_name, host: cfg.host });
    case 'heartbeat': {
      const codec = registry.rpcCodec(protocol);
      if (codec === undefined) throw new Error(`heartbeat health checks need an RPC protocol; "${protocol}" is not a registered RpcCodec`);
      return heartbeatProber(codec);
    }
    default:
      throw new Error(`unknown health check type "${String((cfg as { type: unknown }).type)}"`);
  }
}

export interface ClusterHealthDeps<E> {
  readonly cluster: string;
  readonly clock: Clock;
  readonly random: () => number;
  readonly stats: StatsRegistry;
  readonly prober: Prober;
  /** The cluster's upstream TLS, which probes use too (absent: plaintext). */
  readonly tls?: UpstreamTls | null;
  setHealthy(ep: E, healthy: boolean): void;
}

/** What the admin view shows about one endpoint's active checks. */
export interface HealthInfo {
  readonly active: ActiveHealth;
  readonly lastCheck: LastCheck | null;
}

export class ClusterHealth<E extends ProbeTarget> {
  private readonly checkers = new Map<E, EndpointChecker>();
  private readonly results: { ok: Counter; fail: Counter };
  private readonly transitions: { healthy: Counter; unhealthy: Counter };
  private stopped = false;

  constructor(readonly config: HealthCheckConfig, private readonly deps: ClusterHealthDeps<E>) {
    const cl = { cluster: deps.cluster };
    const ch = 'Active health checks by result.';
    const th = 'Endpoint health changes made by active health checks.';
    this.results = {
      ok: deps.stats.counter(HEALTH_CHECKS_COUNTER, ch, { ...cl, result: 'success' }),
      fail: deps.stats.counter(HEALTH_CHECKS_COUNTER, ch, { ...cl, result: 'failure' }),
    };
    this.transitions = {
      healthy: deps.stats.counter(HEALTH_TRANSITIONS_COUNTER, th, { ...cl, to: 'healthy' }),
      unhealthy: deps.stats.counter(HEALTH_TRANSITIONS_COUNTER, th, { ...cl, to: 'unhealthy' }),
    };
  }

  /** Starts checkers for endpoints new in `eps` (first check at once), stops those gone. */
  sync(eps: readonly E[]): void {
    if (this.stopped) return;
    const keep = new Set<E>(eps);
    for (const [ep, c] of this.checkers) {
      if (keep.has(ep)) continue;
      c.stop();
      this.checkers.delete(ep);
    }
    const added: EndpointChecker[] = [];
    for (const ep of eps) {
      if (this.checkers.has(ep)) continue;
      const c = this.createChecker(ep);
      this.checkers.set(ep, c);
      added.push(c);
    }
    // Start after the map is complete: a probe may answer synchronously (tests) and re-enter.
    for (const c of added) c.start();
  }

  info(ep: E): HealthInfo | null {
    const c = this.checkers.get(ep);
    return c === undefined ? null : { active: c.state, lastCheck: c.lastCheck };
  }

  /** Stops every checker (cluster close/destroy). Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const c of this.checkers.values()) c.stop();
    this.checkers.clear();
  }

  private createChecker(ep: E): EndpointChecker {
    const d = this.deps;
    const checker: EndpointChecker = new EndpointChecker(
      { host: ep.host, port: ep.port, tls: d.tls ?? null },
      {
        clock: d.clock,
        random: d.random,
        prober: d.prober,
        timing: this.config,
        onResult: (ok) => (ok ? this.results.ok : this.results.fail).inc(),
        onTransition: (healthy) => {
          if (this.stopped || this.checkers.get(ep) !== checker) return;
          (healthy ? this.transitions.healthy : this.transitions.unhealthy).inc();
          d.setHealthy(ep, healthy);
        },
      },
    );
    return checker;
  }
}
