/**
 * CompiledRoute: what a matched route tells the router to do — its action, the cluster to send to
 * (weighted picks through an injected random), timeout, path/host rewrites, a prebuilt direct
 * response, and the Location of a redirect.
 * Must never: match requests (table.ts does), mutate the request, or share mutable state with a
 * caller (the prebuilt direct-response headers are frozen; the body Buffer must not be written).
 */
import type { HeaderMap } from '../api/headers';
import type { RouteConfig } from '../config/types';

export type RouteAction = 'cluster' | 'weighted' | 'direct' | 'redirect';

export interface DirectResponse {
  readonly status: number;
  readonly body: Buffer;
  /** Flat, frozen name/value pairs (names lower-case): `new HeaderMap(headers.slice())`. */
  readonly headers: readonly string[];
}

export interface RedirectResult {
  status: number;
  location: string;
}

export interface CompiledRoute {
  readonly name: string;
  readonly config: RouteConfig;
  readonly action: RouteAction;
  /** Every cluster this route may pick (empty for direct responses and redirects). */
  readonly clusters: readonly string[];
  /** The cluster for this request: constant for `cluster`, weighted pick, null otherwise. */
  pickCluster(): string | null;
  /** 0 disables the timeout. */
  readonly timeoutMs: number;
  /** Applies prefix_rewrite to a full `:path` (query kept); returns `path` itself when none. */
  rewritePath(path: string): string;
  readonly hostRewrite?: string;
  /** Location of a redirect route; `scheme` is the request's (`http`, `https`). */
  buildRedirect(headers: HeaderMap, scheme: string): RedirectResult;
  readonly directResponse?: DirectResponse;
}

const NO_CLUSTERS: readonly string[] = Object.freeze([]);

function defaultPort(scheme: string): string {
  return scheme === 'https' ? '443' : scheme === 'http' ? '80' : '';
}

/** Strips `:port` from an authority when it is the default port of `a` or `b`. */
function stripDefaultPort(authority: string, a: string, b: string): string {
  const colon = authority.lastIndexOf(':');
  if (colon < 0 || authority.indexOf(']', colon) >= 0) return authority; // no port ([::1] has none)
  const port = authority.slice(colon + 1);
  if (port === defaultPort(a) || port === defaultPort(b)) return authority.slice(0, colon);
  return authority;
}

class Route implements CompiledRoute {
  readonly name: string;
  readonly action: RouteAction;
  readonly clusters: readonly string[];
  readonly timeoutMs: number;
  readonly hostRewrite?: string;
  readonly directResponse?: DirectResponse;

  private readonly single: string | null;
  /** Cumulative weights for `weighted` (null otherwise). */
  private readonly cumulative: number[] | null;
  private readonly total: number;
  /** What the matched prefix is, for prefix rewriting: a string prefix, or null = the whole path. */
  private readonly matchedPrefix: string | null;

  constructor(
    readonly config: RouteConfig,
    private readonly random: () => number,
  ) {
    this.name = config.name;
    this.timeoutMs = config.timeout_ms;
    if (config.host_rewrite !== undefined) this.hostRewrite = config.host_rewrite;
    const m = config.match;
    // Exact path and regex matches replace the whole path (as Envoy); prefix replaces the prefix;
    // a route without a path matcher matched the empty prefix.
    this.matchedPrefix = m.path !== undefined || m.regex !== undefined ? null : (m.prefix ?? '');

    this.single = null;
    this.cumulative = null;
    this.total = 0;
    this.clusters = NO_CLUSTERS;
    if (config.direct_response) {
      this.action = 'direct';
      const d = config.direct_response;
      const flat: string[] = [];
      for (const [n, v] of d.headers) flat.push(n.toLowerCase(), v);
      this.directResponse = Object.freeze({
        status: d.status,
        body: Buffer.from(d.body, 'utf8'),
        headers: Object.freeze(flat),
      });
    } else if (config.redirect) {
      this.action = 'redirect';
    } else if (config.weighted_clusters && config.weighted_clusters.length > 0) {
      const wc = config.weighted_clusters;
      this.clusters = Object.freeze(wc.map((w) => w.cluster));
      this.action = 'weighted';
      if (wc.length === 1) {
        this.single = wc[0].cluster; // constant: no random drawn
      } else {
        const cum: number[] = [];
        let total = 0;
        for (const w of wc) {
          total += w.weight > 0 ? w.weight : 0;
          cum.push(total);
        }
        this.cumulative = cum;
        this.total = total;
      }
    } else if (config.cluster !== undefined) {
      this.action = 'cluster';
      this.single = config.cluster;
      this.clusters = Object.freeze([config.cluster]);
    } else {
      throw new Error(`route "${config.name}": no action (cluster, weighted_clusters, direct_response or redirect)`);
    }
  }

  pickCluster(): string | null {
    const cum = this.cumulative;
    if (cum === null) return this.single;
    const x = this.random() * this.total;
    for (let i = 0; i < cum.length; i++) if (x < cum[i]) return this.clusters[i];
    // x == total (a random of 1) or every weight 0: the last positive-weight cluster, else the first.
    for (let i = cum.length - 1; i > 0; i--) if (cum[i] > cum[i - 1]) return this.clusters[i];
    return this.clusters[0];
  }

  rewritePath(path: string): string {
    const rw = this.config.prefix_rewrite;
    return rw === undefined ? path : this.applyPrefixRewrite(rw, path);
  }

  private applyPrefixRewrite(rw: string, path: string): string {
    const p = this.matchedPrefix;
    if (p !== null) return path.startsWith(p) ? rw + path.slice(p.length) : path;
    const q = path.indexOf('?');
    return q < 0 ? rw : rw + path.slice(q);
  }

  buildRedirect(headers: HeaderMap, scheme: string): RedirectResult {
    const r = this.config.redirect;
    if (r === undefined) throw new Error(`route "${this.name}" is not a redirect`);
    const outScheme = r.scheme ?? scheme;
    let host = r.host;
    if (host === undefined) {
      host = headers.get(':authority') ?? headers.get('host') ?? '';
      if (outScheme !== scheme) host = stripDefaultPort(host, scheme, outScheme);
    }
    const full = headers.get(':path') ?? '/';
    let path: string;
    if (r.path !== undefined) {
      const q = full.indexOf('?');
      path = r.path.includes('?') || q < 0 ? r.path : r.path + full.slice(q);
    } else if (r.prefix_rewrite !== undefined) {
      path = this.applyPrefixRewrite(r.prefix_rewrite, full);
    } else {
      path = full;
    }
    return { status: r.status, location: `${outScheme}://${host}${path}` };
  }
}

export function compileRoute(config: RouteConfig, random: () => number): CompiledRoute {
  return new Route(config, random);
}
