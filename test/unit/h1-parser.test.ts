import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChunks, parseString, summary } from '../fixtures/h1-util';

const REQ = false;
const RES = true;

function splitEverywhere(isResponse: boolean, s: string, opts: Parameters<typeof parseChunks>[2] = {}): void {
  const whole = Buffer.from(s, 'latin1');
  const expected = summary(parseChunks(isResponse, [whole], opts));
  for (let k = 0; k <= whole.length; k++) {
    const got = summary(parseChunks(isResponse, [whole.subarray(0, k), whole.subarray(k)], opts));
    assert.deepEqual(got, expected, `split at ${k}`);
  }
  const bytes: Buffer[] = [];
  for (let k = 0; k < whole.length; k++) bytes.push(whole.subarray(k, k + 1));
  assert.deepEqual(summary(parseChunks(isResponse, bytes, opts)), expected, 'byte by byte');
}

test('simple GET request', () => {
  const r = parseString(REQ, 'GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-Thing:  v  \r\n\r\n');
  assert.equal(r.error, null);
  const h = r.msgs[0].head;
  assert.equal(h.method, 'GET');
  assert.equal(h.target, '/a?b=1');
  assert.equal(h.versionMinor, 1);
  assert.deepEqual(h.headers, ['host', 'example.com', 'x-thing', 'v']);
  assert.equal(h.host, 'example.com');
  assert.equal(h.keepAlive, true);
  assert.equal(r.msgs[0].complete, true);
});

