/**
 * One upstream HTTP/1.1 connection on a `net` socket (or TLS, see upstream/connect.ts), carrying
 * one exchange at a time.
 * Owns: connecting (with the connect timeout), decoding the response (HEAD-aware, hop-by-hop
 * stripped), response-body flow control, and deciding whether the connection may be reused:
 * only after a clean request and response, no `Connection: close`, and no stray bytes. After a
 * 101 to an upgrade request it stops reading, keeps what followed the head, and can hand the
 * socket over (handOver), leaving the pool.
 * Must never: hand a connection back with bytes of an unknown message on it, report one
 * exchange's outcome twice, or throw from a socket event.
 */
import type net from 'node:net';
import type { Clock, TimerHandle } from '../../api/clock';
import { UpstreamError } from '../../api/errors';
import { H1Parser, H1Head, H1ParserHandler } from './parser';
import { responseHeaderMap, trailerMap } from './headers';
import type { H1Exchange } from './client-exchange';
import type { H1Pool } from './pool';
import { connectEndpoint, type UpstreamTls } from '../../upstream/connect';

/** Response heads from upstreams may be larger than what we accept from clients. */
const MAX_RESPONSE_HEAD = 64 * 1024;

export class H1ClientConnection implements H1ParserHandler {
  readonly socket: net.Socket;
  ex: H1Exchange | null = null;
  /** An exchange this connection was opened for (stale-connection retry). */
  reserved: H1Exchange | null = null;
  connected = false;
  closed = false;
  /** Cleared when anything makes the connection unfit for another exchange. */
  keepAlive = true;
  served = 0;
  idleSince = 0;
  idleTimer: TimerHandle | null = null;
  /** A 101 ended HTTP on this connection: it waits, paused, to be handed over or destroyed. */
  switching = false;

  private readonly parser: H1Parser;
  private connectTimer: TimerHandle | null;
  private timedOut = false;
  private lastError: Error | null = null;
  private startedReused = false;
  private completed = false;
  private leftover: Buffer | null = null;
  private leftoverOff = 0;
  private socketPaused = false;
  /** Handed over to a tunnel: this object no longer touches the socket. */
  private taken = false;
  /** Bytes that followed the 101 head, given back to the socket at the hand-over. */
  private afterSwitch: Buffer | null = null;
  private readonly onDataFn = (c: Buffer): void => this.onData(c);
  private readonly onEndFn = (): void => this.onEnd();
  private readonly onCloseFn = (): void => this.onClose();
  private readonly onErrorFn = (e: Error): void => {
    this.lastError = e;
  };
  private readonly onDrainFn = (): void => this.ex?.fireDrain();

  constructor(
    private readonly pool: H1Pool,
    host: string,
    port: number,
    connectTimeoutMs: number,
    clock: Clock,
    tls: UpstreamTls | null = null,
  ) {
    this.parser = new H1Parser(true, MAX_RESPONSE_HEAD, this);
    const ep = connectEndpoint(host, port, tls);
    const s = (this.socket = ep.socket);
    s.setNoDelay(true);
    s.on(ep.readyEvent, () => this.onConnect());
    s.on('data', this.onDataFn);
    s.on('end', this.onEndFn);
    s.on('close', this.onCloseFn);
    s.on('error', this.onErrorFn);
    s.on('drain', this.onDrainFn);
    this.connectTimer =
      connectTimeoutMs > 0
        ? clock.setTimer(() => {
            this.timedOut = true;
            this.socket.destroy();
          }, connectTimeoutMs)
        : null;
  }

  /** Assigns an exchange and writes its request. */
  start(ex: H1Exchange): void {
    this.ex = ex;
    this.startedReused = this.served > 0;
    this.served++;
    this.completed = false;
    this.parser.reset();
    this.parser.headRequest = ex.isHead;
    this.parser.upgradeRequest = ex.upgrade;
    ex.startOn(this);
  }

  destroy(): void {
    this.socket.destroy();
  }

  pauseSocket(): void {
    if (!this.socketPaused) {
      this.socketPaused = true;
      this.socket.pause();
    }
  }

  resumeFeeding(): void {
    if (this.switching) return;
    const l = this.leftover;
    if (l !== null) {
      this.leftover = null;
      this.feed(l, this.leftoverOff);
    }
    const ex = this.ex;
    if (this.leftover === null && this.socketPaused && !this.closed && (ex === null || !ex.paused)) {
      this.socketPaused = false;
      this.socket.resume();
    }
  }

  // ---- socket events ----

  private onConnect(): void {
    this.connected = true;
    if (this.connectTimer !== null) {
      this.connectTimer.cancel();
      this.connectTimer = null;
    }
    this.pool.onConnected(this);
  }

  private onData(chunk: Buffer): void {
    const ex = this.ex;
    if (ex === null || ex.done) {
      // Bytes nobody asked for (on an idle or abandoned connection): never reuse it.
      this.keepAlive = false;
      this.socket.destroy();
      return;
    }
    this.feed(chunk, 0);
  }

