/**
 * The Dubbo codec on frames built with hessian.js: framing, ids, routing keys, lazy attachments,
 * re-encoding, responses, heartbeats and local replies.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { FrameError, FrameHeaderMap, HeaderMap, registry, type FrameInfo, type LocalReply } from '../../src/api';
import { dubboCodec, samples, DubboRequestHeaders } from '../../protocols/dubbo';
import {
  decodeRequestBody,
  header,
  hessian,
  hessianSamples,
  heartbeatRequestFrame,
  requestBody,
  requestFrame,
  responseFrame,
  valueResponse,
} from '../fixtures/dubbo-frames';

const c = dubboCodec;
function info(frame: Buffer): FrameInfo {
  const i = c.peek(frame);
  assert.ok(typeof i === 'object' && !(i instanceof FrameError), 'peek gives a FrameInfo');
  return i as FrameInfo;
}
function view(frame: Buffer): DubboRequestHeaders {
  return c.requestHeaders(frame, info(frame)) as DubboRequestHeaders;
}
/** Looks at the map without triggering the lazy loader. */
const rawGet = (h: HeaderMap, name: string) => HeaderMap.prototype.get.call(h, name);

test('loading protocols/dubbo registers the codec', () => {
  assert.equal(registry.rpcCodec('dubbo'), dubboCodec);
  assert.equal(c.name, 'dubbo');
  assert.equal(c.poolMode, 'multiplex');
});

test('samples match frames built with hessian.js byte for byte', () => {
  for (const k of ['request', 'oneWay', 'heartbeat', 'response'] as const) assert.deepEqual(samples[k], hessianSamples[k], k);
});

test('match sniffs the magic', () => {
  assert.equal(c.match(Buffer.alloc(0)), 'need-more');
  assert.equal(c.match(Buffer.from([0xda])), 'need-more');
  assert.equal(c.match(Buffer.from([0xda, 0xbb])), 'yes');
  assert.equal(c.match(Buffer.from([0xda, 0xbc])), 'no');
  assert.equal(c.match(Buffer.from('GET / HTTP/1.1')), 'no');
  assert.equal(c.match(Buffer.from([0x01])), 'no');
});

test('peek: kinds, one-way, status, lengths, partial headers, bad magic', () => {
  const req = requestFrame();
  assert.deepEqual(info(req), { kind: 'request', oneWay: false, headerLength: 16, length: req.length, timeoutMs: 0, status: 0 });
  assert.equal(info(requestFrame({ twoWay: false })).oneWay, true);
  assert.equal(info(heartbeatRequestFrame(9n)).kind, 'heartbeat-request');
  assert.equal(info(c.heartbeatResponse(heartbeatRequestFrame(9n), info(heartbeatRequestFrame(9n)))).kind, 'heartbeat-response');
  const resp = valueResponse(5n, 'x');
  assert.deepEqual(info(resp), { kind: 'response', oneWay: false, headerLength: 16, length: resp.length, timeoutMs: 0, status: 20 });
  assert.equal(info(responseFrame(1n, 70, Buffer.from([0x01, 0x61]))).status, 70);
  for (let n = 0; n < 16; n++) assert.equal(c.peek(req.subarray(0, n)), 'need-more');
  // the header alone is enough: the rest is the rpc layer's business
  assert.equal(info(req.subarray(0, 16)).length, req.length);
  // a declared length is reported as is (the rpc layer enforces its maximum)
  assert.equal(info(header(0xc2, 0, 1n, 0xffffffff)).length, 16 + 0xffffffff);
  for (const bad of [Buffer.from([0x00]), Buffer.from([0xda, 0x00]), Buffer.from('GET / HTTP/1.1\r\n\r\n')]) {
    const e = c.peek(bad);
    assert.ok(e instanceof FrameError);
    assert.match(e.message, /magic/);
  }
});

