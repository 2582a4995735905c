/**
 * GuestMemory: bounds-checked access to one instance's linear memory, and host→guest copies
 * through the guest's own allocator (`malloc`, else `proxy_on_memory_allocate`). Views are
 * re-taken when an access falls outside them (memory.grow detaches the old ArrayBuffer, whose
 * views then read length 0). Short guest strings are decoded through a small cache of interned
 * strings (no allocation for the names and values a filter passes on every request).
 * Also the proxy-wasm header-map wire format (u32 count, u32 sizes, NUL-terminated latin1 bytes).
 * Must never: let an out-of-range guest pointer become a host exception other than
 * MemoryAccessError (host functions turn it into INVALID_MEMORY_ACCESS).
 */
import { FrameHeaderMap, type HeaderMap } from '../api';
import { Status } from './abi';
import type { WaMemory } from './wa';

export class MemoryAccessError extends Error {
  constructor(ptr: number, len: number) {
    super(`guest memory access out of bounds: ${ptr}+${len}`);
    this.name = 'MemoryAccessError';
  }
}

export type Allocator = (size: number) => number;

/** How header-map strings become bytes: latin1 for HTTP, UTF-8 for RPC attachments. */
export type PairEncoding = 'latin1' | 'utf8';

export class GuestMemory {
  private buf: ArrayBuffer | null = null;
  private dv!: DataView;
  private u8!: Buffer;

  constructor(private readonly memory: WaMemory, private readonly alloc: Allocator | null) {}

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  private refresh(): void {
    const b = this.memory.buffer;
    if (b !== this.buf) {
      this.buf = b;
      this.dv = new DataView(b);
      this.u8 = Buffer.from(b);
    }
  }

  /**
   * Bounds check. Memory only grows, and growing detaches the old buffer (its views read length
   * 0), so an access within the current view is valid without re-reading memory.buffer.
   */
  private check(ptr: number, len: number): void {
    if (ptr < 0 || len < 0) throw new MemoryAccessError(ptr, len);
    if (this.buf !== null && ptr + len <= this.u8.length) return;
    this.refresh();
    if (ptr + len > this.u8.length) throw new MemoryAccessError(ptr, len);
  }

  /** A view into guest memory (valid until the next call into the guest). */
  view(ptr: number, len: number): Buffer {
    ptr >>>= 0;
    len >>>= 0;
    this.check(ptr, len);
    return this.u8.subarray(ptr, ptr + len);
  }

  /** A copy of guest bytes (safe to keep). */
  copy(ptr: number, len: number): Buffer {
    return Buffer.from(this.view(ptr, len));
  }

  string(ptr: number, len: number, enc: BufferEncoding = 'utf8'): string {
    ptr >>>= 0;
    len >>>= 0;
    this.check(ptr, len);
    if (len <= INTERN_MAX && (enc === 'latin1' || enc === 'utf8')) return intern(this.u8, ptr, len, enc === 'latin1');
    return this.u8.toString(enc, ptr, ptr + len);
  }

  u32(ptr: number): number {
    ptr >>>= 0;
    this.check(ptr, 4);
    return this.dv.getUint32(ptr, true);
  }

  setU32(ptr: number, v: number): void {
    ptr >>>= 0;
    this.check(ptr, 4);
    this.dv.setUint32(ptr, v >>> 0, true);
  }

  setU64(ptr: number, v: bigint): void {
    ptr >>>= 0;
    this.check(ptr, 8);
    this.dv.setBigUint64(ptr, BigInt.asUintN(64, v), true);
  }

  /**
   * Copies `data` into a fresh guest allocation and stores its pointer and size (LE u32) at
   * `retPtr` / `retSize`. Zero length allocates nothing and stores 0/0.
   */
  copyOut(data: Uint8Array, retPtr: number, retSize: number): Status {
    const p = this.reserveOut(data.length, retPtr, retSize);
    if (p < 0) return Status.InternalFailure;
    if (p > 0) this.u8.set(data, p);
    return Status.Ok;
  }

  /** copyOut of a string encoded as `enc`, written straight into the guest allocation. */
  copyOutString(v: string, enc: PairEncoding, retPtr: number, retSize: number): Status {
    const n = enc === 'latin1' ? v.length : Buffer.byteLength(v, 'utf8');
    const p = this.reserveOut(n, retPtr, retSize);
    if (p < 0) return Status.InternalFailure;
    if (p > 0) this.u8.write(v, p, n, enc);
    return Status.Ok;
  }

  /**
   * Allocates `n` bytes in the guest (proxy_on_memory_allocate) and stores pointer and size at
   * `retPtr` / `retSize`: the pointer to fill, 0 when `n` is 0 (nothing to fill), -1 when the guest
   * could not allocate. Out-of-bounds return slots throw (→ INVALID_MEMORY_ACCESS).
   */
  private reserveOut(n: number, retPtr: number, retSize: number): number {
    retPtr >>>= 0;
    retSize >>>= 0;
    this.check(retPtr, 4);
    this.check(retSize, 4);
    let p = 0;
    if (n > 0) {
      if (this.alloc === null) return -1;
      p = this.alloc(n) >>> 0; // may grow memory: views are re-taken by check()
      if (p === 0) return -1;
      this.check(p, n);
      this.check(retPtr, 4);
      this.check(retSize, 4);
    }
    this.dv.setUint32(retPtr, p, true);
    this.dv.setUint32(retSize, n, true);
    return p;
  }

