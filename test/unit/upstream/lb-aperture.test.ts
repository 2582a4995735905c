import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apertureFactory, ApertureBalancer } from '../../../src/upstream/lb';
import { parseApertureConfig } from '../../../src/upstream/lb/aperture';
import type { LoadBalancerOptions } from '../../../src/api/lb';
import { eps, seeded, tally } from './lb-helpers';

const make = (list: ReturnType<typeof eps>, config: Record<string, unknown>, seed = 1) =>
  apertureFactory.create(list, { random: seeded(seed), config });

describe('aperture', () => {
  it('sends to a window of `aperture` consecutive endpoints of the sorted ring', () => {
    const list = eps(100);
    const lb = make(list.slice().reverse(), { aperture: 10, coordinate: 0.25 }) as ApertureBalancer;
    const m = tally(lb, 5000);
    const used = [...m.keys()].sort();
    assert.deepEqual(used, lb.ring.slice(25, 35).map((e) => e.address).sort());
    for (const v of m.values()) assert.ok(Math.abs(v / 5000 - 0.1) < 0.03);
  });

  it('wraps around the end of the ring', () => {
    const list = eps(20);
    const lb = make(list, { aperture: 4, coordinate: 0.95 }) as ApertureBalancer;
    const used = new Set(tally(lb, 2000).keys());
    assert.deepEqual(used, new Set([lb.ring[19], lb.ring[0], lb.ring[1], lb.ring[2]].map((e) => e.address)));
  });

  it('moves the window past unhealthy and excluded endpoints', () => {
    const list = eps(30);
    const lb = make(list, { aperture: 5, coordinate: 0 }) as ApertureBalancer;
    const ring = lb.ring as typeof list;
    ring[1].healthy = false;
    ring[3].healthy = false;
    let used = new Set(tally(lb, 3000).keys());
    assert.deepEqual(used, new Set([0, 2, 4, 5, 6].map((i) => ring[i].address)));
    used = new Set(tally(lb, 3000, () => ({ headers: null, sourceIp: null, exclude: [ring[0]] })).keys());
    assert.deepEqual(used, new Set([2, 4, 5, 6, 7].map((i) => ring[i].address)));
  });

  it('prefers the least loaded endpoint of the window', () => {
    const list = eps(20);
    const lb = make(list, { aperture: 2, coordinate: 0 }) as ApertureBalancer;
    (lb.ring[0] as (typeof list)[0]).activeRequests = 4;
    const m = tally(lb, 4000);
    assert.ok(Math.abs((m.get(lb.ring[1].address) ?? 0) / 4000 - 0.75) < 0.03);
  });

  it('draws one random coordinate per cluster and keeps it across rebuilds', () => {
    const list = eps(50);
    const options: LoadBalancerOptions = { random: seeded(7), config: { aperture: 5 } };
    const first = new Set(tally(apertureFactory.create(list, options), 500).keys());
    for (let i = 0; i < 5; i++) assert.deepEqual(new Set(tally(apertureFactory.create(list, options), 500).keys()), first);
    const windows = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      windows.add([...tally(make(list, { aperture: 5 }, seed), 300).keys()].sort().join());
    }
    assert.ok(windows.size >= 10, `only ${windows.size} distinct windows for 20 clusters`);
  });

  it('rejects bad settings', () => {
    assert.throws(() => parseApertureConfig({ aperture: 0 }), /aperture/);
    assert.throws(() => parseApertureConfig({ coordinate: 1 }), /coordinate/);
    assert.throws(() => parseApertureConfig({ coordinate: -0.1 }), /coordinate/);
    assert.deepEqual(parseApertureConfig({}), { aperture: 10, coordinate: null });
  });
});
