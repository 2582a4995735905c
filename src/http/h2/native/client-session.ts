/**
 * One upstream HTTP/2 connection (h2c with prior knowledge, or h2 over TLS with ALPN h2) carrying
 * many exchanges: the native client codec on a raw socket. Owns: connecting (preface + SETTINGS
 * sent at once; ready once the peer's first SETTINGS arrived, within the connect timeout; a TLS
 * server that did not pick h2 is refused), the frame dispatch for responses (header blocks and
 * HPACK state, DATA with receive flow control, RST_STREAM, SETTINGS both ways, PING, GOAWAY,
 * WINDOW_UPDATE; the send side is writer.ts), odd increasing stream ids, the peer's stream limit,
 * GOAWAY bookkeeping (closing: no new streams; streams above the last id handed back as
 * unprocessed), connection errors from a misbehaving upstream (GOAWAY with the code, every
 * exchange in flight gets an UpstreamError), PING keep-alive while idle (no ack in time:
 * destroyed) and idle expiry, all on the Clock.
 * Must never: start a stream once closing, throw from a socket event, leave an exchange without
 * an outcome when the connection goes, or report its own end twice.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Clock, TimerHandle } from '../../../api/clock';
import { UpstreamError } from '../../../api/errors';
import { H2_PREFACE } from '../sniff';
import { FrameReader, type FrameSink } from './reader';
import { FrameWriter } from './writer';
import { StreamTable } from './stream-table';
import { BlockStatus, HeaderBlockReader } from './header-block';
import { ConnectionReceiveWindow, applyPeerSettings, paddedEnd, streamConsumed } from './flow';
import * as fr from './frames';
import { DEFAULT_MAX_FRAME, DEFAULT_WINDOW, E, F, FRAME_HEADER, MAX_WINDOW, S, T } from './frames';
import type { H2Exchange } from './client-exchange';

/** TLS options for an https:// session (see upstream/connect.ts tlsConnectOptions). */
export type SecureClientOptions = tls.ConnectionOptions;

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

/** Response header lists above this size reset the stream; header blocks above 4× it fail the connection. */
const MAX_HEADER_LIST = 256 * 1024;
const MAX_STREAM_ID = 0x7fff_ffff;

export class H2ClientSession implements FrameSink {
  ready = false;
  /** GOAWAY received or sent, or stream ids exhausted: never start a new stream here. */
  closing = false;
  closed = false;
  /** Streams open on this session (counted by the pool). */
  active = 0;
  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS (unlimited until it says otherwise). */
  maxStreams = MAX_STREAM_ID;
  /** Last stream id of a received GOAWAY, -1 while none. */
  goawayLastStreamId = -1;
  /** Our SETTINGS_INITIAL_WINDOW_SIZE: new streams' receive window. */
  readonly recvInitialWindow: number;
  readonly writer: FrameWriter;

  private readonly socket: net.Socket;
  private readonly reader: FrameReader;
  private readonly blocks = new HeaderBlockReader(MAX_HEADER_LIST * 4, MAX_HEADER_LIST);
  private readonly streams = new StreamTable<H2Exchange>(128);
  private nextId = 1;
  private goawaySent = false;
  private failed = false;
  private ending = false;

  private readonly recvWindow: ConnectionReceiveWindow;
  private readonly connWindowTarget: number;

  private connectTimer: TimerHandle | null = null;
  private idleTimer: TimerHandle | null = null;
  private ackTimer: TimerHandle | null = null;
  private idleSince = 0;
  private lastPing = 0;
  private pingSeq = 0;
  private timedOut = false;
  private lastError: Error | null = null;

  constructor(
    private readonly owner: H2SessionOwner,
    host: string,
    port: number,
    private readonly clock: Clock,
    private readonly t: H2SessionTimings,
    secure: SecureClientOptions | null = null,
  ) {
    this.recvInitialWindow = Math.min(Math.max(t.initialWindowSize, 0), MAX_WINDOW);
    this.connWindowTarget = Math.min(Math.max(t.connectionWindowSize, DEFAULT_WINDOW), MAX_WINDOW);
    this.recvWindow = new ConnectionReceiveWindow(this.connWindowTarget);
    const sock = (this.socket =
      secure === null ? net.connect({ host, port }) : tls.connect({ ...secure, host, port, ALPNProtocols: ['h2'] }));
    sock.setNoDelay(true);
    this.reader = new FrameReader(this, DEFAULT_MAX_FRAME, false);
    this.writer = new FrameWriter(sock);
    const settings = fr.settingsFrame([
      [S.ENABLE_PUSH, 0],
      [S.INITIAL_WINDOW_SIZE, this.recvInitialWindow],
    ]);
    const parts = [H2_PREFACE, settings];
    if (this.connWindowTarget > DEFAULT_WINDOW) parts.push(fr.windowUpdate(0, this.connWindowTarget - DEFAULT_WINDOW));
    this.writer.queue(Buffer.concat(parts));
    if (secure !== null) sock.once('secureConnect', () => this.checkAlpn());
    sock.on('data', (c: Buffer) => this.reader.push(c));
    sock.on('error', (e: Error) => (this.lastError = e));
    sock.on('close', () => this.onClose());
    sock.on('drain', () => this.writer.socketDrained());
    if (t.connectTimeoutMs > 0) {
      this.connectTimer = clock.setTimer(() => {
        this.connectTimer = null;
        if (this.ready) return;
        this.timedOut = true;
        this.destroy();
      }, t.connectTimeoutMs);
    }
  }

