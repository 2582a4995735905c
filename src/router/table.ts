/**
 * RouteTable: the routes of one listener compiled once per config; match() returns the first
 * route, in config order, whose connection (sni, peer_san), host, path, header/RPC-key and query
 * checks all pass.
 * Must never: allocate per match beyond the unavoidable (query parse, regex path slice), parse
 * the query when no route has query matchers, or parse it more than once per match() call.
 */
import type { HeaderMap } from '../api/headers';
import { FrameHeaderMap } from '../api/rpc';
import type { RouteConfig } from '../config/types';
import { compileRoute, type CompiledRoute } from './route';
import {
  compileMatch,
  hostEnd,
  hostEquals,
  hostHasSuffix,
  matchConn,
  matchFlat,
  matchValue,
  parseQuery,
  tripleKeys,
  HOST_ANY,
  HOST_EXACT,
  type CompiledMatch,
  type ConnMatchInfo,
} from './match';

export interface RouteTable {
  /** Compiled routes in config order. */
  readonly routes: readonly CompiledRoute[];
  /** True when some route has query matchers (only then is the query parsed). */
  readonly usesQuery: boolean;
  /** `conn`: the downstream connection's TLS identity, for routes matching on sni / peer_san. */
  match(headers: HeaderMap, conn?: ConnMatchInfo): CompiledRoute | null;
}

export interface RouteTableOptions {
  /** Random source in [0,1) for weighted clusters; Math.random by default. */
  random?: () => number;
}

const NO_QUERY: readonly string[] = Object.freeze([]);

interface Entry {
  readonly m: CompiledMatch;
  readonly route: CompiledRoute;
}

class Table implements RouteTable {
  readonly routes: readonly CompiledRoute[];
  readonly usesQuery: boolean;
  private readonly entries: readonly Entry[];
  private readonly needHost: boolean;
  private readonly needPath: boolean;
  private readonly needConn: boolean;

  constructor(routes: readonly RouteConfig[], random: () => number) {
    const entries: Entry[] = [];
    for (const r of routes) entries.push({ m: compileMatch(r.match), route: compileRoute(r, random) });
    this.entries = entries;
    this.routes = Object.freeze(entries.map((e) => e.route));
    this.needHost = entries.some((e) => e.m.hostKind !== HOST_ANY);
    this.usesQuery = entries.some((e) => e.m.query !== null);
    this.needPath = this.usesQuery || entries.some((e) => e.m.hasPath);
    this.needConn = entries.some((e) => e.m.sniKind !== HOST_ANY || e.m.peerSan !== null);
  }

  match(headers: HeaderMap, conn?: ConnMatchInfo): CompiledRoute | null {
    const entries = this.entries;
    const n = entries.length;
    if (n === 0) return null;

    let authority: string | undefined;
    let hEnd = 0;
    if (this.needHost) {
      authority = headers.get(':authority') ?? headers.get('host');
      if (authority !== undefined) hEnd = hostEnd(authority);
    }
    let path: string | undefined;
    let pEnd = 0;
    if (this.needPath) {
      path = headers.get(':path');
      if (path !== undefined) {
        const q = path.indexOf('?');
        pEnd = q < 0 ? path.length : q;
      }
    }
    let pathOnly: string | undefined; // sliced once, only for a regex on a path with a query
    let query: readonly string[] | undefined; // parsed once, only when a query matcher runs
    let raw: readonly string[] | undefined;
    let rpc: readonly string[] | undefined; // the request's RPC keys: its headers, or derived for Triple
    const frame = headers instanceof FrameHeaderMap;

    outer: for (let i = 0; i < n; i++) {
      const m = entries[i].m;

      if (this.needConn && !matchConn(m, conn)) continue;

      if (m.hostKind !== HOST_ANY) {
        if (authority === undefined) continue;
        if (m.hostKind === HOST_EXACT ? !hostEquals(authority, hEnd, m.host) : !hostHasSuffix(authority, hEnd, m.host)) {
          continue;
        }
      }

      if (m.hasPath) {
        if (path === undefined) continue;
        const prefix = m.prefix;
        if (prefix !== null && (prefix.length > pEnd || !path.startsWith(prefix))) continue;
        const exact = m.exact;
        if (exact !== null && (exact.length !== pEnd || !path.startsWith(exact))) continue;
        if (m.regex !== null) {
          if (pathOnly === undefined) pathOnly = pEnd === path.length ? path : path.slice(0, pEnd);
          if (!m.regex.test(pathOnly)) continue;
        }
      }

      const rk = m.rpcKeys;
      if (rk !== null && frame) {
        // An RPC frame's view answers its routing keys without decoding the attachments.
        for (let j = 0; j < rk.length; j++) {
          const v = headers.get(rk[j].name);
          if (v === undefined || !matchValue(v, rk[j])) continue outer;
        }
      } else if (rk !== null) {
        if (rpc === undefined) {
          if (raw === undefined) raw = headers.raw();
          rpc = tripleKeys(raw) ?? raw;
        }
        for (let j = 0; j < rk.length; j++) if (!matchFlat(rpc, rk[j])) continue outer;
      }

      const hm = m.headers;
      if (hm !== null) {
        if (raw === undefined) raw = headers.raw();
        for (let j = 0; j < hm.length; j++) if (!matchFlat(raw, hm[j])) continue outer;
      }

      const qm = m.query;
      if (qm !== null) {
        if (query === undefined) query = path === undefined || pEnd === path.length ? NO_QUERY : parseQuery(path, pEnd);
        for (let j = 0; j < qm.length; j++) if (!matchFlat(query, qm[j])) continue outer;
      }

      return entries[i].route;
    }
    return null;
  }
}

/**
 * Compiles the routes of one listener (already validated by the config loader). Throws only on
 * a route with no action, which the loader rejects first.
 */
export function compileRouteTable(routes: readonly RouteConfig[], opts?: RouteTableOptions): RouteTable {
  return new Table(routes, opts?.random ?? Math.random);
}
