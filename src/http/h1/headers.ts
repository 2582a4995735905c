/**
 * Header normalization between HTTP/1.1 heads and the protocol-neutral HeaderMap.
 * Owns: pseudo-headers (`:method :path :authority :scheme`, `:status`), hop-by-hop stripping
 * (connection, keep-alive, proxy-connection, transfer-encoding, te, upgrade, trailer, and every
 * name listed in Connection), Host → `:authority`, absorbing `expect: 100-continue`, and which
 * upgrade requests may switch protocols (then `upgrade` is kept; h2c never is).
 * Must never: validate syntax (the parser did) or keep connection-level fields in a map, other
 * than `upgrade` on an upgrade request and its 101.
 */
import { HeaderMap } from '../../api/headers';
import type { H1Head } from './head';

/** True for the fixed hop-by-hop names (lower-case). */
export function isHopByHop(name: string): boolean {
  switch (name.length) {
    case 2:
      return name === 'te';
    case 7:
      return name === 'upgrade' || name === 'trailer';
    case 10:
      return name === 'connection' || name === 'keep-alive';
    case 16:
      return name === 'proxy-connection';
    case 17:
      return name === 'transfer-encoding';
    default:
      return false;
  }
}

function listedInConnection(name: string, tokens: string[] | null): boolean {
  return tokens !== null && tokens.indexOf(name) >= 0;
}

/**
 * The Upgrade value of a request that may switch protocols: HTTP/1.1, `Connection: upgrade`, an
 * `Upgrade` field, no body (the switch happens right after the head), and not h2c (HTTP/2 is not
 * tunnelled: such a request is served as plain HTTP/1.1). Null otherwise.
 */
export function requestUpgrade(head: H1Head): string | null {
  const tokens = head.connectionTokens;
  if (tokens === null || head.versionMinor !== 1 || !head.noBody || tokens.indexOf('upgrade') < 0) return null;
  const h = head.headers;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] !== 'upgrade') continue;
    const v = h[i + 1];
    if (v === '' || /(^|[\s,])h2c(?![^\s,])/i.test(v)) return null;
    return v;
  }
  return null;
}

/**
 * Request head → HeaderMap with pseudo-headers first. `upgrade` (from requestUpgrade) is kept as
 * the one connection-level field the upstream needs to see.
 */
export function requestHeaderMap(head: H1Head, tls: boolean, upgrade: string | null = null): HeaderMap {
  const kv: string[] = [':method', head.method];
  const t = head.target;
  let authority = head.host;
  let scheme = tls ? 'https' : 'http';
  const c0 = t.charCodeAt(0);
  if (c0 !== 0x2f && t !== '*') {
    // absolute-form: the target's authority wins over Host (RFC 9112 3.2.2).
    const sep = t.indexOf('://');
    scheme = t.slice(0, sep).toLowerCase();
    const rest = sep + 3;
    let pathStart = rest;
    while (pathStart < t.length) {
      const c = t.charCodeAt(pathStart);
      if (c === 0x2f || c === 0x3f) break;
      pathStart++;
    }
    authority = t.slice(rest, pathStart);
    const path = t.slice(pathStart);
    kv.push(':path', path === '' ? '/' : path.charCodeAt(0) === 0x3f ? '/' + path : path);
  } else {
    kv.push(':path', t);
  }
  if (authority !== null) kv.push(':authority', authority);
  kv.push(':scheme', scheme);
  const h = head.headers;
  const tokens = head.connectionTokens;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i];
    if (name === 'host' || isHopByHop(name)) continue;
    if (name === 'expect' && head.expectContinue) continue;
    if (tokens !== null && listedInConnection(name, tokens)) continue;
    kv.push(name, h[i + 1]);
  }
  if (upgrade !== null) kv.push('upgrade', upgrade);
  return new HeaderMap(kv);
}

/** Response head → HeaderMap with `:status` first; a 101 keeps its `upgrade` field. */
export function responseHeaderMap(head: H1Head): HeaderMap {
  const kv: string[] = [':status', String(head.status)];
  const h = head.headers;
  const tokens = head.connectionTokens;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i];
    if (isHopByHop(name)) continue;
    if (tokens !== null && listedInConnection(name, tokens)) continue;
    kv.push(name, h[i + 1]);
  }
  if (head.status === 101) {
    for (let i = 0; i < h.length; i += 2) if (h[i] === 'upgrade') kv.push('upgrade', h[i + 1]);
  }
  return new HeaderMap(kv);
}

/** Trailer fields → HeaderMap (hop-by-hop and framing fields dropped), or null when none. */
export function trailerMap(flat: string[] | null): HeaderMap | null {
  if (flat === null) return null;
  const kv: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i];
    if (isHopByHop(name) || name === 'content-length' || name === 'host') continue;
    kv.push(name, flat[i + 1]);
  }
  return kv.length === 0 ? null : new HeaderMap(kv);
}
