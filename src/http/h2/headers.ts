/**
 * Header translation between node:http2 header lists and the protocol-neutral HeaderMap, both
 * ways and for both legs. Owns: which fields HTTP/2 forbids (connection-specific fields, `te`
 * other than "trailers"), Host ↔ `:authority`, pseudo-header filtering, cookie joining.
 * Must never: validate field syntax (nghttp2 and node do), or keep a forbidden field in a map
 * handed to node (node throws on them).
 */
import type { OutgoingHttpHeaders } from 'node:http2';
import { HeaderMap } from '../../api/headers';

type Obj = Record<string, string | string[]>;

/** Connection-specific fields HTTP/2 forbids (RFC 9113 8.2.2), `te` handled separately. */
export function isConnectionSpecific(name: string): boolean {
  switch (name.length) {
    case 7:
      return name === 'upgrade';
    case 10:
      return name === 'connection' || name === 'keep-alive';
    case 14:
      return name === 'http2-settings';
    case 16:
      return name === 'proxy-connection';
    case 17:
      return name === 'transfer-encoding';
    default:
      return false;
  }
}

function isRequestPseudo(name: string): boolean {
  return name === ':method' || name === ':path' || name === ':authority' || name === ':scheme';
}

/**
 * The raw request header list of an incoming stream (name, value, ...) → HeaderMap. Keeps the
 * four request pseudo-headers, drops connection-specific fields and `te` other than "trailers",
 * joins split cookie crumbs with "; " (RFC 9113 8.2.3), and turns `host` into `:authority` when
 * the latter is absent.
 */
export function requestMapFromRaw(raw: readonly string[]): HeaderMap {
  const kv: string[] = [];
  let host: string | undefined;
  let hasAuthority = false;
  let cookieAt = -1;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    if (name.charCodeAt(0) === 0x3a) {
      if (!isRequestPseudo(name)) continue;
      if (name === ':authority') hasAuthority = true;
      kv.push(name, value);
      continue;
    }
    if (isConnectionSpecific(name)) continue;
    if (name === 'te') {
      if (value === 'trailers') kv.push(name, value);
      continue;
    }
    if (name === 'host') {
      if (host === undefined) host = value;
      continue;
    }
    if (name === 'cookie') {
      if (cookieAt >= 0) {
        kv[cookieAt] += '; ' + value;
        continue;
      }
      cookieAt = kv.length + 1;
    }
    kv.push(name, value);
  }
  if (!hasAuthority && host !== undefined) {
    // Pseudo-headers first: put :authority right after the ones already collected.
    let at = 0;
    while (at < kv.length && kv[at].charCodeAt(0) === 0x3a) at += 2;
    kv.splice(at, 0, ':authority', host);
    if (cookieAt >= at) cookieAt += 2;
  }
  return new HeaderMap(kv);
}

/** Raw response header list → HeaderMap (`:status` kept, other pseudo and forbidden fields dropped). */
export function responseMapFromRaw(raw: readonly string[]): HeaderMap {
  const kv: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.charCodeAt(0) === 0x3a ? name !== ':status' : isConnectionSpecific(name)) continue;
    kv.push(name, raw[i + 1]);
  }
  return new HeaderMap(kv);
}

/** Raw trailer list → HeaderMap, or null when nothing is left. */
export function trailerMapFromRaw(raw: readonly string[] | undefined): HeaderMap | null {
  if (raw === undefined || raw.length === 0) return null;
  const kv: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.charCodeAt(0) === 0x3a || isConnectionSpecific(name) || name === 'te' || name === 'host') continue;
    kv.push(name, raw[i + 1]);
  }
  return kv.length === 0 ? null : new HeaderMap(kv);
}

function put(o: Obj, name: string, value: string): void {
  const prev = o[name];
  if (prev === undefined) o[name] = value;
  else if (typeof prev === 'string') o[name] = [prev, value];
  else prev.push(value);
}

/**
 * HeaderMap (from any downstream protocol) → request headers for node:http2. Drops forbidden
 * fields and other pseudo-headers, maps `host` to `:authority` when absent (else the endpoint's
 * authority), fills `:method`, `:path`, `:scheme` ("http"), and adds `te: trailers` to gRPC
 * requests that lost it on an HTTP/1.1 leg.
 */
export function requestHeadersToH2(h: HeaderMap, defaultAuthority: string): OutgoingHttpHeaders {
  const o: Obj = Object.create(null) as Obj;
  const kv = h.raw();
  let host: string | undefined;
  let te = false;
  let grpc = false;
  for (let i = 0; i < kv.length; i += 2) {
    const name = kv[i];
    const value = kv[i + 1];
    if (name.charCodeAt(0) === 0x3a) {
      if (isRequestPseudo(name) && o[name] === undefined) o[name] = value;
      continue;
    }
    if (isConnectionSpecific(name)) continue;
    switch (name) {
      case 'host':
        if (host === undefined) host = value;
        continue;
      case 'te':
        if (value === 'trailers' && !te) {
          te = true;
          o.te = value;
        }
        continue;
      case 'content-type':
        if (value.startsWith('application/grpc')) grpc = true;
        break;
    }
    put(o, name, value);
  }
  if (o[':authority'] === undefined) o[':authority'] = host ?? defaultAuthority;
  if (o[':method'] === undefined) o[':method'] = 'GET';
  if (o[':method'] !== 'CONNECT') {
    if (o[':path'] === undefined) o[':path'] = '/';
    if (o[':scheme'] === undefined) o[':scheme'] = 'http';
  }
  if (grpc && !te) o.te = 'trailers';
  return o;
}

/** HeaderMap with `:status` → response headers for node:http2 (forbidden fields dropped). */
export function responseHeadersToH2(h: HeaderMap, status: number): OutgoingHttpHeaders {
  const o: Obj = Object.create(null) as Obj;
  const out = o as OutgoingHttpHeaders;
  out[':status'] = status;
  const kv = h.raw();
  for (let i = 0; i < kv.length; i += 2) {
    const name = kv[i];
    if (name.charCodeAt(0) === 0x3a || isConnectionSpecific(name) || name === 'te' || name === 'host') continue;
    put(o, name, kv[i + 1]);
  }
  return out;
}

/** Trailers → node:http2 trailers; an empty object when there are none (node then ends with DATA). */
export function trailersToH2(t: HeaderMap | null | undefined): OutgoingHttpHeaders {
  const o: Obj = Object.create(null) as Obj;
  if (t === null || t === undefined) return o;
  const kv = t.raw();
  for (let i = 0; i < kv.length; i += 2) {
    const name = kv[i];
    if (name.charCodeAt(0) === 0x3a || isConnectionSpecific(name) || name === 'te' || name === 'host' || name === 'content-length') {
      continue;
    }
    put(o, name, kv[i + 1]);
  }
  return o;
}
