import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSlowStart, slowStartFactor } from '../../../src/upstream/lb/slow-start';
import { leastRequestFactory, roundRobinFactory } from '../../../src/upstream/lb';
import type { CoreLbOptions } from '../../../src/upstream/lb/options';
import { ep, seeded, tally, TestClock } from './lb-helpers';

describe('slow start', () => {
  it('scales by (age / window) ^ (1 / aggression), floored at min_weight_percent', () => {
    const cfg = parseSlowStart('x', { window: '10s' })!;
    assert.deepEqual(cfg, { windowMs: 10_000, aggression: 1, minWeightPercent: 10 });
    assert.equal(slowStartFactor(0, cfg), 0.1);
    assert.equal(slowStartFactor(5000, cfg), 0.5);
    assert.equal(slowStartFactor(10_000, cfg), 1);
    assert.equal(slowStartFactor(-5, cfg), 0.1);
    const aggressive = parseSlowStart('x', { window: 10_000, aggression: 2, min_weight_percent: 1 })!;
    assert.ok(Math.abs(slowStartFactor(2500, aggressive) - 0.5) < 1e-12);
    assert.equal(slowStartFactor(0, aggressive), 0.01);
  });

  it('rejects bad settings', () => {
    assert.equal(parseSlowStart('x', undefined), null);
    assert.throws(() => parseSlowStart('x', {}), /window is required/);
    assert.throws(() => parseSlowStart('x', { window: '0s' }), /greater than zero/);
    assert.throws(() => parseSlowStart('x', { window: '1s', aggression: 0 }), /aggression/);
    assert.throws(() => parseSlowStart('x', { window: '1s', speed: 1 }), /unknown slow_start key/);
    assert.throws(() => parseSlowStart('x', 30), /object/);
  });

  for (const factory of [roundRobinFactory, leastRequestFactory]) {
    it(`${factory.name}: a young endpoint gets a growing share; endpoints without createdAt are old`, () => {
      const clock = new TestClock();
      const old = ep(1);
      const young = { ...ep(2), createdAt: 0 };
      const options: CoreLbOptions = { random: seeded(4), clock, config: { slow_start: { window: '20s', min_weight_percent: 5 } } };
      const lb = factory.create([old, young], options);
      const shareAt = (t: number) => {
        clock.t = t;
        return (tally(lb, 2000).get(young.address) ?? 0) / 2000;
      };
      assert.ok(Math.abs(shareAt(0) - 0.05 / 1.05) < 0.02);
      assert.ok(Math.abs(shareAt(5000) - 0.25 / 1.25) < 0.03);
      assert.ok(Math.abs(shareAt(15_000) - 0.75 / 1.75) < 0.03);
      assert.ok(Math.abs(shareAt(25_000) - 0.5) < 0.03);
    });
  }
});
