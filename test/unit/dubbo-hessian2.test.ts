/**
 * The Dubbo codec's hessian2 reader and writer against hessian.js (written by others): every
 * string encoding, CESU-8 surrogates, the skipper over every type, attachments maps.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Hessian2Reader, HessianError, countParameters } from '../../protocols/dubbo/hessian2-reader';
import { Hessian2Writer, encodeString } from '../../protocols/dubbo/hessian2-writer';
import { hessian } from '../fixtures/dubbo-frames';

const enc = (v: unknown): Buffer => Buffer.from(hessian.encode(v, '2.0'));
const readStr = (b: Buffer): { s: string; pos: number } => {
  const r = new Hessian2Reader(b, 0, b.length);
  const s = r.readString();
  return { s, pos: r.pos };
};

const STRINGS: Array<[string, string]> = [
  ['empty', ''],
  ['compact ascii', 'hello'],
  ['compact 31', 'x'.repeat(31)],
  ['short 32', 'y'.repeat(32)],
  ['short 1023', 'z'.repeat(1023)],
  ['S 1024', 'a'.repeat(1024)],
  ['S 0x8000', 'b'.repeat(0x8000)],
  ['chunked R', 'c'.repeat(0x8000 + 1)],
  ['chunked 3 chunks', 'd'.repeat(0x8000 * 2 + 500)],
  ['latin1 and 2-byte', 'café ñandú ß'],
  ['3-byte', '中文字符串 日本語'],
  ['emoji (surrogate pair, CESU-8)', '😀'],
  ['mixed non-BMP', 'a😀b𝄞c中é'],
  ['many emoji, short form', '😀'.repeat(200)],
  ['many emoji, chunked', '😀'.repeat(30000)],
  ['pair on chunk boundary', 'e'.repeat(0x8000 - 1) + '😀' + 'f'.repeat(10)],
  ['lone surrogate', 'x\ud800y'],
];

for (const [name, s] of STRINGS) {
  test(`reads hessian.js string: ${name}`, () => {
    const b = enc(s);
    const { s: got, pos } = readStr(b);
    assert.equal(got, s);
    assert.equal(pos, b.length);
    const r = new Hessian2Reader(b, 0, b.length);
    r.skipString();
    assert.equal(r.pos, b.length);
  });
  test(`writer matches hessian.js bytes: ${name}`, () => {
    assert.deepEqual(encodeString(s), enc(s));
  });
}

test('CESU-8 is what Buffer.toString mangles, and the reader does not', () => {
  const b = enc('😀');
  assert.notEqual(b.subarray(1).toString('utf8'), '😀');
  assert.equal(readStr(b).s, '😀');
});

test('reads standard 4-byte UTF-8 as a surrogate pair (two units)', () => {
  const utf8 = Buffer.from('😀', 'utf8');
  const b = Buffer.concat([Buffer.from([2]), utf8]);
  assert.equal(readStr(b).s, '😀');
});

test('truncated and malformed strings throw HessianError, never read past end', () => {
  const b = enc('hello world');
  for (let cut = 0; cut < b.length; cut++) {
    const r = new Hessian2Reader(b, 0, cut);
    assert.throws(() => r.readString(), HessianError);
  }
  assert.throws(() => readStr(Buffer.from([0x02, 0x80, 0x41])), HessianError);
  assert.throws(() => readStr(Buffer.from([0x91])), HessianError);
  // end limit inside a larger buffer is respected
  const big = enc('x'.repeat(40));
  assert.throws(() => new Hessian2Reader(big, 0, 20).readString(), HessianError);
});

test('readInt over every int form hessian.js writes', () => {
  for (const v of [0, -16, 47, 48, -17, 2047, -2048, 2048, -2049, 262143, -262144, 262144, 2 ** 31 - 1, -(2 ** 31)]) {
    const b = enc(v);
    const r = new Hessian2Reader(b, 0, b.length);
    assert.equal(r.readInt(), v, `int ${v}`);
    assert.equal(r.pos, b.length);
  }
});

test('writer ints and maps decode with hessian.js', () => {
  for (const v of [0, -16, 47, 48, -17, 2047, -2048, 2048, 262143, -262144, 262144, 2 ** 31 - 1, -(2 ** 31)]) {
    const b = new Hessian2Writer().writeInt(v).toBuffer();
    assert.deepEqual(b, enc(v));
  }
  const m = new Hessian2Writer().writeStringMap(['a', '1', 'b', '😀']).toBuffer();
  assert.deepEqual(hessian.decode(m, '2.0'), { a: '1', b: '😀' });
  assert.equal(hessian.decode(new Hessian2Writer().writeNull().toBuffer(), '2.0'), null);
});

// ---- skipper ----

const jl = (v: number) => ({ $class: 'long', $: v });
const VALUES: Array<[string, unknown]> = [
  ['null', null],
  ['true', true],
  ['false', false],
  ['int compact', 5],
  ['int 2-byte', -2000],
  ['int 3-byte', 200000],
  ['int 5-byte', 2 ** 30],
  ['long 1-byte', jl(5)],
  ['long 2-byte', jl(1000)],
  ['long 3-byte', jl(100000)],
  ['long as int', jl(2 ** 31 - 1)],
  ['long 9-byte', jl(2 ** 40)],
  ['double 0', 0.0 + 0.5 - 0.5],
  ['double mills', 1.5],
  ['double full', Math.PI],
  ['double byte', { $class: 'double', $: 3 }],
  ['double short', { $class: 'double', $: 300 }],
  ['date ms', new Date(1700000000123)],
  ['date minutes', new Date(1700000040000)],
  ['binary compact', Buffer.alloc(3, 7)],
  ['binary short', Buffer.alloc(600, 7)],
  ['binary B', Buffer.alloc(5000, 7)],
  ['binary chunked', Buffer.alloc(70000, 7)],
  ['string', 'plain'],
  ['string chunked', 'q'.repeat(70000)],
  ['untyped fixed list', [1, 'two', null]],
  ['untyped long list', new Array(20).fill('x')],
  ['typed list', { $class: '[int', $: [1, 2, 3] }],
  ['typed long list', { $class: '[java.lang.String', $: new Array(12).fill('s') }],
  ['untyped map', { a: 1, b: [1, 2], c: { d: 'e' } }],
  ['es6 map with int keys', new Map<unknown, unknown>([[1, 'x'], [2, 'y']])],
  ['object', { $class: 'com.x.User', $: { id: 1, name: 'n', tags: ['a'] } }],
  ['nested objects and refs', (() => {
    const o = { $class: 'com.x.A', $: { a: 1 } };
    return [o, o, { $class: 'com.x.B', $: { inner: o, s: 'x' } }];
  })()],
  ['many classes (O with int)', Array.from({ length: 20 }, (_, i) => ({ $class: `com.x.C${i}`, $: { v: i } }))],
];

/** Encodes values with ONE encoder (shared class table), then a sentinel string. */
function encodeSeq(values: unknown[]): Buffer {
  const e = new hessian.EncoderV2({ size: 1024 });
  for (const v of values) e.write(v);
  e.writeString('END');
  return Buffer.from(e.get());
}

