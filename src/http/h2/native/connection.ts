/**
 * One downstream HTTP/2 connection on a raw socket (h2c with prior knowledge, or h2 after TLS ALPN):
 * the native server codec. Owns: the frame dispatch (RFC 9113 section 6), header blocks and HPACK
 * state, SETTINGS both ways, flow control (our receive windows replenished as the engine consumes
 * request bodies; the send side is writer.ts), stream registry and concurrency limit, connection
 * errors (GOAWAY, then close), the abuse mitigations (rapid reset, PING
 * and SETTINGS floods: GOAWAY(ENHANCE_YOUR_CALM)), drain (GOAWAY, then close when streams are done)
 * and the connection timers (see timers.ts).
 * Must never: throw from a socket event, let one stream's failure touch another stream, exceed a
 * peer window, or accept new streams once draining.
 */
import type { Duplex } from 'node:stream';
import type { ServerConnection, ServeContext } from '../../../api/codec';
import type { ConnectionInfo } from '../../../api/stream';
import { HeaderMap } from '../../../api/headers';
import { requestMapFromRaw } from '../headers';
import { H2FloodGuard, type H2Limits } from '../protect';
import { NativeH2Stream, type NativeStreamOwner, type StreamOutcome } from './stream';
import { FrameReader, type FrameSink } from './reader';
import { FrameWriter } from './writer';
import { StreamTable } from './stream-table';
import { BlockStatus, HeaderBlockReader } from './header-block';
import { ConnectionReceiveWindow, applyPeerSettings, paddedEnd, streamConsumed } from './flow';
import { ConnectionTimers } from './timers';
import { requestFieldsProblem, trailerFieldsProblem } from './validate';
import * as fr from './frames';
import { DEFAULT_MAX_FRAME, DEFAULT_WINDOW, E, F, MAX_WINDOW, S, T } from './frames';

/**
 * Bytes written to the socket and not yet taken by the peer beyond which frames that only answer
 * the peer (PING and SETTINGS ACKs, stream refusals) are a flood: the peer sends but does not read.
 */
const MAX_UNREAD_OUT = 4 * 1024 * 1024;

export class NativeH2Connection implements ServerConnection, NativeStreamOwner, FrameSink {
  readonly info: ConnectionInfo;
  epoch = 0;
  private readonly reader: FrameReader;
  private readonly guard: H2FloodGuard;
  private readonly timers: ConnectionTimers;
  private readonly streams: StreamTable<NativeH2Stream>;
  private lastStreamId = 0;
  private goawaySent = false;
  private draining = false;
  private closed = false;
  private failed = false;
  private ending = false;
  private closeCbs: Array<() => void> | null = [];
  private rejectedLogged = false;

  private readonly blocks: HeaderBlockReader;

  // Receive flow control (the send side lives in the writer).
  private readonly recvWindow: ConnectionReceiveWindow;
  private readonly writer: FrameWriter;

  constructor(
    private readonly socket: Duplex,
    private readonly ctx: ServeContext,
    private readonly lim: H2Limits,
  ) {
    this.info = ctx.connection;
    this.guard = new H2FloodGuard(lim, ctx.clock);
    this.streams = new StreamTable<NativeH2Stream>(lim.maxConcurrentStreams);
    this.timers = new ConnectionTimers(ctx, lim.streamIdleTimeoutMs, this.streams, {
      expire: (firstStreamMissing) => this.expire(firstStreamMissing),
      destroy: () => this.destroy(),
      bumpEpoch: () => ++this.epoch,
    });
    this.blocks = new HeaderBlockReader(Math.max(lim.maxHeaderListSize * 4, 64 * 1024), lim.maxHeaderListSize);
    this.recvWindow = new ConnectionReceiveWindow(lim.initialConnectionWindowSize);
    this.reader = new FrameReader(this, DEFAULT_MAX_FRAME);
    this.writer = new FrameWriter(socket);
    const nd = (socket as { setNoDelay?: (v: boolean) => void }).setNoDelay;
    if (typeof nd === 'function') nd.call(socket, true);
    // Server preface: our SETTINGS, then the connection window raise.
    this.writer.queue(
      fr.settingsFrame([
        [S.ENABLE_PUSH, 0],
        [S.MAX_CONCURRENT_STREAMS, lim.maxConcurrentStreams],
        [S.INITIAL_WINDOW_SIZE, lim.initialStreamWindowSize],
        [S.MAX_HEADER_LIST_SIZE, lim.maxHeaderListSize],
      ]),
    );
    if (lim.initialConnectionWindowSize > DEFAULT_WINDOW) this.writer.queue(fr.windowUpdate(0, lim.initialConnectionWindowSize - DEFAULT_WINDOW));
    socket.on('data', (c: Buffer) => this.reader.push(c));
    socket.on('end', () => this.peerEnded());
    socket.on('error', (err: Error) => this.debug('h2 downstream socket error', err));
    socket.on('close', () => this.handleClose());
    socket.on('drain', () => this.writer.socketDrained());
    // A socket handed over by a sniffer may be paused with its first bytes unshifted.
    socket.resume();
    this.timers.idle(true);
  }

