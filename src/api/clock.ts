/**
 * Clock: the injectable source of time and timers. Every timeout, backoff, ejection and health
 * interval goes through one, so tests can drive time by hand instead of sleeping.
 * Must never: be bypassed by modules that schedule work (no bare setTimeout in timing logic).
 */
export interface TimerHandle {
  cancel(): void;
  /** Restarts the timer with its original delay (cheap keep-alive refresh). */
  refresh(): void;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Wall-clock milliseconds since the epoch. */
  wallNow(): number;
  setTimer(fn: () => void, ms: number): TimerHandle;
}

class SystemTimer implements TimerHandle {
  constructor(private readonly t: NodeJS.Timeout) {}
  cancel(): void {
    clearTimeout(this.t);
  }
  refresh(): void {
    this.t.refresh();
  }
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return new SystemTimer(t);
  },
};