  private feed(buf: Buffer, off: number): void {
    const ex = this.ex!;
    ex.gotResponseBytes = true;
    while (off < buf.length) {
      if (ex.paused) {
        this.leftover = buf;
        this.leftoverOff = off;
        this.pauseSocket();
        return;
      }
      this.parser.resume();
      const r = this.parser.execute(buf, off);
      if (r < 0) {
        const e = this.parser.error!;
        this.keepAlive = false;
        ex.fail(new UpstreamError('protocol_error', 'malformed upstream response: ' + e.message));
        this.socket.destroy();
        return;
      }
      off = r;
      if (this.switching) {
        // The rest is the new protocol's: the tunnel's, whether it took the socket already or not.
        if (off < buf.length) {
          const rest = buf.subarray(off);
          if (this.taken) this.socket.unshift(rest);
          else this.afterSwitch = rest;
        }
        return;
      }
      if (this.completed) {
        // Anything after the response is garbage: the connection cannot be trusted.
        if (off < buf.length) this.keepAlive = false;
        this.finishExchange();
        return;
      }
      if (this.ex !== ex || ex.done) return;
    }
  }

  private onEnd(): void {
    this.keepAlive = false;
    if (this.ex !== null && !this.ex.done && this.parser.finish() === 1 && this.completed) this.finishExchange();
  }

  private onClose(): void {
    this.closed = true;
    this.keepAlive = false;
    if (this.connectTimer !== null) {
      this.connectTimer.cancel();
      this.connectTimer = null;
    }
    if (this.idleTimer !== null) {
      this.idleTimer.cancel();
      this.idleTimer = null;
    }
    if (!this.connected) {
      const msg = this.lastError !== null ? this.lastError.message : 'connection closed';
      const err = this.timedOut
        ? new UpstreamError('connect_timeout', 'upstream connect timeout', true)
        : new UpstreamError('connect_failure', 'upstream connect failed: ' + msg, true);
      this.pool.onConnectFailed(this, err);
      return;
    }
    const ex = this.ex;
    this.ex = null;
    if (ex !== null) this.pool.exchangeEnded();
    this.pool.onConnClosed(this);
    if (ex === null || ex.done) return;
    // Stale keep-alive race: an idle connection the server closed just as we reused it. A request
    // without a body that saw no response byte is retried once, transparently, on a fresh connection.
    if (this.startedReused && !ex.gotResponseBytes && ex.noBodyAtStart && !ex.retried) {
      ex.retried = true;
      ex.conn = null;
      this.pool.retryFresh(ex);
      return;
    }
    const why = this.lastError !== null ? this.lastError.message : 'connection closed';
    ex.fail(new UpstreamError('reset', 'upstream reset before the response completed: ' + why, false));
  }

  // ---- parser events ----

  onHead(head: H1Head): void {
    const ex = this.ex!;
    if (!head.keepAlive) this.keepAlive = false;
    if (ex.done) {
      this.parser.pause();
      return;
    }
    if (head.status === 101) {
      this.switching = true;
      this.keepAlive = false;
      this.pauseSocket();
      ex.handler.onHeaders(responseHeaderMap(head), false);
      return;
    }
    ex.handler.onHeaders(responseHeaderMap(head), head.noBody);
  }

  onBody(chunk: Buffer): void {
    const ex = this.ex!;
    if (ex.done) {
      this.parser.pause();
      return;
    }
    ex.handler.onData(chunk);
    if (ex.paused) this.parser.pause();
  }

  onMessageComplete(trailers: string[] | null): void {
    const ex = this.ex!;
    this.completed = true;
    this.parser.pause();
    if (ex.done) return;
    ex.done = true;
    ex.handler.onEnd(trailerMap(trailers));
  }

  /** Takes the switched connection out of the pool and gives its socket away, paused. */
  handOver(): net.Socket {
    const s = this.socket;
    this.taken = true;
    this.ex = null;
    s.off('data', this.onDataFn);
    s.off('end', this.onEndFn);
    s.off('close', this.onCloseFn);
    s.off('error', this.onErrorFn);
    s.off('drain', this.onDrainFn);
    this.socketPaused = true;
    s.pause();
    const rest = this.afterSwitch;
    this.afterSwitch = null;
    if (rest !== null) s.unshift(rest);
    this.closed = true;
    this.pool.handedOver(this);
    return s;
  }

  private finishExchange(): void {
    const ex = this.ex!;
    this.ex = null;
    this.completed = false;
    const reusable = this.keepAlive && ex.requestComplete && !this.closed;
    // The engine may have paused the response just before it completed: a pooled connection
    // reads again (the next response, or the server's close while idle).
    if (reusable && this.socketPaused && this.leftover === null) {
      this.socketPaused = false;
      this.socket.resume();
    }
    this.pool.exchangeEnded();
    this.pool.release(this, reusable);
  }
}
