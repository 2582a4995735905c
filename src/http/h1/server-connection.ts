/**
 * One downstream HTTP/1.1 connection: turns socket bytes into H1ServerStreams, one at a time.
 * Owns: keep-alive, pipelining (the next request is parsed only after the current response has
 * finished; leftover bytes are kept and the socket paused), request-body flow control, header /
 * idle timeouts (slowloris), protocol-error replies (400/431/501/505 then close), drain, and
 * handing the socket over after a 101 (upgrade): the socket is paused from the end of an upgrade
 * request's head until the answer, so no byte of the new protocol is read as HTTP.
 * Must never: throw from a socket event, parse ahead of the response in flight, answer a request
 * out of order, or keep a connection whose framing it can no longer trust.
 */
import type { Duplex } from 'node:stream';
import type { ConnectionInfo } from '../../api/stream';
import type { ServerConnection, ServeContext } from '../../api/codec';
import type { TimerHandle } from '../../api/clock';
import { H1Parser, H1Head, H1ParserHandler } from './parser';
import { requestHeaderMap, requestUpgrade, trailerMap } from './headers';
import { statusLine } from './serialize';
import { H1ServerStream } from './server-stream';

/** How long a closing connection keeps reading (and discarding) before it is destroyed. */
const LINGER_MS = 2000;

export class H1ServerConnection implements ServerConnection, H1ParserHandler {
  readonly info: ConnectionInfo;
  /** True once no more requests will be parsed (closing or closed). */
  closed = false;
  /** The socket was handed over to a tunnel after a 101. */
  upgraded = false;

  private readonly parser: H1Parser;
  private cur: H1ServerStream | null = null;
  private newStream: H1ServerStream | null = null;
  private leftover: Buffer | null = null;
  private leftoverOff = 0;
  private driving = false;
  private draining = false;
  private peerEnded = false;
  private socketPaused = false;
  private destroyed = false;
  private closeCbs: Array<() => void> | null = [];
  private timer: TimerHandle | null = null;
  /** Start of the head being awaited (-1: none); the connection start counts for the first. */
  private headStart: number;
  private waitingSince: number;
  private readonly onTimerFn = (): void => this.onTimer();
  private readonly uncorkFn = (): void => this.socket.uncork();
  private readonly onDataFn = (c: Buffer): void => this.onData(c);
  private readonly onEndFn = (): void => this.onEnd();
  private readonly onDrainFn = (): void => this.onSocketDrain();

  constructor(
    private readonly socket: Duplex,
    private readonly ctx: ServeContext,
  ) {
    this.info = ctx.connection;
    this.parser = new H1Parser(false, ctx.limits.maxHeaderBytes, this);
    const s = socket as Duplex & { setNoDelay?: (v: boolean) => void };
    if (typeof s.setNoDelay === 'function') s.setNoDelay(true);
    socket.on('data', this.onDataFn);
    socket.on('end', this.onEndFn);
    socket.on('close', () => this.handleClose());
    socket.on('error', (e: Error) => ctx.log.debug('h1 downstream socket error', { error: e.message }));
    socket.on('drain', this.onDrainFn);
    this.headStart = this.waitingSince = ctx.clock.now();
    this.schedule();
  }

  get activeStreams(): number {
    return this.cur === null && !this.upgraded ? 0 : 1;
  }

  onClose(cb: () => void): void {
    if (this.closeCbs === null) cb();
    else this.closeCbs.push(cb);
  }

  drain(): void {
    if (this.upgraded) return; // a tunnel ends when its peers end it (or drain_timeout destroys it)
    this.draining = true;
    if (this.cur === null) this.closeGracefully();
    else this.cur.closeAfter = true;
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /** Whether the next response must carry `Connection: close`. */
  mustClose(): boolean {
    return this.draining || (this.peerEnded && this.leftover === null);
  }

  // ---- socket events ----

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    if (this.cur === null && this.headStart < 0) this.headStart = this.ctx.clock.now();
    if (this.leftover === null) {
      this.leftover = chunk;
      this.leftoverOff = 0;
    } else {
      this.leftover = Buffer.concat([this.leftover.subarray(this.leftoverOff), chunk]);
      this.leftoverOff = 0;
    }
    this.drive();
  }

