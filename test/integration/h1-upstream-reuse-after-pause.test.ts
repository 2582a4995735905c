/**
 * An HTTP/1.1 upstream connection whose response the engine paused (the downstream could not take
 * more) must go back to the pool reading again: the next request on it gets its answer. Driven by
 * an h2 client (its stream asks the engine to wait on every large chunk) fetching 1 MB bodies one
 * after another over one session, so each reuses the single upstream connection.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { listenLocal, startProxy, type Running } from '../fixtures/harness';

const BODY = Buffer.alloc(1024 * 1024, 0x62);

function get(s: http2.ClientHttp2Session, path: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = s.request({ ':path': path });
    let status = 0;
    let bytes = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => resolve({ status, bytes }));
    req.on('error', reject);
  });
}

describe('HTTP/1.1 upstream connection reused after a paused response', () => {
  let up: net.Server;
  let proxy: Running;
  const sockets = new Set<net.Socket>();

  before(async () => {
    // Head and body in one write per request, as most servers do for small-enough bodies.
    const response = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${BODY.length}\r\n\r\n`), BODY]);
    up = net.createServer((sock) => {
      sockets.add(sock);
      let head = '';
      sock.on('data', (c: Buffer) => {
        head += c.toString('latin1');
        while (head.includes('\r\n\r\n')) {
          head = head.slice(head.indexOf('\r\n\r\n') + 4);
          sock.write(response);
        }
      });
      sock.on('error', () => {});
      sock.on('close', () => sockets.delete(sock));
    });
    const address = `127.0.0.1:${await listenLocal(up)}`;
    proxy = await startProxy(`
admin: null
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    protocol: http2
    routes: [{ match: { prefix: / }, cluster: up, timeout: 3s }]
clusters:
  - { name: up, max_connections_per_endpoint: 1, endpoints: [{ address: ${address} }] }
`);
  });

  after(async () => {
    await proxy.stop();
    for (const s of sockets) s.destroy();
    up.close();
  });

  it('serves five 1 MB responses in a row over one upstream connection', { timeout: 20_000 }, async () => {
    const s = http2.connect(proxy.url);
    s.on('error', () => {});
    for (let i = 0; i < 5; i++) {
      const r = await get(s, `/big/${i}`);
      assert.equal(r.status, 200, `request ${i}`);
      assert.equal(r.bytes, BODY.length, `request ${i}`);
    }
    s.close();
  });
});
