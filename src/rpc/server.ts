/**
 * The listener side of every RpcCodec: `rpcListenerProtocol(codec)` serves downstream connections
 * whose frames become RpcServerStreams, many in flight per connection and answered in any order.
 * Owns: frame reassembly (FrameReader), heartbeats answered here (never reaching the engine),
 * protocol-error replies then close, flow control (stream pause, socket write backpressure),
 * idle and partial-frame timeouts, drain, and aborting in-flight streams when the peer goes.
 * Must never: route, touch another connection, throw from a socket event, or write after close.
 */
import type { Duplex } from 'node:stream';
import { FrameError } from '../api';
import type {
  ConnectionInfo,
  FrameInfo,
  ListenerProtocol,
  RpcCodec,
  ServeContext,
  ServerConnection,
  TimerHandle,
} from '../api';
import { DEFAULT_MAX_FRAME_BYTES, FrameReader, type FrameFailure, type FrameSink } from './frame-reader';
import { RpcServerStream, type RpcStreamOwner } from './server-stream';
import { frameOwners } from './frames';
import { WriteBatcher } from './write-batcher';

/** How long a closing connection lingers (reading and discarding) before it is destroyed. */
const LINGER_MS = 2000;

export interface RpcListenerOptions {
  /** Largest frame accepted from a client (default 16 MiB); a listener's `limits.maxFrameBytes` wins. */
  maxFrameBytes?: number;
}

export function rpcListenerProtocol(codec: RpcCodec, opts: RpcListenerOptions = {}): ListenerProtocol {
  const maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  return {
    name: codec.name,
    match: (head: Buffer) => codec.match(head),
    serve(socket: Duplex, ctx: ServeContext): ServerConnection {
      const lim = ctx.limits.maxFrameBytes;
      return new RpcServerConnection(codec, socket, ctx, lim !== undefined && lim > 0 ? lim : maxFrameBytes);
    },
  };
}

export class RpcServerConnection implements ServerConnection, FrameSink, RpcStreamOwner {
  readonly info: ConnectionInfo;
  private readonly reader: FrameReader;
  private readonly out: WriteBatcher;
  /**
   * Streams in flight, each knowing its index (swap-remove). Not a Set: a Set with constant
   * add/delete churn rehashes into new tables that V8 chains together, and a promoted obsolete
   * table keeps every later stream alive through young-generation GCs (see inflight.ts).
   */
  private readonly active: RpcServerStream[] = [];
  private closeCbs: Array<() => void> | null = [];
  private drainCbs: Array<() => void> | null = null;
  private pausedStreams = 0;
  private needDrain = false;
  private socketPaused = false;
  private draining = false;
  private peerEnded = false;
  /** No more frames are read (closing, or a protocol error). */
  private closing = false;
  private closed = false;
  private timer: TimerHandle | null = null;
  private lastActivity: number;
  private partialSince = -1;
  private lingering = false;
  private readonly onTimerFn = (): void => this.onTimer();

  constructor(
    readonly codec: RpcCodec,
    private readonly socket: Duplex,
    private readonly ctx: ServeContext,
    maxFrameBytes: number,
  ) {
    this.info = ctx.connection;
    this.reader = new FrameReader(codec, this, maxFrameBytes);
    this.out = new WriteBatcher(socket, () => this.onWriteFull());
    const s = socket as Duplex & { setNoDelay?: (v: boolean) => void };
    if (typeof s.setNoDelay === 'function') s.setNoDelay(true);
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('end', () => this.onEnd());
    socket.on('close', () => this.onSocketClose());
    socket.on('error', (e: Error) => ctx.log.debug('rpc downstream socket error', { protocol: codec.name, error: e.message }));
    socket.on('drain', () => this.onSocketDrain());
    this.lastActivity = ctx.clock.now();
    this.schedule();
  }

  get activeStreams(): number {
    return this.active.length;
  }

  onClose(cb: () => void): void {
    if (this.closeCbs === null) cb();
    else this.closeCbs.push(cb);
  }

  drain(): void {
    this.draining = true;
    if (this.active.length === 0) this.closeGracefully();
  }

  destroy(): void {
    this.closing = true;
    this.reader.clear();
    this.socket.destroy();
  }

