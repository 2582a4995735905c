/**
 * Readers for a cluster's `health_check` and `outlier_detection` sections: defaults (Envoy's),
 * type-specific keys, and contradictions reported as errors with paths (a timeout not shorter
 * than the interval, thresholds below 1, percentages outside 0..100, a heartbeat check on a
 * protocol that is not an RPC codec, a key that belongs to another check type).
 * Must never: hold runtime behaviour (src/upstream/health and src/upstream/outlier do).
 */
import { registry } from '../api/registry';
import type { HealthCheckConfig, HealthCheckType, OutlierDetectionConfig } from './types';
import { indexPath, type Issues, type Reader } from './schema';
import { BUILTIN_UPSTREAM_PROTOCOLS } from './names';

export const HEALTH_CHECK_KEYS = [
  'type', 'path', 'expected_statuses', 'service_name', 'interval', 'timeout', 'jitter',
  'healthy_threshold', 'unhealthy_threshold', 'host',
] as const;

export const OUTLIER_DETECTION_KEYS = [
  'consecutive_5xx', 'consecutive_gateway_failure', 'interval', 'base_ejection_time', 'max_ejection_time',
  'max_ejection_percent', 'success_rate_minimum_hosts', 'success_rate_request_volume', 'success_rate_stdev_factor',
] as const;

export const HEALTH_CHECK_TYPES: readonly HealthCheckType[] = ['http', 'tcp', 'grpc', 'heartbeat'];

export const HEALTH_CHECK_DEFAULTS = {
  path: '/healthz',
  expected_statuses: [[200, 299]] as Array<[number, number]>,
  service_name: '',
  interval_ms: 5_000,
  timeout_ms: 1_000,
  jitter_ms: 0,
  healthy_threshold: 2,
  unhealthy_threshold: 2,
};

export const OUTLIER_DETECTION_DEFAULTS: OutlierDetectionConfig = {
  consecutive_5xx: 5,
  consecutive_gateway_failure: 5,
  interval_ms: 10_000,
  base_ejection_time_ms: 30_000,
  max_ejection_time_ms: 300_000,
  max_ejection_percent: 10,
  success_rate_minimum_hosts: 5,
  success_rate_request_volume: 100,
  success_rate_stdev_factor: 1900,
};

/** Keys that only mean something for one check type. */
const TYPE_ONLY: ReadonlyArray<[string, HealthCheckType]> = [
  ['path', 'http'],
  ['expected_statuses', 'http'],
  ['service_name', 'grpc'],
];

const RANGE = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/;

function readStatuses(issues: Issues, r: Reader): Array<[number, number]> {
  const list = r.array('expected_statuses', { nonEmpty: 'needs at least one status or range' });
  if (list === undefined) return HEALTH_CHECK_DEFAULTS.expected_statuses.map(([a, b]) => [a, b]);
  const out: Array<[number, number]> = [];
  list.forEach((v, i) => {
    const at = indexPath(r.at('expected_statuses'), i);
    let lo: number;
    let hi: number;
    if (typeof v === 'number' && Number.isInteger(v)) {
      lo = hi = v;
    } else if (typeof v === 'string' && RANGE.test(v)) {
      const m = RANGE.exec(v)!;
      lo = Number(m[1]);
      hi = m[2] === undefined ? lo : Number(m[2]);
    } else {
      issues.add(at, `expected a status (e.g. 200) or a range (e.g. "200-299"), got ${JSON.stringify(v)}`);
      return;
    }
    if (lo < 100 || hi > 599) return issues.add(at, `statuses must be between 100 and 599, got ${JSON.stringify(v)}`);
    if (lo > hi) return issues.add(at, `range start must not exceed its end, got ${JSON.stringify(v)}`);
    out.push([lo, hi]);
  });
  return out;
}

