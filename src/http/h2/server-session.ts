/**
 * One downstream HTTP/2 connection (h2c with prior knowledge): a node:http2 server session over
 * the accepted socket, turning each stream into an H2ServerStream. Owns: session settings
 * (max concurrent streams, max header list size, windows), the first-stream and idle timeouts on
 * the injected Clock, protocol-error accounting, drain (GOAWAY, then close when streams are done).
 * Must never: throw from a node event, let one stream's failure touch another, or accept new
 * streams once draining.
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

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_REFUSED_STREAM } = http2.constants;

/** Tunables of the downstream HTTP/2 codec. */
export interface Http2ServerOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients. Default 128. */
  maxConcurrentStreams?: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE (per-stream receive window). Default 256 KiB. */
  initialWindowSize?: number;
  /** Session receive window. Default 1 MiB. */
  connectionWindowSize?: number;
  /** node:http2 maxSessionMemory, in MB. Default 10. */
  maxSessionMemoryMb?: number;
}

export const H2_DEFAULTS: Required<Http2ServerOptions> = {
  maxConcurrentStreams: 128,
  initialWindowSize: 256 * 1024,
  connectionWindowSize: 1024 * 1024,
  maxSessionMemoryMb: 10,
};

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

  constructor(
    private readonly socket: Duplex,
    private readonly ctx: ServeContext,
    opts: Required<Http2ServerOptions>,
  ) {
    this.info = ctx.connection;
    this.start = this.idleSince = ctx.clock.now();
    const settings: Settings = {
      enablePush: false,
      maxConcurrentStreams: opts.maxConcurrentStreams,
      initialWindowSize: opts.initialWindowSize,
      maxHeaderListSize: ctx.limits.maxHeaderBytes,
    };
    const s = (socket as Partial<Socket>).setNoDelay;
    if (typeof s === 'function') s.call(socket, true);
    let session: ServerHttp2Session;
    try {
      session = makeSession(socket, { settings, maxSessionMemory: opts.maxSessionMemoryMb, maxHeaderListPairs: 1024 });
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
    session.on('error', (err: Error & { code?: string }) => {
      ctx.onProtocolError('h2_session_error');
      ctx.log.debug('h2 downstream session error', { error: err.message, code: err.code });
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
        if (opts.connectionWindowSize > 65535) session.setLocalWindowSize(opts.connectionWindowSize);
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

  streamClosed(_s: H2ServerStream): void {
    this.active--;
    if (this.active === 0) {
      this.idleSince = this.ctx.clock.now();
      this.schedule();
    }
  }

  debug(msg: string, err: unknown): void {
    this.ctx.log.debug(msg, { error: err instanceof Error ? err.message : String(err) });
  }

  // ---- session events ----

  private onStream(raw: ServerHttp2Stream, flags: number, rawHeaders: string[]): void {
    if (this.draining || this.closed) {
      raw.on('error', () => {});
      raw.close(NGHTTP2_REFUSED_STREAM);
      return;
    }
    this.everStream = true;
    this.active++;
    this.cancelTimer();
    const headers = requestMapFromRaw(rawHeaders);
    let headBytes = 0;
    for (let i = 0; i < rawHeaders.length; i++) headBytes += rawHeaders[i].length;
    const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    const s = new H2ServerStream(this, raw, headers, endStream, this.ctx.clock.now(), headBytes + (rawHeaders.length >> 1) * 2);
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
