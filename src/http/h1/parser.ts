/**
 * Incremental HTTP/1.1 message parser for requests or responses (one class, mode flag).
 * Owns: message delimitation — finding heads and trailer sections, Content-Length, chunked and
 * close-delimited bodies, skipping 1xx interim responses, stopping at a 101 that an upgrade
 * request asked for (the bytes after it are not HTTP) — and handing out body bytes as
 * zero-copy `subarray` slices of the input.
 * Must never: throw out of execute(), emit more body bytes than the framing declares, consume a
 * byte past the end of a message in one call (execute() returns at every message boundary, so
 * the owner decides when to parse the next pipelined message), or accept input the grammar
 * refuses — errors are values (`error`), after which the parser is dead.
 */
import { CR, LF, SP, HTAB, SEMI, HEX, VCHAR } from './chars';
import { H1Head, H1ParseError, parseHead, parseFields } from './head';

export { H1Head, H1ParseError } from './head';

/** Receives parse events; called synchronously from execute()/finish(). */
export interface H1ParserHandler {
  onHead(head: H1Head): void;
  onBody(chunk: Buffer): void;
  /** `trailers` is a flat name/value array, or null when the message had none. */
  onMessageComplete(trailers: string[] | null): void;
}

const HEAD = 0;
const BODY_CL = 1;
const CHUNK_SIZE = 2;
const CHUNK_SIZE_WS = 3;
const CHUNK_EXT = 4;
const CHUNK_SIZE_LF = 5;
const CHUNK_DATA = 6;
const CHUNK_DATA_CR = 7;
const CHUNK_DATA_LF = 8;
const TRAILERS = 9;
const BODY_EOF = 10;
const DEAD = 11;
/** After a 101 to an upgrade request: nothing more is HTTP; execute() consumes nothing. */
const UPGRADED = 12;

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
/** Chunk sizes above 2^48 are refused before they can lose precision. */
const MAX_CHUNK_BEFORE_SHIFT = 2 ** 44;
const MAX_CHUNK_DIGITS = 16;

export class H1Parser {
  /** The refusal, once execute() or finish() returned -1. */
  error: H1ParseError | null = null;
  /** An exception thrown by a handler callback (reported as error code "callback_threw"). */
  thrown: unknown = null;
  /** Response mode: set before each response; true when the request was HEAD (no body follows). */
  headRequest = false;
  /** Response mode: set before each response; true when the request asked for an upgrade. */
  upgradeRequest = false;

  private state = HEAD;
  private paused = false;
  private pending: Buffer | null = null;
  private remaining = 0;
  private chunkDigits = 0;
  private extBytes = 0;
  private skipped = 0;

  constructor(
    readonly isResponse: boolean,
    public maxHeaderBytes: number,
    private readonly handler: H1ParserHandler,
  ) {}

  /**
   * Makes execute() return at the next event boundary (callable from inside a callback). The
   * completion of a body whose last byte was just delivered is still reported.
   */
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  get isPaused(): boolean {
    return this.paused;
  }
  /** True between messages with no byte of the next one received. */
  get idle(): boolean {
    return this.state === HEAD && this.pending === null && this.skipped === 0;
  }
  /** True while a head (or leading empty lines) is partially received. */
  get inHead(): boolean {
    return this.state === HEAD && (this.pending !== null || this.skipped !== 0);
  }
  get dead(): boolean {
    return this.state === DEAD;
  }
  /** True once a 101 head ended HTTP on this connection. */
  get upgraded(): boolean {
    return this.state === UPGRADED;
  }

  /** Forgets everything (for reuse on a fresh exchange). */
  reset(): void {
    this.state = HEAD;
    this.pending = null;
    this.error = null;
    this.thrown = null;
    this.paused = false;
    this.skipped = 0;
    this.remaining = 0;
  }

  /**
   * Parses buf[off..]. Returns the offset where parsing stopped: buf.length when everything was
   * consumed (partial heads are kept internally), less when a message ended or pause() was
   * called, or -1 on a refusal (see `error`).
   */
  execute(buf: Buffer, off: number): number {
    if (this.state === DEAD) return -1;
    if (this.state === UPGRADED) return off;
    try {
      return this.run(buf, off);
    } catch (e) {
      this.thrown = e;
      return this.fail(new H1ParseError('callback_threw', 'handler threw: ' + String(e), 500));
    }
  }

