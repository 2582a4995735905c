/**
 * One HTTP/1.1 request/response exchange on a downstream connection (a ServerStream).
 * Owns: response framing (none for HEAD/1xx/204/304, Content-Length, chunked, or close-delimited
 * for HTTP/1.0), the Connection header of the response, 100-continue, local replies, the
 * per-stream byte counters, and for an upgrade request the 101 head and the socket hand-over.
 * Must never: write to the socket after its response completed, write more body bytes than a
 * declared Content-Length, or deliver body events before attach().
 */
import type { Duplex } from 'node:stream';
import { HeaderMap } from '../../api/headers';
import type { ConnectionInfo, LocalReply, RequestBodyHandler, ServerStream } from '../../api/stream';
import type { H1Head } from './head';
import type { H1ServerConnection } from './server-connection';
import { statusLine, fieldLines, parseLength, chunkHeader, lastChunk } from './serialize';
import { isFieldValue } from './chars';

const F_NONE = 0;
const F_LENGTH = 1;
const F_CHUNKED = 2;
const F_EOF = 3;

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const SWITCHING = 'HTTP/1.1 101 Switching Protocols\r\n';

export class H1ServerStream implements ServerStream {
  readonly protocol: string;
  readonly connection: ConnectionInfo;
  readonly endStream: boolean;
  bytesReceived: number;
  bytesSent = 0;
  responseStarted = false;

  handler: RequestBodyHandler | null = null;
  userPaused = false;
  requestComplete = false;
  responseComplete = false;
  /** Close the connection after this exchange (client asked, HTTP/1.0, draining, broken framing). */
  closeAfter: boolean;
  drainCb: (() => void) | null = null;
  /** Lower-cased Upgrade token of an upgrade request (see requestUpgrade), else undefined. */
  readonly upgrade: string | undefined;
  /** A 101 went out: the socket may be taken, nothing else is written. */
  switched = false;

  private aborted: string | null = null;
  private localReply = false;
  private continuePending: boolean;
  private readonly isHead: boolean;
  private readonly http10: boolean;
  private framing = F_NONE;
  private remaining = 0;

  constructor(
    private readonly conn: H1ServerConnection,
    head: H1Head,
    readonly headers: HeaderMap,
    readonly startTime: number,
    upgrade: string | null = null,
  ) {
    this.upgrade = upgrade === null ? undefined : upgrade.toLowerCase();
    this.connection = conn.info;
    this.http10 = head.versionMinor === 0;
    this.protocol = this.http10 ? 'http/1.0' : 'http/1.1';
    this.endStream = head.noBody;
    this.bytesReceived = head.headBytes;
    this.isHead = head.method === 'HEAD';
    this.closeAfter = !head.keepAlive;
    this.continuePending = head.expectContinue && !head.noBody && !this.http10;
  }

  get attached(): boolean {
    return this.handler !== null;
  }

  attach(handler: RequestBodyHandler): void {
    if (this.handler !== null) return;
    this.handler = handler;
    if (this.aborted !== null) {
      handler.onAbort(this.aborted);
      return;
    }
    this.sendContinue();
    if (!this.requestComplete) this.conn.drive();
  }

  pause(): void {
    this.userPaused = true;
    if (!this.requestComplete) this.conn.pauseSocket();
  }

  resume(): void {
    if (!this.userPaused) return;
    this.userPaused = false;
    this.sendContinue();
    this.conn.drive();
  }

  /** Answers `Expect: 100-continue` the first time the body is wanted, unless a reply went out. */
  private sendContinue(): void {
    if (!this.continuePending || this.userPaused) return;
    this.continuePending = false;
    if (!this.responseStarted && !this.requestComplete) this.conn.writeRaw(CONTINUE);
  }

