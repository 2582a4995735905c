/**
 * gRPC deadlines: `grpc-timeout` parsing and formatting (gRPC over HTTP/2 spec: up to 8 digits
 * and a unit H, M, S, m, u, n). The engine takes the smaller of it and the route timeout as the
 * request's deadline and sends the remaining time upstream. Must never: round a deadline up to
 * more time than remains.
 */

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
