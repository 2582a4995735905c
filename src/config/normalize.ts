/**
 * Turns the raw parsed document (plain JSON values) into the effective SwitchyardConfig: top-level
 * keys, listeners (limits, filters, routes via routes.ts) and clusters (endpoints, lb, pool
 * settings), defaults filled, names and addresses checked for uniqueness, protocol / lb / filter
 * names checked against the registries. Every problem goes into the Issues collector.
 * Must never: read files, load plugins (load.ts does, before this runs) or throw for bad input.
 */
import { isAbsolute, resolve } from 'node:path';
import type {
  AccessLogConfig,
  AdminConfig,
  Address,
  ClusterConfig,
  EndpointConfig,
  FilterConfig,
  LimitsConfig,
  ListenerConfig,
  SwitchyardConfig,
} from './types';
import { formatAddress } from './address';
import { Issues, indexPath, isPlainObject, readObject, typeName, type Reader } from './schema';
import { readRoutes } from './routes';
import { readOverload } from './overload';
import { RATE_LIMIT_KEYS, readRateLimit } from './resilience';
import { HEALTH_CHECK_KEYS, OUTLIER_DETECTION_KEYS, readHealthCheck, readOutlierDetection } from './health';
import { DEFAULT_MAX_FRAME_BYTES, MAX_FRAME_BYTES, MIN_FRAME_BYTES, RPC_KEYS, readRpc } from './rpc';
import { CLUSTER_HTTP2_KEYS, readClusterHttp2 } from './cluster-http2';
import { checkFilter, checkListenerProtocol, checkLoadBalancer, checkUpstreamProtocol } from './names';
import { HTTP2_KEYS, readHttp2 } from './http2';
import { CLUSTER_TLS_KEYS, LISTENER_TLS_KEYS, readClusterTls, readListenerTls } from './tls';