  /**
   * The peer closed its side. Returns 0 when no message was in progress, 1 when this completed a
   * close-delimited body (onMessageComplete was called), -1 when a message was cut short.
   */
  finish(): number {
    if (this.state === DEAD) return -1;
    if (this.state === UPGRADED) return 0;
    if (this.state === BODY_EOF) {
      this.state = HEAD;
      try {
        this.handler.onMessageComplete(null);
      } catch (e) {
        this.thrown = e;
      }
      return 1;
    }
    if (this.state === HEAD && this.pending === null) return 0;
    return this.fail(new H1ParseError('truncated', 'connection closed before the message was complete'));
  }

  private fail(e: H1ParseError): number {
    this.error = e;
    this.state = DEAD;
    this.pending = null;
    return -1;
  }

  private complete(trailers: string[] | null): void {
    this.state = HEAD;
    this.handler.onMessageComplete(trailers);
  }

  private run(buf: Buffer, off: number): number {
    let i = off;
    const len = buf.length;
    while (i < len) {
      if (this.paused) return i;
      const state = this.state;
      if (state === HEAD || state === TRAILERS) {
        const before = this.state;
        i = this.block(buf, i);
        if (i < 0) return -1;
        // A completed message (no body, or trailers read) returns at its boundary.
        if (this.state === HEAD && (before === TRAILERS || this.remaining === -1)) {
          this.remaining = 0;
          return i;
        }
        continue;
      }
      if (state === BODY_CL || state === CHUNK_DATA) {
        const avail = len - i;
        const n = this.remaining < avail ? this.remaining : avail;
        const chunk = buf.subarray(i, i + n);
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = state === BODY_CL ? HEAD : CHUNK_DATA_CR;
        this.handler.onBody(chunk);
        if (state === BODY_CL && this.remaining === 0) {
          this.complete(null);
          return i;
        }
        continue;
      }
      if (state === BODY_EOF) {
        const chunk = i === 0 ? buf : buf.subarray(i);
        i = len;
        this.handler.onBody(chunk);
        continue;
      }
      if (state === DEAD) return -1;
      if (state === UPGRADED) return i;
      // Chunk framing, byte by byte.
      const c = buf[i++];
      switch (state) {
        case CHUNK_SIZE: {
          const h = HEX[c];
          if (h !== 0) {
            if (++this.chunkDigits > MAX_CHUNK_DIGITS || this.remaining >= MAX_CHUNK_BEFORE_SHIFT) {
              return this.fail(new H1ParseError('invalid_chunk_size', 'chunk size too large'));
            }
            this.remaining = this.remaining * 16 + (h - 1);
          } else if (this.chunkDigits === 0) {
            return this.fail(new H1ParseError('invalid_chunk_size', 'invalid chunk size'));
          } else if (c === CR) this.state = CHUNK_SIZE_LF;
          else if (c === SEMI) this.state = CHUNK_EXT;
          else if (c === SP || c === HTAB) this.state = CHUNK_SIZE_WS;
          else return this.fail(new H1ParseError('invalid_chunk_size', 'invalid chunk size'));
          break;
        }
        case CHUNK_SIZE_WS:
          if (c === SEMI) this.state = CHUNK_EXT;
          else if (c !== SP && c !== HTAB) return this.fail(new H1ParseError('invalid_chunk_size', 'invalid chunk size'));
          break;
        case CHUNK_EXT:
          if (c === CR) this.state = CHUNK_SIZE_LF;
          else if (VCHAR[c] !== 1) return this.fail(new H1ParseError('invalid_chunk_ext', 'invalid chunk extension'));
          else if (++this.extBytes > this.maxHeaderBytes) {
            return this.fail(new H1ParseError('invalid_chunk_ext', 'chunk extensions too long'));
          }
          break;
        case CHUNK_SIZE_LF:
          if (c !== LF) return this.fail(new H1ParseError('invalid_chunk', 'bare CR in chunk size line'));
          this.chunkDigits = 0;
          this.state = this.remaining === 0 ? TRAILERS : CHUNK_DATA;
          break;
        case CHUNK_DATA_CR:
          if (c !== CR) return this.fail(new H1ParseError('invalid_chunk', 'missing CRLF after chunk data'));
          this.state = CHUNK_DATA_LF;
          break;
        case CHUNK_DATA_LF:
          if (c !== LF) return this.fail(new H1ParseError('invalid_chunk', 'missing CRLF after chunk data'));
          this.state = CHUNK_SIZE;
          break;
      }
    }
    return i;
  }

