/**
 * Header-map helpers for the host functions: name lower-casing without allocation when already
 * lower-case, joined multi-values that respect a frame view's lazy decoding, whole-map replace.
 * Must never: touch guest memory.
 */
import { FrameHeaderMap, type HeaderMap } from '../api';

/** Lower-cases a header name, without allocating when it already is (the common case). */
export function lower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.toLowerCase();
  }
  return s;
}

/** Every value of `name` joined with ',' (one value: itself), or undefined; no array for one value. */
export function joined(h: HeaderMap, name: string): string | undefined {
  if (h instanceof FrameHeaderMap) {
    // raw() would decode a frame's lazy part; getAll() knows which names need it.
    const all = h.getAll(name);
    return all.length === 0 ? undefined : all.length === 1 ? all[0] : all.join(',');
  }
  const first = h.get(name);
  if (first === undefined) return undefined;
  const kv = h.raw();
  let seen = 0;
  let out = first;
  for (let i = 0; i < kv.length; i += 2) {
    if (kv[i] !== name) continue;
    if (++seen > 1) out += ',' + kv[i + 1];
  }
  return out;
}

export function replaceAll(h: HeaderMap, kv: readonly string[]): void {
  const names = new Set<string>();
  h.forEach((_v, k) => names.add(k));
  for (const k of names) h.remove(k);
  for (let i = 0; i < kv.length; i += 2) h.add(lower(kv[i]), kv[i + 1]);
}
