/**
 * HTTP/1.1 upgrades through the real proxy with no WebSocket package: raw-socket clients and a
 * node:http upstream that takes the `upgrade` event. Covers the handshake (routing, filters on
 * both heads), byte echo both ways (including bytes sent with the heads), refusal (403 passes
 * through), h2c stripped, upstream closing mid-tunnel, half-close, backpressure with a client
 * that stops reading, the listener idle timeout, stats and the access-log line.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricValue, request, startProxy, type Running } from '../fixtures/harness';

interface UpServer {
  server: http.Server;
  port: number;
  handshakes: http.IncomingHttpHeaders[];
  /** Bytes the /flood handler managed to write, and whether it is blocked on drain. */
  flood: { written: number; blocked: boolean; stop: boolean };
  close(): Promise<void>;
}

const SWITCH = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo-test\r\nX-Up: yes\r\n\r\n';

async function startUpgradeUpstream(): Promise<UpServer> {
  const u = { handshakes: [], flood: { written: 0, blocked: false, stop: false } } as unknown as UpServer;
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ plain: true, headers: req.headers }));
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    u.handshakes.push(req.headers);
    socket.on('error', () => {});
    const path = req.url ?? '/';
    if (path.startsWith('/refuse')) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nnope\n');
      return;
    }
    if (path.startsWith('/echo')) {
      // The 101 and the first bytes of the new protocol in one write: the proxy must not lose them.
      socket.write(SWITCH + 'hello:');
      if (head.length > 0) socket.write(head);
      socket.on('data', (c: Buffer) => socket.write(c));
      socket.on('end', () => socket.end('bye'));
      return;
    }
    if (path.startsWith('/close-after-first')) {
      socket.write(SWITCH);
      socket.once('data', (c: Buffer) => {
        socket.write(c);
        socket.destroy();
      });
      return;
    }
    if (path.startsWith('/flood')) {
      socket.write(SWITCH);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = (): void => {
        u.flood.blocked = false;
        while (!u.flood.stop) {
          u.flood.written += chunk.length;
          if (!socket.write(chunk)) {
            u.flood.blocked = true;
            socket.once('drain', pump);
            return;
          }
        }
        socket.end();
      };
      pump();
      return;
    }
    socket.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  u.server = server;
  u.port = (server.address() as net.AddressInfo).port;
  u.close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return u;
}

interface Opened {
  sock: net.Socket;
  head: string;
  /** Bytes that followed the response head in the same reads. */
  rest: Buffer;
}

/** Sends an upgrade request (plus `early` bytes right behind it) and reads the response head. */
async function openUpgrade(port: number, path: string, opts: { headers?: string; early?: string; proto?: string } = {}): Promise<Opened> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  await once(sock, 'connect');
  sock.write(
    `GET ${path} HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: ${opts.proto ?? 'echo-test'}\r\n${opts.headers ?? ''}\r\n` + (opts.early ?? ''),
  );
  let buf = Buffer.alloc(0);
  for (;;) {
    const [c] = (await once(sock, 'data')) as [Buffer];
    buf = Buffer.concat([buf, c]);
    const i = buf.indexOf('\r\n\r\n');
    if (i >= 0) {
      sock.pause();
      return { sock, head: buf.subarray(0, i).toString('latin1'), rest: buf.subarray(i + 4) };
    }
  }
}

/** Reads from `o.sock` until `n` bytes (counting `o.rest`) arrived. */
async function readN(o: Opened, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [o.rest];
  let have = o.rest.length;
  o.rest = Buffer.alloc(0);
  const sock = o.sock;
  if (have < n) {
    await new Promise<void>((resolve, reject) => {
      const onData = (c: Buffer): void => {
        chunks.push(c);
        have += c.length;
        if (have >= n) {
          sock.off('data', onData);
          sock.off('close', onClose);
          sock.pause();
          resolve();
        }
      };
      const onClose = (): void => reject(new Error(`closed after ${have} of ${n} bytes`));
      sock.on('data', onData);
      sock.on('close', onClose);
      sock.resume();
    });
  }
  const all = Buffer.concat(chunks);
  if (all.length > n) o.rest = all.subarray(n);
  return all.subarray(0, n);
}

