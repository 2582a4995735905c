/**
 * Dubbo encodeResponse as the RPC layer calls it: with the upstream Dubbo response as `original`
 * (same protocol), or with the downstream request frame (another protocol or the proxy built the
 * head). Frames are built and read back with hessian.js.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { FrameError, HeaderMap, type FrameInfo } from '../../src/api';
import { dubboCodec as c, Hessian2Reader } from '../../protocols/dubbo';
import { hessian, requestFrame, responseFrame, valueResponse } from '../fixtures/dubbo-frames';

function info(frame: Buffer): FrameInfo {
  const i = c.peek(frame);
  assert.ok(typeof i === 'object' && !(i instanceof FrameError), 'peek gives a FrameInfo');
  return i as FrameInfo;
}

test('from the request frame: a response with the request id, response flag and its serialization', () => {
  const req = requestFrame({ id: 2n ** 40n + 7n });
  const ri = info(req);
  const body = Buffer.from([0x91, ...hessian.encode('from http', '2.0')]);
  const out = c.encodeResponse(req, ri, new HeaderMap([':status', '200']), body);
  const oi = info(out);
  assert.equal(oi.kind, 'response');
  assert.equal(oi.length, out.length);
  assert.equal(out[2], 0x02, 'flag: response, not two-way, not event, hessian2');
  assert.equal(out[3], 20);
  assert.equal(c.getRequestId(out), 2n ** 40n + 7n);
  assert.ok(out.subarray(16).equals(body), 'a result body is kept as it is');
  assert.ok(req[2] & 0x80, 'the request frame is untouched');
});

test('from the request frame: the status comes from dubbo-status, else mapped from :status', () => {
  const req = requestFrame();
  const ri = info(req);
  const cases: Array<[string[], number]> = [
    [[':status', '404'], 60],
    [[':status', '503'], 100],
    [[':status', '504'], 31],
    [[':status', '500'], 80],
    [[':status', '200', 'dubbo-status', '70'], 70],
    [[], 20],
  ];
  for (const [pairs, want] of cases) {
    const out = c.encodeResponse(req, ri, new HeaderMap(pairs), Buffer.from('oops'));
    assert.equal(out[3], want, JSON.stringify(pairs));
    assert.equal(info(out).kind, 'response');
  }
});

test('from the request frame: bodies that are not Dubbo are written as hessian2', () => {
  const req = requestFrame();
  const ri = info(req);
  const err = c.encodeResponse(req, ri, new HeaderMap([':status', '503']), Buffer.from('service unavailable'));
  assert.equal(hessian.decode(err.subarray(16), '2.0'), 'service unavailable', 'error text as the message');
  const empty = c.encodeResponse(req, ri, new HeaderMap([':status', '502']), Buffer.alloc(0));
  assert.match(String(hessian.decode(empty.subarray(16), '2.0')), /502/);
  const text = c.encodeResponse(req, ri, new HeaderMap([':status', '200']), Buffer.from('plain text'));
  assert.equal(text[16], 0x91, 'RESPONSE_VALUE');
  assert.equal(hessian.decode(text.subarray(17), '2.0'), 'plain text');
  const none = c.encodeResponse(req, ri, new HeaderMap([':status', '200']), Buffer.alloc(0));
  assert.equal(none.readUInt32BE(12), 1);
  assert.equal(none[16], 0x92, 'RESPONSE_NULL_VALUE');
  const msg = Buffer.from(hessian.encode('already hessian', '2.0'));
  const kept = c.encodeResponse(req, ri, new HeaderMap([':status', '500']), msg);
  assert.ok(kept.subarray(16).equals(msg), 'a hessian string error body is kept');
});

test('from the request frame with the upstream response behind the head: its status and body', () => {
  const req = requestFrame({ id: 9n });
  const up = responseFrame(1n, 70, Buffer.from(hessian.encode('boom', '2.0')));
  const h = c.responseHeaders(up, info(up));
  const out = c.encodeResponse(req, info(req), h, up.subarray(16));
  assert.equal(out[3], 70);
  assert.equal(c.getRequestId(out), 9n);
  assert.equal(hessian.decode(out.subarray(16), '2.0'), 'boom');
});

test('from the upstream response: unchanged is the same buffer; a changed status is written', () => {
  const up = valueResponse(5n, 'hi');
  const ui = info(up);
  const h = c.responseHeaders(up, ui);
  h.set('x-added', '1');
  assert.equal(c.encodeResponse(up, ui, h, up.subarray(16)), up);
  const h2 = c.responseHeaders(up, ui);
  h2.set(':status', '503');
  const out = c.encodeResponse(up, ui, h2, up.subarray(16));
  assert.equal(out[3], 100, ':status 503 → SERVER_THREADPOOL_EXHAUSTED');
  assert.equal(typeof hessian.decode(out.subarray(16), '2.0'), 'string', 'an error carries a message, not the value');
  assert.equal(up[3], 20, 'original untouched');
  const h3 = c.responseHeaders(up, ui);
  h3.set('dubbo-status', '40');
  assert.equal(c.encodeResponse(up, ui, h3, up.subarray(16))[3], 40, 'dubbo-status wins over the unchanged :status');
});

test('short strings decoded again from the same bytes are right, whatever else was decoded between', () => {
  const words: string[] = [];
  for (let i = 0; i < 3000; i++) words.push(`svc.${i.toString(36)}.${'x'.repeat(i % 50)}`);
  for (let round = 0; round < 2; round++) {
    for (const w of words) {
      const b = Buffer.from(hessian.encode(w, '2.0'));
      assert.equal(new Hessian2Reader(b, 0, b.length).readString(), w);
    }
  }
});
