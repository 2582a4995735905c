/**
 * One HTTP/2 request/response exchange on a native downstream connection (a ServerStream).
 * Owns: the request side (content-length check, trailers, its body through a BodyInbox), the response
 * side (head, DATA queued until the connection's flush writes it within both send windows,
 * END_STREAM on the last DATA frame, trailers, Trailers-Only), local replies in HTTP or gRPC form,
 * RST_STREAM, the stream-idle reset, and telling the connection how the stream ended (complete,
 * reset by the client before its response was done, or otherwise) for rapid-reset accounting.
 * Must never: write bytes itself (the connection frames and orders them), deliver body events
 * before attach(), exceed a send window, or act after it closed.
 */
import { HeaderMap } from '../../../api/headers';
import type { ConnectionInfo, LocalReply, RequestBodyHandler, ServerStream } from '../../../api/stream';
import { encodeGrpcMessage, grpcStatusFromReply, isGrpc } from '../grpc';
import { responseKvH2, trailersForH2 } from '../headers';
import { E } from './frames';
import { BodyInbox, type InboxTarget } from './inbox';

/** How a stream ended, for the connection's rapid-reset accounting. */
export type StreamOutcome = 'complete' | 'peer_reset' | 'other';

/** Queued response bytes above which write() asks the engine to wait for drain. */
const WRITE_HWM = 64 * 1024;

/** What a stream needs from its connection. */
export interface NativeStreamOwner {
  readonly info: ConnectionInfo;
  /** Stream-idle sweep counter; a stream copies it whenever a frame moves either way. */
  readonly epoch: number;
  /** Whether the socket is over its high-water mark. */
  readonly congested: boolean;
  /** Encodes and queues a HEADERS block (response head or trailers) for the stream, in order. */
  sendHeaders(s: NativeH2Stream, kv: string[], endStream: boolean): void;
  /** The stream has DATA (or an END_STREAM) to send: write it at the next flush. */
  wantsFlush(s: NativeH2Stream): void;
  /** The stream consumed `n` request-body bytes: its receive window may be replenished. */
  consumed(s: NativeH2Stream, n: number): void;
  /** Queues RST_STREAM. */
  sendReset(s: NativeH2Stream, code: number): void;
  /** Call fireDrain() once the socket drained. */
  waitSocketDrain(s: NativeH2Stream): void;
  streamClosed(s: NativeH2Stream, outcome: StreamOutcome): void;
  debug(msg: string, detail: unknown): void;
}

export class NativeH2Stream implements ServerStream, InboxTarget {
  readonly protocol = 'h2';
  readonly connection: ConnectionInfo;
  bytesReceived: number;
  bytesSent = 0;
  responseStarted = false;
  /** The owner's epoch at the last activity (stream-idle timeout). */
  activeEpoch: number;

  // ---- send side, read by the connection's flush ----
  /** Bytes the peer lets us send on this stream. */
  sendWindow: number;
  /** Response body chunks not yet framed. */
  pending: Buffer[] = [];
  pendingBytes = 0;
  /** end() was called: END_STREAM goes on the last DATA frame (or the trailers). */
  endQueued = false;
  trailers: HeaderMap | null = null;
  /** In the connection's flush list. */
  flushQueued = false;

  // ---- receive side ----
  /** Bytes the peer may still send before we replenish (flow control check). */
  recvWindow: number;
  /** Body bytes consumed since the last WINDOW_UPDATE we sent for this stream. */
  recvUnacked = 0;
  /** Declared request content-length, or -1. */
  readonly expectedLength: number;
  received = 0;

  private handler: RequestBodyHandler | null = null;
  private readonly inbox: BodyInbox = new BodyInbox(this);
  private requestDone: boolean;
  private responseDone = false;
  private aborted: string | null = null;
  private drainCb: (() => void) | null = null;
  private isClosed = false;
  private wasReset = false;
  private peerReset = false;
  private readonly isHead: boolean;

