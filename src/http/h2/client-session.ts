/**
 * One upstream HTTP/2 session (h2c with prior knowledge, or h2 over TLS) carrying many exchanges. Owns: connecting
 * (ready once the peer's first SETTINGS arrived, within the connect timeout), the peer's stream
 * limit, GOAWAY bookkeeping (closing: no new streams; last stream id kept for classification),
 * PING keep-alive while idle (no ack in time: destroyed) and idle expiry, all on the Clock.
 * Must never: start a stream once closing, throw from a node event, or report its end twice.
 */
import * as http2 from 'node:http2';
import type { ClientHttp2Session } from 'node:http2';
import type { Clock, TimerHandle } from '../../api/clock';
import { UpstreamError } from '../../api/errors';

/** TLS options for an https:// session (see upstream/connect.ts tlsConnectOptions). */
export type SecureClientOptions = import('node:tls').ConnectionOptions;

/** What a session needs from its pool. */
export interface H2SessionOwner {
  onReady(s: H2ClientSession): void;
  onConnectFailed(s: H2ClientSession, err: UpstreamError): void;
  onGoaway(s: H2ClientSession): void;
  onSettings(s: H2ClientSession): void;
  onClosed(s: H2ClientSession): void;
}

export interface H2SessionTimings {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  initialWindowSize: number;
  connectionWindowSize: number;
}

export class H2ClientSession {
  readonly session: ClientHttp2Session;
  ready = false;
  /** GOAWAY received or sent: never start a new stream here. */
  closing = false;
  closed = false;
  /** Streams open on this session (counted by exchanges). */
  active = 0;
  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS. */
  maxStreams = 100;
  /** Last stream id of a received GOAWAY, -1 while none. */
  goawayLastStreamId = -1;

  private connectTimer: TimerHandle | null = null;
  private idleTimer: TimerHandle | null = null;
  private ackTimer: TimerHandle | null = null;
  private idleSince = 0;
  private lastPing = 0;
  private timedOut = false;
  private lastError: Error | null = null;

  constructor(
    private readonly owner: H2SessionOwner,
    authority: string,
    private readonly clock: Clock,
    private readonly t: H2SessionTimings,
    secure: SecureClientOptions | null = null,
  ) {
    const base = { settings: { enablePush: false, initialWindowSize: t.initialWindowSize }, maxSessionMemory: 10 };
    // Over TLS node:http2 offers ALPN h2 and becomes ready only after the handshake verified.
    const session = (this.session =
      secure === null ? http2.connect(`http://${authority}`, base) : http2.connect(`https://${authority}`, { ...secure, ...base }));
    session.on('connect', () => {
      try {
        if (t.connectionWindowSize > 65535) session.setLocalWindowSize(t.connectionWindowSize);
      } catch {
        /* closed meanwhile */
      }
    });
    session.on('remoteSettings', (settings: http2.Settings) => this.onRemoteSettings(settings));
    session.on('goaway', (_code: number, lastStreamID: number) => {
      this.goawayLastStreamId = lastStreamID;
      this.markClosing();
    });
    session.on('error', (e: Error) => (this.lastError = e));
    session.on('frameError', () => {});
    session.on('close', () => this.onClose());
    if (t.connectTimeoutMs > 0) {
      this.connectTimer = clock.setTimer(() => {
        this.connectTimer = null;
        if (this.ready) return;
        this.timedOut = true;
        session.destroy();
      }, t.connectTimeoutMs);
    }
  }

  /** Room for one more stream. */
  get usable(): boolean {
    return this.ready && !this.closing && !this.closed && this.active < this.maxStreams;
  }

  /** Graceful close: GOAWAY, streams in flight finish. */
  close(): void {
    this.markClosing();
    if (this.closed) return;
    try {
      this.session.close();
    } catch {
      this.session.destroy();
    }
  }

  destroy(): void {
    this.closing = true;
    this.session.destroy();
  }

  /** Called by the pool when the last stream closed. */
  becameIdle(): void {
    if (this.closed) return;
    if (this.closing) {
      this.close();
      return;
    }
    this.idleSince = this.lastPing = this.clock.now();
    this.armIdle();
  }

  /** Called by the pool when a stream starts. */
  becameBusy(): void {
    if (this.idleTimer !== null) {
      this.idleTimer.cancel();
      this.idleTimer = null;
    }
  }

  private markClosing(): void {
    if (this.closing) return;
    this.closing = true;
    this.owner.onGoaway(this);
  }

  private onRemoteSettings(settings: http2.Settings): void {
    const m = settings.maxConcurrentStreams;
    this.maxStreams = m === undefined ? 0x7fffffff : m;
    if (this.ready) {
      this.owner.onSettings(this);
      return;
    }
    this.ready = true;
    if (this.connectTimer !== null) {
      this.connectTimer.cancel();
      this.connectTimer = null;
    }
    this.owner.onReady(this);
    if (this.active === 0) this.becameIdle();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    this.cancelTimers();
    if (!this.ready) {
      const msg = this.lastError !== null ? this.lastError.message : 'session closed';
      this.owner.onConnectFailed(
        this,
        this.timedOut
          ? new UpstreamError('connect_timeout', 'upstream connect timeout', true)
          : new UpstreamError('connect_failure', 'upstream connect failed: ' + msg, true),
      );
      return;
    }
    this.owner.onClosed(this);
  }

  // ---- idle: PING every pingIntervalMs (an ack must come within pingTimeoutMs), expire after idleTimeoutMs ----

  private armIdle(): void {
    if (this.idleTimer !== null || this.closed) return;
    const now = this.clock.now();
    let d = Infinity;
    if (this.t.idleTimeoutMs > 0) d = this.idleSince + this.t.idleTimeoutMs;
    if (this.t.pingIntervalMs > 0) d = Math.min(d, this.lastPing + this.t.pingIntervalMs);
    if (d === Infinity) return;
    this.idleTimer = this.clock.setTimer(() => this.onIdleTimer(), Math.max(1, d - now));
  }

  private onIdleTimer(): void {
    this.idleTimer = null;
    if (this.closed || this.active > 0) return;
    const now = this.clock.now();
    if (this.t.idleTimeoutMs > 0 && now >= this.idleSince + this.t.idleTimeoutMs) {
      this.close();
      return;
    }
    if (this.t.pingIntervalMs > 0 && now >= this.lastPing + this.t.pingIntervalMs) this.sendPing(now);
    this.armIdle();
  }

  private sendPing(now: number): void {
    this.lastPing = now;
    if (this.ackTimer !== null) return; // one outstanding ping at a time
    let sent = false;
    try {
      sent = this.session.ping((err) => {
        if (this.ackTimer !== null) {
          this.ackTimer.cancel();
          this.ackTimer = null;
        }
        if (err !== null && !this.closed) this.destroy();
      });
    } catch {
      sent = false;
    }
    if (!sent) return;
    if (this.t.pingTimeoutMs > 0) {
      this.ackTimer = this.clock.setTimer(() => {
        this.ackTimer = null;
        if (!this.closed) this.destroy();
      }, this.t.pingTimeoutMs);
    }
  }

  private cancelTimers(): void {
    for (const t of [this.connectTimer, this.idleTimer, this.ackTimer]) if (t !== null) t.cancel();
    this.connectTimer = this.idleTimer = this.ackTimer = null;
  }
}
