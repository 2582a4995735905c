/**
 * Conformance suite for load balancers: every registered balancer (the built-ins, and any
 * registered later — the suite iterates registry.loadBalancerNames()) must satisfy the same
 * properties, in every variant listed in VARIANTS (hash balancers with and without a key, slow
 * start configured, ...), and again wrapped for zone awareness. Balancer-specific extras for the
 * first three are at the end; the others have test/unit/upstream/lb-*.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint, LbContext, LoadBalancer } from '../../src/api/lb';
import { registry } from '../../src/api/registry';
import { HeaderMap } from '../../src/api/headers';
import { registerBuiltinLoadBalancers, withZoneAwareness } from '../../src/upstream/lb';
import { seededRandom as seeded } from '../fixtures/random';

registerBuiltinLoadBalancers();

/** Deterministic PRNG (mulberry32), so every run sees the same sequence. */

interface TestEndpoint extends Endpoint {
  activeRequests: number;
  healthy: boolean;
}

function ep(port: number, weight = 1, healthy = true, zone?: string): TestEndpoint {
  return { address: `10.0.0.${port}:${8000 + port}`, host: `10.0.0.${port}`, port: 8000 + port, weight, zone, activeRequests: 0, healthy };
}

type Config = Record<string, unknown>;

function buildWith(name: string, eps: readonly Endpoint[], seed = 1, config: Config = {}): LoadBalancer {
  const f = registry.loadBalancer(name);
  assert.ok(f, `balancer ${name} is registered`);
  // Frozen: a balancer must never mutate the snapshot it is given.
  return f.create(Object.freeze(eps.slice()), { random: seeded(seed), config });
}

function build(name: string, eps: readonly Endpoint[], seed = 1): LoadBalancer {
  return buildWith(name, eps, seed, {});
}

/**
 * Configurations every property runs with, per balancer (a balancer not listed runs with {}).
 * Keyed variants hash on x-user or the source address, which CONTEXTS vary.
 */
const VARIANTS: Record<string, Array<{ label: string; config: Config; notProportional?: string }>> = {
  round_robin: [
    { label: '', config: {} },
    { label: 'slow_start', config: { slow_start: { window: '30s' } } },
  ],
  least_request: [
    { label: '', config: {} },
    { label: 'slow_start', config: { slow_start: { window: '30s', aggression: 2 } } },
  ],
  ring_hash: [
    { label: 'no key', config: {} },
    { label: 'hash_on header', config: { hash_on: { header: 'X-User' }, min_ring_size: 16384 } },
    { label: 'hash_on source_ip', config: { hash_on: { source_ip: true }, min_ring_size: 16384 } },
  ],
  maglev: [
    { label: 'no key', config: {} },
    { label: 'hash_on header', config: { hash_on: { header: 'x-user' } } },
    { label: 'hash_on key', config: { hash_on: { key: 'x-user' }, table_size: 10007 } },
  ],
  peak_ewma: [
    { label: '', config: {} },
    { label: 'decay 1s', config: { decay: '1s', default_rtt: '5ms' } },
  ],
  aperture: [
    { label: '', config: {} },
    {
      label: 'aperture 3',
      config: { aperture: 3, coordinate: 0.5 },
      notProportional: 'a window of 3 of the 4 endpoints: weights hold inside the window only (lb-aperture tests)',
    },
  ],
};

/** Varied contexts (distinct source IPs and an x-user header) so key-hashing balancers spread too. */
const CONTEXTS: LbContext[] = Array.from({ length: 20_011 }, (_, i) => ({
  headers: HeaderMap.from({ 'x-user': `user-${i}` }),
  sourceIp: `192.168.${i >> 8}.${i & 255}`,
}));

function ctxFor(i: number, exclude?: readonly Endpoint[]): LbContext {
  const c = CONTEXTS[i % CONTEXTS.length];
  return exclude === undefined ? c : { ...c, exclude };
}

