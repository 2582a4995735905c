import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { FrameError, FrameHeaderMap, HeaderMap, registry, type FrameInfo, type LocalReply } from '../../src/api';
import { boltCodec, samples } from '../../protocols/bolt';
import { crc32, crc32Fallback } from '../../protocols/bolt/layout';
import { readSofaRequestKeys } from '../../protocols/bolt/hessian-lite';
import {
  VARIANTS,
  boltCrc,
  boltHeartbeat,
  boltHeartbeatAck,
  boltRequest,
  boltResponse,
  decodeBolt,
  withHeaderMap,
} from '../fixtures/bolt-frames';

const hessian = require('hessian.js') as { encode(obj: unknown, version: string): Buffer };

function info(frame: Buffer): FrameInfo {
  const i = boltCodec.peek(frame);
  assert.ok(typeof i === 'object' && !(i instanceof FrameError), `peek failed: ${JSON.stringify(i)}`);
  return i as FrameInfo;
}

const JAVA_HEADERS = {
  service: 'com.example.Greeter:1.0:blue',
  sofa_head_target_service: 'com.example.Greeter:1.0:blue',
  sofa_head_method_name: 'sayHello',
  sofa_head_target_app: 'greeter-app',
  'rpc_trace_context.sofaTraceId': '0a1b2c',
  'rpc_trace_context.sofaRpcId': '0.1',
  empty: null,
};

test('registered under "bolt" when protocols/bolt is loaded', () => {
  assert.equal(registry.rpcCodec('bolt'), boltCodec);
  assert.equal(boltCodec.poolMode, 'multiplex');
});

test('samples are what sofa-bolt-node encodes', () => {
  const spec = { service: 'com.example.EchoService:1.0', args: ['hi'], timeout: 3000, app: null };
  assert.deepEqual(samples.request, boltRequest({ ...spec, id: 1, method: 'echo' }));
  assert.deepEqual(samples.oneWay, boltRequest({ ...spec, id: 2, method: 'log', oneway: true }));
  assert.deepEqual(samples.heartbeat, boltHeartbeat(3));
  assert.deepEqual(samples.response, boltResponse({ id: 1, appResponse: 'hi' }));
  const req = decodeBolt(samples.request);
  assert.equal(req.packetType, 'request');
  assert.equal(req.data.methodName, 'echo');
  assert.deepEqual(req.data.args, ['hi']);
  const ow = decodeBolt(samples.oneWay);
  assert.equal(ow.packetType, 'request');
  assert.equal(info(samples.oneWay).oneWay, true);
  assert.equal(decodeBolt(samples.heartbeat).packetType, 'heartbeat');
  assert.equal(decodeBolt(samples.response).data.appResponse, 'hi');
  const a = samples.request;
  a[5] = 0xff;
  assert.notEqual(samples.request[5], 0xff, 'each access is a fresh copy');
});

test('match: Bolt v1/v2 yes, other protocols no, short input need-more', () => {
  for (const v of VARIANTS) {
    assert.equal(boltCodec.match(boltRequest({ id: 1, variant: v })), 'yes');
    assert.equal(boltCodec.match(boltHeartbeat(1, v)), 'yes');
  }
  assert.equal(boltCodec.match(Buffer.alloc(0)), 'need-more');
  assert.equal(boltCodec.match(Buffer.from([1, 1, 0])), 'need-more');
  assert.equal(boltCodec.match(Buffer.from([2, 1, 1, 0])), 'need-more');
  for (const s of ['GET / HTTP/1.1\r\n', 'POST /x HTTP/1.1', 'PRI * HTTP/2.0\r\n\r\nSM', '\x16\x03\x01\x02\x00']) {
    assert.equal(boltCodec.match(Buffer.from(s, 'latin1')), 'no', s);
  }
  assert.equal(boltCodec.match(Buffer.from([0xda, 0xbb, 0xc2, 0x00])), 'no');
  assert.equal(boltCodec.match(Buffer.from([1, 7, 0, 1])), 'no', 'bad type');
  assert.equal(boltCodec.match(Buffer.from([1, 1, 0, 9])), 'no', 'bad cmd code');
  assert.equal(boltCodec.match(Buffer.from([1, 0, 0, 1])), 'no', 'response type with request cmd');
  assert.equal(boltCodec.match(Buffer.from([2, 9, 1, 0, 1])), 'no', 'bad v2 version');
});

