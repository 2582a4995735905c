/**
 * One upstream HTTP/2 exchange (an UpstreamRequest) on a stream of a pooled session. Owns:
 * request headers (translated once), body written as it arrives (buffered until a stream is
 * assigned), request trailers (waitForTrailers), response head / body / trailers with
 * pause-resume, Trailers-Only responses, and classifying a stream that closed early: refused or
 * beyond a GOAWAY's last stream id (never processed: replayed transparently while the request
 * is small enough to replay, else reported with beforeRequestSent) or reset.
 * Must never: call the handler after done, start a stream on a closing session, or report one
 * outcome twice.
 */
import type { ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import { constants } from 'node:http2';
import type { HeaderMap } from '../../api/headers';
import type { UpstreamRequest, UpstreamResponseHandler } from '../../api/stream';
import { UpstreamError } from '../../api/errors';
import { responseMapFromRaw, trailerMapFromRaw, trailersToH2 } from './headers';
import type { H2ClientSession } from './client-session';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM } = constants;

/** Request bytes kept for a transparent replay until the response head arrives. */
const REPLAY_LIMIT = 64 * 1024;
/** Transparent replays per exchange: refused by a live session (overload), or cut off by GOAWAY. */
const MAX_REFUSED_REPLAYS = 2;
const MAX_GOAWAY_REPLAYS = 10;

/** What an exchange needs from its pool. */
export interface H2ExchangeOwner {
  /** Puts a refused exchange back at the head of the queue. */
  replay(ex: H2Exchange): void;
  removePending(ex: H2Exchange): void;
  streamClosed(s: H2ClientSession): void;
}

const OWNER = Symbol('switchyard.h2.exchange');
type Owned = ClientHttp2Stream & { [OWNER]?: H2Exchange | null };

function onResponse(this: Owned, _h: unknown, flags: number, raw?: string[]): void {
  const ex = this[OWNER];
  if (ex != null) ex.onResponse(flags, raw ?? []);
}
function onData(this: Owned, chunk: Buffer): void {
  const ex = this[OWNER];
  if (ex != null && !ex.done) ex.handler.onData(chunk);
}
function onTrailers(this: Owned, _t: unknown, _f: number, raw?: string[]): void {
  const ex = this[OWNER];
  if (ex != null) ex.respTrailers = trailerMapFromRaw(raw);
}
function onEnd(this: Owned): void {
  const ex = this[OWNER];
  if (ex != null) ex.onResponseEnd(this);
}
function onDrain(this: Owned): void {
  const ex = this[OWNER];
  if (ex != null) ex.fireDrain();
}
function onWantTrailers(this: Owned): void {
  const ex = this[OWNER];
  if (ex != null) ex.sendTrailers(this);
}
function onClose(this: Owned): void {
  const ex = this[OWNER];
  if (ex != null) ex.onStreamClose(this);
}
function ignore(): void {}

export class H2Exchange implements UpstreamRequest {
  /** Finished, failed or aborted: no more handler calls, writes are ignored. */
  done = false;
  respTrailers: HeaderMap | null = null;
  session: H2ClientSession | null = null;
  drainCb: (() => void) | null = null;

  private raw: ClientHttp2Stream | null = null;
  private reqEnded: boolean;
  private trailers: HeaderMap | null = null;
  private buffered: Buffer[] | null = null;
  private replayBuf: Buffer[] | null = null;
  private replayBytes = 0;
  /** False once a request byte was sent that is no longer kept for a replay. */
  private replayable = true;
  private refusedReplays = 0;
  private goawayReplays = 0;
  private gotHeaders = false;
  private aborted = false;
  private paused = false;
  private toldToWait = false;

  constructor(
    private readonly owner: H2ExchangeOwner,
    readonly headers: OutgoingHttpHeaders,
    endStream: boolean,
    readonly handler: UpstreamResponseHandler,
  ) {
    this.reqEnded = endStream;
  }

  // ---- UpstreamRequest ----

  write(chunk: Buffer): boolean {
    if (this.done || this.reqEnded || chunk.length === 0) return true;
    this.keep(chunk);
    const raw = this.raw;
    if (raw === null) {
      (this.buffered ??= []).push(chunk);
      this.toldToWait = true;
      return false;
    }
    return raw.write(chunk);
  }

  end(trailers?: HeaderMap | null): void {
    if (this.done || this.reqEnded) return;
    this.reqEnded = true;
    this.trailers = trailers ?? null;
    const raw = this.raw;
    if (raw !== null && !raw.writableEnded) raw.end();
  }

  onDrain(cb: () => void): void {
    this.drainCb = cb;
  }