  debug(msg: string, extra?: object): void {
    this.ctx.log.debug(msg, { protocol: this.codec.name, connection: this.info.id, ...extra });
  }

  // ---- socket events ----

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.lastActivity = this.ctx.clock.now();
    try {
      this.reader.push(chunk);
    } catch (e) {
      this.ctx.log.error('rpc stream handler threw', { protocol: this.codec.name, error: String(e) });
      this.destroy();
      return;
    }
    if (this.closing) return;
    if (this.reader.bufferedBytes > 0) {
      if (this.partialSince < 0) this.partialSince = this.lastActivity;
    } else this.partialSince = -1;
    this.schedule();
  }

  /**
   * The client sent FIN. RPC clients do not half-close to wait for answers: a FIN means the
   * client is gone, so in-flight streams are aborted (freeing their upstream requests) at once.
   */
  private onEnd(): void {
    this.peerEnded = true;
    if (this.active.length === 0) this.closeGracefully();
    else this.destroy();
  }

  private onSocketClose(): void {
    this.closed = true;
    this.out.discard();
    this.closing = true;
    this.reader.clear();
    this.cancelTimer();
    if (this.active.length > 0) {
      const list = this.active.splice(0);
      for (const s of list) {
        s.slot = -1;
        s.abort('downstream connection closed');
      }
    }
    this.drainCbs = null;
    const cbs = this.closeCbs;
    this.closeCbs = null;
    if (cbs !== null) for (const cb of cbs) cb();
  }

  private onSocketDrain(): void {
    this.needDrain = false;
    this.updateFlow();
    const cbs = this.drainCbs;
    if (cbs === null) return;
    this.drainCbs = null;
    for (const cb of cbs) cb();
  }

  // ---- frames (FrameSink) ----

  onFrame(frame: Buffer, info: FrameInfo): void {
    switch (info.kind) {
      case 'request':
        this.onRequest(frame, info);
        return;
      case 'heartbeat-request': {
        let reply: Buffer;
        try {
          reply = this.codec.heartbeatResponse(frame, info);
        } catch (e) {
          this.debug('heartbeat response failed', { error: String(e) });
          return;
        }
        this.writeFrame(reply);
        return;
      }
      case 'heartbeat-response':
        return;
      default:
        this.ctx.onProtocolError('unexpected_response');
        this.debug('response frame from a client dropped');
    }
  }

  onFrameError(kind: FrameFailure, err: FrameError, head: Buffer, info: FrameInfo | null): void {
    this.ctx.onProtocolError(kind === 'oversize' ? 'frame_too_large' : err.code);
    this.debug('malformed frame; closing the connection', { code: err.code, error: err.message });
    if (info !== null && info.kind === 'request' && !info.oneWay) {
      const oversize = kind === 'oversize';
      try {
        const reply = this.codec.localReply(head, info, {
          status: oversize ? 413 : 400,
          reason: oversize ? 'payload_too_large' : 'bad_request',
          details: err.message,
        });
        this.writeFrame(reply);
      } catch (e) {
        this.debug('protocol error reply failed', { error: String(e) });
      }
    }
    // In-flight exchanges may still finish; nothing more is read.
    this.draining = true;
    this.partialSince = -1;
    if (this.active.length === 0) this.closeGracefully();
  }

  private onRequest(frame: Buffer, info: FrameInfo): void {
    const codec = this.codec;
    let id: number | bigint;
    let headers;
    try {
      id = codec.getRequestId(frame);
      headers = codec.requestHeaders(frame, info);
    } catch (e) {
      this.onFrameError('frame_error', new FrameError('bad_request', String(e)), frame, info);
      return;
    }
    if (this.draining) {
      if (!info.oneWay) this.replyDirect(frame, info, 503, 'draining', 'connection is draining');
      return;
    }
    frameOwners.set(headers, codec);
    const s = new RpcServerStream(this, frame, info, headers, id, this.ctx.clock.now());
    s.slot = this.active.length;
    this.active.push(s);
    try {
      this.ctx.onStream(s);
    } catch (e) {
      this.ctx.log.error('rpc stream handler threw', { protocol: codec.name, error: String(e) });
      if (!s.done) s.sendLocalReply({ status: 500, reason: 'internal_error', details: 'stream handler failed' });
      return;
    }
    s.start();
  }

  private replyDirect(frame: Buffer, info: FrameInfo, status: number, reason: 'draining', details: string): void {
    try {
      this.writeFrame(this.codec.localReply(frame, info, { status, reason, details }));
    } catch (e) {
      this.debug('local reply failed', { error: String(e) });
    }
  }

  // ---- RpcStreamOwner ----

  /** Queues a frame; frames written in one turn of the event loop go out in one socket write. */
  writeFrame(frame: Buffer): boolean {
    if (this.closed) return true;
    return this.out.write(frame);
  }

  private onWriteFull(): void {
    if (this.needDrain || this.closed) return;
    // The client does not read its answers: stop reading its requests until it does.
    this.needDrain = true;
    this.updateFlow();
  }

  streamDone(s: RpcServerStream): void {
    const i = s.slot;
    const active = this.active;
    if (i < 0 || active[i] !== s) return;
    s.slot = -1;
    const last = active.pop()!;
    if (last !== s) {
      active[i] = last;
      last.slot = i;
    }
    if (active.length > 0) return;
    this.lastActivity = this.ctx.clock.now();
    if (this.draining || this.peerEnded) this.closeGracefully();
    else this.schedule();
  }

  pauseFor(_s: RpcServerStream): void {
    this.pausedStreams++;
    this.updateFlow();
  }

  resumeFor(_s: RpcServerStream): void {
    if (this.pausedStreams > 0) this.pausedStreams--;
    this.updateFlow();
  }

  onDrain(cb: () => void): void {
    if (!this.needDrain || this.closed) {
      cb();
      return;
    }
    if (this.drainCbs === null) this.drainCbs = [cb];
    else this.drainCbs.push(cb);
  }

  private updateFlow(): void {
    if (this.closed) return;
    const stop = this.pausedStreams > 0 || this.needDrain;
    if (stop && !this.socketPaused) {
      this.socketPaused = true;
      this.reader.pause();
      this.socket.pause();
    } else if (!stop && this.socketPaused) {
      this.socketPaused = false;
      this.socket.resume();
      this.reader.resume();
    }
  }

  // ---- closing and timers ----

  /** Stops reading, flushes what was written, half-closes; destroys after a short linger. */
  private closeGracefully(): void {
    if (this.closed || this.lingering) return;
    this.closing = true;
    this.lingering = true;
    this.reader.clear();
    this.cancelTimer();
    this.out.flush();
    this.socket.end();
    if (this.socketPaused) {
      this.socketPaused = false;
      this.socket.resume();
    }
    const idle = this.ctx.limits.idleTimeoutMs;
    this.timer = this.ctx.clock.setTimer(() => this.socket.destroy(), Math.min(LINGER_MS, idle > 0 ? idle : LINGER_MS));
  }

  private schedule(): void {
    if (this.timer !== null || this.closing) return;
    const d = this.nextDeadline();
    if (d !== Infinity) this.timer = this.ctx.clock.setTimer(this.onTimerFn, Math.max(1, d - this.ctx.clock.now()));
  }

  private nextDeadline(): number {
    const lim = this.ctx.limits;
    let d = Infinity;
    if (this.partialSince >= 0 && lim.headerTimeoutMs > 0) d = this.partialSince + lim.headerTimeoutMs;
    if (this.active.length === 0 && lim.idleTimeoutMs > 0) {
      const i = this.lastActivity + lim.idleTimeoutMs;
      if (i < d) d = i;
    }
    return d;
  }

  private onTimer(): void {
    this.timer = null;
    if (this.closing) return;
    const now = this.ctx.clock.now();
    const d = this.nextDeadline();
    if (d > now) {
      this.schedule();
      return;
    }
    const lim = this.ctx.limits;
    if (this.partialSince >= 0 && lim.headerTimeoutMs > 0 && now >= this.partialSince + lim.headerTimeoutMs) {
      this.ctx.onProtocolError('frame_timeout');
      this.debug('partial frame timed out; closing the connection');
      this.reader.clear();
      this.partialSince = -1;
      this.draining = true;
      if (this.active.length > 0) return;
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
