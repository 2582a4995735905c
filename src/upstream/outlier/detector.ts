/**
 * OutlierDetector: passive outlier detection for one cluster, fed by the outcome of every try
 * (record). Ejects an endpoint after `consecutive_5xx` 5xx-or-failure results, after
 * `consecutive_gateway_failure` gateway failures (502/503/504, connect failure/timeout, reset,
 * timeout), or when its success rate over the last interval falls below
 * mean - stdev_factor/1000 × stdev of the endpoints with enough requests (at least
 * success_rate_minimum_hosts of them). An ejection lasts base_ejection_time × its multiplier
 * (times ejected in a row, capped at max_ejection_time); the multiplier drops by one for every
 * interval the endpoint spends back in service. Ejection is refused when it would put more than
 * max_ejection_percent of the endpoints out at once — except that one endpoint may always be
 * ejected while none is and the percent is above 0 (Envoy's always_eject_one_host), so small
 * clusters are protected too. Un-ejection runs on a timer at expiry and on every interval tick.
 * All timing goes through the injected Clock.
 * Owns: per-endpoint counters and ejection state, the interval timer, the ejection metrics.
 * Must never: pick endpoints, do I/O, or allocate per record() call.
 */
import type { Clock, TimerHandle } from '../../api/clock';
import type { OutlierDetectionConfig } from '../../config/types';
import type { Counter, Gauge, StatsRegistry } from '../../observability/stats';
import { isGatewayFailure, isGatewayStatus, type TryResult } from './result';
import { successRateOutliers } from './success-rate';

export type EjectionReason = 'consecutive_5xx' | 'consecutive_gateway_failure' | 'success_rate';

export const EJECTIONS_COUNTER = 'switchyard_upstream_ejections_total';
export const EJECTED_GAUGE = 'switchyard_upstream_ejected_endpoints';

export interface OutlierDeps<E> {
  readonly cluster: string;
  readonly clock: Clock;
  readonly stats: StatsRegistry;
  /** Applies an ejection (true) or a return to service (false) to the endpoint. */
  setEjected(ep: E, ejected: boolean, reason: EjectionReason | null): void;
}

/** What the admin view shows about one endpoint. */
export interface OutlierInfo {
  readonly ejected: boolean;
  /** Clock time (ms) the current ejection ends; null when not ejected. */
  readonly ejectedUntil: number | null;
  /** Ejections since the endpoint joined the cluster. */
  readonly timesEjected: number;
  /** The current ejection-time multiplier. */
  readonly multiplier: number;
  readonly lastReason: EjectionReason | null;
}

class HostState<E> {
  consecutive5xx = 0;
  consecutiveGateway = 0;
  requests = 0;
  successes = 0;
  ejected = false;
  ejectedUntil = 0;
  returnedAt = 0;
  multiplier = 0;
  timesEjected = 0;
  lastReason: EjectionReason | null = null;
  timer: TimerHandle | null = null;
  constructor(readonly ep: E) {}
}

export class OutlierDetector<E extends object> {
  private readonly hosts = new Map<E, HostState<E>>();
  private readonly ejections: Record<EjectionReason, Counter>;
  private readonly gauge: Gauge;
  private tickTimer: TimerHandle | null = null;
  private ejectedNow = 0;
  private stopped = false;

  constructor(readonly config: OutlierDetectionConfig, private readonly deps: OutlierDeps<E>) {
    const help = 'Endpoints ejected by outlier detection, by reason.';
    const c = (reason: EjectionReason) => deps.stats.counter(EJECTIONS_COUNTER, help, { cluster: deps.cluster, reason });
    this.ejections = {
      consecutive_5xx: c('consecutive_5xx'),
      consecutive_gateway_failure: c('consecutive_gateway_failure'),
      success_rate: c('success_rate'),
    };
    this.gauge = deps.stats.gauge(EJECTED_GAUGE, 'Endpoints currently ejected by outlier detection.', { cluster: deps.cluster });
    this.gauge.set(0);
    this.tickTimer = deps.clock.setTimer(this.onTick, config.interval_ms);
  }

  /** Endpoints ejected now. */
  get ejectedCount(): number {
    return this.ejectedNow;
  }

  /** Makes the tracked set equal to `eps`: new endpoints start clean, removed ones are forgotten. */
  sync(eps: readonly E[]): void {
    if (this.stopped) return;
    const keep = new Set<E>(eps);
    for (const [ep, s] of this.hosts) {
      if (keep.has(ep)) continue;
      if (s.timer !== null) s.timer.cancel();
      if (s.ejected) this.ejectedNow--;
      this.hosts.delete(ep);
    }
    for (const ep of eps) if (!this.hosts.has(ep)) this.hosts.set(ep, new HostState(ep));
    this.gauge.set(this.ejectedNow);
  }

