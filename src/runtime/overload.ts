/**
 * Overload monitor: samples the V8 heap and the event-loop delay every interval and raises a
 * flag while either is over its threshold; the engine sheds new requests with a local reply
 * (503 / UNAVAILABLE / the RPC's busy status, reason `overload`) while it is up, instead of
 * falling over. Must never: sample on the request path (the flag is a plain field read).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../api';
import type { OverloadConfig } from '../config/types';
import type { Gauge, StatsRegistry } from '../observability/stats';

export interface LoadSample {
  heapUsedBytes: number;
  /** Mean event-loop delay over the last window, ms. */
  loopLagMs: number;
}

export type LoadSampler = () => LoadSample;

/** The process's own numbers: heap in use and the event-loop delay since the last sample. */
export function processSampler(): LoadSampler {
  let h: IntervalHistogram | null = null;
  return () => {
    if (h === null) {
      h = monitorEventLoopDelay({ resolution: 10 });
      h.enable();
    }
    // The histogram's floor is its resolution: subtract it so an idle loop reads ~0.
    const lag = Number.isNaN(h.mean) ? 0 : Math.max(0, h.mean / 1e6 - 10);
    h.reset();
    return { heapUsedBytes: process.memoryUsage().heapUsed, loopLagMs: lag };
  };
}

export class OverloadMonitor {
  /** Read by the engine for every new stream. */
  overloaded = false;
  private timer: TimerHandle | null = null;
  private readonly active: Gauge;
  private readonly heap: Gauge;

  constructor(
    private config: OverloadConfig,
    private readonly clock: Clock,
    stats: StatsRegistry,
    private readonly sampler: LoadSampler = processSampler(),
  ) {
    this.active = stats.gauge('switchyard_overload_active', '1 while new requests are being shed for overload.');
    this.heap = stats.gauge('switchyard_overload_heap_used_bytes', 'V8 heap in use at the last overload sample.');
  }

  setConfig(config: OverloadConfig): void {
    this.config = config;
  }

  start(): void {
    if (this.timer !== null) return;
    const tick = () => {
      this.sample();
      this.timer = this.clock.setTimer(tick, this.config.sample_interval_ms);
    };
    this.timer = this.clock.setTimer(tick, this.config.sample_interval_ms);
  }

  stop(): void {
    if (this.timer !== null) this.timer.cancel();
    this.timer = null;
    this.overloaded = false;
    this.active.set(0);
  }

  sample(): void {
    const s = this.sampler();
    const c = this.config;
    this.heap.set(s.heapUsedBytes);
    this.overloaded =
      (c.max_heap_bytes > 0 && s.heapUsedBytes > c.max_heap_bytes) ||
      (c.max_event_loop_lag_ms > 0 && s.loopLagMs > c.max_event_loop_lag_ms);
    this.active.set(this.overloaded ? 1 : 0);
  }
}
