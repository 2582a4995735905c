/**
 * StreamFilter: the extension point on every stream, whatever its protocol. Request hooks run in
 * chain order, response hooks in reverse. A hook returns synchronously where it can; returning a
 * Promise costs a promise only for that hook. Must never: depend on a codec's internals.
 */
import type { HeaderMap } from './headers';
import type { ConnectionInfo, LocalReply } from './stream';
import type { Clock } from './clock';

/**
 * `continue`: pass on. `stop`: hold the stream here. A headers/trailers hook that stops must later
 * call ctx.continueRequest()/continueResponse() or send a local reply. A body hook that stops asks
 * the engine to buffer: the chunk and the ones after it are kept (bounded by the buffer limit)
 * and released, possibly replaced via setBufferedBody, when a later body hook returns `continue`.
 */
export type FilterStatus = 'continue' | 'stop';
export type FilterResult = FilterStatus | void | Promise<FilterStatus | void>;

export interface RouteInfo {
  readonly name: string;
  readonly cluster: string | null;
}

export interface Logger {
  debug(msg: string, extra?: object): void;
  info(msg: string, extra?: object): void;
  warn(msg: string, extra?: object): void;
  error(msg: string, extra?: object): void;
}

export interface FilterContext {
  readonly requestId: string;
  readonly listener: string;
  /** Wire protocol of the downstream: "http/1.1", "h2", "dubbo", ... */
  readonly protocol: string;
  readonly connection: ConnectionInfo;
  readonly requestHeaders: HeaderMap;
  /** Response head once it exists (`:status` included). */
  readonly responseHeaders: HeaderMap | null;
  readonly route: RouteInfo | null;
  readonly upstreamAddress: string | null;
  readonly startTime: number;
  readonly clock: Clock;
  /** Per-stream scratch space shared by filters (dynamic metadata). */
  readonly state: Map<string, unknown>;
  readonly log: Logger;
  /** Answers the stream from the proxy; the hook that calls it should return `stop`. */
  sendLocalReply(reply: Omit<LocalReply, 'reason'> & { reason?: LocalReply['reason'] }): void;
  continueRequest(): void;
  continueResponse(): void;
  /** The body buffered so far in this direction because a body hook returned `stop`. */
  bufferedBody(dir: 'request' | 'response'): Buffer;
  setBufferedBody(dir: 'request' | 'response', body: Buffer): void;
  /** Makes the router match again (after a filter changed the request headers). */
  clearRouteCache(): void;
}

export interface StreamFilter {
  onRequestHeaders?(ctx: FilterContext, headers: HeaderMap, endStream: boolean): FilterResult;
  onRequestBody?(ctx: FilterContext, chunk: Buffer, endStream: boolean): FilterResult;
  onRequestTrailers?(ctx: FilterContext, trailers: HeaderMap): FilterResult;
  onResponseHeaders?(ctx: FilterContext, headers: HeaderMap, endStream: boolean): FilterResult;
  onResponseBody?(ctx: FilterContext, chunk: Buffer, endStream: boolean): FilterResult;
  onResponseTrailers?(ctx: FilterContext, trailers: HeaderMap): FilterResult;
  /** After the exchange, for logging; never fails the stream. */
  onLog?(ctx: FilterContext): void;
  /** The stream is gone (completed or aborted). */
  onDestroy?(): void;
}

/** What a filter factory may use while building. */
export interface FilterBuildEnv {
  readonly listener: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Directory of the config file, for resolving relative paths. */
  readonly baseDir: string;
  /** Names of the configured clusters (for filters that call out). */
  readonly clusterNames: readonly string[];
}

export interface BuiltFilter {
  /** A filter instance per stream (may return a shared stateless object). */
  createFilter(): StreamFilter;
  destroy?(): void;
}

export interface FilterFactory {
  readonly name: string;
  /**
   * Validates `config` once per config load and compiles it. Throws ConfigError with paths
   * relative to the filter's `config` (the loader prefixes the filter's own path).
   */
  build(config: unknown, env: FilterBuildEnv): BuiltFilter | Promise<BuiltFilter>;
}
