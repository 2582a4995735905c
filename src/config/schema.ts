/**
 * A small hand-written validation toolkit: paths like `listeners[0].routes[2].cluster`, an issue
 * collector, and a reader over one config object that rejects unknown keys (suggesting the
 * closest known one), rejects not-yet-supported keys, and reads typed fields with defaults.
 * Readers never throw: every problem becomes a ConfigIssue and reading goes on, so one pass
 * reports every error. Must never: know the meaning of any particular config section.
 */
import type { ConfigIssue } from '../api/errors';
import { parseDuration } from './duration';
import { parseAddress } from './address';
import type { Address } from './types';
import { NOT_YET_SUPPORTED, notSupportedMessage, type ConfigSection } from './unsupported';

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `parent.key`, or `parent["odd key"]` when the key is not a plain identifier. */
export function keyPath(parent: string, key: string): string {
  if (!IDENT.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

export function indexPath(parent: string, i: number): string {
  return `${parent}[${i}]`;
}

/** The JSON-ish type name of a value, as used in "expected X, got Y". */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

/** A value as quoted in messages: strings quoted, numbers and booleans as written, else the type. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeName(v);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class Issues {
  readonly list: ConfigIssue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
  get count(): number {
    return this.list.length;
  }
}

/** Optimal-string-alignment edit distance (a transposition counts as one edit). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[a.length][b.length];
}

/** The known word closest to `word`, if it is close enough to be a plausible typo. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const w = word.toLowerCase();
  for (const k of known) {
    const d = editDistance(w, k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(w.length, best.length) / 3));
  return bestD <= limit ? best : undefined;
}

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const s = closest(key, known);
  return s !== undefined ? `unknown key (did you mean "${s}"?)` : 'unknown key';
}

export interface IntOptions {
  min?: number;
  max?: number;
}

function rangeMessage(n: number, o: IntOptions): string {
  if (o.max !== undefined && o.min !== undefined) return `must be between ${o.min} and ${o.max}, got ${n}`;
  if (o.min === 1) return `must be a positive integer, got ${n}`;
  if (o.min === 0) return `must not be negative, got ${n}`;
  if (o.min !== undefined) return `must be at least ${o.min}, got ${n}`;
  return `must be at most ${o.max}, got ${n}`;
}

/** Validates an integer value at `path`; returns it, or undefined after recording an issue. */
export function checkInt(issues: Issues, path: string, v: unknown, o: IntOptions = {}): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    issues.add(path, `expected integer, got ${typeName(v)}`);
    return undefined;
  }
  if (!Number.isInteger(v)) {
    issues.add(path, `expected integer, got ${v}`);
    return undefined;
  }
  if ((o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max)) {
    issues.add(path, rangeMessage(v, o));
    return undefined;
  }
  return v;
}

export function checkDuration(issues: Issues, path: string, v: unknown): number | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') {
    issues.add(path, `expected duration (e.g. "250ms", "2s"), got ${typeName(v)}`);
    return undefined;
  }
  try {
    return parseDuration(v);
  } catch (e) {
    issues.add(path, (e as Error).message);
    return undefined;
  }
}

export function checkAddress(issues: Issues, path: string, v: unknown): Address | undefined {
  if (typeof v !== 'string') {
    issues.add(path, `expected address "host:port", got ${typeName(v)}`);
    return undefined;
  }
  try {
    return parseAddress(v);
  } catch (e) {
    issues.add(path, (e as Error).message);
    return undefined;
  }
}

export function checkString(issues: Issues, path: string, v: unknown, nonEmpty = false): string | undefined {
  if (typeof v !== 'string') {
    issues.add(path, `expected string, got ${typeName(v)}`);
    return undefined;
  }
  if (nonEmpty && v.trim() === '') {
    issues.add(path, 'must not be empty');
    return undefined;
  }
  return v;
}

/**
 * A view of one config object at `path`. Construct with `readObject`, which has already checked
 * the keys. Field readers return the value (or the default when absent) or undefined after
 * recording an issue.
 */
