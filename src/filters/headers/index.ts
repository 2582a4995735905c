/**
 * The built-in `headers` filter: removes, sets and appends request and/or response headers
 * (in that order) with plain string values.
 * Config: `{ request?: { add?: {name: value}, set?: {...}, remove?: [names] }, response?: same }`.
 * Must never: import from outside src/api, allocate per stream (one shared stateless filter),
 * define a hook it has nothing to do in, or touch pseudo-headers.
 */
import { ConfigError, type ConfigIssue } from '../../api/errors';
import type { BuiltFilter, FilterContext, FilterFactory, StreamFilter } from '../../api/filter';
import type { HeaderMap } from '../../api/headers';

/** Compiled ops of one direction; flat arrays, names lower-case. */
interface Ops {
  readonly remove: readonly string[];
  /** name, value, name, value, ... */
  readonly set: readonly string[];
  readonly add: readonly string[];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
// Header field values: visible ASCII, obs-text, space and tab; no CR, LF or NUL.
const BAD_VALUE = /[\0\r\n]/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkName(raw: string, path: string, issues: ConfigIssue[]): string | null {
  const name = raw.toLowerCase();
  if (name.startsWith(':')) {
    issues.push({ path, message: 'pseudo-headers cannot be changed by the headers filter' });
    return null;
  }
  if (!TOKEN.test(name)) {
    issues.push({ path, message: `invalid header name ${JSON.stringify(raw)}` });
    return null;
  }
  return name;
}

function parsePairs(v: unknown, path: string, issues: ConfigIssue[], unique: boolean): string[] {
  const out: string[] = [];
  if (!isPlainObject(v)) {
    issues.push({ path, message: 'must be an object of header names to string values' });
    return out;
  }
  const seen = new Set<string>();
  for (const key of Object.keys(v)) {
    const p = `${path}.${key}`;
    const name = checkName(key, p, issues);
    const raw = v[key];
    // YAML turns `x-canary: 1` into a number: numbers and booleans are taken as their text.
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      issues.push({ path: p, message: 'must be a string' });
      continue;
    }
    const value = String(raw);
    if (BAD_VALUE.test(value)) {
      issues.push({ path: p, message: 'must not contain CR, LF or NUL' });
      continue;
    }
    if (name === null) continue;
    if (unique && seen.has(name)) {
      issues.push({ path: p, message: `header "${name}" is set more than once (names are case-insensitive)` });
      continue;
    }
    seen.add(name);
    out.push(name, value);
  }
  return out;
}

function parseOps(v: unknown, path: string, issues: ConfigIssue[]): Ops | null {
  if (v === undefined || v === null) return null;
  if (!isPlainObject(v)) {
    issues.push({ path, message: 'must be an object with add, set and/or remove' });
    return null;
  }
  let remove: string[] = [];
  let set: string[] = [];
  let add: string[] = [];
  for (const key of Object.keys(v)) {
    const p = `${path}.${key}`;
    const val = v[key];
    if (key === 'add') {
      if (val !== undefined && val !== null) add = parsePairs(val, p, issues, false);
    } else if (key === 'set') {
      if (val !== undefined && val !== null) set = parsePairs(val, p, issues, true);
    } else if (key === 'remove') {
      if (val === undefined || val === null) continue;
      if (!Array.isArray(val)) {
        issues.push({ path: p, message: 'must be a list of header names' });
        continue;
      }
      remove = [];
      val.forEach((n: unknown, i: number) => {
        const ip = `${p}[${i}]`;
        if (typeof n !== 'string') {
          issues.push({ path: ip, message: 'must be a string' });
          return;
        }
        const name = checkName(n, ip, issues);
        if (name !== null && !remove.includes(name)) remove.push(name);
      });
    } else {
      issues.push({ path: p, message: 'unknown key (expected add, set, remove)' });
    }
  }
  if (remove.length === 0 && set.length === 0 && add.length === 0) return null;
  return { remove, set, add };
}

function apply(h: HeaderMap, ops: Ops): void {
  const { remove, set, add } = ops;
  for (let i = 0; i < remove.length; i++) h.remove(remove[i]);
  for (let i = 0; i < set.length; i += 2) h.set(set[i], set[i + 1]);
  for (let i = 0; i < add.length; i += 2) h.add(add[i], add[i + 1]);
}

/** Validates a `headers` filter config; throws ConfigError with paths relative to it. */
export function compileHeadersConfig(config: unknown): { request: Ops | null; response: Ops | null } {
  const issues: ConfigIssue[] = [];
  let request: Ops | null = null;
  let response: Ops | null = null;
  if (config !== undefined && config !== null) {
    if (!isPlainObject(config)) {
      throw new ConfigError([{ path: '', message: 'must be an object with request and/or response' }]);
    }
    for (const key of Object.keys(config)) {
      if (key === 'request') request = parseOps(config[key], key, issues);
      else if (key === 'response') response = parseOps(config[key], key, issues);
      else issues.push({ path: key, message: 'unknown key (expected request, response)' });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { request, response };
}

function makeFilter(request: Ops | null, response: Ops | null): StreamFilter {
  const f: StreamFilter = {};
  if (request !== null) {
    const ops = request;
    f.onRequestHeaders = (ctx: FilterContext, headers: HeaderMap): 'continue' => {
      apply(headers, ops);
      // A route matched before this change would be stale (e.g. a header-matched route).
      ctx.clearRouteCache();
      return 'continue';
    };
  }
  if (response !== null) {
    const ops = response;
    f.onResponseHeaders = (_ctx: FilterContext, headers: HeaderMap): 'continue' => {
      apply(headers, ops);
      return 'continue';
    };
  }
  return Object.freeze(f);
}

export const headersFilter: FilterFactory = {
  name: 'headers',
  build(config: unknown): BuiltFilter {
    const { request, response } = compileHeadersConfig(config);
    const filter = makeFilter(request, response);
    return { createFilter: () => filter };
  },
};

export default headersFilter;
