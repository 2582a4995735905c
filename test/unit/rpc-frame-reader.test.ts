// Property tests of the RPC frame reader: random splits, many frames per chunk, truncated input,
// oversize declared lengths, random garbage, misbehaving codecs, pause/resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameError, type FrameInfo, type RpcCodec } from '../../src/api';
import { FrameReader, type FrameFailure } from '../../src/rpc/frame-reader';
import { encodeFrame, exampleCodec, FLAG_ONE_WAY, FLAG_RESPONSE } from '../../protocols/example/codec';
import { seededRandom as rng } from '../fixtures/random';

function randomFrame(r: () => number, id: number): Buffer {
  const nh = Math.floor(r() * 4);
  const headers: string[] = ['service', 'svc' + id, 'method', 'm'];
  for (let i = 0; i < nh; i++) headers.push('k' + i, 'v'.repeat(Math.floor(r() * 40)));
  const len = r() < 0.1 ? 0 : Math.floor(r() * (r() < 0.2 ? 5000 : 200));
  const payload = Buffer.alloc(len);
  for (let i = 0; i < len; i++) payload[i] = Math.floor(r() * 256);
  const flags = r() < 0.3 ? FLAG_RESPONSE : r() < 0.2 ? FLAG_ONE_WAY : 0;
  return encodeFrame({ id, flags, headers, payload, status: flags & FLAG_RESPONSE ? 0 : undefined });
}

interface Collected {
  frames: Buffer[];
  infos: FrameInfo[];
  errors: Array<{ kind: FrameFailure; err: FrameError; info: FrameInfo | null }>;
}

function reader(codec: RpcCodec = exampleCodec, max?: number): { r: FrameReader; out: Collected } {
  const out: Collected = { frames: [], infos: [], errors: [] };
  const r = new FrameReader(
    codec,
    {
      onFrame: (f, info) => {
        out.frames.push(f);
        out.infos.push(info);
      },
      onFrameError: (kind, err, _head, info) => out.errors.push({ kind, err, info }),
    },
    max,
  );
  return { r, out };
}

test('frames split at random points are reassembled exactly', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const r = rng(seed);
    const frames = Array.from({ length: 1 + Math.floor(r() * 12) }, (_, i) => randomFrame(r, i + 1));
    const all = Buffer.concat(frames);
    const { r: fr, out } = reader();
    let off = 0;
    while (off < all.length) {
      const n = 1 + Math.floor(r() * (r() < 0.5 ? 8 : 3000));
      fr.push(all.subarray(off, off + n));
      off += n;
    }
    assert.equal(out.errors.length, 0, `seed ${seed}`);
    assert.equal(out.frames.length, frames.length, `seed ${seed}`);
    for (let i = 0; i < frames.length; i++) {
      assert.ok(out.frames[i].equals(frames[i]), `seed ${seed} frame ${i}`);
      assert.equal(out.infos[i].length, frames[i].length);
    }
    assert.equal(fr.bufferedBytes, 0);
  }
});

test('many frames in one chunk are handed on as subarrays of that chunk, never copied', () => {
  const r = rng(7);
  const frames = Array.from({ length: 20 }, (_, i) => randomFrame(r, i + 1));
  const chunk = Buffer.concat(frames);
  const { r: fr, out } = reader();
  fr.push(chunk);
  assert.equal(out.frames.length, 20);
  let off = 0;
  for (let i = 0; i < 20; i++) {
    assert.equal(out.frames[i].buffer, chunk.buffer, 'same memory');
    assert.equal(out.frames[i].byteOffset, chunk.byteOffset + off);
    off += frames[i].length;
  }
});

test('a split frame is joined; frames after it in the last chunk are still not copied', () => {
  const a = encodeFrame({ id: 1, flags: 0, headers: ['service', 's'], payload: Buffer.alloc(100, 1) });
  const b = encodeFrame({ id: 2, flags: 0, headers: ['service', 's'], payload: Buffer.alloc(50, 2) });
  const { r: fr, out } = reader();
  fr.push(a.subarray(0, 30));
  assert.equal(out.frames.length, 0);
  const tail = Buffer.concat([a.subarray(30), b]);
  fr.push(tail);
  assert.equal(out.frames.length, 2);
  assert.ok(out.frames[0].equals(a));
  assert.ok(out.frames[1].equals(b));
  assert.equal(out.frames[1].buffer, tail.buffer);
});

test('truncated input: whole frames come out, the rest waits, nothing is read past it', () => {
  for (let seed = 100; seed < 140; seed++) {
    const r = rng(seed);
    const frames = Array.from({ length: 1 + Math.floor(r() * 5) }, (_, i) => randomFrame(r, i + 1));
    const all = Buffer.concat(frames);
    const cut = Math.floor(r() * all.length);
    const { r: fr, out } = reader();
    fr.push(all.subarray(0, cut));
    let whole = 0;
    let bytes = 0;
    for (const f of frames) {
      if (bytes + f.length > cut) break;
      bytes += f.length;
      whole++;
    }
    assert.equal(out.frames.length, whole, `seed ${seed}`);
    assert.equal(out.errors.length, 0);
    assert.equal(fr.bufferedBytes, cut - bytes);
  }
});

test('an oversize declared length fails at once, before the rest is buffered', () => {
  const head = encodeFrame({ id: 5, flags: 0, headers: ['service', 's'] });
  head.writeUInt32BE(100 * 1024 * 1024, 12); // declares a 100 MiB payload
  const { r: fr, out } = reader(exampleCodec, 1024 * 1024);
  fr.push(head);
  assert.equal(out.errors.length, 1);
  assert.equal(out.errors[0].kind, 'oversize');
  assert.ok(out.errors[0].info !== null, 'the header was readable');
  assert.equal(out.errors[0].info!.kind, 'request');
  assert.equal(fr.bufferedBytes, 0);
  fr.push(Buffer.alloc(4096));
  assert.equal(out.frames.length, 0, 'nothing read after a failure');
  assert.equal(out.errors.length, 1);
});

