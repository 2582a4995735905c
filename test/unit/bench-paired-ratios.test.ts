/**
 * bench/lib/report.ts pairedRatios: per-round ratios of a target to the reference, pairing runs of
 * the same round and skipping rounds where either run failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedRatios } from '../../bench/lib/report';
import type { RunRecord, TargetResult } from '../../bench/lib/rounds';

function run(round: number, rps: number | null): RunRecord {
  if (rps === null) return { round, ok: false, error: 'failed' };
  return { round, ok: true, measurement: { rps, p50Ms: 1, p99Ms: 2, errors: 0, detail: null, raw: '' } };
}

const target = (name: string, rps: Array<number | null>): TargetResult => ({ name, version: 'v', runs: rps.map((r, i) => run(i + 1, r)) });

test('pairs runs by round and reports min, median and max', () => {
  const results = [target('none', [100, 200, 50]), target('f', [90, 190, 50])];
  const p = pairedRatios(results, 'f', 'none');
  assert.ok(p !== null);
  assert.equal(p.n, 3);
  assert.equal(p.min, 0.9);
  assert.equal(p.median, 0.95);
  assert.equal(p.max, 1);
});

test('a round where either run failed is left out; no common round gives null', () => {
  const results = [target('none', [100, null, 100]), target('f', [80, 90, null])];
  const p = pairedRatios(results, 'f', 'none');
  assert.deepEqual(p, { min: 0.8, median: 0.8, max: 0.8, n: 1 });
  assert.equal(pairedRatios([target('none', [null]), target('f', [1])], 'f', 'none'), null);
  assert.equal(pairedRatios(results, 'missing', 'none'), null);
});
