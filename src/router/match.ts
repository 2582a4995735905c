/**
 * Router matchers: the per-route checks compiled from RouteMatchConfig (host, path, header and
 * query matchers, and the connection's TLS identity: sni, peer_san) and the request-side helpers they run on (authority port stripping, the lazy
 * query parse with percent-decoding).
 * Must never: allocate while checking, except what the request makes unavoidable (the parsed
 * query, a path slice for a regex when the path carries a query); never throw on request input.
 */
import type { RouteMatchConfig, StringMatch } from '../config/types';

// Value matcher kinds.
export const EXACT = 0;
export const PREFIX = 1;
export const REGEX = 2;
export const PRESENT = 3;
export const ABSENT = 4;

// Host matcher kinds.
export const HOST_ANY = 0;
export const HOST_EXACT = 1;
export const HOST_SUFFIX = 2;

/** One header / query-parameter / RPC-key check. */
export interface ValueMatcher {
  readonly name: string;
  readonly kind: number;
  readonly value: string;
  readonly re: RegExp | null;
}

/** The compiled checks of one route, run cheapest first: host, path, headers, query. */
export interface CompiledMatch {
  readonly hostKind: number;
  /** Lower-case exact host, or the suffix (".example.com") for HOST_SUFFIX. */
  readonly host: string;
  readonly prefix: string | null;
  readonly exact: string | null;
  /** Anchored copy of the config regex (full match of the path without query). */
  readonly regex: RegExp | null;
  /** True when any of prefix / exact / regex is set. */
  readonly hasPath: boolean;
  /**
   * RPC routing keys (service, method, version, group; exact), checked against the request's
   * headers or, for Triple/gRPC requests without a `service` header, against tripleKeys().
   */
  readonly rpcKeys: readonly ValueMatcher[] | null;
  /** Header matchers; null when none. */
  readonly headers: readonly ValueMatcher[] | null;
  readonly query: readonly ValueMatcher[] | null;
  /** TLS server name check: HOST_ANY (none), HOST_EXACT or HOST_SUFFIX (".suffix"). */
  readonly sniKind: number;
  readonly sni: string;
  /** A SAN the verified client certificate must carry, or null. */
  readonly peerSan: string | null;
}

/** The TLS identity of the downstream connection, as route matching sees it. */
export interface ConnMatchInfo {
  readonly sni?: string;
  readonly peerSans?: readonly string[];
}

/** The connection-level checks (sni, peer_san) of a compiled match; conn absent fails any check. */
export function matchConn(m: CompiledMatch, conn: ConnMatchInfo | undefined): boolean {
  if (m.sniKind !== HOST_ANY) {
    const sni = conn === undefined ? undefined : conn.sni;
    if (sni === undefined) return false;
    if (m.sniKind === HOST_EXACT ? !hostEquals(sni, sni.length, m.sni) : !hostHasSuffix(sni, sni.length, m.sni)) return false;
  }
  if (m.peerSan !== null) {
    const sans = conn === undefined ? undefined : conn.peerSans;
    if (sans === undefined || !sans.includes(m.peerSan)) return false;
  }
  return true;
}

/**
 * Returns a regex that matches only the whole input (Envoy safe_regex semantics):
 * `^(?:source)$`, keeping the i/s/u/v flags and dropping g/y/m (stateful or line-anchored).
 */
export function fullMatchRegex(re: RegExp): RegExp {
  let flags = '';
  for (const f of re.flags) if (f === 'i' || f === 's' || f === 'u' || f === 'v') flags += f;
  return new RegExp(`^(?:${re.source})$`, flags);
}

export function compileValueMatcher(name: string, m: StringMatch): ValueMatcher {
  const n = name.toLowerCase();
  switch (m.kind) {
    case 'exact':
      return { name: n, kind: EXACT, value: m.value, re: null };
    case 'prefix':
      return { name: n, kind: PREFIX, value: m.value, re: null };
    case 'regex':
      return { name: n, kind: REGEX, value: '', re: fullMatchRegex(m.value) };
    case 'present':
      return { name: n, kind: PRESENT, value: '', re: null };
    case 'absent':
      return { name: n, kind: ABSENT, value: '', re: null };
    default:
      throw new Error(`unknown string match kind ${JSON.stringify((m as { kind: unknown }).kind)}`);
  }
}

