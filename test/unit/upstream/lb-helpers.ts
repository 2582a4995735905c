/**
 * Shared helpers of the load balancer tests: test endpoints with mutable counters, a settable
 * clock, contexts with distinct keys, and pick counting.
 */
import assert from 'node:assert/strict';
import type { Clock, TimerHandle } from '../../../src/api/clock';
import type { Endpoint, LbContext, LoadBalancer } from '../../../src/api/lb';
import { HeaderMap } from '../../../src/api/headers';
import { seededRandom } from '../../fixtures/random';

export const seeded = seededRandom;

export interface TestEndpoint extends Endpoint {
  activeRequests: number;
  healthy: boolean;
  weight: number;
  createdAt?: number;
}

export function ep(i: number, weight = 1, healthy = true, zone?: string): TestEndpoint {
  const host = `10.0.${i >> 8}.${i & 255}`;
  return { address: `${host}:${8000 + i}`, host, port: 8000 + i, weight, zone, activeRequests: 0, healthy };
}

export function eps(n: number, weight = 1): TestEndpoint[] {
  return Array.from({ length: n }, (_, i) => ep(i + 1, weight));
}

/** A clock whose time only moves when the test sets it. */
export class TestClock implements Clock {
  t = 0;
  now(): number {
    return this.t;
  }
  wallNow(): number {
    return this.t;
  }
  setTimer(): TimerHandle {
    return { cancel() {}, refresh() {} };
  }
}

export function keyCtx(key: string, exclude?: readonly Endpoint[]): LbContext {
  return { headers: HeaderMap.from({ 'x-user': key }), sourceIp: null, exclude };
}

/** Which endpoint each of `keys` goes to. */
export function assignments(lb: LoadBalancer, keys: readonly string[]): string[] {
  return keys.map((k) => {
    const e = lb.pick(keyCtx(k));
    assert.ok(e !== null);
    return e.address;
  });
}

export function tally(lb: LoadBalancer, n: number, ctx: (i: number) => LbContext | null = () => null): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const e = lb.pick(ctx(i));
    assert.ok(e !== null, 'pick returned null for a non-empty snapshot');
    m.set(e.address, (m.get(e.address) ?? 0) + 1);
  }
  return m;
}
