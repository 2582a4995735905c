/**
 * Shared pieces of the built-in load balancers: eligibility tiers (health, then exclusion) and a
 * weighted sampler with exact proportions inside the best tier. Owns no state beyond immutable
 * arrays built from one snapshot. Must never: allocate in pick paths, do I/O, or touch
 * Math.random (randomness comes only from LoadBalancerOptions.random).
 *
 * Eligibility, best tier first (a balancer picks only among the best non-empty tier):
 *   0. healthy and not excluded
 *   1. healthy (exclusion ignored: a retry on a healthy, already-tried endpoint beats an unhealthy one)
 *   2. not excluded (no healthy endpoint: "panic" mode, everything is a candidate)
 *   3. any
 * So an unhealthy endpoint is never picked while a healthy one exists, and `exclude` is honoured
 * whenever a (healthy) alternative exists. Health and counters are read live at pick time.
 */
import type { Endpoint } from '../../api/lb';

export const TIER_HEALTHY_INCLUDED = 0;
export const TIER_HEALTHY = 1;
export const TIER_INCLUDED = 2;
export const TIER_ANY = 3;

/** True when `ep` is listed in `exclude`, by identity or by address (survives snapshot swaps). */
export function isExcluded(ep: Endpoint, exclude: readonly Endpoint[] | undefined): boolean {
  if (exclude === undefined) return false;
  for (let i = 0; i < exclude.length; i++) {
    const x = exclude[i];
    if (x === ep || x.address === ep.address) return true;
  }
  return false;
}

export function eligible(ep: Endpoint, tier: number, exclude: readonly Endpoint[] | undefined): boolean {
  switch (tier) {
    case TIER_HEALTHY_INCLUDED:
      return ep.healthy && !isExcluded(ep, exclude);
    case TIER_HEALTHY:
      return ep.healthy;
    case TIER_INCLUDED:
      return !isExcluded(ep, exclude);
    default:
      return true;
  }
}

/** The best non-empty tier. Returns at the first healthy, non-excluded endpoint (the common case). */
export function bestTier(eps: readonly Endpoint[], exclude: readonly Endpoint[] | undefined): number {
  let healthy = false;
  let included = false;
  for (let i = 0; i < eps.length; i++) {
    const ep = eps[i];
    const inc = !isExcluded(ep, exclude);
    if (ep.healthy) {
      if (inc) return TIER_HEALTHY_INCLUDED;
      healthy = true;
    } else if (inc) {
      included = true;
    }
  }
  return healthy ? TIER_HEALTHY : included ? TIER_INCLUDED : TIER_ANY;
}

/**
 * The weight a balancer uses: positive finite weights as given, anything else (0, negative, NaN,
 * Infinity) as 1. The config loader is expected to reject such weights; this only keeps the
 * arithmetic sane if one slips through.
 */
export function effectiveWeight(w: number): number {
  return w > 0 && w < Number.POSITIVE_INFINITY ? w : 1;
}

/** `ctx.exclude`, or undefined when there is nothing to exclude. */
export function excludeOf(ctx: { readonly exclude?: readonly Endpoint[] } | null): readonly Endpoint[] | undefined {
  if (ctx === null) return undefined;
  const ex = ctx.exclude;
  return ex === undefined || ex.length === 0 ? undefined : ex;
}

/**
 * Weighted sampling over an immutable endpoint list. draw() returns the index of an endpoint of
 * the best tier with probability exactly weight / (total weight of that tier):
 * a first draw over everything is accepted when it lands in tier 0 (rejection sampling), and
 * otherwise a second draw is made over the best tier alone. Both paths are allocation-free.
 */
export class WeightedSampler {
  readonly eps: readonly Endpoint[];
  readonly weights: Float64Array;
  private readonly cum: Float64Array;
  private _total = 0;

  constructor(eps: readonly Endpoint[]) {
    this.eps = eps;
    const n = eps.length;
    this.weights = new Float64Array(n);
    this.cum = new Float64Array(n);
    for (let i = 0; i < n; i++) this.weights[i] = effectiveWeight(eps[i].weight);
    this.reweighed();
  }

  get total(): number {
    return this._total;
  }

  /** Recomputes the cumulative weights after `weights` was changed in place (slow start). */
  reweighed(): void {
    let t = 0;
    for (let i = 0; i < this.weights.length; i++) {
      t += this.weights[i];
      this.cum[i] = t;
    }
    this._total = t;
  }

  /** Index of the first cumulative weight above x (x in [0, total)). */
  private search(x: number): number {
    const cum = this.cum;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** An index in the best tier, weighted; -1 only for an empty list. */
  draw(random: () => number, exclude: readonly Endpoint[] | undefined): number {
    const eps = this.eps;
    const n = eps.length;
    if (n === 0) return -1;
    const first = this.search(random() * this._total);
    const ep = eps[first];
    if (ep.healthy && !isExcluded(ep, exclude)) return first;

    const tier = bestTier(eps, exclude);
    const w = this.weights;
    let sum = 0;
    for (let i = 0; i < n; i++) if (eligible(eps[i], tier, exclude)) sum += w[i];
    let x = random() * sum;
    let last = -1;
    for (let i = 0; i < n; i++) {
      if (!eligible(eps[i], tier, exclude)) continue;
      last = i;
      x -= w[i];
      if (x < 0) return i;
    }
    return last; // floating-point remainder: the last eligible endpoint
  }
}

/**
 * For table balancers (ring_hash, maglev): the endpoint index of the first slot at or after
 * `start` (wrapping) whose owner is in the best tier; `owners[slot]` is an index into `eps`.
 * The slot at `start` is checked first without computing the tier (the common case). Returns -1
 * only when no slot's owner is eligible (an endpoint owning no slot); callers then fall back.
 */
export function firstEligibleSlot(
  eps: readonly Endpoint[],
  owners: Int32Array,
  start: number,
  exclude: readonly Endpoint[] | undefined,
): number {
  const first = eps[owners[start]];
  if (first.healthy && !isExcluded(first, exclude)) return owners[start];
  const tier = bestTier(eps, exclude);
  const m = owners.length;
  for (let k = 0, s = start; k < m; k++) {
    const i = owners[s];
    if (eligible(eps[i], tier, exclude)) return i;
    s = s + 1 === m ? 0 : s + 1;
  }
  return -1;
}

/**
 * The endpoint of a hashed pick (maglev, ring_hash): the first eligible owner from `start` on, or
 * a weighted draw when there was no key (`start` < 0) or no owner is eligible.
 */
export function pickFromSlot(
  eps: readonly Endpoint[],
  owners: Int32Array,
  start: number,
  exclude: readonly Endpoint[] | undefined,
  sampler: WeightedSampler,
  random: () => number,
): Endpoint {
  if (start >= 0) {
    const i = firstEligibleSlot(eps, owners, start, exclude);
    if (i >= 0) return eps[i];
  }
  return eps[sampler.draw(random, exclude)];
}