/** Compiles one route's match section. `*` host and an empty section compile to no check at all. */
export function compileMatch(match: RouteMatchConfig): CompiledMatch {
  let hostKind = HOST_ANY;
  let host = '';
  if (match.host !== undefined && match.host !== '*' && match.host !== '') {
    const h = match.host.toLowerCase();
    if (h.charCodeAt(0) === 42 /* * */) {
      hostKind = HOST_SUFFIX;
      host = h.slice(1); // "*.a.example" -> ".a.example"; the wildcard covers at least one char
    } else {
      hostKind = HOST_EXACT;
      // A bare IPv6 literal in config is compared in its bracketed authority form.
      host = h.includes(':') && h.charCodeAt(0) !== 91 /* [ */ ? `[${h}]` : h;
    }
  }
  const headers: ValueMatcher[] = [];
  // RPC routing keys: exact match on the key of that name (not the `:method` pseudo-header).
  const rpcKeys: ValueMatcher[] = [];
  if (match.service !== undefined) rpcKeys.push({ name: 'service', kind: EXACT, value: match.service, re: null });
  if (match.method !== undefined) rpcKeys.push({ name: 'method', kind: EXACT, value: match.method, re: null });
  if (match.version !== undefined) rpcKeys.push({ name: 'version', kind: EXACT, value: match.version, re: null });
  if (match.group !== undefined) rpcKeys.push({ name: 'group', kind: EXACT, value: match.group, re: null });
  if (match.headers) for (const h of match.headers) headers.push(compileValueMatcher(h.name, h.match));
  const query = match.query && match.query.length > 0 ? match.query.map((q) => compileValueMatcherRaw(q.name, q.match)) : null;
  const prefix = match.prefix !== undefined && match.prefix !== '' ? match.prefix : null;
  const exact = match.path !== undefined ? match.path : null;
  const regex = match.regex !== undefined ? fullMatchRegex(match.regex) : null;
  return {
    hostKind,
    host,
    prefix,
    exact,
    regex,
    hasPath: prefix !== null || exact !== null || regex !== null,
    rpcKeys: rpcKeys.length > 0 ? rpcKeys : null,
    headers: headers.length > 0 ? headers : null,
    query,
    sniKind: match.sni === undefined ? HOST_ANY : match.sni.startsWith('*.') ? HOST_SUFFIX : HOST_EXACT,
    sni: match.sni === undefined ? '' : match.sni.startsWith('*.') ? match.sni.slice(1) : match.sni,
    peerSan: match.peer_san ?? null,
  };
}

/** Query parameter names are case-sensitive: compiled as given. */
function compileValueMatcherRaw(name: string, m: StringMatch): ValueMatcher {
  const c = compileValueMatcher(name, m);
  return c.name === name ? c : { name, kind: c.kind, value: c.value, re: c.re };
}

export function matchValue(v: string, m: ValueMatcher): boolean {
  switch (m.kind) {
    case EXACT:
      return v === m.value;
    case PREFIX:
      return v.startsWith(m.value);
    case REGEX:
      return (m.re as RegExp).test(v);
    default:
      return true;
  }
}

/**
 * Runs a matcher over a flat name/value array (HeaderMap.raw() or a parsed query): present/absent
 * look at the name only; the others succeed when any value of the name matches.
 */
export function matchFlat(flat: readonly string[], m: ValueMatcher): boolean {
  const name = m.name;
  const kind = m.kind;
  let found = false;
  for (let i = 0; i < flat.length; i += 2) {
    if (flat[i] !== name) continue;
    if (kind >= PRESENT) {
      found = true;
      break;
    }
    if (matchValue(flat[i + 1], m)) return true;
  }
  if (kind === PRESENT) return found;
  if (kind === ABSENT) return !found;
  return false;
}

/**
 * End index of the host in an authority: strips `:port`, keeps IPv6 brackets (`[::1]:80` ->
 * `[::1]`). An authority with several colons and no brackets is taken whole.
 */
export function hostEnd(authority: string): number {
  const len = authority.length;
  if (authority.charCodeAt(0) === 91 /* [ */) {
    const close = authority.indexOf(']');
    return close < 0 ? len : close + 1;
  }
  const colon = authority.indexOf(':');
  if (colon < 0) return len;
  return authority.indexOf(':', colon + 1) < 0 ? colon : len;
}

/** Case-insensitive (ASCII) comparison of `s[start, start + pat.length)` with lower-case `pat`. */
function eqLowerAt(s: string, start: number, pat: string): boolean {
  for (let i = 0; i < pat.length; i++) {
    let c = s.charCodeAt(start + i);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== pat.charCodeAt(i)) return false;
  }
  return true;
}

