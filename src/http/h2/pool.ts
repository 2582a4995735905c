/**
 * Connection pool to one HTTP/2 endpoint (an UpstreamPool): exchanges multiplexed over few
 * sessions. Owns: choosing a session with room (the peer's max concurrent streams, and the
 * cluster's own cap, `max_concurrent_streams`), opening
 * another one (one at a time, up to maxConnections) when all are full, the FIFO of waiting
 * exchanges and its limit (overflow), replays of refused exchanges, graceful close and destroy,
 * live stats.
 * Must never: start a stream on a closing session, let a request wait beyond maxPending, or
 * leave a request without exactly one outcome (response, error, or the caller's abort).
 */
import type { Clock } from '../../api/clock';
import type { HeaderMap } from '../../api/headers';
import type { PoolOptions, UpstreamPool, UpstreamRequest, UpstreamResponseHandler } from '../../api/stream';
import { UpstreamError } from '../../api/errors';
import { H2ClientSession, type H2SessionOwner, type H2SessionTimings, type SecureClientOptions } from './native/client-session';
import { H2Exchange, type H2ExchangeOwner } from './native/client-exchange';
import { requestKvH2 } from './headers';
import { poolTls, tlsConnectOptions } from '../../upstream/connect';

const DEFAULT_PING_INTERVAL_MS = 30_000;
const DEFAULT_PING_TIMEOUT_MS = 10_000;