function counts(lb: LoadBalancer, n: number, exclude?: readonly Endpoint[]): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const e = lb.pick(ctxFor(i, exclude));
    assert.ok(e !== null, 'pick returned null for a non-empty snapshot');
    m.set(e.address, (m.get(e.address) ?? 0) + 1);
  }
  return m;
}

/** Absolute tolerance on each endpoint's share; tighten or loosen per variant here. */
const SHARE_TOLERANCE: Record<string, number> = {};
const DEFAULT_SHARE_TOLERANCE = 0.03;

const names = registry.loadBalancerNames();

describe('load balancer registry', () => {
  it('has the built-ins', () => {
    for (const n of ['round_robin', 'least_request', 'random', 'ring_hash', 'maglev', 'peak_ewma', 'aperture']) {
      assert.ok(names.includes(n), n);
    }
  });
  it('registering the built-ins twice is harmless', () => {
    registerBuiltinLoadBalancers();
    assert.deepEqual(registry.loadBalancerNames(), names);
  });
});

for (const name of names) for (const { label, config, notProportional } of VARIANTS[name] ?? [{ label: '', config: {} }]) {
  const variant = label === '' ? name : `${name} (${label})`;
  const build = (n: string, eps: readonly Endpoint[], seed = 1) => buildWith(n, eps, seed, config);
  describe(`load balancer conformance: ${variant}`, () => {
    it('returns null for an empty snapshot', () => {
      const lb = build(name, []);
      assert.equal(lb.pick(null), null);
      assert.equal(lb.pick(ctxFor(0)), null);
      assert.equal(lb.pick(ctxFor(1, [ep(1)])), null);
    });

    it('always picks the single endpoint, whatever the context, health or exclusions', () => {
      const only = ep(1, 3);
      const lb = build(name, [only]);
      for (let i = 0; i < 200; i++) assert.equal(lb.pick(i % 2 ? null : ctxFor(i)), only);
      assert.equal(lb.pick(ctxFor(0, [only])), only, 'exclude ignored when there is no alternative');
      only.healthy = false;
      const lb2 = build(name, [only]);
      assert.equal(lb2.pick(null), only, 'an unhealthy endpoint is still picked when it is the only one');
    });

    it('distributes traffic in proportion to weights', { skip: notProportional }, () => {
      const eps = [ep(1, 1), ep(2, 2), ep(3, 3), ep(4, 4)];
      const lb = build(name, eps, 7);
      const n = 20_000;
      const m = counts(lb, n);
      const tol = SHARE_TOLERANCE[variant] ?? DEFAULT_SHARE_TOLERANCE;
      for (const e of eps) {
        const share = (m.get(e.address) ?? 0) / n;
        const want = e.weight / 10;
        assert.ok(Math.abs(share - want) <= tol, `${e.address}: share ${share.toFixed(4)}, want ${want} ± ${tol}`);
      }
    });

    it('spreads equal weights evenly', () => {
      const eps = [ep(1), ep(2), ep(3)];
      const m = counts(build(name, eps, 3), 9_000);
      for (const e of eps) {
        const share = (m.get(e.address) ?? 0) / 9_000;
        assert.ok(Math.abs(share - 1 / 3) <= DEFAULT_SHARE_TOLERANCE, `${e.address}: share ${share}`);
      }
    });

    it('honours exclude when an alternative exists', () => {
      const eps = [ep(1), ep(2, 5), ep(3)];
      const lb = build(name, eps, 11);
      for (const x of eps) {
        const m = counts(lb, 300, [x]);
        assert.equal(m.get(x.address), undefined, `picked excluded ${x.address}`);
      }
      const m = counts(lb, 300, [eps[0], eps[1]]);
      assert.deepEqual([...m.keys()], [eps[2].address]);
    });

    it('matches exclusions by address, across snapshots', () => {
      const a = ep(1);
      const b = ep(2);
      const lb = build(name, [a, b], 5);
      const staleA = { ...a }; // the same endpoint as a previous snapshot presented it
      const m = counts(lb, 200, [staleA]);
      assert.deepEqual([...m.keys()], [b.address]);
    });

    it('ignores exclude when every endpoint is excluded', () => {
      const eps = [ep(1), ep(2), ep(3)];
      const lb = build(name, eps, 13);
      const m = counts(lb, 300, eps);
      let total = 0;
      for (const v of m.values()) total += v;
      assert.equal(total, 300);
      for (const k of m.keys()) assert.ok(eps.some((e) => e.address === k));
    });

    it('never picks an unhealthy endpoint while a healthy one exists', () => {
      const eps = [ep(1, 10, false), ep(2, 1, true), ep(3, 10, false), ep(4, 1, true)];
      const lb = build(name, eps, 17);
      const m = counts(lb, 2_000);
      assert.equal(m.get(eps[0].address), undefined);
      assert.equal(m.get(eps[2].address), undefined);
      assert.ok((m.get(eps[1].address) ?? 0) > 0 && (m.get(eps[3].address) ?? 0) > 0, 'both healthy ones used');
      // Even when the healthy ones are excluded: health wins over exclusion.
      const m2 = counts(lb, 500, [eps[1], eps[3]]);
      for (const k of m2.keys()) assert.ok(k === eps[1].address || k === eps[3].address, `picked unhealthy ${k}`);
      // One healthy left outside the exclusion: only it.
      const m3 = counts(lb, 500, [eps[1]]);
      assert.deepEqual([...m3.keys()], [eps[3].address]);
    });

    it('still answers when every endpoint is unhealthy, honouring exclude', () => {
      const eps = [ep(1, 1, false), ep(2, 1, false), ep(3, 1, false)];
      const lb = build(name, eps, 19);
      const m = counts(lb, 600);
      assert.equal(m.size, 3, 'panic mode spreads over all endpoints');
      const m2 = counts(lb, 300, [eps[0]]);
      assert.equal(m2.get(eps[0].address), undefined);
    });

    it('works as endpoints come and go (new snapshots), leaving old balancers intact', () => {
      const [a, b, c, d] = [ep(1), ep(2), ep(3), ep(4)];
      const lb1 = build(name, [a, b], 23);
      assert.deepEqual(new Set(counts(lb1, 400).keys()), new Set([a.address, b.address]));
      const lb2 = build(name, [b, c, d], 23);
      assert.deepEqual(new Set(counts(lb2, 600).keys()), new Set([b.address, c.address, d.address]));
      assert.deepEqual(new Set(counts(lb1, 400).keys()), new Set([a.address, b.address]), 'old snapshot unaffected');
      const lb3 = build(name, [d], 23);
      assert.deepEqual([...counts(lb3, 50).keys()], [d.address]);
      assert.equal(build(name, [], 23).pick(null), null);
    });

    it('draws randomness only from options.random (same seed, same picks)', () => {
      const eps = [ep(1, 1), ep(2, 2), ep(3, 3)];
      const seq = (seed: number) => {
        const lb = build(name, eps, seed);
        const out: string[] = [];
        for (let i = 0; i < 200; i++) out.push(lb.pick(ctxFor(i))!.address);
        return out.join(',');
      };
      assert.equal(seq(42), seq(42));
    });

    it('accepts request feedback (onRequestEnd, when present) and keeps every property above', () => {
      const eps = [ep(1), ep(2), ep(3)];
      const lb = build(name, eps, 43);
      if (lb.onRequestEnd === undefined) return;
      for (let i = 0; i < 300; i++) {
        const e = lb.pick(ctxFor(i))!;
        lb.onRequestEnd(e, e === eps[0] ? 50 : 5, e !== eps[1]);
      }
      lb.onRequestEnd(ep(9), 1, true); // an endpoint of another snapshot: ignored or recorded, never a throw
      eps[2].healthy = false;
      const m = counts(build(name, eps, 43), 300, [eps[0]]);
      assert.deepEqual([...m.keys()], [eps[1].address]);
    });
  });
}