  private onEnd(): void {
    this.peerEnded = true;
    if (this.closed) return;
    const s = this.cur;
    if (s !== null && !s.requestComplete) {
      s.abort('downstream closed before the request was complete');
      this.destroy();
    } else if (s === null && this.leftover === null) {
      this.closeGracefully();
    }
  }

  private handleClose(): void {
    this.closed = true;
    this.destroyed = true;
    this.cancelTimer();
    const s = this.cur;
    this.cur = null;
    if (s !== null && !s.responseComplete) s.abort('downstream connection closed');
    const cbs = this.closeCbs;
    this.closeCbs = null;
    if (cbs !== null) for (const cb of cbs) cb();
  }

  private onSocketDrain(): void {
    const s = this.cur;
    if (s === null || s.drainCb === null) return;
    const cb = s.drainCb;
    s.drainCb = null;
    cb();
  }

  // ---- parsing ----

  /** Parses buffered bytes as far as the current stream allows; pauses/resumes the socket. */
  drive(): void {
    if (this.driving || this.closed) return;
    this.driving = true;
    try {
      while (this.leftover !== null && !this.closed) {
        const c = this.cur;
        if (c !== null && (c.requestComplete || c.handler === null || c.userPaused)) break;
        this.parser.resume();
        const buf = this.leftover;
        const r = this.parser.execute(buf, this.leftoverOff);
        if (r < 0) {
          this.leftover = null;
          this.onParseError();
          break;
        }
        if (r >= buf.length) this.leftover = null;
        else this.leftoverOff = r;
        const s = this.newStream;
        if (s !== null) {
          this.newStream = null;
          this.ctx.onStream(s);
        }
      }
    } catch (e) {
      this.ctx.log.error('h1 stream handler threw', { error: String(e) });
      this.destroy();
    } finally {
      this.driving = false;
    }
    if (this.closed) return;
    const c = this.cur;
    // An upgrade request's socket stays paused until its answer: what follows may not be HTTP.
    if (this.leftover !== null || (c !== null && c.upgrade !== undefined && c.requestComplete)) this.pauseSocket();
    else if (c === null || !c.userPaused) this.resumeSocket();
    if (this.peerEnded && this.cur === null && this.leftover === null) this.closeGracefully();
    else if (this.cur === null) this.schedule();
  }

  onHead(head: H1Head): void {
    this.headStart = -1;
    const upgrade = head.connectionTokens === null ? null : requestUpgrade(head);
    const headers = requestHeaderMap(head, this.info.tls, upgrade);
    const s = new H1ServerStream(this, head, headers, this.ctx.clock.now(), upgrade);
    if (this.draining) s.closeAfter = true;
    this.cur = s;
    this.newStream = s;
    this.parser.pause();
  }

  onBody(chunk: Buffer): void {
    const s = this.cur!;
    s.deliver(chunk);
    if (s.userPaused || this.closed) this.parser.pause();
  }

  onMessageComplete(trailers: string[] | null): void {
    const s = this.cur!;
    s.requestComplete = true;
    this.parser.pause();
    if (!s.endStream) s.handler!.onEnd(trailerMap(trailers));
    if (s.responseComplete && this.cur === s) this.responseDone(s);
  }

