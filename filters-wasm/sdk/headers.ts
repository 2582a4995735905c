// Switchyard proxy-wasm SDK: header maps — per-key access to a host map (one host call per operation,
// keys/values encoded into reused scratch, values decoded latin1), a cursor over a serialized map
// that decodes nothing until asked, a builder for serialized maps, and a byte-set for matching values
// without allocating. Must never fetch a whole map to answer a one-key question.

import {
  proxy_add_header_map_value, proxy_get_header_map_pairs, proxy_get_header_map_size, proxy_get_header_map_value,
  proxy_remove_header_map_value, proxy_replace_header_map_value, proxy_set_header_map_pairs,
} from "./imports";
import { Status } from "./types";
import {
  RET, armBuffer, armScratch, bytesEqualTextIgnoreCase, outBlock, readLatin1, releaseScratch, retLen, retPtr,
  takeBuffer, textBound, textBytes, writeText,
} from "./memory";

/** Set of byte strings for allocation-free matching of header values (e.g. accepted tokens). */
export class ByteSet {
  private items: Array<ArrayBuffer> = [];
  private byHash: Map<u32, Array<i32>> = new Map();

  /** Adds a string (latin1 if it fits, else UTF-8); returns its index. */
  add(s: string): i32 { return this.addBytes(textBytes(s)); }

  addBytes(b: ArrayBuffer): i32 {
    const i = this.items.length;
    this.items.push(b);
    const h = hashBytes(changetype<usize>(b), <usize>b.byteLength);
    if (this.byHash.has(h)) this.byHash.get(h).push(i);
    else this.byHash.set(h, [i]);
    return i;
  }

  get size(): i32 { return this.items.length; }

  /** Index of the entry equal to the `len` bytes at `ptr`, or -1. */
  indexOfRaw(ptr: usize, len: usize): i32 {
    const h = hashBytes(ptr, len);
    if (!this.byHash.has(h)) return -1;
    const cands = this.byHash.get(h);
    for (let k = 0; k < cands.length; k++) {
      const b = this.items[cands[k]];
      if (<usize>b.byteLength == len && memory.compare(changetype<usize>(b), ptr, len) == 0) return cands[k];
    }
    return -1;
  }

  indexOf(s: string): i32 {
    const tmp = outBlock(textBound(s));
    return this.indexOfRaw(tmp, writeText(s, tmp));
  }
}

function hashBytes(ptr: usize, len: usize): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i: usize = 0; i < len; i++) h = (h ^ load<u8>(ptr + i)) * 0x01000193;
  return h;
}

/** `HeaderMap.match` result when the header is absent. */
export const HEADER_ABSENT: i32 = -2;
/** `HeaderMap.match` result when the header is present but not in the set. */
export const NO_MATCH: i32 = -1;

/** One of the host's maps (request/response headers or trailers, http-call response headers...). */
export class HeaderMap {
  constructor(public readonly mapType: i32) {}

  /** The value of `name` (latin1-decoded), or null when absent. One host call. */
  get(name: string): string | null {
    const k = outBlock(textBound(name));
    const kl = writeText(name, k);
    armScratch();
    const st = proxy_get_header_map_value(this.mapType, k, kl, RET, RET + 4);
    const p = retPtr();
    if (st != Status.Ok) { releaseScratch(p); return null; }
    const v = readLatin1(p, retLen());
    releaseScratch(p);
    return v;
  }

  /** The raw value bytes of `name`, or null when absent. One host call, no copy in the guest. */
  getBytes(name: string): ArrayBuffer | null {
    const k = outBlock(textBound(name));
    const kl = writeText(name, k);
    armBuffer();
    return takeBuffer(proxy_get_header_map_value(this.mapType, k, kl, RET, RET + 4));
  }

  /** Whether `name` is present. One host call. */
  has(name: string): bool {
    const k = outBlock(textBound(name));
    const kl = writeText(name, k);
    armScratch();
    const st = proxy_get_header_map_value(this.mapType, k, kl, RET, RET + 4);
    releaseScratch(retPtr());
    return st == Status.Ok;
  }