test('HTTP/1.0 keep-alive rules', () => {
  assert.equal(parseString(REQ, 'GET / HTTP/1.0\r\n\r\n').msgs[0].head.keepAlive, false);
  assert.equal(parseString(REQ, 'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').msgs[0].head.keepAlive, true);
  assert.equal(parseString(REQ, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n').msgs[0].head.keepAlive, false);
  const h = parseString(REQ, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Foo\r\n\r\n').msgs[0].head;
  assert.deepEqual(h.connectionTokens, ['x-foo']);
});

test('Content-Length body, list of identical values, duplicate identical headers', () => {
  let r = parseString(REQ, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET');
  assert.equal(r.msgs[0].body, 'hello');
  r = parseString(REQ, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc');
  assert.equal(r.msgs[0].body, 'abc');
  r = parseString(REQ, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc');
  assert.equal(r.msgs[0].body, 'abc');
  r = parseString(REQ, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n');
  assert.equal(r.msgs[0].complete, true);
  assert.equal(r.msgs[0].head.noBody, true);
});

test('chunked body with extensions and trailers', () => {
  const s =
    'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '5;name=val\r\nhello\r\n6 ; x="y"\r\n world\r\n0\r\nX-Sum: 42\r\nX-B: b\r\n\r\n';
  const r = parseString(REQ, s);
  assert.equal(r.error, null);
  assert.equal(r.msgs[0].body, 'hello world');
  assert.deepEqual(r.msgs[0].trailers, ['x-sum', '42', 'x-b', 'b']);
  const r2 = parseString(REQ, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n');
  assert.equal(r2.msgs[0].body, '0123456789');
  assert.equal(r2.msgs[0].trailers, null);
});

test('responses: status line, bodies, no-body statuses, HEAD, close-delimited, 100-continue skipped', () => {
  let r = parseString(RES, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi');
  assert.equal(r.msgs[0].head.status, 200);
  assert.equal(r.msgs[0].head.reason, 'OK');
  assert.equal(r.msgs[0].body, 'hi');
  r = parseString(RES, 'HTTP/1.1 204 No Content\r\n\r\n');
  assert.equal(r.msgs[0].complete, true);
  r = parseString(RES, 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n');
  assert.equal(r.msgs[0].complete, true);
  assert.equal(r.msgs[0].body, '');
  r = parseString(RES, 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', { headRequest: true });
  assert.equal(r.msgs[0].complete, true);
  r = parseString(RES, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nLink: x\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx');
  assert.equal(r.msgs.length, 1);
  assert.equal(r.msgs[0].head.status, 201);
  assert.equal(r.msgs[0].body, 'x');
  r = parseString(RES, 'HTTP/1.0 200 OK\r\n\r\nuntil close', { finish: true });
  assert.equal(r.finish, 1);
  assert.equal(r.msgs[0].body, 'until close');
  assert.equal(r.msgs[0].head.keepAlive, false);
  assert.equal(r.msgs[0].complete, true);
  r = parseString(RES, 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n');
  assert.equal(r.msgs[0].head.status, 200);
  r = parseString(RES, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel', { finish: true });
  assert.equal(r.error, 'truncated');
});

test('pipelined messages in one chunk stop at each boundary', () => {
  const one = 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc';
  const two = 'GET /g HTTP/1.1\r\nHost: a\r\n\r\n';
  const three = 'PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n';
  const r = parseString(REQ, one + two + '\r\n' + three + one);
  assert.equal(r.error, null);
  assert.deepEqual(r.msgs.map((m) => [m.head.target, m.body, m.complete]), [
    ['/p', 'abc', true],
    ['/g', '', true],
    ['/c', 'z', true],
    ['/p', 'abc', true],
  ]);
  const res = parseString(RES, 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nbc\r\n0\r\n\r\n');
  assert.deepEqual(res.msgs.map((m) => [m.head.status, m.body]), [[200, 'a'], [204, ''], [200, 'bc']]);
});

test('every valid message parses identically when split at any byte offset', () => {
  splitEverywhere(REQ, 'GET /x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n');
  splitEverywhere(REQ, '\r\nPOST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello worldGET / HTTP/1.0\r\n\r\n');
  splitEverywhere(REQ, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n');
  splitEverywhere(RES, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\n\r\n');
  splitEverywhere(RES, 'HTTP/1.1 200 OK\r\nServer: s\r\n\r\nclose delimited body', { finish: true });
  splitEverywhere(RES, 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd');
});

test('refused requests carry a code and the status to answer', () => {
  const cases: Array<[string, string, number]> = [
    ['both CL and TE', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['differing duplicate CL', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', 400],
    ['differing CL list', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\n', 400],
    ['non-numeric CL', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n', 400],
    ['negative CL', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 400],
    ['plus-signed CL', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n', 400],
    ['empty CL', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n', 400],
    ['CL with inner space', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n', 400],
    ['huge CL', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n', 400],
    ['TE final not chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 400],
    ['TE only gzip', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 400],
    ['TE chunked twice', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['TE unknown coding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo, chunked\r\n\r\n', 501],
    ['TE in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['TE chunked-ish', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n  b\r\n\r\n', 400],
    ['obs-fold first', 'GET / HTTP/1.1\r\n Host: a\r\n\r\n', 400],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400],
    ['tab before colon', 'GET / HTTP/1.1\r\nHost\t: a\r\n\r\n', 400],
    ['bare CR in value', 'GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n', 400],
    ['bare CR line end', 'GET / HTTP/1.1\rHost: a\r\n\r\n', 400],
    ['bare LF line end', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 400],
    ['bare LF in header', 'GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n', 400],
    ['NUL in value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n', 400],
    ['DEL in value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n', 400],
    ['CTL in value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n', 400],
    ['invalid name char', 'GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n', 400],
    ['empty name', 'GET / HTTP/1.1\r\nHost: a\r\n: z\r\n\r\n', 400],
    ['no colon', 'GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n', 400],
    ['invalid method char', 'G(T / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['empty method', ' / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['double space', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['space in target', 'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['CTL in target', 'GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['non-ascii in target', 'GET /\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['relative target', 'GET foo HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ['HTTP/1.2', 'GET / HTTP/1.2\r\nHost: a\r\n\r\n', 505],
    ['HTTP/0.9 style', 'GET /\r\n\r\n', 400],
    ['lower-case version', 'GET / http/1.1\r\nHost: a\r\n\r\n', 400],
    ['trailing space after version', 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n', 400],
    ['missing host 1.1', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['two hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['CONNECT', 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n', 501],
    ['bad chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
    ['negative chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n', 400],
    ['overflowing chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n', 400],
    ['chunk size then space then CRLF', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\na\r\n0\r\n\r\n', 400],
    ['missing CRLF after chunk data', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n', 400],
    ['bare LF after chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\na\r\n0\r\n\r\n', 400],
    ['CTL in chunk extension', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a\x01\r\na\r\n0\r\n\r\n', 400],
    ['obs-fold in trailers', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n c\r\n\r\n', 400],
    ['bad trailer name', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA b: c\r\n\r\n', 400],
  ];
  for (const [name, msg, status] of cases) {
    const r = parseString(REQ, msg);
    assert.notEqual(r.error, null, `${name}: accepted`);
    assert.equal(r.status, status, `${name}: status ${r.status} (${r.error})`);
    // Refusal must not depend on how the bytes were split.
    const b = Buffer.from(msg, 'latin1');
    for (let k = 1; k < b.length; k++) {
      const s = parseChunks(REQ, [b.subarray(0, k), b.subarray(k)]);
      assert.notEqual(s.error, null, `${name}: split at ${k} accepted`);
      assert.equal(s.status, r.status, `${name}: split at ${k} gave ${s.error}`);
    }
  }
});

test('header bytes over the limit: 431, also when arriving in pieces', () => {
  const big = 'GET / HTTP/1.1\r\nHost: a\r\nX: ' + 'a'.repeat(200) + '\r\n\r\n';
  assert.equal(parseString(REQ, big, { maxHeaderBytes: 100 }).status, 431);
  const b = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nX: ' + 'a'.repeat(200), 'latin1');
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += 7) parts.push(b.subarray(i, i + 7));
  const r = parseChunks(REQ, parts, { maxHeaderBytes: 100 });
  assert.equal(r.status, 431);
  assert.equal(parseString(REQ, big, { maxHeaderBytes: big.length }).error, null);
  assert.equal(parseString(REQ, big, { maxHeaderBytes: big.length - 1 }).status, 431);
});

test('refused responses', () => {
  const cases: Array<[string, string]> = [
    ['CL and TE', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['gzip TE', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n'],
    ['bad status', 'HTTP/1.1 2x0 OK\r\n\r\n'],
    ['status 600', 'HTTP/1.1 600 OK\r\n\r\n'],
    ['two-digit status', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['bad version', 'HTTP/1.5 200 OK\r\n\r\n'],
    ['garbage', 'hello world\r\n\r\n'],
    ['101 unasked', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n'],
    ['differing CL', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
    ['CTL in reason', 'HTTP/1.1 200 O\x01K\r\n\r\n'],
  ];
  for (const [name, msg] of cases) assert.notEqual(parseString(RES, msg).error, null, name);
});

test('the parser never reads past a message: offset returned at the boundary', () => {
  const { H1Parser } = require('../../src/http/h1/parser') as typeof import('../../src/http/h1/parser');
  const events: string[] = [];
  const p = new H1Parser(false, 8192, {
    onHead: (h) => events.push('head ' + h.target),
    onBody: (c) => events.push('body ' + c.toString()),
    onMessageComplete: () => events.push('end'),
  });
  const a = 'POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxy';
  const buf = Buffer.from(a + 'GARBAGE THAT IS NOT HTTP\r\n\r\n');
  const r = p.execute(buf, 0);
  assert.equal(r, a.length);
  assert.deepEqual(events, ['head /a', 'body xy', 'end']);
  assert.equal(p.execute(buf, r), -1);
  assert.notEqual(p.error, null);
});

test('pause() inside onHead stops before the body; resume continues', () => {
  const { H1Parser } = require('../../src/http/h1/parser') as typeof import('../../src/http/h1/parser');
  const events: string[] = [];
  const p: InstanceType<typeof H1Parser> = new H1Parser(false, 8192, {
    onHead: () => {
      events.push('head');
      p.pause();
    },
    onBody: (c) => events.push('body ' + c.toString()),
    onMessageComplete: () => events.push('end'),
  });
  const buf = Buffer.from('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxy');
  const r = p.execute(buf, 0);
  assert.equal(r, buf.length - 2);
  assert.deepEqual(events, ['head']);
  p.resume();
  assert.equal(p.execute(buf, r), buf.length);
  assert.deepEqual(events, ['head', 'body xy', 'end']);
});
