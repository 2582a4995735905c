/**
 * Property tests of the Dubbo codec: random bytes, truncations, random splits of valid frames and
 * corrupted hessian bodies never make it throw, hang, or read past the frame's declared length.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { FrameError, type FrameInfo, type LocalReply } from '../../src/api';
import { dubboCodec as c } from '../../protocols/dubbo';
import { heartbeatRequestFrame, requestFrame, valueResponse } from '../fixtures/dubbo-frames';
import { seededRandom as rng } from '../fixtures/random';

const o = { $class: 'com.x.User', $: { id: 1, name: 'n', tags: ['a', 'b'] } };
const VALID = [
  requestFrame({ attachments: { group: 'g', timeout: 5, traceId: '😀' } }),
  requestFrame({ twoWay: false, desc: 'Lcom/x/User;Lcom/x/User;[BJ', args: [o, o, Buffer.alloc(40, 3), { $class: 'long', $: 2 ** 40 }] }),
  requestFrame({ desc: 'Ljava/util/Map;Ljava/util/List;D', args: [{ a: [1, { b: 'c' }] }, ['x', 'y', null], 2.5], attachments: { $class: 'java.util.HashMap', $: { k: 'v' } } }),
  heartbeatRequestFrame(7n),
  valueResponse(3n, { $class: 'com.x.User', $: { id: 2, name: 'm', tags: [] } }),
];
const REPLY: LocalReply = { reason: 'timeout', status: 504, details: 'upstream timed out' };

/** Exercises every entry point on one frame; returns a digest of what was read. */
function exercise(frame: Buffer): string {
  const i = c.peek(frame);
  if (i === 'need-more' || i instanceof FrameError) return String(i === 'need-more' ? i : i.code);
  const whole = frame.subarray(0, Math.min(frame.length, i.length));
  c.getRequestId(whole);
  if (i.kind === 'response' || i.kind === 'heartbeat-response') {
    const h = c.responseHeaders(whole, i);
    c.encodeResponse(whole, i, h, whole.subarray(16));
    return JSON.stringify(h.toObject());
  }
  const h = c.requestHeaders(whole, i);
  const eager = [h.get('service'), h.get('method'), h.get('version'), h.get('dubbo')];
  const all = h.toObject();
  h.set('group', 'fuzz');
  const re = c.encodeRequest(whole, i, h, whole.subarray(16));
  const ri = c.peek(re);
  if (whole.length === i.length) {
    assert.ok(typeof ri === 'object' && !(ri instanceof FrameError) && ri.length === re.length, 'a re-encoded frame is one whole frame');
  }
  c.localReply(whole, i, REPLY);
  c.heartbeatResponse(whole, i);
  return JSON.stringify([eager, all]);
}

test('random bytes behind a valid header never throw', () => {
  const r = rng(1);
  for (let n = 0; n < 3000; n++) {
    const len = Math.floor(r() * 200);
    const body = Buffer.alloc(len);
    for (let k = 0; k < len; k++) body[k] = Math.floor(r() * 256);
    const h = Buffer.alloc(16);
    h[0] = 0xda;
    h[1] = 0xbb;
    h[2] = [0xc2, 0x82, 0xe2, 0x02, 0x22, Math.floor(r() * 256)][Math.floor(r() * 6)];
    h[3] = Math.floor(r() * 256);
    h.writeUInt32BE(len, 12);
    assert.doesNotThrow(() => exercise(Buffer.concat([h, body])));
  }
});

test('fully random buffers never throw', () => {
  const r = rng(2);
  for (let n = 0; n < 3000; n++) {
    const b = Buffer.alloc(Math.floor(r() * 64));
    for (let k = 0; k < b.length; k++) b[k] = Math.floor(r() * 256);
    if (r() < 0.5 && b.length >= 2) (b[0] = 0xda), (b[1] = 0xbb);
    assert.doesNotThrow(() => exercise(b));
    assert.doesNotThrow(() => c.match(b));
  }
});

test('corrupted hessian bodies of valid frames never throw', () => {
  const r = rng(3);
  for (let n = 0; n < 4000; n++) {
    const f = Buffer.from(VALID[n % VALID.length]);
    const flips = 1 + Math.floor(r() * 4);
    for (let k = 0; k < flips; k++) f[16 + Math.floor(r() * (f.length - 16))] = Math.floor(r() * 256);
    assert.doesNotThrow(() => exercise(f));
  }
});

test('truncations: a prefix of a frame is need-more or a header whose length exceeds it', () => {
  for (const f of VALID) {
    for (let cut = 0; cut < f.length; cut++) {
      const p = f.subarray(0, cut);
      const i = c.peek(p);
      if (cut < 16) assert.equal(i, 'need-more');
      else assert.ok(typeof i === 'object' && !(i instanceof FrameError) && i.length > cut);
      // a truncated body declared as whole must still not throw
      const lying = Buffer.from(p);
      if (lying.length >= 16) lying.writeUInt32BE(lying.length - 16, 12);
      assert.doesNotThrow(() => exercise(lying));
    }
  }
});

test('never reads past the declared frame: trailing bytes change nothing', () => {
  const r = rng(4);
  for (let n = 0; n < 600; n++) {
    const f = VALID[n % VALID.length];
    const cut = 16 + Math.floor(r() * (f.length - 16));
    const exact = Buffer.from(f.subarray(0, cut));
    exact.writeUInt32BE(cut - 16, 12);
    const tail = Buffer.alloc(1 + Math.floor(r() * 50));
    for (let k = 0; k < tail.length; k++) tail[k] = Math.floor(r() * 256);
    // the next bytes are the rest of the real frame, or garbage
    const withRest = Buffer.concat([exact, r() < 0.5 ? f.subarray(cut) : tail]);
    assert.equal(exercise(withRest), exercise(exact));
  }
});

test('random splits of a stream of frames reassemble to the same frames', () => {
  const r = rng(5);
  for (let n = 0; n < 200; n++) {
    const frames: Buffer[] = [];
    for (let k = 0; k < 6; k++) frames.push(VALID[Math.floor(r() * VALID.length)]);
    const stream = Buffer.concat(frames);
    let pending = Buffer.alloc(0);
    const got: Buffer[] = [];
    let at = 0;
    while (at < stream.length) {
      const step = 1 + Math.floor(r() * 40);
      pending = Buffer.concat([pending, stream.subarray(at, at + step)]);
      at += step;
      while (true) {
        const i = c.peek(pending);
        if (i === 'need-more') break;
        assert.ok(!(i instanceof FrameError));
        const fi = i as FrameInfo;
        if (pending.length < fi.length) break;
        got.push(pending.subarray(0, fi.length));
        pending = pending.subarray(fi.length);
      }
    }
    assert.equal(pending.length, 0);
    assert.deepEqual(got, frames);
    for (const g of got) assert.doesNotThrow(() => exercise(g));
  }
});
