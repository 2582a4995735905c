/**
 * Success-rate outlier math (Envoy's): over the endpoints with enough requests in the last
 * interval, the mean and population standard deviation of their success rates (percent); an
 * endpoint is an outlier below mean - (stdev_factor / 1000) × stdev. Pure functions.
 * Must never: keep state, read clocks, or eject anything itself.
 */

export interface SuccessRateInput {
  readonly requests: number;
  readonly successes: number;
}

export interface SuccessRateVerdict {
  /** Whether enough endpoints qualified for a verdict at all. */
  readonly evaluated: boolean;
  readonly mean: number;
  readonly stdev: number;
  /** Success rate (percent) below which an endpoint is an outlier; NaN when not evaluated. */
  readonly threshold: number;
  /** Indexes (into the input) of the outliers, lowest success rate first. */
  readonly outliers: number[];
}

/** Mean and population standard deviation of `values`. */
export function meanAndStdev(values: readonly number[]): { mean: number; stdev: number } {
  if (values.length === 0) return { mean: NaN, stdev: NaN };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) * (v - mean);
  return { mean, stdev: Math.sqrt(sq / values.length) };
}

export function successRateOutliers(
  inputs: readonly SuccessRateInput[],
  opts: { requestVolume: number; minimumHosts: number; stdevFactor: number },
): SuccessRateVerdict {
  const idx: number[] = [];
  const rates: number[] = [];
  inputs.forEach((x, i) => {
    if (x.requests >= opts.requestVolume && x.requests > 0) {
      idx.push(i);
      rates.push((100 * x.successes) / x.requests);
    }
  });
  if (idx.length === 0 || idx.length < opts.minimumHosts) {
    return { evaluated: false, mean: NaN, stdev: NaN, threshold: NaN, outliers: [] };
  }
  const { mean, stdev } = meanAndStdev(rates);
  const threshold = mean - (opts.stdevFactor / 1000) * stdev;
  const found: Array<[number, number]> = [];
  for (let k = 0; k < idx.length; k++) if (rates[k] < threshold) found.push([idx[k], rates[k]]);
  found.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  return { evaluated: true, mean, stdev, threshold, outliers: found.map((f) => f[0]) };
}