test('request ids are u64 bigints, read and written in place beyond 2^53', () => {
  const id = 2n ** 63n + 12345n;
  const f = requestFrame({ id });
  assert.equal(c.getRequestId(f), id);
  c.setRequestId(f, 2n ** 64n - 1n);
  assert.equal(c.getRequestId(f), 2n ** 64n - 1n);
  c.setRequestId(f, 77);
  assert.equal(c.getRequestId(f), 77n);
  assert.equal(f.readUInt32BE(12), f.length - 16, 'body length untouched');
  assert.deepEqual(decodeRequestBody(f.subarray(16), 1).args, ['world']);
});

test('request view: routing keys eager, attachments lazy', () => {
  const f = requestFrame({ attachments: { group: 'blue', interface: 'com.example.Greeter', timeout: 3000, traceId: 'T-1' } });
  const h = view(f);
  assert.ok(h instanceof FrameHeaderMap);
  assert.equal(h.get('service'), 'com.example.Greeter');
  assert.equal(h.get('method'), 'sayHello');
  assert.equal(h.get('version'), '1.0.0');
  assert.equal(h.get('dubbo'), '2.0.2');
  assert.equal(h.get('serialization'), undefined);
  assert.equal(rawGet(h, 'group'), undefined, 'attachments not read for routing keys');
  assert.equal(h.get('group'), 'blue');
  assert.equal(h.get('interface'), 'com.example.Greeter');
  assert.equal(h.get('timeout'), '3000');
  assert.equal(h.get('traceid'), 'T-1', 'names are lower-cased');
  assert.equal(h.dirty, false);
  assert.equal(h.decodeError, null);
});

test('request view: version from attachments when the body has none', () => {
  const h = view(requestFrame({ version: '', attachments: { version: '2.0.0', group: 'g' } }));
  assert.equal(h.get('version'), '2.0.0');
  assert.equal(h.getAll('version').length, 1);
});

test('request view over every argument type (skipped) still reaches the attachments', () => {
  const o = { $class: 'com.x.User', $: { id: 1, name: 'n', tags: ['a'] } };
  const args = [o, o, 'q'.repeat(70000), Buffer.alloc(70000, 1), { $class: 'long', $: 2 ** 40 }, 1.5, new Date(), [1, 2], { a: { b: 1 } }, null, true];
  const desc = 'Lcom/x/User;Lcom/x/User;Ljava/lang/String;[BJDLjava/util/Date;Ljava/util/List;Ljava/util/Map;Ljava/lang/Object;Z';
  const f = requestFrame({ desc, args, attachments: { group: 'deep', extra: { $class: 'com.x.User', $: { id: 2, name: 'm', tags: [] } } } });
  const h = view(f);
  assert.equal(h.get('group'), 'deep');
  assert.equal(h.has('extra'), false, 'non-scalar attachment values are not shown');
  assert.equal(h.decodeError, null);
});

test('non-hessian2 serialization: forwarded untouched, view shows only the id', () => {
  const f = requestFrame({ serialization: 6 });
  const h = view(f);
  assert.deepEqual(h.toObject(), { serialization: '6' });
  assert.equal(c.encodeRequest(f, info(f), h, f.subarray(16)), f);
  h.set('group', 'x');
  assert.deepEqual(c.encodeRequest(f, info(f), h, f.subarray(16)), f, 'no re-encoding of a body it cannot read');
});

test('corrupt bodies: partial views with decodeError, never a throw', () => {
  const good = requestFrame({ attachments: { group: 'g' } });
  // break the argument: 0x40 is a reserved code
  const body = requestBody({ attachments: { group: 'g' } });
  const argAt = body.indexOf(Buffer.from([0x05, ...Buffer.from('world')]));
  const bad = Buffer.from(good);
  bad[16 + argAt] = 0x40;
  const h = view(bad);
  assert.equal(h.get('service'), 'com.example.Greeter');
  assert.equal(h.get('group'), undefined);
  assert.match(String(h.decodeError), /unexpected code 0x40/);
  // break the service path length: routing keys missing
  const bad2 = Buffer.from(good);
  bad2[16 + 6] = 0x1f;
  const h2 = view(bad2);
  assert.equal(h2.get('method'), undefined);
  assert.ok(h2.decodeError !== null);
  // an empty body
  const empty = header(0xc2, 0, 1n, 0);
  assert.equal(view(empty).size, 0);
});

