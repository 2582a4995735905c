/**
 * One upstream HTTP/2 exchange (an UpstreamRequest) on a stream of a native client session, and
 * that stream's send side for the frame writer (an OutStream). Owns: the request body (queued
 * until a stream is assigned, then framed by the writer within the peer's windows; write() false
 * above the high-water mark or while the socket is congested, drain after), request trailers,
 * the response head (1xx skipped), body with pause/resume (the stream's receive window is only
 * replenished as the handler takes the body) and trailers, Trailers-Only responses, and
 * classifying a stream that closed early: refused or beyond a GOAWAY's last stream id (never
 * processed: replayed transparently while the request is small enough to replay, else reported
 * with beforeRequestSent), reset, or a protocol error.
 * Must never: call the handler after done, start a stream on a closing session, write after its
 * stream closed, or report one outcome twice.
 */
import type { HeaderMap } from '../../../api/headers';
import type { UpstreamRequest, UpstreamResponseHandler } from '../../../api/stream';
import { UpstreamError } from '../../../api/errors';
import { responseMapFromRaw, trailerMapFromRaw, trailersForH2 } from '../headers';
import type { OutStream } from './out-stream';
import { BodyInbox, type InboxTarget } from './inbox';
import type { H2ClientSession } from './client-session';
import { E } from './frames';

/** Request bytes kept for a transparent replay until the response head arrives. */
const REPLAY_LIMIT = 64 * 1024;
/** Transparent replays per exchange: refused by a live session (overload), or cut off by GOAWAY. */
const MAX_REFUSED_REPLAYS = 2;
const MAX_GOAWAY_REPLAYS = 10;
/** Queued request bytes above which write() asks the engine to wait for drain. */
const WRITE_HWM = 64 * 1024;

/** What an exchange needs from its pool. */
export interface H2ExchangeOwner {
  /** Puts a refused exchange back at the head of the queue. */
  replay(ex: H2Exchange): void;
  removePending(ex: H2Exchange): void;
  streamClosed(s: H2ClientSession): void;
}

export class H2Exchange implements UpstreamRequest, OutStream, InboxTarget {
  /** Finished, failed or aborted: no more handler calls, writes are ignored. */
  done = false;
  /** The session of the open stream, or null. */
  session: H2ClientSession | null = null;

  // ---- OutStream (send side, read by the session's writer) ----
  id = 0;
  sendWindow = 0;
  pending: Buffer[] = [];
  pendingBytes = 0;
  endQueued = false;
  trailers: HeaderMap | null = null;
  flushQueued = false;

  // ---- receive side ----
  recvWindow = 0;
  recvUnacked = 0;

  private open = false;
  private localEnded = false;
  private remoteEnded = false;
  private reqEnded: boolean;
  private drainCb: (() => void) | null = null;
  private replayBuf: Buffer[] | null = null;
  private replayBytes = 0;
  /** False once a request byte was written that is no longer kept for a replay. */
  private replayable = true;
  private refusedReplays = 0;
  private goawayReplays = 0;
  private gotHeaders = false;
  private readonly inbox: BodyInbox = new BodyInbox(this);
  /** The response's content-length (checked against its DATA, RFC 9113 8.1.1), or -1. */
  private expectedLength = -1;
  private received = 0;

  constructor(
    private readonly owner: H2ExchangeOwner,
    /** Request fields, pseudo-headers first (headers.ts requestKvH2). */
    readonly kv: string[],
    endStream: boolean,
    readonly handler: UpstreamResponseHandler,
  ) {
    this.reqEnded = endStream;
  }

  get closed(): boolean {
    return !this.open;
  }

  // ---- UpstreamRequest ----