  /**
   * Serializes `kv` (see writePairs) straight into a fresh guest allocation, with no host-side
   * intermediate buffer, and stores its pointer and size at `retPtr` / `retSize`.
   */
  copyOutPairs(kv: readonly string[], enc: PairEncoding, retPtr: number, retSize: number): Status {
    retPtr >>>= 0;
    retSize >>>= 0;
    this.check(retPtr, 4);
    this.check(retSize, 4);
    if (this.alloc === null) return Status.InternalFailure;
    const n = pairsSize(kv, enc);
    const p = this.alloc(n) >>> 0; // may grow memory: views are re-taken below
    if (p === 0) return Status.InternalFailure;
    this.check(p, n);
    this.check(retPtr, 4);
    this.check(retSize, 4);
    writePairs(kv, enc, this.u8, p);
    this.dv.setUint32(retPtr, p, true);
    this.dv.setUint32(retSize, n, true);
    return Status.Ok;
  }
}

// ---- short-string interning ----------------------------------------------------------------------
// Filters pass the same short names and values (header names, small values) on every request;
// decoding them through Buffer#toString costs an allocation and ~100 ns each. A small direct-mapped
// cache of decoded strings, verified byte by byte, returns the same (immutable) string instead.

const INTERN_MAX = 32;
const INTERN_SLOTS = 1024;
const internCache: string[] = new Array<string>(INTERN_SLOTS).fill('');

/** The latin1 (or, for pure ASCII, UTF-8) string of u8[ptr, ptr+len); len <= INTERN_MAX. */
function intern(u8: Buffer, ptr: number, len: number, latin1: boolean): string {
  let h = len * 0x9e3779b1;
  for (let i = 0; i < len; i++) {
    const c = u8[ptr + i];
    if (c >= 0x80 && !latin1) return u8.toString('utf8', ptr, ptr + len);
    h = Math.imul(h ^ c, 0x01000193);
  }
  const slot = (h >>> 0) & (INTERN_SLOTS - 1);
  const hit = internCache[slot];
  if (hit.length === len) {
    let same = true;
    for (let i = 0; i < len; i++) {
      if (hit.charCodeAt(i) !== u8[ptr + i]) {
        same = false;
        break;
      }
    }
    if (same) return hit;
  }
  const s = u8.toString('latin1', ptr, ptr + len);
  internCache[slot] = s;
  return s;
}

/** The encoding of a header map's strings: UTF-8 for RPC frame views, latin1 (HTTP header bytes) else. */
export function mapEncoding(h: HeaderMap): PairEncoding {
  return h instanceof FrameHeaderMap ? 'utf8' : 'latin1';
}

/** Byte length of the serialized pairs of `kv` in `enc`. */
export function pairsSize(kv: readonly string[], enc: PairEncoding = 'latin1'): number {
  let size = 4 + (kv.length >> 1) * 8;
  if (enc === 'latin1') for (let i = 0; i < kv.length; i++) size += kv[i].length + 1;
  else for (let i = 0; i < kv.length; i++) size += Buffer.byteLength(kv[i], 'utf8') + 1;
  return size;
}

/**
 * Writes the serialized pairs of `kv` into `out` at `at` (exactly pairsSize bytes): u32 count,
 * (u32 key len, u32 value len)*, then key\0value\0 ... HTTP maps are latin1 (header bytes), RPC
 * maps (attachments, routing keys) UTF-8.
 */
export function writePairs(kv: readonly string[], enc: PairEncoding, out: Buffer, at: number): void {
  const count = kv.length >> 1;
  out.writeUInt32LE(count, at);
  let h = at + 4;
  let o = at + 4 + count * 8;
  for (let i = 0; i < kv.length; i += 2) {
    const kl = out.write(kv[i], o, enc);
    out[o + kl] = 0;
    o += kl + 1;
    const vl = out.write(kv[i + 1], o, enc);
    out[o + vl] = 0;
    o += vl + 1;
    out.writeUInt32LE(kl, h);
    out.writeUInt32LE(vl, h + 4);
    h += 8;
  }
}

/** Serializes header pairs into a new Buffer (see writePairs). */
export function serializePairs(kv: readonly string[], enc: PairEncoding = 'latin1'): Buffer {
  const out = Buffer.allocUnsafe(pairsSize(kv, enc));
  writePairs(kv, enc, out, 0);
  return out;
}

/** Parses the serialized pairs format; null when malformed. Strings are latin1. */
export function deserializePairs(b: Buffer, enc: PairEncoding = 'latin1'): string[] | null {
  if (b.length === 0) return [];
  if (b.length < 4) return null;
  const count = b.readUInt32LE(0);
  if (count > (b.length - 4) / 8) return null;
  let data = 4 + count * 8;
  const out: string[] = new Array(count * 2);
  for (let i = 0; i < count; i++) {
    const kl = b.readUInt32LE(4 + i * 8);
    const vl = b.readUInt32LE(8 + i * 8);
    if (data + kl + 1 + vl + 1 > b.length + 1) return null;
    out[i * 2] = b.toString(enc, data, data + kl);
    data += kl + 1;
    if (data + vl > b.length) return null;
    out[i * 2 + 1] = b.toString(enc, data, data + vl);
    data += vl + 1;
  }
  return out;
}
