/**
 * The upstream side of every RpcCodec: `rpcUpstreamProtocol(codec)` builds an RpcPool per
 * endpoint. multiplex: up to `options.connections` (default 1) connections each carrying many
 * requests under ids the pool assigns; ping-pong: one request per connection at a time, up to
 * maxConnections, then a FIFO of at most maxPending. Owns: encoding a request (the original
 * frame when nothing changed, else codec.encodeRequest), choosing a connection, the pending queue
 * and overflow, one-way completion, close/destroy, live stats (with a count of responses whose
 * id matched nothing). Must never: let a request wait beyond maxPending, or give one request
 * two outcomes.
 */
import { FrameHeaderMap, UpstreamError } from '../api';
import type {
  Clock,
  HeaderMap,
  PoolOptions,
  RpcCodec,
  UpstreamPool,
  UpstreamProtocol,
  UpstreamRequest,
  UpstreamResponseHandler,
} from '../api';
import { DEFAULT_MAX_FRAME_BYTES } from './frame-reader';
import { RpcClientConnection, type ConnOwner } from './client-connection';
import { RpcExchange, type ExchangeOwner } from './exchange';
import { frameOwners, isOwnPayload } from './frames';
import { poolTls } from '../upstream/connect';

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;

export interface RpcPoolStats {
  readonly connections: number;
  readonly active: number;
  readonly pending: number;
  /** Response frames whose id matched no request in flight (dropped; the connection is kept). */
  readonly unknownResponses: number;
}

export function rpcUpstreamProtocol(codec: RpcCodec): UpstreamProtocol {
  return {
    name: codec.name,
    createPool(endpoint: { host: string; port: number }, options: PoolOptions, clock: Clock): RpcPool {
      return new RpcPool(codec, endpoint, options, clock);
    },
  };
}

