import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hash53, hashMod, xxhash64Hex } from '../../../src/upstream/lb/hash';
import { findCookie, hashKeyOf, parseHashOn } from '../../../src/upstream/lb/hash-key';
import { RingHashBalancer, parseRingHashConfig, ringReplicas, ringHashFactory } from '../../../src/upstream/lb/ring-hash';
import { buildMaglevTable, isPrime, maglevFactory, MaglevBalancer, parseMaglevConfig } from '../../../src/upstream/lb/maglev';
import type { LoadBalancerFactory } from '../../../src/api/lb';
import { HeaderMap } from '../../../src/api/headers';
import { assignments, ep, eps, keyCtx, seeded, tally } from './lb-helpers';

/** XXH64 straight from the specification, on BigInt, to check the 32-bit implementation against. */
function referenceXxh64(b: Buffer, seed = 0n): bigint {
  const M = (1n << 64n) - 1n;
  const P1 = 0x9e3779b185ebca87n, P2 = 0xc2b2ae3d27d4eb4fn, P3 = 0x165667b19e3779f9n, P4 = 0x85ebca77c2b2ae63n, P5 = 0x27d4eb2f165667c5n;
  const rotl = (x: bigint, r: number) => ((x << BigInt(r)) | (x >> BigInt(64 - r))) & M;
  const round = (a: bigint, i: bigint) => (rotl((a + i * P2) & M, 31) * P1) & M;
  const merge = (h: bigint, v: bigint) => (((h ^ round(0n, v)) * P1) & M) + P4 & M;
  let p = 0;
  let h: bigint;
  const len = b.length;
  if (len >= 32) {
    let v1 = (seed + P1 + P2) & M, v2 = (seed + P2) & M, v3 = seed, v4 = (seed - P1) & M;
    for (; p <= len - 32; p += 32) {
      v1 = round(v1, b.readBigUInt64LE(p));
      v2 = round(v2, b.readBigUInt64LE(p + 8));
      v3 = round(v3, b.readBigUInt64LE(p + 16));
      v4 = round(v4, b.readBigUInt64LE(p + 24));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) & M;
    for (const v of [v1, v2, v3, v4]) h = merge(h, v);
  } else h = (seed + P5) & M;
  h = (h + BigInt(len)) & M;
  for (; p + 8 <= len; p += 8) h = (rotl(h ^ round(0n, b.readBigUInt64LE(p)), 27) * P1 + P4) & M;
  if (p + 4 <= len) {
    h = (rotl(h ^ ((BigInt(b.readUInt32LE(p)) * P1) & M), 23) * P2 + P3) & M;
    p += 4;
  }
  for (; p < len; p++) h = (rotl(h ^ ((BigInt(b[p]) * P5) & M), 11) * P1) & M;
  h ^= h >> 33n;
  h = (h * P2) & M;
  h ^= h >> 29n;
  h = (h * P3) & M;
  return h ^ (h >> 32n);
}

const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

function moved(before: string[], after: string[]): number {
  let n = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) n++;
  return n / before.length;
}

describe('xxHash64', () => {
  it('matches the published test vectors', () => {
    assert.equal(xxhash64Hex(''), 'ef46db3751d8e999');
    assert.equal(xxhash64Hex('a'), 'd24ec4f1a98c6e5b');
    assert.equal(xxhash64Hex('abc'), '44bc2cf5ad770999');
    assert.equal(xxhash64Hex('Nobody inspects the spammish repetition'), 'fbcea83c8a378bf1');
  });

  it('matches a BigInt reference for every length up to 200, seeds and non-ASCII input', () => {
    const r = seeded(5);
    for (let len = 0; len <= 200; len++) {
      let s = '';
      for (let i = 0; i < len; i++) s += String.fromCharCode(32 + Math.floor(r() * 95));
      for (const seed of [0, 1, 0xffffffff]) {
        assert.equal(xxhash64Hex(s, seed), referenceXxh64(Buffer.from(s), BigInt(seed)).toString(16).padStart(16, '0'), `len ${len} seed ${seed}`);
      }
    }
    const u = 'ключ-κλειδί-鍵-🔑'.repeat(50); // beyond the 1 KiB scratch buffer too
    assert.equal(xxhash64Hex(u), referenceXxh64(Buffer.from(u)).toString(16).padStart(16, '0'));
  });

  it('derives 53-bit positions and exact remainders', () => {
    const h = referenceXxh64(Buffer.from('10.0.0.1:8001_0'));
    assert.equal(hash53('10.0.0.1:8001_0'), Number(h >> 11n));
    assert.equal(hashMod('10.0.0.1:8001', 65537), Number(referenceXxh64(Buffer.from('10.0.0.1:8001')) % 65537n));
  });
});

