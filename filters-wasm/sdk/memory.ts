// Switchyard proxy-wasm SDK: guest memory — the allocator the host calls, the return slots host calls
// write into, a reusable scratch block for short-lived host data, and byte<->string codecs.
// Must never keep a pointer into scratch across host calls (the next call reuses it) and never
// hand scratch memory to user code: users get strings or ArrayBuffers they own.
//
// How host data lands in guest memory (see `arm*` below): before a host call that returns bytes the
// SDK "arms" the allocator. SCRATCH: the host's allocation is served from one growing raw block that
// is reused call after call (no allocation, no free, the bytes are decoded right away). BUFFER: the
// host's allocation is a pinned ArrayBuffer object that is handed to the user as is (zero copies in
// the guest). Unarmed allocations (a host allocating on its own) get a plain heap block.

import { Status } from "./types";
import { OBJECT, TOTAL_OVERHEAD } from "rt/common";

/** Return slots for host calls: [0] pointer, [4] size, [8] u32 / cas, [16] u64. */
export const RET: usize = memory.data(24, 8);

const MODE_NONE: i32 = 0;
const MODE_SCRATCH: i32 = 1;
const MODE_BUFFER: i32 = 2;
/** Host data larger than this is never kept in the scratch block (it's freed after use instead). */
const SCRATCH_MAX: usize = 64 * 1024;

let mode: i32 = MODE_NONE;
let inScratch: usize = 0;
let inCap: usize = 0;
let pinned: usize = 0;

/** Called by the host (exported as proxy_on_memory_allocate and malloc). */
export function allocate(size: usize): usize {
  const m = mode;
  mode = MODE_NONE;
  if (m == MODE_BUFFER) {
    const p = __new(size, idof<ArrayBuffer>());
    __pin(p);
    pinned = p;
    return p;
  }
  if (m == MODE_SCRATCH && size <= SCRATCH_MAX) {
    if (size > inCap) {
      if (inScratch != 0) heap.free(inScratch);
      let cap: usize = inCap == 0 ? 256 : inCap << 1;
      while (cap < size) cap <<= 1;
      inScratch = heap.alloc(cap);
      inCap = cap;
    }
    return inScratch;
  }
  return heap.alloc(size == 0 ? 1 : size);
}

// @ts-ignore: decorator
@inline export function armScratch(): void { mode = MODE_SCRATCH; store<u32>(RET, 0); store<u32>(RET, 0, 4); }
// @ts-ignore: decorator
@inline export function armBuffer(): void { mode = MODE_BUFFER; store<u32>(RET, 0); store<u32>(RET, 0, 4); }

/** Pointer the last host call returned in the RET slots. */
// @ts-ignore: decorator
@inline export function retPtr(): usize { return load<u32>(RET) as usize; }
/** Size the last host call returned in the RET slots. */
// @ts-ignore: decorator
@inline export function retLen(): usize { return load<u32>(RET, 4) as usize; }
// @ts-ignore: decorator
@inline export function retU32(): u32 { return load<u32>(RET, 8); }
// @ts-ignore: decorator
@inline export function retU64(): u64 { return load<u64>(RET, 16); }

/** After a scratch-armed call: releases the host's block once its bytes have been consumed. */
export function releaseScratch(ptr: usize): void {
  mode = MODE_NONE;
  if (ptr != 0 && ptr != inScratch) heap.free(ptr);
}

/**
 * After a buffer-armed call: the host's bytes as an ArrayBuffer the caller owns, or null when the call
 * failed. Never copies when the host used the allocation it was offered.
 */
export function takeBuffer(status: i32): ArrayBuffer | null {
  mode = MODE_NONE;
  const p = pinned;
  pinned = 0;
  if (p != 0) __unpin(p);
  const ptr = retPtr();
  const len = retLen();
  if (status != Status.Ok) {
    if (ptr != 0 && ptr != p) heap.free(ptr);
    return null;
  }
  if (len == 0 || ptr == 0) return new ArrayBuffer(0);
  if (ptr == p && <usize>changetype<OBJECT>(p - TOTAL_OVERHEAD).rtSize == len) return changetype<ArrayBuffer>(p);
  const out = new ArrayBuffer(<i32>len);
  memory.copy(changetype<usize>(out), ptr, len);
  if (ptr != p) heap.free(ptr);
  return out;
}

// ---- outgoing scratch: strings encoded for a host call, reused call after call ----

let outScratch: usize = 0;
let outCap: usize = 0;

/** A raw block of at least `size` bytes valid until the next outBlock call. */
export function outBlock(size: usize): usize {
  if (size > outCap) {
    if (outScratch != 0) heap.free(outScratch);
    let cap: usize = outCap == 0 ? 256 : outCap << 1;
    while (cap < size) cap <<= 1;
    outScratch = heap.alloc(cap);
    outCap = cap;
  }
  return outScratch;
}

/** Upper bound of the bytes `writeText` produces for `s`. */
// @ts-ignore: decorator
@inline export function textBound(s: string): usize { return (<usize>s.length) * 3; }

/**
 * Writes `s` at `dst`: one byte per character when every character is below U+0100 (latin1, so header
 * bytes round-trip exactly), UTF-8 otherwise. Returns the number of bytes written.
 */
export function writeText(s: string, dst: usize): usize {
  const src = changetype<usize>(s);
  const n = <usize>s.length;
  for (let i: usize = 0; i < n; i++) {
    const c = load<u16>(src + (i << 1));
    if (c > 0xff) return String.UTF8.encodeUnsafe(src, <i32>n, dst);
    store<u8>(dst + i, <u8>c);
  }
  return n;
}

/** Reads `len` bytes at `ptr` as latin1 (each byte one character; lossless for any bytes). */
export function readLatin1(ptr: usize, len: usize): string {
  if (len == 0) return "";
  const out = __new(len << 1, idof<String>());
  for (let i: usize = 0; i < len; i++) store<u16>(out + (i << 1), load<u8>(ptr + i));
  return changetype<string>(out);
}

/** Reads `len` bytes at `ptr` as UTF-8. */
export function readUtf8(ptr: usize, len: usize): string {
  return len == 0 ? "" : String.UTF8.decodeUnsafe(ptr, len);
}

/** Encodes `s` as a new ArrayBuffer with the same rule as writeText (latin1 if it fits, else UTF-8). */
export function textBytes(s: string): ArrayBuffer {
  const tmp = outBlock(textBound(s));
  const n = writeText(s, tmp);
  const out = new ArrayBuffer(<i32>n);
  memory.copy(changetype<usize>(out), tmp, n);
  return out;
}

/** True when the `len` bytes at `ptr` equal `s` encoded by writeText's latin1 rule. */
export function bytesEqualText(ptr: usize, len: usize, s: string): bool {
  if (<usize>s.length != len) return false;
  const src = changetype<usize>(s);
  for (let i: usize = 0; i < len; i++) {
    if (<u32>load<u16>(src + (i << 1)) != <u32>load<u8>(ptr + i)) return false;
  }
  return true;
}

/** Case-insensitive ASCII comparison of raw bytes with `s` (header names). */
export function bytesEqualTextIgnoreCase(ptr: usize, len: usize, s: string): bool {
  if (<usize>s.length != len) return false;
  const src = changetype<usize>(s);
  for (let i: usize = 0; i < len; i++) {
    let a = <u32>load<u16>(src + (i << 1));
    let b = <u32>load<u8>(ptr + i);
    if (a - 65 < 26) a |= 32;
    if (b - 65 < 26) b |= 32;
    if (a != b) return false;
  }
  return true;
}
