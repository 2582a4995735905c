/**
 * Connection pool to one HTTP/1.1 endpoint (an UpstreamPool).
 * Owns: LIFO reuse of idle connections, the connection limit, the FIFO of waiting requests and
 * its limit (overflow), idle-connection expiry, graceful close and destroy, live stats.
 * Must never: give one connection two exchanges at once, let a request wait beyond maxPending,
 * or leave a request without exactly one outcome (response, error, or the caller's abort).
 */
import type { Clock } from '../../api/clock';
import type { HeaderMap } from '../../api/headers';
import type { PoolOptions, UpstreamPool, UpstreamRequest, UpstreamResponseHandler } from '../../api/stream';
import { UpstreamError } from '../../api/errors';
import { H1ClientConnection } from './client-connection';
import { H1Exchange } from './client-exchange';
import { poolTls, type UpstreamTls } from '../../upstream/connect';

export class H1Pool implements UpstreamPool {
  readonly stats: { readonly connections: number; readonly active: number; readonly pending: number };

  private readonly conns = new Set<H1ClientConnection>();
  private readonly idle: H1ClientConnection[] = [];
  private readonly queue: H1Exchange[] = [];
  private connecting = 0;
  private active = 0;
  private closing = false;
  private destroyed = false;
  private closeWaiters: Array<() => void> = [];
  private readonly authority: string;
  private readonly tls: UpstreamTls | null;

  constructor(
    private readonly endpoint: { host: string; port: number },
    private readonly options: PoolOptions,
    private readonly clock: Clock,
  ) {
    this.authority = endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
    this.tls = poolTls(options);
    const self = this;
    this.stats = {
      get connections() {
        return self.conns.size;
      },
      get active() {
        return self.active;
      },
      get pending() {
        return self.queue.length;
      },
    };
  }

  request(headers: HeaderMap, endStream: boolean, handler: UpstreamResponseHandler): UpstreamRequest {
    const ex = new H1Exchange(this, headers, endStream, handler, this.authority);
    if (ex.head === null) {
      ex.fail(new UpstreamError('protocol_error', 'request headers cannot be encoded as HTTP/1.1', true));
      return ex;
    }
    if (this.destroyed || this.closing) {
      ex.fail(new UpstreamError('connect_failure', 'connection pool is closed', true));
      return ex;
    }
    const c = this.takeIdle();
    if (c !== null) {
      this.begin(c, ex);
      return ex;
    }
    if (this.conns.size < this.options.maxConnections) {
      this.queue.push(ex);
      this.connect(null);
      return ex;
    }
    if (this.queue.length - this.connecting < this.options.maxPending) {
      this.queue.push(ex);
      return ex;
    }
    ex.fail(new UpstreamError('overflow', 'too many requests pending for an upstream connection', true));
    return ex;
  }

  close(): Promise<void> {
    this.closing = true;
    for (const c of this.idle.splice(0)) c.destroy();
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      this.checkClosed();
    });
  }

  destroy(): void {
    this.destroyed = true;
    this.closing = true;
    for (const ex of this.queue.splice(0)) ex.fail(new UpstreamError('reset', 'connection pool destroyed', true));
    for (const c of [...this.conns]) {
      if (c.reserved !== null) {
        c.reserved.fail(new UpstreamError('reset', 'connection pool destroyed', true));
        c.reserved = null;
      }
      c.destroy();
    }
    this.idle.length = 0;
  }

  // ---- called by connections and exchanges ----

  onConnected(c: H1ClientConnection): void {
    this.connecting--;
    const r = c.reserved;
    if (r !== null) {
      c.reserved = null;
      if (!r.done) {
        this.begin(c, r);
        return;
      }
    }
    const next = this.queue.shift();
    if (next !== undefined) this.begin(c, next);
    else this.makeIdle(c);
  }

  onConnectFailed(c: H1ClientConnection, err: UpstreamError): void {
    this.conns.delete(c);
    this.connecting--;
    const r = c.reserved;
    c.reserved = null;
    const victim = r !== null && !r.done ? r : this.queue.shift();
    if (victim !== undefined) victim.fail(err);
    this.fillQueue();
    this.checkClosed();
  }

  onConnClosed(c: H1ClientConnection): void {
    this.conns.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    this.fillQueue();
    this.checkClosed();
  }

  /** A connection left for a tunnel after a 101: no longer ours, its slot is free. */
  handedOver(c: H1ClientConnection): void {
    this.active--;
    this.conns.delete(c);
    this.fillQueue();
    this.checkClosed();
  }

  exchangeEnded(): void {
    this.active--;
  }

  /** A finished exchange hands its connection back. */
  release(c: H1ClientConnection, reusable: boolean): void {
    if (!reusable || this.destroyed) {
      c.destroy();
      return;
    }
    const next = this.queue.shift();
    if (next !== undefined) this.begin(c, next);
    else this.makeIdle(c);
  }

  removePending(ex: H1Exchange): void {
    const i = this.queue.indexOf(ex);
    if (i >= 0) this.queue.splice(i, 1);
    this.checkClosed();
  }

  /** Stale keep-alive retry: a new connection opened for this one exchange. */
  retryFresh(ex: H1Exchange): void {
    if (this.destroyed) {
      ex.fail(new UpstreamError('reset', 'connection pool destroyed', true));
      return;
    }
    this.connect(ex);
  }

  // ---- internals ----

  private begin(c: H1ClientConnection, ex: H1Exchange): void {
    this.active++;
    c.start(ex);
  }

  private connect(reserved: H1Exchange | null): void {
    const c = new H1ClientConnection(this, this.endpoint.host, this.endpoint.port, this.options.connectTimeoutMs, this.clock, this.tls);
    c.reserved = reserved;
    this.conns.add(c);
    this.connecting++;
  }

  /** Opens connections for waiting requests while the limit allows. */
  private fillQueue(): void {
    if (this.destroyed) return;
    while (this.queue.length > this.connecting && this.conns.size < this.options.maxConnections) this.connect(null);
  }

  private takeIdle(): H1ClientConnection | null {
    while (this.idle.length > 0) {
      const c = this.idle.pop()!;
      if (!c.closed) return c;
    }
    return null;
  }

  private makeIdle(c: H1ClientConnection): void {
    if (this.closing) {
      c.destroy();
      return;
    }
    c.idleSince = this.clock.now();
    this.idle.push(c);
    if (c.idleTimer === null && this.options.idleTimeoutMs > 0) this.armIdle(c, this.options.idleTimeoutMs);
  }

  private armIdle(c: H1ClientConnection, ms: number): void {
    c.idleTimer = this.clock.setTimer(() => {
      c.idleTimer = null;
      if (c.closed || this.idle.indexOf(c) < 0) return;
      const left = c.idleSince + this.options.idleTimeoutMs - this.clock.now();
      if (left <= 0) c.destroy();
      else this.armIdle(c, left);
    }, ms);
  }

  private checkClosed(): void {
    if (!this.closing || this.conns.size > 0 || this.queue.length > 0) return;
    const w = this.closeWaiters;
    this.closeWaiters = [];
    for (const f of w) f();
  }
}
