/**
 * HPACK decoder failure modes: every malformed input class throws HpackError, the header-list
 * size limit (stop appending, keep the table in sync), and a seeded fuzz that only ever sees
 * HpackError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HpackDecoder, HpackEncoder, HpackError } from '../../src/http/h2/hpack';
import { seededRandom } from '../fixtures/random';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function decodeHex(s: string, d = new HpackDecoder()): string[] {
  const out: string[] = [];
  d.decode(hex(s), out, Infinity);
  return out;
}

const MALFORMED: Array<[string, string]> = [
  ['indexed field with index 0', '80'],
  ['indexed field past the empty dynamic table', 'be'],
  ['indexed field far past the tables', 'ff 80 01'],
  ['literal with indexing, name index past the tables', '7e 01 61'],
  ['literal without indexing, name index past the tables', '0f 30 01 61'],
  ['never-indexed literal, name index past the tables', '1f 30 01 61'],
  ['integer overflow above 2^31', 'ff ff ff ff ff 0f'],
  ['integer with too many continuation octets', 'ff 80 80 80 80 80 80 01'],
  ['integer truncated after the prefix', 'ff'],
  ['integer truncated in a continuation', 'ff 80'],
  ['string length truncated', '0f 10 7f'],
  ['name string truncated', '00 05 61 62'],
  ['missing name string', '00'],
  ['missing value string', '0f 10'],
  ['value string truncated', '0f 10 05 61'],
  ['huge string length', '0f 10 7f ff ff ff 07'],
  ['Huffman string containing EOS', '01 84 ff ff ff ff'],
  ['Huffman padding longer than 7 bits', '01 82 1f ff'],
  ['Huffman padding of exactly 8 ones', '01 81 ff'],
  ['Huffman padding not all ones', '01 81 18'],
  ['Huffman name invalid', '00 81 00 00'],
  ['size update above SETTINGS_HEADER_TABLE_SIZE', '3f e2 1f'],
  ['size update after a header field', '82 20'],
  ['size update after a literal field', '0f 10 01 61 3f e1 1f'],
];

for (const [what, block] of MALFORMED) {
  test(`malformed: ${what} throws HpackError`, () => {
    assert.throws(() => decodeHex(block), HpackError);
  });
}

test('well-formed edge cases near the malformed ones decode', () => {
  assert.deepEqual(decodeHex('3f e1 1f 82'), [':method', 'GET']); // size update to exactly 4096
  assert.deepEqual(decodeHex('20 3f e1 1f 20 82'), [':method', 'GET']); // several updates at start
  assert.deepEqual(decodeHex('01 81 1f'), [':authority', 'a']); // 'a' + 3 bits of padding
  assert.deepEqual(decodeHex('01 80'), [':authority', '']); // empty Huffman string
  assert.deepEqual(decodeHex(''), []);
  // integer of exactly 2^31 - 1 is read (then fails only as an index)
  assert.throws(() => decodeHex('ff 80 ff ff ff 07'), (e: unknown) => e instanceof HpackError && /range/.test(e.message));
});

test('size update to 0 evicts everything so index 62 becomes invalid', () => {
  const d = new HpackDecoder(4096);
  decodeHex('40 01 61 01 62', d);
  assert.deepEqual(decodeHex('be', d), ['a', 'b']);
  assert.throws(() => decodeHex('20 be', d), HpackError);
  assert.equal(d.tableSize, 0);
  const small = new HpackDecoder(40);
  decodeHex('40 01 61 01 62', small);
  assert.equal(small.tableSize, 34);
  decodeHex('40 01 61 0a 30313233343536373839', small); // 43 > 40: table emptied, no error
  assert.equal(small.tableSize, 0);
  assert.deepEqual(small.tableEntries(), []);
});

test('header-list size limit: stops appending, returns the full size, table stays in sync', () => {
  const d = new HpackDecoder();
  const out: string[] = [];
  // C.3.1: :method GET (42), :scheme http (43), :path / (38), :authority www.example.com (57)
  const size = d.decode(hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'), out, 90);
  assert.equal(size, 42 + 43 + 38 + 57);
  assert.deepEqual(out, [':method', 'GET', ':scheme', 'http']); // :path would make 123 > 90
  assert.equal(d.tableSize, 57); // the :authority literal was still indexed
  const out2: string[] = [];
  d.decode(hex('8286 84be 5808 6e6f 2d63 6163 6865'), out2, Infinity);
  assert.deepEqual(out2, [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com',
    'cache-control', 'no-cache']);
  // once over, later small fields are not appended either
  const out3: string[] = [];
  const enc = new HpackEncoder();
  const kv = ['x-big', 'v'.repeat(100), 'a', 'b'];
  const buf = Buffer.alloc(HpackEncoder.maxLength(kv));
  const n = enc.encodeInto(kv, buf, 0);
  assert.equal(d.decode(buf.subarray(0, n), out3, 50), 5 + 100 + 32 + 34);
  assert.deepEqual(out3, []);
});

function isHpackOnly(d: HpackDecoder, block: Buffer): void {
  try {
    d.decode(block, [], 1 << 16);
  } catch (e) {
    if (!(e instanceof HpackError)) {
      assert.fail(`non-HpackError ${String(e)} for block ${block.toString('hex')}`);
    }
  }
}

test('fuzz: random, mutated and truncated blocks only ever throw HpackError (seeded)', () => {
  const rnd = seededRandom(0x4a5c);
  const seeds = [
    '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
    '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
    '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad',
    '3f e1 1f 40 01 61 01 62 be 10 01 61 81 1f',
  ].map(hex);
  let errors = 0;
  let d = new HpackDecoder(4096);
  for (let i = 0; i < 6000; i++) {
    if (i % 100 === 0) d = new HpackDecoder(rnd() < 0.5 ? 4096 : 256);
    let block: Buffer;
    const kind = i % 3;
    if (kind === 0) {
      block = Buffer.alloc(Math.floor(rnd() * 48));
      for (let j = 0; j < block.length; j++) block[j] = Math.floor(rnd() * 256);
    } else {
      const seed = seeds[Math.floor(rnd() * seeds.length)];
      block = Buffer.from(seed.subarray(0, kind === 1 ? Math.floor(rnd() * (seed.length + 1)) : seed.length));
      if (kind === 2) {
        const flips = 1 + Math.floor(rnd() * 3);
        for (let f = 0; f < flips && block.length > 0; f++) block[Math.floor(rnd() * block.length)] = Math.floor(rnd() * 256);
      }
    }
    try {
      d.decode(block, [], 1 << 16);
    } catch (e) {
      if (!(e instanceof HpackError)) assert.fail(`non-HpackError ${String(e)} for ${block.toString('hex')}`);
      errors++;
    }
    isHpackOnly(new HpackDecoder(), block);
  }
  assert.ok(errors > 100, `fuzz produced errors (${errors})`);
  assert.ok(errors < 6000, 'fuzz produced successes too');
});