  get activeStreams(): number {
    return this.streams.size;
  }

  get congested(): boolean {
    return this.socket.writableNeedDrain;
  }

  onClose(cb: () => void): void {
    if (this.closeCbs === null) cb();
    else this.closeCbs.push(cb);
  }

  /** GOAWAY(NO_ERROR, last stream), finish the streams in flight, then close. */
  drain(): void {
    if (this.draining || this.closed) return;
    this.draining = true;
    this.sendGoaway(E.NO_ERROR, '');
    this.closeIfDone();
  }

  destroy(): void {
    this.reader.stop();
    this.writer.close();
    this.socket.destroy();
    this.handleClose();
  }

  // ---- FrameSink ----

  onReadError(kind: 'bad_preface' | 'frame_too_large', detail: string): void {
    if (kind === 'bad_preface') this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', detail);
    else this.fail(E.FRAME_SIZE_ERROR, 'h2_frame_size_error', detail);
  }

  onFrame(type: number, flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    if (this.blocks.assembling && type !== T.CONTINUATION) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'frame inside a header block');
    if ((type === T.PING || type === T.SETTINGS) && this.socket.writableLength > MAX_UNREAD_OUT) {
      return this.fail(E.ENHANCE_YOUR_CALM, 'h2_flood', 'the client sends control frames but does not read the answers');
    }
    switch (type) {
      case T.DATA:
        return this.onData(flags, id, buf, start, end);
      case T.HEADERS:
        return this.onHeaders(flags, id, buf, start, end);
      case T.CONTINUATION:
        if (!this.blocks.assembling || id !== this.blocks.stream) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'unexpected CONTINUATION');
        return this.onBlock(this.blocks.add(buf.subarray(start, end), flags));
      case T.PRIORITY:
        if (id === 0) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'PRIORITY on stream 0');
        if (end - start !== 5) return this.fail(E.FRAME_SIZE_ERROR, 'h2_frame_size_error', 'PRIORITY of wrong size');
        return true;
      case T.RST_STREAM:
        return this.onRst(id, buf, start, end);
      case T.SETTINGS:
        return this.onSettings(flags, id, buf, start, end);
      case T.PUSH_PROMISE:
        return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'PUSH_PROMISE from a client');
      case T.PING:
        if (id !== 0) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'PING on a stream');
        if (end - start !== 8) return this.fail(E.FRAME_SIZE_ERROR, 'h2_frame_size_error', 'PING of wrong size');
        if ((flags & F.ACK) !== 0) return true;
        if (!this.countFlood(this.guard.ping())) return false;
        this.writer.queue(fr.pingAck(buf, start));
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

  private onData(flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    if (id === 0) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'DATA on stream 0');
    const flen = end - start;
    const inc = this.recvWindow.receive(flen);
    if (inc < 0) return this.fail(E.FLOW_CONTROL_ERROR, 'h2_flow_control_error', 'connection window exceeded');
    if (inc > 0) this.writer.queue(fr.windowUpdate(0, inc));
    if (id > this.lastStreamId) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'DATA on an idle stream');
    let from = start;
    if ((flags & F.PADDED) !== 0) {
      end = paddedEnd(buf, start, end);
      if (end < 0) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'DATA padding too long');
      from = start + 1;
    }
    const s = this.streams.get(id);
    if (s === undefined || s.remoteClosed) return true; // closed or reset by us: frames in flight are dropped
    s.recvWindow -= flen;
    if (s.recvWindow < 0) {
      s.resetWith(E.FLOW_CONTROL_ERROR);
      return true;
    }
    const overhead = flen - (end - from);
    if (overhead > 0) this.consumed(s, overhead);
    s.data(buf.subarray(from, end), (flags & F.END_STREAM) !== 0);
    return true;
  }

  private onHeaders(flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    if (id === 0 || (id & 1) === 0) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', `HEADERS on stream ${id}`);
    let from = start;
    if ((flags & F.PADDED) !== 0) {
      end = paddedEnd(buf, start, end);
      if (end < 0) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'HEADERS padding too long');
      from++;
    }
    if ((flags & F.PRIORITY) !== 0) from += 5;
    if (from > end) return this.fail(E.FRAME_SIZE_ERROR, 'h2_frame_size_error', 'HEADERS too short');
    return this.onBlock(this.blocks.begin(id, flags, buf.subarray(from, end)));
  }

  private onBlock(st: BlockStatus): boolean {
    const b = this.blocks;
    if (st === BlockStatus.More) return true;
    if (st === BlockStatus.TooLarge) return this.fail(E.ENHANCE_YOUR_CALM, 'h2_header_block_too_large', `header block over ${b.blockLimit} bytes`);
    if (st === BlockStatus.Bad) return this.fail(E.COMPRESSION_ERROR, 'h2_compression_error', b.error);
    const id = b.stream;
    const raw = b.raw;
    const size = b.size;
    const endStream = b.endStream;
    if (id <= this.lastStreamId) return this.onTrailers(id, raw, size, endStream);
    this.lastStreamId = id;
    if (this.draining || this.failed) {
      this.writer.queue(fr.rstStream(id, E.REFUSED_STREAM));
      return true;
    }
    if (this.streams.size >= this.lim.maxConcurrentStreams) return this.reject(id, E.REFUSED_STREAM, 'over max_concurrent_streams');
    if (size > this.lim.maxHeaderListSize) return this.reject(id, E.ENHANCE_YOUR_CALM, `header list of ${size} bytes`);
    const problem = requestFieldsProblem(raw);
    if (problem !== null) return this.reject(id, E.PROTOCOL_ERROR, problem);
    this.openStream(id, raw, size, endStream);
    return true;
  }

  private openStream(id: number, raw: string[], size: number, endStream: boolean): void {
    const s = new NativeH2Stream(
      this,
      id,
      requestMapFromRaw(raw),
      endStream,
      this.ctx.clock.now(),
      size,
      this.writer.peerInitialWindow,
      this.lim.initialStreamWindowSize,
    );
    if (s.expectedLength > 0 && endStream) {
      s.resetWith(E.PROTOCOL_ERROR);
      this.rejected(id, 'content-length without a body');
      return;
    }
    this.streams.add(s);
    this.timers.streamOpened();
    try {
      this.ctx.onStream(s);
    } catch (err) {
      this.ctx.log.error('h2 stream handler threw', { error: String(err) });
      s.reset();
    }
  }

  private onTrailers(id: number, raw: string[], size: number, endStream: boolean): boolean {
    const s = this.streams.get(id);
    if (s === undefined || s.remoteClosed) return true; // a stream we already closed
    if (!endStream) {
      s.resetWith(E.PROTOCOL_ERROR);
      return true;
    }
    if (size > this.lim.maxHeaderListSize || trailerFieldsProblem(raw) !== null) {
      s.resetWith(E.PROTOCOL_ERROR);
      return true;
    }
    s.trailersReceived(raw.length === 0 ? null : new HeaderMap(raw));
    return true;
  }

  private onRst(id: number, buf: Buffer, start: number, end: number): boolean {
    if (id === 0) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'RST_STREAM on stream 0');
    if (end - start !== 4) return this.fail(E.FRAME_SIZE_ERROR, 'h2_frame_size_error', 'RST_STREAM of wrong size');
    if (id > this.lastStreamId) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'RST_STREAM on an idle stream');
    const s = this.streams.get(id);
    if (s !== undefined) s.peerResetStream();
    return true;
  }

  private onSettings(flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    if (id !== 0) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'SETTINGS on a stream');
    const len = end - start;
    if ((flags & F.ACK) !== 0) {
      return len === 0 ? true : this.fail(E.FRAME_SIZE_ERROR, 'h2_frame_size_error', 'SETTINGS ACK with a payload');
    }
    if (len % 6 !== 0) return this.fail(E.FRAME_SIZE_ERROR, 'h2_frame_size_error', 'SETTINGS of wrong size');
    if (!this.countFlood(this.guard.settingsFrame())) return false;
    const p = applyPeerSettings(buf, start, end, this.writer, () => this.streams.values(), null);
    if (p !== null) return this.fail(p.code, p.code === E.FLOW_CONTROL_ERROR ? 'h2_flow_control_error' : 'h2_protocol_error', p.detail);
    this.writer.queue(fr.SETTINGS_ACK);
    return true;
  }

  private onGoaway(id: number, buf: Buffer, start: number, end: number): boolean {
    if (id !== 0) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'GOAWAY on a stream');
    if (end - start < 8) return this.fail(E.FRAME_SIZE_ERROR, 'h2_frame_size_error', 'GOAWAY too short');
    const code = buf.readUInt32BE(start + 4);
    if (code !== E.NO_ERROR) this.ctx.onProtocolError('h2_goaway_' + code);
    this.draining = true;
    this.closeIfDone();
    return true;
  }

  private onWindowUpdate(id: number, buf: Buffer, start: number, end: number): boolean {
    if (end - start !== 4) return this.fail(E.FRAME_SIZE_ERROR, 'h2_frame_size_error', 'WINDOW_UPDATE of wrong size');
    const inc = buf.readUInt32BE(start) & MAX_WINDOW;
    if (id === 0) {
      if (inc === 0) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'WINDOW_UPDATE of 0');
      if (!this.writer.addConnectionWindow(inc)) return this.fail(E.FLOW_CONTROL_ERROR, 'h2_flow_control_error', 'connection window overflow');
      return true;
    }
    if (id > this.lastStreamId) return this.fail(E.PROTOCOL_ERROR, 'h2_protocol_error', 'WINDOW_UPDATE on an idle stream');
    const s = this.streams.get(id);
    if (s === undefined) return true;
    if (inc === 0) {
      s.resetWith(E.PROTOCOL_ERROR);
      return true;
    }
    s.sendWindow += inc;
    if (s.sendWindow > MAX_WINDOW) {
      s.resetWith(E.FLOW_CONTROL_ERROR);
      return true;
    }
    s.activeEpoch = this.epoch;
    if (s.pendingBytes > 0 || s.endQueued) this.wantsFlush(s);
    return true;
  }

  // ---- NativeStreamOwner ----

  sendHeaders(s: NativeH2Stream, kv: string[], endStream: boolean): void {
    this.writer.headers(s.id, kv, endStream);
  }

  wantsFlush(s: NativeH2Stream): void {
    this.writer.wantsFlush(s);
  }

  consumed(s: NativeH2Stream, n: number): void {
    if (s.remoteClosed) return; // no WINDOW_UPDATE for a stream the peer finished sending on
    const inc = streamConsumed(s, n, this.lim.initialStreamWindowSize);
    if (inc > 0) this.writer.queue(fr.windowUpdate(s.id, inc));
  }

  sendReset(s: NativeH2Stream, code: number): void {
    this.writer.queue(fr.rstStream(s.id, code));
  }

  waitSocketDrain(s: NativeH2Stream): void {
    this.writer.waitSocketDrain(s);
  }

  streamClosed(s: NativeH2Stream, outcome: StreamOutcome): void {
    this.streams.delete(s);
    this.writer.forget(s);
    if (outcome === 'complete') this.guard.completedStream();
    else if (outcome === 'peer_reset' && !this.failed && !this.closed) this.countFlood(this.guard.prematureReset());
    if (this.streams.size === 0) this.timers.idle(false);
    this.closeIfDone();
  }

  debug(msg: string, detail: unknown): void {
    this.ctx.log.debug(msg, { error: detail instanceof Error ? detail.message : String(detail) });
  }

  // ---- lifecycle ----

  private sendGoaway(code: number, debug: string): void {
    if (this.goawaySent) return;
    this.goawaySent = true;
    this.writer.queue(fr.goaway(this.lastStreamId, code, debug));
  }

  private closeIfDone(): void {
    if (!this.draining || this.closed || this.streams.size > 0) return;
    this.sendGoaway(E.NO_ERROR, '');
    this.writer.flush();
    this.endSocket();
  }

  /**
   * FIN after everything queued, then close the socket once it is flushed (the peer may keep its
   * side open while it holds unread streams); the grace timer covers a peer that stops reading.
   */
  private endSocket(): void {
    if (this.ending) return;
    this.ending = true;
    const sock = this.socket;
    sock.end(() => setImmediate(destroySocket, sock));
    this.timers.destroyAfterGrace();
  }

  /** A connection error: count, log, GOAWAY(code), abort every stream, close. Returns false. */
  private fail(code: number, kind: string, detail: string): boolean {
    if (this.failed || this.closed) return false;
    this.failed = true;
    this.draining = true;
    this.reader.stop();
    this.ctx.onProtocolError(kind);
    const fields = { kind, detail, listener: this.info.listener, remote: `${this.info.remoteAddress}:${this.info.remotePort}` };
    if (code === E.ENHANCE_YOUR_CALM) this.ctx.log.warn('h2 downstream connection closed: abuse mitigation', { ...fields, active: this.streams.size });
    else this.ctx.log.warn('h2 downstream connection closed: protocol violation', fields);
    this.sendGoaway(code, code === E.ENHANCE_YOUR_CALM ? '' : detail.slice(0, 64));
    for (const s of this.streams.values()) s.connectionClosed('downstream connection error');
    this.writer.flush();
    this.endSocket();
    return false;
  }

  /** A flood threshold crossed (kind non-null) closes the connection; returns false then. */
  private countFlood(kind: string | null): boolean {
    return kind === null ? true : this.fail(E.ENHANCE_YOUR_CALM, kind, kind);
  }

  /** Refuses a new stream (RST_STREAM), counts it; many in a window count as a rapid reset. */
  private reject(id: number, code: number, why: string): boolean {
    if (this.socket.writableLength > MAX_UNREAD_OUT) return this.fail(E.ENHANCE_YOUR_CALM, 'h2_flood', 'refused streams pile up unread');
    this.writer.queue(fr.rstStream(id, code));
    this.rejected(id, why);
    return this.countFlood(this.guard.prematureReset());
  }

  private rejected(id: number, why: string): void {
    this.ctx.onProtocolError('h2_rejected_stream');
    const fields = { stream: id, why, listener: this.info.listener, remote: `${this.info.remoteAddress}:${this.info.remotePort}` };
    if (this.rejectedLogged) this.ctx.log.debug('h2 downstream stream rejected', fields);
    else {
      this.rejectedLogged = true;
      this.ctx.log.warn('h2 downstream stream rejected (malformed or oversized headers)', fields);
    }
  }

  /** The timers decided the connection idled out (or never opened a stream). */
  private expire(firstStreamMissing: boolean): void {
    if (firstStreamMissing) this.ctx.onProtocolError('header_timeout');
    this.draining = true;
    this.closeIfDone();
  }

  private peerEnded(): void {
    for (const s of this.streams.values()) s.connectionClosed('downstream closed the connection');
    this.draining = true;
    this.closeIfDone();
  }

  private handleClose(): void {
    if (this.closeCbs === null) return;
    this.closed = true;
    this.reader.stop();
    this.writer.close();
    this.timers.stop();
    for (const s of this.streams.values()) s.connectionClosed('downstream connection closed');
    const cbs = this.closeCbs;
    this.closeCbs = null;
    for (const cb of cbs) cb();
  }
}

function destroySocket(s: Duplex): void {
  s.destroy();
}