  private onParseError(): void {
    const e = this.parser.error!;
    const s = this.cur;
    if (e.code === 'callback_threw') {
      this.ctx.log.error('h1 request body handler threw', { error: String(this.parser.thrown) });
      this.destroy();
      return;
    }
    this.ctx.onProtocolError(e.code);
    if (s !== null) s.abort('malformed request: ' + e.message);
    if (s !== null && s.responseStarted) {
      this.destroy();
      return;
    }
    if (s !== null) s.responseStarted = true;
    const body = statusLine(e.status).slice(13, -2);
    this.writeRaw(statusLine(e.status) + `connection: close\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    this.closeGracefully();
  }

  // ---- response side, called by the stream ----

  responseDone(s: H1ServerStream): void {
    if (this.cur !== s) return;
    if (s.closeAfter || !s.requestComplete || this.mustClose()) {
      this.closeGracefully();
      return;
    }
    this.cur = null;
    const now = this.ctx.clock.now();
    this.waitingSince = now;
    this.headStart = this.leftover !== null ? now : -1;
    this.drive();
  }

  /**
   * After the stream sent a 101: stops all HTTP work on this connection and hands the socket
   * over, paused, with the bytes already read past the request head unshifted into it. The
   * connection still reports its close (listener accounting) and can still be destroyed.
   */
  detach(s: H1ServerStream): Duplex {
    if (this.cur !== s || this.destroyed) throw new Error('h1: no upgraded stream to take the socket from');
    this.upgraded = true;
    this.closed = true;
    this.cur = null;
    this.cancelTimer();
    const sock = this.socket;
    sock.off('data', this.onDataFn);
    sock.off('end', this.onEndFn);
    sock.off('drain', this.onDrainFn);
    this.socketPaused = true;
    sock.pause();
    const l = this.leftover;
    this.leftover = null;
    if (l !== null && this.leftoverOff < l.length) sock.unshift(this.leftoverOff === 0 ? l : l.subarray(this.leftoverOff));
    return sock;
  }

  writeRaw(text: string): void {
    if (!this.destroyed) this.socket.write(text, 'latin1');
  }

  /** Writes a response head held back (corked) until the end of this tick to join the body. */
  writeHeadCorked(text: string): void {
    if (this.destroyed) return;
    this.socket.cork();
    this.socket.write(text, 'latin1');
    process.nextTick(this.uncorkFn);
  }

  writeBuf(chunk: Buffer): boolean {
    if (this.destroyed) return true;
    return this.socket.write(chunk);
  }

  writeChunk(header: string, chunk: Buffer): boolean {
    if (this.destroyed) return true;
    const sock = this.socket;
    sock.cork();
    sock.write(header, 'latin1');
    sock.write(chunk);
    const r = sock.write('\r\n', 'latin1');
    sock.uncork();
    return r;
  }

  pauseSocket(): void {
    if (!this.socketPaused && !this.destroyed) {
      this.socketPaused = true;
      this.socket.pause();
    }
  }

  private resumeSocket(): void {
    if (this.socketPaused && !this.destroyed) {
      this.socketPaused = false;
      this.socket.resume();
    }
  }

  /** Stops parsing, flushes what was written, half-closes; lingers briefly reading to avoid RST. */
  private closeGracefully(): void {
    if (this.destroyed) return;
    this.closed = true;
    this.cancelTimer();
    this.leftover = null;
    this.socket.end();
    this.resumeSocket();
    this.timer = this.ctx.clock.setTimer(() => this.socket.destroy(), Math.min(LINGER_MS, this.ctx.limits.idleTimeoutMs || LINGER_MS));
  }

  // ---- timers: one lazy timer per connection, re-armed only when it fires ----

  private schedule(): void {
    if (this.timer !== null || this.closed) return;
    const d = this.nextDeadline();
    if (d !== Infinity) this.timer = this.ctx.clock.setTimer(this.onTimerFn, Math.max(1, d - this.ctx.clock.now()));
  }

  private nextDeadline(): number {
    if (this.cur !== null) return Infinity;
    let d = Infinity;
    const lim = this.ctx.limits;
    if (this.headStart >= 0 && lim.headerTimeoutMs > 0) d = this.headStart + lim.headerTimeoutMs;
    if (this.parser.idle && this.leftover === null && lim.idleTimeoutMs > 0) {
      const i = this.waitingSince + lim.idleTimeoutMs;
      if (i < d) d = i;
    }
    return d;
  }

  private onTimer(): void {
    this.timer = null;
    if (this.closed || this.cur !== null) return;
    const now = this.ctx.clock.now();
    const d = this.nextDeadline();
    if (d > now) {
      this.schedule();
      return;
    }
    const lim = this.ctx.limits;
    const headLate = this.headStart >= 0 && lim.headerTimeoutMs > 0 && now >= this.headStart + lim.headerTimeoutMs;
    if (headLate && (this.parser.inHead || this.leftover !== null)) {
      this.ctx.onProtocolError('header_timeout');
      this.writeRaw(statusLine(408) + 'connection: close\r\ncontent-length: 0\r\n\r\n');
    }
    this.closeGracefully();
  }

  private cancelTimer(): void {
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
  }
}
