/**
 * One HTTP/2 request/response exchange on a downstream session (a ServerStream over a node:http2
 * ServerHttp2Stream). Owns: request body delivery with pause/resume (HTTP/2 flow control does the
 * rest), request trailers, the response head (Trailers-Only when it ends the stream), body,
 * trailers (always through waitForTrailers), local replies in HTTP or gRPC form, RST_STREAM,
 * the stream-idle reset, and telling the session how the stream ended (complete, reset by the
 * client before its response was done, or otherwise) for rapid-reset accounting.
 * Must never: deliver body events before attach(), throw from a node event, write after the
 * response completed, or keep a stream half-open once its response is done.
 */
import type { ServerHttp2Stream } from 'node:http2';
import { constants } from 'node:http2';
import { HeaderMap } from '../../api/headers';
import type { ConnectionInfo, LocalReply, RequestBodyHandler, ServerStream } from '../../api/stream';
import { responseHeadersToH2, trailerMapFromRaw, trailersToH2 } from './headers';
import { encodeGrpcMessage, grpcStatusFromReply, isGrpc } from './grpc';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = constants;

/** How a stream ended, for the session's rapid-reset accounting. */
export type H2StreamOutcome = 'complete' | 'peer_reset' | 'other';

/** What a stream needs from its session. */
export interface H2StreamOwner {
  readonly info: ConnectionInfo;
  /** Stream-idle sweep counter; a stream copies it whenever a frame moves either way. */
  readonly epoch: number;
  streamClosed(s: H2ServerStream, outcome: H2StreamOutcome): void;
  debug(msg: string, err: unknown): void;
}

const OWNER = Symbol('switchyard.h2.server-stream');
type Owned = ServerHttp2Stream & { [OWNER]?: H2ServerStream | null };

// Shared event handlers (no per-stream closures): `this` is the node stream.
function onData(this: Owned, chunk: Buffer): void {
  const s = this[OWNER];
  if (s != null) s.deliver(chunk);
}
function onEnd(this: Owned): void {
  const s = this[OWNER];
  if (s != null) s.requestEnded();
}
function onTrailers(this: Owned, _t: unknown, _f: number, raw?: string[]): void {
  const s = this[OWNER];
  if (s != null) s.reqTrailers = trailerMapFromRaw(raw);
}
function onDrain(this: Owned): void {
  const s = this[OWNER];
  if (s != null) s.fireDrain();
}
function onWantTrailers(this: Owned): void {
  const s = this[OWNER];
  if (s != null) s.sendTrailers();
}
function onAborted(this: Owned): void {
  const s = this[OWNER];
  if (s != null) s.abort('downstream reset the stream');
}
function onClose(this: Owned): void {
  const s = this[OWNER];
  if (s != null) s.closed();
}
function onError(this: Owned, err: Error): void {
  const s = this[OWNER];
  if (s != null) s.owner.debug('h2 downstream stream error', err);
}

export class H2ServerStream implements ServerStream {
  readonly protocol = 'h2';
  readonly connection: ConnectionInfo;
  bytesReceived: number;
  bytesSent = 0;
  responseStarted = false;
  reqTrailers: HeaderMap | null = null;
  /** The owner's epoch at the last activity (stream-idle timeout). */
  activeEpoch: number;

  private handler: RequestBodyHandler | null = null;
  private requestDone: boolean;
  private responseDone = false;
  private aborted: string | null = null;
  private drainCb: (() => void) | null = null;
  private pendingTrailers: HeaderMap | null = null;
  private isClosed = false;
  private wasReset = false;
  private readonly isHead: boolean;

  constructor(
    readonly owner: H2StreamOwner,
    private readonly raw: ServerHttp2Stream,
    readonly headers: HeaderMap,
    readonly endStream: boolean,
    readonly startTime: number,
    headBytes: number,
  ) {
    this.connection = owner.info;
    this.activeEpoch = owner.epoch;
    this.requestDone = endStream;
    this.bytesReceived = headBytes;
    this.isHead = headers.get(':method') === 'HEAD';
    const o = raw as Owned;
    o[OWNER] = this;
    raw.on('error', onError);
    raw.on('aborted', onAborted);
    raw.on('close', onClose);
    raw.on('drain', onDrain);
    raw.on('wantTrailers', onWantTrailers);
    if (!endStream) {
      raw.on('trailers', onTrailers);
      raw.on('end', onEnd);
    }
  }

  attach(handler: RequestBodyHandler): void {
    if (this.handler !== null) return;
    this.handler = handler;
    if (this.aborted !== null) {
      handler.onAbort(this.aborted);
      return;
    }
    // Adding the listener starts the flow unless pause() was called first.
    if (!this.requestDone) this.raw.on('data', onData);
  }