test('re-encoding with changed attachments keeps arguments byte-identical', () => {
  const o = { $class: 'com.x.User', $: { id: 1, name: 'n' } };
  const args = ['😀 arg', o, o, 42];
  const desc = 'Ljava/lang/String;Lcom/x/User;Lcom/x/User;I';
  const attachments = { group: 'blue', timeout: 300, traceId: 'T', remove: 'me', list: [1, 2] };
  const f = requestFrame({ id: 2n ** 60n, desc, args, attachments });
  const i = info(f);
  const h = view(f);
  h.set('group', 'green');
  h.remove('remove');
  h.add('x-new', 'ünïcode 😀');
  assert.equal(h.dirty, true);
  const out = c.encodeRequest(f, i, h, f.subarray(16));
  assert.equal(out.readUInt32BE(12), out.length - 16);
  assert.deepEqual(out.subarray(0, 12), f.subarray(0, 12), 'magic, flag and id kept');
  const before = decodeRequestBody(f.subarray(16), 4);
  const after = decodeRequestBody(out.subarray(16), 4);
  assert.deepEqual(after.args, before.args);
  assert.equal(after.service, 'com.example.Greeter');
  assert.equal(after.method, 'sayHello');
  assert.deepEqual(after.attachments, { group: 'green', timeout: 300, traceId: 'T', list: [1, 2], 'x-new': 'ünïcode 😀' });
  // argument bytes identical
  const re = view(out);
  assert.equal(re.get('group'), 'green');
  const origBody = f.subarray(16);
  const argsEnd = origBody.length - Buffer.from(hessian.encode(attachments, '2.0')).length;
  assert.deepEqual(out.subarray(16, 16 + argsEnd), origBody.subarray(0, argsEnd));
});

test('re-encoding: body without attachments, typed map, clone of the view, changed payload', () => {
  const f = requestFrame({ withAttachments: false });
  const h = view(f);
  h.set('group', 'g');
  const out = c.encodeRequest(f, info(f), h, f.subarray(16));
  assert.deepEqual(decodeRequestBody(out.subarray(16), 1).attachments, { group: 'g' });

  const typed = requestFrame({ attachments: { $class: 'java.util.HashMap', $: { a: 'b' } } });
  const ht = view(typed).clone();
  ht.add('c', 'd');
  const outT = c.encodeRequest(typed, info(typed), ht, typed.subarray(16));
  assert.deepEqual(decodeRequestBody(outT.subarray(16), 1).attachments, { a: 'b', c: 'd' });

  const unchanged = view(typed);
  assert.equal(c.encodeRequest(typed, info(typed), unchanged, typed.subarray(16)), typed, 'same frame when nothing changed');
  const newBody = requestBody({ args: ['other'] });
  const outB = c.encodeRequest(typed, info(typed), unchanged, newBody);
  assert.equal(outB.readUInt32BE(12), newBody.length);
  assert.deepEqual(outB.subarray(16), newBody);
});

test('response view: HTTP-equivalent status and the raw Dubbo status', () => {
  const cases: Array<[number, number]> = [[20, 200], [30, 504], [31, 504], [40, 400], [50, 502], [60, 404], [70, 500], [80, 500], [90, 400], [100, 503], [99, 500]];
  for (const [dubbo, http] of cases) {
    const f = dubbo === 20 ? valueResponse(1n, 'x') : responseFrame(1n, dubbo, Buffer.from(hessian.encode('boom', '2.0')));
    const h = c.responseHeaders(f, info(f));
    assert.equal(h.get(':status'), String(http), `status ${dubbo}`);
    assert.equal(h.get('dubbo-status'), String(dubbo));
  }
  const ok = valueResponse(1n, 'x');
  assert.equal(c.responseHeaders(ok, info(ok)).get('dubbo-result'), 'value');
  const enc = new hessian.EncoderV2();
  enc.write(0);
  enc.write({ $class: 'java.lang.RuntimeException', $: { detailMessage: 'bad' } });
  const exc = responseFrame(1n, 20, Buffer.from(enc.get()));
  assert.equal(c.responseHeaders(exc, info(exc)).get('dubbo-result'), 'exception');
  assert.equal(c.responseHeaders(exc, info(exc)).get(':status'), '200', 'a business exception is a delivered answer');
});

