/**
 * HPACK Huffman code (RFC 7541 Appendix B): the canonical code lengths typed in as spec data, the
 * codes derived from them at module load, a 4-bit (nibble) decoding state machine built from the
 * code tree, and a plain bit-packing encoder (used by tests and available to anyone who wants it).
 * Must never: allocate per decoded string (callers pass a scratch buffer), or accept an encoded
 * string with more than 7 bits of padding, padding that is not all ones, or the EOS symbol.
 */

/**
 * Code length in bits of symbols 0..255 and EOS (256), RFC 7541 Appendix B. The code is canonical:
 * codes are assigned in order of (length, symbol), which buildCodes() relies on.
 */
const LENGTHS: readonly number[] = [
  // 0-31: control bytes
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  // 32-63: ' ' .. '?'
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  // 64-95: '@' .. '_'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  // 96-127: '`' .. DEL
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  // 128-255
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  // 256: EOS
  30,
];

const EOS = 256;

/** Code of each symbol, right-aligned (LSB), as in the "code as hex" column of Appendix B. */
export const HUFFMAN_CODES = new Uint32Array(257);
/** Bit length of each symbol's code. */
export const HUFFMAN_LENGTHS = Uint8Array.from(LENGTHS);

function buildCodes(): void {
  if (LENGTHS.length !== 257) throw new Error('hpack: Huffman length table must have 257 entries');
  const order: number[] = [];
  for (let s = 0; s < 257; s++) order.push(s);
  order.sort((a, b) => LENGTHS[a] - LENGTHS[b] || a - b);
  let code = 0;
  let len = LENGTHS[order[0]];
  for (let i = 0; i < order.length; i++) {
    const s = order[i];
    code = code * 2 ** (LENGTHS[s] - len); // shift left without 32-bit sign trouble
    len = LENGTHS[s];
    HUFFMAN_CODES[s] = code;
    code++;
  }
  // A complete prefix code ends exactly at 2^len: the last code (EOS) is all ones.
  if (code !== 2 ** len) throw new Error('hpack: Huffman length table is not a complete code');
}
buildCodes();

// ---- decoding state machine ---------------------------------------------------------------
// Tree nodes: internal nodes get ids 0..255 (0 = root). For each internal node and each nibble,
// DECODE_TABLE holds: bits 0-7 next state, bits 8-15 emitted symbol, bit 16 "emits a symbol",
// bit 17 "accepting" (the bits consumed since the last symbol are <= 7 ones: valid padding),
// bit 18 "fail" (EOS reached).
const F_EMIT = 1 << 16;
const F_ACCEPT = 1 << 17;
const F_FAIL = 1 << 18;

const DECODE_TABLE = new Uint32Array(256 * 16);

function buildDecodeTable(): void {
  // children[node*2 + bit]: >= 0 internal node id, < 0 leaf -(symbol + 1).
  const children: number[] = [-0x7fffffff, -0x7fffffff];
  let nodes = 1;
  for (let s = 0; s < 257; s++) {
    const len = LENGTHS[s];
    const code = HUFFMAN_CODES[s];
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = Math.floor(code / 2 ** i) & 1;
      const slot = node * 2 + bit;
      if (i === 0) {
        children[slot] = -(s + 1);
      } else {
        if (children[slot] === -0x7fffffff || children[slot] === undefined) {
          children[slot] = nodes;
          children[nodes * 2] = -0x7fffffff;
          children[nodes * 2 + 1] = -0x7fffffff;
          nodes++;
        }
        node = children[slot];
      }
    }
  }
  if (nodes !== 256) throw new Error('hpack: Huffman tree must have 256 internal nodes');
  // Accepting states: root and the all-ones path of depth 1..7.
  const accepting = new Uint8Array(256);
  accepting[0] = 1;
  for (let n = 0, d = 0; d < 7; d++) {
    n = children[n * 2 + 1];
    accepting[n] = 1;
  }
  for (let state = 0; state < 256; state++) {
    for (let nib = 0; nib < 16; nib++) {
      let node = state;
      let entry = 0;
      for (let i = 3; i >= 0; i--) {
        const c = children[node * 2 + ((nib >> i) & 1)];
        if (c < 0) {
          const sym = -c - 1;
          if (sym === EOS) { entry |= F_FAIL; break; }
          entry |= F_EMIT | (sym << 8); // at most one symbol per nibble: shortest code is 5 bits
          node = 0;
        } else {
          node = c;
        }
      }
      if (!(entry & F_FAIL)) {
        entry |= node;
        if (accepting[node]) entry |= F_ACCEPT;
      }
      DECODE_TABLE[state * 16 + nib] = entry;
    }
  }
}
buildDecodeTable();

/**
 * Decodes the Huffman string src[start, end) into out (from 0). Returns the decoded length, or -1
 * if the input is invalid (EOS, bad padding). out must hold at least huffmanMaxDecodedLength(end - start).
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let state = 0;
  let accept = true;
  let n = 0;
  const table = DECODE_TABLE;
  for (let i = start; i < end; i++) {
    const b = src[i];
    let e = table[(state << 4) | (b >> 4)];
    if (e & F_FAIL) return -1;
    if (e & F_EMIT) out[n++] = (e >> 8) & 0xff;
    state = e & 0xff;
    e = table[(state << 4) | (b & 0x0f)];
    if (e & F_FAIL) return -1;
    if (e & F_EMIT) out[n++] = (e >> 8) & 0xff;
    state = e & 0xff;
    accept = (e & F_ACCEPT) !== 0;
  }
  return accept ? n : -1;
}

/** Upper bound of the decoded length of an n-octet Huffman string (shortest code: 5 bits). */
export function huffmanMaxDecodedLength(n: number): number {
  return Math.floor((n * 8) / 5);
}

/** Length in octets of the Huffman encoding of the latin1 string s. */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff];
  return (bits + 7) >> 3;
}

/**
 * Writes the Huffman encoding of latin1 string s at target[offset]; returns the end offset.
 * The caller makes sure huffmanEncodedLength(s) octets fit.
 */
export function huffmanEncode(s: string, target: Uint8Array, offset: number): number {
  let acc = 0; // pending bits, right-aligned; never more than 7 + 30 bits so keep in a float-safe way
  let accBits = 0;
  let pos = offset;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const len = HUFFMAN_LENGTHS[sym];
    acc = acc * 2 ** len + HUFFMAN_CODES[sym]; // < 2^37: exact in a double
    accBits += len;
    while (accBits >= 8) {
      accBits -= 8;
      const byte = Math.floor(acc / 2 ** accBits);
      target[pos++] = byte;
      acc -= byte * 2 ** accBits;
    }
  }
  if (accBits > 0) {
    // pad with the most significant bits of EOS (all ones)
    target[pos++] = (acc << (8 - accBits)) | (0xff >> accBits);
  }
  return pos;
}