export class Reader {
  constructor(
    readonly issues: Issues,
    readonly path: string,
    readonly raw: Record<string, unknown>,
  ) {}

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }
  get(key: string): unknown {
    return this.raw[key];
  }
  at(key: string): string {
    return keyPath(this.path, key);
  }

  /** Records `<path>.<key>: required` when absent; returns whether it is present. */
  require(key: string): boolean {
    if (this.has(key)) return true;
    this.issues.add(this.at(key), 'required');
    return false;
  }

  string(key: string, o: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    if (!this.has(key)) {
      if (o.required) this.require(key);
      return undefined;
    }
    return checkString(this.issues, this.at(key), this.raw[key], o.nonEmpty);
  }

  int(key: string, def: number | undefined, o: IntOptions & { required?: boolean } = {}): number | undefined {
    if (!this.has(key)) {
      if (o.required) this.require(key);
      return def;
    }
    return checkInt(this.issues, this.at(key), this.raw[key], o);
  }

  duration(key: string, def: number | undefined, o: { required?: boolean } = {}): number | undefined {
    if (!this.has(key)) {
      if (o.required) this.require(key);
      return def;
    }
    return checkDuration(this.issues, this.at(key), this.raw[key]);
  }

  address(key: string, o: { required?: boolean } = {}): Address | undefined {
    if (!this.has(key)) {
      if (o.required) this.require(key);
      return undefined;
    }
    return checkAddress(this.issues, this.at(key), this.raw[key]);
  }

  boolean(key: string, def: boolean | undefined): boolean | undefined {
    if (!this.has(key)) return def;
    const v = this.raw[key];
    if (typeof v !== 'boolean') {
      this.issues.add(this.at(key), `expected boolean, got ${typeName(v)}`);
      return undefined;
    }
    return v;
  }

  /** One of a fixed set of strings (or numbers). */
  oneOf<T extends string | number>(key: string, values: readonly T[], def: T | undefined): T | undefined {
    if (!this.has(key)) return def;
    const v = this.raw[key];
    if (!values.includes(v as T)) {
      const list = values.map((x) => JSON.stringify(x)).join(', ');
      this.issues.add(this.at(key), `expected one of ${list}, got ${show(v)}`);
      return undefined;
    }
    return v as T;
  }

  array(key: string, o: { required?: boolean; nonEmpty?: string } = {}): unknown[] | undefined {
    if (!this.has(key)) {
      if (o.required) this.require(key);
      return undefined;
    }
    const v = this.raw[key];
    if (!Array.isArray(v)) {
      this.issues.add(this.at(key), `expected array, got ${typeName(v)}`);
      return undefined;
    }
    if (o.nonEmpty !== undefined && v.length === 0) {
      this.issues.add(this.at(key), o.nonEmpty);
      return undefined;
    }
    return v;
  }

  /** A nested object whose keys are free-form (a map); checks only that it is an object. */
  map(key: string): Record<string, unknown> | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw[key];
    if (!isPlainObject(v)) {
      this.issues.add(this.at(key), `expected object, got ${typeName(v)}`);
      return undefined;
    }
    return v;
  }

  /** A nested object with a fixed set of keys. */
  object(key: string, known: readonly string[], section?: ConfigSection): Reader | undefined {
    if (!this.has(key)) return undefined;
    return readObject(this.issues, this.at(key), this.raw[key], known, section);
  }
}

/**
 * Checks that `value` is an object whose keys are all in `known`; keys listed as not yet
 * supported for `section` get their own message. Returns a Reader, or undefined (issue recorded)
 * when `value` is not an object. Unknown keys do not stop the known ones from being read.
 */
export function readObject(
  issues: Issues,
  path: string,
  value: unknown,
  known: readonly string[],
  section?: ConfigSection,
): Reader | undefined {
  if (!isPlainObject(value)) {
    issues.add(path, `expected object, got ${typeName(value)}`);
    return undefined;
  }
  const unsupported: readonly string[] = section ? NOT_YET_SUPPORTED[section] : [];
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    if (unsupported.includes(key)) issues.add(keyPath(path, key), notSupportedMessage(key));
    else issues.add(keyPath(path, key), unknownKeyMessage(key, [...known, ...unsupported]));
  }
  return new Reader(issues, path, value);
}