describe('zone-aware wrapper, around every balancer', () => {
  for (const name of names) {
    const wrapped = (eps: readonly Endpoint[], config: Config) =>
      withZoneAwareness(registry.loadBalancer(name)!, config).create(Object.freeze(eps.slice()), { random: seeded(3), config });
    const zoned = () => [ep(1, 1, true, 'a'), ep(2, 2, true, 'a'), ep(3, 1, true, 'a'), ep(4, 1, true, 'b'), ep(5, 1, true, 'b')];

    it(`${name}: keeps traffic in the local zone while it is healthy enough`, () => {
      const eps = zoned();
      const m = counts(wrapped(eps, { local_zone: 'a' }), 2_000);
      assert.deepEqual(new Set(m.keys()), new Set([eps[0].address, eps[1].address, eps[2].address]));
    });

    it(`${name}: spills over to every zone below zone_min_healthy_percent, never to an unhealthy endpoint`, () => {
      const eps = zoned();
      eps[0].healthy = false; // 2 of 3 local healthy = 66% < 70%
      const m = counts(wrapped(eps, { local_zone: 'a' }), 2_000);
      assert.equal(m.get(eps[0].address), undefined);
      assert.ok((m.get(eps[3].address) ?? 0) + (m.get(eps[4].address) ?? 0) > 0, 'remote zone used');
      const m2 = counts(wrapped(eps, { local_zone: 'a', zone_min_healthy_percent: 60 }), 1_000);
      assert.deepEqual(new Set(m2.keys()), new Set([eps[1].address, eps[2].address]), '66% >= 60%: stays local');
    });

    it(`${name}: a retry whose local alternatives are excluded goes to another zone`, () => {
      const eps = zoned();
      const m = counts(wrapped(eps, { local_zone: 'a' }), 500, [eps[0], eps[1], eps[2]]);
      assert.deepEqual(new Set(m.keys()), new Set([eps[3].address, eps[4].address]));
    });

    it(`${name}: unknown local zone or no zones: the plain balancer`, () => {
      const f = registry.loadBalancer(name)!;
      assert.equal(withZoneAwareness(f, {}), f);
      const eps = zoned();
      assert.equal(counts(wrapped(eps, { local_zone: 'c' }), 2_000).size, 5);
    });
  }

  it('rejects bad zone settings', () => {
    const f = registry.loadBalancer('round_robin')!;
    assert.throws(() => withZoneAwareness(f, { local_zone: 3 }), /local_zone/);
    assert.throws(() => withZoneAwareness(f, { local_zone: 'a', zone_min_healthy_percent: 101 }), /zone_min_healthy_percent/);
    assert.throws(() => withZoneAwareness(f, { zone_min_healthy_percent: 50 }), /needs local_zone/);
  });
});