  write(chunk: Buffer): boolean {
    if (this.done || this.reqEnded || chunk.length === 0) return true;
    this.keep(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const s = this.session;
    if (s === null) return false; // drained once a stream took it
    s.writer.wantsFlush(this);
    if (this.pendingBytes > WRITE_HWM) return false;
    if (s.congested) {
      s.writer.waitSocketDrain(this);
      return false;
    }
    return true;
  }

  end(trailers?: HeaderMap | null): void {
    if (this.done || this.reqEnded) return;
    this.reqEnded = true;
    this.trailers = trailersForH2(trailers);
    this.endQueued = true;
    if (this.session !== null) this.session.writer.wantsFlush(this);
  }

  onDrain(cb: () => void): void {
    this.drainCb = cb;
  }

  pause(): void {
    this.inbox.pause();
  }

  resume(): void {
    this.inbox.resume();
  }

  abort(): void {
    if (!this.done) {
      this.done = true;
      if (!this.open) {
        this.owner.removePending(this);
        return;
      }
    }
    // Also after a complete response while the stream is still open: free it.
    if (this.open) this.resetStream(E.CANCEL);
  }

  // ---- pool side ----

  /** Opens a stream on `s` and queues what is known. False (nothing sent) when `s` may not start streams. */
  startOn(s: H2ClientSession): boolean {
    const endStream = this.reqEnded && this.pendingBytes === 0 && this.trailers === null;
    const id = s.openStream(this, this.kv, endStream);
    if (id === 0) return false;
    this.id = id;
    this.session = s;
    this.open = true;
    this.sendWindow = s.writer.peerInitialWindow;
    this.recvWindow = s.recvInitialWindow;
    this.recvUnacked = 0;
    if (endStream) {
      this.endQueued = false;
      this.localEnded = true;
    } else if (this.pendingBytes > 0 || this.endQueued) {
      s.writer.wantsFlush(this);
    }
    return true;
  }

  fail(err: UpstreamError): void {
    if (this.done) return;
    this.done = true;
    this.handler.onError(err);
  }

  // ---- OutStream callbacks (the writer) ----

  endSent(): void {
    this.localEnded = true;
    if (this.remoteEnded) this.streamGone();
  }

  fireDrain(): void {
    const cb = this.drainCb;
    if (cb === null || this.done || this.pendingBytes > WRITE_HWM) return;
    const s = this.session;
    if (s !== null && s.congested) {
      s.writer.waitSocketDrain(this);
      return;
    }
    this.drainCb = null;
    cb();
  }

  // ---- stream events (the session) ----

  /** A decoded header block: the response head (1xx skipped) or the trailers. */
  onHeaderBlock(raw: string[], endStream: boolean): void {
    if (!this.gotHeaders) {
      const status = statusOf(raw);
      if (status < 100 || status > 999) {
        this.streamError(E.PROTOCOL_ERROR, 'upstream response without a valid :status');
        return;
      }
      if (status < 200) {
        if (endStream) this.streamError(E.PROTOCOL_ERROR, 'upstream ended the stream with an informational response');
        return; // 1xx informational heads are not forwarded
      }
      this.gotHeaders = true;
      this.replayBuf = null;
      if (status !== 204 && status !== 304 && this.kv[1] !== 'HEAD') this.expectedLength = contentLength(raw);
      if (endStream) {
        if (this.expectedLength > 0) {
          this.streamError(E.PROTOCOL_ERROR, 'upstream response shorter than its content-length');
          return;
        }
        // Trailers-Only (e.g. a gRPC error before any message): one HEADERS frame ending the stream.
        this.remoteEnded = true;
        this.done = true;
        this.handler.onHeaders(responseMapFromRaw(raw), true);
        this.remoteDone();
        return;
      }
      this.handler.onHeaders(responseMapFromRaw(raw), false);
      return;
    }
    if (!endStream) {
      this.streamError(E.PROTOCOL_ERROR, 'upstream sent trailers without END_STREAM');
      return;
    }
    if (this.expectedLength >= 0 && this.received !== this.expectedLength) {
      this.streamError(E.PROTOCOL_ERROR, 'upstream response body does not match its content-length');
      return;
    }
    this.remoteEnded = true;
    this.responseEnd(trailerMapFromRaw(raw));
  }

  /** A DATA payload (flow control already checked). */
  onData(chunk: Buffer, endStream: boolean): void {
    if (!this.gotHeaders) {
      this.streamError(E.PROTOCOL_ERROR, 'upstream sent DATA before the response head');
      return;
    }
    const n = chunk.length;
    this.received += n;
    if (this.expectedLength >= 0 && (this.received > this.expectedLength || (endStream && this.received !== this.expectedLength))) {
      this.streamError(E.PROTOCOL_ERROR, 'upstream response body does not match its content-length');
      return;
    }
    if (endStream) this.remoteEnded = true;
    if (n > 0 && !this.done) this.inbox.data(chunk);
    if (endStream) this.responseEnd(null);
  }

  /** RST_STREAM from the upstream. */
  onReset(code: number): void {
    this.streamGone();
    if (this.done || this.remoteEnded) return;
    if (code === E.NO_ERROR && this.gotHeaders && (this.expectedLength < 0 || this.received === this.expectedLength)) {
      // node:http2 servers end a response whose request side is over with RST_STREAM(NO_ERROR)
      // in place of END_STREAM: the response is complete (as node's own client takes it).
      this.remoteEnded = true;
      this.responseEnd(null);
      return;
    }
    if (!this.gotHeaders && code === E.REFUSED_STREAM) {
      this.unprocessed(false);
      return;
    }
    this.fail(new UpstreamError('reset', `upstream reset: stream closed with code ${code}`, false));
  }

  /** The connection ended (or GOAWAY cut this stream off when `unprocessed`). */
  connectionLost(unprocessed: boolean, err: UpstreamError): void {
    this.streamGone();
    if (this.done || this.remoteEnded) return;
    if (unprocessed && !this.gotHeaders) {
      this.unprocessed(true);
      return;
    }
    this.fail(err);
  }

  /** A stream-level problem: RST_STREAM(code) and a protocol_error outcome. */
  streamError(code: number, why: string): void {
    this.resetStream(code);
    this.fail(new UpstreamError('protocol_error', why, false));
  }

  // ---- internals ----

  private responseEnd(t: HeaderMap | null): void {
    if (!this.done) this.inbox.end(t);
    this.remoteDone();
  }

  /** The response side is over: close the stream, or cancel a request still being sent. */
  private remoteDone(): void {
    if (!this.open) return;
    if (this.localEnded) this.streamGone();
    else this.resetStream(E.CANCEL);
  }

  private resetStream(code: number): void {
    if (!this.open) return;
    this.session!.resetStream(this, code);
    this.streamGone();
  }

  private streamGone(): void {
    if (!this.open) return;
    this.open = false;
    const s = this.session!;
    this.session = null;
    s.streamClosed(this);
    this.owner.streamClosed(s);
  }

  private unprocessed(goaway: boolean): void {
    const budget = goaway ? this.goawayReplays++ < MAX_GOAWAY_REPLAYS : this.refusedReplays++ < MAX_REFUSED_REPLAYS;
    if (this.replayable && budget) {
      this.pending = this.replayBuf === null ? [] : this.replayBuf.slice();
      this.pendingBytes = this.replayBytes;
      this.endQueued = this.reqEnded;
      this.localEnded = false;
      this.remoteEnded = false;
      this.id = 0;
      this.owner.replay(this);
      return;
    }
    this.fail(new UpstreamError('reset', 'upstream refused the stream (not processed)', true));
  }

  // ---- InboxTarget (the response body's consumer is the engine's handler) ----

  inboxReady(): boolean {
    return !this.done;
  }

  inboxConsumed(n: number): void {
    if (this.open) this.session!.consumed(this, n);
  }

  inboxData(chunk: Buffer): void {
    this.handler.onData(chunk);
  }

  inboxEnd(t: HeaderMap | null): void {
    this.done = true;
    this.handler.onEnd(t);
  }

  /** Keeps written chunks (references, not copies) while a replay is still possible. */
  private keep(chunk: Buffer): void {
    if (!this.replayable || this.gotHeaders) return;
    if (this.replayBytes + chunk.length > REPLAY_LIMIT) {
      this.replayable = false;
      this.replayBuf = null;
      return;
    }
    this.replayBytes += chunk.length;
    (this.replayBuf ??= []).push(chunk);
  }
}

/** The response's content-length as a number, or -1 when absent or not a plain decimal. */
function contentLength(raw: readonly string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i] === 'content-length') {
      const v = raw[i + 1];
      if (v.length === 0 || v.length > 15) return -1;
      for (let j = 0; j < v.length; j++) {
        const c = v.charCodeAt(j);
        if (c < 0x30 || c > 0x39) return -1;
      }
      return Number(v);
    }
  }
  return -1;
}

/** The numeric :status of a response head, or -1. */
function statusOf(raw: readonly string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i] === ':status') {
      const v = raw[i + 1];
      return v.length === 3 ? Number(v) : -1;
    }
  }
  return -1;
}