function skipThenSentinel(b: Buffer, n: number): void {
  const r = new Hessian2Reader(b, 0, b.length);
  for (let i = 0; i < n; i++) r.skipValue();
  assert.equal(r.readString(), 'END');
  assert.equal(r.pos, b.length);
}

for (const [name, v] of VALUES) {
  test(`skips hessian.js value: ${name}`, () => {
    skipThenSentinel(encodeSeq([v]), 1);
    // the same class definitions reused by a second value, as in a Dubbo argument list
    skipThenSentinel(encodeSeq([v, v]), 2);
  });
}

test('skips every value in one sequence sharing class definitions', () => {
  const vals = VALUES.map(([, v]) => v);
  skipThenSentinel(encodeSeq([...vals, ...vals]), vals.length * 2);
});

// Forms hessian.js does not write: built by hand, checked valid with hessian.js's decoder.
// (hessian.js cannot decode the variable-length lists 'U'/'W' that Java's Hessian2Output writes.)
const SPEC_ONLY = new Set(['variable untyped list W', 'variable typed list U']);
const HAND: Array<[string, number[]]> = [
  ['variable untyped list W', [0x57, 0x91, 0x01, 0x61, 0x57, 0x5a, 0x5a]],
  ['variable typed list U', [0x55, 0x04, ...Buffer.from('[int'), 0x91, 0x92, 0x5a]],
  ['fixed typed list V', [0x56, 0x04, ...Buffer.from('[int'), 0x92, 0x91, 0x92]],
  ['fixed untyped list X', [0x58, 0x92, 0x91, 0x92]],
  ['typed map M', [0x4d, 0x11, ...Buffer.from('java.util.HashMap'), 0x01, 0x61, 0x91, 0x5a]],
  ['double 1.0', [0x5c]],
  ['double 0.0', [0x5b]],
  ['typed list with type ref', [0x7a, 0x72, 0x04, ...Buffer.from('[int'), 0x91, 0x92, 0x71, 0x90, 0x93]],
];
for (const [name, bytes] of HAND) {
  test(`skips hand-built value: ${name}`, () => {
    const b = Buffer.concat([Buffer.from(bytes), enc('END')]);
    if (!SPEC_ONLY.has(name)) {
      const d = new hessian.DecoderV2(b);
      d.read();
      assert.equal(d.read(), 'END', 'hessian.js reads the hand-built value');
    }
    skipThenSentinel(b, 1);
  });
}

