import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../src/api/headers';
import { matchHttp1 } from '../../src/http/h1/index';
import { requestHeaderMap, responseHeaderMap, trailerMap } from '../../src/http/h1/headers';
import { fieldLines, statusLine, lastChunk, serializeStats } from '../../src/http/h1/serialize';
import { parseString } from '../fixtures/h1-util';

function reqHead(s: string) {
  const r = parseString(false, s);
  assert.equal(r.error, null);
  return r.msgs[0].head;
}

test('matchHttp1 sniffs request methods, not the HTTP/2 preface', () => {
  assert.equal(matchHttp1(Buffer.from('GET / HTTP/1.1\r\n')), 'yes');
  assert.equal(matchHttp1(Buffer.from('OPTIONS * HTTP/1.1')), 'yes');
  assert.equal(matchHttp1(Buffer.from('POS')), 'need-more');
  assert.equal(matchHttp1(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')), 'no');
  assert.equal(matchHttp1(Buffer.from([0xda, 0xbb, 0xc2])), 'no');
  assert.equal(matchHttp1(Buffer.from([0x16, 0x03, 0x01])), 'no');
  assert.equal(matchHttp1(Buffer.from('get / HTTP/1.1')), 'no');
});

test('requestHeaderMap: absolute-form target sets :authority, :path and :scheme', () => {
  const m = requestHeaderMap(reqHead('GET http://Other.example:81/x?y HTTP/1.1\r\nHost: ignored\r\n\r\n'), false);
  assert.deepEqual(m.raw().slice(0, 8), [':method', 'GET', ':path', '/x?y', ':authority', 'Other.example:81', ':scheme', 'http']);
  assert.equal(m.has('host'), false);
  const tls = requestHeaderMap(reqHead('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), true);
  assert.equal(tls.get(':scheme'), 'https');
  const opts = requestHeaderMap(reqHead('OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n'), false);
  assert.equal(opts.get(':path'), '*');
});

test('requestHeaderMap strips hop-by-hop and Connection-listed fields; keeps content-length; absorbs 100-continue', () => {
  const m = requestHeaderMap(
    reqHead('POST / HTTP/1.1\r\nHost: a\r\nConnection: x-a, X-B\r\nX-A: 1\r\nx-b: 2\r\nTE: trailers\r\nTrailer: x\r\nProxy-Connection: k\r\nExpect: 100-continue\r\nContent-Length: 3\r\nX-C: 3\r\n\r\nabc'),
    false,
  );
  assert.deepEqual(m.raw().slice(8), ['content-length', '3', 'x-c', '3']);
});

test('responseHeaderMap and trailerMap', () => {
  const r = parseString(true, 'HTTP/1.1 201 Created\r\nConnection: keep-alive, x-h\r\nX-H: 1\r\nKeep-Alive: timeout=1\r\nX-Y: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\nContent-Length: 5\r\n\r\n');
  assert.equal(r.error, null);
  assert.deepEqual(responseHeaderMap(r.msgs[0].head).raw(), [':status', '201', 'x-y', '2']);
  assert.deepEqual(trailerMap(r.msgs[0].trailers)!.raw(), ['x-t', '1']);
  assert.equal(trailerMap(null), null);
});

test('serializer never writes a field that could split the message', () => {
  const before = serializeStats.droppedFields;
  const h = new HeaderMap([':status', '200', 'ok', 'v', 'bad', 'a\r\nInjected: 1', 'bad name', 'x', 'connection', 'close', 'nul', 'a\0b', 'x-u', 'caf\u00e9']);
  assert.equal(fieldLines(h, false, false), 'ok: v\r\nx-u: caf\u00e9\r\n');
  assert.equal(serializeStats.droppedFields - before, 3);
  assert.equal(statusLine(404), 'HTTP/1.1 404 Not Found\r\n');
  assert.equal(statusLine(599), 'HTTP/1.1 599 Unknown\r\n');
  assert.equal(lastChunk(new HeaderMap(['x-t', '1', 'content-length', '3'])), '0\r\nx-t: 1\r\n\r\n');
  assert.equal(lastChunk(null), '0\r\n\r\n');
});
