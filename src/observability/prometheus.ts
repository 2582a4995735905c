/**
 * Renders StatsRegistries as Prometheus text exposition (format 0.0.4) and as JSON, built only
 * when scraped. Several registries (one per worker or subsystem) are merged: series with the same
 * name and label set are summed. Process metrics (process-metrics.ts) are appended by default.
 * Must never: be called on the request path.
 */
import { Counter, Gauge, Histogram, type Labels, type MetricFamily, type StatsRegistry } from './stats';
import { collectProcessMetrics } from './process-metrics';

export interface ScalarSeries {
  readonly labels: Labels;
  value: number;
}

export interface HistogramSeries {
  readonly labels: Labels;
  /** Finite upper bounds, ascending. */
  bounds: number[];
  /** cumulative[i] = observations <= bounds[i]. The +Inf bucket is `count`. */
  cumulative: number[];
  sum: number;
  count: number;
}

export interface MergedFamily {
  readonly name: string;
  readonly type: MetricFamily['type'];
  help: string;
  /** Keyed by the registry's label key (sorted label names and values). */
  readonly series: Map<string, ScalarSeries | HistogramSeries>;
}

export interface RenderOptions {
  /** Append this process's metrics (memory, CPU, start time, event-loop lag). Default true. */
  processMetrics?: boolean;
}

/** Cumulative count at `x` of a histogram with the given bounds: the largest bound <= x. */
function cumulativeAt(bounds: readonly number[], cumulative: readonly number[], x: number): number {
  let v = 0;
  for (let i = 0; i < bounds.length && bounds[i] <= x; i++) v = cumulative[i];
  return v;
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function addHistogram(target: HistogramSeries, h: Histogram): void {
  // The registry stores per-bucket counts; derive cumulative ones.
  const cum: number[] = new Array(h.bounds.length);
  let run = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    run += h.counts[i];
    cum[i] = run;
  }
  if (sameBounds(target.bounds, h.bounds)) {
    for (let i = 0; i < cum.length; i++) target.cumulative[i] += cum[i];
  } else {
    // Different bucket layouts for one series (should not happen: one code path creates a
    // metric). Use the union of bounds; at a bound a histogram lacks, its count is taken at its
    // nearest lower bound, so merged buckets stay cumulative and never overstate.
    const union = [...new Set([...target.bounds, ...h.bounds])].sort((x, y) => x - y);
    const merged = union.map(
      (b) => cumulativeAt(target.bounds, target.cumulative, b) + cumulativeAt(h.bounds, cum, b),
    );
    target.bounds = union;
    target.cumulative = merged;
  }
  target.sum += h.sum;
  target.count += h.count;
}

/**
 * Merges registries into families in first-seen order. A family whose type differs from the
 * first registry that declared that name is skipped in the later registry.
 */
export function mergeRegistries(registries: readonly StatsRegistry[]): MergedFamily[] {
  const out = new Map<string, MergedFamily>();
  for (const reg of registries) {
    for (const fam of reg.families.values()) {
      let m = out.get(fam.name);
      if (m === undefined) {
        m = { name: fam.name, type: fam.type, help: fam.help, series: new Map() };
        out.set(fam.name, m);
      } else if (m.type !== fam.type) {
        continue;
      } else if (m.help === '' && fam.help !== '') {
        m.help = fam.help;
      }
      for (const [key, metric] of fam.metrics) {
        const s = m.series.get(key);
        if (metric instanceof Histogram) {
          if (s === undefined) {
            const hs: HistogramSeries = {
              labels: metric.labels,
              bounds: [...metric.bounds],
              cumulative: new Array<number>(metric.bounds.length).fill(0),
              sum: 0,
              count: 0,
            };
            addHistogram(hs, metric);
            m.series.set(key, hs);
          } else {
            addHistogram(s as HistogramSeries, metric);
          }
        } else if (metric instanceof Counter || metric instanceof Gauge) {
          if (s === undefined) m.series.set(key, { labels: metric.labels, value: metric.value });
          else (s as ScalarSeries).value += metric.value;
        }
      }
    }
  }
  return [...out.values()];
}

function withProcess(registries: readonly StatsRegistry[], opts: RenderOptions | undefined): readonly StatsRegistry[] {
  return opts?.processMetrics === false ? registries : [...registries, collectProcessMetrics()];
}

// ---------------------------------------------------------------------------------------------
// Prometheus text

const NAME_BAD = /[^a-zA-Z0-9_:]/g;
const LABEL_BAD = /[^a-zA-Z0-9_]/g;

