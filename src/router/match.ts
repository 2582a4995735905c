/**
 * Router matchers: the per-route checks compiled from RouteMatchConfig (host, path, header and
 * query matchers) and the request-side helpers they run on (authority port stripping, the lazy
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
  /** RPC keys first (exact), then header matchers; null when none. */
  readonly headers: readonly ValueMatcher[] | null;
  readonly query: readonly ValueMatcher[] | null;
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
  // RPC routing keys: exact match on the header of that name (not the `:method` pseudo-header).
  if (match.service !== undefined) headers.push({ name: 'service', kind: EXACT, value: match.service, re: null });
  if (match.method !== undefined) headers.push({ name: 'method', kind: EXACT, value: match.method, re: null });
  if (match.version !== undefined) headers.push({ name: 'version', kind: EXACT, value: match.version, re: null });
  if (match.group !== undefined) headers.push({ name: 'group', kind: EXACT, value: match.group, re: null });
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
    headers: headers.length > 0 ? headers : null,
    query,
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