/** Host `authority[0, end)` equals lower-case `pat`, ignoring case. */
export function hostEquals(authority: string, end: number, pat: string): boolean {
  return end === pat.length && eqLowerAt(authority, 0, pat);
}

/** Host `authority[0, end)` ends with lower-case `suffix` and has at least one char before it. */
export function hostHasSuffix(authority: string, end: number, suffix: string): boolean {
  return end > suffix.length && eqLowerAt(authority, end - suffix.length, suffix);
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 0x20;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Decodes `%XX` escapes (as UTF-8) and `+` as a space. Lenient: a malformed escape stays as
 * written and invalid UTF-8 becomes U+FFFD, never an exception.
 */
export function percentDecode(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  let out = '';
  let i = 0;
  const len = s.length;
  let bytes: number[] | null = null;
  while (i < len) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */ && i + 2 < len && hexVal(s.charCodeAt(i + 1)) >= 0 && hexVal(s.charCodeAt(i + 2)) >= 0) {
      if (bytes === null) bytes = [];
      bytes.length = 0;
      while (i + 2 < len && s.charCodeAt(i) === 37) {
        const h = hexVal(s.charCodeAt(i + 1));
        const l = hexVal(s.charCodeAt(i + 2));
        if (h < 0 || l < 0) break;
        bytes.push((h << 4) | l);
        i += 3;
      }
      out += Buffer.from(bytes).toString('utf8');
      continue;
    }
    out += c === 43 /* + */ ? ' ' : s[i];
    i++;
  }
  return out;
}

const NO_PARAMS: readonly string[] = Object.freeze([]);

/**
 * Parses the query of `path` (the part after the `?` at `qIdx`, up to any `#`) into a flat,
 * decoded name/value array. `a` without `=` has the value "". Empty segments are skipped.
 */
export function parseQuery(path: string, qIdx: number): readonly string[] {
  if (qIdx >= path.length - 1) return NO_PARAMS;
  let end = path.indexOf('#', qIdx);
  if (end < 0) end = path.length;
  const out: string[] = [];
  let start = qIdx + 1;
  while (start <= end) {
    let amp = path.indexOf('&', start);
    if (amp < 0 || amp > end) amp = end;
    if (amp > start) {
      const eq = path.indexOf('=', start);
      if (eq >= 0 && eq < amp) out.push(percentDecode(path.slice(start, eq)), percentDecode(path.slice(eq + 1, amp)));
      else out.push(percentDecode(path.slice(start, amp)), '');
    }
    start = amp + 1;
  }
  return out;
}

/**
 * The RPC routing keys of a Dubbo Triple (gRPC-compatible) request, which carries no `service`
 * header: service and method from `:path` (`/{service}/{method}`), version and group from the
 * `tri-service-version` / `tri-service-group` headers. Applies when the request has no `service`
 * header and is gRPC (content-type application/grpc*) or carries either tri-service-* header
 * (Triple's unary calls over HTTP/1.1 use application/json or application/proto). Returns a flat
 * name/value array for matchFlat, or null when the request's own headers are its RPC keys.
 * One pass over the headers; allocates only the returned array and the path slices.
 */
export function tripleKeys(raw: readonly string[]): readonly string[] | null {
  let path: string | undefined;
  let version: string | undefined;
  let group: string | undefined;
  let grpc = false;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i];
    switch (n.length) {
      case 5:
        if (n === ':path' && path === undefined) path = raw[i + 1];
        break;
      case 7:
        if (n === 'service') return null;
        break;
      case 12:
        if (n === 'content-type' && raw[i + 1].startsWith('application/grpc')) grpc = true;
        break;
      case 17:
        if (n === 'tri-service-group' && group === undefined) group = raw[i + 1];
        break;
      case 19:
        if (n === 'tri-service-version' && version === undefined) version = raw[i + 1];
        break;
    }
  }
  if (!grpc && version === undefined && group === undefined) return null;
  const out: string[] = [];
  if (path !== undefined && path.charCodeAt(0) === 47 /* / */) {
    const slash = path.indexOf('/', 1);
    if (slash > 1) {
      let end = path.indexOf('?', slash + 1);
      if (end < 0) end = path.length;
      if (end > slash + 1 && path.indexOf('/', slash + 1) < 0) out.push('service', path.slice(1, slash), 'method', path.slice(slash + 1, end));
    }
  }
  if (version !== undefined) out.push('version', version);
  if (group !== undefined) out.push('group', group);
  return out;
}
