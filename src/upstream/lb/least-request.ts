/**
 * `least_request`: power of N choices (default 2, `lb_config.choice_count`). Candidates are drawn
 * weighted (WeightedSampler, best eligibility tier only) and the one with the lowest
 * activeRequests / weight wins, the first drawn on ties. With equal weights this is plain
 * P2C as in Envoy; with unequal weights the active/weight comparison biases toward heavier
 * endpoints, and idle endpoints receive traffic in exact proportion to weight.
 * activeRequests is read live at pick time. With `lb_config.slow_start` (slow-start.ts) the
 * weights of young endpoints are scaled live (both in the draws and in the comparison). Owns: weights of one snapshot. Must never:
 * allocate in pick(), or use any randomness but options.random.
 */
import type { Endpoint, LbContext, LoadBalancer, LoadBalancerFactory, LoadBalancerOptions } from '../../api/lb';
import { excludeOf, WeightedSampler } from './common';
import { clockOf } from './options';
import { slowStartFor, type SlowStart } from './slow-start';

export const DEFAULT_CHOICE_COUNT = 2;

export class LeastRequestBalancer implements LoadBalancer {
  private readonly sampler: WeightedSampler;
  private readonly slowStart: SlowStart | null;

  constructor(
    endpoints: readonly Endpoint[],
    private readonly random: () => number,
    private readonly choices: number,
    slowStart?: (eps: readonly Endpoint[]) => SlowStart | null,
  ) {
    this.sampler = new WeightedSampler(endpoints.slice());
    this.slowStart = slowStart === undefined ? null : slowStart(this.sampler.eps);
  }

  pick(ctx: LbContext | null): Endpoint | null {
    const sampler = this.sampler;
    const eps = sampler.eps;
    const n = eps.length;
    if (n === 0) return null;
    if (n === 1) return eps[0];
    if (this.slowStart !== null && this.slowStart.refresh(sampler.weights)) sampler.reweighed();
    const exclude = excludeOf(ctx);
    const w = sampler.weights;
    let best = sampler.draw(this.random, exclude);
    for (let k = 1; k < this.choices; k++) {
      const c = sampler.draw(this.random, exclude);
      // active_c / w_c < active_best / w_best, without dividing
      if (c !== best && eps[c].activeRequests * w[best] < eps[best].activeRequests * w[c]) best = c;
    }
    return eps[best];
  }
}

function choiceCount(config: Readonly<Record<string, unknown>> | undefined): number {
  const v = config?.choice_count;
  if (v === undefined) return DEFAULT_CHOICE_COUNT;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 2 || v > 100) {
    throw new TypeError(`least_request: choice_count must be an integer from 2 to 100, got ${String(v)}`);
  }
  return v;
}

export const leastRequestFactory: LoadBalancerFactory = {
  name: 'least_request',
  create(endpoints: readonly Endpoint[], options: LoadBalancerOptions): LoadBalancer {
    const config = options.config;
    const choices = choiceCount(config);
    if (config?.slow_start === undefined) return new LeastRequestBalancer(endpoints, options.random, choices);
    const clock = clockOf(options);
    return new LeastRequestBalancer(endpoints, options.random, choices, (eps) => slowStartFor('least_request', eps, config, clock));
  },
};