describe('round_robin specifics', () => {
  it('picks exactly weight times per endpoint in every cycle of sum(weights) picks', () => {
    const eps = [ep(1, 5), ep(2, 1), ep(3, 3), ep(4, 1)];
    for (const seed of [1, 2, 3, 4, 5]) {
      const lb = build('round_robin', eps, seed);
      for (let cycle = 0; cycle < 20; cycle++) {
        const m = new Map<string, number>();
        for (let i = 0; i < 10; i++) {
          const a = lb.pick(null)!.address;
          m.set(a, (m.get(a) ?? 0) + 1);
        }
        for (const e of eps) assert.equal(m.get(e.address), e.weight, `seed ${seed} cycle ${cycle} ${e.address}`);
      }
    }
  });

  it('interleaves rather than bursting (smooth): weights 5,1,1 never run an endpoint more than twice in a cycle', () => {
    const eps = [ep(1, 5), ep(2, 1), ep(3, 1)];
    const lb = build('round_robin', eps, 1);
    const seq = Array.from({ length: 7 }, () => lb.pick(null)!.address);
    let run = 1;
    let maxRun = 1;
    for (let i = 1; i < seq.length; i++) {
      run = seq[i] === seq[i - 1] ? run + 1 : 1;
      maxRun = Math.max(maxRun, run);
    }
    assert.ok(maxRun <= 2, `sequence ${seq.join(' ')}`);
  });

  it('visits every equal-weight endpoint once per round, in a fixed order', () => {
    const eps = [ep(1), ep(2), ep(3), ep(4)];
    const lb = build('round_robin', eps, 9);
    const first = Array.from({ length: 4 }, () => lb.pick(null)!.address);
    assert.equal(new Set(first).size, 4);
    for (let r = 0; r < 10; r++) {
      assert.deepEqual(Array.from({ length: 4 }, () => lb.pick(null)!.address), first);
    }
  });

  it('keeps proportions among the remaining endpoints when one is unhealthy', () => {
    const eps = [ep(1, 2), ep(2, 1, false), ep(3, 3)];
    const lb = build('round_robin', eps, 1);
    const m = counts(lb, 500);
    assert.equal(m.get(eps[0].address), 200);
    assert.equal(m.get(eps[2].address), 300);
  });
});

