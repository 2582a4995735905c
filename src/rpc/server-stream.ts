/**
 * RpcServerStream: one downstream RPC request frame as a ServerStream. The body is the frame's
 * payload (one chunk, delivered after attach()); the response is collected from respond / write /
 * end and written as one frame: the upstream's original response bytes with the downstream id
 * restored when nothing changed, else a frame the codec encodes. One-way requests discard their
 * response. Must never: write two responses, write after the connection closed, or change the
 * request frame's bytes (a retry or mirror may send them again).
 */
import { FrameHeaderMap, HeaderMap } from '../api';
import type {
  ConnectionInfo,
  FrameInfo,
  LocalReply,
  RequestBodyHandler,
  RpcCodec,
  ServerStream,
} from '../api';
import { frameOwners, isOwnPayload, joinBody } from './frames';

/** What a stream needs from its connection. */
export interface RpcStreamOwner {
  readonly codec: RpcCodec;
  readonly info: ConnectionInfo;
  /** Writes a whole frame; false when the socket buffer is over its high-water mark. */
  writeFrame(frame: Buffer): boolean;
  streamDone(s: RpcServerStream): void;
  pauseFor(s: RpcServerStream): void;
  resumeFor(s: RpcServerStream): void;
  onDrain(cb: () => void): void;
  destroy(): void;
  debug(msg: string, extra?: object): void;
}

export class RpcServerStream implements ServerStream {
  readonly protocol: string;
  readonly endStream = false;
  /** Timeout the request frame itself carries, in ms (0: none); the engine takes min(route, this). */
  readonly timeoutMs: number;
  readonly oneWay: boolean;
  responseStarted = false;
  bytesSent = 0;
  /** True once the exchange is over for this side: answered, discarded or aborted. */
  done = false;
  paused = false;
  /** Index in the connection's list of active streams (-1: not in it). */
  slot = -1;
  private handler: RequestBodyHandler | null = null;
  private started = false;
  private delivered = false;
  private respHeaders: HeaderMap | null = null;
  private body: Buffer | null = null;
  private bodyMore: Buffer[] | null = null;

  constructor(
    private readonly owner: RpcStreamOwner,
    readonly frame: Buffer,
    readonly info: FrameInfo,
    readonly headers: FrameHeaderMap,
    /** The id the downstream used; restored on every frame written back. */
    readonly downstreamId: number | bigint,
    readonly startTime: number,
  ) {
    this.protocol = owner.codec.name;
    this.timeoutMs = info.timeoutMs > 0 ? info.timeoutMs : 0;
    this.oneWay = info.oneWay;
  }

  get connection(): ConnectionInfo {
    return this.owner.info;
  }
  get bytesReceived(): number {
    return this.frame.length;
  }

  attach(handler: RequestBodyHandler): void {
    this.handler = handler;
    if (this.started) this.deliver();
  }

  /** Called by the connection once the engine has taken the stream (onStream returned). */
  start(): void {
    this.started = true;
    if (this.handler !== null) this.deliver();
  }

  private deliver(): void {
    if (this.delivered || this.done) return;
    this.delivered = true;
    const h = this.handler!;
    const hl = this.info.headerLength;
    if (hl < this.frame.length) h.onData(this.frame.subarray(hl));
    if (!this.done) h.onEnd(null);
  }

  pause(): void {
    if (this.paused || this.done) return;
    this.paused = true;
    this.owner.pauseFor(this);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.owner.resumeFor(this);
  }

  respond(headers: HeaderMap, endStream: boolean): void {
    if (this.done) return;
    this.responseStarted = true;
    this.respHeaders = headers;
    if (endStream) this.finish();
  }

  write(chunk: Buffer): boolean {
    if (this.done || this.oneWay || chunk.length === 0) return true;
    if (this.body === null) this.body = chunk;
    else if (this.bodyMore === null) this.bodyMore = [chunk];
    else this.bodyMore.push(chunk);
    return true;
  }

  end(_trailers?: HeaderMap | null): void {
    if (this.done) return;
    this.responseStarted = true;
    this.finish();
  }

  onDrain(cb: () => void): void {
    this.owner.onDrain(cb);
  }

  sendLocalReply(reply: LocalReply): void {
    if (this.done) return;
    this.responseStarted = true;
    if (this.oneWay) {
      this.owner.debug('local reply to a one-way request discarded', { reason: reply.reason, status: reply.status });
      this.complete();
      return;
    }
    let out: Buffer;
    try {
      out = this.owner.codec.localReply(this.frame, this.info, reply);
      this.owner.codec.setRequestId(out, this.downstreamId);
    } catch (e) {
      this.owner.debug('codec localReply failed; closing the connection', { error: String(e) });
      this.complete();
      this.owner.destroy();
      return;
    }
    this.send(out);
  }

  reset(): void {
    if (this.done) return;
    this.complete();
    this.owner.destroy();
  }

  /** The downstream connection went away: no response can be delivered. */
  abort(reason: string): void {
    if (this.done) return;
    this.done = true;
    this.paused = false;
    if (this.handler !== null) this.handler.onAbort(reason);
  }

  private finish(): void {
    if (this.oneWay) {
      this.complete();
      return;
    }
    const codec = this.owner.codec;
    const h = this.respHeaders ?? new HeaderMap([':status', '200']);
    const payload = joinBody(this.body, this.bodyMore);
    let out: Buffer;
    try {
      const own = h instanceof FrameHeaderMap && h.info.kind === 'response' && frameOwners.get(h) === codec;
      if (own && !h.dirty && isOwnPayload(payload, h.frame, h.info)) {
        // The upstream's own frame, unchanged: forward its bytes. It is ours now (the pool has
        // matched it and nobody reads its id again), so the id is written in place.
        out = h.frame;
      } else if (own) {
        // Same protocol, changed: re-encoded from the upstream response frame.
        out = codec.encodeResponse(h.frame, h.info, h, payload);
      } else {
        // Another protocol answered (or the proxy built the head): built from the request frame.
        out = codec.encodeResponse(this.frame, this.info, h, payload);
      }
      codec.setRequestId(out, this.downstreamId);
    } catch (e) {
      this.owner.debug('response cannot be encoded', { error: String(e) });
      this.body = this.bodyMore = null;
      this.respHeaders = null;
      try {
        out = codec.localReply(this.frame, this.info, {
          status: 502,
          reason: 'upstream_protocol_error',
          details: 'response cannot be encoded',
        });
        codec.setRequestId(out, this.downstreamId);
      } catch {
        this.complete();
        this.owner.destroy();
        return;
      }
    }
    this.send(out);
  }

  private send(out: Buffer): void {
    this.body = this.bodyMore = null;
    this.bytesSent += out.length;
    this.owner.writeFrame(out);
    this.complete();
  }

  private complete(): void {
    this.done = true;
    if (this.paused) {
      this.paused = false;
      this.owner.resumeFor(this);
    }
    this.owner.streamDone(this);
  }
}
