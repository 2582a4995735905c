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

/** A metric a filter defined; resolved once at build time, incremented on the hot path. */
export interface FilterMetric {
  readonly value: number;
  inc(n?: number): void;
  set(v: number): void;
  observe(v: number): void;
}

export interface FilterMetrics {
  /** Names are prefixed `switchyard_`; the listener is added as a label. */
  counter(name: string, help: string, labels?: Readonly<Record<string, string>>): FilterMetric;
  gauge(name: string, help: string, labels?: Readonly<Record<string, string>>): FilterMetric;
  histogram(name: string, help: string, labels?: Readonly<Record<string, string>>): FilterMetric;
}

/** An out-of-band HTTP call a filter makes to a configured cluster (ext-authz, proxy_http_call). */
export interface HttpCallRequest {
  readonly cluster: string;
  /** `:method`, `:path`, `:authority` and headers. */
  readonly headers: HeaderMap;
  readonly body?: Buffer;
  readonly timeoutMs: number;
}

export interface HttpCallResponse {
  /** `:status` included. */
  readonly headers: HeaderMap;
  readonly body: Buffer;
  readonly trailers: HeaderMap | null;
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
  readonly metrics: FilterMetrics;
  /**
   * Calls a cluster of the generation the filter belongs to. Rejects with an Error on failure
   * (no route to the cluster, connect failure, timeout, reset); never throws synchronously.
   */
  httpCall(req: HttpCallRequest): Promise<HttpCallResponse>;
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