test('peek: kinds, lengths, timeout, one-way, status for v1 and v2 (CRC counted in length)', () => {
  for (const v of VARIANTS) {
    const req = boltRequest({ id: 11, timeout: 1234, variant: v });
    const i = info(req);
    assert.equal(i.kind, 'request');
    assert.equal(i.oneWay, false);
    assert.equal(i.timeoutMs, 1234);
    assert.equal(i.length, req.length, v);
    const fixed = v === 'v1' ? 22 : 24;
    const classLen = req.readUInt16BE(fixed - 8);
    const headerLen = req.readUInt16BE(fixed - 6);
    const contentLen = req.readUInt32BE(fixed - 4);
    assert.equal(i.headerLength, fixed + classLen + headerLen);
    assert.equal(i.length - i.headerLength - (v === 'v2crc' ? 4 : 0), contentLen);
    // the content is the hessian SofaRequest, starting right at headerLength
    assert.equal(req[i.headerLength], 0x4f);

    const ow = info(boltRequest({ id: 12, oneway: true, variant: v }));
    assert.equal(ow.kind, 'request');
    assert.equal(ow.oneWay, true);

    assert.equal(info(boltHeartbeat(13, v)).kind, 'heartbeat-request');
    assert.equal(info(boltHeartbeatAck(13, v)).kind, 'heartbeat-response');

    const res = boltResponse({ id: 11, errorMsg: 'boom', variant: v });
    const ri = info(res);
    assert.equal(ri.kind, 'response');
    assert.equal(ri.status, 2);
    assert.equal(ri.length, res.length);
    assert.equal(ri.timeoutMs, 0);

    // every strict prefix asks for more; trailing bytes of the next frame are not counted
    for (let n = 0; n < (v === 'v1' ? 22 : 24); n++) assert.equal(boltCodec.peek(req.subarray(0, n)), 'need-more');
    assert.deepEqual(boltCodec.peek(Buffer.concat([req, req])), i);
  }
});

test('peek: unknown command codes, types and protocol codes are FrameErrors', () => {
  const req = boltRequest({ id: 1 });
  for (const [at, value] of [
    [3, 9],
    [2, 1],
    [1, 5],
    [0, 3],
  ] as const) {
    const bad = Buffer.from(req);
    bad[at] = value;
    assert.ok(boltCodec.peek(bad) instanceof FrameError, `byte ${at} = ${value}`);
  }
  const v2 = Buffer.from(boltRequest({ id: 1, variant: 'v2' }));
  v2[4] = 3;
  assert.ok(boltCodec.peek(v2) instanceof FrameError);
});

test('request id: read and rewritten in place (v2 CRC recomputed so the peer still accepts it)', () => {
  for (const v of VARIANTS) {
    const req = boltRequest({ id: 0x12345678, variant: v });
    assert.equal(boltCodec.getRequestId(req), 0x12345678);
    boltCodec.setRequestId(req, 0xfedcba98);
    assert.equal(boltCodec.getRequestId(req), 0xfedcba98);
    boltCodec.setRequestId(req, 77);
    const p = decodeBolt(req);
    assert.equal(p.packetId, 77);
    assert.equal(p.data.methodName, 'echo');
    if (v === 'v2crc') assert.equal(req.readInt32BE(req.length - 4), boltCrc(req.subarray(0, req.length - 4)));
  }
});

test('CRC32 matches sofa-bolt-node for the native and the fallback implementation', () => {
  const data = Buffer.from('switchyard bolt crc 0123456789'.repeat(7));
  assert.equal(crc32(data) | 0, boltCrc(data));
  assert.equal(crc32Fallback(data) | 0, boltCrc(data));
});