  respond(headers: HeaderMap, endStream: boolean): void {
    if (this.responseStarted || this.conn.closed) return;
    let status = parseLength(headers.get(':status'));
    if (status === 101 && this.upgrade !== undefined && this.requestComplete) return this.switchProtocols(headers);
    if (status < 200 || status > 999) status = status >= 100 && status < 200 ? 502 : 500;
    this.responseStarted = true;
    this.continuePending = false;
    const noBody = this.isHead || status === 204 || status === 304;
    const cl = parseLength(headers.get('content-length'));
    let text = statusLine(status) + fieldLines(headers, cl < 0 || status === 204, false);
    if (noBody) this.framing = F_NONE;
    else if (cl >= 0) {
      this.framing = F_LENGTH;
      this.remaining = cl;
    } else if (endStream) {
      this.framing = F_LENGTH;
      this.remaining = 0;
      text += 'content-length: 0\r\n';
    } else if (!this.http10) {
      this.framing = F_CHUNKED;
      text += 'transfer-encoding: chunked\r\n';
    } else {
      this.framing = F_EOF;
      this.closeAfter = true;
    }
    // A response that ends while the request body is still arriving closes the connection.
    if (this.closeAfter || this.conn.mustClose() || ((endStream || this.localReply) && !this.requestComplete)) {
      this.closeAfter = true;
      text += 'connection: close\r\n\r\n';
    } else text += this.http10 ? 'connection: keep-alive\r\n\r\n' : '\r\n';
    this.bytesSent += text.length;
    if (endStream) {
      this.conn.writeRaw(text);
      this.finish();
    } else this.conn.writeHeadCorked(text);
  }

  /** 101 Switching Protocols: the head with `connection: upgrade`, then only takeSocket(). */
  private switchProtocols(headers: HeaderMap): void {
    this.responseStarted = true;
    this.switched = true;
    this.continuePending = false;
    const up = headers.get('upgrade');
    const text =
      SWITCHING + fieldLines(headers, true, false) + 'connection: upgrade\r\nupgrade: ' + (up !== undefined && isFieldValue(up) ? up : this.upgrade!) + '\r\n\r\n';
    this.bytesSent += text.length;
    this.conn.writeRaw(text);
  }

  takeSocket(): Duplex {
    if (!this.switched || this.responseComplete) throw new Error('h1: takeSocket() before a 101 was sent');
    this.responseComplete = true;
    this.drainCb = null;
    return this.conn.detach(this);
  }

  write(chunk: Buffer): boolean {
    if (this.switched) return true;
    if (!this.responseStarted || this.responseComplete || this.conn.closed) return true;
    let n = chunk.length;
    if (n === 0) return true;
    switch (this.framing) {
      case F_NONE:
        return true;
      case F_LENGTH:
        if (n > this.remaining) {
          // More than declared would desynchronise the client: drop the excess, close after.
          n = this.remaining;
          chunk = chunk.subarray(0, n);
          this.closeAfter = true;
          if (n === 0) return true;
        }
        this.remaining -= n;
        this.bytesSent += n;
        return this.conn.writeBuf(chunk);
      case F_CHUNKED: {
        const h = chunkHeader(n);
        this.bytesSent += h.length + n + 2;
        return this.conn.writeChunk(h, chunk);
      }
      default:
        this.bytesSent += n;
        return this.conn.writeBuf(chunk);
    }
  }

  end(trailers?: HeaderMap | null): void {
    if (this.switched) return;
    if (!this.responseStarted || this.responseComplete || this.conn.closed) return;
    if (this.framing === F_CHUNKED) {
      const t = lastChunk(trailers);
      this.bytesSent += t.length;
      this.conn.writeRaw(t);
    } else if (this.framing === F_LENGTH && this.remaining > 0) {
      this.closeAfter = true; // short body: only closing tells the client
    }
    this.finish();
  }

  private finish(): void {
    this.responseComplete = true;
    this.drainCb = null;
    this.conn.responseDone(this);
  }

  onDrain(cb: () => void): void {
    this.drainCb = cb;
  }

  sendLocalReply(reply: LocalReply): void {
    if (this.responseStarted) {
      this.reset();
      return;
    }
    const h = new HeaderMap([':status', String(reply.status)]);
    let hasType = false;
    if (reply.headers !== undefined) {
      reply.headers.forEach((v, n) => {
        if (n.charCodeAt(0) === 0x3a || n === 'content-length') return;
        if (n === 'content-type') hasType = true;
        h.add(n, v);
      });
    }
    const body = reply.body === undefined ? null : typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
    const len = body === null ? 0 : body.length;
    if (len > 0 && !hasType) h.add('content-type', 'text/plain');
    h.add('content-length', String(len));
    this.localReply = true;
    this.respond(h, len === 0);
    if (len > 0) {
      this.write(body!);
      this.end(null);
    }
  }

  reset(): void {
    this.conn.destroy();
  }

  /** The exchange broke (disconnect, reset, malformed body): tell the body handler once. */
  abort(reason: string): void {
    if (this.aborted !== null) return;
    this.aborted = reason;
    const h = this.handler;
    if (h !== null) h.onAbort(reason);
  }

  /** Delivers one request body chunk (called by the connection's parser handler). */
  deliver(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    this.handler!.onData(chunk);
  }
}