  /** One finished try on `ep`. Overflow (the proxy's own limit) says nothing about the endpoint. */
  record(ep: E, r: TryResult): void {
    const s = this.hosts.get(ep);
    if (s === undefined || this.stopped) return;
    let gateway: boolean;
    if ('status' in r) {
      s.requests++;
      if (r.status < 500) {
        s.successes++;
        s.consecutive5xx = 0;
        s.consecutiveGateway = 0;
        return;
      }
      gateway = isGatewayStatus(r.status);
    } else {
      if (r.failure === 'overflow') return;
      s.requests++;
      gateway = isGatewayFailure(r.failure);
    }
    // Envoy's order: the gateway counter first, so a run of 503s is reported as gateway failures.
    if (gateway) {
      if (++s.consecutiveGateway >= this.config.consecutive_gateway_failure) {
        s.consecutiveGateway = 0;
        this.tryEject(s, 'consecutive_gateway_failure');
      }
    } else s.consecutiveGateway = 0;
    if (++s.consecutive5xx >= this.config.consecutive_5xx) {
      s.consecutive5xx = 0;
      this.tryEject(s, 'consecutive_5xx');
    }
  }

  info(ep: E): OutlierInfo | null {
    const s = this.hosts.get(ep);
    if (s === undefined) return null;
    return {
      ejected: s.ejected,
      ejectedUntil: s.ejected ? s.ejectedUntil : null,
      timesEjected: s.timesEjected,
      multiplier: s.multiplier,
      lastReason: s.lastReason,
    };
  }

  /** Cancels every timer; endpoints keep their current flags. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tickTimer !== null) this.tickTimer.cancel();
    this.tickTimer = null;
    for (const s of this.hosts.values()) {
      if (s.timer !== null) s.timer.cancel();
      s.timer = null;
    }
  }

  /** Whether one more endpoint may be ejected under max_ejection_percent. */
  private mayEject(): boolean {
    const pct = this.config.max_ejection_percent;
    if (pct <= 0) return false;
    if (this.ejectedNow === 0) return true;
    return (this.ejectedNow + 1) * 100 <= pct * this.hosts.size;
  }

  private tryEject(s: HostState<E>, reason: EjectionReason): void {
    if (s.ejected || !this.mayEject()) return;
    const now = this.deps.clock.now();
    s.multiplier++;
    s.timesEjected++;
    s.lastReason = reason;
    const c = this.config;
    const ms = Math.min(c.base_ejection_time_ms * s.multiplier, Math.max(c.max_ejection_time_ms, c.base_ejection_time_ms));
    s.ejected = true;
    s.ejectedUntil = now + ms;
    s.consecutive5xx = 0;
    s.consecutiveGateway = 0;
    this.ejectedNow++;
    this.gauge.set(this.ejectedNow);
    this.ejections[reason].inc();
    s.timer = this.deps.clock.setTimer(() => {
      s.timer = null;
      this.unejectIfDue(s, this.deps.clock.now());
    }, ms);
    this.deps.setEjected(s.ep, true, reason);
  }

  private unejectIfDue(s: HostState<E>, now: number): void {
    if (!s.ejected || now < s.ejectedUntil || this.stopped || this.hosts.get(s.ep) !== s) return;
    if (s.timer !== null) s.timer.cancel();
    s.timer = null;
    s.ejected = false;
    s.returnedAt = now;
    s.consecutive5xx = 0;
    s.consecutiveGateway = 0;
    this.ejectedNow--;
    this.gauge.set(this.ejectedNow);
    this.deps.setEjected(s.ep, false, null);
  }

  private readonly onTick = (): void => {
    this.tickTimer = null;
    if (this.stopped) return;
    this.tick();
    if (!this.stopped) this.tickTimer = this.deps.clock.setTimer(this.onTick, this.config.interval_ms);
  };

  /** One interval: returns expired ejections, decays multipliers, runs the success-rate check. */
  private tick(): void {
    const now = this.deps.clock.now();
    const c = this.config;
    const states = [...this.hosts.values()];
    for (const s of states) {
      if (s.ejected) this.unejectIfDue(s, now);
      else if (s.multiplier > 0 && now - s.returnedAt >= c.interval_ms) s.multiplier--;
    }
    const verdict = successRateOutliers(states, {
      requestVolume: c.success_rate_request_volume,
      minimumHosts: c.success_rate_minimum_hosts,
      stdevFactor: c.success_rate_stdev_factor,
    });
    for (const s of states) {
      s.requests = 0;
      s.successes = 0;
    }
    for (const i of verdict.outliers) this.tryEject(states[i], 'success_rate');
  }
}
