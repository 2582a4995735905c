/**
 * Reader for a cluster's `http2` section (upstream HTTP/2 session settings: streams per session,
 * keep-alive PINGs, receive windows) and the PoolOptions `options` entries built from it, in the
 * names src/http/h2/pool.ts reads.
 * Must never: hold runtime behaviour (src/http/h2 does).
 */
import type { ClusterHttp2Config } from './types';
import type { Issues, Reader } from './schema';
import { HTTP2_DEFAULTS, MAX_WINDOW, readWindowSizes } from './http2';

export const CLUSTER_HTTP2_KEYS = [
  'max_concurrent_streams', 'ping_interval', 'ping_timeout', 'initial_stream_window_size', 'initial_connection_window_size',
] as const;

export const CLUSTER_HTTP2_DEFAULTS: Readonly<ClusterHttp2Config> = Object.freeze({
  max_concurrent_streams: 0,
  ping_interval_ms: 30_000,
  ping_timeout_ms: 10_000,
  initial_stream_window_size: HTTP2_DEFAULTS.initial_stream_window_size,
  initial_connection_window_size: HTTP2_DEFAULTS.initial_connection_window_size,
});

/**
 * Reads `http2` (`r` is its reader, unknown keys already reported). On a cluster whose protocol
 * is not `http2` the section is an error at `path`.
 */
export function readClusterHttp2(issues: Issues, r: Reader, protocol: string, path: string): ClusterHttp2Config {
  const d = CLUSTER_HTTP2_DEFAULTS;
  if (protocol !== '' && protocol !== 'http2') issues.add(path, `applies only to http2 clusters; cluster protocol is "${protocol}"`);
  return {
    max_concurrent_streams: r.int('max_concurrent_streams', d.max_concurrent_streams, { min: 0, max: MAX_WINDOW }) ?? d.max_concurrent_streams,
    ping_interval_ms: r.duration('ping_interval', d.ping_interval_ms) ?? d.ping_interval_ms,
    ping_timeout_ms: r.duration('ping_timeout', d.ping_timeout_ms) ?? d.ping_timeout_ms,
    ...readWindowSizes(r),
  };
}

/** The PoolOptions.options entries of an http2 cluster (none when the section is absent: the pool's defaults). */
export function http2PoolOptions(h: ClusterHttp2Config | undefined): Readonly<Record<string, unknown>> {
  if (h === undefined) return {};
  return {
    max_concurrent_streams: h.max_concurrent_streams,
    ping_interval_ms: h.ping_interval_ms,
    ping_timeout_ms: h.ping_timeout_ms,
    initial_stream_window_size: h.initial_stream_window_size,
    initial_connection_window_size: h.initial_connection_window_size,
  };
}
