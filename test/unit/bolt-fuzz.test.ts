import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { FrameError, HeaderMap, type FrameInfo } from '../../src/api';
import { boltCodec } from '../../protocols/bolt';
import { readSofaRequestKeys } from '../../protocols/bolt/hessian-lite';
import { VARIANTS, boltHeartbeat, boltRequest, boltResponse, withHeaderMap } from '../fixtures/bolt-frames';
import { seededRandom as rng } from '../fixtures/random';

function corpus(): Buffer[] {
  const out: Buffer[] = [];
  for (const v of VARIANTS) {
    out.push(boltRequest({ id: 1, variant: v, args: [1, 'two', { three: 3 }] }));
    out.push(withHeaderMap(boltRequest({ id: 2, variant: v, oneway: true }), { sofa_head_method_name: 'm', service: 's:1' }));
    out.push(boltResponse({ id: 3, appResponse: [1, 2, 3], variant: v }));
    out.push(boltResponse({ id: 4, errorMsg: 'x', status: 2, variant: v }));
    out.push(boltHeartbeat(5, v));
  }
  return out;
}

/** Exercises every read path of the codec on one frame; returns nothing, must not throw. */
function touch(frame: Buffer, info: FrameInfo): void {
  boltCodec.getRequestId(frame);
  const h = info.kind === 'response' || info.kind === 'heartbeat-response' ? boltCodec.responseHeaders(frame, info) : boltCodec.requestHeaders(frame, info);
  h.get('method');
  h.get('service');
  h.raw();
  if (info.kind === 'request') boltCodec.localReply(frame, info, { status: 503, reason: 'overflow' });
  if (info.kind === 'heartbeat-request') boltCodec.heartbeatResponse(frame, info);
}

/** Pieces of a frame as a framer would see them: peek on a growing prefix, then the whole frame. */
function frameOf(stream: Buffer): FrameInfo | FrameError | 'need-more' {
  return boltCodec.peek(stream);
}

test('random bytes: peek never throws and every answer is consistent', () => {
  const r = rng(1);
  for (let i = 0; i < 5000; i++) {
    const n = Math.floor(r() * 64);
    const buf = Buffer.alloc(n);
    for (let k = 0; k < n; k++) buf[k] = Math.floor(r() * 256);
    if (n > 0 && r() < 0.5) buf[0] = r() < 0.5 ? 1 : 2;
    const res = boltCodec.peek(buf);
    boltCodec.match(buf);
    if (typeof res === 'object' && !(res instanceof FrameError)) {
      assert.ok(res.headerLength <= res.length);
      assert.ok(res.headerLength >= 20);
      if (res.length <= buf.length) touch(buf.subarray(0, res.length), res);
    }
  }
});

test('mutated real frames: never throws, never reads past the frame it is given', () => {
  const r = rng(2);
  const frames = corpus();
  for (let i = 0; i < 3000; i++) {
    const base = frames[i % frames.length];
    const m = Buffer.from(base);
    const flips = 1 + Math.floor(r() * 4);
    for (let k = 0; k < flips; k++) m[Math.floor(r() * m.length)] = Math.floor(r() * 256);
    const res = boltCodec.peek(m);
    if (typeof res !== 'object' || res instanceof FrameError) continue;
    if (res.length > m.length) {
      assert.deepEqual(boltCodec.peek(m.subarray(0, m.length)), res, 'stable on the same bytes');
      continue;
    }
    // The frame is a view of a bigger buffer full of a sentinel: a read past it would either throw
    // (Buffer bounds are per view) or surface the sentinel in a header.
    const big = Buffer.alloc(res.length + 64, 0x7e);
    m.copy(big, 0, 0, res.length);
    const frame = big.subarray(0, res.length);
    touch(frame, res);
    const h = res.kind === 'request' ? boltCodec.requestHeaders(frame, res) : null;
    if (h !== null) {
      h.forEach((value, name) => {
        assert.ok(!value.includes('~~~~') && !name.includes('~~~~'), `read past the frame: ${name}=${value}`);
      });
      if (res.kind === 'request') {
        try {
          const out = boltCodec.encodeRequest(frame, res, h, frame.subarray(res.headerLength));
          const back = boltCodec.peek(out);
          assert.ok(typeof back === 'object' && !(back instanceof FrameError));
        } catch (e) {
          assert.ok(e instanceof Error, 'encoders may refuse a malformed frame, with an Error');
        }
      }
    }
  }
});

test('truncation and random splits: need-more until the whole frame, then the same info', () => {
  const r = rng(3);
  for (const f of corpus()) {
    const whole = boltCodec.peek(f);
    assert.ok(typeof whole === 'object' && !(whole instanceof FrameError));
    assert.equal(whole.length, f.length);
    // a framer accumulating random-sized chunks of two back-to-back frames
    const stream = Buffer.concat([f, f]);
    let have = 0;
    let got: FrameInfo | null = null;
    while (have < stream.length && got === null) {
      have = Math.min(stream.length, have + 1 + Math.floor(r() * 17));
      const res = frameOf(stream.subarray(0, have));
      assert.ok(!(res instanceof FrameError));
      if (res !== 'need-more' && res.length <= have) got = res;
    }
    assert.deepEqual(got, whole);
    const second = boltCodec.peek(stream.subarray(whole.length));
    assert.deepEqual(second, whole);
  }
});

test('every command code and type outside the protocol is a FrameError, for v1 and v2', () => {
  for (const v of VARIANTS) {
    const req = boltRequest({ id: 1, variant: v });
    const t = v === 'v1' ? 1 : 2;
    for (let cmd = 0; cmd < 0x10000; cmd += cmd < 16 ? 1 : 251) {
      const m = Buffer.from(req);
      m.writeUInt16BE(cmd, t + 1);
      const res = boltCodec.peek(m);
      if (cmd === 0 || cmd === 1) assert.ok(!(res instanceof FrameError), `cmd ${cmd}`);
      else assert.ok(res instanceof FrameError, `cmd ${cmd} must be refused`);
    }
    for (let type = 3; type < 256; type++) {
      const m = Buffer.from(req);
      m[t] = type;
      assert.ok(boltCodec.peek(m) instanceof FrameError, `type ${type}`);
    }
  }
});

test('the hessian reader never throws on random or truncated content', () => {
  const r = rng(4);
  const f = boltRequest({ id: 1, args: ['a', 2, [3]] });
  const info = boltCodec.peek(f) as FrameInfo;
  const content = f.subarray(info.headerLength);
  for (let i = 0; i < 3000; i++) {
    const m = Buffer.from(content);
    for (let k = 0; k < 3; k++) m[Math.floor(r() * Math.min(m.length, 120))] = Math.floor(r() * 256);
    const end = Math.floor(r() * (m.length + 1));
    const keys = readSofaRequestKeys(m, 0, end);
    assert.equal(typeof keys, 'object');
  }
  // re-encoding with an empty header view works for every corpus frame
  for (const fr of corpus()) {
    const i = boltCodec.peek(fr) as FrameInfo;
    const out = i.kind === 'response' ? boltCodec.encodeResponse(fr, i, new HeaderMap(), fr.subarray(i.headerLength)) : boltCodec.encodeRequest(fr, i, new HeaderMap(), fr.subarray(i.headerLength));
    assert.equal((boltCodec.peek(out) as FrameInfo).length, out.length);
  }
});