test('the default limit is 16 MiB', () => {
  const { r: fr } = reader();
  assert.equal(fr.maxFrameBytes, 16 * 1024 * 1024);
});

test('random garbage never throws, never hangs, never yields a frame longer than the input', () => {
  for (let seed = 1000; seed < 1300; seed++) {
    const r = rng(seed);
    const len = Math.floor(r() * 300);
    const g = Buffer.alloc(len);
    for (let i = 0; i < len; i++) g[i] = Math.floor(r() * 256);
    // half the time start with a valid magic so the header parser is exercised
    if (r() < 0.5 && len >= 4) {
      g[0] = 0x53;
      g[1] = 0x59;
      g[2] = 1;
      g[3] = Math.floor(r() * 8);
    }
    const { r: fr, out } = reader(exampleCodec, 4096);
    let off = 0;
    while (off < g.length) {
      const n = 1 + Math.floor(r() * 40);
      fr.push(g.subarray(off, off + n));
      off += n;
    }
    let total = 0;
    for (let i = 0; i < out.frames.length; i++) {
      assert.equal(out.frames[i].length, out.infos[i].length);
      total += out.frames[i].length;
    }
    assert.ok(total <= g.length);
    assert.ok(out.errors.length <= 1);
  }
});

test('a codec returning impossible lengths or throwing is a frame error, not a crash or a loop', () => {
  const bad = (info: unknown): RpcCodec => ({ ...exampleCodec, peek: () => info as FrameInfo });
  for (const info of [
    { kind: 'request', oneWay: false, headerLength: 0, length: 0, timeoutMs: 0, status: 0 },
    { kind: 'request', oneWay: false, headerLength: 5, length: 3, timeoutMs: 0, status: 0 },
    { kind: 'request', oneWay: false, headerLength: 0, length: NaN, timeoutMs: 0, status: 0 },
    { kind: 'request', oneWay: false, headerLength: -1, length: 4, timeoutMs: 0, status: 0 },
    null,
  ]) {
    const { r: fr, out } = reader(bad(info));
    fr.push(Buffer.alloc(10));
    assert.equal(out.errors.length, 1, JSON.stringify(info));
    assert.equal(out.errors[0].kind, 'frame_error');
  }
  const throwing: RpcCodec = {
    ...exampleCodec,
    peek: () => {
      throw new Error('boom');
    },
  };
  const { r: fr, out } = reader(throwing);
  fr.push(Buffer.alloc(3));
  assert.equal(out.errors[0].err.code, 'peek_threw');
});

test('a header that never completes within the max frame size fails as oversize', () => {
  const needy: RpcCodec = { ...exampleCodec, peek: () => 'need-more' };
  const { r: fr, out } = reader(needy, 100);
  fr.push(Buffer.alloc(60));
  assert.equal(out.errors.length, 0);
  fr.push(Buffer.alloc(60));
  assert.equal(out.errors.length, 1);
  assert.equal(out.errors[0].kind, 'oversize');
  assert.equal(out.errors[0].info, null);
});

test('peek only ever sees buffers that start at a frame boundary', () => {
  const starts: number[] = [];
  const r = rng(99);
  const frames = Array.from({ length: 10 }, (_, i) => randomFrame(r, i + 1));
  const all = Buffer.concat(frames);
  const spy: RpcCodec = {
    ...exampleCodec,
    peek: (b) => {
      starts.push(b[0]);
      const res = exampleCodec.peek(b);
      assert.ok(!(res instanceof FrameError), 'peek saw a buffer not starting at a frame');
      return res;
    },
  };
  const { r: fr, out } = reader(spy);
  for (let off = 0; off < all.length; off += 7) fr.push(all.subarray(off, off + 7));
  assert.equal(out.frames.length, 10);
  assert.ok(starts.every((c) => c === 0x53));
});

test('pause holds frames back (even those already read); resume delivers them in order', () => {
  const frames = [1, 2, 3, 4].map((id) => encodeFrame({ id, flags: 0, headers: ['service', 's'], payload: Buffer.from('p' + id) }));
  const out: number[] = [];
  let fr!: FrameReader;
  fr = new FrameReader(exampleCodec, {
    onFrame: (f) => {
      out.push(f.readUInt32BE(4));
      if (f.readUInt32BE(4) === 2) fr.pause();
    },
    onFrameError: () => assert.fail('no error expected'),
  });
  fr.push(Buffer.concat(frames.slice(0, 3)));
  assert.deepEqual(out, [1, 2]);
  fr.push(frames[3].subarray(0, 10));
  fr.push(frames[3].subarray(10));
  assert.deepEqual(out, [1, 2]);
  fr.resume();
  assert.deepEqual(out, [1, 2, 3, 4]);
  assert.equal(fr.bufferedBytes, 0);
});

test('a frame error after good frames delivers the good ones first, then stops', () => {
  const good = encodeFrame({ id: 1, flags: 0, headers: ['service', 's'] });
  const { r: fr, out } = reader();
  fr.push(Buffer.concat([good, Buffer.from('GET / HTTP/1.1\r\n\r\n'), good]));
  assert.equal(out.frames.length, 1);
  assert.equal(out.errors.length, 1);
  assert.equal(out.errors[0].err.code, 'bad_magic');
});
