/**
 * proxy_http_call plumbing: the callback-style HttpCallFn the VM uses, adapted from the
 * FilterBuildEnv's promise-based httpCall (the runtime's calls to clusters of the generation).
 * The result is always delivered on a later tick; a cancelled call never reports.
 * Must never: call into a guest (the VM does that with the result).
 */
import type { FilterBuildEnv, HeaderMap } from '../api';

export interface HttpCallResult {
  headers: HeaderMap;
  body: Buffer;
  trailers: HeaderMap | null;
}

export interface HttpCallHandle {
  cancel(): void;
}

/** Starts a call; `done(null)` reports failure. Returns null when the cluster is unknown. */
export type HttpCallFn = (
  cluster: string,
  headers: HeaderMap,
  body: Buffer,
  timeoutMs: number,
  done: (res: HttpCallResult | null) => void,
) => HttpCallHandle | null;

/** proxy_http_call with a zero timeout gets this one. */
const DEFAULT_TIMEOUT_MS = 30_000;

export function httpCallerFromEnv(env: FilterBuildEnv): HttpCallFn | null {
  if (typeof env.httpCall !== 'function') return null;
  const known = new Set(env.clusterNames);
  return (cluster, headers, body, timeoutMs, done) => {
    if (!known.has(cluster)) return null;
    let cancelled = false;
    env
      .httpCall({ cluster, headers, body: body.length > 0 ? body : undefined, timeoutMs: timeoutMs > 0 ? timeoutMs : DEFAULT_TIMEOUT_MS })
      .then(
        (r) => {
          if (!cancelled) done({ headers: r.headers, body: r.body, trailers: r.trailers });
        },
        () => {
          if (!cancelled) done(null);
        },
      );
    return {
      cancel() {
        cancelled = true;
      },
    };
  };
}
