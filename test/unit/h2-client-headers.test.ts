/**
 * requestKvH2 (the native client's request field list), responseKvH2 and trailersForH2:
 * pseudo-headers first in a fixed order, host → :authority, forbidden fields dropped, te for gRPC,
 * CONNECT's short form, and fields a filter set that HTTP/2 cannot carry dropped (CR/LF/NUL in a
 * value, an upper-case, empty or space-holding name) rather than sent for the peer to reset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../src/api/headers';
import { requestKvH2, responseKvH2, trailersForH2 } from '../../src/http/h2/headers';

test('pseudo-headers first (:method :scheme :authority :path), forbidden fields dropped, repeats kept', () => {
  const h = new HeaderMap(['x-a', '1', ':path', '/p', 'connection', 'keep-alive', 'host', 'h.test', 'te', 'gzip', 'x-a', '2', ':method', 'POST']);
  assert.deepEqual(requestKvH2(h, 'dflt:80'), [':method', 'POST', ':scheme', 'http', ':authority', 'h.test', ':path', '/p', 'x-a', '1', 'x-a', '2']);
});

test('defaults, an explicit :authority over host, te: trailers kept or added for gRPC', () => {
  assert.deepEqual(requestKvH2(new HeaderMap([]), 'dflt:80'), [':method', 'GET', ':scheme', 'http', ':authority', 'dflt:80', ':path', '/']);
  const g = new HeaderMap([':authority', 'a.test', 'host', 'h.test', ':scheme', 'https', 'content-type', 'application/grpc+proto']);
  assert.deepEqual(requestKvH2(g, 'd'), [':method', 'GET', ':scheme', 'https', ':authority', 'a.test', ':path', '/', 'content-type', 'application/grpc+proto', 'te', 'trailers']);
  const t = new HeaderMap(['te', 'trailers', 'content-type', 'application/grpc']);
  assert.equal(requestKvH2(t, 'd').filter((x) => x === 'te').length, 1);
});

test('CONNECT carries only :method and :authority', () => {
  const h = new HeaderMap([':method', 'CONNECT', ':authority', 'x.test:443', ':path', '/ignored']);
  assert.deepEqual(requestKvH2(h, 'd'), [':method', 'CONNECT', ':authority', 'x.test:443']);
});

test('trailersForH2 drops pseudo, connection-specific, te, host and content-length; null when empty', () => {
  assert.equal(trailersForH2(null), null);
  assert.equal(trailersForH2(new HeaderMap(['content-length', '3', 'connection', 'x'])), null);
  assert.deepEqual(trailersForH2(new HeaderMap(['grpc-status', '0', 'host', 'h', 'x-t', 'v']))?.raw(), ['grpc-status', '0', 'x-t', 'v']);
});

test('fields HTTP/2 cannot carry are dropped from requests, responses and trailers; valid ones kept', () => {
  const bad = ['x-split', 'a\r\nx-evil: 1', 'x-lf', 'b\nc', 'x-nul', 'a\u0000b', 'X-Upper', 'v', '', 'empty-name', 'sp ace', 'v', 'x-ok', 'fine\tstill'];
  assert.deepEqual(requestKvH2(new HeaderMap(bad.slice()), 'd'), [':method', 'GET', ':scheme', 'http', ':authority', 'd', ':path', '/', 'x-ok', 'fine\tstill']);
  assert.deepEqual(responseKvH2(new HeaderMap(bad.slice()), 200), [':status', '200', 'x-ok', 'fine\tstill']);
  assert.deepEqual(trailersForH2(new HeaderMap(bad.slice()))?.raw(), ['x-ok', 'fine\tstill']);
  assert.equal(trailersForH2(new HeaderMap(['grpc-message', 'a\r\nb'])), null);
});