  /**
   * Delimits a head or trailer section starting at buf[off] (continuing any partial one kept in
   * `pending`). Returns the offset after it, buf.length when more bytes are needed, or -1.
   */
  private block(buf: Buffer, off: number): number {
    let data = buf;
    let base = off;
    let pl = 0;
    if (this.pending !== null) {
      pl = this.pending.length;
      data = Buffer.concat([this.pending, buf.subarray(off)]);
      base = 0;
    }
    const trailers = this.state === TRAILERS;
    let s = base;
    const dlen = data.length;
    if (!trailers && !this.isResponse) {
      // RFC 9112 2.2: a server ignores empty lines before a request-line.
      while (dlen - s >= 2 && data[s] === CR && data[s + 1] === LF) {
        s += 2;
        if ((this.skipped += 2) > 64) return this.fail(new H1ParseError('invalid_request_line', 'too many empty lines'));
      }
    }
    let end: number;
    if (trailers && dlen - s >= 2 && data[s] === CR && data[s + 1] === LF) end = s + 2;
    else {
      const e = data.indexOf(CRLFCRLF, s);
      if (e < 0) return this.needMore(data, s, data === buf ? dlen - off : dlen - pl, buf.length);
      end = e + 4;
    }
    const size = end - s + this.skipped;
    if (size > this.maxHeaderBytes) {
      return this.fail(new H1ParseError('headers_too_large', 'header section too large', 431));
    }
    this.pending = null;
    const next = data === buf ? end : off + (end - pl);
    if (trailers) {
      const th = new H1Head();
      const e = parseFields(data, s, end, this.isResponse, th);
      if (e !== null) return this.fail(e);
      this.extBytes = 0;
      this.complete(th.headers.length === 0 ? null : th.headers);
      return next;
    }
    this.skipped = 0;
    const head = new H1Head();
    head.headBytes = size;
    const e = parseHead(data, s, end, this.isResponse, head);
    if (e !== null) return this.fail(e);
    this.extBytes = 0;
    let noBody = false;
    if (this.isResponse) {
      const st = head.status;
      if (st < 200) {
        if (st === 101) {
          if (!this.upgradeRequest) return this.fail(new H1ParseError('unexpected_upgrade', '101 Switching Protocols was not asked for'));
          head.noBody = true;
          head.keepAlive = false;
          this.state = UPGRADED;
          this.handler.onHead(head);
          return next;
        }
        return next; // interim response (100 Continue, 103 Early Hints): skipped
      }
      if (this.headRequest || st === 204 || st === 304) noBody = true;
    }
    if (!noBody) {
      if (head.chunked) {
        this.state = CHUNK_SIZE;
        this.remaining = 0;
        this.chunkDigits = 0;
      } else if (head.contentLength > 0) {
        this.state = BODY_CL;
        this.remaining = head.contentLength;
      } else if (head.contentLength < 0 && this.isResponse) {
        this.state = BODY_EOF;
        head.keepAlive = false;
      } else noBody = true;
    }
    head.noBody = noBody;
    if (noBody) this.remaining = -1; // tells run() the message ended with its head
    this.handler.onHead(head);
    if (noBody) this.complete(null);
    return next;
  }

  /** No terminator yet: keep the partial section, refusing early what can never become valid. */
  private needMore(data: Buffer, s: number, fresh: number, buflen: number): number {
    const dlen = data.length;
    if (dlen - s + this.skipped > this.maxHeaderBytes) {
      return this.fail(new H1ParseError('headers_too_large', 'header section too large', 431));
    }
    let k = dlen - fresh;
    if (k < s) k = s;
    for (; k < dlen; k++) {
      const c = data[k];
      if (c === LF) {
        if (k === s || data[k - 1] !== CR) return this.fail(new H1ParseError('bare_lf', 'bare LF in header section'));
      } else if (k > s && data[k - 1] === CR) {
        return this.fail(new H1ParseError('bare_cr', 'bare CR in header section'));
      }
    }
    this.pending = s === 0 ? data : data.subarray(s);
    return buflen;
  }
}
