/**
 * Shared helpers for router tests: RouteConfig builders (the loader is not involved) and request
 * header maps. Must never: hold assertions of its own.
 */
import { HeaderMap } from '../../src/api/headers';
import type { RouteConfig, RouteMatchConfig } from '../../src/config/types';

let seq = 0;

export function route(match: RouteMatchConfig, extra: Partial<RouteConfig> = {}): RouteConfig {
  const r: RouteConfig = { name: extra.name ?? `r${seq++}`, match, timeout_ms: 15000, ...extra };
  if (r.cluster === undefined && !r.weighted_clusters && !r.direct_response && !r.redirect) r.cluster = 'c';
  return r;
}

/**
 * A request: `path` and `authority` become pseudo-headers (null leaves one out); `extra` adds
 * headers (arrays repeat).
 */
export function req(
  path: string | null,
  authority: string | null = 'example.com',
  extra: Record<string, string | string[]> = {},
  method = 'GET',
): HeaderMap {
  const h = new HeaderMap();
  h.add(':method', method);
  if (path !== null) h.add(':path', path);
  if (authority !== null) h.add(':authority', authority);
  h.add(':scheme', 'http');
  for (const k of Object.keys(extra)) {
    const v = extra[k];
    if (Array.isArray(v)) for (const x of v) h.add(k, x);
    else h.add(k, v);
  }
  return h;
}

/** An RPC-style request: no pseudo-headers, keys as plain headers. */
export function rpc(keys: Record<string, string>): HeaderMap {
  return HeaderMap.from(keys);
}
