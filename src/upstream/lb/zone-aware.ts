/**
 * Zone-aware preference, a wrapper around any balancer factory: with `lb_config.local_zone: a`,
 * requests go to the endpoints whose `zone` is `a` while at least
 * `lb_config.zone_min_healthy_percent` (default 70) of them are healthy, and spill over to the
 * whole cluster otherwise — or when the local pick is unhealthy or excluded (a retry whose local
 * alternatives are used up goes to another zone rather than back to the same endpoint).
 * The inner balancer is built twice from the same options: over the local subset and over
 * everything. Health is read live at pick time. Owns: nothing but the two inner balancers.
 * Must never: allocate in pick(), or change what the inner balancers see.
 */
import type { Endpoint, LbContext, LoadBalancer, LoadBalancerFactory, LoadBalancerOptions } from '../../api/lb';
import { excludeOf, isExcluded } from './common';
import { readNumber } from './options';

export const DEFAULT_ZONE_MIN_HEALTHY_PERCENT = 70;

export interface ZoneConfig {
  localZone: string;
  minHealthyPercent: number;
}

/** Parses local_zone / zone_min_healthy_percent; null when local_zone is absent. */
export function parseZoneConfig(config: Readonly<Record<string, unknown>> | undefined): ZoneConfig | null {
  const z = config?.local_zone;
  if (z === undefined) {
    if (config?.zone_min_healthy_percent !== undefined) throw new TypeError('lb_config: zone_min_healthy_percent needs local_zone');
    return null;
  }
  if (typeof z !== 'string' || z === '') throw new TypeError('lb_config: local_zone must be a non-empty string');
  const p = readNumber('lb_config', 'zone_min_healthy_percent', config?.zone_min_healthy_percent, DEFAULT_ZONE_MIN_HEALTHY_PERCENT, 0, 100);
  return { localZone: z, minHealthyPercent: p };
}

export class ZoneAwareBalancer implements LoadBalancer {
  constructor(
    readonly local: LoadBalancer,
    readonly all: LoadBalancer,
    private readonly localEps: readonly Endpoint[],
    private readonly minHealthyPercent: number,
  ) {}

  /** True while enough local endpoints are healthy to keep traffic local. */
  localHealthy(): boolean {
    const eps = this.localEps;
    let healthy = 0;
    for (let i = 0; i < eps.length; i++) if (eps[i].healthy) healthy++;
    return healthy > 0 && healthy * 100 >= this.minHealthyPercent * eps.length;
  }

  pick(ctx: LbContext | null): Endpoint | null {
    if (this.localHealthy()) {
      const e = this.local.pick(ctx);
      if (e !== null && e.healthy && !isExcluded(e, excludeOf(ctx))) return e;
    }
    return this.all.pick(ctx);
  }

  onRequestEnd(endpoint: Endpoint, latencyMs: number, ok: boolean): void {
    if (this.local.onRequestEnd !== undefined) this.local.onRequestEnd(endpoint, latencyMs, ok);
    if (this.all.onRequestEnd !== undefined) this.all.onRequestEnd(endpoint, latencyMs, ok);
  }
}

/**
 * `factory` itself when `config` has no local_zone; else a factory of the same name building a
 * ZoneAwareBalancer (or the plain balancer when no endpoint, or every endpoint, is local).
 * Throws a TypeError for a bad local_zone / zone_min_healthy_percent.
 */
export function withZoneAwareness(factory: LoadBalancerFactory, config: Readonly<Record<string, unknown>> | undefined): LoadBalancerFactory {
  const zc = parseZoneConfig(config);
  if (zc === null) return factory;
  return {
    name: factory.name,
    create(endpoints: readonly Endpoint[], options: LoadBalancerOptions): LoadBalancer {
      const local = endpoints.filter((e) => e.zone === zc.localZone);
      if (local.length === 0 || local.length === endpoints.length) return factory.create(endpoints, options);
      return new ZoneAwareBalancer(factory.create(local, options), factory.create(endpoints, options), local, zc.minHealthyPercent);
    },
  };
}
