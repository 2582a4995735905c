/**
 * Process metrics, computed when scraped (no prom-client): memory, CPU, start time and event-loop
 * lag. The event-loop monitor (perf_hooks.monitorEventLoopDelay) is started once, on first use.
 * Each worker process measures only itself; the admin API renders whatever registries it is given.
 * Must never: run on the request path.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { StatsRegistry } from './stats';

/** Sampling interval of the event-loop monitor. Every sample it records is `resolution + lag`. */
const ELD_RESOLUTION_MS = 10;
const ELD_RESOLUTION_NS = ELD_RESOLUTION_MS * 1e6;

let eld: IntervalHistogram | null = null;
/** Last computed lag values, reported again when no sample arrived since the previous scrape. */
let lastLag = { mean: 0, p99: 0, max: 0 };

/** Starts the event-loop delay monitor (idempotent). Called by collectProcessMetrics(). */
export function startProcessMetrics(): void {
  if (eld !== null) return;
  eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eld.enable();
}

/** Stops the monitor (tests, shutdown). The next collect starts it again. */
export function stopProcessMetrics(): void {
  if (eld === null) return;
  eld.disable();
  eld = null;
  lastLag = { mean: 0, p99: 0, max: 0 };
}

function lagSeconds(ns: number): number {
  const v = (ns - ELD_RESOLUTION_NS) / 1e9;
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/** Unix time (seconds) at which this process started. */
const START_TIME_SECONDS = Math.round((Date.now() / 1000 - process.uptime()) * 1000) / 1000;

/**
 * A fresh registry holding this process's metrics right now. Event-loop lag is measured over the
 * window since the previous call (the monitor is reset on each call that saw samples).
 */
export function collectProcessMetrics(): StatsRegistry {
  startProcessMetrics();
  const r = new StatsRegistry();
  const mem = process.memoryUsage();
  r.gauge('switchyard_process_resident_memory_bytes', 'Resident memory size in bytes.').set(mem.rss);
  r.gauge('switchyard_process_heap_used_bytes', 'V8 heap used in bytes.').set(mem.heapUsed);
  const cpu = process.cpuUsage();
  r.counter('switchyard_process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.').value =
    (cpu.user + cpu.system) / 1e6;
  r.gauge('switchyard_process_start_time_seconds', 'Start time of the process since unix epoch in seconds.').set(
    START_TIME_SECONDS,
  );
  const h = eld!;
  if (h.count > 0) {
    lastLag = { mean: lagSeconds(h.mean), p99: lagSeconds(h.percentile(99)), max: lagSeconds(h.max) };
    h.reset();
  }
  r.gauge('switchyard_event_loop_lag_seconds', 'Mean event loop lag in seconds since the previous scrape.').set(
    lastLag.mean,
  );
  r.gauge('switchyard_event_loop_lag_p99_seconds', '99th percentile event loop lag in seconds since the previous scrape.').set(
    lastLag.p99,
  );
  r.gauge('switchyard_event_loop_lag_max_seconds', 'Maximum event loop lag in seconds since the previous scrape.').set(
    lastLag.max,
  );
  return r;
}
