/**
 * Header translation between HTTP/2 header lists (the flat name, value, ... lists HPACK reads and
 * writes) and the protocol-neutral HeaderMap, both ways and for both legs. Owns: which fields
 * HTTP/2 forbids (connection-specific fields, `te` other than "trailers"), Host ↔ `:authority`,
 * pseudo-header order and filtering, cookie joining, and dropping regular fields that cannot be
 * written (an upper-case or empty name, NUL/CR/LF — what a filter may have set; HTTP/1.1's
 * serializer drops the same).
 * Must never: judge whole received blocks (native/validate.ts does, for what peers send), or emit
 * a forbidden field.
 */
import { HeaderMap } from '../../api/headers';

/**
 * True when `s` holds a character HTTP/2 forbids: NUL, CR or LF anywhere; in a regular field
 * name (`name`) also upper-case letters, ':', SP and other controls, DEL.
 */
export function fieldCharsBad(s: string, name: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return true;
    if (name && ((c >= 0x41 && c <= 0x5a) || c === 0x3a || c <= 0x20 || c === 0x7f)) return true;
  }
  return false;
}

/** Whether a regular field may be sent as is (see fieldCharsBad). */
function writable(name: string, value: string): boolean {
  return name.length > 0 && !fieldCharsBad(name, true) && !fieldCharsBad(value, false);
}


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

/** Response head → the flat list HPACK encodes: `:status` first, forbidden fields dropped. */
export function responseKvH2(h: HeaderMap, status: number): string[] {
  const kv = h.raw();
  const out: string[] = [':status', String(status)];
  for (let i = 0; i < kv.length; i += 2) {
    const name = kv[i];
    if (name.charCodeAt(0) === 0x3a || isConnectionSpecific(name) || name === 'te' || name === 'host') continue;
    const value = kv[i + 1];
    if (writable(name, value)) out.push(name, value);
  }
  return out;
}

/**
 * HeaderMap (from any downstream protocol) → the flat request field list the native client
 * HPACK-encodes: the same rules as requestHeadersToH2, pseudo-headers first in the order
 * :method, :scheme, :authority, :path (:scheme and :path omitted for CONNECT), repeated fields
 * kept as separate entries.
 */
export function requestKvH2(h: HeaderMap, defaultAuthority: string): string[] {
  const kv = h.raw();
  const out: string[] = ['', '', '', '', '', '', '', ''];
  let method: string | undefined;
  let scheme: string | undefined;
  let authority: string | undefined;
  let path: string | undefined;
  let host: string | undefined;
  let te = false;
  let grpc = false;
  for (let i = 0; i < kv.length; i += 2) {
    const name = kv[i];
    const value = kv[i + 1];
    if (name.charCodeAt(0) === 0x3a) {
      switch (name) {
        case ':method':
          if (method === undefined) method = value;
          break;
        case ':scheme':
          if (scheme === undefined) scheme = value;
          break;
        case ':authority':
          if (authority === undefined) authority = value;
          break;
        case ':path':
          if (path === undefined) path = value;
          break;
      }
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
          out.push(name, value);
        }
        continue;
      case 'content-type':
        if (value.startsWith('application/grpc')) grpc = true;
        break;
    }
    if (writable(name, value)) out.push(name, value);
  }
  if (method === undefined) method = 'GET';
  out[0] = ':method';
  out[1] = method;
  let at = 2;
  if (method !== 'CONNECT') {
    out[2] = ':scheme';
    out[3] = scheme ?? 'http';
    at = 4;
  }
  out[at] = ':authority';
  out[at + 1] = authority ?? host ?? defaultAuthority;
  at += 2;
  if (method !== 'CONNECT') {
    out[at] = ':path';
    out[at + 1] = path ?? '/';
    at += 2;
  }
  if (at < 8) out.splice(at, 8 - at);
  if (grpc && !te) out.push('te', 'trailers');
  return out;
}

/** Trailers without the fields HTTP/2 trailers must not carry; null when nothing is left. */
export function trailersForH2(t: HeaderMap | null | undefined): HeaderMap | null {
  if (t === null || t === undefined) return null;
  const kv = t.raw();
  const out: string[] = [];
  for (let i = 0; i < kv.length; i += 2) {
    const name = kv[i];
    if (name.charCodeAt(0) === 0x3a || isConnectionSpecific(name) || name === 'te' || name === 'host' || name === 'content-length') {
      continue;
    }
    const value = kv[i + 1];
    if (writable(name, value)) out.push(name, value);
  }
  return out.length === 0 ? null : new HeaderMap(out);
}