test('request headers of a sofa-rpc-node frame: service as sent, interface/version split, method from content', () => {
  for (const v of VARIANTS) {
    const req = boltRequest({ id: 1, service: 'com.example.Greeter:2.1', method: 'sayHello', args: [1, 'x'], variant: v });
    const h = boltCodec.requestHeaders(req, info(req));
    assert.ok(h instanceof FrameHeaderMap);
    assert.equal(h.dirty, false);
    assert.equal(h.get('service'), 'com.example.Greeter:2.1');
    assert.equal(h.get('interface'), 'com.example.Greeter');
    assert.equal(h.get('version'), '2.1');
    assert.equal(h.get('group'), undefined);
    assert.equal(h.get('bolt-class'), 'com.alipay.sofa.rpc.core.request.SofaRequest');
    assert.equal(h.get('method'), 'sayHello');
    assert.equal(h.dirty, false, 'lazy loading does not dirty the map');
    assert.deepEqual(h.getAll('service'), ['com.example.Greeter:2.1']);
  }
});

test('request headers of a Java-style frame: every header map key (lower-cased), sofa_head_method_name as method', () => {
  for (const v of VARIANTS) {
    const req = withHeaderMap(boltRequest({ id: 1, method: 'otherInContent', variant: v }), JAVA_HEADERS);
    assert.equal(decodeBolt(req).data.methodName, 'otherInContent');
    const h = boltCodec.requestHeaders(req, info(req));
    assert.equal(h.get('method'), 'sayHello', 'the header wins over the content');
    assert.equal(h.get('service'), 'com.example.Greeter:1.0:blue');
    assert.equal(h.get('interface'), 'com.example.Greeter');
    assert.equal(h.get('version'), '1.0');
    assert.equal(h.get('group'), 'blue');
    assert.equal(h.get('sofa_head_target_app'), 'greeter-app');
    assert.equal(h.get('rpc_trace_context.sofatraceid'), '0a1b2c');
    assert.equal(h.get('empty'), '');
  }
});

test('method and service from a final-dialect (hessian 2.0) SofaRequest after fields that must be skipped', () => {
  const content = hessian.encode(
    {
      $class: 'com.alipay.sofa.rpc.core.request.SofaRequest',
      $: {
        targetAppName: 'app',
        requestProps: { a: 'b', n: 5, list: ['x', 'y'] },
        methodArgSigs: ['int', 'java.lang.String'],
        count: 70000,
        ok: true,
        methodName: 'plus',
        targetServiceUniqueName: 'a.B:1.0',
      },
    },
    '2.0',
  );
  assert.deepEqual(readSofaRequestKeys(content, 0, content.length), { method: 'plus', service: 'a.B:1.0' });
  for (let n = 0; n < content.length; n++) {
    const keys = readSofaRequestKeys(content, 0, n);
    assert.ok(keys.method === undefined || keys.method === 'plus');
  }
});

test('response headers: :status mapped from the Bolt status, bolt-status as sent', () => {
  const expected: Record<number, number> = { 0: 200, 1: 500, 2: 500, 3: 500, 4: 503, 5: 502, 6: 404, 7: 504, 8: 502, 9: 500, 16: 502, 17: 500, 18: 500 };
  for (const v of VARIANTS) {
    for (const [bolt, http] of Object.entries(expected)) {
      const res = Number(bolt) === 0 ? boltResponse({ id: 3, appResponse: 1, variant: v }) : boltResponse({ id: 3, status: Number(bolt), errorMsg: 'e', variant: v });
      const i = info(res);
      assert.equal(i.status, Number(bolt));
      const h = boltCodec.responseHeaders(res, i);
      assert.equal(h.get(':status'), String(http), `bolt ${bolt}`);
      assert.equal(h.get('bolt-status'), bolt);
      assert.equal(h.get('bolt-class'), 'com.alipay.sofa.rpc.core.response.SofaResponse');
    }
  }
});