/** Everything until the peer closes. */
async function readToClose(o: Opened): Promise<Buffer> {
  const chunks: Buffer[] = [o.rest];
  o.sock.on('data', (c: Buffer) => chunks.push(c));
  o.sock.resume();
  if (!o.sock.destroyed) await once(o.sock, 'close');
  return Buffer.concat(chunks);
}

/** Polls `fn` until it holds (conditions with no event of their own: metrics, the log file). */
async function eventually(fn: () => boolean | Promise<boolean>, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('HTTP/1.1 upgrades through the proxy (raw sockets)', () => {
  let up: UpServer;
  let proxy: Running;
  let idleProxy: Running;
  let dir: string;
  let logPath: string;

  before(async () => {
    up = await startUpgradeUpstream();
    dir = mkdtempSync(join(tmpdir(), 'sy-ws-'));
    logPath = join(dir, 'access.log');
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: { path: ${JSON.stringify(logPath)} }
listeners:
  - name: web
    address: 127.0.0.1:0
    filters:
      - name: headers
        config:
          request: { set: { x-via-filter: "1" } }
          response: { add: { x-proxy: switchyard } }
    routes:
      - match: { prefix: /nowhere }
        direct_response: { status: 404, body: "none\\n" }
      - match: { prefix: /, headers: { x-route: retry } }
        cluster: up
        retry: { attempts: 3, on: [connect-failure, reset, 5xx] }
      - match: { prefix: / }
        cluster: up
clusters:
  - name: up
    endpoints: [{ address: 127.0.0.1:${up.port} }]
`);
    idleProxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: idle
    address: 127.0.0.1:0
    limits: { idle_timeout: 300ms }
    routes:
      - match: { prefix: / }
        cluster: up
clusters:
  - name: up
    endpoints: [{ address: 127.0.0.1:${up.port} }]
`);
  });

  after(async () => {
    await proxy.stop();
    await idleProxy.stop();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('switches protocols, runs filters on both heads, and echoes bytes both ways', async () => {
    const before = up.handshakes.length;
    const o = await openUpgrade(proxy.port, '/echo/1', { early: 'early!' });
    assert.match(o.head, /^HTTP\/1\.1 101 /);
    assert.match(o.head, /\r\nconnection: upgrade(\r\n|$)/i);
    assert.match(o.head, /\r\nupgrade: echo-test(\r\n|$)/i);
    assert.match(o.head, /\r\nx-proxy: switchyard/i, 'response filter ran on the 101');
    assert.match(o.head, /\r\nx-up: yes/i);
    const hs = up.handshakes[before];
    assert.equal(hs['x-via-filter'], '1', 'request filter ran on the handshake');
    assert.equal(hs.upgrade, 'echo-test');
    assert.match(String(hs.connection), /upgrade/i);
    assert.ok(hs['x-forwarded-for'] !== undefined);
    // "hello:" came with the 101; "early!" was sent right behind the request head.
    assert.equal((await readN(o, 12)).toString(), 'hello:early!');
    for (let i = 0; i < 50; i++) {
      const msg = `message ${i};`.repeat(1 + (i % 7));
      o.sock.write(msg);
      assert.equal((await readN(o, msg.length)).toString(), msg);
    }
    // Half-close: our FIN reaches the upstream, which answers "bye" and closes.
    o.sock.end();
    assert.equal((await readToClose(o)).toString(), 'bye');
  });

  it('echoes 10,000 length-prefixed messages in order', async () => {
    const o = await openUpgrade(proxy.port, '/echo/many');
    await readN(o, 6);
    const n = 10_000;
    const frames: Buffer[] = [];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const body = Buffer.from(`msg ${i} `.repeat(1 + (i % 5)));
      const f = Buffer.alloc(4 + body.length);
      f.writeUInt32BE(body.length, 0);
      body.copy(f, 4);
      frames.push(f);
      total += f.length;
    }
    const reading = readN(o, total);
    for (const f of frames) if (!o.sock.write(f)) await once(o.sock, 'drain');
    const all = await reading;
    let off = 0;
    for (let i = 0; i < n; i++) {
      const len = all.readUInt32BE(off);
      assert.equal(all.toString('latin1', off + 4, off + 4 + len), `msg ${i} `.repeat(1 + (i % 5)));
      off += 4 + len;
    }
    assert.equal(off, total);
    o.sock.destroy();
  });

  it('echoes a large stream in both directions at once', async () => {
    const o = await openUpgrade(proxy.port, '/echo/big');
    await readN(o, 6);
    const total = 8 * 1024 * 1024;
    const chunk = Buffer.alloc(32 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7) & 0xff;
    let got = 0;
    let mismatch = false;
    const done = new Promise<void>((resolve) => {
      o.sock.on('data', (c: Buffer) => {
        for (let i = 0; i < c.length; i++) if (c[i] !== chunk[(got + i) % chunk.length]) mismatch = true;
        got += c.length;
        if (got >= total) resolve();
      });
    });
    o.sock.resume();
    for (let sent = 0; sent < total; sent += chunk.length) {
      if (!o.sock.write(chunk)) await once(o.sock, 'drain');
    }
    await done;
    assert.equal(got, total);
    assert.equal(mismatch, false);
    o.sock.destroy();
  });

  it('passes a refusal (403) through as a normal response', async () => {
    const o = await openUpgrade(proxy.port, '/refuse');
    assert.match(o.head, /^HTTP\/1\.1 403 /);
    assert.match(o.head, /x-proxy: switchyard/i);
    const body = await readN(o, 5);
    assert.equal(body.toString(), 'nope\n');
    o.sock.destroy();
  });

  it('answers locally (no route) without switching', async () => {
    const o = await openUpgrade(proxy.port, '/nowhere');
    assert.match(o.head, /^HTTP\/1\.1 404 /);
    o.sock.destroy();
  });

  it('never retries an upgrade, even on a route with retries', async () => {
    const before = up.handshakes.length;
    const o = await openUpgrade(proxy.port, '/refuse-retry', { headers: 'x-route: retry\r\n' });
    assert.match(o.head, /^HTTP\/1\.1 403 /);
    assert.equal(up.handshakes.length - before, 1);
    o.sock.destroy();
  });

  it('serves an h2c upgrade request as plain HTTP/1.1 (upgrade stripped)', async () => {
    const r = await request(`${proxy.url}/plain`, {
      headers: { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAAQAAP__' },
    });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body).headers as Record<string, string>;
    assert.equal(seen.upgrade, undefined);
    assert.equal(seen['http2-settings'], undefined);
  });

  it('resets an HTTP/2 extended CONNECT (:protocol) cleanly and serves on (RFC 8441 is not offered)', async () => {
    const before = up.handshakes.length;
    const s = http2.connect(proxy.url);
    s.on('error', () => {});
    const [settings] = (await once(s, 'remoteSettings')) as [http2.Settings];
    assert.notEqual(settings.enableConnectProtocol, true);
    const r = s.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/echo/h2', ':scheme': 'http', ':authority': 'ws.test' }, { endStream: false });
    r.on('error', () => {});
    r.resume();
    await new Promise<void>((resolve) => r.on('close', () => resolve()));
    assert.equal(r.rstCode, http2.constants.NGHTTP2_PROTOCOL_ERROR);
    assert.equal(up.handshakes.length, before);
    const ok = s.request({ ':path': '/plain' });
    ok.end();
    const [h] = (await once(ok, 'response')) as [http2.IncomingHttpHeaders];
    ok.resume();
    assert.equal(h[':status'], 200);
    s.close();
  });

  it('closes the client when the upstream closes mid-tunnel', async () => {
    const o = await openUpgrade(proxy.port, '/close-after-first');
    assert.match(o.head, /^HTTP\/1\.1 101 /);
    o.sock.write('ping');
    const all = await readToClose(o);
    assert.equal(all.toString(), 'ping');
  });

  it('holds backpressure when the client stops reading, then delivers everything', async () => {
    up.flood.written = 0;
    up.flood.stop = false;
    const o = await openUpgrade(proxy.port, '/flood');
    assert.match(o.head, /^HTTP\/1\.1 101 /);
    // The client reads nothing. With backpressure the upstream blocks after the socket buffers
    // on the way fill up; without it the proxy would read everything into memory.
    await eventually(() => up.flood.blocked, 'the upstream to block');
    let last = -1;
    await eventually(async () => {
      await new Promise((r) => setTimeout(r, 100));
      const same = up.flood.written === last && up.flood.blocked;
      last = up.flood.written;
      return same;
    }, 'the upstream to stay blocked');
    assert.ok(up.flood.written < 48 * 1024 * 1024, `upstream wrote ${up.flood.written} bytes into a client that reads nothing`);
    up.flood.stop = true;
    const all = await readToClose(o);
    assert.equal(all.length, up.flood.written);
  });

  it('counts upgrades and writes one access-log line when the tunnel closes', async () => {
    const admin = proxy.admin!;
    const labels = { listener: 'web', protocol: 'echo-test' };
    // Tunnels of earlier tests were closed by their clients; the proxy notices a moment later.
    await eventually(async () => (await metricValue(admin, 'switchyard_upgrades_active', { listener: 'web' })) === 0, 'earlier tunnels to close');
    const total0 = await metricValue(admin, 'switchyard_upgrades_total', labels);
    const o = await openUpgrade(proxy.port, '/echo/stats?x=1');
    await readN(o, 6);
    assert.equal(await metricValue(admin, 'switchyard_upgrades_total', labels), total0 + 1);
    assert.equal(await metricValue(admin, 'switchyard_upgrades_active', { listener: 'web' }), 1);
    o.sock.write('0123456789');
    await readN(o, 10);
    o.sock.end();
    await readToClose(o);
    await eventually(async () => (await metricValue(admin, 'switchyard_upgrades_active', { listener: 'web' })) === 0, 'active gauge 0');
    let line: { status: number; bytes_in: number; bytes_out: number; duration_ms: number; path: string } | undefined;
    await eventually(() => {
      if (!existsSync(logPath)) return false;
      const lines = readFileSync(logPath, 'utf8').split('\n').filter((l) => l.includes('/echo/stats?x=1'));
      if (lines.length === 0) return false;
      line = JSON.parse(lines[lines.length - 1]);
      return true;
    }, 'the access-log line');
    assert.equal(line!.status, 101);
    // In: the request head plus 10 bytes; out: the 101 head plus "hello:" + 10 echoed + "bye".
    assert.ok(line!.bytes_in >= 10 + 60, `bytes_in ${line!.bytes_in}`);
    assert.ok(line!.bytes_out >= 6 + 10 + 3 + 60, `bytes_out ${line!.bytes_out}`);
    assert.ok(line!.duration_ms >= 0);
  });

  it('closes an idle tunnel after the listener idle timeout', async () => {
    const o = await openUpgrade(idleProxy.port, '/echo/idle');
    assert.match(o.head, /^HTTP\/1\.1 101 /);
    o.sock.write('x');
    assert.equal((await readN(o, 7)).toString(), 'hello:x');
    let timer: NodeJS.Timeout | undefined;
    const rest = await Promise.race([
      readToClose(o),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('idle tunnel still open after 5s')), 5000))),
    ]).finally(() => {
      clearTimeout(timer);
      o.sock.destroy();
    });
    assert.equal(rest.length, 0, 'nothing after the idle close');
    assert.equal(await metricValue(idleProxy.admin!, 'switchyard_upgrades_active', { listener: 'idle' }), 0);
  });
});
