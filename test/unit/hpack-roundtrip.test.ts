/**
 * HPACK encoder -> decoder round trips: seeded random header lists (every latin1 octet, empty and
 * long values with multi-byte length integers), trailers, exact wire forms of the hot-path
 * fields, the encoder's size bound and RangeError, and peer table size updates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HpackDecoder, HpackEncoder } from '../../src/http/h2/hpack';
import { seededRandom } from '../fixtures/random';

function encode(enc: HpackEncoder, kv: string[]): Buffer {
  const buf = Buffer.alloc(HpackEncoder.maxLength(kv));
  const end = enc.encodeInto(kv, buf, 0);
  assert.ok(end <= buf.length);
  return buf.subarray(0, end);
}

function roundTrip(enc: HpackEncoder, dec: HpackDecoder, kv: string[]): void {
  const out: string[] = [];
  const size = dec.decode(encode(enc, kv), out, Infinity);
  assert.deepEqual(out, kv);
  let expected = 0;
  for (let i = 0; i < kv.length; i += 2) expected += kv[i].length + kv[i + 1].length + 32;
  assert.equal(size, expected);
}

const NAMES = [':status', ':method', ':path', ':scheme', ':authority', 'content-type', 'content-length',
  'date', 'server', 'set-cookie', 'cookie', 'authorization', 'accept-encoding', 'x-request-id',
  'x-custom-header-with-a-rather-long-name', 'www-authenticate', 'grpc-status'];
const VALUES = ['200', '204', '404', '500', '302', 'GET', 'POST', '/', '/index.html', 'http', 'https',
  'gzip, deflate', '', 'text/plain'];

function randomString(rnd: () => number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(rnd() * 256));
  return s;
}

test('random header lists round-trip (seeded)', () => {
  const rnd = seededRandom(7541);
  const enc = new HpackEncoder();
  const dec = new HpackDecoder();
  for (let iter = 0; iter < 500; iter++) {
    const kv: string[] = [];
    const fields = Math.floor(rnd() * 12);
    for (let f = 0; f < fields; f++) {
      const r = rnd();
      const name = r < 0.6 ? NAMES[Math.floor(rnd() * NAMES.length)]
        : randomString(rnd, 1 + Math.floor(rnd() * 40)).toLowerCase();
      const v = rnd();
      const value = v < 0.3 ? VALUES[Math.floor(rnd() * VALUES.length)]
        : v < 0.95 ? randomString(rnd, Math.floor(rnd() * 200))
          : randomString(rnd, 16384 + Math.floor(rnd() * 5000));
      kv.push(name, value);
    }
    roundTrip(enc, dec, kv);
  }
});

test('every octet 0x00-0xff, empty values, >127 and >16383 octet values round-trip', () => {
  const enc = new HpackEncoder();
  const dec = new HpackDecoder();
  let all = '';
  for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
  roundTrip(enc, dec, [':status', '200', 'x-all', all, 'x-empty', '', 'content-type', '',
    'x-126', 'a'.repeat(126), 'x-127', 'b'.repeat(127), 'x-128', 'c'.repeat(128),
    'x-16383', 'd'.repeat(16383), 'x-16384', 'e'.repeat(16384), 'x-big', all.repeat(300)]);
  roundTrip(enc, dec, [all.slice(1).toLowerCase().repeat(1), 'v', 'n'.repeat(200), 'w']);
});

test('trailers without :status round-trip', () => {
  const enc = new HpackEncoder();
  const dec = new HpackDecoder();
  roundTrip(enc, dec, ['grpc-status', '0', 'grpc-message', '']);
  roundTrip(enc, dec, []);
});

test('hot-path fields have their exact compact wire forms', () => {
  const enc = new HpackEncoder();
  for (const [status, byte] of [['200', 0x88], ['204', 0x89], ['206', 0x8a], ['304', 0x8b], ['400', 0x8c],
    ['404', 0x8d], ['500', 0x8e]] as const) {
    assert.deepEqual([...encode(enc, [':status', status])], [byte]);
  }
  // :status 302 -> literal without indexing, name index 8, raw value
  assert.equal(encode(enc, [':status', '302']).toString('hex'), '0803333032');
  // content-type (31) > 14: 4-bit prefix overflows into a second octet
  assert.equal(encode(enc, ['content-type', 'a']).toString('hex'), '0f1001' + '61');
  // unknown name: literal name
  assert.equal(encode(enc, ['x-a', 'b']).toString('hex'), '0003782d610162');
  // credentials are never indexed
  assert.equal(encode(enc, ['authorization', 'x'])[0], 0x1f);
  assert.equal(encode(enc, ['cookie', 'a=b'])[0], 0x1f);
  assert.equal(encode(enc, ['cookie', 'a'.repeat(40)])[0], 0x0f);
  assert.equal(encode(enc, [':method', 'GET', ':scheme', 'https', ':path', '/']).toString('hex'), '828784');
});

test('encodeInto honours offset and throws RangeError when the target is too small', () => {
  const enc = new HpackEncoder();
  const kv = [':status', '200', 'content-type', 'text/plain', 'x-long', 'z'.repeat(300)];
  const exact = encode(enc, kv);
  const buf = Buffer.alloc(exact.length + 5);
  assert.equal(enc.encodeInto(kv, buf, 5), buf.length);
  assert.deepEqual(buf.subarray(5), exact);
  for (let len = 0; len < exact.length; len++) {
    assert.throws(() => enc.encodeInto(kv, Buffer.alloc(len), 0), RangeError, `length ${len}`);
  }
  assert.ok(HpackEncoder.maxLength(kv) >= exact.length);
});

test('a shrinking peer table size is signalled once, at the start of the next block', () => {
  const enc = new HpackEncoder();
  const dec = new HpackDecoder(4096);
  enc.setPeerMaxTableSize(8192); // growing: nothing to signal (we never index)
  assert.equal(encode(enc, [':status', '200']).toString('hex'), '88');
  enc.setPeerMaxTableSize(100);
  enc.setPeerMaxTableSize(0);
  enc.setPeerMaxTableSize(50); // smallest in the interval is what must be signalled
  // RangeError must not consume the pending update
  assert.throws(() => enc.encodeInto([':status', '200'], Buffer.alloc(1), 0), RangeError);
  const block = encode(enc, [':status', '200']);
  assert.equal(block.toString('hex'), '2088');
  const out: string[] = [];
  dec.decode(block, out, Infinity);
  assert.deepEqual(out, [':status', '200']);
  assert.equal(dec.tableLimit, 0);
  assert.equal(encode(enc, [':status', '200']).toString('hex'), '88');
  enc.setPeerMaxTableSize(4096);
  assert.equal(encode(enc, [':status', '200']).toString('hex'), '88');
});
