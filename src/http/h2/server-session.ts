/**
 * One downstream HTTP/2 connection (h2c with prior knowledge): a node:http2 server session over
 * the accepted socket, turning each stream into an H2ServerStream. Owns: session settings
 * (max concurrent streams, max header list size, windows), the first-stream, idle and
 * stream-idle timeouts on the injected Clock, the abuse mitigations (rapid reset, PING and
 * SETTINGS floods: GOAWAY(ENHANCE_YOUR_CALM) and close), protocol-error accounting (including
 * streams the codec rejected before they surfaced), drain (GOAWAY, then close when streams are
 * done). Must never: throw from a node event, let one stream's failure touch another connection
 * or stream, or accept new streams once draining.
 */
import type { Duplex } from 'node:stream';
import * as http2 from 'node:http2';
import type { ServerHttp2Session, ServerHttp2Stream, Settings } from 'node:http2';
import type { Socket } from 'node:net';
import type { ServerConnection, ServeContext } from '../../api/codec';
import type { ConnectionInfo } from '../../api/stream';
import type { TimerHandle } from '../../api/clock';
import { H2ServerStream, type H2StreamOwner } from './server-stream';
import { requestMapFromRaw } from './headers';
import { H2FloodGuard, H2_LIMIT_DEFAULTS, effectiveH2Limits, sessionErrorKind, type H2Limits } from './protect';

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/** Tunables of the downstream HTTP/2 codec. */
export interface Http2ServerOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients. Default 100. */
  maxConcurrentStreams?: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE (per-stream receive window). Default 256 KiB. */
  initialWindowSize?: number;
  /** Session receive window. Default 1 MiB. */
  connectionWindowSize?: number;
  /** node:http2 maxSessionMemory, in MB. Default 10. */
  maxSessionMemoryMb?: number;
}

export const H2_DEFAULTS: Required<Http2ServerOptions> = {
  maxConcurrentStreams: H2_LIMIT_DEFAULTS.maxConcurrentStreams,
  initialWindowSize: H2_LIMIT_DEFAULTS.initialStreamWindowSize,
  connectionWindowSize: H2_LIMIT_DEFAULTS.initialConnectionWindowSize,
  maxSessionMemoryMb: 10,
};

/** node:http2 closes a session after this many invalid frames (node's default is 1000). */
const MAX_INVALID_FRAMES = 100;
/** ... and after this many streams it had to refuse itself (node's default). */
const MAX_REJECTED_STREAMS = 100;

type SessionFactory = (socket: Duplex, options: http2.ServerOptions) => ServerHttp2Session;

/** performServerHandshake (Node ≥ 20.12) when present, else a detached server fed the socket. */
const makeSession: SessionFactory = (() => {
  const phs = (http2 as unknown as { performServerHandshake?: SessionFactory }).performServerHandshake;
  if (typeof phs === 'function') return phs;
  return (socket: Duplex, options: http2.ServerOptions): ServerHttp2Session => {
    const server = http2.createServer(options);
    let session: ServerHttp2Session | null = null;
    server.once('session', (s: ServerHttp2Session) => (session = s));
    server.emit('connection', socket);
    if (session === null) throw new Error('http2 session was not created');
    return session;
  };
})();

export class H2ServerConnection implements ServerConnection, H2StreamOwner {
  readonly info: ConnectionInfo;
  private readonly session: ServerHttp2Session;
  private active = 0;
  private everStream = false;
  private draining = false;
  private closed = false;
  private closeCbs: Array<() => void> | null = [];
  private timer: TimerHandle | null = null;
  private idleSince: number;
  private readonly start: number;
  private readonly onTimerFn = (): void => this.onTimer();
  /** Bumped by every stream-idle sweep; streams stamp it on activity (see H2StreamOwner.epoch). */
  epoch = 0;
  private readonly streams = new Set<H2ServerStream>();
  private sweepTimer: TimerHandle | null = null;
  private readonly sweepMs: number;
  private readonly onSweepFn = (): void => this.sweep();
  private readonly guard: H2FloodGuard;
  /** Set once a mitigation closed the connection: nothing more is counted or served. */
  private tripped: string | null = null;
  private rejectedLogged = false;

