/**
 * RpcCodec: a framed request/response protocol (Dubbo, SOFARPC/Bolt, a user's own) described to
 * the shared RPC stream layer (src/rpc), which does everything else: reassembling frames from a
 * byte stream, multiplexing upstream connections with request-id rewriting, heartbeats, one-way
 * calls, timeouts, local replies. A codec only reads and writes single frames.
 * Must never: touch sockets, keep per-connection state, or throw out of peek() on any input.
 */
import { HeaderMap } from './headers';
import type { LocalReply } from './stream';
import type { MatchResult } from './codec';

export type FrameKind = 'request' | 'response' | 'heartbeat-request' | 'heartbeat-response';

/** The fixed header of one frame, as peek() reads it. */
export interface FrameInfo {
  readonly kind: FrameKind;
  /** A request that expects no response. */
  readonly oneWay: boolean;
  /** Bytes before the payload (the part a filter sees as the body). */
  readonly headerLength: number;
  /** Whole frame length in bytes. */
  readonly length: number;
  /** Timeout the frame itself carries (Bolt), in ms; 0 when none. */
  readonly timeoutMs: number;
  /** Protocol status of a response frame (Dubbo 20 = OK, Bolt 0 = SUCCESS); 0 for requests. */
  readonly status: number;
}

/** Why peek() refused the bytes: the connection that sent them is closed after a reply. */
export class FrameError {
  constructor(readonly code: string, readonly message: string) {}
}

/**
 * The header view of a frame: routing keys (`service`, `method`, `version`, `group`) and the
 * protocol's attachments / header map. Codecs may fill it lazily (see `load`). It remembers the
 * frame it came from, so an unchanged request or response is forwarded as the original bytes.
 */
export class FrameHeaderMap extends HeaderMap {
  /** True once anyone changed an entry: the frame must then be re-encoded. */
  dirty = false;
  /**
   * The request's remaining deadline in ms (0: none), set by the engine; not an entry of the map.
   * Pools of protocols with a timeout field write it into the frame they send.
   */
  deadlineMs = 0;
  private loader: ((into: FrameHeaderMap) => void) | null;

  /**
   * `eager`: flat name/value pairs known without decoding the body; `eagerNames`: the names that
   * may be looked up without running `loader` (all others trigger it once).
   */
  constructor(
    readonly frame: Buffer,
    readonly info: FrameInfo,
    eager: string[],
    private readonly eagerNames: ReadonlySet<string>,
    loader: ((into: FrameHeaderMap) => void) | null,
  ) {
    super(eager);
    this.loader = loader;
  }

  /** Appends without marking the map dirty: for codecs filling the view. */
  fill(name: string, value: string): void {
    this.kv.push(name, value);
  }

  private load(): void {
    const l = this.loader;
    if (l === null) return;
    this.loader = null;
    l(this);
  }

  override get(name: string): string | undefined {
    if (this.loader !== null && !this.eagerNames.has(name)) this.load();
    return super.get(name);
  }
  override getAll(name: string): string[] {
    if (this.loader !== null && !this.eagerNames.has(name)) this.load();
    return super.getAll(name);
  }
  override has(name: string): boolean {
    if (this.loader !== null && !this.eagerNames.has(name)) this.load();
    return super.has(name);
  }
  override get size(): number {
    this.load();
    return super.size;
  }
  override forEach(fn: (value: string, name: string) => void): void {
    this.load();
    super.forEach(fn);
  }
  override raw(): readonly string[] {
    this.load();
    return super.raw();
  }
  override clone(): HeaderMap {
    this.load();
    return super.clone();
  }
  override toObject(): Record<string, string | string[]> {
    this.load();
    return super.toObject();
  }
  override add(name: string, value: string): void {
    this.load();
    this.dirty = true;
    super.add(name, value);
  }
  override set(name: string, value: string): void {
    this.load();
    this.dirty = true;
    super.set(name, value);
  }
  override remove(name: string): boolean {
    this.load();
    const removed = super.remove(name);
    if (removed) this.dirty = true;
    return removed;
  }
}

export interface RpcCodec {
  readonly name: string;
  /** multiplex: many requests in flight per connection, matched by id; ping-pong: one at a time. */
  readonly poolMode: 'multiplex' | 'ping-pong';
  /** Sniffs the first bytes of a connection (for `protocol: auto`). */
  match(head: Buffer): MatchResult;
  /**
   * Reads the frame header at the start of `buf` (which may hold less than a frame, or several).
   * Never reads past `buf`, never throws. The rpc layer enforces the max frame size on `length`
   * before buffering the rest.
   */
  peek(buf: Buffer): FrameInfo | 'need-more' | FrameError;
  /** The request id of a whole frame. 64-bit ids are returned as bigint. */
  getRequestId(frame: Buffer): number | bigint;
  /** Writes `id` into a whole frame, in place. */
  setRequestId(frame: Buffer, id: number | bigint): void;
  /**
   * Optional, for protocols whose requests carry a timeout (Bolt): writes the time left of the
   * request's deadline into a whole request frame, in place, so the provider knows it.
   */
  setTimeoutMs?(frame: Buffer, ms: number): void;
  /** Header view of a request frame (routing keys and attachments). */
  requestHeaders(frame: Buffer, info: FrameInfo): FrameHeaderMap;
  /** Header view of a response frame; must include `:status`, the HTTP-equivalent status. */
  responseHeaders(frame: Buffer, info: FrameInfo): FrameHeaderMap;
  /** Builds a request frame from (possibly changed) headers and payload, keeping `original`'s id. */
  encodeRequest(original: Buffer, info: FrameInfo, headers: HeaderMap, payload: Buffer): Buffer;
  /** Builds a response frame from (possibly changed) headers and payload, keeping `original`'s id. */
  encodeResponse(original: Buffer, info: FrameInfo, headers: HeaderMap, payload: Buffer): Buffer;
  /** Answer to a heartbeat request frame. */
  heartbeatResponse(request: Buffer, info: FrameInfo): Buffer;
  /** A heartbeat request to keep an idle upstream connection alive. */
  heartbeatRequest(id: number): Buffer;
  /**
   * The protocol's own error response to `request` (same id), carrying `reply.details` or the
   * body as message, and the protocol status mapped from reply.reason / reply.status.
   */
  localReply(request: Buffer, info: FrameInfo, reply: LocalReply): Buffer;
}

/** Duck-typing test used by the registry to tell an RpcCodec from a CodecDefinition. */
export function isRpcCodec(x: unknown): x is RpcCodec {
  return typeof x === 'object' && x !== null && typeof (x as RpcCodec).peek === 'function' && typeof (x as RpcCodec).match === 'function';
}
