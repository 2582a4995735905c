/**
 * TryResult: how one upstream try ended, as outlier detection sees it — the HTTP-equivalent
 * status of the response head (RPC codecs map theirs: Dubbo 80 → 500, Bolt 7 → 504, ...) or the
 * kind of failure. Shared, frozen result objects so the engine reports a try without allocating.
 * Must never: hold per-request state.
 */

export type TryFailure = 'connect_failure' | 'connect_timeout' | 'reset' | 'protocol_error' | 'timeout' | 'overflow';

export type TryResult = { readonly status: number } | { readonly failure: TryFailure };

const STATUS_RESULTS: ReadonlyArray<{ readonly status: number }> = Object.freeze(
  Array.from({ length: 600 }, (_, status) => Object.freeze({ status })),
);

/** The shared result for a response head with `status` (allocates only for statuses outside 0..599). */
export function statusResult(status: number): TryResult {
  return status >= 0 && status < 600 && Number.isInteger(status) ? STATUS_RESULTS[status] : { status };
}

const FAILURE_RESULTS: Readonly<Record<TryFailure, TryResult>> = Object.freeze({
  connect_failure: Object.freeze({ failure: 'connect_failure' as const }),
  connect_timeout: Object.freeze({ failure: 'connect_timeout' as const }),
  reset: Object.freeze({ failure: 'reset' as const }),
  protocol_error: Object.freeze({ failure: 'protocol_error' as const }),
  timeout: Object.freeze({ failure: 'timeout' as const }),
  overflow: Object.freeze({ failure: 'overflow' as const }),
});

/** The shared result for a try that failed with `kind` (an UpstreamFailureKind or 'timeout'). */
export function failureResult(kind: TryFailure): TryResult {
  return FAILURE_RESULTS[kind];
}

/** 502, 503 and 504: the statuses Envoy calls gateway errors. */
export function isGatewayStatus(status: number): boolean {
  return status >= 502 && status <= 504;
}

/** Failures that count as gateway failures (besides 502/503/504). */
export function isGatewayFailure(f: TryFailure): boolean {
  return f === 'connect_failure' || f === 'connect_timeout' || f === 'reset' || f === 'timeout';
}
