/**
 * Upstream failures and bad input end to end: timeout → 504, connect failure → 503, upstream
 * garbage → 502 for that request only, upstream reset mid-body, request smuggling shapes → 400,
 * oversized heads → 431; none of it disturbs other connections.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { closedPort, metricValue, rawExchange, request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';

async function rawServer(onConn: (s: net.Socket) => void): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConn(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('upstream failures and bad input', () => {
  let ok: Upstream;
  let hang: Upstream;
  let garbage: { port: number; close(): void };
  let resetMid: { port: number; close(): void };
  let proxy: Running;

  before(async () => {
    ok = await startUpstream();
    hang = await startUpstream(() => {
      /* never answers */
    });
    garbage = await rawServer((s) => s.once('data', () => s.end('this is not http\r\n\r\n')));
    resetMid = await rawServer((s) =>
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\npartial');
        setTimeout(() => s.destroy(), 20);
      }),
    );
    const dead = await closedPort();
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    limits: { max_header_bytes: 4096 }
    routes:
      - { match: { prefix: /slow }, cluster: hang, timeout: 200ms }
      - { match: { prefix: /dead }, cluster: dead }
      - { match: { prefix: /garbage }, cluster: garbage }
      - { match: { prefix: /reset }, cluster: reset }
      - { match: { prefix: / }, cluster: ok }
clusters:
  - { name: ok, endpoints: [{ address: ${ok.address} }] }
  - { name: hang, endpoints: [{ address: ${hang.address} }] }
  - { name: dead, connect_timeout: 500ms, endpoints: [{ address: 127.0.0.1:${dead} }] }
  - { name: garbage, endpoints: [{ address: 127.0.0.1:${garbage.port} }] }
  - { name: reset, endpoints: [{ address: 127.0.0.1:${resetMid.port} }] }
`);
  });

  after(async () => {
    await proxy.stop();
    await ok.close();
    await hang.close();
    garbage.close();
    resetMid.close();
  });

  it('answers 504 when the route timeout fires', async () => {
    const t0 = Date.now();
    const r = await request(`${proxy.url}/slow`);
    assert.equal(r.status, 504);
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_local_replies_total', { reason: 'timeout' }), 1);
  });

  it('answers 503 on connect failure', async () => {
    const r = await request(`${proxy.url}/dead`);
    assert.equal(r.status, 503);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_local_replies_total', { reason: 'connect_failure' }), 1);
  });

  it('answers 502 to the one request whose upstream sent garbage', async () => {
    const [bad, good] = await Promise.all([request(`${proxy.url}/garbage`), request(`${proxy.url}/fine`)]);
    assert.equal(bad.status, 502);
    assert.equal(good.status, 200);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_local_replies_total', { reason: 'upstream_protocol_error' }), 1);
  });

  it('resets the downstream when the upstream dies mid-body', async () => {
    await assert.rejects(request(`${proxy.url}/reset`));
    assert.equal((await request(`${proxy.url}/fine`)).status, 200);
  });

  it('refuses request smuggling shapes with 400 and closes', async () => {
    const shapes = [
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
      'GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n  b\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n',
      'GARBAGE\r\n\r\n',
    ];
    for (const s of shapes) {
      const out = await rawExchange(proxy.port, s);
      assert.match(out, /^HTTP\/1\.1 400 /, `for ${JSON.stringify(s)} got ${JSON.stringify(out.slice(0, 40))}`);
      assert.ok(!out.includes('"url"'), 'nothing reached the upstream');
    }
  });

  it('answers 431 to oversized headers', async () => {
    const out = await rawExchange(proxy.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`);
    assert.match(out, /^HTTP\/1\.1 431 /);
  });

  it('keeps serving other clients throughout', async () => {
    const rs = await Promise.all(Array.from({ length: 20 }, () => request(`${proxy.url}/fine`)));
    assert.ok(rs.every((r) => r.status === 200));
  });
});
