/**
 * Circuit breaker of one cluster: how many requests and retries may be in flight at once,
 * cluster-wide. Overflow is answered at once (503 / UNAVAILABLE / the RPC's busy status, reason
 * `overflow`), never queued. Outlives config reloads so counts stay true for in-flight work.
 * Must never: block or queue.
 */
import type { Counter, Gauge, StatsRegistry } from '../observability/stats';

export interface BreakerLimits {
  max_requests: number;
  max_retries: number;
}

export class CircuitBreaker {
  private requests = 0;
  private retries = 0;
  private limits: BreakerLimits;
  private readonly overflowRequests: Counter;
  private readonly overflowRetries: Counter;
  private readonly activeGauge: Gauge;

  constructor(readonly cluster: string, limits: BreakerLimits, stats: StatsRegistry) {
    this.limits = limits;
    const help = 'Requests or retries refused because a circuit breaker was full.';
    this.overflowRequests = stats.counter('switchyard_upstream_overflow_total', help, { cluster, breaker: 'max_requests' });
    this.overflowRetries = stats.counter('switchyard_upstream_overflow_total', help, { cluster, breaker: 'max_retries' });
    this.activeGauge = stats.gauge('switchyard_upstream_requests_active', 'Upstream requests in flight.', { cluster });
  }

  /** A reload may change the limits; counts carry over. */
  setLimits(limits: BreakerLimits): void {
    this.limits = limits;
  }

  get activeRequests(): number {
    return this.requests;
  }

  tryRequest(): boolean {
    if (this.requests >= this.limits.max_requests) {
      this.overflowRequests.inc();
      return false;
    }
    this.requests++;
    this.activeGauge.set(this.requests);
    return true;
  }

  endRequest(): void {
    if (this.requests > 0) this.requests--;
    this.activeGauge.set(this.requests);
  }

  tryRetry(): boolean {
    if (this.retries >= this.limits.max_retries) {
      this.overflowRetries.inc();
      return false;
    }
    this.retries++;
    return true;
  }

  endRetry(): void {
    if (this.retries > 0) this.retries--;
  }
}
