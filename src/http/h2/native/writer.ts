/**
 * The output side of one native HTTP/2 connection: frames queued during a turn of the event loop
 * go to the socket in one write (flushed from setImmediate, so responses finished by several I/O
 * callbacks of one poll share a syscall); response DATA is framed at flush time within the peer's
 * stream and connection windows and its SETTINGS_MAX_FRAME_SIZE, and only while the socket holds
 * less than SOCKET_LIMIT (the rest waits for its drain), with END_STREAM on the last DATA
 * frame or the trailers (a server stream's response or a client exchange's request: OutStream);
 * HEADERS are HPACK-encoded when queued (encoder state follows wire order).
 * Owns: the send windows, the HPACK encoder, the flush list and the socket-drain waiters.
 * Must never: exceed a send window, reorder a stream's frames, or write after close().
 */
import type { Duplex } from 'node:stream';
import { HpackEncoder } from '../hpack';
import type { OutStream } from './out-stream';
import * as fr from './frames';
import { DEFAULT_MAX_FRAME, DEFAULT_WINDOW, F, FRAME_HEADER, MAX_WINDOW, T } from './frames';

/** Outgoing batches up to this size are joined into one buffer; larger ones are corked. */
const JOIN_LIMIT = 64 * 1024;
/**
 * Bytes queued in the socket (plus the batch being built) beyond which DATA waits for the socket to
 * drain: the windows bound what the peer accepts, this bounds what we buffer when it reads slowly.
 */
const SOCKET_LIMIT = 256 * 1024;

export class FrameWriter {
  private readonly encoder = new HpackEncoder();
  private out: Buffer[] = [];
  private outBytes = 0;
  private scheduled = false;
  private closed = false;
  private flushList: OutStream[] = [];
  private drainWaiters: OutStream[] = [];
  private readonly blockedOnConn = new Set<OutStream>();
  /** Streams with DATA waiting for the socket to drain (kept flagged flushQueued meanwhile). */
  private blockedOnSocket: OutStream[] = [];
  private connWindow = DEFAULT_WINDOW;
  /** The peer's SETTINGS_INITIAL_WINDOW_SIZE: new streams' send window. */
  peerInitialWindow = DEFAULT_WINDOW;
  /** The peer's SETTINGS_MAX_FRAME_SIZE. */
  peerMaxFrame = DEFAULT_MAX_FRAME;

  constructor(private readonly socket: Duplex) {}

  /** Queues a whole frame (or frames) as is. */
  queue(b: Buffer): void {
    if (this.closed) return;
    this.out.push(b);
    this.outBytes += b.length;
    this.schedule();
  }

  /** HPACK-encodes `kv` now and queues it as HEADERS (+ CONTINUATION when over the frame size). */
  headers(streamId: number, kv: readonly string[], endStream: boolean): void {
    const max = HpackEncoder.maxLength(kv);
    const buf = Buffer.allocUnsafe(FRAME_HEADER + max);
    const e = this.encoder.encodeInto(kv, buf, FRAME_HEADER);
    const len = e - FRAME_HEADER;
    if (len <= this.peerMaxFrame) {
      fr.putHeader(buf, 0, len, T.HEADERS, F.END_HEADERS | (endStream ? F.END_STREAM : 0), streamId);
      this.queue(buf.subarray(0, e));
    } else {
      this.queue(fr.headersFrames(streamId, buf.subarray(FRAME_HEADER, e), len, endStream, this.peerMaxFrame));
    }
  }

  /**
   * The peer's SETTINGS_INITIAL_WINDOW_SIZE changed: every open stream's send window moves by the
   * difference (streams with data waiting are flushed when it grew). False when a window overflows.
   */
  setPeerInitialWindow(v: number, open: Iterable<OutStream>): boolean {
    const delta = v - this.peerInitialWindow;
    this.peerInitialWindow = v;
    for (const s of open) {
      s.sendWindow += delta;
      if (s.sendWindow > MAX_WINDOW) return false;
      if (delta > 0 && s.pendingBytes > 0) this.wantsFlush(s);
    }
    return true;
  }

  setPeerTableSize(n: number): void {
    this.encoder.setPeerMaxTableSize(n);
  }

  /** The stream has DATA or an end to send: frame it at the next flush. */
  wantsFlush(s: OutStream): void {
    if (s.flushQueued) return;
    s.flushQueued = true;
    this.flushList.push(s);
    this.schedule();
  }

