/**
 * Reads one listener's `routes:` list: match conditions (host, path, headers, query, RPC keys),
 * the single action of each route (cluster, weighted_clusters, direct_response, redirect),
 * rewrites and timeout; checks that referenced clusters exist and route names are unique.
 * Must never: compile route tables or decide matching order (src/router/ does).
 */
import type {
  DirectResponseConfig,
  RedirectConfig,
  RouteConfig,
  RouteMatchConfig,
  StringMatch,
  WeightedCluster,
} from './types';
import {
  Issues,
  checkInt,
  checkString,
  indexPath,
  isPlainObject,
  keyPath,
  readObject,
  typeName,
  type Reader,
} from './schema';
import {
  FAULT_KEYS,
  HEDGE_KEYS,
  MIRROR_KEYS,
  RATE_LIMIT_KEYS,
  readFault,
  readHedge,
  readMirror,
  readRateLimit,
  readRetry,
  RETRY_KEYS,
} from './resilience';
import { readServerName } from './tls';

export const ROUTE_KEYS = [
  'name', 'match', 'cluster', 'weighted_clusters', 'direct_response', 'redirect',
  'prefix_rewrite', 'host_rewrite', 'timeout', 'retry', 'hedge', 'rate_limit', 'fault', 'mirror',
] as const;
export const MATCH_KEYS = [
  'host', 'prefix', 'path', 'regex', 'headers', 'query', 'service', 'method', 'version', 'group', 'grpc', 'sni', 'peer_san',
] as const;
const STRING_MATCH_KEYS = ['exact', 'prefix', 'regex', 'present', 'absent'] as const;
const ACTIONS = ['cluster', 'weighted_clusters', 'direct_response', 'redirect'] as const;
export const REDIRECT_STATUSES = [301, 302, 303, 307, 308] as const;
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

export interface RouteContext {
  issues: Issues;
  listenerName: string;
  /** Names of every cluster in the config (for cross-reference checks). */
  clusters: ReadonlySet<string>;
}

function compileRegex(issues: Issues, path: string, v: unknown): RegExp | undefined {
  const src = checkString(issues, path, v, true);
  if (src === undefined) return undefined;
  try {
    return new RegExp(src);
  } catch (e) {
    issues.add(path, `invalid regex: ${(e as Error).message}`);
    return undefined;
  }
}

function readStringMatch(issues: Issues, path: string, v: unknown): StringMatch | undefined {
  if (typeof v === 'string') return { kind: 'exact', value: v };
  if (typeof v === 'number') return { kind: 'exact', value: String(v) };
  if (!isPlainObject(v)) {
    issues.add(path, `expected string or object with one of ${STRING_MATCH_KEYS.join(', ')}, got ${typeName(v)}`);
    return undefined;
  }
  const r = readObject(issues, path, v, STRING_MATCH_KEYS)!;
  const given = STRING_MATCH_KEYS.filter((k) => r.has(k));
  if (given.length !== 1) {
    // With no known key but some unknown ones, the unknown-key issue already says it all.
    if (given.length === 0 && Object.keys(v).length > 0) return undefined;
    issues.add(path, given.length === 0
      ? `needs one of ${STRING_MATCH_KEYS.join(', ')}`
      : `use only one of ${given.join(', ')}`);
    return undefined;
  }
  const kind = given[0];
  const at = r.at(kind);
  switch (kind) {
    case 'exact':
    case 'prefix': {
      const value = checkString(issues, at, r.get(kind));
      return value === undefined ? undefined : { kind, value };
    }
    case 'regex': {
      const value = compileRegex(issues, at, r.get(kind));
      return value === undefined ? undefined : { kind, value };
    }
    default: {
      if (r.get(kind) !== true) {
        issues.add(at, kind === 'present' ? 'must be true (use absent: true to require absence)' : 'must be true (use present: true to require presence)');
        return undefined;
      }
      return { kind };
    }
  }
}

