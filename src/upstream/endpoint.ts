/**
 * ClusterEndpoint: one upstream endpoint of a cluster as the core sees it — identity, weight,
 * zone, health, live counters, and its connection pool, created on first use. Health is two
 * flags: active health (set by health checks) and ejection (set by outlier detection); the
 * endpoint is `healthy` (available to balancers) only when actively healthy and not ejected.
 * Mutated only by
 * its Cluster (the methods marked internal). Must never: pick endpoints, or create a pool once
 * it has been retired (a retired endpoint answers with a pool that fails every request as a
 * retryable connect failure, so a stale reference cannot leak connections).
 */
import type { Endpoint } from '../api/lb';
import type { Clock } from '../api/clock';
import type { UpstreamProtocol } from '../api/codec';
import type { HeaderMap } from '../api/headers';
import type { PoolOptions, UpstreamPool, UpstreamRequest, UpstreamResponseHandler } from '../api/stream';
import { UpstreamError } from '../api/errors';

/** What an endpoint needs to build its pool; one per cluster, shared by its endpoints. */
export interface PoolSource {
  readonly protocol: UpstreamProtocol;
  readonly options: PoolOptions;
  readonly clock: Clock;
}

/** "host:port", with IPv6 hosts in brackets. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class ClusterEndpoint implements Endpoint {
  readonly address: string;
  /** clock.now() when the endpoint first appeared in its cluster (kept across snapshot swaps). */
  readonly createdAt: number;
  private _weight: number;
  private _zone: string | undefined;
  private _healthy: boolean;
  private _activeHealthy: boolean;
  private _ejected = false;
  private _active = 0;
  private _requests = 0;
  private _failures = 0;
  private _pool: UpstreamPool | null = null;
  private _retired: Promise<void> | null = null;

  constructor(
    readonly host: string,
    readonly port: number,
    weight: number,
    zone: string | undefined,
    private readonly source: PoolSource,
    /** False when health checking is on: the endpoint waits for its first passing check. */
    activeHealthy = true,
  ) {
    this._activeHealthy = activeHealthy;
    this._healthy = activeHealthy;
    this.address = formatAddress(host, port);
    this.createdAt = source.clock.now();
    this._weight = weight;
    this._zone = zone;
  }

  get weight(): number {
    return this._weight;
  }
  get zone(): string | undefined {
    return this._zone;
  }
  /** Available to balancers: actively healthy and not ejected. */
  get healthy(): boolean {
    return this._healthy;
  }
  /** The health-check flag alone (true when the cluster has no health checking). */
  get activeHealthy(): boolean {
    return this._activeHealthy;
  }
  /** Ejected by outlier detection. */
  get ejected(): boolean {
    return this._ejected;
  }
  /** Requests in flight now. */
  get activeRequests(): number {
    return this._active;
  }
  /** Requests started since the endpoint joined the cluster. */
  get requestsTotal(): number {
    return this._requests;
  }
  /** Requests that finished with ok = false. */
  get failures(): number {
    return this._failures;
  }
  get retired(): boolean {
    return this._retired !== null;
  }
  /** The pool if one was created (never creates one). */
  get existingPool(): UpstreamPool | null {
    return this._pool;
  }

  /** The connection pool to this endpoint, created on first use. */
  get pool(): UpstreamPool {
    if (this._retired !== null) return REMOVED_ENDPOINT_POOL;
    let p = this._pool;
    if (p === null) {
      const s = this.source;
      p = s.protocol.createPool({ host: this.host, port: this.port }, s.options, s.clock);
      this._pool = p;
    }
    return p;
  }

  /** @internal Cluster only. */
  markStarted(): void {
    this._active++;
    this._requests++;
  }

  /** @internal Cluster only. */
  markFinished(ok: boolean): void {
    if (this._active > 0) this._active--;
    if (!ok) this._failures++;
  }

  /** @internal Cluster only: weight and zone may change between snapshots, never within one. */
  update(weight: number, zone: string | undefined): void {
    this._weight = weight;
    this._zone = zone;
  }

  /** @internal Cluster only: the health-check flag. */
  setHealthy(healthy: boolean): void {
    this._activeHealthy = healthy;
    this._healthy = healthy && !this._ejected;
  }

  /** @internal Cluster only: the outlier-ejection flag. */
  setEjected(ejected: boolean): void {
    this._ejected = ejected;
    this._healthy = this._activeHealthy && !ejected;
  }

  /** @internal Cluster only: closes the pool gracefully (in-flight requests finish). Idempotent. */
  retire(): Promise<void> {
    if (this._retired === null) {
      const p = this._pool;
      this._retired = p === null ? Promise.resolve() : p.close().then(noop, noop);
    }
    return this._retired;
  }

  /** @internal Cluster only: tears the pool down now. */
  destroy(): void {
    if (this._retired === null) this._retired = Promise.resolve();
    const p = this._pool;
    if (p !== null) p.destroy();
  }
}

function noop(): void {}

/** An in-flight request on the removed-endpoint pool: fails once, asynchronously, unless aborted. */
class FailedRequest implements UpstreamRequest {
  private aborted = false;
  constructor(handler: UpstreamResponseHandler) {
    queueMicrotask(() => {
      if (!this.aborted) {
        handler.onError(new UpstreamError('connect_failure', 'endpoint was removed from its cluster', true));
      }
    });
  }
  write(_chunk: Buffer): boolean {
    return true;
  }
  end(_trailers?: HeaderMap | null): void {}
  onDrain(_cb: () => void): void {}
  pause(): void {}
  resume(): void {}
  abort(): void {
    this.aborted = true;
  }
}

/** The pool a retired endpoint hands out: every request fails before anything is sent. */
export const REMOVED_ENDPOINT_POOL: UpstreamPool = Object.freeze({
  request(_headers: HeaderMap, _endStream: boolean, handler: UpstreamResponseHandler): UpstreamRequest {
    return new FailedRequest(handler);
  },
  stats: Object.freeze({ connections: 0, active: 0, pending: 0 }),
  close: () => Promise.resolve(),
  destroy: noop,
});
