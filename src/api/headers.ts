/**
 * HeaderMap: the one header view every layer uses, whatever the protocol.
 * Owns: an ordered multi-map of lower-case names to string values (pseudo-headers such as
 * `:method`, `:path`, `:authority`, `:scheme`, `:status` included, RPC keys such as `service`).
 * Must never: parse or validate protocol syntax, or allocate per lookup (lookups are linear
 * scans over a flat array, which beat a Map for the dozen headers a request carries).
 */
export class HeaderMap {
  /** Flat storage: name0, value0, name1, value1, ... Names are lower-case. */
  protected kv: string[];

  constructor(flat?: string[]) {
    this.kv = flat ?? [];
  }

  /** Builds a map from a plain object; names are lower-cased, array values become repeats. */
  static from(obj: Record<string, string | number | readonly string[] | undefined>): HeaderMap {
    const m = new HeaderMap();
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) m.add(k, String(x));
      else m.add(k, String(v));
    }
    return m;
  }

  get size(): number {
    return this.kv.length >> 1;
  }

  /** First value of `name` (lower-case), or undefined. */
  get(name: string): string | undefined {
    const kv = this.kv;
    for (let i = 0; i < kv.length; i += 2) if (kv[i] === name) return kv[i + 1];
    return undefined;
  }

  getAll(name: string): string[] {
    const out: string[] = [];
    const kv = this.kv;
    for (let i = 0; i < kv.length; i += 2) if (kv[i] === name) out.push(kv[i + 1]);
    return out;
  }

  has(name: string): boolean {
    const kv = this.kv;
    for (let i = 0; i < kv.length; i += 2) if (kv[i] === name) return true;
    return false;
  }

  /** Appends a value; `name` must already be lower-case. */
  add(name: string, value: string): void {
    this.kv.push(name, value);
  }

  /** Replaces every value of `name` with one value (appended when absent). */
  set(name: string, value: string): void {
    const kv = this.kv;
    const n = kv.length;
    let i = 0;
    while (i < n && kv[i] !== name) i += 2;
    if (i === n) {
      kv.push(name, value);
      return;
    }
    kv[i + 1] = value;
    this.compactFrom(name, i + 2);
  }

  /** Removes every value of `name`; returns whether anything was removed. */
  remove(name: string): boolean {
    const kv = this.kv;
    const n = kv.length;
    let i = 0;
    while (i < n && kv[i] !== name) i += 2;
    if (i === n) return false;
    this.compactFrom(name, i);
    return true;
  }

  /** Drops every pair named `name` at or after index `from`, in place (no splice per match). */
  private compactFrom(name: string, from: number): void {
    const kv = this.kv;
    const n = kv.length;
    let w = from;
    for (let r = from; r < n; r += 2) {
      if (kv[r] === name) continue;
      if (w !== r) {
        kv[w] = kv[r];
        kv[w + 1] = kv[r + 1];
      }
      w += 2;
    }
    if (w !== n) kv.length = w;
  }

  forEach(fn: (value: string, name: string) => void): void {
    const kv = this.kv;
    for (let i = 0; i < kv.length; i += 2) fn(kv[i + 1], kv[i]);
  }

  /** The raw flat array (name, value, ...). Callers must not keep it across mutations. */
  raw(): readonly string[] {
    return this.kv;
  }

  clone(): HeaderMap {
    return new HeaderMap(this.kv.slice());
  }

  toObject(): Record<string, string | string[]> {
    const o: Record<string, string | string[]> = {};
    const kv = this.kv;
    for (let i = 0; i < kv.length; i += 2) {
      const prev = o[kv[i]];
      if (prev === undefined) o[kv[i]] = kv[i + 1];
      else if (Array.isArray(prev)) prev.push(kv[i + 1]);
      else o[kv[i]] = [prev, kv[i + 1]];
    }
    return o;
  }
}
