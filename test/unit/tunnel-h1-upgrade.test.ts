/**
 * The HTTP/1.1 codec's side of upgrades: which requests may switch (websocket yes; h2c, HTTP/1.0,
 * bodies and a missing `Connection: upgrade` no), `upgrade` kept in the maps, and the response
 * parser stopping exactly after an asked-for 101 (an unasked one is still refused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { H1Parser, H1Head, type H1ParserHandler } from '../../src/http/h1/parser';
import { requestHeaderMap, requestUpgrade, responseHeaderMap } from '../../src/http/h1/headers';

function parseOne(isResponse: boolean, text: string, upgradeRequest = false) {
  const heads: H1Head[] = [];
  let completed = 0;
  const h: H1ParserHandler = {
    onHead: (x) => heads.push(x),
    onBody: () => {},
    onMessageComplete: () => completed++,
  };
  const p = new H1Parser(isResponse, 65536, h);
  p.upgradeRequest = upgradeRequest;
  const buf = Buffer.from(text, 'latin1');
  const r = p.execute(buf, 0);
  return { p, r, heads, completed, buf };
}

function requestHead(text: string): H1Head {
  const x = parseOne(false, text);
  assert.equal(x.p.error, null);
  return x.heads[0];
}

test('a websocket handshake may switch; the map keeps upgrade', () => {
  const head = requestHead('GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Key: k\r\n\r\n');
  const up = requestUpgrade(head);
  assert.equal(up, 'WebSocket');
  const map = requestHeaderMap(head, false, up);
  assert.equal(map.get('upgrade'), 'WebSocket');
  assert.equal(map.get('connection'), undefined);
  assert.equal(map.get('sec-websocket-key'), 'k');
  // Without the upgrade decision the field is hop-by-hop, as before.
  assert.equal(requestHeaderMap(head, false).get('upgrade'), undefined);
});

test('requests that may not switch', () => {
  const cases = [
    'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAA\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: foo, H2C\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n',
    'GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 3\r\n\r\nabc',
    'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n\r\n',
  ];
  for (const c of cases) assert.equal(requestUpgrade(requestHead(c)), null, c);
});

test('an asked-for 101 ends HTTP: the parser stops right after its head', () => {
  const text = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\n\r\n\x81\x02hi';
  const x = parseOne(true, text, true);
  assert.equal(x.p.error, null);
  assert.equal(x.heads.length, 1);
  assert.equal(x.heads[0].status, 101);
  assert.equal(x.r, text.length - 4, 'frame bytes left unconsumed');
  assert.equal(x.completed, 0);
  assert.equal(x.p.upgraded, true);
  assert.equal(x.p.execute(x.buf, x.r), x.r, 'nothing more is parsed');
  assert.equal(x.p.finish(), 0);
  const map = responseHeaderMap(x.heads[0]);
  assert.equal(map.get(':status'), '101');
  assert.equal(map.get('upgrade'), 'websocket');
  assert.equal(map.get('connection'), undefined);
  assert.equal(map.get('sec-websocket-accept'), 'x');
});

test('an unasked 101 is still refused; 100 Continue is still skipped', () => {
  const x = parseOne(true, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
  assert.equal(x.r, -1);
  assert.equal(x.p.error?.code, 'unexpected_upgrade');
  const y = parseOne(true, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', true);
  assert.equal(y.p.error, null);
  assert.equal(y.heads.length, 1);
  assert.equal(y.heads[0].status, 200);
  assert.equal(y.completed, 1);
});