  pause(): void {
    if (!this.requestDone) this.raw.pause();
  }

  resume(): void {
    if (!this.requestDone && this.handler !== null) this.raw.resume();
  }

  respond(headers: HeaderMap, endStream: boolean): void {
    if (this.responseStarted || this.isClosed) return;
    this.responseStarted = true;
    this.activeEpoch = this.owner.epoch;
    let status = Number(headers.get(':status'));
    if (!(status >= 200 && status <= 999)) status = status >= 100 && status < 200 ? 502 : 500;
    const end = endStream || this.isHead || status === 204 || status === 304;
    const obj = responseHeadersToH2(headers, status);
    this.bytesSent += 9 + headers.size * 8;
    try {
      // endStream: one HEADERS frame with END_STREAM (gRPC Trailers-Only when it carries grpc-status).
      this.raw.respond(obj, end ? { endStream: true } : { waitForTrailers: true });
    } catch (err) {
      this.owner.debug('h2 respond failed', err);
      this.reset();
      return;
    }
    if (end) {
      this.responseDone = true;
      this.drainCb = null;
      this.closeIfRequestOpen();
    }
  }

  write(chunk: Buffer): boolean {
    if (!this.responseStarted || this.responseDone || this.isClosed || chunk.length === 0) return true;
    this.bytesSent += chunk.length;
    this.activeEpoch = this.owner.epoch;
    return this.raw.write(chunk);
  }

  end(trailers?: HeaderMap | null): void {
    if (!this.responseStarted || this.responseDone || this.isClosed) return;
    this.responseDone = true;
    this.drainCb = null;
    this.pendingTrailers = trailers ?? null;
    this.raw.end();
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

  reset(): void {
    this.wasReset = true;
    this.responseDone = true;
    this.drainCb = null;
    if (this.isClosed || this.raw.destroyed) return;
    try {
      this.raw.close(NGHTTP2_CANCEL);
    } catch (err) {
      this.owner.debug('h2 reset failed', err);
    }
  }

  // ---- called from node events ----

  deliver(chunk: Buffer): void {
    if (this.aborted !== null) return;
    this.bytesReceived += chunk.length;
    this.activeEpoch = this.owner.epoch;
    this.handler!.onData(chunk);
  }

  requestEnded(): void {
    if (this.requestDone) return;
    this.requestDone = true;
    const h = this.handler;
    if (h !== null && this.aborted === null) h.onEnd(this.reqTrailers);
  }

  fireDrain(): void {
    const cb = this.drainCb;
    if (cb === null) return;
    this.drainCb = null;
    cb();
  }

  sendTrailers(): void {
    if (this.wasReset) return; // close() must not turn into a clean end
    const t = this.pendingTrailers;
    this.pendingTrailers = null;
    if (t !== null) this.bytesSent += t.size * 8;
    try {
      this.raw.sendTrailers(trailersToH2(t));
    } catch (err) {
      this.owner.debug('h2 sendTrailers failed', err);
      return;
    }
    this.closeIfRequestOpen();
  }

  abort(reason: string): void {
    if (this.aborted !== null || (this.responseDone && this.requestDone)) return;
    this.aborted = reason;
    const h = this.handler;
    if (h !== null) h.onAbort(reason);
  }

  /** No frame either way for the stream idle timeout: abort the exchange and reset the stream. */
  idleTimeout(): void {
    if (this.isClosed) return;
    this.owner.debug('h2 downstream stream idle timeout', `stream ${this.raw.id}`);
    this.abort('stream idle timeout');
    this.reset();
  }

  closed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.drainCb = null;
    const code = this.raw.rstCode;
    let outcome: H2StreamOutcome = 'other';
    if (this.responseDone && !this.wasReset) outcome = 'complete';
    else if (!this.wasReset && code !== undefined && code !== NGHTTP2_NO_ERROR) outcome = 'peer_reset';
    if (!this.responseDone || !this.requestDone) this.abort('downstream stream closed');
    (this.raw as Owned)[OWNER] = null;
    this.owner.streamClosed(this, outcome);
  }

  /**
   * The response is complete while the client is still sending: ask it to stop without error
   * (RFC 9113 8.1) so the stream does not linger half-open holding a concurrency slot.
   */
  private closeIfRequestOpen(): void {
    if (this.requestDone || this.isClosed) return;
    this.requestDone = true;
    try {
      this.raw.close(NGHTTP2_NO_ERROR);
    } catch (err) {
      this.owner.debug('h2 close failed', err);
    }
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