test('encodeResponse keeps the id and fixes the length', () => {
  const f = valueResponse(2n ** 62n, 'hello');
  const i = info(f);
  const h = c.responseHeaders(f, i);
  assert.equal(c.encodeResponse(f, i, h, f.subarray(16)), f);
  const body = Buffer.from([0x91, ...hessian.encode('changed!', '2.0')]);
  const out = c.encodeResponse(f, i, h, body);
  assert.equal(c.getRequestId(out), 2n ** 62n);
  assert.equal(out.readUInt32BE(12), body.length);
  assert.equal(hessian.decode(out.subarray(17), '2.0'), 'changed!');
  const h2 = new HeaderMap(['dubbo-status', '80']);
  assert.equal(c.encodeResponse(f, i, h2, f.subarray(16))[3], 80);
  assert.equal(f[3], 20, 'original untouched');
});

test('heartbeats', () => {
  const hb = heartbeatRequestFrame(2n ** 55n + 1n);
  const resp = c.heartbeatResponse(hb, info(hb));
  assert.equal(resp.toString('hex'), 'dabb2214' + (2n ** 55n + 1n).toString(16).padStart(16, '0') + '000000014e');
  const req = c.heartbeatRequest(12);
  assert.deepEqual(req, heartbeatRequestFrame(12n));
  assert.equal(info(req).kind, 'heartbeat-request');
  assert.equal(info(req).oneWay, false);
});

function reply(reason: LocalReply['reason'], status: number, extra: Partial<LocalReply> = {}): LocalReply {
  return { reason, status, ...extra };
}

test('localReply: status by reason, message as a hessian2 string, same id', () => {
  const id = 2n ** 63n + 7n;
  const req = requestFrame({ id });
  const i = info(req);
  const cases: Array<[LocalReply, number]> = [
    [reply('no_route', 404), 60],
    [reply('no_healthy_endpoint', 503), 60],
    [reply('timeout', 504), 31],
    [reply('overflow', 503), 100],
    [reply('rate_limited', 429), 100],
    [reply('bad_request', 400), 40],
    [reply('payload_too_large', 413), 40],
    [reply('upstream_protocol_error', 502), 50],
    [reply('connect_failure', 503), 80],
    [reply('upstream_reset', 503), 80],
    [reply('internal_error', 500), 80],
    [reply('filter_denied', 403), 40],
    [reply('filter_denied', 429), 100],
    [reply('filter_denied', 500), 80],
    [reply('direct_response', 404), 60],
  ];
  for (const [r, status] of cases) {
    const out = c.localReply(req, i, r);
    const oi = info(out);
    assert.equal(oi.kind, 'response');
    assert.equal(oi.status, status, r.reason + ' ' + r.status);
    assert.equal(out[2], 0x02);
    assert.equal(c.getRequestId(out), id);
    assert.equal(oi.length, out.length);
    assert.equal(hessian.decode(out.subarray(16), '2.0'), r.reason);
  }
  const withDetails = c.localReply(req, i, reply('no_route', 404, { details: 'no route for com.x 😀', body: 'ignored' }));
  assert.equal(hessian.decode(withDetails.subarray(16), '2.0'), 'no route for com.x 😀');
  const withBody = c.localReply(req, i, reply('filter_denied', 403, { body: Buffer.from('denied') }));
  assert.equal(hessian.decode(withBody.subarray(16), '2.0'), 'denied');
  // a 2xx direct response is a returned value (RESPONSE_VALUE then the string)
  const ok = c.localReply(req, i, reply('direct_response', 200, { body: 'hi' }));
  assert.equal(ok[3], 20);
  const d = new hessian.DecoderV2(ok.subarray(16));
  assert.equal(d.read(), 1);
  assert.equal(d.read(), 'hi');
});