  /** Room for one more stream. */
  get usable(): boolean {
    return this.ready && !this.closing && !this.closed && this.active < this.maxStreams;
  }

  /** Whether the socket is over its high-water mark. */
  get congested(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Graceful close: GOAWAY, streams in flight finish, then the socket is ended. */
  close(): void {
    this.markClosing();
    if (this.closed || this.ending) return;
    this.sendGoaway(E.NO_ERROR, '');
    if (this.streams.size > 0) return;
    this.writer.flush();
    this.endSocket();
  }

  destroy(): void {
    this.closing = true;
    this.socket.destroy();
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

  // ---- exchange side ----

  /**
   * Opens a stream for `ex`: assigns the next id, queues its HEADERS (request fields `kv`, already
   * pseudo-headers first). Returns the id, or 0 when no stream may start here.
   */
  openStream(ex: H2Exchange, kv: readonly string[], endStream: boolean): number {
    if (!this.ready || this.closing || this.closed) return 0;
    const id = this.nextId;
    this.nextId += 2;
    ex.id = id;
    this.streams.add(ex);
    this.active++;
    this.writer.headers(id, kv, endStream);
    // Ids exhausted: no new streams (the pool skips it; it closes once idle).
    if (this.nextId > MAX_STREAM_ID) this.closing = true;
    return id;
  }

  /** The exchange's stream is over (either way): forget it. */
  streamClosed(ex: H2Exchange): void {
    this.streams.delete(ex);
    this.writer.forget(ex);
  }

  resetStream(ex: H2Exchange, code: number): void {
    this.writer.queue(fr.rstStream(ex.id, code));
  }

  /** The exchange handed `n` response-body bytes on: its receive window may be replenished. */
  consumed(ex: H2Exchange, n: number): void {
    const inc = streamConsumed(ex, n, this.recvInitialWindow);
    if (inc > 0) this.writer.queue(fr.windowUpdate(ex.id, inc));
  }

  // ---- FrameSink ----

  onReadError(_kind: 'bad_preface' | 'frame_too_large', detail: string): void {
    this.fail(E.FRAME_SIZE_ERROR, detail);
  }

  onFrame(type: number, flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    if (this.blocks.assembling && type !== T.CONTINUATION) return this.fail(E.PROTOCOL_ERROR, 'frame inside a header block');
    switch (type) {
      case T.DATA:
        return this.onData(flags, id, buf, start, end);
      case T.HEADERS:
        return this.onHeaders(flags, id, buf, start, end);
      case T.CONTINUATION:
        if (!this.blocks.assembling || id !== this.blocks.stream) return this.fail(E.PROTOCOL_ERROR, 'unexpected CONTINUATION');
        return this.onBlock(this.blocks.add(buf.subarray(start, end), flags));
      case T.PRIORITY:
        if (id === 0) return this.fail(E.PROTOCOL_ERROR, 'PRIORITY on stream 0');
        if (end - start !== 5) return this.fail(E.FRAME_SIZE_ERROR, 'PRIORITY of wrong size');
        return true;
      case T.RST_STREAM:
        return this.onRst(id, buf, start, end);
      case T.SETTINGS:
        return this.onSettings(flags, id, buf, start, end);
      case T.PUSH_PROMISE:
        return this.fail(E.PROTOCOL_ERROR, 'PUSH_PROMISE although push is disabled');
      case T.PING:
        if (id !== 0) return this.fail(E.PROTOCOL_ERROR, 'PING on a stream');
        if (end - start !== 8) return this.fail(E.FRAME_SIZE_ERROR, 'PING of wrong size');
        if ((flags & F.ACK) !== 0) this.pingAcked();
        else this.writer.queue(fr.pingAck(buf, start));
        return true;
      case T.GOAWAY:
        return this.onGoaway(id, buf, start, end);
      case T.WINDOW_UPDATE:
        return this.onWindowUpdate(id, buf, start, end);
      default:
        return true; // unknown frame types are ignored (RFC 9113 5.5)
    }
  }

  // ---- frames ----

  /** A stream id we never opened (even ids are the server's, which may not push). */
  private idle(id: number): boolean {
    return (id & 1) === 0 || id >= this.nextId;
  }

  private onData(flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    if (id === 0) return this.fail(E.PROTOCOL_ERROR, 'DATA on stream 0');
    const flen = end - start;
    const inc = this.recvWindow.receive(flen);
    if (inc < 0) return this.fail(E.FLOW_CONTROL_ERROR, 'connection window exceeded');
    if (inc > 0) this.writer.queue(fr.windowUpdate(0, inc));
    if (this.idle(id)) return this.fail(E.PROTOCOL_ERROR, 'DATA on an idle stream');
    let from = start;
    if ((flags & F.PADDED) !== 0) {
      end = paddedEnd(buf, start, end);
      if (end < 0) return this.fail(E.PROTOCOL_ERROR, 'DATA padding too long');
      from = start + 1;
    }
    const ex = this.streams.get(id);
    if (ex === undefined) return true; // closed or reset by us: frames in flight are dropped
    ex.recvWindow -= flen;
    if (ex.recvWindow < 0) {
      ex.streamError(E.FLOW_CONTROL_ERROR, 'upstream exceeded the stream window');
      return true;
    }
    const overhead = flen - (end - from);
    if (overhead > 0) this.consumed(ex, overhead);
    ex.onData(buf.subarray(from, end), (flags & F.END_STREAM) !== 0);
    return true;
  }

  private onHeaders(flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    if (id === 0) return this.fail(E.PROTOCOL_ERROR, 'HEADERS on stream 0');
    if (this.idle(id)) return this.fail(E.PROTOCOL_ERROR, `HEADERS on idle stream ${id}`);
    let from = start;
    if ((flags & F.PADDED) !== 0) {
      end = paddedEnd(buf, start, end);
      if (end < 0) return this.fail(E.PROTOCOL_ERROR, 'HEADERS padding too long');
      from++;
    }
    if ((flags & F.PRIORITY) !== 0) from += 5;
    if (from > end) return this.fail(E.FRAME_SIZE_ERROR, 'HEADERS too short');
    return this.onBlock(this.blocks.begin(id, flags, buf.subarray(from, end)));
  }

  private onBlock(st: BlockStatus): boolean {
    const b = this.blocks;
    if (st === BlockStatus.More) return true;
    if (st === BlockStatus.TooLarge) return this.fail(E.ENHANCE_YOUR_CALM, 'header block too large');
    if (st === BlockStatus.Bad) return this.fail(E.COMPRESSION_ERROR, 'HPACK: ' + b.error);
    const id = b.stream;
    const size = b.size;
    const ex = this.streams.get(id);
    if (ex === undefined) return true; // decoded for the HPACK state only
    if (size > MAX_HEADER_LIST) {
      ex.streamError(E.PROTOCOL_ERROR, `upstream response header list of ${size} bytes`);
      return true;
    }
    ex.onHeaderBlock(b.raw, b.endStream);
    return true;
  }

  private onRst(id: number, buf: Buffer, start: number, end: number): boolean {
    if (id === 0) return this.fail(E.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    if (end - start !== 4) return this.fail(E.FRAME_SIZE_ERROR, 'RST_STREAM of wrong size');
    if (this.idle(id)) return this.fail(E.PROTOCOL_ERROR, 'RST_STREAM on an idle stream');
    const ex = this.streams.get(id);
    if (ex !== undefined) ex.onReset(buf.readUInt32BE(start));
    return true;
  }

  private onSettings(flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    if (id !== 0) return this.fail(E.PROTOCOL_ERROR, 'SETTINGS on a stream');
    const len = end - start;
    if ((flags & F.ACK) !== 0) return len === 0 ? true : this.fail(E.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
    if (len % 6 !== 0) return this.fail(E.FRAME_SIZE_ERROR, 'SETTINGS of wrong size');
    const w = this.writer;
    const p = applyPeerSettings(buf, start, end, w, () => this.streams.values(), (v) => (this.maxStreams = v));
    if (p !== null) return this.fail(p.code, p.detail);
    w.queue(fr.SETTINGS_ACK);
    if (this.ready) {
      this.owner.onSettings(this);
      return true;
    }
    this.ready = true;
    if (this.connectTimer !== null) {
      this.connectTimer.cancel();
      this.connectTimer = null;
    }
    this.owner.onReady(this);
    if (this.active === 0) this.becameIdle();
    return true;
  }

  private onGoaway(id: number, buf: Buffer, start: number, end: number): boolean {
    if (id !== 0) return this.fail(E.PROTOCOL_ERROR, 'GOAWAY on a stream');
    if (end - start < 8) return this.fail(E.FRAME_SIZE_ERROR, 'GOAWAY too short');
    const last = buf.readUInt32BE(start) & MAX_STREAM_ID;
    const code = buf.readUInt32BE(start + 4);
    if (this.goawayLastStreamId < 0 || last < this.goawayLastStreamId) this.goawayLastStreamId = last;
    this.markClosing();
    // Streams above the last id were never processed: handed back for a replay elsewhere.
    const err = new UpstreamError('reset', `upstream reset: GOAWAY with code ${code}`, false);
    for (const ex of this.streams.values()) {
      if (ex.id > last) ex.connectionLost(true, err);
      else if (code !== E.NO_ERROR) ex.connectionLost(false, err);
    }
    if (code !== E.NO_ERROR) {
      this.lastError = err;
      this.reader.stop();
      this.destroy();
      return false;
    }
    this.close();
    return true;
  }

  private onWindowUpdate(id: number, buf: Buffer, start: number, end: number): boolean {
    if (end - start !== 4) return this.fail(E.FRAME_SIZE_ERROR, 'WINDOW_UPDATE of wrong size');
    const inc = buf.readUInt32BE(start) & MAX_WINDOW;
    if (id === 0) {
      if (inc === 0) return this.fail(E.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
      if (!this.writer.addConnectionWindow(inc)) return this.fail(E.FLOW_CONTROL_ERROR, 'connection window overflow');
      return true;
    }
    if (this.idle(id)) return this.fail(E.PROTOCOL_ERROR, 'WINDOW_UPDATE on an idle stream');
    const ex = this.streams.get(id);
    if (ex === undefined) return true;
    if (inc === 0) {
      ex.streamError(E.PROTOCOL_ERROR, 'upstream sent a stream WINDOW_UPDATE of 0');
      return true;
    }
    ex.sendWindow += inc;
    if (ex.sendWindow > MAX_WINDOW) {
      ex.streamError(E.FLOW_CONTROL_ERROR, 'upstream overflowed the stream window');
      return true;
    }
    if (ex.pendingBytes > 0 || ex.endQueued) this.writer.wantsFlush(ex);
    return true;
  }

  // ---- lifecycle ----

  private checkAlpn(): void {
    const proto = (this.socket as tls.TLSSocket).alpnProtocol;
    if (proto === 'h2') return;
    this.lastError = new Error(`the server did not select h2 by ALPN (${proto === false || proto === undefined ? 'none' : proto})`);
    this.destroy();
  }

  private markClosing(): void {
    if (this.closing) return;
    this.closing = true;
    this.owner.onGoaway(this);
  }

  private sendGoaway(code: number, debug: string): void {
    if (this.goawaySent) return;
    this.goawaySent = true;
    this.writer.queue(fr.goaway(0, code, debug));
  }

  private endSocket(): void {
    if (this.ending) return;
    this.ending = true;
    const sock = this.socket;
    if (sock.destroyed) return;
    sock.end(() => sock.destroy());
  }

  /** A connection error caused by the upstream: GOAWAY(code), every exchange fails, close. Returns false. */
  private fail(code: number, detail: string): boolean {
    if (this.failed || this.closed) return false;
    this.failed = true;
    this.reader.stop();
    this.markClosing();
    const err = new UpstreamError('protocol_error', 'upstream HTTP/2 protocol error: ' + detail, false);
    this.lastError = err;
    this.sendGoaway(code, detail.slice(0, 64));
    for (const ex of this.streams.values()) ex.connectionLost(false, err);
    this.writer.flush();
    this.endSocket();
    return false;
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    this.cancelTimers();
    this.reader.stop();
    this.writer.close();
    if (this.streams.size > 0) {
      const err = new UpstreamError('reset', 'upstream reset: connection closed', false);
      const g = this.goawayLastStreamId;
      for (const ex of this.streams.values()) ex.connectionLost(g >= 0 && ex.id > g, err);
    }
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
    if (this.ackTimer !== null || this.closing) return; // one outstanding ping at a time
    const b = Buffer.alloc(FRAME_HEADER + 8);
    fr.putHeader(b, 0, 8, T.PING, 0, 0);
    b.writeUInt32BE(++this.pingSeq >>> 0, FRAME_HEADER + 4);
    this.writer.queue(b);
    if (this.t.pingTimeoutMs > 0) {
      this.ackTimer = this.clock.setTimer(() => {
        this.ackTimer = null;
        if (!this.closed) this.destroy();
      }, this.t.pingTimeoutMs);
    }
  }

  private pingAcked(): void {
    if (this.ackTimer !== null) {
      this.ackTimer.cancel();
      this.ackTimer = null;
    }
  }

  private cancelTimers(): void {
    for (const t of [this.connectTimer, this.idleTimer, this.ackTimer]) if (t !== null) t.cancel();
    this.connectTimer = this.idleTimer = this.ackTimer = null;
  }
}
