/**
 * Reader for a listener's `http2` section: the downstream HTTP/2 codec's settings (concurrency,
 * header list size, flow-control windows, stream idle timeout) and its abuse thresholds (client
 * resets, PING and SETTINGS frames per window). Defaults are filled so config_dump shows the
 * effective values; the codec applies the same defaults when the section is absent.
 * Must never: hold runtime behaviour (src/http/h2 does).
 */
import type { Issues, Reader } from './schema';

export const HTTP2_KEYS = [
  'max_concurrent_streams', 'max_header_list_size', 'initial_stream_window_size', 'initial_connection_window_size',
  'stream_idle_timeout', 'flood_window', 'max_resets', 'reset_ratio_min', 'max_pings', 'max_settings',
] as const;

/** The effective `http2` section of a listener (durations in ms; 0 disables a rule). */
export interface Http2ListenerConfig {
  max_concurrent_streams: number; // default 100
  max_header_list_size: number; // default: the listener's limits.max_header_bytes
  initial_stream_window_size: number; // default 256 KiB
  initial_connection_window_size: number; // default 1 MiB
  stream_idle_timeout_ms: number; // default 5m
  flood_window_ms: number; // default 10s: the window the next four count over
  max_resets: number; // default 400 premature client resets per window
  reset_ratio_min: number; // default 50: from this many resets, more resets than completed streams trips
  max_pings: number; // default 100 PING frames per window
  max_settings: number; // default 100 SETTINGS frames per window
}

export const HTTP2_DEFAULTS = {
  max_concurrent_streams: 100,
  initial_stream_window_size: 256 * 1024,
  initial_connection_window_size: 1024 * 1024,
  stream_idle_timeout_ms: 5 * 60_000,
  flood_window_ms: 10_000,
  max_resets: 400,
  reset_ratio_min: 50,
  max_pings: 100,
  max_settings: 100,
};

/** RFC 9113: flow-control windows are 31-bit; the initial stream window may not go below 65,535 here. */
export const MAX_WINDOW = 2 ** 31 - 1;

/** The two receive windows a section advertises (listener `http2`, cluster `http2`). */
export function readWindowSizes(r: Reader): { initial_stream_window_size: number; initial_connection_window_size: number } {
  const d = HTTP2_DEFAULTS;
  return {
    initial_stream_window_size:
      r.int('initial_stream_window_size', d.initial_stream_window_size, { min: 65_535, max: MAX_WINDOW }) ?? d.initial_stream_window_size,
    initial_connection_window_size:
      r.int('initial_connection_window_size', d.initial_connection_window_size, { min: 65_535, max: MAX_WINDOW }) ??
      d.initial_connection_window_size,
  };
}

/** Reads `listeners[i].http2`; `maxHeaderBytes` is the listener's limits.max_header_bytes. */
export function readHttp2(issues: Issues, r: Reader, maxHeaderBytes: number): Http2ListenerConfig {
  const d = HTTP2_DEFAULTS;
  const out: Http2ListenerConfig = {
    max_concurrent_streams: r.int('max_concurrent_streams', d.max_concurrent_streams, { min: 1, max: MAX_WINDOW }) ?? d.max_concurrent_streams,
    max_header_list_size: r.int('max_header_list_size', maxHeaderBytes, { min: 1, max: 2 ** 32 - 1 }) ?? maxHeaderBytes,
    ...readWindowSizes(r),
    stream_idle_timeout_ms: r.duration('stream_idle_timeout', d.stream_idle_timeout_ms) ?? d.stream_idle_timeout_ms,
    flood_window_ms: r.duration('flood_window', d.flood_window_ms) ?? d.flood_window_ms,
    max_resets: r.int('max_resets', d.max_resets, { min: 0 }) ?? d.max_resets,
    reset_ratio_min: r.int('reset_ratio_min', d.reset_ratio_min, { min: 0 }) ?? d.reset_ratio_min,
    max_pings: r.int('max_pings', d.max_pings, { min: 0 }) ?? d.max_pings,
    max_settings: r.int('max_settings', d.max_settings, { min: 0 }) ?? d.max_settings,
  };
  if (r.has('flood_window') && out.flood_window_ms <= 0) issues.add(r.at('flood_window'), 'must be longer than 0');
  return out;
}
