/**
 * The built-in load balancers and their registration. Owns: nothing but the list.
 * Must never: register anything as a side effect of being imported.
 */
import { registerLoadBalancer } from '../../api/registry';
import type { LoadBalancerFactory } from '../../api/lb';
import { roundRobinFactory } from './round-robin';
import { leastRequestFactory } from './least-request';
import { randomFactory } from './random';
import { ringHashFactory } from './ring-hash';
import { maglevFactory } from './maglev';
import { peakEwmaFactory } from './peak-ewma';
import { apertureFactory } from './aperture';

export { roundRobinFactory, SmoothRoundRobinBalancer } from './round-robin';
export { leastRequestFactory, LeastRequestBalancer, DEFAULT_CHOICE_COUNT } from './least-request';
export { randomFactory, RandomBalancer } from './random';
export { ringHashFactory, RingHashBalancer, DEFAULT_MIN_RING_SIZE, DEFAULT_MAX_RING_SIZE } from './ring-hash';
export { maglevFactory, MaglevBalancer, DEFAULT_MAGLEV_TABLE_SIZE } from './maglev';
export { peakEwmaFactory, PeakEwmaBalancer, DEFAULT_DECAY_MS, DEFAULT_RTT_MS } from './peak-ewma';
export { apertureFactory, ApertureBalancer, DEFAULT_APERTURE } from './aperture';
export { withZoneAwareness, ZoneAwareBalancer, DEFAULT_ZONE_MIN_HEALTHY_PERCENT } from './zone-aware';
export type { CoreLbOptions } from './options';

export const BUILTIN_LOAD_BALANCERS: readonly LoadBalancerFactory[] = [
  roundRobinFactory,
  leastRequestFactory,
  randomFactory,
  ringHashFactory,
  maglevFactory,
  peakEwmaFactory,
  apertureFactory,
];

/**
 * Registers round_robin, least_request, random, ring_hash, maglev, peak_ewma and aperture.
 * Idempotent (the registry accepts the same factory object twice); throws if a plugin already
 * took one of these names. Zone awareness (lb_config.local_zone) is not a balancer: the Cluster
 * wraps whichever balancer it uses (withZoneAwareness).
 */
export function registerBuiltinLoadBalancers(): void {
  for (const f of BUILTIN_LOAD_BALANCERS) registerLoadBalancer(f);
}