function readMatchMap(
  issues: Issues,
  path: string,
  v: unknown,
  lowerNames: boolean,
): Array<{ name: string; match: StringMatch }> | undefined {
  if (!isPlainObject(v)) {
    issues.add(path, `expected object (name: match), got ${typeName(v)}`);
    return undefined;
  }
  const out: Array<{ name: string; match: StringMatch }> = [];
  const seen = new Set<string>();
  for (const [key, value] of Object.entries(v)) {
    const at = keyPath(path, key);
    const name = lowerNames ? key.toLowerCase() : key;
    if (name === '') {
      issues.add(at, 'name must not be empty');
      continue;
    }
    if (seen.has(name)) {
      issues.add(at, `duplicate name "${name}"`);
      continue;
    }
    seen.add(name);
    const match = readStringMatch(issues, at, value);
    if (match) out.push({ name, match });
  }
  return out;
}

const HOST = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/;

function readHost(issues: Issues, path: string, v: unknown): string | undefined {
  const s = checkString(issues, path, v, true);
  if (s === undefined) return undefined;
  const host = s.trim().toLowerCase();
  if (host === '*') return host;
  const bare = host.startsWith('*.') ? host.slice(2) : host;
  if (bare.includes('*')) {
    issues.add(path, `invalid host "${s}": a wildcard is allowed only as "*" or a leading "*." (e.g. "*.example.com")`);
    return undefined;
  }
  if (/^\[[0-9a-f:.]+\]$/.test(bare) && !host.startsWith('*.')) return host;
  if (bare.includes(':')) {
    issues.add(path, `invalid host "${s}": leave the port out (ports are ignored when matching hosts)`);
    return undefined;
  }
  if (!HOST.test(bare)) {
    issues.add(path, `invalid host "${s}": expected a host name, "*.suffix" or "*"`);
    return undefined;
  }
  return host;
}

function readPathString(issues: Issues, path: string, v: unknown): string | undefined {
  const s = checkString(issues, path, v, true);
  if (s === undefined) return undefined;
  if (!s.startsWith('/')) {
    issues.add(path, `must start with "/", got ${JSON.stringify(s)}`);
    return undefined;
  }
  return s;
}

function readMatch(issues: Issues, r: Reader | undefined): RouteMatchConfig {
  const m: RouteMatchConfig = {};
  if (!r) return m;
  if (r.has('host')) {
    const host = readHost(issues, r.at('host'), r.get('host'));
    if (host !== undefined) m.host = host;
  }
  const paths = (['prefix', 'path', 'regex'] as const).filter((k) => r.has(k));
  if (paths.length > 1) issues.add(r.path, `use only one of ${paths.join(', ')}`);
  if (r.has('prefix')) {
    const v = readPathString(issues, r.at('prefix'), r.get('prefix'));
    if (v !== undefined) m.prefix = v;
  }
  if (r.has('path')) {
    const v = readPathString(issues, r.at('path'), r.get('path'));
    if (v !== undefined) m.path = v;
  }
  if (r.has('regex')) {
    const v = compileRegex(issues, r.at('regex'), r.get('regex'));
    if (v !== undefined) m.regex = v;
  }
  if (r.has('headers')) {
    const v = readMatchMap(issues, r.at('headers'), r.get('headers'), true);
    if (v) m.headers = v;
  }
  if (r.has('query')) {
    const v = readMatchMap(issues, r.at('query'), r.get('query'), false);
    if (v) m.query = v;
  }
  for (const k of ['service', 'method', 'version', 'group'] as const) {
    const v = r.string(k, { nonEmpty: true });
    if (v !== undefined) m[k] = v;
  }
  if (r.has('grpc')) readGrpcMatch(issues, r, paths.length > 0, m);
  if (r.has('sni')) {
    const v = readServerName(issues, r.at('sni'), r.get('sni'), true);
    if (v !== undefined) m.sni = v;
  }
  const san = r.string('peer_san', { nonEmpty: true });
  if (san !== undefined) m.peer_san = san;
  return m;
}

