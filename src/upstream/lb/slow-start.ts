/**
 * Slow start (as Envoy's): an endpoint that joined the cluster less than `window` ago gets its
 * weight scaled by max(min_weight_percent / 100, (age / window) ^ (1 / aggression)), so new
 * endpoints (fresh JIT, cold caches) ramp up instead of taking a full share at once.
 * Config: `lb_config.slow_start: { window: 30s, aggression: 1.0, min_weight_percent: 10 }`.
 * An endpoint's age comes from its `createdAt` (ClusterEndpoint has it; endpoints without one
 * are never in slow start). Owns: base weights and ages of one snapshot; balancers call
 * refresh() from pick(), which recomputes at most every window / 100 and stops for good once
 * every endpoint is past its window. Must never: allocate after construction.
 */
import type { Clock } from '../../api/clock';
import type { Endpoint } from '../../api/lb';
import { effectiveWeight } from './common';
import { isObject, readDuration, readNumber } from './options';

export interface SlowStartConfig {
  readonly windowMs: number;
  readonly aggression: number;
  readonly minWeightPercent: number;
}

/** Parses `lb_config.slow_start`; null when absent. */
export function parseSlowStart(lb: string, v: unknown): SlowStartConfig | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw new TypeError(`${lb}: slow_start must be an object { window, aggression, min_weight_percent }`);
  for (const k of Object.keys(v)) {
    if (k !== 'window' && k !== 'aggression' && k !== 'min_weight_percent') throw new TypeError(`${lb}: unknown slow_start key "${k}"`);
  }
  if (v.window === undefined) throw new TypeError(`${lb}: slow_start.window is required`);
  return {
    windowMs: readDuration(lb, 'slow_start.window', v.window, 0),
    aggression: readNumber(lb, 'slow_start.aggression', v.aggression, 1, 0.01, 100),
    minWeightPercent: readNumber(lb, 'slow_start.min_weight_percent', v.min_weight_percent, 10, 0.01, 100),
  };
}

/** The weight multiplier in (0, 1] for an endpoint of the given age. */
export function slowStartFactor(ageMs: number, cfg: SlowStartConfig): number {
  if (ageMs >= cfg.windowMs) return 1;
  const t = Math.max(ageMs, 0) / cfg.windowMs;
  const f = cfg.aggression === 1 ? t : Math.pow(t, 1 / cfg.aggression);
  return Math.max(f, cfg.minWeightPercent / 100);
}

export class SlowStart {
  private readonly base: Float64Array;
  private readonly created: Float64Array;
  private readonly endsAt: number;
  private readonly step: number;
  private nextRefresh = Number.NEGATIVE_INFINITY;
  /** True once every endpoint is past its window (weights are then the base weights for good). */
  done = false;

  constructor(eps: readonly Endpoint[], private readonly cfg: SlowStartConfig, private readonly clock: Clock) {
    const n = eps.length;
    this.base = new Float64Array(n);
    this.created = new Float64Array(n);
    let endsAt = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      this.base[i] = effectiveWeight(eps[i].weight);
      const c = (eps[i] as { readonly createdAt?: unknown }).createdAt;
      this.created[i] = typeof c === 'number' ? c : Number.NEGATIVE_INFINITY;
      if (typeof c === 'number') endsAt = Math.max(endsAt, c + cfg.windowMs);
    }
    this.endsAt = endsAt;
    this.step = Math.max(1, cfg.windowMs / 100);
  }

  /**
   * Writes the current effective weights into `out` when due; returns true when it wrote (the
   * caller then recomputes whatever it derives from the weights).
   */
  refresh(out: Float64Array): boolean {
    if (this.done) return false;
    const now = this.clock.now();
    if (now < this.nextRefresh) return false;
    this.nextRefresh = now + this.step;
    const base = this.base;
    const created = this.created;
    for (let i = 0; i < base.length; i++) out[i] = base[i] * slowStartFactor(now - created[i], this.cfg);
    if (now >= this.endsAt) this.done = true;
    return true;
  }
}

/** A SlowStart for these endpoints when configured, else null. */
export function slowStartFor(lb: string, eps: readonly Endpoint[], config: Readonly<Record<string, unknown>> | undefined, clock: Clock): SlowStart | null {
  const cfg = parseSlowStart(lb, config?.slow_start);
  return cfg === null ? null : new SlowStart(eps, cfg, clock);
}