  constructor(
    private readonly socket: Duplex,
    private readonly ctx: ServeContext,
    opts: Required<Http2ServerOptions>,
    limits?: H2Limits,
  ) {
    this.info = ctx.connection;
    this.start = this.idleSince = ctx.clock.now();
    const lim = limits ?? effectiveH2Limits(opts, ctx.limits);
    this.guard = new H2FloodGuard(lim, ctx.clock);
    // A stream is idle after 3..4 sweeps without activity: sweeping every third of the timeout
    // resets it between 1 and 4/3 of the timeout.
    this.sweepMs = lim.streamIdleTimeoutMs > 0 ? Math.max(1, Math.floor(lim.streamIdleTimeoutMs / 3)) : 0;
    const settings: Settings = {
      enablePush: false,
      maxConcurrentStreams: lim.maxConcurrentStreams,
      initialWindowSize: lim.initialStreamWindowSize,
      maxHeaderListSize: lim.maxHeaderListSize,
    };
    const s = (socket as Partial<Socket>).setNoDelay;
    if (typeof s === 'function') s.call(socket, true);
    let session: ServerHttp2Session;
    try {
      session = makeSession(socket, {
        settings,
        maxSessionMemory: opts.maxSessionMemoryMb,
        maxHeaderListPairs: 1024,
        maxSessionInvalidFrames: MAX_INVALID_FRAMES,
        maxSessionRejectedStreams: MAX_REJECTED_STREAMS,
      });
    } catch (err) {
      ctx.log.warn('h2 session setup failed', { error: String(err) });
      socket.destroy();
      this.session = null as unknown as ServerHttp2Session;
      this.closed = true;
      process.nextTick(() => this.handleClose());
      return;
    }
    this.session = session;
    session.on('stream', (raw: ServerHttp2Stream, _h: unknown, flags: number, rawHeaders: string[]) =>
      this.onStream(raw, flags, rawHeaders),
    );
    session.on('error', (err: Error & { code?: string; errno?: number }) => {
      if (this.tripped !== null) return;
      const kind = sessionErrorKind(err);
      ctx.onProtocolError(kind);
      const fields = { kind, error: err.message, code: err.code, listener: this.info.listener, remote: `${this.info.remoteAddress}:${this.info.remotePort}` };
      if (kind === 'h2_session_error') ctx.log.debug('h2 downstream session error', fields);
      else ctx.log.warn('h2 downstream connection closed: protocol violation', fields);
    });
    session.on('ping', () => {
      const k = this.guard.ping();
      if (k !== null) this.trip(k);
    });
    session.on('remoteSettings', () => {
      const k = this.guard.settingsFrame();
      if (k !== null) this.trip(k);
    });
    session.on('frameError', (type: number, code: number) => {
      ctx.log.debug('h2 downstream frame error', { type, code });
    });
    session.on('goaway', (code: number) => {
      if (code !== http2.constants.NGHTTP2_NO_ERROR) ctx.onProtocolError('h2_goaway_' + code);
    });
    session.on('close', () => this.handleClose());
    socket.on('close', () => this.handleClose());
    socket.on('error', () => {});
    session.once('connect', () => {
      try {
        if (lim.initialConnectionWindowSize > 65535) session.setLocalWindowSize(lim.initialConnectionWindowSize);
      } catch {
        /* session already gone */
      }
    });
    this.schedule();
  }

  get activeStreams(): number {
    return this.active;
  }

  onClose(cb: () => void): void {
    if (this.closeCbs === null) cb();
    else this.closeCbs.push(cb);
  }

  drain(): void {
    if (this.draining || this.closed) return;
    this.draining = true;
    this.closeSession();
  }

  destroy(): void {
    if (this.session !== null) this.session.destroy();
    this.socket.destroy();
  }

  // ---- H2StreamOwner ----

  streamClosed(s: H2ServerStream, outcome: 'complete' | 'peer_reset' | 'other'): void {
    this.active--;
    this.streams.delete(s);
    if (outcome === 'complete') this.guard.completedStream();
    else if (outcome === 'peer_reset' && this.tripped === null && !this.closed && !this.session.destroyed) {
      const k = this.guard.prematureReset();
      if (k !== null) this.trip(k);
    }
    if (this.active === 0) {
      this.cancelSweep();
      this.idleSince = this.ctx.clock.now();
      this.schedule();
    }
  }

  debug(msg: string, err: unknown): void {
    this.ctx.log.debug(msg, { error: err instanceof Error ? err.message : String(err) });
  }

  // ---- session events ----

  private onStream(raw: ServerHttp2Stream, flags: number, rawHeaders: string[]): void {
    const id = raw.id ?? 0;
    const skipped = this.guard.streamSeen(id, true);
    if (skipped > 0) this.rejected(skipped);
    if (this.draining || this.closed || this.tripped !== null) {
      raw.on('error', () => {});
      raw.close(NGHTTP2_REFUSED_STREAM);
      return;
    }
    this.everStream = true;
    this.active++;
    this.cancelTimer();
    if (this.sweepMs > 0 && this.sweepTimer === null) this.sweepTimer = this.ctx.clock.setTimer(this.onSweepFn, this.sweepMs);
    const headers = requestMapFromRaw(rawHeaders);
    let headBytes = 0;
    for (let i = 0; i < rawHeaders.length; i++) headBytes += rawHeaders[i].length;
    const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    const s = new H2ServerStream(this, raw, headers, endStream, this.ctx.clock.now(), headBytes + (rawHeaders.length >> 1) * 2);
    if (this.sweepMs > 0) this.streams.add(s);
    try {
      this.ctx.onStream(s);
    } catch (err) {
      this.ctx.log.error('h2 stream handler threw', { error: String(err) });
      s.reset();
    }
  }

