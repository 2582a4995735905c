/**
 * HPACK header-block encoder tuned for CPU, not bytes: exact static-table matches (e.g. :status 200)
 * as indexed fields; everything else as a literal "without indexing" (or "never indexed" for
 * credentials) with the name from the static table when it is there, raw (non-Huffman) octets.
 * It never inserts into the peer's dynamic table, so the only table state it keeps is the size it
 * has told the peer's decoder to use: when the peer's SETTINGS_HEADER_TABLE_SIZE shrinks below
 * that, the next block starts with a size update (decoders such as nghttp2 insist on it).
 * Must never: write past target.length, or encode anything but latin1 octets (chars > 0xff are
 * truncated to their low byte: callers pass latin1 strings).
 */
import { STATIC_NAME_INDEX, STATIC_NAMES, STATIC_VALUES } from './static-table';

type Latin1Buffer = Buffer & { latin1Write(s: string, offset: number, length: number): number };

/** Names whose values are never indexed (RFC 7541 7.1.3, RFC 9113 8.2.3), by static index. */
const IDX_AUTHORIZATION = 23;
const IDX_COOKIE = 32;
const IDX_PROXY_AUTHORIZATION = 49;
const IDX_SET_COOKIE = 55;
/** Cookie values shorter than this are never indexed (guessable by brute force, RFC 9113). */
const SHORT_COOKIE = 20;
/** Strings up to this length are copied with a JS loop; longer ones through latin1Write. */
const COPY_LOOP_MAX = 64;

function intLength(v: number, bits: number): number {
  const max = (1 << bits) - 1;
  if (v < max) return 1;
  v -= max;
  let n = 2;
  while (v >= 128) { v = Math.floor(v / 128); n++; }
  return n;
}

function writeInt(target: Buffer, pos: number, bits: number, flags: number, v: number): number {
  const max = (1 << bits) - 1;
  if (v < max) {
    target[pos++] = flags | v;
    return pos;
  }
  target[pos++] = flags | max;
  v -= max;
  while (v >= 128) {
    target[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  target[pos++] = v;
  return pos;
}

function writeString(target: Buffer, pos: number, s: string): number {
  const len = s.length;
  if (len < 127) target[pos++] = len;
  else pos = writeInt(target, pos, 7, 0, len);
  if (len <= COPY_LOOP_MAX) {
    for (let i = 0; i < len; i++) target[pos + i] = s.charCodeAt(i);
  } else {
    (target as Latin1Buffer).latin1Write(s, pos, len);
  }
  return pos + len;
}

/** The static index of the exact (name, value) pair, or 0. nidx is the name's first static index. */
function exactStatic(nidx: number, name: string, value: string): number {
  for (let j = nidx; j <= 16 && STATIC_NAMES[j - 1] === name; j++) {
    if (STATIC_VALUES[j - 1] === value) return j;
  }
  return 0;
}

export class HpackEncoder {
  /** The dynamic table limit the peer's decoder currently assumes (RFC 7540 default 4096). */
  private signalled = 4096;
  /** Smallest peer limit since the last block, if below `signalled`; -1 when nothing to signal. */
  private pending = -1;

  /**
   * Encodes kv = [name, value, ...] into target from offset; returns the end offset.
   * Throws RangeError (and changes no state) if target is too small.
   */
  encodeInto(kv: readonly string[], target: Buffer, offset: number): number {
    let pos = offset;
    const cap = target.length;
    if (pos < 0 || pos > cap) throw new RangeError('HPACK encode offset out of range');
    if (this.pending >= 0) {
      if (pos + intLength(this.pending, 5) > cap) throw new RangeError('HPACK encode target too small');
      pos = writeInt(target, pos, 5, 0x20, this.pending);
    }
    const n = kv.length - (kv.length & 1);
    for (let i = 0; i < n; i += 2) {
      const name = kv[i];
      const value = kv[i + 1];
      const nidx = STATIC_NAME_INDEX.get(name) ?? 0;
      if (nidx !== 0 && nidx <= 16) {
        const full = exactStatic(nidx, name, value);
        if (full !== 0) {
          if (pos >= cap) throw new RangeError('HPACK encode target too small');
          target[pos++] = 0x80 | full;
          continue;
        }
      }
      // Worst case: 2 octets representation + name index, or 1 + 6 + name; 6 + value.
      if (pos + 13 + name.length + value.length > cap) {
        const need = (nidx !== 0 ? intLength(nidx, 4) : 1 + intLength(name.length, 7) + name.length)
          + intLength(value.length, 7) + value.length;
        if (pos + need > cap) throw new RangeError('HPACK encode target too small');
      }
      let flags = 0x00;
      if (nidx === IDX_AUTHORIZATION || nidx === IDX_PROXY_AUTHORIZATION || nidx === IDX_SET_COOKIE ||
          (nidx === IDX_COOKIE && value.length < SHORT_COOKIE)) {
        flags = 0x10; // never indexed
      }
      if (nidx !== 0) {
        if (nidx < 15) target[pos++] = flags | nidx;
        else pos = writeInt(target, pos, 4, flags, nidx);
      } else {
        target[pos++] = flags;
        pos = writeString(target, pos, name);
      }
      pos = writeString(target, pos, value);
    }
    if (this.pending >= 0) {
      this.signalled = this.pending;
      this.pending = -1;
    }
    return pos;
  }

  /** An upper bound of encodeInto's output length for kv. */
  static maxLength(kv: readonly string[]): number {
    let total = 6; // a possible dynamic table size update
    const n = kv.length - (kv.length & 1);
    for (let i = 0; i < n; i += 2) total += 13 + kv[i].length + kv[i + 1].length;
    return total;
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE changed. */
  setPeerMaxTableSize(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`invalid HPACK table size ${n}`);
    const current = this.pending >= 0 ? this.pending : this.signalled;
    if (n < current) this.pending = n;
  }
}