  pause(): void {
    this.paused = true;
    if (this.raw !== null) this.raw.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.raw !== null && !this.done) this.raw.resume();
  }

  abort(): void {
    this.aborted = true;
    const raw = this.raw;
    if (!this.done) {
      this.done = true;
      if (raw === null) {
        this.owner.removePending(this);
        return;
      }
    } else if (this.reqEnded) return; // complete both ways: the stream closes by itself
    // Also after a complete response while the request is still open: free the stream.
    if (raw !== null && !raw.destroyed && !raw.closed) raw.close(NGHTTP2_CANCEL);
  }

  // ---- pool side ----

  /**
   * Opens the stream on `s` and writes what is known. Returns false (nothing sent) when the
   * session refused synchronously (going away); throws nothing.
   */
  startOn(s: H2ClientSession): boolean {
    const body = this.buffered;
    const endStream = this.reqEnded && body === null && this.trailers === null;
    let raw: ClientHttp2Stream;
    try {
      raw = s.session.request(this.headers, endStream ? { endStream: true } : { endStream: false, waitForTrailers: true });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_HTTP2_OUT_OF_STREAMS' || code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_INVALID_SESSION') {
        return false;
      }
      this.fail(new UpstreamError('protocol_error', 'request headers cannot be sent over HTTP/2: ' + String(err), true));
      return true;
    }
    this.session = s;
    s.active++;
    this.raw = raw;
    (raw as Owned)[OWNER] = this;
    raw.on('response', onResponse);
    raw.on('data', onData);
    raw.on('trailers', onTrailers);
    raw.on('end', onEnd);
    raw.on('drain', onDrain);
    raw.on('wantTrailers', onWantTrailers);
    raw.on('close', onClose);
    raw.on('error', ignore);
    if (this.paused) raw.pause();
    this.buffered = null;
    if (body !== null) for (const c of body) raw.write(c);
    if (this.reqEnded && !endStream) raw.end();
    if (this.toldToWait && !this.done) {
      this.toldToWait = false;
      if (!raw.writableNeedDrain) this.fireDrain();
    }
    return true;
  }

  fail(err: UpstreamError): void {
    if (this.done) return;
    this.done = true;
    this.handler.onError(err);
  }

  fireDrain(): void {
    const cb = this.drainCb;
    if (cb === null || this.done) return;
    this.drainCb = null;
    cb();
  }

  // ---- stream events ----

  onResponse(flags: number, raw: string[]): void {
    if (this.done) return;
    this.gotHeaders = true;
    this.replayBuf = null;
    const end = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    // Trailers-Only (e.g. a gRPC error before any message): one HEADERS frame ending the stream.
    if (end) this.done = true;
    this.handler.onHeaders(responseMapFromRaw(raw), end);
  }

  onResponseEnd(raw: ClientHttp2Stream): void {
    if (this.done) return;
    // node emits 'end' even when RST_STREAM (with an error code) cut the body short.
    const rc = raw.rstCode;
    if (rc !== undefined && rc !== NGHTTP2_NO_ERROR) return; // the close event reports the reset
    this.done = true;
    this.handler.onEnd(this.respTrailers);
  }

  sendTrailers(raw: ClientHttp2Stream): void {
    if (this.aborted) return; // close() must not turn into a clean end
    try {
      raw.sendTrailers(trailersToH2(this.trailers));
    } catch {
      /* the stream closed meanwhile: its close event reports it */
    }
  }

  onStreamClose(raw: Owned): void {
    raw[OWNER] = null;
    const s = this.session!;
    this.session = null;
    this.raw = null;
    this.owner.streamClosed(s);
    if (this.done) return;
    const code = raw.rstCode;
    const id = raw.id;
    const cutByGoaway = id === undefined || (s.goawayLastStreamId >= 0 && id > s.goawayLastStreamId);
    const unprocessed = !this.gotHeaders && (cutByGoaway || code === NGHTTP2_REFUSED_STREAM);
    if (unprocessed) {
      const budget = cutByGoaway ? this.goawayReplays++ < MAX_GOAWAY_REPLAYS : this.refusedReplays++ < MAX_REFUSED_REPLAYS;
      if (this.replayable && budget) {
        this.buffered = this.replayBuf === null ? null : this.replayBuf.slice();
        this.toldToWait = false;
        this.owner.replay(this);
        return;
      }
      this.fail(new UpstreamError('reset', 'upstream refused the stream (not processed)', true));
      return;
    }
    const why = code === undefined ? 'stream closed' : `stream closed with code ${code}`;
    this.fail(new UpstreamError('reset', 'upstream reset: ' + why, false));
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
