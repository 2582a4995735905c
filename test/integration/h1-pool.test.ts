import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { collectResponse, type PoolResponse } from '../fixtures/pool-response';
import { HeaderMap } from '../../src/api/headers';
import { systemClock, Clock, TimerHandle } from '../../src/api/clock';
import { UpstreamError } from '../../src/api/errors';
import type { PoolOptions, UpstreamPool, UpstreamRequest } from '../../src/api/stream';
import { http1Upstream } from '../../src/http/h1/index';
import { closedPort } from '../fixtures/harness';

const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c();
});

const OPTS: PoolOptions = { connectTimeoutMs: 1000, maxConnections: 4, maxPending: 16, idleTimeoutMs: 5000 };

function pool(port: number, o: Partial<PoolOptions> = {}, clock: Clock = systemClock): UpstreamPool {
  const p = http1Upstream.createPool({ host: '127.0.0.1', port }, { ...OPTS, ...o }, clock);
  cleanups.push(() => p.destroy());
  return p;
}

function send(p: UpstreamPool, headers: Record<string, string>, body?: string | string[], trailers?: HeaderMap): { req: UpstreamRequest; done: Promise<PoolResponse> } {
  const { handler, done } = collectResponse();
  const hm = HeaderMap.from({ ':method': 'GET', ':path': '/', ':authority': 'up.test', ':scheme': 'http', ...headers });
  const req = p.request(hm, body === undefined, handler);
  if (body !== undefined) {
    for (const b of Array.isArray(body) ? body : [body]) req.write(Buffer.from(b));
    req.end(trailers ?? null);
  }
  return { req, done };
}

async function nodeServer(handler: http.RequestListener): Promise<{ port: number; connections: () => number; server: http.Server }> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5000;
  let n = 0;
  server.on('connection', () => n++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { port: (server.address() as net.AddressInfo).port, connections: () => n, server };
}

async function rawServer(onConn: (s: net.Socket, index: number) => void): Promise<{ port: number; count: () => number }> {
  let n = 0;
  const socks: net.Socket[] = [];
  const server = net.createServer((s) => {
    socks.push(s);
    s.on('error', () => {});
    onConn(s, n++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => { for (const s of socks) s.destroy(); server.close(() => r()); }));
  return { port: (server.address() as net.AddressInfo).port, count: () => n };
}

const echoHandler: http.RequestListener = (req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const body = Buffer.concat(parts);
    const t = req.trailers['x-sum'];
    res.setHeader('x-method', req.method!);
    res.setHeader('x-url', req.url!);
    res.setHeader('x-host', req.headers.host ?? '');
    res.setHeader('x-cl', req.headers['content-length'] ?? 'none');
    res.setHeader('x-te', req.headers['transfer-encoding'] ?? 'none');
    if (t) res.setHeader('x-trailer-seen', t);
    res.end(body.length ? body : 'hello');
  });
};

test('GET: status, headers (hop-by-hop stripped), body', async () => {
  const s = await nodeServer(echoHandler);
  const p = pool(s.port);
  const r = await send(p, { ':path': '/a?b=1', 'x-custom': 'v' }).done;
  assert.equal(r.error, null);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'hello');
  assert.equal(r.headers!.get('x-url'), '/a?b=1');
  assert.equal(r.headers!.get('x-host'), 'up.test');
  assert.equal(r.headers!.has('connection'), false);
  assert.equal(r.headers!.has('keep-alive'), false);
  assert.equal(r.headers!.raw()[0], ':status');
});

test('request framing: content-length, chunked with trailers, empty POST gets content-length: 0', async () => {
  const s = await nodeServer(echoHandler);
  const p = pool(s.port);
  let r = await send(p, { ':method': 'POST', 'content-length': '5' }, 'abcde').done;
  assert.equal(r.body, 'abcde');
  assert.equal(r.headers!.get('x-cl'), '5');
  r = await send(p, { ':method': 'POST' }, ['ab', 'cd'], new HeaderMap(['x-sum', '42'])).done;
  assert.equal(r.body, 'abcd');
  assert.equal(r.headers!.get('x-te'), 'chunked');
  assert.equal(r.headers!.get('x-trailer-seen'), '42');
  r = await send(p, { ':method': 'POST' }).done;
  assert.equal(r.headers!.get('x-cl'), '0');
  r = await send(p, { ':method': 'GET' }).done;
  assert.equal(r.headers!.get('x-cl'), 'none');
});

