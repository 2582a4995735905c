/**
 * Streams: one exchange (request and response) as every codec presents it to the core, on both
 * legs. A server codec turns downstream bytes into ServerStreams; an upstream pool turns an
 * UpstreamRequest into bytes and reports the response through an UpstreamResponseHandler.
 * Must never: carry protocol syntax. Bodies are Buffers as they arrived; backpressure is the
 * boolean returned by write() plus a one-shot drain callback, as with node streams, without
 * their per-request allocations.
 */
import type { Duplex } from 'node:stream';
import type { HeaderMap } from './headers';
import type { LocalReplyReason, UpstreamError } from './errors';

/** What a stream knows of the connection it arrived on. */
export interface ConnectionInfo {
  readonly id: number;
  readonly listener: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly tls: boolean;
  /** TLS server name the client asked for, if any. */
  readonly sni?: string;
  /** Subject alternative names of a verified client certificate, if any. */
  readonly peerSans?: readonly string[];
}

/** Receives the request body of a ServerStream, after the headers. */
export interface RequestBodyHandler {
  onData(chunk: Buffer): void;
  onEnd(trailers: HeaderMap | null): void;
  /** The downstream went away or broke the exchange; no response can be delivered. */
  onAbort(reason: string): void;
}

/** A proxy-generated answer; each codec renders it in its own form (HTTP, gRPC, Dubbo, Bolt). */
export interface LocalReply {
  /** HTTP-equivalent status (404, 503, 504, ...). */
  status: number;
  body?: string | Buffer;
  headers?: HeaderMap;
  reason: LocalReplyReason;
  /** Optional human detail, logged, and used as the message where the protocol carries one. */
  details?: string;
  /** gRPC status to use instead of the one mapped from `status`. */
  grpcStatus?: number;
}

/** One downstream exchange, produced by a server codec. */
export interface ServerStream {
  /** Wire protocol label for stats and logs: "http/1.1", "h2", "dubbo", ... */
  readonly protocol: string;
  /** Request headers including pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`). */
  readonly headers: HeaderMap;
  readonly connection: ConnectionInfo;
  /** True when the request has no body (headers ended the stream). */
  readonly endStream: boolean;
  /** Start of the exchange, Clock.now() milliseconds. */
  readonly startTime: number;
  /**
   * Deadline the request itself carries (Bolt's timeout field, gRPC's grpc-timeout), in ms from
   * startTime; absent or 0 when none. The engine uses the smaller of it and the route timeout.
   */
  readonly timeoutMs?: number;
  /** Registers the body consumer. Body events are delivered only after this call. */
  attach(handler: RequestBodyHandler): void;
  pause(): void;
  resume(): void;
  /** Response head; `headers` carries `:status`. */
  respond(headers: HeaderMap, endStream: boolean): void;
  /** Writes a body chunk; false means "stop until the drain callback fires". */
  write(chunk: Buffer): boolean;
  end(trailers?: HeaderMap | null): void;
  /** One-shot callback for when write() may continue. */
  onDrain(cb: () => void): void;
  /** Answers with a proxy-generated reply in the protocol's own form. */
  sendLocalReply(reply: LocalReply): void;
  /** Aborts the exchange (for HTTP/1.1 this closes the connection). */
  reset(): void;
  readonly responseStarted: boolean;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /**
   * HTTP/1.1 upgrades: the lower-cased Upgrade token when the request asked to switch protocols
   * (e.g. "websocket"); the header map then keeps `upgrade`. Absent for every other request.
   */
  readonly upgrade?: string;
  /**
   * After respond() sent a 101 head for an upgrade request: hands over the raw connection (bytes
   * the codec already read past the request head are unshifted into it, the socket is paused).
   * The codec stops using the socket but still reports the connection's close.
   */
  takeSocket?(): Duplex;
}

/** Receives an upstream response. */
export interface UpstreamResponseHandler {
  /** Response head; `headers` carries `:status`. */
  onHeaders(headers: HeaderMap, endStream: boolean): void;
  onData(chunk: Buffer): void;
  onEnd(trailers: HeaderMap | null): void;
  /** The exchange failed: before the head (the proxy may answer or retry) or during the body. */
  onError(err: UpstreamError): void;
}

/** One in-flight upstream exchange returned by UpstreamPool.request(). */
export interface UpstreamRequest {
  write(chunk: Buffer): boolean;
  end(trailers?: HeaderMap | null): void;
  onDrain(cb: () => void): void;
  /** Stops / restarts delivery of response body (backpressure from the downstream). */
  pause(): void;
  resume(): void;
  /** Abandons the exchange; the connection is closed or returned as the protocol allows. */
  abort(): void;
  /**
   * After a 101 response head: takes the connection out of the pool for a tunnel (bytes read
   * past the head are unshifted into it, the socket is paused). Null when it cannot.
   */
  takeSocket?(): Duplex | null;
}

export interface PoolOptions {
  connectTimeoutMs: number;
  /** Max connections to this endpoint (ping-pong protocols) or sessions (multiplexed). */
  maxConnections: number;
  /** Max requests waiting for a connection before failing with `overflow`. */
  maxPending: number;
  /** Idle upstream connections are closed after this long. */
  idleTimeoutMs: number;
  /** Protocol-specific options from the cluster config. */
  options?: Readonly<Record<string, unknown>>;
}

/** Connections to one endpoint for one upstream protocol. */
export interface UpstreamPool {
  request(headers: HeaderMap, endStream: boolean, handler: UpstreamResponseHandler): UpstreamRequest;
  readonly stats: { readonly connections: number; readonly active: number; readonly pending: number };
  /** Closes idle connections now and busy ones once they finish. */
  close(): Promise<void>;
  destroy(): void;
}
