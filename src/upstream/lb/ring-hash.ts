/**
 * `ring_hash`: Ketama-style consistent hashing. Each endpoint puts `weight × r` points on a ring
 * of 53-bit positions (xxHash64 of "address_i"); a request's key (lb_config.hash_on, see
 * hash-key.ts) goes to the first point at or after its own hash. Requests without a key get a
 * weighted random endpoint.
 *
 * Ring size: r (points per unit of weight) is the power of two that makes the ring at least
 * `lb_config.min_ring_size` (default 1024) points, reduced (by powers of two) to stay under
 * `max_ring_size` (default 8M). Rounding r to a power of two keeps every endpoint's points
 * unchanged when another endpoint joins or leaves (unless the total crosses a power of two),
 * so only the keys of the endpoint that changed move.
 *
 * An unhealthy or excluded owner: the walk goes clockwise to the next point whose endpoint is in
 * the best eligibility tier (common.ts), so only that endpoint's keys move, spread over the rest.
 * Owns: the ring of one snapshot. Must never: allocate in pick() beyond hashing the key, or use
 * randomness other than options.random (and that only for keyless requests).
 */
import type { Endpoint, LbContext, LoadBalancer, LoadBalancerFactory, LoadBalancerOptions } from '../../api/lb';
import { effectiveWeight, excludeOf, pickFromSlot, WeightedSampler } from './common';
import { hash53 } from './hash';
import { hashKeyOf, parseHashOn, type HashOn } from './hash-key';
import { readInt } from './options';

export const DEFAULT_MIN_RING_SIZE = 1024;
export const DEFAULT_MAX_RING_SIZE = 8 * 1024 * 1024;

export interface RingHashConfig {
  minRingSize: number;
  maxRingSize: number;
  hashOn: HashOn | null;
}

export function parseRingHashConfig(config: Readonly<Record<string, unknown>> | undefined): RingHashConfig {
  const c = config ?? {};
  const minRingSize = readInt('ring_hash', 'min_ring_size', c.min_ring_size, DEFAULT_MIN_RING_SIZE, 1, DEFAULT_MAX_RING_SIZE);
  const maxRingSize = readInt('ring_hash', 'max_ring_size', c.max_ring_size, DEFAULT_MAX_RING_SIZE, 1, DEFAULT_MAX_RING_SIZE);
  if (minRingSize > maxRingSize) {
    throw new TypeError(`ring_hash: min_ring_size (${minRingSize}) must not exceed max_ring_size (${maxRingSize})`);
  }
  return { minRingSize, maxRingSize, hashOn: parseHashOn('ring_hash', c.hash_on) };
}

/** Points per endpoint: weight × r, r a power of two (see the file comment); at least 1 each. */
export function ringReplicas(weights: Float64Array, minRing: number, maxRing: number): Int32Array {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i];
  const out = new Int32Array(weights.length);
  if (weights.length === 0) return out;
  let r = 2 ** Math.ceil(Math.log2(minRing / total));
  for (;;) {
    let sum = 0;
    for (let i = 0; i < weights.length; i++) {
      out[i] = Math.max(1, Math.round(weights[i] * r));
      sum += out[i];
    }
    if (sum <= maxRing || r < 2 ** -40) return out;
    r /= 2;
  }
}

export class RingHashBalancer implements LoadBalancer {
  private readonly eps: readonly Endpoint[];
  private readonly sampler: WeightedSampler;
  /** Sorted point positions, and the endpoint index owning each. */
  readonly positions: Float64Array;
  readonly owners: Int32Array;

  constructor(endpoints: readonly Endpoint[], private readonly random: () => number, private readonly cfg: RingHashConfig) {
    const eps = endpoints.slice();
    this.eps = eps;
    this.sampler = new WeightedSampler(eps);
    const n = eps.length;
    const weights = new Float64Array(n);
    for (let i = 0; i < n; i++) weights[i] = effectiveWeight(eps[i].weight);
    const replicas = ringReplicas(weights, cfg.minRingSize, cfg.maxRingSize);
    let size = 0;
    for (let i = 0; i < n; i++) size += replicas[i];
    // Pack the owner into the low bits of each position so one native numeric sort orders both.
    const bits = n <= 1 ? 0 : Math.ceil(Math.log2(n));
    const unit = 2 ** bits;
    const packed = new Float64Array(size);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const prefix = eps[i].address + '_';
      for (let j = 0; j < replicas[i]; j++) packed[k++] = Math.floor(hash53(prefix + j) / unit) * unit + i;
    }
    packed.sort();
    this.positions = packed;
    this.owners = new Int32Array(size);
    for (let s = 0; s < size; s++) this.owners[s] = packed[s] % unit;
  }

  /** Index of the first point at or after `h` (wrapping to 0). */
  private slotOf(h: number): number {
    const pos = this.positions;
    let lo = 0;
    let hi = pos.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pos[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    return lo === pos.length ? 0 : lo;
  }

  pick(ctx: LbContext | null): Endpoint | null {
    const eps = this.eps;
    const n = eps.length;
    if (n === 0) return null;
    if (n === 1) return eps[0];
    const exclude = excludeOf(ctx);
    const key = hashKeyOf(this.cfg.hashOn, ctx);
    return pickFromSlot(eps, this.owners, key === undefined ? -1 : this.slotOf(hash53(key)), exclude, this.sampler, this.random);
  }
}

export const ringHashFactory: LoadBalancerFactory = {
  name: 'ring_hash',
  create(endpoints: readonly Endpoint[], options: LoadBalancerOptions): LoadBalancer {
    return new RingHashBalancer(endpoints, options.random, parseRingHashConfig(options.config));
  },
};
