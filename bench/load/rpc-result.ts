/**
 * The summary the rpc load generator prints (one JSON line on stdout) and its parser, used by the
 * rpc suite to turn the child's output into a Measurement. Pure; unit-tested in
 * test/unit/bench-rpc-result.test.ts.
 * Must never: invent a number the load generator did not print — a missing summary is an error.
 */

export interface RpcErrorDetail {
  /** Responses whose protocol status was not success (Dubbo ≠ 20, Bolt ≠ 0). */
  status: number;
  /** Responses carrying an id no request was waiting for. */
  unknownId: number;
  /** Requests outstanding when their connection closed or failed. */
  closed: number;
  /** Requests that got no response within the request timeout. */
  timeout: number;
  /** Failed connection attempts. */
  connect: number;
  /** Undecodable bytes from the target (connection dropped). */
  protocol: number;
}

export interface RpcLoadResult {
  tool: 'rpc-load';
  protocol: string;
  connections: number;
  inflight: number;
  durationS: number;
  /** Successful responses within the measured window. */
  requests: number;
  /** Sum of every errorDetail field. */
  errors: number;
  errorDetail: RpcErrorDetail;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

export function emptyErrors(): RpcErrorDetail {
  return { status: 0, unknownId: 0, closed: 0, timeout: 0, connect: 0, protocol: 0 };
}

export function sumErrors(e: RpcErrorDetail): number {
  return e.status + e.unknownId + e.closed + e.timeout + e.connect + e.protocol;
}

const NUMBER_FIELDS = ['connections', 'inflight', 'durationS', 'requests', 'errors', 'rps', 'p50Ms', 'p90Ms', 'p99Ms', 'meanMs', 'maxMs'] as const;

/**
 * Finds the last line of `stdout` that is a JSON object with `"tool":"rpc-load"` and checks its
 * shape. Latency fields may be null (no successful request): they become NaN.
 */
export function parseRpcLoadOutput(stdout: string): RpcLoadResult {
  const lines = stdout.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (!line.startsWith('{')) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof obj !== 'object' || obj === null || (obj as { tool?: unknown }).tool !== 'rpc-load') continue;
    const o = obj as Record<string, unknown>;
    const out: Record<string, unknown> = { ...o };
    for (const f of NUMBER_FIELDS) {
      const v = o[f];
      if (v === null || v === undefined) {
        if (f === 'requests' || f === 'errors' || f === 'rps') throw new Error(`rpc-load summary lacks "${f}"`);
        out[f] = NaN;
      } else if (typeof v !== 'number') {
        throw new Error(`rpc-load summary field "${f}" is not a number: ${JSON.stringify(v)}`);
      }
    }
    const d = (o.errorDetail ?? {}) as Record<string, unknown>;
    const detail = emptyErrors();
    for (const k of Object.keys(detail) as Array<keyof RpcErrorDetail>) {
      if (typeof d[k] === 'number') detail[k] = d[k] as number;
    }
    out.errorDetail = detail;
    if (typeof o.protocol !== 'string') throw new Error('rpc-load summary lacks "protocol"');
    return out as unknown as RpcLoadResult;
  }
  const snippet = stdout.trim().split('\n').slice(-3).join(' | ');
  throw new Error(`rpc-load printed no summary line: ${snippet || '(empty)'}`);
}

/** Splits a total concurrency over `connections` connections: per-connection in-flight counts. */
export function spreadInflight(total: number, connections: number): number[] {
  if (!Number.isInteger(total) || total < 1) throw new Error('total concurrency must be a positive integer');
  if (!Number.isInteger(connections) || connections < 1) throw new Error('connections must be a positive integer');
  const n = Math.min(total, connections);
  const base = Math.floor(total / n);
  const extra = total % n;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(base + (i < extra ? 1 : 0));
  return out;
}