function numberOption(options: PoolOptions, key: string, dflt: number, min: number): number {
  const v = options.options?.[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? Math.floor(v) : dflt;
}

/** Was `h` decoded by `codec` (so its frame may be passed back to that codec)? */
function ownedBy(h: FrameHeaderMap, codec: RpcCodec): boolean {
  const owner = frameOwners.get(h);
  if (owner !== undefined) return owner === codec;
  try {
    const r = codec.peek(h.frame);
    return typeof r === 'object' && r !== null && !('code' in r) && r.length === h.frame.length && r.kind === 'request';
  } catch {
    return false;
  }
}

export class RpcPool implements UpstreamPool, ConnOwner, ExchangeOwner {
  readonly stats: RpcPoolStats;
  readonly multiplex: boolean;
  readonly heartbeatIntervalMs: number;
  readonly idleTimeoutMs: number;
  private readonly maxConns: number;
  private readonly maxFrameBytes: number;
  private readonly conns = new Set<RpcClientConnection>();
  /** Ping-pong: connections with no exchange. */
  private readonly idleConns: RpcClientConnection[] = [];
  private readonly queue: RpcExchange[] = [];
  private drainCbs: Array<() => void> | null = null;
  private connecting = 0;
  private active = 0;
  private unknown = 0;
  private closing = false;
  private destroyed = false;
  private closeWaiters: Array<() => void> = [];

  constructor(
    readonly codec: RpcCodec,
    private readonly endpoint: { host: string; port: number },
    private readonly options: PoolOptions,
    private readonly clock: Clock,
  ) {
    this.multiplex = codec.poolMode === 'multiplex';
    this.maxConns = this.multiplex ? numberOption(options, 'connections', 1, 1) : Math.max(1, options.maxConnections);
    this.heartbeatIntervalMs = numberOption(options, 'heartbeat_interval_ms', DEFAULT_HEARTBEAT_INTERVAL_MS, 0);
    this.maxFrameBytes = numberOption(options, 'max_frame_bytes', DEFAULT_MAX_FRAME_BYTES, 1);
    this.idleTimeoutMs = options.idleTimeoutMs;
    const self = this;
    this.stats = {
      get connections() {
        return self.conns.size;
      },
      get active() {
        return self.active;
      },
      get pending() {
        return self.queue.length;
      },
      get unknownResponses() {
        return self.unknown;
      },
    };
  }

  request(headers: HeaderMap, endStream: boolean, handler: UpstreamResponseHandler): UpstreamRequest {
    const ex = new RpcExchange(this, headers, handler);
    this.active++;
    ex.counted = true;
    ex.begin(endStream);
    return ex;
  }

  close(): Promise<void> {
    this.closing = true;
    for (const c of [...this.conns]) if (c.connected && !c.busy) c.destroy(null);
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      this.checkClosed();
    });
  }

  destroy(): void {
    this.destroyed = true;
    this.closing = true;
    for (const ex of this.queue.splice(0)) ex.fail(new UpstreamError('reset', 'connection pool destroyed', true));
    for (const c of [...this.conns]) c.destroy(new UpstreamError('reset', 'connection pool destroyed'));
    this.idleConns.length = 0;
  }

  // ---- ExchangeOwner ----

  /** The exchange's request is complete: encode it and send it, or queue it for a connection. */
  submit(ex: RpcExchange): void {
    const h = ex.headers;
    const codec = this.codec;
    if (!(h instanceof FrameHeaderMap) || h.info.kind !== 'request' || !ownedBy(h, codec)) {
      ex.fail(new UpstreamError('protocol_error', `request cannot be encoded as ${codec.name}: it did not arrive as ${codec.name}`, true));
      return;
    }
    const payload = ex.payload();
    try {
      if (!h.dirty && isOwnPayload(payload, h.frame, h.info)) {
        ex.frame = h.frame;
        ex.shared = true;
      } else {
        ex.frame = codec.encodeRequest(h.frame, h.info, h, payload);
      }
      // Deadline propagation: a frame that carries a timeout gets what is left of the deadline.
      if (codec.setTimeoutMs !== undefined && h.deadlineMs > 0 && h.info.timeoutMs > h.deadlineMs) {
        if (ex.shared) {
          ex.frame = Buffer.from(ex.frame);
          ex.shared = false;
        }
        codec.setTimeoutMs(ex.frame, h.deadlineMs);
      }
    } catch (e) {
      ex.fail(new UpstreamError('protocol_error', `request cannot be encoded: ${String(e)}`, true));
      return;
    }
    ex.oneWay = h.info.oneWay;
    if (this.destroyed || this.closing) {
      ex.fail(new UpstreamError('connect_failure', 'connection pool is closed', true));
      return;
    }
    if (this.multiplex) this.dispatchMultiplex(ex);
    else this.dispatchPingPong(ex);
  }

  abandon(ex: RpcExchange): void {
    const c = ex.conn as RpcClientConnection | null;
    if (c !== null) c.forget(ex);
    else {
      const i = this.queue.indexOf(ex);
      if (i >= 0) this.queue.splice(i, 1);
      ex.frame = null;
      this.checkClosed();
    }
  }

  congested(): boolean {
    if (!this.multiplex) return false;
    let any = false;
    for (const c of this.conns) {
      if (!c.connected || c.closed) continue;
      if (!c.congested) return false;
      any = true;
    }
    return any;
  }

  onDrain(cb: () => void): void {
    if (!this.congested()) {
      cb();
      return;
    }
    if (this.drainCbs === null) this.drainCbs = [cb];
    else this.drainCbs.push(cb);
  }

  exchangeFinished(ex: RpcExchange): void {
    if (ex.counted) {
      ex.counted = false;
      this.active--;
    }
  }

  // ---- ConnOwner ----

  onConnected(c: RpcClientConnection): void {
    this.connecting--;
    if (this.closing && this.queue.length === 0) {
      c.destroy(null);
      return;
    }
    if (this.multiplex) {
      for (const ex of this.queue.splice(0)) c.send(ex);
      if (!c.busy) this.idle(c);
    } else this.release(c);
  }

  onConnectFailed(c: RpcClientConnection, err: UpstreamError): void {
    this.conns.delete(c);
    this.connecting--;
    let live = false;
    for (const o of this.conns) if (!o.closed) live = true;
    if (!live) for (const ex of this.queue.splice(0)) ex.fail(err);
    else if (!this.multiplex) {
      const victim = this.queue.shift();
      if (victim !== undefined) victim.fail(err);
    }
    this.checkClosed();
  }

  onConnClosed(c: RpcClientConnection): void {
    this.conns.delete(c);
    const i = this.idleConns.indexOf(c);
    if (i >= 0) this.idleConns.splice(i, 1);
    if (this.queue.length > this.connecting && !this.destroyed) this.connect();
    this.checkClosed();
  }

  release(c: RpcClientConnection): void {
    if (c.closed) return;
    if (this.destroyed) {
      c.destroy(null);
      return;
    }
    const next = this.queue.shift();
    if (next !== undefined) {
      c.send(next);
      return;
    }
    if (this.closing) {
      c.destroy(null);
      return;
    }
    this.idleConns.push(c);
  }

  idle(c: RpcClientConnection): void {
    if (this.closing && this.queue.length === 0) c.destroy(null);
  }

  unknownResponse(): void {
    this.unknown++;
  }

  onSocketDrain(): void {
    const cbs = this.drainCbs;
    if (cbs === null || this.congested()) return;
    this.drainCbs = null;
    for (const cb of cbs) cb();
  }

  debug(msg: string, extra?: object): void {
    void msg;
    void extra;
  }

  // ---- internals ----

  private dispatchMultiplex(ex: RpcExchange): void {
    let best: RpcClientConnection | null = null;
    for (const c of this.conns) {
      if (!c.connected || c.closed) continue;
      if (best === null || c.inflight.size < best.inflight.size) best = c;
    }
    // Up to `connections` per endpoint: another one is opened while every open one is in use (a
    // burst before the first connects opens them all at once).
    if (this.conns.size < this.maxConns && (best === null || best.inflight.size > 0)) this.connect();
    if (best !== null) {
      best.send(ex);
      return;
    }
    if (this.queue.length >= this.options.maxPending) {
      ex.fail(new UpstreamError('overflow', 'too many requests pending for an upstream connection', true));
      return;
    }
    this.queue.push(ex);
  }

  private dispatchPingPong(ex: RpcExchange): void {
    while (this.idleConns.length > 0) {
      const c = this.idleConns.pop()!;
      if (c.closed) continue;
      c.send(ex);
      return;
    }
    if (this.conns.size < this.maxConns) {
      this.queue.push(ex);
      this.connect();
      return;
    }
    if (this.queue.length < this.options.maxPending) {
      this.queue.push(ex);
      return;
    }
    ex.fail(new UpstreamError('overflow', 'too many requests pending for an upstream connection', true));
  }

  private connect(): void {
    const c = new RpcClientConnection(
      this,
      this.endpoint.host,
      this.endpoint.port,
      this.options.connectTimeoutMs,
      this.clock,
      this.maxFrameBytes,
      poolTls(this.options),
    );
    this.conns.add(c);
    this.connecting++;
  }

  private checkClosed(): void {
    if (!this.closing || this.conns.size > 0 || this.queue.length > 0) return;
    const w = this.closeWaiters;
    this.closeWaiters = [];
    for (const f of w) f();
  }
}
