/**
 * One upstream HTTP/1.1 exchange (an UpstreamRequest): encodes the request head once, frames the
 * request body (Content-Length, none, or chunked with trailers), buffers what is written before a
 * connection is assigned, and reports the response to its handler exactly once per outcome.
 * A bodiless request whose map carries `upgrade` is sent as an upgrade (`connection: upgrade`);
 * after its 101 the connection can be taken out of the pool for a tunnel (takeSocket).
 * Must never: write pseudo-headers or hop-by-hop fields, write more than a declared
 * Content-Length, or call the handler after it completed, failed or was aborted.
 */
import type { Duplex } from 'node:stream';
import type { HeaderMap } from '../../api/headers';
import type { UpstreamRequest, UpstreamResponseHandler } from '../../api/stream';
import { UpstreamError } from '../../api/errors';
import { fieldLines, parseLength, chunkHeader, lastChunk } from './serialize';
import { isToken, isFieldValue, TARGET } from './chars';
import type { H1ClientConnection } from './client-connection';
import type { H1Pool } from './pool';

const F_NONE = 0;
const F_LENGTH = 1;
const F_CHUNKED = 2;

function validTarget(p: string): boolean {
  if (p.length === 0) return false;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c > 0xff || TARGET[c] !== 1) return false;
  }
  return true;
}

export class H1Exchange implements UpstreamRequest {
  conn: H1ClientConnection | null = null;
  /** Finished, failed or aborted: no more handler calls, writes are ignored. */
  done = false;
  /** The caller ended the request (endStream at request time, or end()). */
  reqEnded: boolean;
  /** The request had no body when it was made (eligible for the stale-connection retry). */
  readonly noBodyAtStart: boolean;
  requestComplete = false;
  gotResponseBytes = false;
  retried = false;
  paused = false;
  readonly isHead: boolean;
  /** Sent as an upgrade request: a 101 is a valid answer. */
  readonly upgrade: boolean = false;
  /** Encoded head, or null when the headers cannot be encoded. */
  readonly head: string | null;
  drainCb: (() => void) | null = null;

  private framing = F_NONE;
  private remaining = 0;
  private buffered: Buffer[] | null = null;
  private trailers: HeaderMap | null = null;
  private toldToWait = false;

  constructor(
    private readonly pool: H1Pool,
    headers: HeaderMap,
    endStream: boolean,
    readonly handler: UpstreamResponseHandler,
    defaultAuthority: string,
  ) {
    this.reqEnded = endStream;
    this.noBodyAtStart = endStream;
    const method = headers.get(':method') ?? 'GET';
    const path = headers.get(':path') ?? '/';
    this.isHead = method === 'HEAD';
    const authority = headers.get(':authority') ?? headers.get('host') ?? defaultAuthority;
    if (!isToken(method) || !validTarget(path) || !validTarget(authority)) {
      this.head = null;
      return;
    }
    const cl = parseLength(headers.get('content-length'));
    let text = method + ' ' + path + ' HTTP/1.1\r\nhost: ' + authority + '\r\n' + fieldLines(headers, cl < 0, true);
    if (cl >= 0) {
      this.framing = F_LENGTH;
      this.remaining = cl;
    } else if (endStream) {
      if (method === 'POST' || method === 'PUT' || method === 'PATCH') text += 'content-length: 0\r\n';
      const up = headers.get('upgrade');
      if (up !== undefined && up !== '' && isFieldValue(up)) {
        text += 'connection: upgrade\r\nupgrade: ' + up + '\r\n';
        this.upgrade = true;
      }
    } else {
      this.framing = F_CHUNKED;
      text += 'transfer-encoding: chunked\r\n';
    }
    this.head = text + '\r\n';
  }

  // ---- UpstreamRequest ----

  write(chunk: Buffer): boolean {
    if (this.done || this.reqEnded || chunk.length === 0) return true;
    const c = this.conn;
    if (c === null) {
      (this.buffered ??= []).push(chunk);
      this.toldToWait = true;
      return false;
    }
    return this.send(c, chunk);
  }

  end(trailers?: HeaderMap | null): void {
    if (this.done || this.reqEnded) return;
    this.reqEnded = true;
    this.trailers = trailers ?? null;
    const c = this.conn;
    if (c !== null) this.finishRequest(c);
  }

  onDrain(cb: () => void): void {
    this.drainCb = cb;
  }

  pause(): void {
    this.paused = true;
    if (this.conn !== null) this.conn.pauseSocket();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.conn !== null && !this.done) this.conn.resumeFeeding();
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    const c = this.conn;
    if (c === null) this.pool.removePending(this);
    else c.destroy();
  }

  /** After a 101: the connection leaves the pool and its socket is handed over, paused. */
  takeSocket(): Duplex | null {
    const c = this.conn;
    if (this.done || c === null || !c.switching) return null;
    this.done = true;
    return c.handOver();
  }

  // ---- called by the connection / pool ----

  /** Writes everything known so far onto a freshly assigned connection. */
  startOn(c: H1ClientConnection): void {
    this.conn = c;
    this.gotResponseBytes = false;
    this.requestComplete = false;
    const sock = c.socket;
    sock.cork();
    sock.write(this.head!, 'latin1');
    const b = this.buffered;
    this.buffered = null;
    if (b !== null) for (const chunk of b) this.send(c, chunk);
    if (this.reqEnded) this.finishRequest(c);
    sock.uncork();
    if (this.toldToWait && !this.done) {
      this.toldToWait = false;
      if (!sock.writableNeedDrain) this.fireDrain();
    }
  }

  fireDrain(): void {
    const cb = this.drainCb;
    if (cb === null || this.done) return;
    this.drainCb = null;
    cb();
  }

  fail(err: UpstreamError): void {
    if (this.done) return;
    this.done = true;
    this.handler.onError(err);
  }

  private send(c: H1ClientConnection, chunk: Buffer): boolean {
    const sock = c.socket;
    switch (this.framing) {
      case F_LENGTH:
        if (chunk.length > this.remaining) {
          chunk = chunk.subarray(0, this.remaining);
          c.keepAlive = false;
        }
        if (chunk.length === 0) return true;
        this.remaining -= chunk.length;
        return sock.write(chunk);
      case F_CHUNKED: {
        sock.cork();
        sock.write(chunkHeader(chunk.length), 'latin1');
        sock.write(chunk);
        const r = sock.write('\r\n', 'latin1');
        sock.uncork();
        return r;
      }
      default:
        return true;
    }
  }

  private finishRequest(c: H1ClientConnection): void {
    if (this.framing === F_CHUNKED) c.socket.write(lastChunk(this.trailers), 'latin1');
    else if (this.framing === F_LENGTH && this.remaining > 0) c.keepAlive = false;
    this.requestComplete = true;
  }
}
