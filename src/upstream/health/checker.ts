/**
 * EndpointChecker: the active health check loop of one endpoint. The first check runs at
 * start(); each check starts the next one interval (plus up to `jitter` at random) later and is
 * failed if no verdict came within `timeout` (timeout < interval, so checks never overlap).
 * State: `unchecked` until the first verdict, which decides at once (as Envoy does for a new
 * host: one success makes it healthy); then healthy → unhealthy after `unhealthy_threshold`
 * consecutive failures and unhealthy → healthy after `healthy_threshold` consecutive successes.
 * All timing goes through the injected Clock.
 * Must never: touch the balancer or endpoint flags itself (it reports through callbacks).
 */
import type { Clock, TimerHandle } from '../../api/clock';
import type { ProbeHandle, Prober, ProbeTarget } from './probe';

export type ActiveHealth = 'unchecked' | 'healthy' | 'unhealthy';

export interface CheckerTiming {
  readonly interval_ms: number;
  readonly timeout_ms: number;
  readonly jitter_ms: number;
  readonly healthy_threshold: number;
  readonly unhealthy_threshold: number;
}

export interface CheckerDeps {
  readonly clock: Clock;
  readonly random: () => number;
  readonly prober: Prober;
  readonly timing: CheckerTiming;
  /** Every verdict (for metrics). */
  onResult(ok: boolean): void;
  /** A change of state: to healthy (true) or unhealthy (false), including from unchecked. */
  onTransition(healthy: boolean): void;
}

/** The last verdict, for the admin view. */
export interface LastCheck {
  /** Wall-clock ms. */
  readonly at: number;
  readonly ok: boolean;
  readonly detail: string | null;
}

export class EndpointChecker {
  private _state: ActiveHealth = 'unchecked';
  private okRun = 0;
  private failRun = 0;
  private _last: LastCheck | null = null;
  private _checks = 0;
  private probe: ProbeHandle | null = null;
  private inFlight = false;
  private seq = 0;
  private timeoutTimer: TimerHandle | null = null;
  private nextTimer: TimerHandle | null = null;
  private stopped = false;

  constructor(readonly target: ProbeTarget, private readonly deps: CheckerDeps) {}

  get state(): ActiveHealth {
    return this._state;
  }
  get lastCheck(): LastCheck | null {
    return this._last;
  }
  /** Verdicts so far. */
  get checks(): number {
    return this._checks;
  }
  get running(): boolean {
    return !this.stopped;
  }

  /** Runs the first check now and keeps checking until stop(). */
  start(): void {
    if (this.stopped || this.nextTimer !== null || this.inFlight) return;
    this.runCheck();
  }

  /** Cancels the check in flight and every timer. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.seq++;
    this.inFlight = false;
    this.clearTimeout();
    if (this.nextTimer !== null) this.nextTimer.cancel();
    this.nextTimer = null;
    const p = this.probe;
    this.probe = null;
    if (p !== null) p.cancel();
  }

  private clearTimeout(): void {
    if (this.timeoutTimer !== null) this.timeoutTimer.cancel();
    this.timeoutTimer = null;
  }

  private readonly runCheck = (): void => {
    this.nextTimer = null;
    if (this.stopped) return;
    const { clock, timing, random } = this.deps;
    const jitter = timing.jitter_ms > 0 ? random() * timing.jitter_ms : 0;
    this.nextTimer = clock.setTimer(this.runCheck, timing.interval_ms + jitter);
    if (this.inFlight) return; // cannot happen while timeout < interval; never overlap checks
    const token = ++this.seq;
    this.inFlight = true;
    this.timeoutTimer = clock.setTimer(() => {
      this.timeoutTimer = null;
      if (token !== this.seq || !this.inFlight) return;
      const p = this.probe;
      this.probe = null;
      if (p !== null) p.cancel();
      this.verdict(token, false, 'timeout');
    }, timing.timeout_ms);
    let handle: ProbeHandle;
    try {
      handle = this.deps.prober.start(this.target, (ok, detail) => this.verdict(token, ok, detail ?? null));
    } catch (err) {
      this.verdict(token, false, `probe failed to start: ${(err as Error).message}`);
      return;
    }
    if (token === this.seq && this.inFlight) this.probe = handle;
  };

  private verdict(token: number, ok: boolean, detail: string | null): void {
    if (token !== this.seq || !this.inFlight || this.stopped) return;
    this.inFlight = false;
    this.probe = null;
    this.clearTimeout();
    this._checks++;
    this._last = { at: this.deps.clock.wallNow(), ok, detail: ok ? null : detail };
    this.deps.onResult(ok);
    const t = this.deps.timing;
    let to: ActiveHealth | null = null;
    if (ok) {
      this.failRun = 0;
      this.okRun++;
      if (this._state === 'unchecked' || (this._state === 'unhealthy' && this.okRun >= t.healthy_threshold)) to = 'healthy';
    } else {
      this.okRun = 0;
      this.failRun++;
      if (this._state === 'unchecked' || (this._state === 'healthy' && this.failRun >= t.unhealthy_threshold)) to = 'unhealthy';
    }
    if (to === null) return;
    this._state = to;
    this.okRun = 0;
    this.failRun = 0;
    this.deps.onTransition(to === 'healthy');
  }
}
