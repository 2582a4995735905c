/**
 * Readers for a route's resilience sections: `retry` (conditions, per-try timeout, backoff,
 * budget) and `hedge`. Contradictions (a per-try timeout not shorter than the route timeout, a
 * hedge without a retry policy to bound it) are errors with paths.
 * Must never: hold runtime behaviour (src/proxy/retry-policy.ts does).
 */
import type { FaultConfig, HedgeConfig, MirrorConfig, RateLimitConfig, RateLimitKey, RetryCondition, RetryConfig } from './types';
import type { Issues, Reader } from './schema';

export const RETRY_KEYS = [
  'attempts', 'on', 'retriable_status_codes', 'per_try_timeout', 'backoff', 'budget', 'max_replay_bytes',
] as const;
export const HEDGE_KEYS = ['delay', 'on_per_try_timeout', 'max_in_flight'] as const;

export const RETRY_CONDITIONS: readonly RetryCondition[] = [
  'connect-failure', 'reset', 'refused-stream', '5xx', 'gateway-error', 'retriable-status-codes',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
];

export const RETRY_DEFAULTS = {
  attempts: 1,
  on: ['connect-failure', 'reset', 'refused-stream'] as RetryCondition[],
  backoff: { base_ms: 25, max_ms: 250 },
  budget: { percent: 20, min_per_second: 10 },
  max_replay_bytes: 64 * 1024,
};

export function readRetry(issues: Issues, r: Reader, routeTimeoutMs: number): RetryConfig {
  const out: RetryConfig = {
    attempts: r.int('attempts', RETRY_DEFAULTS.attempts, { min: 0, max: 10 }) ?? RETRY_DEFAULTS.attempts,
    on: [...RETRY_DEFAULTS.on],
    retriable_status_codes: [],
    per_try_timeout_ms: r.duration('per_try_timeout', 0) ?? 0,
    backoff: { ...RETRY_DEFAULTS.backoff },
    budget: { ...RETRY_DEFAULTS.budget },
    max_replay_bytes: r.int('max_replay_bytes', RETRY_DEFAULTS.max_replay_bytes, { min: 0 }) ?? RETRY_DEFAULTS.max_replay_bytes,
  };
  const on = r.array('on', { nonEmpty: 'needs at least one condition' });
  if (on) {
    const conds: RetryCondition[] = [];
    on.forEach((c, i) => {
      if (typeof c === 'string' && (RETRY_CONDITIONS as readonly string[]).includes(c)) conds.push(c as RetryCondition);
      else issues.add(`${r.at('on')}[${i}]`, `unknown retry condition ${JSON.stringify(c)} (known: ${RETRY_CONDITIONS.join(', ')})`);
    });
    out.on = conds;
  }
  const codes = r.array('retriable_status_codes');
  if (codes) {
    codes.forEach((c, i) => {
      if (typeof c === 'number' && Number.isInteger(c) && c >= 100 && c <= 599) out.retriable_status_codes.push(c);
      else issues.add(`${r.at('retriable_status_codes')}[${i}]`, `expected an HTTP status 100-599, got ${JSON.stringify(c)}`);
    });
    if (!out.on.includes('retriable-status-codes')) out.on.push('retriable-status-codes');
  }
  if (out.per_try_timeout_ms > 0 && routeTimeoutMs > 0 && out.per_try_timeout_ms >= routeTimeoutMs) {
    issues.add(r.at('per_try_timeout'), `must be shorter than the route timeout (${routeTimeoutMs} ms)`);
  }
  const b = r.object('backoff', ['base', 'max']);
  if (b) {
    out.backoff.base_ms = b.duration('base', RETRY_DEFAULTS.backoff.base_ms) ?? RETRY_DEFAULTS.backoff.base_ms;
    out.backoff.max_ms = b.duration('max', Math.max(out.backoff.base_ms * 10, RETRY_DEFAULTS.backoff.max_ms)) ?? out.backoff.base_ms;
    if (out.backoff.max_ms < out.backoff.base_ms) issues.add(b.at('max'), 'must not be less than backoff.base');
  }
  const budget = r.object('budget', ['percent', 'min_per_second']);
  if (budget) {
    out.budget.percent = budget.int('percent', RETRY_DEFAULTS.budget.percent, { min: 0, max: 1000 }) ?? RETRY_DEFAULTS.budget.percent;
    out.budget.min_per_second =
      budget.int('min_per_second', RETRY_DEFAULTS.budget.min_per_second, { min: 0 }) ?? RETRY_DEFAULTS.budget.min_per_second;
  }
  return out;
}