test('local replies: sofa-bolt-node reads them as errors carrying our message, with mapped statuses', () => {
  const cases: [LocalReply, number][] = [
    [{ status: 404, reason: 'no_route', details: 'no route for com.example.Greeter#sayHello' }, 6],
    [{ status: 503, reason: 'no_healthy_endpoint' }, 6],
    [{ status: 504, reason: 'timeout', details: 'upstream timeout after 200ms' }, 7],
    [{ status: 503, reason: 'overflow' }, 4],
    [{ status: 429, reason: 'rate_limited' }, 4],
    [{ status: 503, reason: 'connect_failure' }, 5],
    [{ status: 502, reason: 'upstream_reset' }, 5],
    [{ status: 503, reason: 'draining' }, 16],
    [{ status: 403, reason: 'filter_denied', body: 'denied by policy ✓ 𝄞' }, 2],
    [{ status: 504, reason: 'direct_response' }, 7],
    [{ status: 500, reason: 'internal_error' }, 2],
  ];
  for (const v of VARIANTS) {
    const req = boltRequest({ id: 4242, variant: v });
    for (const [reply, status] of cases) {
      const frame = boltCodec.localReply(req, info(req), reply);
      const i = info(frame);
      assert.equal(i.kind, 'response');
      assert.equal(i.status, status, reply.reason);
      assert.equal(i.length, frame.length);
      assert.equal(boltCodec.getRequestId(frame), 4242);
      assert.equal(frame[0], req[0], 'same protocol version as the request');
      const p = decodeBolt(frame);
      assert.equal(p.packetType, 'response');
      assert.equal(p.packetId, 4242);
      if (v !== 'v1') assert.equal(p.options.crcEnable, v === 'v2crc');
      const err = p.data.error as Error;
      assert.ok(err instanceof Error, reply.reason);
      const want = reply.details ?? (typeof reply.body === 'string' ? reply.body : reply.reason.replace(/_/g, ' '));
      assert.ok(err.message.includes(want), `${err.message} should carry ${want}`);
      assert.equal(boltCodec.responseHeaders(frame, i).get('bolt-status'), String(status));
    }
  }
});

test('re-encode with changed headers: sofa-bolt-node still decodes it; spelling, derived keys and CRC handled', () => {
  for (const v of VARIANTS) {
    const original = withHeaderMap(boltRequest({ id: 99, method: 'sayHello', args: ['x'.repeat(300)], timeout: 750, variant: v }), JAVA_HEADERS);
    const i = info(original);
    const h = boltCodec.requestHeaders(original, i);
    h.set('rpc_trace_context.sofatraceid', 'changed');
    h.add('x-added', 'yes ✓');
    h.remove('sofa_head_target_app');
    assert.equal(h.dirty, true);
    // payload as the rpc layer may slice it: to the frame's end (CRC included) or content only
    const tail = original.subarray(i.headerLength, i.length);
    const out = boltCodec.encodeRequest(original, i, h, tail);
    const oi = info(out);
    assert.equal(oi.length, out.length);
    assert.equal(oi.timeoutMs, 750);
    assert.equal(boltCodec.getRequestId(out), 99);
    const p = decodeBolt(out); // checks the CRC for v2crc
    assert.equal(p.data.methodName, 'sayHello');
    assert.deepEqual(p.data.args, ['x'.repeat(300)]);
    const again = boltCodec.requestHeaders(out, oi);
    assert.equal(again.get('rpc_trace_context.sofatraceid'), 'changed');
    assert.equal(again.get('x-added'), 'yes ✓');
    assert.equal(again.get('sofa_head_target_app'), undefined);
    assert.equal(again.get('service'), 'com.example.Greeter:1.0:blue');
    const raw = out.toString('latin1');
    assert.ok(raw.includes('rpc_trace_context.sofaTraceId'), 'original key spelling kept');
    for (const derived of ['interface', 'version', 'group', 'bolt-class', 'method']) {
      assert.ok(!raw.includes(`\x00${String.fromCharCode(derived.length)}${derived}\x00`), `${derived} not written`);
    }
    const content = original.subarray(i.headerLength, i.length - (v === 'v2crc' ? 4 : 0));
    const out2 = boltCodec.encodeRequest(original, i, h, Buffer.from(content));
    assert.deepEqual(out2, out);
  }
});

