/**
 * The Bolt header map section (Java SimpleMapSerializer): repeated `i32 key length, key bytes,
 * i32 value length, value bytes`, strings in UTF-8; a value length of -1 means null (read as '').
 * Owns: reading that section into flat name/value pairs and writing it back.
 * Must never: read outside the section it is given, or throw while reading (a malformed tail is
 * dropped: the pairs read before it are kept).
 */

/**
 * Appends the pairs of `buf[start, end)` to `out` as lower-cased name, value. When `spelling` is
 * given, it receives lower-cased name → name as sent, for names that are not already lower-case.
 */
export function readHeaderMap(buf: Buffer, start: number, end: number, out: string[], spelling?: Map<string, string>): void {
  let p = start;
  if (end > buf.length) end = buf.length;
  while (p + 4 <= end) {
    const kl = buf.readInt32BE(p);
    p += 4;
    if (kl < 0 || p + kl + 4 > end) return;
    const key = kl === 0 ? '' : buf.toString('utf8', p, p + kl);
    p += kl;
    const vl = buf.readInt32BE(p);
    p += 4;
    let value = '';
    if (vl > 0) {
      if (p + vl > end) return;
      value = buf.toString('utf8', p, p + vl);
      p += vl;
    } else if (vl < -1) return;
    const lower = key.toLowerCase();
    if (spelling !== undefined && lower !== key) spelling.set(lower, key);
    out.push(lower, value);
  }
}

/** The names (lower-cased) present in a header map section. */
export function headerNames(buf: Buffer, start: number, end: number, spelling: Map<string, string>): Set<string> {
  const flat: string[] = [];
  readHeaderMap(buf, start, end, flat, spelling);
  const names = new Set<string>();
  for (let i = 0; i < flat.length; i += 2) names.add(flat[i]);
  return names;
}

/**
 * Serializes flat name/value pairs, skipping those `skip` rejects; names are written with their
 * original spelling when `spelling` knows it.
 */
export function writeHeaderMap(flat: readonly string[], skip: (name: string) => boolean, spelling: Map<string, string>): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i];
    if (skip(name)) continue;
    const k = Buffer.from(spelling.get(name) ?? name, 'utf8');
    const v = Buffer.from(flat[i + 1], 'utf8');
    const head = Buffer.allocUnsafe(4);
    head.writeInt32BE(k.length, 0);
    const mid = Buffer.allocUnsafe(4);
    mid.writeInt32BE(v.length, 0);
    parts.push(head, k, mid, v);
    total += 8 + k.length + v.length;
  }
  return Buffer.concat(parts, total);
}
