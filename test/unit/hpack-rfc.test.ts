/**
 * HPACK decoder against RFC 7541 Appendix C (C.2 single fields, C.3/C.4 request sequences,
 * C.5/C.6 response sequences with a 256-octet table and evictions) and the Huffman code table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HpackDecoder, huffmanDecode, huffmanEncode, huffmanEncodedLength } from '../../src/http/h2/hpack';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from '../../src/http/h2/hpack/huffman';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function decodeAll(d: HpackDecoder, block: Buffer): string[] {
  const out: string[] = [];
  d.decode(block, out, Infinity);
  return out;
}

interface Step { block: string; headers: string[]; table: string[]; size: number }

function runSequence(tableSize: number, steps: Step[]): void {
  const d = new HpackDecoder(tableSize);
  for (const [i, s] of steps.entries()) {
    const out: string[] = [];
    const listSize = d.decode(hex(s.block), out, Infinity);
    assert.deepEqual(out, s.headers, `step ${i} headers`);
    let expected = 0;
    for (let j = 0; j < s.headers.length; j += 2) expected += s.headers[j].length + s.headers[j + 1].length + 32;
    assert.equal(listSize, expected, `step ${i} list size`);
    assert.deepEqual(d.tableEntries(), s.table, `step ${i} table`);
    assert.equal(d.tableSize, s.size, `step ${i} table size`);
  }
}

test('C.2.1 literal with indexing', () => {
  const d = new HpackDecoder();
  assert.deepEqual(decodeAll(d, hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572')),
    ['custom-key', 'custom-header']);
  assert.deepEqual(d.tableEntries(), ['custom-key', 'custom-header']);
  assert.equal(d.tableSize, 55);
});

test('C.2.2 literal without indexing', () => {
  const d = new HpackDecoder();
  assert.deepEqual(decodeAll(d, hex('040c 2f73 616d 706c 652f 7061 7468')), [':path', '/sample/path']);
  assert.deepEqual(d.tableEntries(), []);
  assert.equal(d.tableSize, 0);
});

test('C.2.3 literal never indexed', () => {
  const d = new HpackDecoder();
  assert.deepEqual(decodeAll(d, hex('1008 7061 7373 776f 7264 0673 6563 7265 74')), ['password', 'secret']);
  assert.deepEqual(d.tableEntries(), []);
});

test('C.2.4 indexed field', () => {
  const d = new HpackDecoder();
  assert.deepEqual(decodeAll(d, hex('82')), [':method', 'GET']);
  assert.equal(d.tableSize, 0);
});

const REQ1 = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com'];
const REQ2 = [...REQ1, 'cache-control', 'no-cache'];
const REQ3 = [':method', 'GET', ':scheme', 'https', ':path', '/index.html', ':authority', 'www.example.com',
  'custom-key', 'custom-value'];
const T1 = [':authority', 'www.example.com'];
const T2 = ['cache-control', 'no-cache', ...T1];
const T3 = ['custom-key', 'custom-value', ...T2];

test('C.3 request sequence without Huffman', () => {
  runSequence(4096, [
    { block: '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d', headers: REQ1, table: T1, size: 57 },
    { block: '8286 84be 5808 6e6f 2d63 6163 6865', headers: REQ2, table: T2, size: 110 },
    { block: '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
      headers: REQ3, table: T3, size: 164 },
  ]);
});

test('C.4 request sequence with Huffman', () => {
  runSequence(4096, [
    { block: '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', headers: REQ1, table: T1, size: 57 },
    { block: '8286 84be 5886 a8eb 1064 9cbf', headers: REQ2, table: T2, size: 110 },
    { block: '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf', headers: REQ3, table: T3, size: 164 },
  ]);
});

const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOC = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RES1 = [':status', '302', 'cache-control', 'private', 'date', DATE1, 'location', LOC];
const RES2 = [':status', '307', 'cache-control', 'private', 'date', DATE1, 'location', LOC];
const RES3 = [':status', '200', 'cache-control', 'private', 'date', DATE2, 'location', LOC,
  'content-encoding', 'gzip', 'set-cookie', COOKIE];
const RT1 = ['location', LOC, 'date', DATE1, 'cache-control', 'private', ':status', '302'];
const RT2 = [':status', '307', 'location', LOC, 'date', DATE1, 'cache-control', 'private'];
const RT3 = ['set-cookie', COOKIE, 'content-encoding', 'gzip', 'date', DATE2];

test('C.5 response sequence without Huffman, 256-octet table with evictions', () => {
  runSequence(256, [
    { block: `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
      2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
      headers: RES1, table: RT1, size: 222 },
    { block: '4803 3330 37c1 c0bf', headers: RES2, table: RT2, size: 222 },
    { block: `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
      54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
      5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`,
      headers: RES3, table: RT3, size: 215 },
  ]);
});

test('C.6 response sequence with Huffman, 256-octet table with evictions', () => {
  runSequence(256, [
    { block: `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
      2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`, headers: RES1, table: RT1, size: 222 },
    { block: '4883 640e ffc1 c0bf', headers: RES2, table: RT2, size: 222 },
    { block: `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
      77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
      9587 3160 65c0 03ed 4ee5 b106 3d50 07`, headers: RES3, table: RT3, size: 215 },
  ]);
});

test('Huffman codes derived from the lengths match Appendix B spot values', () => {
  // (symbol, code as hex, length) straight from RFC 7541 Appendix B
  const spots: Array<[number, number, number]> = [
    [0, 0x1ff8, 13], [1, 0x7fffd8, 23], [10, 0x3ffffffc, 30], [32, 0x14, 6], [48, 0x0, 5],
    [58, 0x5c, 7], [92, 0x7fff0, 19], [97, 0x3, 5], [127, 0xffffffc, 28], [128, 0xfffe6, 20],
    [192, 0x3ffffe0, 26], [203, 0x7ffffde, 27], [220, 0xffffffd, 28], [255, 0x3ffffee, 26],
    [256, 0x3fffffff, 30],
  ];
  for (const [sym, code, len] of spots) {
    assert.equal(HUFFMAN_CODES[sym], code, `code of ${sym}`);
    assert.equal(HUFFMAN_LENGTHS[sym], len, `length of ${sym}`);
  }
});

test('Huffman encode matches the Appendix C strings and round-trips every octet', () => {
  const cases: Array<[string, string]> = [
    ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'], ['no-cache', 'a8eb 1064 9cbf'],
    ['custom-key', '25a8 49e9 5ba9 7d7f'], ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
    ['302', '6402'], ['private', 'aec3 771a 4b'], ['gzip', '9bd9 ab'], [LOC, '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
  ];
  for (const [s, h] of cases) {
    const buf = Buffer.alloc(huffmanEncodedLength(s));
    assert.equal(huffmanEncode(s, buf, 0), buf.length);
    assert.equal(buf.toString('hex'), h.replace(/ /g, ''), s);
  }
  let all = '';
  for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
  for (const s of [all, all.split('').reverse().join(''), '\x00', '\xff', 'a']) {
    const buf = Buffer.alloc(huffmanEncodedLength(s));
    huffmanEncode(s, buf, 0);
    const out = Buffer.alloc(s.length * 2 + 8);
    const n = huffmanDecode(buf, 0, buf.length, out);
    assert.equal(out.toString('latin1', 0, n), s);
  }
});
