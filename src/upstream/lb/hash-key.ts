/**
 * The request key the hashing balancers (ring_hash, maglev) hash: `lb_config.hash_on` is one of
 *   { header: name }     the first value of that header
 *   { cookie: name }     the value of that cookie (from the `cookie` header(s))
 *   { source_ip: true }  the downstream peer address
 *   { key: name }        an RPC routing key (codecs expose them as headers: service, method, ...)
 * Owns: parsing that config once and reading the key from an LbContext. Must never: allocate on
 * the header / source-ip paths, or use regular expressions per request.
 */
import type { LbContext } from '../../api/lb';
import { isObject } from './options';

export type HashOn =
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'cookie'; readonly name: string }
  | { readonly kind: 'source_ip' };

function nameOf(lb: string, key: string, v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw new TypeError(`${lb}: hash_on.${key} must be a non-empty string`);
  return v.trim();
}

/** Parses `lb_config.hash_on`; null when absent (every pick is then a weighted random one). */
export function parseHashOn(lb: string, v: unknown): HashOn | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw new TypeError(`${lb}: hash_on must be an object: { header }, { cookie }, { source_ip: true } or { key }`);
  const keys = Object.keys(v);
  if (keys.length !== 1) {
    throw new TypeError(`${lb}: hash_on must have exactly one of header, cookie, source_ip, key (got ${keys.join(', ') || 'none'})`);
  }
  const k = keys[0];
  switch (k) {
    case 'header':
    case 'key':
      return { kind: 'header', name: nameOf(lb, k, v[k]).toLowerCase() };
    case 'cookie':
      return { kind: 'cookie', name: nameOf(lb, k, v[k]) };
    case 'source_ip':
      if (v[k] !== true) throw new TypeError(`${lb}: hash_on.source_ip must be true`);
      return { kind: 'source_ip' };
    default:
      throw new TypeError(`${lb}: unknown hash_on kind "${k}" (expected header, cookie, source_ip or key)`);
  }
}

/** The value of cookie `name` in one `cookie` header value, or undefined. */
export function findCookie(header: string, name: string): string | undefined {
  const n = name.length;
  let i = 0;
  const len = header.length;
  while (i < len) {
    while (i < len && (header.charCodeAt(i) === 32 || header.charCodeAt(i) === 9)) i++;
    let end = header.indexOf(';', i);
    if (end < 0) end = len;
    if (header.startsWith(name, i) && header.charCodeAt(i + n) === 61 /* = */) {
      let s = i + n + 1;
      let e = end;
      while (e > s && (header.charCodeAt(e - 1) === 32 || header.charCodeAt(e - 1) === 9)) e--;
      if (e - s >= 2 && header.charCodeAt(s) === 34 && header.charCodeAt(e - 1) === 34) {
        s++;
        e--;
      }
      return header.slice(s, e);
    }
    i = end + 1;
  }
  return undefined;
}

/** The key of this request, or undefined when it has none (empty values count as none). */
export function hashKeyOf(on: HashOn | null, ctx: LbContext | null): string | undefined {
  if (on === null || ctx === null) return undefined;
  let v: string | undefined;
  if (on.kind === 'source_ip') {
    v = ctx.sourceIp ?? undefined;
  } else if (ctx.headers !== null) {
    if (on.kind === 'header') {
      v = ctx.headers.get(on.name);
    } else {
      const raw = ctx.headers.raw();
      for (let i = 0; i < raw.length && v === undefined; i += 2) {
        if (raw[i] === 'cookie') v = findCookie(raw[i + 1], on.name);
      }
    }
  }
  return v === undefined || v === '' ? undefined : v;
}
