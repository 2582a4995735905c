/**
 * The clocks of one downstream HTTP/2 connection, on the injected Clock: the first stream must
 * open within the header timeout, a connection without streams closes after the idle timeout, a
 * stream with no frames either way for the stream idle timeout is reset (one sweep timer per
 * connection, streams stamp an epoch on activity), and a closing connection whose peer never
 * answers is destroyed after a grace period.
 * Must never: read the clock on the per-frame path, or keep a timer once stop() was called.
 */
import type { ServeContext } from '../../../api/codec';
import type { TimerHandle } from '../../../api/clock';
import type { NativeH2Stream } from './stream';

/** How long a closing connection may linger before it is destroyed. */
const GRACE_MS = 2000;

export interface TimerHooks {
  /** The connection idled out; `firstStreamMissing` when it never opened a stream in time. */
  expire(firstStreamMissing: boolean): void;
  destroy(): void;
  /** Advances the connection's stream-idle epoch; returns the new value. */
  bumpEpoch(): number;
}

export class ConnectionTimers {
  private timer: TimerHandle | null = null;
  private sweepTimer: TimerHandle | null = null;
  private graceTimer: TimerHandle | null = null;
  private everStream = false;
  private idleSince: number;
  private readonly start: number;
  private readonly sweepMs: number;
  private stopped = false;
  private readonly onTimerFn = (): void => this.onTimer();
  private readonly onSweepFn = (): void => this.sweep();

  constructor(
    private readonly ctx: ServeContext,
    streamIdleTimeoutMs: number,
    private readonly streams: { readonly size: number; values(): NativeH2Stream[] },
    private readonly hooks: TimerHooks,
  ) {
    this.start = this.idleSince = ctx.clock.now();
    // A stream is idle after 3..4 sweeps without activity: sweeping every third of the timeout
    // resets it between 1 and 4/3 of the timeout.
    this.sweepMs = streamIdleTimeoutMs > 0 ? Math.max(1, Math.floor(streamIdleTimeoutMs / 3)) : 0;
  }

  /** No stream is open (at start, or the last one closed). */
  idle(initial: boolean): void {
    if (this.stopped) return;
    if (!initial) this.idleSince = this.ctx.clock.now();
    this.cancelSweep();
    this.schedule();
  }

  streamOpened(): void {
    this.everStream = true;
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    if (this.sweepMs > 0 && this.sweepTimer === null && !this.stopped) this.sweepTimer = this.ctx.clock.setTimer(this.onSweepFn, this.sweepMs);
  }

  destroyAfterGrace(): void {
    if (this.graceTimer !== null || this.stopped) return;
    this.graceTimer = this.ctx.clock.setTimer(() => this.hooks.destroy(), GRACE_MS);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.timer.cancel();
    if (this.graceTimer !== null) this.graceTimer.cancel();
    this.timer = this.graceTimer = null;
    this.cancelSweep();
  }

  private schedule(): void {
    if (this.timer !== null || this.streams.size > 0) return;
    const d = this.deadline();
    if (d !== Infinity) this.timer = this.ctx.clock.setTimer(this.onTimerFn, Math.max(1, d - this.ctx.clock.now()));
  }

  private deadline(): number {
    const lim = this.ctx.limits;
    let d = Infinity;
    if (!this.everStream && lim.headerTimeoutMs > 0) d = this.start + lim.headerTimeoutMs;
    if (lim.idleTimeoutMs > 0) d = Math.min(d, this.idleSince + lim.idleTimeoutMs);
    return d;
  }

  private onTimer(): void {
    this.timer = null;
    if (this.stopped || this.streams.size > 0) return;
    if (this.deadline() > this.ctx.clock.now()) {
      this.schedule();
      return;
    }
    this.hooks.expire(!this.everStream);
  }

  /** Resets streams with no activity for the stream idle timeout. */
  private sweep(): void {
    this.sweepTimer = null;
    if (this.stopped || this.streams.size === 0) return;
    const e = this.hooks.bumpEpoch();
    for (const s of this.streams.values()) if (e - s.activeEpoch >= 4) s.idleTimeout();
    if (this.streams.size > 0 && !this.stopped) this.sweepTimer = this.ctx.clock.setTimer(this.onSweepFn, this.sweepMs);
  }

  private cancelSweep(): void {
    if (this.sweepTimer !== null) {
      this.sweepTimer.cancel();
      this.sweepTimer = null;
    }
  }
}