test('HEAD: no response body expected', async () => {
  const s = await nodeServer((req, res) => {
    res.setHeader('content-length', '100');
    res.end();
  });
  const p = pool(s.port);
  const r = await send(p, { ':method': 'HEAD' }).done;
  assert.equal(r.status, 200);
  assert.equal(r.endAfterHeaders, true);
  const r2 = await send(p, { ':method': 'HEAD' }).done;
  assert.equal(r2.status, 200);
  assert.equal(s.connections(), 1);
});

test('keep-alive reuse (LIFO idle), and no reuse after Connection: close', async () => {
  const s = await nodeServer(echoHandler);
  const p = pool(s.port);
  for (let i = 0; i < 3; i++) assert.equal((await send(p, {}).done).status, 200);
  assert.equal(s.connections(), 1);
  assert.equal(p.stats.connections, 1);
  const c = await nodeServer((req, res) => {
    res.setHeader('connection', 'close');
    res.end('x');
  });
  const p2 = pool(c.port);
  await send(p2, {}).done;
  await send(p2, {}).done;
  assert.equal(c.connections(), 2);
});

test('maxConnections caps connections; extra requests wait FIFO and all complete', async () => {
  const s = await nodeServer((req, res) => setTimeout(() => res.end(req.url), 10));
  const p = pool(s.port, { maxConnections: 1 });
  const all = [1, 2, 3, 4].map((i) => send(p, { ':path': `/${i}` }).done);
  assert.equal(p.stats.pending, 4);
  const order: string[] = [];
  for (const d of all) d.then((r) => order.push(r.body));
  const rs = await Promise.all(all);
  assert.deepEqual(rs.map((r) => r.body), ['/1', '/2', '/3', '/4']);
  assert.deepEqual(order, ['/1', '/2', '/3', '/4']);
  assert.equal(s.connections(), 1);
  assert.equal(p.stats.active, 0);
  assert.equal(p.stats.pending, 0);
});

test('maxPending overflow fails at once', async () => {
  const s = await nodeServer((req, res) => setTimeout(() => res.end('ok'), 30));
  const p = pool(s.port, { maxConnections: 1, maxPending: 1 });
  const a = send(p, {});
  const b = send(p, {});
  let overflow: UpstreamError | null = null;
  p.request(HeaderMap.from({ ':method': 'GET', ':path': '/' }), true, {
    onHeaders() {}, onData() {}, onEnd() {},
    onError: (e) => (overflow = e),
  });
  assert.ok(overflow, 'overflow reported synchronously');
  assert.equal((overflow as UpstreamError).kind, 'overflow');
  assert.equal((overflow as UpstreamError).beforeRequestSent, true);
  assert.equal((await a.done).status, 200);
  assert.equal((await b.done).status, 200);
});

test('connect_failure on a closed port', async () => {
  const port = await closedPort();
  const p = pool(port);
  const r = await send(p, {}).done;
  assert.equal(r.error!.kind, 'connect_failure');
  assert.equal(r.error!.beforeRequestSent, true);
  assert.equal(p.stats.connections, 0);
});

test('connect_timeout (manual clock fires the connect timer before the connection is up)', async () => {
  const s = await nodeServer(echoHandler);
  const timers: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
  const clock: Clock = {
    now: () => performance.now(),
    wallNow: () => Date.now(),
    setTimer(fn, ms): TimerHandle {
      const t = { fn, ms, cancelled: false };
      timers.push(t);
      return { cancel: () => (t.cancelled = true), refresh: () => {} };
    },
  };
  const p = pool(s.port, { connectTimeoutMs: 50 }, clock);
  const pending = send(p, {});
  assert.equal(timers.length, 1);
  assert.equal(timers[0].ms, 50);
  timers[0].fn();
  const r = await pending.done;
  assert.equal(r.error!.kind, 'connect_timeout');
  assert.equal(r.error!.beforeRequestSent, true);
});

test('upstream garbage: protocol_error and the connection is destroyed', async () => {
  const s = await rawServer((sock) => sock.once('data', () => sock.write('SPDY/9 what\r\n\r\n')));
  const p = pool(s.port);
  const r = await send(p, {}).done;
  assert.equal(r.error!.kind, 'protocol_error');
  await new Promise((res) => setTimeout(res, 10));
  assert.equal(p.stats.connections, 0);
});