  /**
   * Matches the value of `name` against `set` without allocating: the entry's index, NO_MATCH, or
   * HEADER_ABSENT. One host call.
   */
  match(name: string, set: ByteSet): i32 {
    const k = outBlock(textBound(name));
    const kl = writeText(name, k);
    armScratch();
    const st = proxy_get_header_map_value(this.mapType, k, kl, RET, RET + 4);
    const p = retPtr();
    const r = st != Status.Ok ? HEADER_ABSENT : set.indexOfRaw(p, retLen());
    releaseScratch(p);
    return r;
  }

  /** Appends a value (keeps existing ones). */
  add(name: string, value: string): i32 {
    const blk = outBlock(textBound(name) + textBound(value));
    const kl = writeText(name, blk);
    const vl = writeText(value, blk + kl);
    return proxy_add_header_map_value(this.mapType, blk, kl, blk + kl, vl);
  }

  /** Sets a value, replacing existing ones. */
  set(name: string, value: string): i32 {
    const blk = outBlock(textBound(name) + textBound(value));
    const kl = writeText(name, blk);
    const vl = writeText(value, blk + kl);
    return proxy_replace_header_map_value(this.mapType, blk, kl, blk + kl, vl);
  }

  remove(name: string): i32 {
    const k = outBlock(textBound(name));
    return proxy_remove_header_map_value(this.mapType, k, writeText(name, k));
  }

  /** add() with pre-encoded name and value: no encoding at all. */
  addBytes(name: ArrayBuffer, value: ArrayBuffer): i32 {
    return proxy_add_header_map_value(this.mapType, changetype<usize>(name), name.byteLength, changetype<usize>(value), value.byteLength);
  }

  setBytes(name: ArrayBuffer, value: ArrayBuffer): i32 {
    return proxy_replace_header_map_value(this.mapType, changetype<usize>(name), name.byteLength, changetype<usize>(value), value.byteLength);
  }

  removeBytes(name: ArrayBuffer): i32 {
    return proxy_remove_header_map_value(this.mapType, changetype<usize>(name), name.byteLength);
  }

  /** All pairs, as a cursor over the serialized map (one host call, nothing decoded up front). */
  pairs(): HeaderPairs {
    const raw = this.raw();
    return new HeaderPairs(raw === null ? new ArrayBuffer(0) : raw);
  }

  /** The serialized map as the host returned it, or null on failure. */
  raw(): ArrayBuffer | null {
    armBuffer();
    return takeBuffer(proxy_get_header_map_pairs(this.mapType, RET, RET + 4));
  }

  /** Replaces the whole map. */
  setAll(headers: Headers): i32 { return this.setRaw(headers.serialize()); }

  setRaw(serialized: ArrayBuffer): i32 {
    return proxy_set_header_map_pairs(this.mapType, changetype<usize>(serialized), serialized.byteLength);
  }

  /** Serialized size of the map in bytes. */
  serializedSize(): u32 {
    store<u32>(RET, 0, 4);
    proxy_get_header_map_size(this.mapType, RET + 4);
    return <u32>retLen();
  }
}

/**
 * Cursor over a serialized map: `while (it.next()) { if (it.nameIs("x")) v = it.value(); }`.
 * Malformed input ends the iteration instead of trapping.
 */
export class HeaderPairs {
  readonly count: u32;
  private base: usize;
  private end: usize;
  private index: u32 = 0;
  private sizes: usize;
  private data: usize;
  private kp: usize = 0;
  private kl: usize = 0;
  private vp: usize = 0;
  private vl: usize = 0;

  constructor(private readonly buf: ArrayBuffer) {
    this.base = changetype<usize>(buf);
    this.end = this.base + <usize>buf.byteLength;
    let n: u32 = buf.byteLength >= 4 ? load<u32>(this.base) : 0;
    if (<u64>4 + <u64>n * 8 > <u64>buf.byteLength) n = 0;
    this.count = n;
    this.sizes = this.base + 4;
    this.data = this.sizes + (<usize>n << 3);
  }

