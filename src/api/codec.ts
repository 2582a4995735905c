/**
 * Codecs as the core sees them: a listener protocol turns an accepted socket into ServerStreams;
 * an upstream protocol builds a connection pool per endpoint. HTTP/1.1 is one pair of these, as
 * any registered protocol is. Must never: route, balance or filter.
 */
import type { Duplex } from 'node:stream';
import type { ConnectionInfo, PoolOptions, ServerStream, UpstreamPool } from './stream';
import type { Clock } from './clock';
import type { Logger } from './filter';

export type MatchResult = 'yes' | 'no' | 'need-more';

/** Limits a listener applies to every connection it serves. */
export interface ListenerLimits {
  maxHeaderBytes: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  /** Largest request body a filter may buffer. */
  maxBufferBytes: number;
  /** Largest frame a framed (RPC) protocol accepts from a client; absent: the protocol's default. */
  maxFrameBytes?: number;
  /**
   * The listener's `http2` config section as loaded (absent: the codec's defaults). Durations in
   * ms; a 0 count or duration disables that rule.
   */
  http2?: {
    readonly max_concurrent_streams?: number;
    readonly max_header_list_size?: number;
    readonly initial_stream_window_size?: number;
    readonly initial_connection_window_size?: number;
    readonly stream_idle_timeout_ms?: number;
    readonly flood_window_ms?: number;
    readonly max_resets?: number;
    readonly reset_ratio_min?: number;
    readonly max_pings?: number;
    readonly max_settings?: number;
  };
}

export interface ServeContext {
  readonly connection: ConnectionInfo;
  readonly limits: ListenerLimits;
  readonly clock: Clock;
  readonly log: Logger;
  /** Hands a decoded stream to the proxy. */
  onStream(stream: ServerStream): void;
  /** Reports a protocol violation (counted per listener and protocol). */
  onProtocolError(kind: string): void;
}

/** One served downstream connection. */
export interface ServerConnection {
  readonly activeStreams: number;
  /** Graceful: finish in-flight streams, refuse new ones (Connection: close / GOAWAY), then close. */
  drain(): void;
  destroy(): void;
  /** Called once when the connection is fully closed. */
  onClose(cb: () => void): void;
}

export interface ListenerProtocol {
  readonly name: string;
  /** Sniffs the first bytes of a connection, for `protocol: auto` listeners. */
  match?(head: Buffer): MatchResult;
  serve(socket: Duplex, ctx: ServeContext): ServerConnection;
}

export interface UpstreamProtocol {
  readonly name: string;
  createPool(endpoint: { host: string; port: number }, options: PoolOptions, clock: Clock): UpstreamPool;
}

/** A codec plug-in registers a server side, a client side, or both under one name. */
export interface CodecDefinition {
  readonly name: string;
  readonly listener?: ListenerProtocol;
  readonly upstream?: UpstreamProtocol;
}
