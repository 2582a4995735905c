/**
 * Stats: plain in-memory counters, gauges and fixed-bucket histograms, keyed by metric name and
 * label set. Callers resolve a metric once (at config or connection time) and keep the object:
 * the hot path is a field increment. Rendering (Prometheus text, JSON) lives elsewhere and runs
 * only when scraped. Must never: format text or allocate on inc()/observe().
 */

export type Labels = Readonly<Record<string, string>>;

export class Counter {
  value = 0;
  constructor(readonly name: string, readonly labels: Labels) {}
  inc(n = 1): void {
    this.value += n;
  }
}

export class Gauge {
  value = 0;
  constructor(readonly name: string, readonly labels: Labels) {}
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
  set(v: number): void {
    this.value = v;
  }
}

/** Seconds; Prometheus-style cumulative buckets are derived when rendering. */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

export class Histogram {
  /** counts[i] = observations <= bounds[i] and > bounds[i-1]; last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly name: string, readonly labels: Labels, readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}

export type Metric = Counter | Gauge | Histogram;

export interface MetricFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  metrics: Map<string, Metric>;
}

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let s = '';
  for (const k of keys) s += `${k}=${labels[k]}\u0000`;
  return s;
}

export class StatsRegistry {
  readonly families = new Map<string, MetricFamily>();

  private family(name: string, type: MetricFamily['type'], help: string): MetricFamily {
    let f = this.families.get(name);
    if (f === undefined) {
      f = { name, type, help, metrics: new Map() };
      this.families.set(name, f);
    } else if (f.type !== type) {
      throw new Error(`metric ${name} is a ${f.type}, not a ${type}`);
    }
    return f;
  }

  counter(name: string, help: string, labels: Labels = {}): Counter {
    const f = this.family(name, 'counter', help);
    const k = labelKey(labels);
    let m = f.metrics.get(k) as Counter | undefined;
    if (m === undefined) {
      m = new Counter(name, { ...labels });
      f.metrics.set(k, m);
    }
    return m;
  }

  gauge(name: string, help: string, labels: Labels = {}): Gauge {
    const f = this.family(name, 'gauge', help);
    const k = labelKey(labels);
    let m = f.metrics.get(k) as Gauge | undefined;
    if (m === undefined) {
      m = new Gauge(name, { ...labels });
      f.metrics.set(k, m);
    }
    return m;
  }

  histogram(name: string, help: string, labels: Labels = {}, bounds = DEFAULT_LATENCY_BUCKETS): Histogram {
    const f = this.family(name, 'histogram', help);
    const k = labelKey(labels);
    let m = f.metrics.get(k) as Histogram | undefined;
    if (m === undefined) {
      m = new Histogram(name, { ...labels }, bounds);
      f.metrics.set(k, m);
    }
    return m;
  }
}
