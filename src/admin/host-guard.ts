/**
 * DNS-rebinding and cross-site protection for the admin API: a browser tricked into calling the
 * admin port (a page whose name re-resolves to 127.0.0.1, or a form posting to it) sends a Host
 * (and for writes an Origin) naming the attacker's site. Requests are served only when Host is
 * absent, an IP literal, `localhost`, the admin bind host, or listed in `admin.allowed_hosts`; a
 * POST with an Origin (or Sec-Fetch-Site: cross-site) naming anything else is refused too.
 * Must never: reject a request that names the admin by IP (scrapers, curl, kubelet probes).
 */
import { isIP } from 'node:net';

/** Host header → host name without port or brackets, lower-cased. */
export function hostOf(value: string): string {
  let v = value.trim().toLowerCase();
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    return end === -1 ? v : v.slice(1, end);
  }
  const colon = v.indexOf(':');
  if (colon !== -1 && v.indexOf(':', colon + 1) === -1) v = v.slice(0, colon);
  return v;
}

export class AdminHostGuard {
  private readonly names: Set<string>;

  constructor(bindHost: string, allowedHosts: readonly string[] = []) {
    this.names = new Set(['localhost', hostOf(bindHost), ...allowedHosts.map((h) => hostOf(h))]);
  }

  /** Whether a host name (from Host or Origin) may address the admin API. */
  allows(host: string): boolean {
    return host === '' || isIP(host) !== 0 || this.names.has(host);
  }

  /** Why the request is refused, or null when it may be served. */
  check(method: string, headers: { host?: string; origin?: string | string[]; 'sec-fetch-site'?: string | string[] }): string | null {
    const h = headers.host;
    if (h !== undefined && !this.allows(hostOf(h))) return `Host "${h}" is not allowed (admin.allowed_hosts)`;
    if (method === 'GET' || method === 'HEAD') return null;
    const site = headers['sec-fetch-site'];
    if (site === 'cross-site') return 'cross-site request refused';
    const origin = headers.origin;
    if (typeof origin === 'string' && origin !== 'null') {
      let oh: string;
      try {
        oh = new URL(origin).hostname;
      } catch {
        return `Origin "${origin}" is not a URL`;
      }
      if (!this.allows(hostOf(oh))) return `Origin "${origin}" is not allowed (admin.allowed_hosts)`;
    } else if (origin === 'null') {
      return 'opaque Origin refused';
    }
    return null;
  }
}