/** `health_check` of the cluster named `cluster` whose upstream protocol is `protocol`. */
export function readHealthCheck(issues: Issues, r: Reader, cluster: string, protocol: string): HealthCheckConfig {
  const d = HEALTH_CHECK_DEFAULTS;
  const type = r.has('type') ? r.oneOf('type', HEALTH_CHECK_TYPES, undefined) : (r.require('type'), undefined);
  for (const [key, only] of TYPE_ONLY) {
    if (type !== undefined && type !== only && r.has(key)) issues.add(r.at(key), `only applies to type "${only}" (this check is "${type}")`);
  }
  const knownProtocol = (BUILTIN_UPSTREAM_PROTOCOLS as readonly string[]).includes(protocol) || registry.codec(protocol) !== undefined;
  if (type === 'heartbeat' && knownProtocol && registry.rpcCodec(protocol) === undefined) {
    issues.add(r.at('type'), `"heartbeat" needs a cluster protocol that is an RPC codec (e.g. dubbo, bolt); "${protocol}" is not one`);
  }
  let path = r.string('path', { nonEmpty: true }) ?? d.path;
  if (!path.startsWith('/')) {
    issues.add(r.at('path'), `must start with "/", got ${JSON.stringify(path)}`);
    path = d.path;
  } else if (/[\s\u0000-\u001f\u007f]/.test(path)) {
    issues.add(r.at('path'), 'must not contain spaces or control characters');
  }
  const host = r.string('host', { nonEmpty: true }) ?? cluster;
  if (/[\s\u0000-\u001f\u007f]/.test(host)) issues.add(r.at('host'), 'must not contain spaces or control characters');
  const out: HealthCheckConfig = {
    type: type ?? 'tcp',
    path,
    expected_statuses: readStatuses(issues, r),
    service_name: r.string('service_name') ?? d.service_name,
    interval_ms: r.duration('interval', d.interval_ms) ?? d.interval_ms,
    timeout_ms: r.duration('timeout', d.timeout_ms) ?? d.timeout_ms,
    jitter_ms: r.duration('jitter', d.jitter_ms) ?? d.jitter_ms,
    healthy_threshold: r.int('healthy_threshold', d.healthy_threshold, { min: 1 }) ?? d.healthy_threshold,
    unhealthy_threshold: r.int('unhealthy_threshold', d.unhealthy_threshold, { min: 1 }) ?? d.unhealthy_threshold,
    host,
  };
  if (out.interval_ms <= 0) issues.add(r.at('interval'), 'must be greater than 0');
  if (out.timeout_ms <= 0) issues.add(r.at('timeout'), 'must be greater than 0');
  else if (out.interval_ms > 0 && out.timeout_ms >= out.interval_ms) {
    issues.add(r.at('timeout'), `must be shorter than the interval (${out.interval_ms} ms)`);
  }
  return out;
}

export function readOutlierDetection(issues: Issues, r: Reader): OutlierDetectionConfig {
  const d = OUTLIER_DETECTION_DEFAULTS;
  const int = (key: keyof OutlierDetectionConfig & string, min: number, max?: number): number =>
    r.int(key, d[key], max === undefined ? { min } : { min, max }) ?? d[key];
  const out: OutlierDetectionConfig = {
    consecutive_5xx: int('consecutive_5xx', 1),
    consecutive_gateway_failure: int('consecutive_gateway_failure', 1),
    interval_ms: r.duration('interval', d.interval_ms) ?? d.interval_ms,
    base_ejection_time_ms: r.duration('base_ejection_time', d.base_ejection_time_ms) ?? d.base_ejection_time_ms,
    max_ejection_time_ms: 0,
    max_ejection_percent: d.max_ejection_percent,
    success_rate_minimum_hosts: int('success_rate_minimum_hosts', 1),
    success_rate_request_volume: int('success_rate_request_volume', 1),
    success_rate_stdev_factor: int('success_rate_stdev_factor', 0),
  };
  const pct = r.get('max_ejection_percent');
  if (pct !== undefined) {
    if (typeof pct !== 'number' || !Number.isFinite(pct) || pct < 0 || pct > 100) {
      issues.add(r.at('max_ejection_percent'), `expected a percentage between 0 and 100, got ${JSON.stringify(pct)}`);
    } else out.max_ejection_percent = pct;
  }
  if (out.interval_ms <= 0) issues.add(r.at('interval'), 'must be greater than 0');
  if (out.base_ejection_time_ms <= 0) issues.add(r.at('base_ejection_time'), 'must be greater than 0');
  out.max_ejection_time_ms = r.duration('max_ejection_time', Math.max(d.max_ejection_time_ms, out.base_ejection_time_ms)) ?? out.base_ejection_time_ms;
  if (out.max_ejection_time_ms < out.base_ejection_time_ms) {
    issues.add(r.at('max_ejection_time'), `must not be less than base_ejection_time (${out.base_ejection_time_ms} ms)`);
  }
  return out;
}
