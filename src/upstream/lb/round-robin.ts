/**
 * `round_robin`: smooth weighted round robin, as nginx does it. Each pick adds every eligible
 * endpoint's weight to its running score, takes the highest score (ties: list order) and
 * subtracts the eligible total from it. With integer weights and a stable eligible set, every
 * window of sum(weights) picks from the start holds each endpoint exactly `weight` times, spread
 * out rather than in bursts. The list is rotated by a random offset at build time so that many
 * workers or proxies rebuilding at once do not all start on the same endpoint.
 * Owns: the scores of one snapshot. Must never: allocate in pick(), or mutate the snapshot.
 * Cost: O(endpoints) per pick, like nginx (fine for the hundreds of endpoints a cluster has).
 * With `lb_config.slow_start` (slow-start.ts) the weights of young endpoints are scaled live.
 */
import type { Endpoint, LbContext, LoadBalancer, LoadBalancerFactory, LoadBalancerOptions } from '../../api/lb';
import { bestTier, effectiveWeight, eligible, excludeOf, TIER_HEALTHY_INCLUDED } from './common';
import { clockOf } from './options';
import { slowStartFor, type SlowStart } from './slow-start';

export class SmoothRoundRobinBalancer implements LoadBalancer {
  private readonly eps: readonly Endpoint[];
  private readonly weights: Float64Array;
  private readonly scores: Float64Array;
  private readonly slowStart: SlowStart | null;

  constructor(endpoints: readonly Endpoint[], random: () => number, slowStart?: (eps: readonly Endpoint[]) => SlowStart | null) {
    const n = endpoints.length;
    const offset = n > 1 ? Math.min(n - 1, Math.floor(random() * n)) : 0;
    const eps: Endpoint[] = new Array(n);
    for (let i = 0; i < n; i++) eps[i] = endpoints[(i + offset) % n];
    this.eps = eps;
    this.weights = new Float64Array(n);
    for (let i = 0; i < n; i++) this.weights[i] = effectiveWeight(eps[i].weight);
    this.scores = new Float64Array(n);
    this.slowStart = slowStart === undefined ? null : slowStart(eps);
  }

  pick(ctx: LbContext | null): Endpoint | null {
    const eps = this.eps;
    const n = eps.length;
    if (n === 0) return null;
    if (n === 1) return eps[0];
    if (this.slowStart !== null) this.slowStart.refresh(this.weights);
    const exclude = excludeOf(ctx);
    const tier = bestTier(eps, exclude);
    const w = this.weights;
    const s = this.scores;
    let best = -1;
    let total = 0;
    if (tier === TIER_HEALTHY_INCLUDED && exclude === undefined) {
      // Common path: no exclusions, eligibility is the health flag alone.
      for (let i = 0; i < n; i++) {
        if (!eps[i].healthy) continue;
        s[i] += w[i];
        total += w[i];
        if (best < 0 || s[i] > s[best]) best = i;
      }
    } else {
      for (let i = 0; i < n; i++) {
        if (!eligible(eps[i], tier, exclude)) continue;
        s[i] += w[i];
        total += w[i];
        if (best < 0 || s[i] > s[best]) best = i;
      }
    }
    s[best] -= total;
    return eps[best];
  }
}

export const roundRobinFactory: LoadBalancerFactory = {
  name: 'round_robin',
  create(endpoints: readonly Endpoint[], options: LoadBalancerOptions): LoadBalancer {
    const config = options.config;
    if (config?.slow_start === undefined) return new SmoothRoundRobinBalancer(endpoints, options.random);
    const clock = clockOf(options);
    return new SmoothRoundRobinBalancer(endpoints, options.random, (eps) => slowStartFor('round_robin', eps, config, clock));
  },
};
