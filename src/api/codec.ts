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
