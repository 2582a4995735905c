/**
 * One upstream RPC connection of an RpcPool. Owns: connecting (with the connect timeout),
 * writing request frames with the ids the pool assigns (multiplex) or as they are (ping-pong),
 * matching response frames to exchanges, answering the upstream's heartbeats, sending its own on
 * an idle connection and closing it when 3 go unanswered, and idle expiry.
 * Must never: deliver a response to the wrong exchange, leave an in-flight exchange without an
 * outcome when the connection dies, or write an id into a buffer the downstream side still owns.
 */
import type net from 'node:net';
import { UpstreamError } from '../api';
import type { Clock, FrameError, FrameInfo, RpcCodec, TimerHandle } from '../api';
import { FrameReader, type FrameFailure, type FrameSink } from './frame-reader';
import type { RpcExchange } from './exchange';
import { idKey } from './frames';
import { InflightTable } from './inflight';
import { WriteBatcher } from './write-batcher';
import { connectEndpoint, type UpstreamTls } from '../upstream/connect';

/** What a connection needs from its pool. */
export interface ConnOwner {
  readonly codec: RpcCodec;
  readonly multiplex: boolean;
  readonly heartbeatIntervalMs: number;
  readonly idleTimeoutMs: number;
  onConnected(c: RpcClientConnection): void;
  onConnectFailed(c: RpcClientConnection, err: UpstreamError): void;
  onConnClosed(c: RpcClientConnection): void;
  /** A ping-pong connection finished its exchange. */
  release(c: RpcClientConnection): void;
  /** A multiplexed connection's in-flight count dropped to zero. */
  idle(c: RpcClientConnection): void;
  unknownResponse(): void;
  onSocketDrain(): void;
  debug(msg: string, extra?: object): void;
}

const MISSED_HEARTBEATS_LIMIT = 3;

export class RpcClientConnection implements FrameSink {
  readonly socket: net.Socket;
  connected = false;
  closed = false;
  /** Multiplex: exchanges waiting for their response, by id. */
  readonly inflight = new InflightTable<RpcExchange>();
  /** Ping-pong: the one exchange on this connection. */
  current: RpcExchange | null = null;
  private readonly reader: FrameReader;
  /** Frames written in one turn of the event loop go out in one socket write. */
  private readonly out: WriteBatcher;
  private connectTimer: TimerHandle | null;
  private tickTimer: TimerHandle | null = null;
  private timedOut = false;
  private failure: UpstreamError | null = null;
  private lastRead = 0;
  private lastUse = 0;
  private missedHeartbeats = 0;
  private lastHeartbeat = 0;

  constructor(
    private readonly owner: ConnOwner,
    host: string,
    port: number,
    connectTimeoutMs: number,
    private readonly clock: Clock,
    maxFrameBytes: number,
    tls: UpstreamTls | null = null,
  ) {
    this.reader = new FrameReader(owner.codec, this, maxFrameBytes);
    const ep = connectEndpoint(host, port, tls);
    const s = (this.socket = ep.socket);
    this.out = new WriteBatcher(s, () => {});
    s.setNoDelay(true);
    s.on(ep.readyEvent, () => this.onConnect());
    s.on('data', (c: Buffer) => this.onData(c));
    s.on('end', () => {
      this.out.flush();
      s.end();
    });
    s.on('close', () => this.onClose());
    s.on('error', (e: Error) => {
      if (this.failure === null) this.failure = new UpstreamError(this.connected ? 'reset' : 'connect_failure', e.message, !this.connected);
    });
    s.on('drain', () => owner.onSocketDrain());
    this.connectTimer =
      connectTimeoutMs > 0
        ? clock.setTimer(() => {
            this.connectTimer = null;
            if (this.connected) return;
            this.timedOut = true;
            s.destroy();
          }, connectTimeoutMs)
        : null;
  }

  get busy(): boolean {
    return this.current !== null || this.inflight.size > 0;
  }

