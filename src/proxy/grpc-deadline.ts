/**
 * Deadlines: `grpc-timeout` parsing and formatting (gRPC over HTTP/2 spec: up to 8 digits and a
 * unit H, M, S, m, u, n), and the request deadline the engine enforces and propagates upstream
 * (`grpc-timeout` for gRPC, `x-switchyard-timeout-ms` for every HTTP request). Must never: round
 * a deadline up to more time than remains.
 */

import type { HeaderMap } from '../api';

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** Milliseconds, or null when the value is not a valid grpc-timeout. */
export function parseGrpcTimeout(v: string): number | null {
  const n = v.length;
  if (n < 2 || n > 9) return null;
  const unit = UNIT_MS[v[n - 1]];
  if (unit === undefined) return null;
  let x = 0;
  for (let i = 0; i < n - 1; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return null;
    x = x * 10 + c;
  }
  return x * unit;
}

/** Formats a remaining time, never rounding up; at least 1 ns-free "0m" is avoided: minimum 1m. */
export function formatGrpcTimeout(ms: number): string {
  if (ms <= 1) return '1m';
  const whole = Math.floor(ms);
  if (whole < 1e8) return `${whole}m`;
  const s = Math.floor(ms / 1000);
  if (s < 1e8) return `${s}S`;
  return `${Math.min(99_999_999, Math.floor(ms / 60_000))}M`;
}

/** Remaining request budget, in ms, that Switchyard passes upstream on HTTP requests. */
export const DEADLINE_HEADER = 'x-switchyard-timeout-ms';

/** The smaller of two deadlines in ms, 0 meaning none; `ms` null or ≤ 0 changes nothing. */
function tighter(deadline: number, ms: number | null): number {
  return ms !== null && ms > 0 && (deadline === 0 || ms < deadline) ? ms : deadline;
}

/**
 * The request's deadline: the smaller of the route timeout, the one its stream carries (a Bolt
 * frame's timeout), its `grpc-timeout`, and an `x-switchyard-timeout-ms` set by a Switchyard in
 * front. What is left after `elapsedMs` is written back so the next hop knows it. 0 = none.
 */
export function applyDeadline(h: HeaderMap | null, routeMs: number, streamMs: number | undefined, elapsedMs: number): number {
  let deadline = streamMs !== undefined && streamMs > 0 ? streamMs : 0;
  const grpc = h === null ? undefined : h.get('grpc-timeout');
  if (grpc !== undefined) deadline = tighter(deadline, parseGrpcTimeout(grpc));
  const hop = h === null ? undefined : h.get(DEADLINE_HEADER);
  if (hop !== undefined && /^\d{1,9}$/.test(hop)) deadline = tighter(deadline, Number(hop));
  const budget = routeMs > 0 && (deadline === 0 || routeMs < deadline) ? routeMs : deadline;
  if (budget === 0 || h === null) return budget;
  // Deadlines the client set are counted from the request's start; the route timeout from now.
  const left = budget === routeMs ? budget : Math.max(1, budget - elapsedMs);
  if (grpc !== undefined) h.set('grpc-timeout', formatGrpcTimeout(left));
  h.set(DEADLINE_HEADER, String(Math.ceil(left)));
  return left;
}