const GRPC_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/**
 * `grpc: { service, method }` is sugar for the gRPC path (`/pkg.Service/Method`) plus a
 * `content-type: application/grpc*` header match.
 */
function readGrpcMatch(issues: Issues, r: Reader, hasPath: boolean, m: RouteMatchConfig): void {
  const g = r.object('grpc', ['service', 'method']);
  if (!g) return;
  if (hasPath) issues.add(r.at('grpc'), 'use grpc or prefix/path/regex, not both');
  const service = g.string('service', { nonEmpty: true });
  const method = g.string('method', { nonEmpty: true });
  if (service !== undefined && !GRPC_NAME.test(service)) issues.add(g.at('service'), `not a gRPC service name: ${JSON.stringify(service)}`);
  if (method !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(method)) issues.add(g.at('method'), `not a gRPC method name: ${JSON.stringify(method)}`);
  if (service !== undefined && method !== undefined) m.path = `/${service}/${method}`;
  else if (service !== undefined) m.prefix = `/${service}/`;
  else if (method !== undefined) m.regex = new RegExp(`^/[^/]+/${method}$`);
  const ct = { name: 'content-type', match: { kind: 'prefix' as const, value: 'application/grpc' } };
  m.headers = m.headers ? [...m.headers, ct] : [ct];
}

function readWeighted(ctx: RouteContext, path: string, list: unknown[]): WeightedCluster[] {
  const out: WeightedCluster[] = [];
  const seen = new Set<string>();
  list.forEach((item, i) => {
    const r = readObject(ctx.issues, indexPath(path, i), item, ['cluster', 'weight']);
    if (!r) return;
    const cluster = r.string('cluster', { required: true, nonEmpty: true });
    const weight = r.int('weight', 1, { min: 1 });
    if (cluster !== undefined) {
      if (!ctx.clusters.has(cluster)) ctx.issues.add(r.at('cluster'), `unknown cluster "${cluster}"`);
      else if (seen.has(cluster)) ctx.issues.add(r.at('cluster'), `cluster "${cluster}" is listed twice`);
      seen.add(cluster);
    }
    if (cluster !== undefined && weight !== undefined) out.push({ cluster, weight });
  });
  return out;
}

function readDirectResponse(issues: Issues, r: Reader): DirectResponseConfig {
  const status = r.int('status', undefined, { required: true, min: 100, max: 599 }) ?? 200;
  const body = r.string('body') ?? '';
  const headers: Array<[string, string]> = [];
  const map = r.map('headers');
  if (map) {
    for (const [name, value] of Object.entries(map)) {
      const at = keyPath(r.at('headers'), name);
      if (typeof value === 'string' || typeof value === 'number') headers.push([name.toLowerCase(), String(value)]);
      else issues.add(at, `expected string, got ${typeName(value)}`);
    }
  }
  return { status, body, headers };
}

function readRedirect(issues: Issues, r: Reader, hasPrefixMatch: boolean): RedirectConfig {
  const out: RedirectConfig = { status: r.oneOf('status', REDIRECT_STATUSES, 301) ?? 301 };
  const scheme = r.string('scheme', { nonEmpty: true });
  if (scheme !== undefined) {
    if (/^[a-z][a-z0-9+.-]*$/i.test(scheme)) out.scheme = scheme.toLowerCase();
    else issues.add(r.at('scheme'), `invalid scheme "${scheme}"`);
  }
  const host = r.string('host', { nonEmpty: true });
  if (host !== undefined) out.host = host;
  if (r.has('path')) {
    const p = readPathString(issues, r.at('path'), r.get('path'));
    if (p !== undefined) out.path = p;
  }
  const rewrite = r.string('prefix_rewrite');
  if (rewrite !== undefined) {
    if (!hasPrefixMatch) issues.add(r.at('prefix_rewrite'), 'needs a prefix match (match.prefix)');
    out.prefix_rewrite = rewrite;
  }
  if (r.has('path') && r.has('prefix_rewrite')) issues.add(r.path, 'use only one of path, prefix_rewrite');
  if (!['scheme', 'host', 'path', 'prefix_rewrite'].some((k) => r.has(k))) {
    issues.add(r.path, 'needs at least one of scheme, host, path, prefix_rewrite (otherwise it redirects to itself)');
  }
  return out;
}

