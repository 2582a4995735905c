/** Success-rate outlier math: mean, population stdev, threshold, qualification, ordering. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { meanAndStdev, successRateOutliers, statusResult, failureResult } from '../../src/upstream/outlier';

describe('success-rate math', () => {
  it('mean and population standard deviation', () => {
    const { mean, stdev } = meanAndStdev([2, 4, 4, 4, 5, 5, 7, 9]);
    assert.equal(mean, 5);
    assert.equal(stdev, 2);
    assert.ok(Number.isNaN(meanAndStdev([]).mean));
  });

  it('threshold = mean - factor/1000 × stdev; outliers below it, worst first', () => {
    const inputs = [
      { requests: 100, successes: 100 },
      { requests: 100, successes: 100 },
      { requests: 100, successes: 100 },
      { requests: 100, successes: 40 },
      { requests: 100, successes: 100 },
      { requests: 100, successes: 20 },
    ];
    const v = successRateOutliers(inputs, { requestVolume: 100, minimumHosts: 5, stdevFactor: 1000 });
    assert.equal(v.evaluated, true);
    const rates = [100, 100, 100, 40, 100, 20];
    const mean = rates.reduce((a, b) => a + b) / 6;
    const sd = Math.sqrt(rates.reduce((a, r) => a + (r - mean) ** 2, 0) / 6);
    assert.ok(Math.abs(v.mean - mean) < 1e-9);
    assert.ok(Math.abs(v.stdev - sd) < 1e-9);
    assert.ok(Math.abs(v.threshold - (mean - sd)) < 1e-9);
    assert.deepEqual(v.outliers, [5, 3]);
    // A larger factor lowers the threshold below 40 but not below 20.
    const strict = successRateOutliers(inputs, { requestVolume: 100, minimumHosts: 5, stdevFactor: 1400 });
    assert.ok(strict.threshold < 40 && strict.threshold > 20, String(strict.threshold));
    assert.deepEqual(strict.outliers, [5]);
  });

  it('only endpoints with the request volume qualify, and only with enough of them', () => {
    const inputs = [
      { requests: 10, successes: 10 },
      { requests: 10, successes: 10 },
      { requests: 9, successes: 0 },
      { requests: 10, successes: 0 },
    ];
    assert.equal(successRateOutliers(inputs, { requestVolume: 10, minimumHosts: 4, stdevFactor: 0 }).evaluated, false);
    const v = successRateOutliers(inputs, { requestVolume: 10, minimumHosts: 3, stdevFactor: 0 });
    assert.deepEqual(v.outliers, [3]);
  });

  it('equal rates produce no outliers', () => {
    const inputs = Array.from({ length: 5 }, () => ({ requests: 50, successes: 45 }));
    assert.deepEqual(successRateOutliers(inputs, { requestVolume: 1, minimumHosts: 1, stdevFactor: 1900 }).outliers, []);
  });

  it('shared result objects (no allocation per try)', () => {
    assert.equal(statusResult(503), statusResult(503));
    assert.deepEqual(statusResult(503), { status: 503 });
    assert.equal(failureResult('reset'), failureResult('reset'));
    assert.deepEqual(failureResult('timeout'), { failure: 'timeout' });
    assert.deepEqual(statusResult(1000), { status: 1000 });
  });
});
