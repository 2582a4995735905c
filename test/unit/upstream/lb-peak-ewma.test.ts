import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decayedEstimate, ewmaStateOf, observe, parsePeakEwmaConfig, peakEwmaFactory } from '../../../src/upstream/lb/peak-ewma';
import type { CoreLbOptions } from '../../../src/upstream/lb/options';
import { ep, seeded, tally, TestClock } from './lb-helpers';

function make(list: ReturnType<typeof ep>[], clock: TestClock, config: Record<string, unknown> = {}, seed = 1) {
  const options: CoreLbOptions = { random: seeded(seed), config, clock };
  return peakEwmaFactory.create(list, options);
}

describe('peak_ewma', () => {
  it('a slower sample replaces the estimate at once; faster ones blend in with time', () => {
    const s = { ewma: 30, at: 0 };
    observe(s, 10, true, 0, 10_000);
    assert.equal(s.ewma, 10, 'the first sample replaces default_rtt');
    observe(s, 100, true, 0, 10_000);
    assert.equal(s.ewma, 100);
    observe(s, 10, true, 0, 10_000); // no time elapsed: no weight for the new sample
    assert.equal(s.ewma, 100);
    observe(s, 10, true, 10_000, 10_000); // one decay period: w = 1/e
    assert.ok(Math.abs(s.ewma - (100 / Math.E + 10 * (1 - 1 / Math.E))) < 1e-9, String(s.ewma));
    assert.equal(s.at, 10_000);
  });

  it('the estimate read decays toward zero while no sample arrives', () => {
    const s = { ewma: 80, at: 1000, sampled: true };
    assert.equal(decayedEstimate(s, 1000, 10_000), 80);
    assert.ok(Math.abs(decayedEstimate(s, 11_000, 10_000) - 80 / Math.E) < 1e-9);
  });

  it('a failure never lowers the estimate', () => {
    const s = { ewma: 50, at: 0, sampled: true };
    observe(s, 1, false, 5000, 10_000);
    assert.equal(s.ewma, 50, 'a fast failure counts as the estimate itself');
    assert.equal(s.at, 5000);
    observe(s, 500, false, 5000, 10_000);
    assert.equal(s.ewma, 500);
  });

  it('prefers the faster endpoint, and follows a change in latency', () => {
    const clock = new TestClock();
    const [a, b] = [ep(1), ep(2)];
    const lb = make([a, b], clock);
    for (let i = 0; i < 20; i++) {
      clock.t += 10;
      lb.onRequestEnd!(a, 50, true);
      lb.onRequestEnd!(b, 5, true);
    }
    let m = tally(lb, 2000);
    // a wins only when both draws are a.
    assert.ok(Math.abs((m.get(b.address) ?? 0) / 2000 - 0.75) < 0.04, `b share ${m.get(b.address)}`);
    // b turns slow: one slow sample is enough.
    lb.onRequestEnd!(b, 500, true);
    m = tally(lb, 2000);
    assert.ok(Math.abs((m.get(a.address) ?? 0) / 2000 - 0.75) < 0.04, `a share ${m.get(a.address)}`);
  });

  it('weighs load: cost = estimate × (active + 1) for equal weights', () => {
    const clock = new TestClock();
    const [a, b] = [ep(1), ep(2)];
    const lb = make([a, b], clock);
    lb.onRequestEnd!(a, 10, true);
    lb.onRequestEnd!(b, 30, true);
    a.activeRequests = 3; // 10 × 4 = 40 > 30 × 1
    let m = tally(lb, 1000);
    assert.ok((m.get(b.address) ?? 0) > 650, `b ${m.get(b.address)}`);
    a.activeRequests = 1; // 10 × 2 = 20 < 30
    m = tally(lb, 1000);
    assert.ok((m.get(a.address) ?? 0) > 650, `a ${m.get(a.address)}`);
  });

  it('divides load by relative weight', () => {
    const clock = new TestClock();
    const [a, b] = [ep(1, 3), ep(2, 1)]; // r = 1.5 and 0.5
    const lb = make([a, b], clock);
    a.activeRequests = 3; // 30 × (3/1.5 + 1) = 90
    b.activeRequests = 1; // 30 × (1/0.5 + 1) = 90: equal, first drawn wins: shares follow weight
    let m = tally(lb, 4000);
    assert.ok(Math.abs((m.get(a.address) ?? 0) / 4000 - 0.75) < 0.03, `a ${m.get(a.address)}`);
    b.activeRequests = 2; // b now costs more: a wins unless both draws are b (1/16)
    m = tally(lb, 4000);
    assert.ok(Math.abs((m.get(b.address) ?? 0) / 4000 - 1 / 16) < 0.02, `b ${m.get(b.address)}`);
  });

  it('a slow endpoint gets retried once its estimate has decayed', () => {
    const clock = new TestClock();
    const [a, b] = [ep(1), ep(2)];
    const lb = make([a, b], clock, { decay: '1s' });
    lb.onRequestEnd!(a, 1000, true);
    lb.onRequestEnd!(b, 20, true);
    clock.t = 2000;
    lb.onRequestEnd!(b, 20, true); // b keeps being sampled at 20ms; a decays: 1000 e^-2 = 135
    assert.ok((tally(lb, 1000).get(b.address) ?? 0) > 650);
    clock.t = 6000; // a has decayed to 1000 e^-6 = 2.5 ms
    lb.onRequestEnd!(b, 20, true); // b, sampled now, is still at 20 ms
    assert.ok((tally(lb, 1000).get(a.address) ?? 0) > 650, 'a tried again');
  });

  it('keeps estimates across rebuilds (same endpoint objects)', () => {
    const clock = new TestClock();
    const [a, b] = [ep(1), ep(2)];
    make([a, b], clock).onRequestEnd!(a, 400, true);
    assert.equal(ewmaStateOf(a)!.ewma, 400);
    const lb2 = make([a, b], clock);
    assert.ok((tally(lb2, 1000).get(b.address) ?? 0) > 650);
  });

  it('rejects bad settings', () => {
    assert.throws(() => parsePeakEwmaConfig({ decay: 'soon' }), /decay/);
    assert.throws(() => parsePeakEwmaConfig({ decay: 0 }), /decay/);
    assert.throws(() => parsePeakEwmaConfig({ default_rtt: -1 }), /default_rtt/);
    assert.deepEqual(parsePeakEwmaConfig({ decay: '5s', default_rtt: '100ms' }), { decayMs: 5000, defaultRttMs: 100 });
  });
});