export function readHedge(issues: Issues, r: Reader, retry: RetryConfig | undefined): HedgeConfig {
  const out: HedgeConfig = {
    delay_ms: r.duration('delay', 0) ?? 0,
    on_per_try_timeout: r.boolean('on_per_try_timeout', false) ?? false,
    max_in_flight: r.int('max_in_flight', 2, { min: 2, max: 10 }) ?? 2,
  };
  if (out.delay_ms === 0 && !out.on_per_try_timeout) issues.add(r.path, 'needs a delay or on_per_try_timeout: true');
  if (out.on_per_try_timeout && (retry === undefined || retry.per_try_timeout_ms === 0)) {
    issues.add(r.at('on_per_try_timeout'), 'needs retry.per_try_timeout');
  }
  return out;
}

export const RATE_LIMIT_KEYS = ['tokens_per_second', 'burst', 'key'] as const;
export const FAULT_KEYS = ['delay', 'abort'] as const;
export const MIRROR_KEYS = ['cluster', 'percent'] as const;

function readPercent(r: Reader, key: string): number {
  const v = r.get(key);
  if (v === undefined) {
    r.require(key);
    return 0;
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) {
    r.issues.add(r.at(key), `expected a percentage between 0 and 100, got ${JSON.stringify(v)}`);
    return 0;
  }
  return v;
}

/** `key:` of a rate limit or hash: `{ header: name }`, `{ source_ip: true }` or `{ key: name }` (an RPC key). */
export function readKeySource(issues: Issues, r: Reader, key: string): RateLimitKey | null {
  const k = r.object(key, ['header', 'source_ip', 'key']);
  if (!k) return null;
  const given = ['header', 'source_ip', 'key'].filter((x) => k.has(x));
  if (given.length !== 1) {
    issues.add(k.path, 'needs exactly one of header, source_ip, key');
    return null;
  }
  if (k.has('source_ip')) {
    if (k.boolean('source_ip', false) !== true) issues.add(k.at('source_ip'), 'must be true');
    return { kind: 'source_ip' };
  }
  const name = k.string(given[0], { nonEmpty: true });
  return name === undefined ? null : { kind: 'header', name: name.toLowerCase() };
}

export function readRateLimit(issues: Issues, r: Reader): RateLimitConfig {
  const tps = r.get('tokens_per_second');
  let tokens = 0;
  if (typeof tps !== 'number' || !Number.isFinite(tps) || tps <= 0) {
    issues.add(r.at('tokens_per_second'), tps === undefined ? 'required' : `expected a positive number, got ${JSON.stringify(tps)}`);
  } else tokens = tps;
  const burst = r.int('burst', Math.max(1, Math.ceil(tokens)), { min: 1 }) ?? 1;
  return { tokens_per_second: tokens, burst, key: readKeySource(issues, r, 'key') };
}

export function readFault(issues: Issues, r: Reader): FaultConfig {
  const out: FaultConfig = {};
  const d = r.object('delay', ['percent', 'duration']);
  if (d) out.delay = { percent: readPercent(d, 'percent'), duration_ms: d.duration('duration', undefined, { required: true }) ?? 0 };
  const a = r.object('abort', ['percent', 'status', 'grpc_status']);
  if (a) {
    out.abort = {
      percent: readPercent(a, 'percent'),
      status: a.int('status', 503, { min: 200, max: 599 }) ?? 503,
    };
    const g = a.int('grpc_status', undefined, { min: 0, max: 16 });
    if (g !== undefined) out.abort.grpc_status = g;
  }
  if (!d && !a) issues.add(r.path, 'needs delay or abort');
  return out;
}

export function readMirror(issues: Issues, r: Reader, clusters: ReadonlySet<string>): MirrorConfig {
  const cluster = r.string('cluster', { required: true, nonEmpty: true }) ?? '';
  if (cluster !== '' && !clusters.has(cluster)) issues.add(r.at('cluster'), `unknown cluster "${cluster}"`);
  const percent = r.has('percent') ? readPercent(r, 'percent') : 100;
  return { cluster, percent };
}