  get congested(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Writes an exchange's frame; multiplexed frames get a fresh id of this connection. */
  send(ex: RpcExchange): void {
    let frame = ex.frame!;
    ex.conn = this;
    if (this.owner.multiplex) {
      // The exchange holds its id in the table from here on.
      const id = ex.oneWay ? this.inflight.add(null) : this.inflight.add(ex);
      if (id < 0) {
        ex.conn = null;
        ex.fail(new UpstreamError('overflow', 'too many requests in flight on one upstream connection', true));
        return;
      }
      ex.id = id;
      if (ex.shared) {
        // The downstream's buffer may still be read or sent elsewhere (retry, mirror, local reply)
        // and the write happens later in this turn: never write our id into it.
        frame = this.ownCopy(frame, id);
      } else this.owner.codec.setRequestId(frame, id);
    } else if (!ex.oneWay) this.current = ex;
    ex.frame = null;
    this.lastUse = this.clock.now();
    this.out.write(frame);
    if (ex.oneWay) {
      ex.completeOneWay();
      if (!this.owner.multiplex) this.owner.release(this);
    }
  }

  /**
   * A copy of `frame` (shared) with id `id`. Only the header would need copying, but a codec may
   * cover the id with a checksum elsewhere in the frame (Bolt v2's CRC trailer), so the whole
   * frame is copied.
   */
  private ownCopy(frame: Buffer, id: number): Buffer {
    const copy = Buffer.allocUnsafe(frame.length);
    frame.copy(copy);
    this.owner.codec.setRequestId(copy, id);
    return copy;
  }

  /** The exchange was aborted: forget it (its late response is dropped). */
  forget(ex: RpcExchange): void {
    if (this.owner.multiplex) {
      if (!this.inflight.abandon(ex)) return;
      if (this.inflight.size === 0) this.owner.idle(this);
    } else if (this.current === ex) {
      // One exchange per connection: its late response would be taken for the next one's.
      this.current = null;
      this.destroy(null);
    }
  }

  destroy(err: UpstreamError | null): void {
    if (err !== null && this.failure === null) this.failure = err;
    this.closed = true;
    this.out.discard();
    this.socket.destroy();
  }


  // ---- socket events ----

  private onConnect(): void {
    this.connected = true;
    if (this.connectTimer !== null) {
      this.connectTimer.cancel();
      this.connectTimer = null;
    }
    this.lastRead = this.lastUse = this.clock.now();
    this.arm();
    this.owner.onConnected(this);
  }

  private onData(chunk: Buffer): void {
    this.lastRead = this.clock.now();
    this.missedHeartbeats = 0;
    try {
      this.reader.push(chunk);
    } catch (e) {
      this.owner.debug('rpc response handler threw', { error: String(e) });
      this.destroy(new UpstreamError('reset', 'response handler failed'));
    }
  }

  private onClose(): void {
    this.closed = true;
    this.out.discard();
    this.reader.clear();
    if (this.connectTimer !== null) {
      this.connectTimer.cancel();
      this.connectTimer = null;
    }
    if (this.tickTimer !== null) {
      this.tickTimer.cancel();
      this.tickTimer = null;
    }
    if (!this.connected) {
      const err = this.timedOut
        ? new UpstreamError('connect_timeout', 'upstream connect timeout', true)
        : this.failure ?? new UpstreamError('connect_failure', 'upstream connect failed', true);
      this.owner.onConnectFailed(this, err.beforeRequestSent ? err : new UpstreamError(err.kind, err.message, true));
      return;
    }
    const err =
      this.failure !== null && this.failure.kind === 'protocol_error'
        ? this.failure
        : new UpstreamError('reset', this.failure?.message ?? 'upstream connection closed');
    const victims: RpcExchange[] = [];
    if (this.current !== null) victims.push(this.current);
    for (const ex of this.inflight.drain()) victims.push(ex);
    this.current = null;
    this.owner.onConnClosed(this);
    for (const ex of victims) ex.fail(err);
  }

  // ---- frames (FrameSink) ----

  onFrame(frame: Buffer, info: FrameInfo): void {
    const codec = this.owner.codec;
    switch (info.kind) {
      case 'response':
        break;
      case 'heartbeat-request': {
        try {
          this.out.write(codec.heartbeatResponse(frame, info));
        } catch (e) {
          this.owner.debug('heartbeat response failed', { error: String(e) });
        }
        return;
      }
      case 'heartbeat-response':
        return;
      default:
        this.owner.debug('request frame from an upstream dropped');
        return;
    }
    this.lastUse = this.lastRead;
    if (!this.owner.multiplex) {
      const ex = this.current;
      if (ex === null) {
        this.owner.unknownResponse();
        return;
      }
      this.current = null;
      ex.deliver(frame, info);
      if (!this.closed) this.owner.release(this);
      return;
    }
    let key: number;
    try {
      key = idKey(codec.getRequestId(frame));
    } catch {
      this.owner.unknownResponse();
      return;
    }
    const ex = this.inflight.get(key);
    if (ex === undefined) {
      if (!this.inflight.takeAbandoned(key)) this.owner.unknownResponse();
      return;
    }
    this.inflight.delete(ex);
    ex.deliver(frame, info);
    if (this.inflight.size === 0 && !this.closed) this.owner.idle(this);
  }

  onFrameError(_kind: FrameFailure, err: FrameError, _head: Buffer, _info: FrameInfo | null): void {
    this.owner.debug('malformed frame from upstream; closing the connection', { code: err.code, error: err.message });
    this.destroy(new UpstreamError('protocol_error', `malformed frame from upstream: ${err.message}`));
  }

  // ---- heartbeats and idle expiry ----

  private arm(): void {
    if (this.closed) return;
    const hb = this.owner.heartbeatIntervalMs;
    const idle = this.owner.idleTimeoutMs;
    if (hb <= 0 && idle <= 0) return;
    const now = this.clock.now();
    let due = Infinity;
    if (hb > 0) due = !this.owner.multiplex && this.current !== null ? now + hb : Math.max(this.lastRead, this.lastHeartbeat) + hb;
    if (idle > 0) {
      const i = this.busy ? now + idle : this.lastUse + idle;
      if (i < due) due = i;
    }
    this.tickTimer = this.clock.setTimer(this.onTick, Math.max(1, due - now));
  }

  private readonly onTick = (): void => {
    this.tickTimer = null;
    if (this.closed) return;
    const now = this.clock.now();
    const idle = this.owner.idleTimeoutMs;
    if (idle > 0 && !this.busy && now - this.lastUse >= idle) {
      this.owner.debug('idle upstream connection closed');
      this.destroy(null);
      return;
    }
    const hb = this.owner.heartbeatIntervalMs;
    if (hb > 0 && now >= Math.max(this.lastRead, this.lastHeartbeat) + hb && (this.owner.multiplex || this.current === null)) {
      if (this.missedHeartbeats >= MISSED_HEARTBEATS_LIMIT) {
        this.owner.debug('upstream missed heartbeats; closing the connection');
        this.destroy(new UpstreamError('reset', 'upstream did not answer heartbeats'));
        return;
      }
      this.missedHeartbeats++;
      this.lastHeartbeat = now;
      try {
        this.out.write(this.owner.codec.heartbeatRequest(Math.max(1, this.inflight.add(null))));
      } catch (e) {
        this.owner.debug('heartbeat request failed', { error: String(e) });
      }
    }
    this.arm();
  };
}