  /** Calls s.fireDrain() once the socket drained. */
  waitSocketDrain(s: OutStream): void {
    this.drainWaiters.push(s);
  }

  /** WINDOW_UPDATE on stream 0; false when the window would overflow (FLOW_CONTROL_ERROR). */
  addConnectionWindow(inc: number): boolean {
    this.connWindow += inc;
    if (this.connWindow > MAX_WINDOW) return false;
    if (this.blockedOnConn.size > 0) {
      for (const s of this.blockedOnConn) this.wantsFlush(s);
      this.blockedOnConn.clear();
    }
    return true;
  }

  /** The stream closed: drop it from the blocked set and a pending flush. */
  forget(s: OutStream): void {
    this.blockedOnConn.delete(s);
    if (s.flushQueued) {
      s.flushQueued = false;
      const i = this.flushList.indexOf(s);
      if (i >= 0) this.flushList.splice(i, 1);
      const j = this.blockedOnSocket.indexOf(s);
      if (j >= 0) this.blockedOnSocket.splice(j, 1);
    }
  }

  socketDrained(): void {
    const b = this.blockedOnSocket;
    if (b.length > 0) {
      this.blockedOnSocket = [];
      for (const s of b) {
        s.flushQueued = false;
        if (!s.closed) this.wantsFlush(s);
      }
    }
    const w = this.drainWaiters;
    if (w.length === 0) return;
    this.drainWaiters = [];
    for (const s of w) if (!s.closed) s.fireDrain();
  }

  /** Nothing more is written (the connection is closed or being destroyed). */
  close(): void {
    this.closed = true;
    this.out = [];
    this.outBytes = 0;
    this.flushList = [];
    this.drainWaiters = [];
    this.blockedOnSocket = [];
    this.blockedOnConn.clear();
  }

  /** Frames pending DATA within the windows, then writes everything queued at once. */
  flush(): void {
    this.scheduled = false;
    const list = this.flushList;
    if (list.length > 0) {
      this.flushList = [];
      for (let i = 0; i < list.length; i++) {
        const s = list[i];
        s.flushQueued = false;
        if (!s.closed) this.writeData(s);
      }
    }
    const parts = this.out;
    const n = parts.length;
    if (n === 0 || this.closed) return;
    const bytes = this.outBytes;
    this.out = [];
    this.outBytes = 0;
    const sock = this.socket;
    if (sock.destroyed || sock.writableEnded) return;
    if (n === 1) sock.write(parts[0]);
    else if (bytes <= JOIN_LIMIT) sock.write(Buffer.concat(parts, bytes));
    else {
      sock.cork();
      for (let i = 0; i < n; i++) sock.write(parts[i]);
      sock.uncork();
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(flushWriter, this);
  }

  private writeData(s: OutStream): void {
    const pending = s.pending;
    while (pending.length > 0) {
      if (this.outBytes + this.socket.writableLength >= SOCKET_LIMIT) {
        s.flushQueued = true;
        this.blockedOnSocket.push(s);
        return;
      }
      let allow = s.sendWindow < this.connWindow ? s.sendWindow : this.connWindow;
      if (allow > this.peerMaxFrame) allow = this.peerMaxFrame;
      if (allow <= 0) {
        if (this.connWindow <= 0) this.blockedOnConn.add(s);
        return;
      }
      let chunk = pending[0];
      if (chunk.length <= allow) pending.shift();
      else {
        pending[0] = chunk.subarray(allow);
        chunk = chunk.subarray(0, allow);
      }
      const n = chunk.length;
      s.pendingBytes -= n;
      s.sendWindow -= n;
      this.connWindow -= n;
      const last = s.endQueued && pending.length === 0 && s.trailers === null;
      this.out.push(fr.dataHeader(s.id, n, last), chunk);
      this.outBytes += FRAME_HEADER + n;
      if (last) {
        s.endQueued = false;
        s.endSent();
        return;
      }
    }
    if (s.endQueued) {
      s.endQueued = false;
      const t = s.trailers;
      if (t !== null) this.headers(s.id, t.raw(), true);
      else {
        this.out.push(fr.dataHeader(s.id, 0, true));
        this.outBytes += FRAME_HEADER;
      }
      s.endSent();
      return;
    }
    s.fireDrain();
  }
}

function flushWriter(w: FrameWriter): void {
  w.flush();
}