  constructor(
    readonly owner: NativeStreamOwner,
    readonly id: number,
    readonly headers: HeaderMap,
    readonly endStream: boolean,
    readonly startTime: number,
    headBytes: number,
    sendWindow: number,
    recvWindow: number,
  ) {
    this.connection = owner.info;
    this.activeEpoch = owner.epoch;
    this.requestDone = endStream;
    this.bytesReceived = headBytes;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
    this.isHead = headers.get(':method') === 'HEAD';
    const cl = headers.get('content-length');
    this.expectedLength = cl === undefined ? -1 : Number(cl);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The request side is over (END_STREAM received, or we stopped reading). */
  get remoteClosed(): boolean {
    return this.requestDone;
  }

  attach(handler: RequestBodyHandler): void {
    if (this.handler !== null) return;
    this.handler = handler;
    if (this.aborted !== null) {
      handler.onAbort(this.aborted);
      return;
    }
    this.inbox.kick();
  }

  pause(): void {
    this.inbox.pause();
  }

  resume(): void {
    this.inbox.resume();
  }

  respond(headers: HeaderMap, endStream: boolean): void {
    if (this.responseStarted || this.isClosed || this.responseDone) return;
    this.responseStarted = true;
    this.activeEpoch = this.owner.epoch;
    let status = Number(headers.get(':status'));
    if (!(status >= 200 && status <= 999)) status = status >= 100 && status < 200 ? 502 : 500;
    const end = endStream || this.isHead || status === 204 || status === 304;
    const kv = responseKvH2(headers, status);
    this.bytesSent += 9 + headers.size * 8;
    if (end) this.responseDone = true;
    // endStream: one HEADERS frame with END_STREAM (gRPC Trailers-Only when it carries grpc-status).
    this.owner.sendHeaders(this, kv, end);
    if (end) this.responseComplete();
  }

  write(chunk: Buffer): boolean {
    if (!this.responseStarted || this.responseDone || this.isClosed || chunk.length === 0) return true;
    this.bytesSent += chunk.length;
    this.activeEpoch = this.owner.epoch;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.owner.wantsFlush(this);
    if (this.pendingBytes > WRITE_HWM) return false;
    if (this.owner.congested) {
      this.owner.waitSocketDrain(this);
      return false;
    }
    return true;
  }

  end(trailers?: HeaderMap | null): void {
    if (!this.responseStarted || this.responseDone || this.isClosed) return;
    this.responseDone = true;
    this.drainCb = null;
    this.endQueued = true;
    const t = trailers === null || trailers === undefined ? null : trailersForH2(trailers);
    this.trailers = t;
    if (t !== null) this.bytesSent += t.size * 8;
    this.owner.wantsFlush(this);
  }

  onDrain(cb: () => void): void {
    this.drainCb = cb;
  }

  sendLocalReply(reply: LocalReply): void {
    if (this.responseStarted) {
      this.reset();
      return;
    }
    if (isGrpc(this.headers)) {
      const h = new HeaderMap([':status', '200', 'content-type', 'application/grpc']);
      copyReplyHeaders(reply, h, true);
      h.add('grpc-status', String(grpcStatusFromReply(reply)));
      const msg = reply.details ?? (typeof reply.body === 'string' ? reply.body.trim() : undefined);
      if (msg !== undefined && msg !== '') h.add('grpc-message', encodeGrpcMessage(msg));
      this.respond(h, true);
      return;
    }
    const h = new HeaderMap([':status', String(reply.status)]);
    const hasType = copyReplyHeaders(reply, h, false);
    const body = reply.body === undefined ? null : typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
    const len = body === null ? 0 : body.length;
    if (len > 0 && !hasType) h.add('content-type', 'text/plain');
    h.add('content-length', String(len));
    this.respond(h, len === 0);
    if (len > 0) {
      this.write(body!);
      this.end(null);
    }
  }

  /** Aborts the exchange: RST_STREAM(CANCEL) unless the stream is already over. */
  reset(): void {
    this.resetWith(E.CANCEL);
  }

  resetWith(code: number): void {
    if (this.isClosed) return;
    this.wasReset = true;
    this.responseDone = true;
    this.drainCb = null;
    this.pending = [];
    this.pendingBytes = 0;
    this.owner.sendReset(this, code);
    this.close();
  }

  // ---- called by the connection ----

  /** A DATA payload for this stream (flow control already checked). */
  data(chunk: Buffer, endStream: boolean): void {
    if (this.requestDone) return;
    this.activeEpoch = this.owner.epoch;
    this.received += chunk.length;
    this.bytesReceived += chunk.length;
    if (endStream) this.requestDone = true;
    if (this.aborted !== null) return;
    if (endStream && this.expectedLength >= 0 && this.received !== this.expectedLength) {
      this.malformed('request body length does not match content-length');
      return;
    }
    if (chunk.length > 0) this.inbox.data(chunk);
    if (endStream) this.remoteEnded(null);
  }

  /** Request trailers (HEADERS with END_STREAM after the head). */
  trailersReceived(t: HeaderMap | null): void {
    if (this.requestDone) return;
    this.requestDone = true;
    this.activeEpoch = this.owner.epoch;
    if (this.expectedLength >= 0 && this.received !== this.expectedLength) {
      this.malformed('request body length does not match content-length');
      return;
    }
    this.remoteEnded(t);
  }

  /** The client reset the stream. */
  peerResetStream(): void {
    if (this.isClosed) return;
    this.peerReset = !this.responseDone;
    this.responseDone = true;
    this.requestDone = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.abort('downstream reset the stream');
    this.close();
  }

  /** The connection is gone or refused us: abort and close without sending anything. */
  connectionClosed(reason: string): void {
    if (this.isClosed) return;
    this.abort(reason);
    this.close();
  }

  /** The connection wrote the END_STREAM of our response (OutStream). */
  endSent(): void {
    this.responseComplete();
  }

  fireDrain(): void {
    const cb = this.drainCb;
    if (cb === null || this.pendingBytes > WRITE_HWM) return;
    if (this.owner.congested) {
      this.owner.waitSocketDrain(this);
      return;
    }
    this.drainCb = null;
    cb();
  }

  /** No frame either way for the stream idle timeout: abort the exchange and reset the stream. */
  idleTimeout(): void {
    if (this.isClosed) return;
    this.owner.debug('h2 downstream stream idle timeout', `stream ${this.id}`);
    this.abort('stream idle timeout');
    this.reset();
  }

  // ---- internals ----

  private malformed(why: string): void {
    this.owner.debug('h2 downstream malformed request', why);
    this.abort(why);
    this.resetWith(E.PROTOCOL_ERROR);
  }

  private remoteEnded(t: HeaderMap | null): void {
    if (this.aborted !== null) return;
    this.inbox.end(t);
    if (this.responseDone) this.maybeClose();
  }

  // ---- InboxTarget (the request body's consumer is the engine's handler) ----

  inboxReady(): boolean {
    return this.handler !== null && this.aborted === null && !this.isClosed;
  }

  inboxConsumed(n: number): void {
    this.owner.consumed(this, n);
  }

  inboxData(chunk: Buffer): void {
    this.handler!.onData(chunk);
  }

  inboxEnd(t: HeaderMap | null): void {
    this.handler!.onEnd(t);
  }

  private responseComplete(): void {
    if (this.isClosed) return;
    if (!this.requestDone) {
      // The response is complete while the client is still sending: ask it to stop without
      // error (RFC 9113 8.1) so the stream does not linger half-open holding a concurrency slot.
      this.requestDone = true;
      this.inbox.clear();
      this.owner.sendReset(this, E.NO_ERROR);
    }
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.requestDone && this.responseDone && this.pendingBytes === 0 && !this.endQueued) this.close();
  }

  private close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.drainCb = null;
    let outcome: StreamOutcome = 'other';
    if (this.peerReset) outcome = 'peer_reset';
    else if (this.responseDone && !this.wasReset) outcome = 'complete';
    if (!this.requestDone || this.inbox.holding) this.abort('downstream stream closed');
    this.owner.streamClosed(this, outcome);
  }

  private abort(reason: string): void {
    if (this.aborted !== null) return;
    this.aborted = reason;
    this.inbox.clear();
    const h = this.handler;
    if (h !== null) h.onAbort(reason);
  }
}

/** Copies a local reply's extra headers (no pseudo-headers, no content-length); reports content-type. */
function copyReplyHeaders(reply: LocalReply, h: HeaderMap, grpc: boolean): boolean {
  let hasType = false;
  const src = reply.headers;
  if (src === undefined) return false;
  const kv = src.raw();
  for (let i = 0; i < kv.length; i += 2) {
    const n = kv[i];
    if (n.charCodeAt(0) === 0x3a || n === 'content-length') continue;
    if (n === 'content-type') {
      if (grpc) continue;
      hasType = true;
    }
    if (grpc && (n === 'grpc-status' || n === 'grpc-message')) continue;
    h.add(n, kv[i + 1]);
  }
  return hasType;
}
