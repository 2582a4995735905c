/**
 * Latency histogram for the rpc load generator: log-linear buckets over microseconds (every value
 * below 256 µs exact, above that 128 sub-buckets per power of two, i.e. under 0.8 % error), so
 * recording is an index computation and an increment, with fixed memory however long the run.
 * Pure; unit-tested in test/unit/bench-rpc-histogram.test.ts.
 * Must never: allocate per recorded value.
 */

const SUB_BITS = 7;
const SUB = 1 << SUB_BITS; // 128
const LINEAR = SUB * 2; // values below 256 µs get their own bucket
const MAX_US = 2 ** 40; // ~12.7 days; anything longer is clamped

/** Bucket index of a value in whole microseconds (≥ 0). */
export function bucketOf(us: number): number {
  if (us < LINEAR) return us;
  let e = Math.floor(Math.log2(us)) - SUB_BITS; // ≥ 1
  let m = Math.floor(us / 2 ** e); // the top 8 significant bits: [128, 256)
  // Math.log2 may round just below/above an exact power of two: correct by one step.
  if (m >= LINEAR) m = Math.floor(us / 2 ** ++e);
  else if (m < SUB) m = Math.floor(us / 2 ** --e);
  return LINEAR + (e - 1) * SUB + (m - SUB);
}

/** Smallest value (µs) that falls into bucket `i`. */
export function bucketLow(i: number): number {
  if (i < LINEAR) return i;
  const e = Math.floor((i - LINEAR) / SUB) + 1;
  const m = ((i - LINEAR) % SUB) + SUB;
  return m * 2 ** e;
}

/** Largest value (µs) that falls into bucket `i`. */
export function bucketHigh(i: number): number {
  return bucketLow(i + 1) - 1;
}

export class LatencyHistogram {
  private readonly counts: Float64Array;
  count = 0;
  private sumUs = 0;
  private maxUs = 0;

  constructor() {
    this.counts = new Float64Array(bucketOf(MAX_US) + 1);
  }

  /** Records one latency in milliseconds (fractional). */
  recordMs(ms: number): void {
    let us = Math.round(ms * 1000);
    if (!(us >= 0)) us = 0;
    if (us > MAX_US) us = MAX_US;
    this.counts[bucketOf(us)]++;
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /**
   * The value at percentile `p` (0–100) in ms: the midpoint of the bucket holding the
   * ceil(p% × count)-th smallest value (the exact value below 256 µs). NaN when empty.
   */
  percentileMs(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const lo = bucketLow(i);
        const hi = Math.min(bucketHigh(i), this.maxUs);
        return (i < LINEAR ? lo : (lo + hi) / 2) / 1000;
      }
    }
    return this.maxUs / 1000;
  }

  meanMs(): number {
    return this.count ? this.sumUs / this.count / 1000 : NaN;
  }

  maxMs(): number {
    return this.count ? this.maxUs / 1000 : NaN;
  }
}
