/**
 * HTTP/1.1 and h2c on one port: reads a connection's first bytes, compares them with the HTTP/2
 * connection preface, puts them back (socket.unshift) and hands the socket to the HTTP/2 or the
 * HTTP/1.1 listener protocol. Also the preface matcher for `protocol: auto`.
 * Must never: consume bytes it does not give back, or hold a connection that sends nothing
 * beyond the header timeout.
 */
import type { Duplex } from 'node:stream';
import type { ListenerProtocol, MatchResult, ServeContext, ServerConnection } from '../../api/codec';
import type { TimerHandle } from '../../api/clock';

/** "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Sniffs the HTTP/2 client connection preface. */
export function matchHttp2Preface(head: Buffer): MatchResult {
  const n = head.length < H2_PREFACE.length ? head.length : H2_PREFACE.length;
  for (let i = 0; i < n; i++) if (head[i] !== H2_PREFACE[i]) return 'no';
  return n === H2_PREFACE.length ? 'yes' : 'need-more';
}

/** A connection whose protocol is not known yet; becomes a thin forwarder once it is. */
class SniffingConnection implements ServerConnection {
  private inner: ServerConnection | null = null;
  private buf: Buffer | null = null;
  private draining = false;
  private done = false;
  private closeCbs: Array<() => void> = [];
  private timer: TimerHandle | null = null;
  private readonly onDataFn = (c: Buffer): void => this.onData(c);
  private readonly onEndFn = (): void => this.giveUp();
  private readonly onCloseFn = (): void => this.onSocketClose();

  constructor(
    private readonly socket: Duplex,
    private readonly ctx: ServeContext,
    private readonly h1: ListenerProtocol,
    private readonly h2: ListenerProtocol,
  ) {
    socket.on('data', this.onDataFn);
    socket.on('end', this.onEndFn);
    socket.on('close', this.onCloseFn);
    socket.on('error', () => {});
    // A socket handed over by another sniffer may be paused with its bytes unshifted.
    socket.resume();
    const t = ctx.limits.headerTimeoutMs > 0 ? ctx.limits.headerTimeoutMs : ctx.limits.idleTimeoutMs;
    if (t > 0) this.timer = ctx.clock.setTimer(() => this.giveUp(), t);
  }

  get activeStreams(): number {
    return this.inner === null ? 0 : this.inner.activeStreams;
  }

  drain(): void {
    this.draining = true;
    if (this.inner !== null) this.inner.drain();
    else this.giveUp();
  }

  destroy(): void {
    if (this.inner !== null) this.inner.destroy();
    else this.socket.destroy();
  }

  onClose(cb: () => void): void {
    if (this.inner !== null) this.inner.onClose(cb);
    else if (this.done) cb();
    else this.closeCbs.push(cb);
  }

  private onData(chunk: Buffer): void {
    const b = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    const m = matchHttp2Preface(b);
    if (m === 'need-more') {
      this.buf = b;
      return;
    }
    this.buf = null;
    this.handOff(m === 'yes' ? this.h2 : this.h1, b);
  }

  private handOff(proto: ListenerProtocol, head: Buffer): void {
    const socket = this.socket;
    this.cancelTimer();
    socket.pause();
    socket.removeListener('data', this.onDataFn);
    socket.removeListener('end', this.onEndFn);
    socket.removeListener('close', this.onCloseFn);
    socket.unshift(head);
    let inner: ServerConnection;
    try {
      inner = proto.serve(socket, this.ctx);
    } catch (err) {
      this.ctx.log.error('listener protocol failed to serve a connection', { protocol: proto.name, error: String(err) });
      socket.destroy();
      this.finish();
      return;
    }
    this.inner = inner;
    const cbs = this.closeCbs;
    this.closeCbs = [];
    for (const cb of cbs) inner.onClose(cb);
    if (this.draining) inner.drain();
    // HTTP/2 reads the socket natively; the HTTP/1.1 codec listens for 'data' and needs flowing mode.
    if (proto === this.h1) socket.resume();
  }

  /** Nothing recognisable arrived in time, or the peer ended / the proxy drains before deciding. */
  private giveUp(): void {
    if (this.inner !== null || this.done) return;
    if (this.buf !== null && this.buf.length > 0) this.ctx.onProtocolError('incomplete_preface');
    this.buf = null;
    this.cancelTimer();
    this.socket.destroy();
  }

  private onSocketClose(): void {
    this.cancelTimer();
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    const cbs = this.closeCbs;
    this.closeCbs = [];
    for (const cb of cbs) cb();
  }

  private cancelTimer(): void {
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
  }
}

/**
 * A listener protocol serving HTTP/1.1 and h2c (prior knowledge) on one port, chosen by the
 * connection preface. Named "http".
 */
export function httpAutoListenerProtocol(h1: ListenerProtocol, h2: ListenerProtocol): ListenerProtocol {
  return {
    name: 'http',
    match(head: Buffer): MatchResult {
      const a = matchHttp2Preface(head);
      if (a !== 'no') return a;
      return h1.match === undefined ? 'yes' : h1.match(head);
    },
    serve(socket: Duplex, ctx: ServeContext): ServerConnection {
      return new SniffingConnection(socket, ctx, h1, h2);
    },
  };
}
