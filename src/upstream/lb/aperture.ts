/**
 * `aperture`: Finagle's aperture balancing. With a large endpoint set, each proxy instance sends
 * to a small window of it (`lb_config.aperture` endpoints, default 10), so every proxy keeps few
 * connections and every endpoint sees few proxies. Placement is deterministic-aperture style:
 * endpoints sorted by address form a ring, and this instance's window starts at its coordinate
 * in [0, 1) — `lb_config.coordinate` when the operator assigns them (e.g. instance / instances),
 * else drawn once per cluster from options.random and kept across rebuilds (keyed by the
 * cluster's options object), so windows of many proxies spread over the ring.
 * The window is the first `aperture` endpoints from the coordinate that are in the best
 * eligibility tier (common.ts): unhealthy or excluded endpoints are skipped and the window moves
 * past them. Within the window: power of two choices drawn by weight, lower active / weight wins
 * (the first drawn on ties, so idle endpoints get traffic in proportion to weight).
 * Not done: Finagle's dynamic aperture size (grow/shrink with load).
 * Owns: the ring order and a scratch window of one snapshot. Must never: allocate in pick(), or
 * use randomness but options.random.
 */
import type { Endpoint, LbContext, LoadBalancer, LoadBalancerFactory, LoadBalancerOptions } from '../../api/lb';
import { bestTier, effectiveWeight, eligible, excludeOf, isExcluded, TIER_HEALTHY_INCLUDED } from './common';
import { readInt, readNumber } from './options';

export const DEFAULT_APERTURE = 10;

export interface ApertureConfig {
  aperture: number;
  coordinate: number | null;
}

export function parseApertureConfig(config: Readonly<Record<string, unknown>> | undefined): ApertureConfig {
  const c = config ?? {};
  const aperture = readInt('aperture', 'aperture', c.aperture, DEFAULT_APERTURE, 1, 100_000);
  let coordinate: number | null = null;
  if (c.coordinate !== undefined) {
    coordinate = readNumber('aperture', 'coordinate', c.coordinate, 0, 0, 1);
    if (coordinate === 1) throw new TypeError('aperture: coordinate must be in [0, 1), got 1');
  }
  return { aperture, coordinate };
}

/** Random coordinates drawn per cluster (per options object), stable across rebuilds. */
const coordinates = new WeakMap<LoadBalancerOptions, number>();

function coordinateFor(options: LoadBalancerOptions, cfg: ApertureConfig): number {
  if (cfg.coordinate !== null) return cfg.coordinate;
  let c = coordinates.get(options);
  if (c === undefined) {
    c = Math.min(Math.max(options.random(), 0), 1 - Number.EPSILON);
    coordinates.set(options, c);
  }
  return c;
}

export class ApertureBalancer implements LoadBalancer {
  /** The ring: endpoints sorted by address. */
  readonly ring: readonly Endpoint[];
  private readonly weights: Float64Array;
  private readonly start: number;
  private readonly window: Int32Array;

  constructor(endpoints: readonly Endpoint[], private readonly random: () => number, readonly size: number, coordinate: number) {
    const ring = endpoints.slice().sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    this.ring = ring;
    const n = ring.length;
    this.weights = new Float64Array(n);
    for (let i = 0; i < n; i++) this.weights[i] = effectiveWeight(ring[i].weight);
    this.start = Math.min(n - 1, Math.floor(coordinate * n));
    this.window = new Int32Array(Math.min(size, n));
  }

  /** Fills `window` with the current window's indices; returns how many. */
  private fill(exclude: readonly Endpoint[] | undefined): number {
    const ring = this.ring;
    const n = ring.length;
    const win = this.window;
    const cap = win.length;
    let k = 0;
    for (let j = 0, i = this.start; j < n && k < cap; j++) {
      const ep = ring[i];
      if (ep.healthy && (exclude === undefined || !isExcluded(ep, exclude))) win[k++] = i;
      i = i + 1 === n ? 0 : i + 1;
    }
    if (k > 0) return k;
    const tier = bestTier(ring, exclude);
    if (tier === TIER_HEALTHY_INCLUDED) return 0; // unreachable: tier 0 would have filled
    for (let j = 0, i = this.start; j < n && k < cap; j++) {
      if (eligible(ring[i], tier, exclude)) win[k++] = i;
      i = i + 1 === n ? 0 : i + 1;
    }
    return k;
  }

  /** A weighted draw among window[0..k). */
  private draw(k: number, total: number): number {
    const win = this.window;
    const w = this.weights;
    let x = this.random() * total;
    for (let j = 0; j < k; j++) {
      x -= w[win[j]];
      if (x < 0) return win[j];
    }
    return win[k - 1];
  }

  pick(ctx: LbContext | null): Endpoint | null {
    const ring = this.ring;
    const n = ring.length;
    if (n === 0) return null;
    if (n === 1) return ring[0];
    const k = this.fill(excludeOf(ctx));
    if (k === 1) return ring[this.window[0]];
    const w = this.weights;
    let total = 0;
    for (let j = 0; j < k; j++) total += w[this.window[j]];
    const a = this.draw(k, total);
    const b = this.draw(k, total);
    // active_b / w_b < active_a / w_a, without dividing
    return ring[a !== b && ring[b].activeRequests * w[a] < ring[a].activeRequests * w[b] ? b : a];
  }
}

export const apertureFactory: LoadBalancerFactory = {
  name: 'aperture',
  create(endpoints: readonly Endpoint[], options: LoadBalancerOptions): LoadBalancer {
    const cfg = parseApertureConfig(options.config);
    return new ApertureBalancer(endpoints, options.random, cfg.aperture, coordinateFor(options, cfg));
  },
};
