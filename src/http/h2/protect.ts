/**
 * Abuse accounting for one downstream HTTP/2 connection: premature client resets (rapid reset,
 * CVE-2023-44487), PING and SETTINGS floods counted per fixed window. Also the effective limits of
 * a listener (defaults merged with its `http2` config section).
 * Must never: touch sockets or streams (native/connection.ts acts on what this decides), or read the
 * clock on the per-request path (completed streams are plain increments).
 */
import type { Clock } from '../../api/clock';
import type { ListenerLimits } from '../../api/codec';

/** Effective HTTP/2 limits of one listener. */
export interface H2Limits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised and enforced (REFUSED_STREAM beyond it). */
  maxConcurrentStreams: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE advertised and enforced (RFC 7541 size: name + value + 32). */
  maxHeaderListSize: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE: each stream's receive window. */
  initialStreamWindowSize: number;
  /** The connection's receive window. */
  initialConnectionWindowSize: number;
  /** A stream with no frames either way for this long is reset; 0 disables. */
  streamIdleTimeoutMs: number;
  /** Window over which resets, PINGs and SETTINGS are counted. */
  floodWindowMs: number;
  /** Premature client resets per window before GOAWAY(ENHANCE_YOUR_CALM); 0 disables. */
  maxResets: number;
  /** With at least this many premature resets in a window, more resets than completed streams trips too; 0 disables. */
  resetRatioMin: number;
  /** PING frames per window; 0 disables. */
  maxPings: number;
  /** SETTINGS frames per window; 0 disables. */
  maxSettings: number;
}

export const H2_LIMIT_DEFAULTS = {
  maxConcurrentStreams: 100,
  initialStreamWindowSize: 256 * 1024,
  initialConnectionWindowSize: 1024 * 1024,
  streamIdleTimeoutMs: 5 * 60_000,
  floodWindowMs: 10_000,
  maxResets: 400,
  resetRatioMin: 50,
  maxPings: 100,
  maxSettings: 100,
} as const;

/** Codec-level tunables given to createHttp2Listener (tests, embedders); config overrides them. */
export interface H2BaseOptions {
  maxConcurrentStreams?: number;
  initialWindowSize?: number;
  connectionWindowSize?: number;
}

/** Defaults ← listener-protocol options ← the listener's `http2` section; header list from limits. */
export function effectiveH2Limits(base: H2BaseOptions, limits: ListenerLimits): H2Limits {
  const c = limits.http2;
  const d = H2_LIMIT_DEFAULTS;
  return {
    maxConcurrentStreams: c?.max_concurrent_streams ?? base.maxConcurrentStreams ?? d.maxConcurrentStreams,
    maxHeaderListSize: c?.max_header_list_size ?? limits.maxHeaderBytes,
    initialStreamWindowSize: c?.initial_stream_window_size ?? base.initialWindowSize ?? d.initialStreamWindowSize,
    initialConnectionWindowSize: c?.initial_connection_window_size ?? base.connectionWindowSize ?? d.initialConnectionWindowSize,
    streamIdleTimeoutMs: c?.stream_idle_timeout_ms ?? d.streamIdleTimeoutMs,
    floodWindowMs: c?.flood_window_ms ?? d.floodWindowMs,
    maxResets: c?.max_resets ?? d.maxResets,
    resetRatioMin: c?.reset_ratio_min ?? d.resetRatioMin,
    maxPings: c?.max_pings ?? d.maxPings,
    maxSettings: c?.max_settings ?? d.maxSettings,
  };
}

export type FloodKind = 'h2_rapid_reset' | 'h2_ping_flood' | 'h2_settings_flood';

/**
 * Per-connection counters over fixed windows. A window starts at the first counted event after
 * the previous one expired; completed streams are counted without reading the clock and belong to
 * whichever window is open when the next reset arrives.
 */
export class H2FloodGuard {
  private windowStart: number;
  private resets = 0;
  private completed = 0;
  private pings = 0;
  private settings = 0;

  constructor(
    private readonly limits: H2Limits,
    private readonly clock: Clock,
  ) {
    this.windowStart = clock.now();
  }

  /** A stream finished normally (its response was complete). */
  completedStream(): void {
    this.completed++;
  }

  /** The client reset a stream before its response was complete. */
  prematureReset(): FloodKind | null {
    this.roll();
    const r = ++this.resets;
    const l = this.limits;
    if (l.maxResets > 0 && r > l.maxResets) return 'h2_rapid_reset';
    if (l.resetRatioMin > 0 && r >= l.resetRatioMin && r > this.completed) return 'h2_rapid_reset';
    return null;
  }

  ping(): FloodKind | null {
    this.roll();
    return this.limits.maxPings > 0 && ++this.pings > this.limits.maxPings ? 'h2_ping_flood' : null;
  }

  settingsFrame(): FloodKind | null {
    this.roll();
    return this.limits.maxSettings > 0 && ++this.settings > this.limits.maxSettings ? 'h2_settings_flood' : null;
  }

  private roll(): void {
    const now = this.clock.now();
    if (now - this.windowStart < this.limits.floodWindowMs) return;
    this.windowStart = now;
    this.resets = this.completed = this.pings = this.settings = 0;
  }
}
