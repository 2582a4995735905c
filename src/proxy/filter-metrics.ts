/**
 * Filter metrics: the FilterMetrics a filter factory gets, backed by the process StatsRegistry,
 * names prefixed `switchyard_` and labelled with the listener. Must never: let a filter redefine
 * a core metric with another type (the registry refuses it).
 */
import type { FilterMetric, FilterMetrics } from '../api';
import type { Counter, Gauge, Histogram, StatsRegistry } from '../observability/stats';

function prefixed(name: string): string {
  return name.startsWith('switchyard_') ? name : `switchyard_${name}`;
}

class CounterMetric implements FilterMetric {
  constructor(private readonly c: Counter) {}
  get value(): number {
    return this.c.value;
  }
  inc(n = 1): void {
    this.c.inc(n);
  }
  set(v: number): void {
    this.c.value = v;
  }
  observe(v: number): void {
    this.c.inc(v);
  }
}

class GaugeMetric implements FilterMetric {
  constructor(private readonly g: Gauge) {}
  get value(): number {
    return this.g.value;
  }
  inc(n = 1): void {
    this.g.inc(n);
  }
  set(v: number): void {
    this.g.set(v);
  }
  observe(v: number): void {
    this.g.set(v);
  }
}

class HistogramMetric implements FilterMetric {
  constructor(private readonly h: Histogram) {}
  get value(): number {
    return this.h.count;
  }
  inc(): void {
    this.h.observe(1);
  }
  set(v: number): void {
    this.h.observe(v);
  }
  observe(v: number): void {
    this.h.observe(v);
  }
}

export function filterMetrics(stats: StatsRegistry, listener: string): FilterMetrics {
  const withListener = (labels?: Readonly<Record<string, string>>) => ({ listener, ...labels });
  return {
    counter: (name, help, labels) => new CounterMetric(stats.counter(prefixed(name), help, withListener(labels))),
    gauge: (name, help, labels) => new GaugeMetric(stats.gauge(prefixed(name), help, withListener(labels))),
    histogram: (name, help, labels) => new HistogramMetric(stats.histogram(prefixed(name), help, withListener(labels))),
  };
}
