/**
 * `random`: weighted random choice, one draw from options.random per pick on the common path
 * (binary search over cumulative weights); exact weight proportions within the best eligibility
 * tier (see common.ts). Owns: cumulative weights of one snapshot. Must never: allocate in
 * pick(), or use any randomness but options.random.
 */
import type { Endpoint, LbContext, LoadBalancer, LoadBalancerFactory, LoadBalancerOptions } from '../../api/lb';
import { excludeOf, WeightedSampler } from './common';

export class RandomBalancer implements LoadBalancer {
  private readonly sampler: WeightedSampler;

  constructor(endpoints: readonly Endpoint[], private readonly random: () => number) {
    this.sampler = new WeightedSampler(endpoints.slice());
  }

  pick(ctx: LbContext | null): Endpoint | null {
    const i = this.sampler.draw(this.random, excludeOf(ctx));
    return i < 0 ? null : this.sampler.eps[i];
  }
}

export const randomFactory: LoadBalancerFactory = {
  name: 'random',
  create(endpoints: readonly Endpoint[], options: LoadBalancerOptions): LoadBalancer {
    return new RandomBalancer(endpoints, options.random);
  },
};
