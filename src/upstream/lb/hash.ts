/**
 * xxHash64 (Yann Collet's XXH64, seed 0..2^32-1) of a string's UTF-8 bytes, in 32-bit halves so
 * that no BigInt or object is allocated per call: results land in `hashHi` / `hashLo` exported as
 * getters of the last call, plus helpers giving a 53-bit position and a remainder modulo m.
 * Owns: the hash only. Must never: allocate per call for keys under 1 KiB, or depend on anything
 * but its input (the same key hashes the same in every process, on every machine).
 */

// The five 64-bit primes, as [hi, lo] 32-bit halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

// The result register of the 64-bit helpers below.
let rH = 0;
let rL = 0;

/** High 32 bits of the unsigned 64-bit product a * b (a, b unsigned 32-bit). */
function mulHi32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const m1 = a1 * b0 + ((a0 * b0) >>> 16);
  const m2 = a0 * b1 + (m1 & 0xffff);
  return (a1 * b1 + (m1 >>> 16) + (m2 >>> 16)) >>> 0;
}

/** (ah:al) * (bh:bl) mod 2^64 → rH:rL. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const lo = Math.imul(al, bl) >>> 0;
  rH = (mulHi32(al >>> 0, bl >>> 0) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
  rL = lo;
}

/** (ah:al) + (bh:bl) mod 2^64 → rH:rL. */
function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = (al >>> 0) + (bl >>> 0);
  rL = lo >>> 0;
  rH = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/** Rotate (h:l) left by r, 0 < r < 32 → rH:rL. */
function rotl(h: number, l: number, r: number): void {
  const nh = ((h << r) | (l >>> (32 - r))) >>> 0;
  rL = ((l << r) | (h >>> (32 - r))) >>> 0;
  rH = nh;
}

/** round(acc, input) = rotl(acc + input * P2, 31) * P1 → rH:rL. */
function round(ah: number, al: number, ih: number, il: number): void {
  mul(ih, il, P2H, P2L);
  add(ah, al, rH, rL);
  rotl(rH, rL, 31);
  mul(rH, rL, P1H, P1L);
}

let scratch = Buffer.allocUnsafe(1024);

