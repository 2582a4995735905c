/**
 * Test helpers for upstream tests: a fake UpstreamProtocol that records every pool it creates
 * and every close/destroy, with close() held open until the test releases it (to model
 * in-flight requests), plus a ClusterConfig builder and a seeded PRNG.
 */
import type { UpstreamProtocol } from '../../../src/api/codec';
import type { Clock, TimerHandle } from '../../../src/api/clock';
import type { PoolOptions, UpstreamPool, UpstreamRequest, UpstreamResponseHandler } from '../../../src/api/stream';
import type { HeaderMap } from '../../../src/api/headers';
import type { ClusterConfig } from '../../../src/config/types';

export class FakePool implements UpstreamPool {
  closeCalls = 0;
  destroyCalls = 0;
  requests = 0;
  stats = { connections: 0, active: 0, pending: 0 };
  private releaseClose: (() => void) | null = null;
  closed = false;

  constructor(readonly host: string, readonly port: number, readonly options: PoolOptions, readonly holdClose: boolean) {}

  request(_h: HeaderMap, _end: boolean, _handler: UpstreamResponseHandler): UpstreamRequest {
    this.requests++;
    this.stats.connections = 1;
    this.stats.active++;
    return { write: () => true, end: () => {}, onDrain: () => {}, pause: () => {}, resume: () => {}, abort: () => {} };
  }

  close(): Promise<void> {
    this.closeCalls++;
    if (!this.holdClose) {
      this.closed = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.releaseClose = () => {
        this.closed = true;
        resolve();
      };
    });
  }

  /** Lets a held close() finish (the in-flight requests are done). */
  finishClose(): void {
    this.releaseClose?.();
  }

  destroy(): void {
    this.destroyCalls++;
    this.closed = true;
  }
}

export class FakeProtocol implements UpstreamProtocol {
  readonly pools: FakePool[] = [];
  holdClose = false;
  constructor(readonly name = 'fake') {}
  createPool(endpoint: { host: string; port: number }, options: PoolOptions, _clock: Clock): UpstreamPool {
    const p = new FakePool(endpoint.host, endpoint.port, options, this.holdClose);
    this.pools.push(p);
    return p;
  }
  poolFor(port: number): FakePool[] {
    return this.pools.filter((p) => p.port === port);
  }
}

export const manualClock: Clock = {
  now: () => 0,
  wallNow: () => 0,
  setTimer: (): TimerHandle => ({ cancel() {}, refresh() {} }),
};

export function clusterConfig(over: Partial<ClusterConfig> & { name: string }): ClusterConfig {
  return {
    protocol: 'fake',
    lb: 'round_robin',
    lb_config: {},
    endpoints: [
      { address: { host: '127.0.0.1', port: 9001 }, weight: 1, zone: 'a' },
      { address: { host: '127.0.0.1', port: 9002 }, weight: 2 },
    ],
    connect_timeout_ms: 5000,
    idle_timeout_ms: 60000,
    max_connections_per_endpoint: 1024,
    max_pending_requests: 512,
    circuit_breakers: { max_requests: 1024, max_retries: 3 },
    ...over,
  };
}

export { seededRandom as seeded } from '../../fixtures/random';