test('upstream closes before responding / mid-body: reset', async () => {
  const s = await rawServer((sock) => sock.once('data', () => sock.destroy()));
  const r = await send(pool(s.port), {}).done;
  assert.equal(r.error!.kind, 'reset');
  const s2 = await rawServer((sock) => sock.once('data', () => sock.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')));
  const r2 = await send(pool(s2.port), {}).done;
  assert.equal(r2.status, 200);
  assert.equal(r2.body, 'abc');
  assert.equal(r2.error!.kind, 'reset');
});

test('close-delimited response and skipped 100 Continue', async () => {
  const s = await rawServer((sock) => sock.once('data', () => sock.end('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nX: y\r\n\r\nuntil the end')));
  const p = pool(s.port);
  const r = await send(p, {}).done;
  assert.equal(r.error, null);
  assert.equal(r.body, 'until the end');
  assert.equal(r.headers!.get('x'), 'y');
});

test('stale keep-alive connection: a body-less request is retried once on a fresh connection', async () => {
  const s = await rawServer((sock, index) => {
    let n = 0;
    sock.on('data', () => {
      n++;
      // The first connection answers once, then dies on the next request without a byte.
      if (index === 0 && n === 2) sock.destroy();
      else sock.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nc${index}`);
    });
  });
  const p = pool(s.port);
  assert.equal((await send(p, {}).done).body, 'c0');
  const r = await send(p, {}).done;
  assert.equal(r.error, null);
  assert.equal(r.body, 'c1');
  assert.equal(s.count(), 2);
  // With a body the request is not retried.
  const s2 = await rawServer((sock, index) => {
    let n = 0;
    sock.on('data', () => {
      n++;
      if (index === 0 && n === 2) sock.destroy();
      else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
  });
  const p2 = pool(s2.port);
  await send(p2, {}).done;
  const r2 = await send(p2, { ':method': 'POST', 'content-length': '1' }, 'x').done;
  assert.equal(r2.error!.kind, 'reset');
});

test('idle connections expire after idleTimeoutMs', async () => {
  const s = await nodeServer(echoHandler);
  const p = pool(s.port, { idleTimeoutMs: 30 });
  await send(p, {}).done;
  assert.equal(p.stats.connections, 1);
  for (let i = 0; i < 50 && p.stats.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(p.stats.connections, 0);
});

test('pause()/resume() hold response body delivery', async () => {
  const big = 'z'.repeat(256 * 1024);
  const s = await nodeServer((req, res) => res.end(big));
  const p = pool(s.port);
  let got = 0;
  let req!: UpstreamRequest;
  let ended = false;
  const done = new Promise<void>((resolve) => {
    req = p.request(HeaderMap.from({ ':method': 'GET', ':path': '/' }), true, {
      onHeaders() {},
      onData(c) {
        got += c.length;
        req.pause();
      },
      onEnd() {
        ended = true;
        resolve();
      },
      onError: (e) => assert.fail(e),
    });
  });
  for (let i = 0; i < 100 && got === 0; i++) await new Promise((r) => setTimeout(r, 5));
  const seen = got;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(got, seen, 'no data while paused');
  assert.equal(ended, false);
  const resumer = setInterval(() => req.resume(), 1);
  await done;
  clearInterval(resumer);
  assert.equal(got, big.length);
});

test('abort() destroys that connection and silences the handler; close() and destroy()', async () => {
  const s = await nodeServer((req, res) => setTimeout(() => res.end('late'), 30));
  const p = pool(s.port);
  let calls = 0;
  const req = p.request(HeaderMap.from({ ':method': 'GET', ':path': '/' }), true, {
    onHeaders: () => calls++, onData: () => calls++, onEnd: () => calls++, onError: () => calls++,
  });
  await new Promise((r) => setTimeout(r, 10));
  req.abort();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(calls, 0);
  assert.equal(p.stats.connections, 0);
  assert.equal(p.stats.active, 0);

  const busy = send(p, {});
  await new Promise((r) => setTimeout(r, 5));
  let closed = false;
  const c = p.close().then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(closed, false);
  assert.equal((await busy.done).body, 'late');
  await c;
  assert.equal(p.stats.connections, 0);
  assert.equal(send(p, {}).req !== null, true);

  const p2 = pool(s.port);
  const inflight = send(p2, {});
  await new Promise((r) => setTimeout(r, 5));
  p2.destroy();
  assert.equal((await inflight.done).error!.kind, 'reset');
});
