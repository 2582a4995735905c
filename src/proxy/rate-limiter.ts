/**
 * Local rate limiting: a token bucket per route or listener, optionally one per key (a header,
 * the source IP, or an RPC key, which codecs expose as a header). Buckets refill continuously;
 * the key table is bounded, oldest keys evicted first. Must never: allocate per request for an
 * existing key, or grow without bound.
 */
import type { Clock, HeaderMap } from '../api';
import type { RateLimitConfig } from '../config/types';

interface Bucket {
  tokens: number;
  last: number;
}

const MAX_KEYS = 10_000;

export class RateLimiter {
  private readonly single: Bucket;
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(private readonly cfg: RateLimitConfig, private readonly clock: Clock) {
    this.perMs = cfg.tokens_per_second / 1000;
    this.single = { tokens: cfg.burst, last: clock.now() };
  }

  /** Takes a token for this request; false when its bucket is empty. */
  tryTake(headers: HeaderMap, sourceIp: string): boolean {
    const k = this.cfg.key;
    let b: Bucket;
    if (k === null) b = this.single;
    else {
      const key = k.kind === 'source_ip' ? sourceIp : headers.get(k.name) ?? '';
      let found = this.buckets.get(key);
      if (found === undefined) {
        if (this.buckets.size >= MAX_KEYS) this.evict();
        found = { tokens: this.cfg.burst, last: this.clock.now() };
        this.buckets.set(key, found);
      }
      b = found;
    }
    const now = this.clock.now();
    b.tokens = Math.min(this.cfg.burst, b.tokens + (now - b.last) * this.perMs);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private evict(): void {
    let n = Math.ceil(MAX_KEYS / 10);
    for (const key of this.buckets.keys()) {
      this.buckets.delete(key);
      if (--n === 0) break;
    }
  }
}
