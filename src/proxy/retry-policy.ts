/**
 * Retry policy: which outcomes of a try are worth another (by failure kind, HTTP status, gRPC
 * status), jittered exponential backoff, Retry-After, and the Finagle-style retry budget that
 * keeps retries from amplifying an outage. Must never: schedule or send anything itself.
 */
import type { Clock, HeaderMap, UpstreamFailureKind } from '../api';
import type { RetryConfig } from '../config/types';

const GRPC_CODES: Record<string, number> = {
  cancelled: 1,
  'deadline-exceeded': 4,
  'resource-exhausted': 8,
  internal: 13,
  unavailable: 14,
};

/** A route's retry policy, compiled once per config. */
export class RetryPolicy {
  private readonly on: ReadonlySet<string>;
  private readonly codes: ReadonlySet<number>;
  private readonly grpc: ReadonlySet<number>;

  constructor(readonly config: RetryConfig) {
    this.on = new Set(config.on);
    this.codes = new Set(config.retriable_status_codes);
    this.grpc = new Set(config.on.filter((c) => c in GRPC_CODES).map((c) => GRPC_CODES[c]));
  }

  /** A try that failed without a response head. */
  retriableFailure(kind: UpstreamFailureKind | 'per_try_timeout', refused: boolean): boolean {
    const on = this.on;
    switch (kind) {
      case 'connect_failure':
      case 'connect_timeout':
        return on.has('connect-failure') || on.has('gateway-error') || on.has('5xx');
      case 'reset':
        return (refused && on.has('refused-stream')) || on.has('reset') || on.has('gateway-error') || on.has('5xx');
      case 'protocol_error':
        return on.has('gateway-error') || on.has('5xx');
      case 'per_try_timeout':
        return on.has('gateway-error') || on.has('5xx') || on.has('reset');
      case 'overflow':
        return false;
    }
  }

  /** A response head that should be discarded and retried instead of forwarded. */
  retriableResponse(status: number, headers: HeaderMap): boolean {
    const on = this.on;
    if (status >= 500 && on.has('5xx')) return true;
    if ((status === 502 || status === 503 || status === 504) && on.has('gateway-error')) return true;
    if (this.codes.has(status)) return true;
    if (this.grpc.size > 0) {
      const g = headers.get('grpc-status');
      if (g !== undefined && this.grpc.has(Number(g))) return true;
    }
    return false;
  }
}

/** Full-jitter exponential backoff: a random delay in [0, min(max, base × 2^retry)). */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(retry, 20));
  return Math.floor(random() * cap);
}

/** Retry-After (delta seconds or HTTP date) in ms, or null. */
export function retryAfterMs(headers: HeaderMap, wallNow: number): number | null {
  const v = headers.get('retry-after');
  if (v === undefined) return null;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - wallNow);
}

const WINDOW_SECONDS = 10;

/**
 * Finagle's retry budget over a sliding 10 s window: retries may be at most `percent` of the
 * requests seen, or `min_per_second` per second, whichever is more.
 */
export class RetryBudget {
  private readonly requests = new Float64Array(WINDOW_SECONDS);
  private readonly retries = new Float64Array(WINDOW_SECONDS);
  private second = -1;

  constructor(
    private readonly percent: number,
    private readonly minPerSecond: number,
    private readonly clock: Clock,
  ) {}

  private roll(): number {
    const now = Math.floor(this.clock.now() / 1000);
    if (this.second < 0) this.second = now;
    const gap = Math.min(now - this.second, WINDOW_SECONDS);
    for (let i = 1; i <= gap; i++) {
      const slot = (this.second + i) % WINDOW_SECONDS;
      this.requests[slot] = 0;
      this.retries[slot] = 0;
    }
    this.second = now;
    return now % WINDOW_SECONDS;
  }

  onRequest(): void {
    this.requests[this.roll()]++;
  }

  /** Takes one retry from the budget, or says there is none left. */
  tryWithdraw(): boolean {
    const slot = this.roll();
    let req = 0;
    let ret = 0;
    for (let i = 0; i < WINDOW_SECONDS; i++) {
      req += this.requests[i];
      ret += this.retries[i];
    }
    const allowed = Math.max((req * this.percent) / 100, this.minPerSecond * WINDOW_SECONDS);
    if (ret + 1 > allowed) return false;
    this.retries[slot]++;
    return true;
  }
}