describe('least_request specifics', () => {
  it('prefers the less-loaded endpoint (power of two choices)', () => {
    const [a, b] = [ep(1), ep(2)];
    a.activeRequests = 10;
    const lb = build('least_request', [a, b], 29);
    const m = counts(lb, 4_000);
    // b loses only when both draws are a: p = 1/4.
    const share = (m.get(b.address) ?? 0) / 4_000;
    assert.ok(Math.abs(share - 0.75) < 0.03, `share of idle endpoint ${share}`);
  });

  it('reads activeRequests live, without a rebuild', () => {
    const eps = [ep(1), ep(2), ep(3)];
    const lb = build('least_request', eps, 31);
    eps[0].activeRequests = 5;
    eps[1].activeRequests = 5;
    const m1 = counts(lb, 3_000);
    assert.ok((m1.get(eps[2].address) ?? 0) / 3_000 > 0.5, 'idle endpoint preferred');
    eps[2].activeRequests = 50;
    eps[0].activeRequests = 0;
    const m2 = counts(lb, 3_000);
    assert.ok((m2.get(eps[0].address) ?? 0) / 3_000 > 0.5, 'newly idle endpoint preferred');
    assert.ok((m2.get(eps[2].address) ?? 0) / 3_000 < 0.15, 'busy endpoint avoided');
  });

  it('compares active/weight when weights differ', () => {
    // a: 3 active / weight 4 = 0.75; b: 1 active / weight 1 = 1. a wins every comparison with b.
    const a = ep(1, 4);
    const b = ep(2, 1);
    a.activeRequests = 3;
    b.activeRequests = 1;
    const lb = build('least_request', [a, b], 37);
    const m = counts(lb, 5_000);
    // b is picked only when both draws are b: (1/5)^2 = 0.04.
    const shareB = (m.get(b.address) ?? 0) / 5_000;
    assert.ok(Math.abs(shareB - 0.04) < 0.015, `share of b ${shareB}`);
  });

  it('tracks a load that the caller keeps up to date', () => {
    const eps = [ep(1), ep(2), ep(3), ep(4)];
    const lb = build('least_request', eps, 41);
    // Every pick starts a request that never finishes: P2C keeps the spread tight.
    for (let i = 0; i < 4_000; i++) (lb.pick(null) as TestEndpoint).activeRequests++;
    const loads = eps.map((e) => e.activeRequests);
    assert.ok(Math.max(...loads) - Math.min(...loads) <= 10, `loads ${loads.join(',')}`);
  });

  it('rejects a bad choice_count', () => {
    const f = registry.loadBalancer('least_request')!;
    assert.throws(() => f.create([ep(1)], { random: seeded(1), config: { choice_count: 1 } }), /choice_count/);
    assert.throws(() => f.create([ep(1)], { random: seeded(1), config: { choice_count: 'two' } }), /choice_count/);
    const lb = f.create([ep(1), ep(2)], { random: seeded(1), config: { choice_count: 3 } });
    assert.ok(lb.pick(null) !== null);
  });
});

describe('random specifics', () => {
  it('uses one draw per pick on the common path', () => {
    let draws = 0;
    const r = seeded(3);
    const lb = registry.loadBalancer('random')!.create([ep(1), ep(2), ep(3)], { random: () => (draws++, r()) });
    for (let i = 0; i < 100; i++) lb.pick(null);
    assert.equal(draws, 100);
  });
});