describe('hash_on', () => {
  it('parses every form and rejects bad ones', () => {
    assert.equal(parseHashOn('x', undefined), null);
    assert.deepEqual(parseHashOn('x', { header: 'X-User' }), { kind: 'header', name: 'x-user' });
    assert.deepEqual(parseHashOn('x', { key: 'service' }), { kind: 'header', name: 'service' });
    assert.deepEqual(parseHashOn('x', { cookie: 'sid' }), { kind: 'cookie', name: 'sid' });
    assert.deepEqual(parseHashOn('x', { source_ip: true }), { kind: 'source_ip' });
    assert.throws(() => parseHashOn('x', { source_ip: false }), /source_ip/);
    assert.throws(() => parseHashOn('x', { header: '' }), /header/);
    assert.throws(() => parseHashOn('x', { header: 'a', cookie: 'b' }), /exactly one/);
    assert.throws(() => parseHashOn('x', { query: 'a' }), /unknown hash_on/);
    assert.throws(() => parseHashOn('x', 'x-user'), /object/);
  });

  it('reads the key from headers, cookies, the source address or an RPC key', () => {
    const headers = HeaderMap.from({ 'x-user': 'u1', cookie: ['a=1; sid="s-9" ;b=2', 'other=3'], service: 'com.x.Greeter:1.0' });
    const ctx = { headers, sourceIp: '192.0.2.7' };
    assert.equal(hashKeyOf(parseHashOn('x', { header: 'x-user' }), ctx), 'u1');
    assert.equal(hashKeyOf(parseHashOn('x', { cookie: 'sid' }), ctx), 's-9');
    assert.equal(hashKeyOf(parseHashOn('x', { cookie: 'other' }), ctx), '3');
    assert.equal(hashKeyOf(parseHashOn('x', { cookie: 'si' }), ctx), undefined);
    assert.equal(hashKeyOf(parseHashOn('x', { source_ip: true }), ctx), '192.0.2.7');
    assert.equal(hashKeyOf(parseHashOn('x', { key: 'service' }), ctx), 'com.x.Greeter:1.0');
    assert.equal(hashKeyOf(parseHashOn('x', { header: 'x-none' }), ctx), undefined);
    assert.equal(hashKeyOf(parseHashOn('x', { header: 'x-user' }), null), undefined);
    assert.equal(hashKeyOf(parseHashOn('x', { source_ip: true }), { headers: null, sourceIp: null }), undefined);
    assert.equal(findCookie('a=1;b=', 'b'), '');
  });
});

/** Shared properties of the two consistent-hashing balancers. */
function consistentHashing(name: string, factory: LoadBalancerFactory, extra: Record<string, unknown>): void {
  const make = (list: ReturnType<typeof eps>, more: Record<string, unknown> = {}) =>
    factory.create(list, { random: seeded(1), config: { hash_on: { header: 'x-user' }, ...extra, ...more } });

  it(`${name}: the same key always reaches the same endpoint, across rebuilds and list order`, () => {
    const list = eps(10);
    const a = assignments(make(list), keys);
    assert.deepEqual(assignments(make(list), keys), a);
    assert.deepEqual(assignments(make(list.slice().reverse()), keys), a);
    assert.equal(new Set(a).size, 10);
  });

  it(`${name}: removing 1 of 10 endpoints remaps only about 1/10 of the keys`, () => {
    const list = eps(10);
    const before = assignments(make(list), keys);
    const removed = list[3].address;
    const after = assignments(make(list.filter((e) => e.address !== removed)), keys);
    const share = before.filter((a) => a === removed).length / keys.length;
    const m = moved(before, after);
    assert.ok(Math.abs(share - 0.1) < 0.03, `removed endpoint held ${share}`);
    assert.ok(m >= share && m < share + 0.03, `moved ${m}, removed endpoint held ${share}`);
    // Adding it back restores the original assignment.
    assert.deepEqual(assignments(make(list), keys), before);
  });

  it(`${name}: adding an 11th endpoint moves about 1/11 of the keys, all to it`, () => {
    const list = eps(11);
    const before = assignments(make(list.slice(0, 10)), keys);
    const after = assignments(make(list), keys);
    const m = moved(before, after);
    assert.ok(m > 0.06 && m < 0.12, `moved ${m}`);
    let elsewhere = 0;
    for (let i = 0; i < keys.length; i++) if (before[i] !== after[i] && after[i] !== list[10].address) elsewhere++;
    assert.ok(elsewhere / keys.length < 0.02, `moved between old endpoints: ${elsewhere}`);
  });

  it(`${name}: an unhealthy endpoint's keys move elsewhere, everything else stays`, () => {
    const list = eps(8);
    const lb = make(list);
    const before = assignments(lb, keys);
    list[2].healthy = false;
    const after = assignments(lb, keys);
    for (let i = 0; i < keys.length; i++) {
      if (before[i] === list[2].address) assert.notEqual(after[i], list[2].address);
      else assert.equal(after[i], before[i]);
    }
    const spread = new Set(after.filter((_, i) => before[i] === list[2].address));
    assert.ok(spread.size >= 4, `keys of the unhealthy endpoint went to ${spread.size} endpoints`);
  });

  it(`${name}: a retry (exclude) goes to a different endpoint, consistently`, () => {
    const list = eps(5);
    const lb = make(list);
    for (const k of keys.slice(0, 200)) {
      const first = lb.pick(keyCtx(k))!;
      const second = lb.pick(keyCtx(k, [first]))!;
      assert.notEqual(second.address, first.address);
      assert.equal(lb.pick(keyCtx(k, [first]))!.address, second.address);
    }
  });

  it(`${name}: traffic follows weights`, () => {
    const list = [ep(1, 1), ep(2, 3), ep(3, 6)];
    const m = tally(make(list), keys.length, (i) => keyCtx(keys[i]));
    for (const e of list) {
      const share = (m.get(e.address) ?? 0) / keys.length;
      assert.ok(Math.abs(share - e.weight / 10) < 0.03, `${e.address} ${share}`);
    }
  });

  it(`${name}: without a key, a weighted random pick`, () => {
    const list = [ep(1, 1), ep(2, 3)];
    const lb = factory.create(list, { random: seeded(2), config: { hash_on: { header: 'x-user' }, ...extra } });
    const m = tally(lb, 4000, () => ({ headers: HeaderMap.from({}), sourceIp: '192.0.2.1' }));
    assert.ok(Math.abs((m.get(list[1].address) ?? 0) / 4000 - 0.75) < 0.03);
  });
}