function u32(b: Buffer, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

/** Last result of xxhash64(): high and low 32 bits. */
export let hashHi = 0;
export let hashLo = 0;

/** XXH64 of bytes [0, len) of `b` with a 32-bit seed; result in hashHi / hashLo. */
export function xxhash64Bytes(b: Buffer, len: number, seed = 0): void {
  const sH = 0, sL = seed >>> 0;
  let p = 0;
  let hH: number, hL: number;
  if (len >= 32) {
    add(sH, sL, P1H, P1L);
    add(rH, rL, P2H, P2L);
    let v1H = rH, v1L = rL;
    add(sH, sL, P2H, P2L);
    let v2H = rH, v2L = rL;
    let v3H = sH, v3L = sL;
    // seed - P1 = seed + (2^64 - P1)
    add(sH, sL, ~P1H >>> 0, ~P1L >>> 0);
    add(rH, rL, 0, 1);
    let v4H = rH, v4L = rL;
    const limit = len - 32;
    while (p <= limit) {
      round(v1H, v1L, u32(b, p + 4), u32(b, p)); v1H = rH; v1L = rL;
      round(v2H, v2L, u32(b, p + 12), u32(b, p + 8)); v2H = rH; v2L = rL;
      round(v3H, v3L, u32(b, p + 20), u32(b, p + 16)); v3H = rH; v3L = rL;
      round(v4H, v4L, u32(b, p + 28), u32(b, p + 24)); v4H = rH; v4L = rL;
      p += 32;
    }
    rotl(v1H, v1L, 1); hH = rH; hL = rL;
    rotl(v2H, v2L, 7); add(hH, hL, rH, rL); hH = rH; hL = rL;
    rotl(v3H, v3L, 12); add(hH, hL, rH, rL); hH = rH; hL = rL;
    rotl(v4H, v4L, 18); add(hH, hL, rH, rL); hH = rH; hL = rL;
    // mergeRound(h, v) = (h ^ round(0, v)) * P1 + P4
    round(0, 0, v1H, v1L); mul((hH ^ rH) >>> 0, (hL ^ rL) >>> 0, P1H, P1L); add(rH, rL, P4H, P4L); hH = rH; hL = rL;
    round(0, 0, v2H, v2L); mul((hH ^ rH) >>> 0, (hL ^ rL) >>> 0, P1H, P1L); add(rH, rL, P4H, P4L); hH = rH; hL = rL;
    round(0, 0, v3H, v3L); mul((hH ^ rH) >>> 0, (hL ^ rL) >>> 0, P1H, P1L); add(rH, rL, P4H, P4L); hH = rH; hL = rL;
    round(0, 0, v4H, v4L); mul((hH ^ rH) >>> 0, (hL ^ rL) >>> 0, P1H, P1L); add(rH, rL, P4H, P4L); hH = rH; hL = rL;
  } else {
    add(sH, sL, P5H, P5L);
    hH = rH; hL = rL;
  }
  // h += len (len < 2^32 here)
  add(hH, hL, 0, len); hH = rH; hL = rL;
  while (p + 8 <= len) {
    round(0, 0, u32(b, p + 4), u32(b, p));
    rotl((hH ^ rH) >>> 0, (hL ^ rL) >>> 0, 27);
    mul(rH, rL, P1H, P1L);
    add(rH, rL, P4H, P4L); hH = rH; hL = rL;
    p += 8;
  }
  if (p + 4 <= len) {
    mul(0, u32(b, p), P1H, P1L);
    rotl((hH ^ rH) >>> 0, (hL ^ rL) >>> 0, 23);
    mul(rH, rL, P2H, P2L);
    add(rH, rL, P3H, P3L); hH = rH; hL = rL;
    p += 4;
  }
  while (p < len) {
    mul(0, b[p], P5H, P5L);
    rotl((hH ^ rH) >>> 0, (hL ^ rL) >>> 0, 11);
    mul(rH, rL, P1H, P1L); hH = rH; hL = rL;
    p++;
  }
  // Avalanche.
  hL = (hL ^ (hH >>> 1)) >>> 0; // h ^= h >> 33
  mul(hH, hL, P2H, P2L); hH = rH; hL = rL;
  hL = (hL ^ ((hL >>> 29) | (hH << 3))) >>> 0; // h ^= h >> 29
  hH = (hH ^ (hH >>> 29)) >>> 0;
  mul(hH, hL, P3H, P3L); hH = rH; hL = rL;
  hL = (hL ^ hH) >>> 0; // h ^= h >> 32
  hashHi = hH;
  hashLo = hL;
}

/** XXH64 of the UTF-8 bytes of `s`; result in hashHi / hashLo. */
export function xxhash64(s: string, seed = 0): void {
  if (s.length * 3 > scratch.length) {
    if (s.length > 65536) {
      const b = Buffer.from(s, 'utf8');
      xxhash64Bytes(b, b.length, seed);
      return;
    }
    scratch = Buffer.allocUnsafe(s.length * 3);
  }
  const n = scratch.write(s, 0, 'utf8');
  xxhash64Bytes(scratch, n, seed);
}

/** XXH64 as 16 lower-case hex digits (tests, debugging). */
export function xxhash64Hex(s: string, seed = 0): string {
  xxhash64(s, seed);
  return hashHi.toString(16).padStart(8, '0') + hashLo.toString(16).padStart(8, '0');
}

const TWO32 = 4294967296;

/** The top 53 bits of XXH64(s) as an exact integer in [0, 2^53): a ring position. */
export function hash53(s: string, seed = 0): number {
  xxhash64(s, seed);
  return hashHi * 2097152 + (hashLo >>> 11); // hi * 2^21 + lo / 2^11
}

/** XXH64(s) mod m, exact for m < 2^21. */
export function hashMod(s: string, m: number, seed = 0): number {
  xxhash64(s, seed);
  return ((hashHi % m) * TWO32 + hashLo) % m;
}