/** Metric name per the data model: [a-zA-Z_:][a-zA-Z0-9_:]*; other characters become `_`. */
export function sanitizeMetricName(name: string): string {
  const s = name.replace(NAME_BAD, '_');
  return s === '' || (s.charCodeAt(0) >= 48 && s.charCodeAt(0) <= 57) ? `_${s}` : s;
}

/** Label name per the data model: [a-zA-Z_][a-zA-Z0-9_]*; other characters become `_`. */
export function sanitizeLabelName(name: string): string {
  const s = name.replace(LABEL_BAD, '_');
  return s === '' || (s.charCodeAt(0) >= 48 && s.charCodeAt(0) <= 57) ? `_${s}` : s;
}

/** Label value escaping: backslash, double quote and line feed. */
export function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n'));
}

/** HELP text escaping: backslash and line feed. */
export function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (c) => (c === '\\' ? '\\\\' : '\\n'));
}

/** A sample value or `le` bound as Prometheus writes it (Go float syntax). */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function labelPairs(labels: Labels, skip?: string): string {
  let s = '';
  for (const k of Object.keys(labels)) {
    const name = sanitizeLabelName(k);
    if (name === skip) continue;
    s += `${s === '' ? '' : ','}${name}="${escapeLabelValue(String(labels[k]))}"`;
  }
  return s;
}

function braces(pairs: string): string {
  return pairs === '' ? '' : `{${pairs}}`;
}

/** Prometheus text exposition format 0.0.4 of the merged registries (plus process metrics). */
export function renderPrometheus(registries: readonly StatsRegistry[], opts?: RenderOptions): string {
  const families = mergeRegistries(withProcess(registries, opts));
  const lines: string[] = [];
  for (const fam of families) {
    if (fam.series.size === 0) continue;
    const name = sanitizeMetricName(fam.name);
    lines.push(`# HELP ${name} ${escapeHelp(fam.help)}`);
    lines.push(`# TYPE ${name} ${fam.type}`);
    if (fam.type === 'histogram') {
      for (const s of fam.series.values()) {
        const h = s as HistogramSeries;
        // A user label named `le` would collide with the bucket label: drop it.
        const pairs = labelPairs(h.labels, 'le');
        const sep = pairs === '' ? '' : ',';
        for (let i = 0; i < h.bounds.length; i++) {
          lines.push(`${name}_bucket{${pairs}${sep}le="${formatValue(h.bounds[i])}"} ${formatValue(h.cumulative[i])}`);
        }
        lines.push(`${name}_bucket{${pairs}${sep}le="+Inf"} ${formatValue(h.count)}`);
        lines.push(`${name}_sum${braces(pairs)} ${formatValue(h.sum)}`);
        lines.push(`${name}_count${braces(pairs)} ${formatValue(h.count)}`);
      }
    } else {
      for (const s of fam.series.values()) {
        const c = s as ScalarSeries;
        lines.push(`${name}${braces(labelPairs(c.labels))} ${formatValue(c.value)}`);
      }
    }
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// JSON

export interface StatsJson {
  counters: Record<string, Array<{ labels: Labels; value: number }>>;
  gauges: Record<string, Array<{ labels: Labels; value: number }>>;
  histograms: Record<
    string,
    Array<{ labels: Labels; count: number; sum: number; buckets: Array<{ le: number | '+Inf'; count: number }> }>
  >;
}

/**
 * JSON view of the merged registries (plus process metrics). Histogram buckets are cumulative, as
 * `le` says, ending with `{ le: "+Inf", count }`.
 */
export function renderStatsJson(registries: readonly StatsRegistry[], opts?: RenderOptions): StatsJson {
  const out: StatsJson = { counters: {}, gauges: {}, histograms: {} };
  for (const fam of mergeRegistries(withProcess(registries, opts))) {
    if (fam.series.size === 0) continue;
    if (fam.type === 'histogram') {
      out.histograms[fam.name] = [...fam.series.values()].map((s) => {
        const h = s as HistogramSeries;
        const buckets: Array<{ le: number | '+Inf'; count: number }> = h.bounds.map((le, i) => ({
          le,
          count: h.cumulative[i],
        }));
        buckets.push({ le: '+Inf', count: h.count });
        return { labels: { ...h.labels }, count: h.count, sum: h.sum, buckets };
      });
    } else {
      const target = fam.type === 'counter' ? out.counters : out.gauges;
      target[fam.name] = [...fam.series.values()].map((s) => ({
        labels: { ...s.labels },
        value: (s as ScalarSeries).value,
      }));
    }
  }
  return out;
}