function numberOption(o: Readonly<Record<string, unknown>> | undefined, key: string, dflt: number): number {
  const v = o === undefined ? undefined : o[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : dflt;
}

export class H2Pool implements UpstreamPool, H2SessionOwner, H2ExchangeOwner {
  readonly stats: { readonly connections: number; readonly active: number; readonly pending: number };

  private readonly sessions: H2ClientSession[] = [];
  private readonly queue: H2Exchange[] = [];
  private connecting = 0;
  private active = 0;
  private closing = false;
  private destroyed = false;
  private closeWaiters: Array<() => void> = [];
  private readonly authority: string;
  private readonly timings: H2SessionTimings;
  private readonly secure: SecureClientOptions | null;
  /** Streams per session at most (cluster http2.max_concurrent_streams); 0: as many as the peer allows. */
  private readonly streamCap: number;

  constructor(
    private readonly endpoint: { host: string; port: number },
    private readonly options: PoolOptions,
    private readonly clock: Clock,
  ) {
    this.authority = endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
    const o = options.options;
    const t = poolTls(options);
    this.secure = t === null ? null : tlsConnectOptions(t, endpoint.host);
    this.streamCap = numberOption(o, 'max_concurrent_streams', 0);
    this.timings = {
      connectTimeoutMs: options.connectTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      pingIntervalMs: numberOption(o, 'ping_interval_ms', DEFAULT_PING_INTERVAL_MS),
      pingTimeoutMs: numberOption(o, 'ping_timeout_ms', DEFAULT_PING_TIMEOUT_MS),
      initialWindowSize: numberOption(o, 'initial_stream_window_size', 256 * 1024),
      connectionWindowSize: numberOption(o, 'initial_connection_window_size', 1024 * 1024),
    };
    const self = this;
    this.stats = {
      get connections() {
        return self.sessions.length;
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
    const ex = new H2Exchange(this, requestKvH2(headers, this.authority), endStream, handler);
    if (this.destroyed || this.closing) {
      ex.fail(new UpstreamError('connect_failure', 'connection pool is closed', true));
      return ex;
    }
    if (this.queue.length === 0) {
      // begin() fails only on a session that turned out to be going away; it is skipped next.
      for (let s = this.pick(); s !== null; s = this.pick()) if (this.begin(s, ex)) return ex;
    }
    if (this.canOpen()) {
      this.queue.push(ex);
      this.connect();
      return ex;
    }
    if (this.queue.length < this.options.maxPending) {
      this.queue.push(ex);
      return ex;
    }
    ex.fail(new UpstreamError('overflow', 'too many requests pending for an upstream stream', true));
    return ex;
  }

  close(): Promise<void> {
    this.closing = true;
    for (const s of this.sessions) if (s.active === 0) s.close();
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      this.checkClosed();
    });
  }

  destroy(): void {
    this.destroyed = true;
    this.closing = true;
    for (const ex of this.queue.splice(0)) ex.fail(new UpstreamError('reset', 'connection pool destroyed', true));
    for (const s of [...this.sessions]) s.destroy();
  }

  // ---- H2SessionOwner ----

  onReady(_s: H2ClientSession): void {
    this.connecting--;
    this.dispatch();
  }

  onConnectFailed(s: H2ClientSession, err: UpstreamError): void {
    this.connecting--;
    this.remove(s);
    // With no other live session nothing would serve the queue: fail it. Otherwise the waiting
    // exchanges get the next free streams of the live ones.
    if (!this.sessions.some((x) => x.ready && !x.closing)) {
      for (const ex of this.queue.splice(0)) ex.fail(err);
    }
    this.checkClosed();
  }

  onGoaway(_s: H2ClientSession): void {
    this.dispatch();
  }

  onSettings(_s: H2ClientSession): void {
    this.dispatch();
  }

  onClosed(s: H2ClientSession): void {
    this.remove(s);
    this.dispatch();
    this.checkClosed();
  }

  // ---- H2ExchangeOwner ----

  replay(ex: H2Exchange): void {
    if (this.destroyed) {
      ex.fail(new UpstreamError('reset', 'connection pool destroyed', true));
      return;
    }
    this.queue.unshift(ex);
    this.dispatch();
  }

  removePending(ex: H2Exchange): void {
    const i = this.queue.indexOf(ex);
    if (i >= 0) this.queue.splice(i, 1);
    this.checkClosed();
  }

  streamClosed(s: H2ClientSession): void {
    this.active--;
    s.active--;
    if (s.active === 0) {
      if (this.closing && this.queue.length === 0) s.close();
      else s.becameIdle();
    }
    this.dispatch();
    this.checkClosed();
  }

  // ---- internals ----

  /**
   * The first session with room — under the peer's limit and the cluster's cap (sessions fill in
   * order, so few stay busy).
   */
  private pick(): H2ClientSession | null {
    const ss = this.sessions;
    const cap = this.streamCap;
    for (let i = 0; i < ss.length; i++) if (ss[i].usable && (cap === 0 || ss[i].active < cap)) return ss[i];
    return null;
  }

  private begin(s: H2ClientSession, ex: H2Exchange): boolean {
    if (!ex.startOn(s)) {
      s.close(); // refused synchronously: it is going away
      return false;
    }
    if (ex.session === s) {
      this.active++;
      if (s.active === 1) s.becameBusy();
    }
    return true;
  }

  /** Starts waiting exchanges on sessions with room; opens a session if some must still wait. */
  private dispatch(): void {
    if (this.destroyed) return;
    const q = this.queue;
    while (q.length > 0) {
      const s = this.pick();
      if (s === null) break;
      const ex = q.shift()!;
      if (ex.done) continue;
      if (!this.begin(s, ex)) q.unshift(ex);
    }
    if (q.length > 0 && this.canOpen()) this.connect();
  }

  private canOpen(): boolean {
    return !this.destroyed && this.connecting === 0 && this.sessions.length < this.options.maxConnections;
  }

  private connect(): void {
    this.connecting++;
    this.sessions.push(new H2ClientSession(this, this.endpoint.host, this.endpoint.port, this.clock, this.timings, this.secure));
  }

  private remove(s: H2ClientSession): void {
    const i = this.sessions.indexOf(s);
    if (i >= 0) this.sessions.splice(i, 1);
  }

  private checkClosed(): void {
    if (!this.closing || this.sessions.length > 0 || this.queue.length > 0) return;
    const w = this.closeWaiters;
    this.closeWaiters = [];
    for (const f of w) f();
  }
}