function readRoute(ctx: RouteContext, path: string, raw: unknown, index: number): RouteConfig | undefined {
  const { issues } = ctx;
  const r = readObject(issues, path, raw, ROUTE_KEYS, 'route');
  if (!r) return undefined;
  const name = r.string('name', { nonEmpty: true }) ?? `${ctx.listenerName}/${index}`;
  const matchReader = r.object('match', MATCH_KEYS);
  const match = readMatch(issues, matchReader);
  const hasPrefix = matchReader?.has('prefix') ?? false;
  const route: RouteConfig = { name, match, timeout_ms: r.duration('timeout', DEFAULT_ROUTE_TIMEOUT_MS) ?? 0 };

  const actions = ACTIONS.filter((k) => r.has(k));
  if (actions.length === 0) {
    issues.add(path, `needs one action: ${ACTIONS.join(', ')}`);
  } else if (actions.length > 1) {
    issues.add(path, `has more than one action (${actions.join(', ')}); choose one`);
  }
  const cluster = r.string('cluster', { nonEmpty: true });
  if (cluster !== undefined) {
    if (!ctx.clusters.has(cluster)) issues.add(r.at('cluster'), `unknown cluster "${cluster}"`);
    route.cluster = cluster;
  }
  const weighted = r.array('weighted_clusters', { nonEmpty: 'needs at least one cluster' });
  if (weighted) route.weighted_clusters = readWeighted(ctx, r.at('weighted_clusters'), weighted);
  const direct = r.object('direct_response', ['status', 'body', 'headers']);
  if (direct) route.direct_response = readDirectResponse(issues, direct);
  const redirect = r.object('redirect', ['scheme', 'host', 'path', 'prefix_rewrite', 'status']);
  if (redirect) route.redirect = readRedirect(issues, redirect, hasPrefix);

  const prefixRewrite = r.string('prefix_rewrite');
  if (prefixRewrite !== undefined) {
    if (!hasPrefix) {
      issues.add(r.at('prefix_rewrite'), 'needs a prefix match (match.prefix)');
    }
    route.prefix_rewrite = prefixRewrite;
  }
  const hostRewrite = r.string('host_rewrite', { nonEmpty: true });
  if (hostRewrite !== undefined) route.host_rewrite = hostRewrite;
  const retry = r.object('retry', RETRY_KEYS);
  if (retry) route.retry = readRetry(issues, retry, route.timeout_ms);
  const hedge = r.object('hedge', HEDGE_KEYS);
  if (hedge) route.hedge = readHedge(issues, hedge, route.retry);
  const rl = r.object('rate_limit', RATE_LIMIT_KEYS);
  if (rl) route.rate_limit = readRateLimit(issues, rl);
  const fault = r.object('fault', FAULT_KEYS);
  if (fault) route.fault = readFault(issues, fault);
  const mirror = r.object('mirror', MIRROR_KEYS);
  if (mirror) route.mirror = readMirror(issues, mirror, ctx.clusters);
  return route;
}

/** Reads a listener's routes; generated names are `<listener>/<index>`. */
export function readRoutes(ctx: RouteContext, path: string, list: unknown[]): RouteConfig[] {
  const out: RouteConfig[] = [];
  const names = new Map<string, string>();
  list.forEach((raw, i) => {
    const at = indexPath(path, i);
    const route = readRoute(ctx, at, raw, i);
    if (!route) return;
    const first = names.get(route.name);
    if (first !== undefined) ctx.issues.add(keyPath(at, 'name'), `duplicate route name "${route.name}" (also ${first})`);
    else names.set(route.name, at);
    out.push(route);
  });
  return out;
}
