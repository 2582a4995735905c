/**
 * Pure helpers of the HTTP/2 codec: gRPC timeout/status/message helpers, header translation
 * both ways, and the connection-preface matcher (including every truncation of it).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../src/api/headers';
import type { LocalReply } from '../../src/api/stream';
import {
  H2_PREFACE,
  decodeGrpcMessage,
  encodeGrpcMessage,
  formatGrpcTimeout,
  grpcStatusFromReply,
  isGrpc,
  matchHttp2Preface,
  parseGrpcTimeout,
  requestMapFromRaw,
  responseKvH2,
  httpAutoListenerProtocol,
} from '../../src/http/h2';
import { http1Listener } from '../../src/http/h1';
import { http2Listener } from '../../src/http/h2';

describe('gRPC helpers', () => {
  it('parses grpc-timeout in every unit and rejects malformed values', () => {
    assert.equal(parseGrpcTimeout('1H'), 3_600_000);
    assert.equal(parseGrpcTimeout('2M'), 120_000);
    assert.equal(parseGrpcTimeout('3S'), 3000);
    assert.equal(parseGrpcTimeout('250m'), 250);
    assert.equal(parseGrpcTimeout('1500u'), 1.5);
    assert.equal(parseGrpcTimeout('2000000n'), 2);
    assert.equal(parseGrpcTimeout('99999999S'), 99_999_999_000);
    for (const bad of [undefined, '', 'S', '123456789S', '10x', '-1S', '1.5S', ' 1S', '1s']) {
      assert.equal(parseGrpcTimeout(bad), null, String(bad));
    }
  });

  it('formats timeouts with at most 8 digits, never shorter than asked', () => {
    assert.equal(formatGrpcTimeout(250), '250m');
    assert.equal(formatGrpcTimeout(1.5), '1500u');
    assert.equal(formatGrpcTimeout(0), '0n');
    assert.equal(formatGrpcTimeout(-5), '0n');
    for (const ms of [1, 0.001, 7.3, 99_999_999, 100_000_000, 5e9, 1e12, 123456.789]) {
      const v = formatGrpcTimeout(ms);
      assert.match(v, /^\d{1,8}[HMSmun]$/, v);
      assert.ok(parseGrpcTimeout(v)! >= ms, `${v} < ${ms}`);
    }
  });

  it('maps local replies to gRPC status: explicit, by reason, by HTTP status', () => {
    const r = (reason: LocalReply['reason'], status = 503, grpcStatus?: number): LocalReply => ({ status, reason, grpcStatus });
    assert.equal(grpcStatusFromReply(r('no_route', 404)), 12);
    for (const reason of ['no_healthy_endpoint', 'connect_failure', 'upstream_reset', 'overflow'] as const) {
      assert.equal(grpcStatusFromReply(r(reason)), 14, reason);
    }
    assert.equal(grpcStatusFromReply(r('timeout', 504)), 4);
    assert.equal(grpcStatusFromReply(r('rate_limited', 429)), 8);
    assert.equal(grpcStatusFromReply(r('filter_denied', 403)), 7);
    assert.equal(grpcStatusFromReply(r('filter_denied', 401)), 16);
    assert.equal(grpcStatusFromReply(r('internal_error', 500)), 13);
    assert.equal(grpcStatusFromReply(r('direct_response', 404)), 12);
    assert.equal(grpcStatusFromReply(r('direct_response', 200)), 2);
    assert.equal(grpcStatusFromReply(r('no_route', 404, 5)), 5);
  });

  it('percent-encodes grpc-message and decodes it back', () => {
    assert.equal(encodeGrpcMessage('plain text'), 'plain text');
    assert.equal(encodeGrpcMessage('100%'), '100%25');
    assert.equal(encodeGrpcMessage('a\nb'), 'a%0Ab');
    assert.equal(encodeGrpcMessage('ü'), '%C3%BC');
    for (const s of ['ümlaut % 😀', 'x\r\ny', '%%41']) assert.equal(decodeGrpcMessage(encodeGrpcMessage(s)), s);
  });

  it('detects gRPC content types', () => {
    assert.equal(isGrpc(HeaderMap.from({ 'content-type': 'application/grpc' })), true);
    assert.equal(isGrpc(HeaderMap.from({ 'content-type': 'application/grpc+proto' })), true);
    assert.equal(isGrpc(HeaderMap.from({ 'content-type': 'application/json' })), false);
    assert.equal(isGrpc(new HeaderMap()), false);
  });
});

describe('HTTP/2 header translation', () => {
  it('incoming requests: pseudo-headers kept, forbidden fields dropped, cookies joined, host → :authority', () => {
    const m = requestMapFromRaw([
      ':method', 'GET', ':path', '/x', ':scheme', 'http', ':protocol', 'websocket',
      'host', 'h.test', 'cookie', 'a=1', 'x-y', 'z', 'cookie', 'b=2', 'te', 'trailers', 'connection', 'close',
    ]);
    assert.deepEqual(m.raw(), [
      ':method', 'GET', ':path', '/x', ':scheme', 'http', ':authority', 'h.test',
      'cookie', 'a=1; b=2', 'x-y', 'z', 'te', 'trailers',
    ]);
    const n = requestMapFromRaw([':method', 'GET', ':authority', 'a.test', 'host', 'b.test', 'te', 'gzip']);
    assert.deepEqual(n.raw(), [':method', 'GET', ':authority', 'a.test']);
  });

  it('outgoing responses: :status first, pseudo-headers and forbidden fields dropped, repeats kept', () => {
    const kv = responseKvH2(new HeaderMap([':status', '200', 'connection', 'close', 'set-cookie', 'a', 'set-cookie', 'b', 'x', '1']), 200);
    assert.deepEqual(kv, [':status', '200', 'set-cookie', 'a', 'set-cookie', 'b', 'x', '1']);
  });
});

describe('connection preface sniffing', () => {
  it('matches the preface, asks for more on every prefix, rejects anything else', () => {
    assert.equal(matchHttp2Preface(H2_PREFACE), 'yes');
    assert.equal(matchHttp2Preface(Buffer.concat([H2_PREFACE, Buffer.from([0, 0, 0, 4])])), 'yes');
    for (let n = 0; n < H2_PREFACE.length; n++) assert.equal(matchHttp2Preface(H2_PREFACE.subarray(0, n)), 'need-more', `prefix ${n}`);
    assert.equal(matchHttp2Preface(Buffer.from('PRI * HTTP/1.1\r\n')), 'no');
    assert.equal(matchHttp2Preface(Buffer.from('GET / HTTP/1.1\r\n')), 'no');
    assert.equal(matchHttp2Preface(Buffer.from('POST')), 'no');
  });

  it('the combined listener matches both HTTP/1.1 and the preface', () => {
    const p = httpAutoListenerProtocol(http1Listener, http2Listener);
    assert.equal(p.name, 'http');
    assert.equal(p.match!(H2_PREFACE), 'yes');
    assert.equal(p.match!(Buffer.from('GET / HTTP/1.1\r\n')), 'yes');
    assert.equal(p.match!(Buffer.from('PR')), 'need-more');
    assert.equal(p.match!(Buffer.from([0xda, 0xbb])), 'no');
  });
});