test('skipper rejects reserved codes, unknown class refs, truncation, deep nesting', () => {
  for (const code of [0x40, 0x45, 0x47, 0x50, 0x5a]) {
    assert.throws(() => new Hessian2Reader(Buffer.from([code]), 0, 1).skipValue(), HessianError);
  }
  assert.throws(() => new Hessian2Reader(Buffer.from([0x60]), 0, 1).skipValue(), /unknown class/);
  const b = encodeSeq([{ $class: 'com.x.User', $: { id: 1, name: 'n' } }]);
  for (let cut = 0; cut < b.length - 4; cut++) {
    const r = new Hessian2Reader(b, 0, cut);
    assert.throws(() => r.skipValue(), HessianError);
    assert.ok(r.pos <= cut);
  }
  const deep = Buffer.alloc(100000, 0x57);
  assert.throws(() => new Hessian2Reader(deep, 0, deep.length).skipValue(), /too deep/);
});

test('readAttachments: strings, scalars as text, non-scalars hidden, typed and null maps', () => {
  const e = new hessian.EncoderV2({ size: 1024 });
  e.write({ group: 'g', timeout: 300, big: jl(2 ** 40), on: true, rate: 1.5, list: [1], traceId: '😀' });
  const b = Buffer.from(e.get());
  const r = new Hessian2Reader(b, 0, b.length);
  const att = r.readAttachments();
  assert.equal(r.pos, b.length);
  assert.equal(att.end, b.length);
  const got = Object.fromEntries(att.entries.map((x) => [x.key, x.value]));
  assert.deepEqual(got, { big: String(2 ** 40), group: 'g', list: null, on: 'true', rate: '1.5', timeout: '300', traceId: '😀' });
  for (const x of att.entries) {
    assert.deepEqual(hessian.decode(b.subarray(x.keyStart, x.valueStart), '2.0'), x.key);
  }
  const typed = Buffer.from([0x4d, 0x11, ...Buffer.from('java.util.HashMap'), 0x01, 0x61, 0x01, 0x62, 0x5a]);
  const t = new Hessian2Reader(typed, 0, typed.length).readAttachments();
  assert.deepEqual(t.entries.map((x) => [x.key, x.value]), [['a', 'b']]);
  assert.equal(t.entriesStart, 19);
  const n = new Hessian2Reader(Buffer.from([0x4e]), 0, 1).readAttachments();
  assert.equal(n.entries.length, 0);
  assert.throws(() => new Hessian2Reader(Buffer.from([0x91]), 0, 1).readAttachments(), HessianError);
});

test('countParameters over JVM descriptors', () => {
  assert.equal(countParameters(''), 0);
  assert.equal(countParameters('Ljava/lang/String;'), 1);
  assert.equal(countParameters('Ljava/lang/String;I'), 2);
  assert.equal(countParameters('[I[[Ljava/lang/String;JZ'), 4);
  assert.equal(countParameters('ZBCDFIJS'), 8);
  assert.equal(countParameters('Ljava/lang/String'), -1);
  assert.equal(countParameters('Q'), -1);
  assert.equal(countParameters('['), -1);
});
