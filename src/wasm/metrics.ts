/**
 * WASM metrics: plugin-defined counters, gauges and histograms and the host's trap counter, as
 * `switchyard_wasm_<name>{plugin, listener}` through the FilterBuildEnv's metrics (the proxy's
 * registry, rendered on /stats/prometheus). Resolved once per definition; values survive
 * instance restarts because the registry keys them by name and labels.
 * Must never: render text or allocate on increment.
 */
import type { FilterMetric, FilterMetrics } from '../api';
import { MetricType } from './abi';

export interface WasmMetric {
  readonly type: MetricType;
  readonly m: FilterMetric;
}

/** Prometheus-safe metric name (without the `switchyard_` prefix the registry adds). */
export function metricName(name: string): string {
  return 'wasm_' + name.replace(/[^a-zA-Z0-9_:]/g, '_');
}

export class PluginMetrics {
  private readonly byKey = new Map<string, WasmMetric>();

  constructor(private readonly metrics: FilterMetrics, private readonly plugin: string) {}

  /** Resolves a plugin metric; null when the type is unknown or the name is taken by another type. */
  define(type: number, name: string): WasmMetric | null {
    const key = type + ':' + name;
    const hit = this.byKey.get(key);
    if (hit !== undefined) return hit;
    const full = metricName(name);
    const labels = { plugin: this.plugin };
    let m: FilterMetric;
    try {
      if (type === MetricType.Counter) m = this.metrics.counter(full, `WASM plugin counter ${name}.`, labels);
      else if (type === MetricType.Gauge) m = this.metrics.gauge(full, `WASM plugin gauge ${name}.`, labels);
      else if (type === MetricType.Histogram) m = this.metrics.histogram(full, `WASM plugin histogram ${name}.`, labels);
      else return null;
    } catch {
      return null;
    }
    const w: WasmMetric = { type, m };
    this.byKey.set(key, w);
    return w;
  }

  overruns(): FilterMetric {
    return this.metrics.counter(
      'wasm_callback_overruns_total',
      'WASM plugin callbacks that ran past callback_budget_ms (the instance was retired).',
      { plugin: this.plugin },
    );
  }

  memoryBreaches(): FilterMetric {
    return this.metrics.counter('wasm_memory_limit_total', 'WASM plugin instances retired for growing past max_memory.', { plugin: this.plugin });
  }

  traps(): FilterMetric {
    return this.metrics.counter('wasm_traps_total', 'Traps (and limit breaches) in WASM plugin callbacks.', { plugin: this.plugin });
  }
}
