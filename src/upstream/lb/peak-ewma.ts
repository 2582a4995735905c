/**
 * `peak_ewma`: latency-aware power of two choices, after Finagle's and linkerd2's PeakEwma.
 * Each endpoint keeps an estimate E of its latency, fed by LoadBalancer.onRequestEnd:
 *   - a sample slower than the current estimate replaces it at once (peak-sensitive);
 *   - a faster one is blended in: E = E·w + rtt·(1 − w), w = exp(−Δ / decay), Δ = time since the
 *     previous sample (`lb_config.decay`, default 10s);
 *   - between samples the estimate read decays toward zero, E·exp(−(now − last) / decay), so an
 *     endpoint that was slow once is tried again after a while instead of starving;
 *   - a failed request never lowers the estimate (a fast failure must not attract traffic).
 * Endpoints start at `lb_config.default_rtt` (default 30ms), which their first sample replaces. Two candidates are drawn weighted
 * (best eligibility tier, common.ts) and the lower cost wins, the first drawn on ties:
 *   cost = E × (active + r) / r,  r = weight / mean weight of the snapshot
 * which is E × (active + 1) for equal weights (Finagle's cost) and E × active / r under load,
 * and lets idle endpoints of equal latency take traffic in exact proportion to weight.
 * Estimates live per endpoint object (a WeakMap), so they survive balancer rebuilds (health
 * changes, snapshot swaps keep surviving endpoint objects). Time comes from the cluster's clock.
 * Owns: the estimates. Must never: allocate in pick(), or use randomness but options.random.
 */
import type { Clock } from '../../api/clock';
import type { Endpoint, LbContext, LoadBalancer, LoadBalancerFactory, LoadBalancerOptions } from '../../api/lb';
import { excludeOf, WeightedSampler } from './common';
import { clockOf, readDuration } from './options';

export const DEFAULT_DECAY_MS = 10_000;
export const DEFAULT_RTT_MS = 30;
/** Smallest estimate used in a cost, so load still separates endpoints idle for ages. */
const MIN_ESTIMATE_MS = 1e-3;

export interface PeakEwmaConfig {
  decayMs: number;
  defaultRttMs: number;
}

export function parsePeakEwmaConfig(config: Readonly<Record<string, unknown>> | undefined): PeakEwmaConfig {
  const c = config ?? {};
  return {
    decayMs: readDuration('peak_ewma', 'decay', c.decay, DEFAULT_DECAY_MS),
    defaultRttMs: readDuration('peak_ewma', 'default_rtt', c.default_rtt, DEFAULT_RTT_MS),
  };
}

/** One endpoint's latency estimate: `ewma` ms as of the last sample at time `at`. */
export interface EwmaState {
  ewma: number;
  at: number;
  /** False while `ewma` is still default_rtt (the first sample replaces it). */
  sampled?: boolean;
}

const states = new WeakMap<Endpoint, EwmaState>();

/** The estimate of `ep` kept by peak_ewma balancers (undefined before any balancer saw it). */
export function ewmaStateOf(ep: Endpoint): Readonly<EwmaState> | undefined {
  return states.get(ep);
}

/** The estimate as read at `now`: decayed toward zero since the last sample. */
export function decayedEstimate(s: EwmaState, now: number, decayMs: number): number {
  const dt = now - s.at;
  return dt <= 0 ? s.ewma : s.ewma * Math.exp(-dt / decayMs);
}

/** Applies one sample (see the file comment). */
export function observe(s: EwmaState, rttMs: number, ok: boolean, now: number, decayMs: number): void {
  const dt = Math.max(0, now - s.at);
  const w = Math.exp(-dt / decayMs);
  const current = s.ewma * w;
  const rtt = ok ? rttMs : Math.max(rttMs, s.ewma);
  if (rtt > current || s.sampled !== true) s.ewma = rtt;
  else s.ewma = s.ewma * w + rtt * (1 - w);
  s.at = Math.max(s.at, now);
  s.sampled = true;
}

export class PeakEwmaBalancer implements LoadBalancer {
  private readonly sampler: WeightedSampler;
  /** Per index: the endpoint's state, and mean weight / weight (1 / r). */
  private readonly st: EwmaState[];
  private readonly invRel: Float64Array;

  constructor(
    endpoints: readonly Endpoint[],
    private readonly random: () => number,
    private readonly cfg: PeakEwmaConfig,
    private readonly clock: Clock,
  ) {
    this.sampler = new WeightedSampler(endpoints.slice());
    const eps = this.sampler.eps;
    const n = eps.length;
    const now = clock.now();
    this.st = new Array<EwmaState>(n);
    for (let i = 0; i < n; i++) {
      let s = states.get(eps[i]);
      if (s === undefined) {
        s = { ewma: cfg.defaultRttMs, at: now };
        states.set(eps[i], s);
      }
      this.st[i] = s;
    }
    const w = this.sampler.weights;
    const mean = n === 0 ? 1 : this.sampler.total / n;
    this.invRel = new Float64Array(n);
    for (let i = 0; i < n; i++) this.invRel[i] = mean / w[i];
  }

  /** The cost of index i at `now` (lower is better). */
  private cost(i: number, now: number): number {
    const e = Math.max(decayedEstimate(this.st[i], now, this.cfg.decayMs), MIN_ESTIMATE_MS);
    // E × (active + r) / r = E × (active / r + 1)
    return e * (this.sampler.eps[i].activeRequests * this.invRel[i] + 1);
  }

  pick(ctx: LbContext | null): Endpoint | null {
    const sampler = this.sampler;
    const eps = sampler.eps;
    const n = eps.length;
    if (n === 0) return null;
    if (n === 1) return eps[0];
    const exclude = excludeOf(ctx);
    const a = sampler.draw(this.random, exclude);
    const b = sampler.draw(this.random, exclude);
    if (a === b) return eps[a];
    const now = this.clock.now();
    return eps[this.cost(b, now) < this.cost(a, now) ? b : a];
  }

  onRequestEnd(endpoint: Endpoint, latencyMs: number, ok: boolean): void {
    if (!(latencyMs >= 0)) return;
    let s = states.get(endpoint);
    const now = this.clock.now();
    if (s === undefined) {
      s = { ewma: this.cfg.defaultRttMs, at: now };
      states.set(endpoint, s);
    }
    observe(s, latencyMs, ok, now, this.cfg.decayMs);
  }
}

export const peakEwmaFactory: LoadBalancerFactory = {
  name: 'peak_ewma',
  create(endpoints: readonly Endpoint[], options: LoadBalancerOptions): LoadBalancer {
    return new PeakEwmaBalancer(endpoints, options.random, parsePeakEwmaConfig(options.config), clockOf(options));
  },
};