describe('ring_hash', () => {
  consistentHashing('ring_hash', ringHashFactory, {});

  it('sizes the ring: weight × a power of two, within min and max', () => {
    assert.deepEqual([...ringReplicas(new Float64Array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), 1024, 8e6)], Array(10).fill(128));
    assert.deepEqual([...ringReplicas(new Float64Array([1, 1, 1, 1, 1, 1, 1, 1, 1]), 1024, 8e6)], Array(9).fill(128));
    assert.deepEqual([...ringReplicas(new Float64Array([1, 3]), 1024, 8e6)], [256, 768]);
    assert.deepEqual([...ringReplicas(new Float64Array([100, 300]), 1024, 8e6)], [400, 1200]); // r = 4
    assert.deepEqual([...ringReplicas(new Float64Array([1000, 3000]), 16, 8e6)], [8, 23]); // r = 1/128
    assert.deepEqual([...ringReplicas(new Float64Array([1, 1e6]), 16, 8e6)], [1, 31]); // r = 2^-15: at least 1 point each
    assert.deepEqual([...ringReplicas(new Float64Array([1, 1]), 1024, 600)], [256, 256]); // capped by max
    const lb = new RingHashBalancer(eps(3), seeded(1), parseRingHashConfig({ min_ring_size: 64 }));
    assert.equal(lb.positions.length, 96);
    for (let i = 1; i < lb.positions.length; i++) assert.ok(lb.positions[i - 1] <= lb.positions[i]);
  });

  it('rejects bad ring sizes', () => {
    assert.throws(() => parseRingHashConfig({ min_ring_size: 0 }), /min_ring_size/);
    assert.throws(() => parseRingHashConfig({ max_ring_size: 1e9 }), /max_ring_size/);
    assert.throws(() => parseRingHashConfig({ min_ring_size: 2048, max_ring_size: 1024 }), /must not exceed/);
    assert.throws(() => parseRingHashConfig({ hash_on: { header: 1 } }), /hash_on/);
  });
});

describe('maglev', () => {
  consistentHashing('maglev', maglevFactory, {});

  it('fills a prime table with slot counts in proportion to weight', () => {
    const list = [ep(1, 1), ep(2, 2), ep(3, 7)];
    const table = buildMaglevTable(list, 10007);
    const c = [0, 0, 0];
    for (const i of table) c[i]++;
    assert.equal(c[0] + c[1] + c[2], 10007);
    assert.ok(Math.abs(c[0] - 1000.7) <= 2 && Math.abs(c[1] - 2001.4) <= 2, `slots ${c.join(',')}`);
  });

  it('uses the configured table size and rejects bad ones', () => {
    const lb = new MaglevBalancer(eps(3), seeded(1), parseMaglevConfig({ table_size: 101 }));
    assert.equal(lb.table.length, 101);
    assert.ok(isPrime(65537) && !isPrime(65536) && !isPrime(1) && isPrime(2));
    assert.throws(() => parseMaglevConfig({ table_size: 65536 }), /prime/);
    assert.throws(() => parseMaglevConfig({ table_size: 1 }), /table_size/);
    assert.throws(() => maglevFactory.create(eps(5), { random: seeded(1), config: { table_size: 3 } }), /do not fit/);
  });
});