export const TOP_KEYS = ['admin', 'plugins', 'drain_timeout', 'access_log', 'log_level', 'overload', 'listeners', 'clusters'] as const;
export const LISTENER_KEYS = ['name', 'address', 'protocol', 'filters', 'routes', 'limits', 'rate_limit', 'http2', 'tls'] as const;
export const LIMITS_KEYS = ['max_connections', 'max_header_bytes', 'header_timeout', 'idle_timeout', 'max_buffer_bytes', 'max_frame_bytes'] as const;
export const CLUSTER_KEYS = [
  'name', 'protocol', 'lb', 'lb_config', 'hash_on', 'endpoints', 'connect_timeout', 'idle_timeout',
  'max_connections_per_endpoint', 'max_pending_requests', 'circuit_breakers', 'health_check', 'outlier_detection',
  'rpc', 'http2', 'tls',
] as const;
export const ENDPOINT_KEYS = ['address', 'weight', 'zone'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export const DEFAULTS = {
  adminAddress: { host: '127.0.0.1', port: 9901 } as Address,
  drainTimeoutMs: 10_000,
  accessLog: 'stdout',
  logLevel: 'info' as const,
  listenerProtocol: 'http',
  limits: {
    max_connections: 10_000,
    max_header_bytes: 65_536,
    header_timeout_ms: 10_000,
    idle_timeout_ms: 60_000,
    max_buffer_bytes: 1_048_576,
    max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
  } satisfies LimitsConfig,
  cluster: {
    protocol: 'http',
    lb: 'round_robin',
    connect_timeout_ms: 5_000,
    idle_timeout_ms: 60_000,
    max_connections_per_endpoint: 1024,
    max_pending_requests: 1024,
  },
};

export interface NormalizeOptions {
  source: string;
  baseDir: string;
  /** Absolute plugin paths, already read (and loaded) by load.ts. */
  plugins: string[];
}

function readAdmin(issues: Issues, r: Reader): AdminConfig | null {
  if (!r.has('admin')) return { address: { ...DEFAULTS.adminAddress } };
  const v = r.get('admin');
  if (v === null || v === false) return null;
  if (!isPlainObject(v)) {
    issues.add(r.at('admin'), `expected object, null or false, got ${typeName(v)}`);
    return null;
  }
  const a = readObject(issues, r.at('admin'), v, ['address', 'allowed_hosts'])!;
  const hosts: string[] = [];
  const list = a.array('allowed_hosts');
  list?.forEach((h, i) => {
    if (typeof h === 'string' && h.trim() !== '' && !/[\s/]/.test(h.trim())) hosts.push(h.trim());
    else issues.add(`${a.at('allowed_hosts')}[${i}]`, `expected a host name, got ${JSON.stringify(h)}`);
  });
  const address = a.address('address') ?? { ...DEFAULTS.adminAddress };
  return hosts.length > 0 ? { address, allowed_hosts: hosts } : { address };
}

function readAccessLog(issues: Issues, r: Reader, baseDir: string): AccessLogConfig | null {
  if (!r.has('access_log')) return { path: DEFAULTS.accessLog };
  let v = r.get('access_log');
  const at = r.at('access_log');
  if (v === null || v === false) return null;
  let pathAt = at;
  if (isPlainObject(v)) {
    const o = readObject(issues, at, v, ['path'])!;
    if (!o.require('path')) return null;
    v = o.get('path');
    pathAt = o.at('path');
  }
  if (typeof v !== 'string') {
    issues.add(pathAt, `expected false, "stdout", "stderr", a file path or { path }, got ${typeName(v)}`);
    return null;
  }
  if (v.trim() === '') {
    issues.add(pathAt, 'must not be empty');
    return null;
  }
  if (v === 'stdout' || v === 'stderr') return { path: v };
  return { path: isAbsolute(v) ? v : resolve(baseDir, v) };
}

function readLimits(r: Reader | undefined): LimitsConfig {
  const d = DEFAULTS.limits;
  if (!r) return { ...d };
  return {
    max_connections: r.int('max_connections', d.max_connections, { min: 1 }) ?? 0,
    max_header_bytes: r.int('max_header_bytes', d.max_header_bytes, { min: 1 }) ?? 0,
    header_timeout_ms: r.duration('header_timeout', d.header_timeout_ms) ?? 0,
    idle_timeout_ms: r.duration('idle_timeout', d.idle_timeout_ms) ?? 0,
    max_buffer_bytes: r.int('max_buffer_bytes', d.max_buffer_bytes, { min: 0 }) ?? 0,
    max_frame_bytes: r.int('max_frame_bytes', d.max_frame_bytes, { min: MIN_FRAME_BYTES, max: MAX_FRAME_BYTES }) ?? 0,
  };
}

function readFilters(issues: Issues, path: string, list: unknown[]): FilterConfig[] {
  const out: FilterConfig[] = [];
  list.forEach((item, i) => {
    const r = readObject(issues, indexPath(path, i), item, ['name', 'config']);
    if (!r) return;
    const name = r.string('name', { required: true, nonEmpty: true });
    if (name === undefined) return;
    checkFilter(issues, r.at('name'), name);
    if (name === 'router' && i !== list.length - 1) issues.add(r.at('name'), '"router" must be the last filter');
    out.push({ name, config: r.has('config') ? r.get('config') : {} });
  });
  return out;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/** Two bound addresses collide: same port (not 0) and same host, or either host is a wildcard. */
function collides(a: Address, b: Address): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  return a.host === b.host || WILDCARD_HOSTS.has(a.host) || WILDCARD_HOSTS.has(b.host);
}

function readListener(issues: Issues, path: string, raw: unknown, clusters: ReadonlySet<string>, baseDir: string): ListenerConfig | undefined {
  const r = readObject(issues, path, raw, LISTENER_KEYS, 'listener');
  if (!r) return undefined;
  const name = r.string('name', { required: true, nonEmpty: true }) ?? '';
  const address = r.address('address', { required: true }) ?? { host: '', port: 0 };
  const protocol = r.string('protocol', { nonEmpty: true }) ?? (r.has('protocol') ? '' : DEFAULTS.listenerProtocol);
  if (protocol !== '') checkListenerProtocol(issues, r.at('protocol'), protocol);
  const filters = readFilters(issues, r.at('filters'), r.array('filters') ?? []);
  const routeList = r.array('routes') ?? [];
  const routes = readRoutes({ issues, listenerName: name || path, clusters }, r.at('routes'), routeList);
  const limits = readLimits(r.object('limits', LIMITS_KEYS));
  const rl = r.object('rate_limit', RATE_LIMIT_KEYS);
  const listener: ListenerConfig = { name, address, protocol, filters, routes, limits };
  if (rl) listener.rate_limit = readRateLimit(issues, rl);
  const h2 = r.object('http2', HTTP2_KEYS);
  if (h2) listener.http2 = readHttp2(issues, h2, limits.max_header_bytes);
  const tls = r.object('tls', LISTENER_TLS_KEYS);
  if (tls) listener.tls = readListenerTls(issues, tls, protocol, baseDir);
  return listener;
}

function readEndpoints(issues: Issues, path: string, list: unknown[]): EndpointConfig[] {
  const out: EndpointConfig[] = [];
  list.forEach((item, i) => {
    const r = readObject(issues, indexPath(path, i), item, ENDPOINT_KEYS);
    if (!r) return;
    const address = r.address('address', { required: true });
    const weight = r.int('weight', 1, { min: 1 });
    const zone = r.string('zone', { nonEmpty: true });
    if (!address || weight === undefined) return;
    const ep: EndpointConfig = { address, weight };
    if (zone !== undefined) ep.zone = zone;
    out.push(ep);
  });
  return out;
}

/** `lb_config`, with the cluster-level `hash_on` (as DESIGN.md writes it) merged in. */
function readLbConfig(issues: Issues, r: Reader): Record<string, unknown> {
  const cfg = r.map('lb_config') ?? {};
  if (!r.has('hash_on')) return cfg;
  if (cfg.hash_on !== undefined) {
    issues.add(r.at('hash_on'), `give either this or ${r.at('lb_config')}.hash_on, not both`);
    return cfg;
  }
  return { ...cfg, hash_on: r.get('hash_on') };
}

function readCluster(issues: Issues, path: string, raw: unknown, baseDir: string): ClusterConfig | undefined {
  const r = readObject(issues, path, raw, CLUSTER_KEYS, 'cluster');
  if (!r) return undefined;
  const d = DEFAULTS.cluster;
  const name = r.string('name', { required: true, nonEmpty: true }) ?? '';
  const protocol = r.string('protocol', { nonEmpty: true }) ?? (r.has('protocol') ? '' : d.protocol);
  if (protocol !== '') checkUpstreamProtocol(issues, r.at('protocol'), protocol);
  const lb = r.string('lb', { nonEmpty: true }) ?? (r.has('lb') ? '' : d.lb);
  const lbConfig = readLbConfig(issues, r);
  if (lb !== '') checkLoadBalancer(issues, r.at('lb'), lb, lbConfig, r.at('lb_config'));
  const endpointList = r.array('endpoints', { required: true, nonEmpty: 'needs at least one endpoint' });
  const cluster: ClusterConfig = {
    name,
    protocol,
    lb,
    lb_config: lbConfig,
    endpoints: endpointList ? readEndpoints(issues, r.at('endpoints'), endpointList) : [],
    connect_timeout_ms: r.duration('connect_timeout', d.connect_timeout_ms) ?? 0,
    idle_timeout_ms: r.duration('idle_timeout', d.idle_timeout_ms) ?? 0,
    max_connections_per_endpoint:
      r.int('max_connections_per_endpoint', undefined, { min: 1 }) ??
      breakerInt(r, 'max_connections', 1) ??
      d.max_connections_per_endpoint,
    max_pending_requests: r.int('max_pending_requests', undefined, { min: 0 }) ?? breakerInt(r, 'max_pending_requests', 0) ?? d.max_pending_requests,
    circuit_breakers: readCircuitBreakers(issues, r),
  };
  const hc = r.object('health_check', HEALTH_CHECK_KEYS);
  if (hc) cluster.health_check = readHealthCheck(issues, hc, name, protocol);
  const od = r.object('outlier_detection', OUTLIER_DETECTION_KEYS);
  if (od) cluster.outlier_detection = readOutlierDetection(issues, od);
  const rpc = r.object('rpc', RPC_KEYS);
  if (rpc) cluster.rpc = readRpc(issues, rpc, protocol, r.at('rpc'));
  const h2 = r.object('http2', CLUSTER_HTTP2_KEYS);
  if (h2) cluster.http2 = readClusterHttp2(issues, h2, protocol, r.at('http2'));
  const tls = r.object('tls', CLUSTER_TLS_KEYS);
  if (tls) cluster.tls = readClusterTls(issues, tls, protocol, baseDir);
  return cluster;
}

function breakerInt(r: Reader, key: string, min: number): number | undefined {
  const cb = r.get('circuit_breakers');
  if (!isPlainObject(cb) || cb[key] === undefined) return undefined;
  const v = cb[key];
  return typeof v === 'number' && Number.isInteger(v) && v >= min ? v : undefined;
}

/**
 * `circuit_breakers`: cluster-wide limits on requests and retries in flight. Its
 * `max_connections` and `max_pending_requests` are the per-endpoint pool limits (the same as
 * the cluster's `max_connections_per_endpoint` and `max_pending_requests`; give one or the other).
 */
function readCircuitBreakers(issues: Issues, r: Reader): ClusterConfig['circuit_breakers'] {
  const out = { max_requests: 1024, max_retries: 3 };
  const cb = r.object('circuit_breakers', ['max_requests', 'max_retries', 'max_connections', 'max_pending_requests']);
  if (!cb) return out;
  out.max_requests = cb.int('max_requests', out.max_requests, { min: 1 }) ?? out.max_requests;
  out.max_retries = cb.int('max_retries', out.max_retries, { min: 0 }) ?? out.max_retries;
  for (const [k, top] of [['max_connections', 'max_connections_per_endpoint'], ['max_pending_requests', 'max_pending_requests']] as const) {
    if (cb.has(k) && r.has(top)) issues.add(cb.at(k), `give either ${r.at(top)} or this, not both`);
  }
  return out;
}

/** Names of clusters as written, read ahead so routes can be checked in document order. */
function clusterNames(raw: unknown): Set<string> {
  const names = new Set<string>();
  if (!Array.isArray(raw)) return names;
  for (const c of raw) if (isPlainObject(c) && typeof c.name === 'string' && c.name.trim() !== '') names.add(c.name);
  return names;
}

/**
 * Normalizes the root object (already known to be an object). Issues go to `issues`; the returned
 * config is meaningful only when no issue was recorded.
 */
export function normalize(issues: Issues, root: Record<string, unknown>, opts: NormalizeOptions): SwitchyardConfig {
  const r = readObject(issues, '', root, TOP_KEYS, 'top')!;
  const admin = readAdmin(issues, r);
  const drain_timeout_ms = r.duration('drain_timeout', DEFAULTS.drainTimeoutMs) ?? 0;
  const access_log = readAccessLog(issues, r, opts.baseDir);
  const log_level = r.oneOf('log_level', LOG_LEVELS, DEFAULTS.logLevel) ?? DEFAULTS.logLevel;

  const known = clusterNames(r.get('clusters'));
  const listeners: ListenerConfig[] = [];
  const listenerList = r.array('listeners', { required: true, nonEmpty: 'at least one listener is required' });
  const listenerNames = new Map<string, string>();
  const bound: Array<{ at: string; name: string; address: Address }> = [];
  (listenerList ?? []).forEach((raw, i) => {
    const at = indexPath('listeners', i);
    const l = readListener(issues, at, raw, known, opts.baseDir);
    if (!l) return;
    listeners.push(l);
    if (l.name !== '') {
      const first = listenerNames.get(l.name);
      if (first !== undefined) issues.add(`${at}.name`, `duplicate listener name "${l.name}" (also ${first})`);
      else listenerNames.set(l.name, at);
    }
    if (l.address.host !== '') {
      const clash = bound.find((b) => collides(b.address, l.address));
      if (clash) {
        issues.add(`${at}.address`, `${formatAddress(l.address)} conflicts with ${clash.at} ("${clash.name}") at ${formatAddress(clash.address)}`);
      } else bound.push({ at, name: l.name, address: l.address });
    }
  });
  if (admin) {
    const clash = bound.find((b) => collides(b.address, admin.address));
    if (clash) issues.add('admin.address', `${formatAddress(admin.address)} conflicts with ${clash.at} ("${clash.name}") at ${formatAddress(clash.address)}`);
  }

  const clusters: ClusterConfig[] = [];
  const clusterFirst = new Map<string, string>();
  (r.array('clusters') ?? []).forEach((raw, i) => {
    const at = indexPath('clusters', i);
    const c = readCluster(issues, at, raw, opts.baseDir);
    if (!c) return;
    clusters.push(c);
    if (c.name === '') return;
    const first = clusterFirst.get(c.name);
    if (first !== undefined) issues.add(`${at}.name`, `duplicate cluster name "${c.name}" (also ${first})`);
    else clusterFirst.set(c.name, at);
  });

  return {
    source: opts.source,
    base_dir: opts.baseDir,
    admin,
    plugins: opts.plugins,
    drain_timeout_ms,
    access_log,
    log_level,
    overload: readOverload(r),
    listeners,
    clusters,
  };
}