  /** Moves to the next pair; false at the end. */
  next(): bool {
    if (this.index >= this.count) return false;
    const kl = <usize>load<u32>(this.sizes + (<usize>this.index << 3));
    const vl = <usize>load<u32>(this.sizes + (<usize>this.index << 3) + 4);
    const kp = this.data;
    const vp = kp + kl + 1;
    if (<u64>vp + <u64>vl + 1 > <u64>this.end) { this.index = this.count; return false; }
    this.kp = kp; this.kl = kl; this.vp = vp; this.vl = vl;
    this.data = vp + vl + 1;
    this.index++;
    return true;
  }

  name(): string { return readLatin1(this.kp, this.kl); }
  value(): string { return readLatin1(this.vp, this.vl); }
  /** Case-insensitive comparison of the current name with `name`; allocates nothing. */
  nameIs(name: string): bool { return bytesEqualTextIgnoreCase(this.kp, this.kl, name); }
  nameBytes(): ArrayBuffer { return copyOut(this.kp, this.kl); }
  valueBytes(): ArrayBuffer { return copyOut(this.vp, this.vl); }
  /** Raw access for zero-copy work: the current name/value pointer and length inside the buffer. */
  get namePtr(): usize { return this.kp; }
  get nameLen(): usize { return this.kl; }
  get valuePtr(): usize { return this.vp; }
  get valueLen(): usize { return this.vl; }
}

function copyOut(p: usize, n: usize): ArrayBuffer {
  const b = new ArrayBuffer(<i32>n);
  memory.copy(changetype<usize>(b), p, n);
  return b;
}

/**
 * Builder of a serialized map (for send-local-response, http calls, setAll). Entries are remembered
 * as spans of their source buffers and copied once, by serialize().
 */
export class Headers {
  private srcs: Array<ArrayBuffer> = [];
  private offs: Array<u32> = [];
  private lens: Array<u32> = [];

  get length(): i32 { return this.lens.length >> 1; }

  add(name: string, value: string): Headers {
    return this.addBytes(textBytes(name), textBytes(value));
  }

  addBytes(name: ArrayBuffer, value: ArrayBuffer): Headers {
    this.span(name, 0, name.byteLength);
    this.span(value, 0, value.byteLength);
    return this;
  }

  /**
   * Appends every pair of a serialized map except those whose name is in `skip` (compared
   * case-sensitively on bytes; give lowercase names for HTTP/2-style maps). Copies no bytes now.
   */
  addAll(serialized: ArrayBuffer, skip: ByteSet | null = null): Headers {
    const it = new HeaderPairs(serialized);
    const base = changetype<usize>(serialized);
    while (it.next()) {
      if (skip !== null && skip.indexOfRaw(it.namePtr, it.nameLen) >= 0) continue;
      this.span(serialized, <u32>(it.namePtr - base), <u32>it.nameLen);
      this.span(serialized, <u32>(it.valuePtr - base), <u32>it.valueLen);
    }
    return this;
  }

  private span(src: ArrayBuffer, off: u32, len: u32): void {
    this.srcs.push(src);
    this.offs.push(off);
    this.lens.push(len);
  }

  /** The map in proxy-wasm serialization (count, sizes, NUL-terminated bytes). */
  serialize(): ArrayBuffer {
    const n = this.lens.length;
    let total: usize = 4 + (<usize>n << 2);
    for (let i = 0; i < n; i++) total += <usize>this.lens[i] + 1;
    const out = new ArrayBuffer(<i32>total);
    const base = changetype<usize>(out);
    store<u32>(base, <u32>(n >> 1));
    let d = base + 4 + (<usize>n << 2);
    for (let i = 0; i < n; i++) {
      const len = <usize>this.lens[i];
      store<u32>(base + 4 + (<usize>i << 2), <u32>len);
      memory.copy(d, changetype<usize>(this.srcs[i]) + <usize>this.offs[i], len);
      store<u8>(d + len, 0);
      d += len + 1;
    }
    return out;
  }
}

/** The maps a stream or call can touch. Shared instances: they hold only the map id. */
export const requestHeaders = new HeaderMap(0);
export const requestTrailers = new HeaderMap(1);
export const responseHeaders = new HeaderMap(2);
export const responseTrailers = new HeaderMap(3);
export const httpCallResponseHeaders = new HeaderMap(6);
export const httpCallResponseTrailers = new HeaderMap(7);
