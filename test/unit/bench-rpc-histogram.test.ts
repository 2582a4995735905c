/**
 * Unit tests for the rpc load generator's latency histogram (bench/load/rpc-histogram.ts):
 * bucket boundaries are contiguous and bounded in relative error, percentiles land on the right
 * values for known distributions.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyHistogram, bucketHigh, bucketLow, bucketOf } from '../../bench/load/rpc-histogram';

test('buckets: exact below 256 µs, contiguous, < 0.8 % wide above', () => {
  for (let v = 0; v < 256; v++) assert.equal(bucketOf(v), v);
  let prev = bucketOf(255);
  for (let v = 256; v < 2_000_000; v += v < 70_000 ? 1 : 97) {
    const i = bucketOf(v);
    assert.ok(i === prev || i === prev + 1 || v > 70_000, `bucket jumped at ${v}`);
    assert.ok(bucketLow(i) <= v && v <= bucketHigh(i), `${v} outside bucket ${i} [${bucketLow(i)}, ${bucketHigh(i)}]`);
    assert.ok((bucketHigh(i) - bucketLow(i) + 1) / bucketLow(i) <= 1 / 128, `bucket ${i} too wide`);
    prev = i;
  }
  for (const e of [8, 9, 20, 29, 31, 39]) {
    for (const v of [2 ** e - 1, 2 ** e, 2 ** e + 1]) {
      const i = bucketOf(v);
      assert.ok(bucketLow(i) <= v && v <= bucketHigh(i), `power-of-two edge ${v}`);
    }
  }
});

test('percentiles of a uniform 1..1000 µs distribution', () => {
  const h = new LatencyHistogram();
  for (let us = 1; us <= 1000; us++) h.recordMs(us / 1000);
  assert.equal(h.count, 1000);
  assert.ok(Math.abs(h.percentileMs(50) - 0.5) / 0.5 < 0.01, `p50 ${h.percentileMs(50)}`);
  assert.ok(Math.abs(h.percentileMs(99) - 0.99) / 0.99 < 0.01, `p99 ${h.percentileMs(99)}`);
  assert.equal(h.percentileMs(0), 0.001);
  assert.ok(Math.abs(h.meanMs() - 0.5005) < 1e-9);
  assert.equal(h.maxMs(), 1);
  assert.ok(h.percentileMs(100) <= 1);
});

test('a slow tail shows in p99 but not p50; empty histogram gives NaN', () => {
  const h = new LatencyHistogram();
  for (let i = 0; i < 980; i++) h.recordMs(0.1);
  for (let i = 0; i < 20; i++) h.recordMs(50);
  assert.equal(h.percentileMs(50), 0.1);
  assert.ok(Math.abs(h.percentileMs(99) - 50) / 50 < 0.01, `p99 ${h.percentileMs(99)}`);
  assert.ok(Number.isNaN(new LatencyHistogram().percentileMs(50)));
  const neg = new LatencyHistogram();
  neg.recordMs(-1);
  assert.equal(neg.percentileMs(50), 0);
});
