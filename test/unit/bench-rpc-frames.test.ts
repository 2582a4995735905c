/**
 * Unit tests for the rpc benchmark's wire frames (bench/load/rpc-frames.ts) and the responder's
 * frame handling (answerFrames in bench/upstream/rpc-responder.ts): lengths, ids, classification,
 * heartbeats, and that the canned frames decode with the reference encoders' own decoders.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_CALL,
  boltHeartbeatRequest,
  buildBoltRequest,
  buildBoltResponse,
  buildDubboRequest,
  buildDubboResponse,
  classify,
  decodeBoltHeaderMap,
  dubboHeartbeatRequest,
  encodeBoltHeaderMap,
  frameId,
  frameLength,
  heartbeatReply,
  responseOk,
  setFrameId,
} from '../../bench/load/rpc-frames';
import { answerFrames } from '../../bench/upstream/rpc-responder';

const hessian = require('hessian.js') as { DecoderV2: new (b: Buffer) => { read(): unknown } };
const boltProtocol = require('sofa-bolt-node/lib/protocol') as { decode(b: Buffer, o: object): { packetId: number; packetType: string; data: Record<string, unknown> } };

test('Dubbo request: header, length, and a hessian2 body with the call and its attachments', () => {
  const f = buildDubboRequest(DEFAULT_CALL, 42);
  assert.equal(f[0], 0xda);
  assert.equal(f[1], 0xbb);
  assert.equal(f[2], 0xc2); // request | two-way | hessian2
  assert.equal(frameLength('dubbo', f, 0), f.length);
  assert.equal(f.readUInt32BE(12), f.length - 16);
  assert.equal(frameId('dubbo', f, 0), 42);
  assert.equal(classify('dubbo', f, 0), 'request');
  const d = new hessian.DecoderV2(f.subarray(16));
  const fields = [d.read(), d.read(), d.read(), d.read(), d.read(), d.read(), d.read()];
  assert.deepEqual(fields.slice(0, 5), ['2.0.2', 'com.example.Echo', '1.0.0', 'echo', 'Ljava/lang/String;']);
  assert.equal((fields[5] as string).length, 100);
  assert.deepEqual(fields[6], { path: 'com.example.Echo', interface: 'com.example.Echo', version: '1.0.0', group: 'bench', timeout: '3000' });
});

test('Dubbo response: flag 0x02, status 20, body RESPONSE_VALUE (1) + string', () => {
  const f = buildDubboResponse(7, 'ok');
  assert.equal(f[2], 0x02);
  assert.equal(f[3], 20);
  assert.equal(classify('dubbo', f, 0), 'response');
  assert.ok(responseOk('dubbo', f, 0));
  assert.equal(frameId('dubbo', f, 0), 7);
  assert.equal(f[16], 0x91);
  const d = new hessian.DecoderV2(f.subarray(16));
  assert.equal(d.read(), 1);
  assert.equal(d.read(), 'ok');
  f[3] = 70;
  assert.ok(!responseOk('dubbo', f, 0));
});

test('Bolt request: v1 header, header map with service and method, SofaRequest content', () => {
  const f = buildBoltRequest(DEFAULT_CALL, 9);
  assert.equal(f[0], 1);
  assert.equal(f[1], 1);
  assert.equal(f.readUInt16BE(2), 1);
  assert.equal(frameLength('bolt', f, 0), f.length);
  assert.equal(frameId('bolt', f, 0), 9);
  assert.equal(classify('bolt', f, 0), 'request');
  const classLen = f.readUInt16BE(14);
  const headerLen = f.readUInt16BE(16);
  assert.equal(f.toString('latin1', 22, 22 + classLen), 'com.alipay.sofa.rpc.core.request.SofaRequest');
  const map = decodeBoltHeaderMap(f.subarray(22 + classLen, 22 + classLen + headerLen));
  assert.equal(map.service, 'com.example.Echo:1.0.0');
  assert.equal(map.sofa_head_method_name, 'echo');
  const decoded = boltProtocol.decode(f, {});
  assert.equal(decoded.packetType, 'request');
  assert.equal(decoded.packetId, 9);
  assert.equal(decoded.data.methodName, 'echo');
  assert.equal(decoded.data.serverSignature, 'com.example.Echo:1.0.0');
});

test('Bolt response: status 0, SofaResponse class, no header map, decodable content', () => {
  const f = buildBoltResponse(11, 'ok');
  assert.equal(f[1], 0);
  assert.equal(f.readUInt16BE(2), 2);
  assert.equal(f.readUInt16BE(14), 0);
  assert.equal(frameLength('bolt', f, 0), f.length);
  assert.equal(classify('bolt', f, 0), 'response');
  assert.ok(responseOk('bolt', f, 0));
  const decoded = boltProtocol.decode(f, {});
  assert.equal(decoded.packetId, 11);
  assert.equal(decoded.data.appResponse, 'ok');
});

test('frameLength: -1 until the header is complete, throws on foreign bytes', () => {
  const d = buildDubboRequest();
  for (const n of [0, 1, 2, 15]) assert.equal(frameLength('dubbo', d.subarray(0, n), 0), -1);
  assert.equal(frameLength('dubbo', d.subarray(0, 16), 0), d.length);
  const b = buildBoltRequest();
  for (const n of [0, 1, 21]) assert.equal(frameLength('bolt', b.subarray(0, n), 0), -1);
  assert.equal(frameLength('bolt', b.subarray(0, 22), 0), b.length);
  assert.throws(() => frameLength('dubbo', Buffer.from('GET / HTTP/1.1\r\n'), 0), /not a Dubbo frame/);
  assert.throws(() => frameLength('bolt', Buffer.from([0x02, 0x01]), 0), /not a Bolt v1 frame/);
  assert.throws(() => frameLength('bolt', Buffer.from([0x01, 0x07]), 0), /unknown Bolt frame type/);
  // at an offset inside a larger buffer
  const two = Buffer.concat([d, b]);
  assert.equal(frameLength('bolt', two, d.length), b.length);
});

test('setFrameId rewrites only the id, for both protocols', () => {
  for (const [proto, f] of [['dubbo', buildDubboRequest()], ['bolt', buildBoltRequest()]] as const) {
    const copy = Buffer.from(f);
    setFrameId(proto, copy, 0, 0xfedcba98);
    assert.equal(frameId(proto, copy, 0), 0xfedcba98);
    const diff = [...copy].flatMap((x, i) => (x !== f[i] ? [i] : []));
    const idRange = proto === 'dubbo' ? [4, 12] : [5, 9];
    assert.ok(diff.every((i) => i >= idRange[0] && i < idRange[1]), `changed bytes ${diff}`);
  }
});

test('heartbeats: classified, and answered with the same id', () => {
  const dh = dubboHeartbeatRequest(5);
  assert.equal(classify('dubbo', dh, 0), 'heartbeat-request');
  const dr = heartbeatReply('dubbo', dh, 0);
  assert.equal(dr[2], 0x22);
  assert.equal(dr[3], 20);
  assert.equal(frameId('dubbo', dr, 0), 5);
  assert.equal(classify('dubbo', dr, 0), 'heartbeat-response');
  assert.equal(frameLength('dubbo', dr, 0), dr.length);
  const bh = boltHeartbeatRequest(6);
  assert.equal(classify('bolt', bh, 0), 'heartbeat-request');
  assert.equal(frameLength('bolt', bh, 0), 22);
  const br = heartbeatReply('bolt', bh, 0);
  assert.equal(classify('bolt', br, 0), 'heartbeat-response');
  assert.equal(frameId('bolt', br, 0), 6);
  assert.equal(frameLength('bolt', br, 0), 20);
});

test('Bolt header map round trip (UTF-8, empty values)', () => {
  const m = { service: 'a.B:1.0', sofa_head_method_name: 'héllo', empty: '' };
  assert.deepEqual(decodeBoltHeaderMap(encodeBoltHeaderMap(m)), m);
  assert.throws(() => decodeBoltHeaderMap(encodeBoltHeaderMap(m).subarray(0, 10)), /truncated/);
});

test('responder answers each two-way request with its id, skips one-way, answers heartbeats, keeps partial frames', () => {
  for (const proto of ['dubbo', 'bolt'] as const) {
    const canned = proto === 'dubbo' ? buildDubboResponse(1) : buildBoltResponse(1);
    const req = (id: number) => {
      const f = proto === 'dubbo' ? buildDubboRequest(DEFAULT_CALL, id) : buildBoltRequest(DEFAULT_CALL, id);
      return f;
    };
    const oneway = req(99);
    if (proto === 'dubbo') oneway[2] &= ~0x40;
    else oneway[1] = 2;
    const hb = proto === 'dubbo' ? dubboHeartbeatRequest(50) : boltHeartbeatRequest(50);
    const third = req(3);
    const input = Buffer.concat([req(1), oneway, hb, req(2), third.subarray(0, 30)]);
    const { consumed, reply } = answerFrames(proto, canned, input);
    assert.equal(consumed, input.length - 30);
    assert.ok(reply);
    const ids: Array<[string, number]> = [];
    for (let p = 0; p < reply.length; ) {
      const len = frameLength(proto, reply, p);
      ids.push([classify(proto, reply, p), frameId(proto, reply, p)]);
      if (classify(proto, reply, p) === 'response') assert.ok(responseOk(proto, reply, p));
      p += len;
    }
    assert.deepEqual(ids, [['response', 1], ['response', 2], ['heartbeat-response', 50]], proto);
    assert.equal(answerFrames(proto, canned, third.subarray(0, 30)).reply, null);
    assert.throws(() => answerFrames(proto, canned, canned), /unexpected response frame/);
  }
});