  private handleClose(): void {
    if (this.closeCbs === null) return;
    this.closed = true;
    this.cancelTimer();
    this.cancelSweep();
    const cbs = this.closeCbs;
    this.closeCbs = null;
    for (const cb of cbs) cb();
  }

  /** GOAWAY (NO_ERROR, last processed stream); node destroys the session once streams are done. */
  private closeSession(): void {
    this.cancelTimer();
    const session = this.session;
    if (session === null || session.closed || session.destroyed) return;
    try {
      session.close();
    } catch {
      this.destroy();
    }
  }

  // ---- mitigations ----

  /**
   * A flood or rapid-reset threshold was crossed: count it, log it, tell the client why with
   * GOAWAY(ENHANCE_YOUR_CALM) and close the connection now (in-flight streams are aborted).
   */
  private trip(kind: string): void {
    if (this.tripped !== null || this.closed) return;
    this.tripped = kind;
    this.draining = true;
    this.cancelTimer();
    this.cancelSweep();
    this.ctx.onProtocolError(kind);
    this.ctx.log.warn('h2 downstream connection closed: abuse mitigation', {
      kind,
      listener: this.info.listener,
      remote: `${this.info.remoteAddress}:${this.info.remotePort}`,
      active: this.active,
    });
    const session = this.session;
    try {
      if (!session.closed && !session.destroyed) session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
    } catch {
      /* already going */
    }
    // Let the GOAWAY reach the socket, then drop everything.
    setImmediate(() => this.destroy());
  }

  /** `n` client streams never surfaced: nghttp2/node refused them (RST_STREAM) on their own. */
  private rejected(n: number): void {
    if (this.tripped !== null) return;
    for (let i = 0; i < n; i++) this.ctx.onProtocolError('h2_rejected_stream');
    const fields = { count: n, listener: this.info.listener, remote: `${this.info.remoteAddress}:${this.info.remotePort}` };
    if (this.rejectedLogged) this.ctx.log.debug('h2 downstream streams rejected by the codec', fields);
    else {
      this.rejectedLogged = true;
      this.ctx.log.warn('h2 downstream streams rejected by the codec (malformed or oversized headers)', fields);
    }
  }

  /** Streams rejected after the last one that surfaced show up only in the session state. */
  private checkTrailingRejects(): void {
    const session = this.session;
    if (session === null || session.destroyed) return;
    let last = 0;
    try {
      last = session.state.lastProcStreamID ?? 0;
    } catch {
      return;
    }
    const n = this.guard.streamSeen(last, false);
    if (n > 0) this.rejected(n);
  }

  /** Resets streams with no activity for the stream idle timeout. */
  private sweep(): void {
    this.sweepTimer = null;
    if (this.closed || this.active === 0) return;
    const e = ++this.epoch;
    for (const s of this.streams) if (e - s.activeEpoch >= 4) s.idleTimeout();
    this.checkTrailingRejects();
    if (this.active > 0 && !this.closed) this.sweepTimer = this.ctx.clock.setTimer(this.onSweepFn, this.sweepMs);
  }

  private cancelSweep(): void {
    if (this.sweepTimer !== null) {
      this.sweepTimer.cancel();
      this.sweepTimer = null;
    }
  }

  // ---- timers: the first stream must open within headerTimeoutMs, idle sessions close ----

  private schedule(): void {
    if (this.timer !== null || this.closed || this.active > 0) return;
    const d = this.deadline();
    if (d !== Infinity) this.timer = this.ctx.clock.setTimer(this.onTimerFn, Math.max(1, d - this.ctx.clock.now()));
  }

  private deadline(): number {
    const lim = this.ctx.limits;
    let d = Infinity;
    if (!this.everStream && lim.headerTimeoutMs > 0) d = this.start + lim.headerTimeoutMs;
    if (lim.idleTimeoutMs > 0) d = Math.min(d, this.idleSince + lim.idleTimeoutMs);
    return d;
  }

  private onTimer(): void {
    this.timer = null;
    if (this.closed || this.active > 0) return;
    this.checkTrailingRejects();
    if (this.deadline() > this.ctx.clock.now()) {
      this.schedule();
      return;
    }
    if (!this.everStream) this.ctx.onProtocolError('header_timeout');
    this.draining = true;
    this.closeSession();
    // A peer that never answers our GOAWAY must not hold the socket: destroy after a grace period.
    this.timer = this.ctx.clock.setTimer(() => this.destroy(), 2000);
  }

  private cancelTimer(): void {
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
  }
}