test('re-encode a response with a new body; heartbeats answered in the request version', () => {
  for (const v of VARIANTS) {
    const res = boltResponse({ id: 5, appResponse: 'old', variant: v });
    const i = info(res);
    const h = boltCodec.responseHeaders(res, i);
    h.add('x-served-by', 'switchyard');
    const body = boltResponse({ id: 5, appResponse: 'new', variant: 'v1' });
    const bi = info(body);
    const out = boltCodec.encodeResponse(res, i, h, body.subarray(bi.headerLength));
    assert.equal(decodeBolt(out).data.appResponse, 'new');
    assert.equal(boltCodec.responseHeaders(out, info(out)).get('x-served-by'), 'switchyard');
    assert.equal(boltCodec.responseHeaders(out, info(out)).get(':status'), '200');

    const hb = boltHeartbeat(31, v);
    const ack = boltCodec.heartbeatResponse(hb, info(hb));
    assert.equal(info(ack).kind, 'heartbeat-response');
    const pa = decodeBolt(ack);
    assert.equal(pa.packetType, 'heartbeat_ack');
    assert.equal(pa.packetId, 31);
    assert.equal(ack[0], hb[0]);
  }
  const ping = boltCodec.heartbeatRequest(123);
  const pp = decodeBolt(ping);
  assert.equal(pp.packetType, 'heartbeat');
  assert.equal(pp.packetId, 123);
  assert.equal(info(ping).kind, 'heartbeat-request');
});

test('an unchanged view re-encodes to the original bytes', () => {
  for (const v of VARIANTS) {
    const { empty: _null, ...nonNull } = JAVA_HEADERS; // a null value is re-written as ''
    const original = withHeaderMap(boltRequest({ id: 8, variant: v }), nonNull);
    const i = info(original);
    const h = boltCodec.requestHeaders(original, i);
    h.get('method');
    const out = boltCodec.encodeRequest(original, i, new HeaderMap(h.raw().slice()), original.subarray(i.headerLength, i.length));
    assert.deepEqual(out, original);
  }
});

test('encodeResponse as the RPC layer calls it: the downstream request as original, the upstream response behind the headers', () => {
  for (const v of VARIANTS) {
    const req = boltRequest({ id: 600, variant: v });
    const up = boltResponse({ id: 17, appResponse: { ok: true }, variant: v });
    const ui = info(up);
    const h = boltCodec.responseHeaders(up, ui);
    h.add('x-proxy', '1');
    const out = boltCodec.encodeResponse(req, info(req), h, up.subarray(ui.headerLength)); // CRC trailer included
    const p = decodeBolt(out);
    assert.equal(p.packetId, 600);
    assert.deepEqual(p.data.appResponse, { ok: true });
    assert.equal(out[0], req[0]);
    assert.equal(boltCodec.responseHeaders(out, info(out)).get('x-proxy'), '1');

    // an upstream error keeps its status and exception
    const upErr = boltResponse({ id: 18, errorMsg: 'provider failed', variant: v });
    const ei = info(upErr);
    const eh = boltCodec.responseHeaders(upErr, ei);
    eh.add('x-proxy', '1');
    const pe = decodeBolt(boltCodec.encodeResponse(req, info(req), eh, upErr.subarray(ei.headerLength)));
    assert.ok(pe.data.error.message.includes('provider failed'));

    // a response view with no Bolt frame behind it (a filter's, another protocol's)
    const plain = boltCodec.encodeResponse(req, info(req), HeaderMap.from({ ':status': '503' }), Buffer.alloc(0));
    assert.equal(info(plain).status, 4);
    const pp = decodeBolt(plain);
    assert.equal(pp.packetId, 600);
    assert.ok(pp.data.error.message.includes('503'));
  }
});
