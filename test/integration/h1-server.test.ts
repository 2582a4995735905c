import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { HeaderMap } from '../../src/api/headers';
import { systemClock } from '../../src/api/clock';
import type { ServerStream, RequestBodyHandler } from '../../src/api/stream';
import type { ServeContext, ListenerLimits } from '../../src/api/codec';
import { http1Listener } from '../../src/http/h1/index';
import type { H1ServerConnection } from '../../src/http/h1/server-connection';

interface Harness {
  port: number;
  server: net.Server;
  conns: H1ServerConnection[];
  protocolErrors: string[];
  close(): Promise<void>;
}

const servers: Harness[] = [];
after(async () => {
  for (const h of servers) await h.close();
});

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function serve(onStream: (s: ServerStream) => void, limits: Partial<ListenerLimits> = {}): Promise<Harness> {
  const conns: H1ServerConnection[] = [];
  const protocolErrors: string[] = [];
  let id = 0;
  const server = net.createServer((socket) => {
    const ctx: ServeContext = {
      connection: {
        id: ++id,
        listener: 'test',
        remoteAddress: socket.remoteAddress ?? '',
        remotePort: socket.remotePort ?? 0,
        localAddress: socket.localAddress ?? '',
        localPort: socket.localPort ?? 0,
        tls: false,
      },
      limits: { maxHeaderBytes: 8192, headerTimeoutMs: 5000, idleTimeoutMs: 5000, maxBufferBytes: 1 << 20, ...limits },
      clock: systemClock,
      log: quiet,
      onStream,
      onProtocolError: (k) => protocolErrors.push(k),
    };
    conns.push(http1Listener.serve(socket, ctx) as H1ServerConnection);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const h: Harness = {
    port,
    server,
    conns,
    protocolErrors,
    close: () =>
      new Promise<void>((r) => {
        for (const c of conns) c.destroy();
        server.close(() => r());
      }),
  };
  servers.push(h);
  return h;
}

/** Collects a request body, then calls `done(body, trailers)`. */
function collect(s: ServerStream, done: (body: Buffer, trailers: HeaderMap | null) => void, onAbort?: (r: string) => void): void {
  const parts: Buffer[] = [];
  s.attach({
    onData: (c) => parts.push(Buffer.from(c)),
    onEnd: (t) => done(Buffer.concat(parts), t),
    onAbort: (r) => onAbort?.(r),
  });
  if (s.endStream) done(Buffer.alloc(0), null);
}

/** The echo sink: answers with the request body (or the path), header x-path, optional delay. */
function echo(s: ServerStream): void {
  collect(s, (body, trailers) => {
    const path = s.headers.get(':path')!;
    const delay = path.startsWith('/slow') ? 40 : 0;
    setTimeout(() => {
      const chunked = path.includes('chunked');
      const h = new HeaderMap([':status', '200', 'x-path', path]);
      if (!chunked) h.add('content-length', String(body.length || path.length));
      s.respond(h, false);
      if (chunked) {
        s.write(body.subarray(0, 3));
        s.write(body.subarray(3));
        s.end(trailers ?? new HeaderMap(['x-trailer', 'none']));
      } else {
        s.write(body.length ? body : Buffer.from(path));
        s.end(null);
      }
    }, delay);
  });
}

/** Sends `data` on a raw socket, resolves with everything read until the server closes or `until` matches. */
function raw(port: number, data: string | string[], opts: { until?: (s: string) => boolean; timeoutMs?: number; gapMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('timeout; got: ' + JSON.stringify(got)));
    }, opts.timeoutMs ?? 2000);
    sock.on('data', (c) => {
      got += c.toString('latin1');
      if (opts.until?.(got)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(got);
      }
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    sock.on('error', () => {});
    const parts = Array.isArray(data) ? data : [data];
    let i = 0;
    const next = (): void => {
      if (i >= parts.length) return;
      sock.write(parts[i++], 'latin1');
      if (i < parts.length) setTimeout(next, opts.gapMs ?? 5);
    };
    next();
  });
}

const count = (s: string, sub: string): number => s.split(sub).length - 1;

test('keep-alive: several requests on one connection (node:http agent)', async () => {
  const h = await serve(echo);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 3; i++) {
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ port: h.port, host: '127.0.0.1', path: `/k${i}`, agent }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    assert.equal(body, `/k${i}`);
  }
  agent.destroy();
  assert.equal(h.conns.length, 1);
});

test('request header map: pseudo-headers, host folded into :authority, hop-by-hop stripped', async () => {
  let seen: HeaderMap | null = null;
  const h = await serve((s) => {
    seen = s.headers;
    echo(s);
  });
  await raw(
    h.port,
    'GET /p?q=1 HTTP/1.1\r\nHost: ex.com:8080\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: foo\r\nX-Keep: yes\r\nContent-Length: 0\r\n\r\n',
    { until: (s) => s.endsWith('/p?q=1') },
  );
  assert.deepEqual(seen!.raw(), [':method', 'GET', ':path', '/p?q=1', ':authority', 'ex.com:8080', ':scheme', 'http', 'x-keep', 'yes', 'content-length', '0']);
});

test('pipelining: answered in order even when the first response is slower', async () => {
  const order: string[] = [];
  const h = await serve((s) => {
    order.push('stream ' + s.headers.get(':path'));
    echo(s);
  });
  const reqs = ['/slow1', '/fast2', '/slow3', '/fast4'].map((p) => `GET ${p} HTTP/1.1\r\nHost: a\r\n\r\n`).join('');
  const out = await raw(h.port, reqs, { until: (s) => s.endsWith('/fast4') });
  const paths = [...out.matchAll(/x-path: (\S+)/g)].map((m) => m[1]);
  assert.deepEqual(paths, ['/slow1', '/fast2', '/slow3', '/fast4']);
  assert.deepEqual(order, ['stream /slow1', 'stream /fast2', 'stream /slow3', 'stream /fast4']);
});

test('chunked upload with trailers echoed as a chunked download with trailers', async () => {
  const h = await serve(echo);
  const out = await raw(
    h.port,
    ['POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel', 'lo\r\n6\r\n world\r\n0\r\nX-Sum: 9\r\n\r\n'],
    { until: (s) => s.endsWith('\r\n\r\n') && s.includes('0\r\n') },
  );
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(out, /transfer-encoding: chunked\r\n/);
  assert.ok(out.endsWith('3\r\nhel\r\n8\r\nlo world\r\n0\r\nx-sum: 9\r\n\r\n'), JSON.stringify(out));
});

test('Expect: 100-continue is answered when the body is wanted, then the body flows', async () => {
  const h = await serve(echo);
  const sock = net.connect(h.port, '127.0.0.1');
  let got = '';
  const done = new Promise<void>((resolve) => {
    sock.on('data', (c) => {
      got += c.toString();
      if (got === 'HTTP/1.1 100 Continue\r\n\r\n') sock.write('abcd');
      if (got.endsWith('abcd')) resolve();
    });
  });
  sock.write('POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
  await done;
  sock.destroy();
  assert.ok(got.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n'));
});

test('100-continue is not sent when a final response goes out first', async () => {
  const h = await serve((s) => s.sendLocalReply({ status: 413, body: 'too big', reason: 'payload_too_large' }));
  const out = await raw(h.port, 'POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
  assert.ok(out.startsWith('HTTP/1.1 413 Payload Too Large\r\n'), out);
  assert.ok(!out.includes('100 Continue'));
  assert.match(out, /connection: close/);
  assert.match(out, /content-type: text\/plain/);
  assert.ok(out.endsWith('\r\n\r\ntoo big'));
});

test('curl with Expect: 100-continue', { skip: spawnSync('curl', ['--version']).status !== 0 }, async () => {
  const h = await serve(echo);
  const { spawn } = await import('node:child_process');
  const out = await new Promise<string>((resolve) => {
    const p = spawn('curl', ['-s', '-H', 'Expect: 100-continue', '--data-binary', 'payload!', `http://127.0.0.1:${h.port}/c`]);
    let o = '';
    p.stdout.on('data', (c) => (o += c));
    p.on('close', () => resolve(o));
  });
  assert.equal(out, 'payload!');
});

test('HEAD, 204 and 304 carry no body; body written anyway is dropped', async () => {
  const h = await serve((s) => {
    const p = s.headers.get(':path')!;
    const status = p === '/204' ? '204' : p === '/304' ? '304' : '200';
    s.attach({ onData() {}, onEnd() {}, onAbort() {} });
    s.respond(new HeaderMap([':status', status, 'content-length', '5']), false);
    s.write(Buffer.from('hello'));
    s.end(null);
  });
  const out = await raw(
    h.port,
    'HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /204 HTTP/1.1\r\nHost: a\r\n\r\nGET /304 HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  );
  const parts = out.split('HTTP/1.1 ');
  assert.equal(parts.length, 5, out);
  assert.equal(parts[1], '200 OK\r\ncontent-length: 5\r\n\r\n');
  assert.equal(parts[2], '204 No Content\r\n\r\n');
  assert.equal(parts[3], '304 Not Modified\r\ncontent-length: 5\r\n\r\n');
  assert.equal(parts[4], '200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello');
});

test('HTTP/1.0: close-delimited without length, keep-alive when asked', async () => {
  const h = await serve((s) => {
    s.respond(new HeaderMap([':status', '200']), false);
    s.write(Buffer.from('ten bytes!'));
    s.end(null);
  });
  const out = await raw(h.port, 'GET / HTTP/1.0\r\n\r\n');
  assert.equal(out, 'HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nten bytes!');
  const h2 = await serve((s) => {
    s.respond(new HeaderMap([':status', '200', 'content-length', '2']), false);
    s.write(Buffer.from('ok'));
    s.end(null);
  });
  const out2 = await raw(h2.port, 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', { until: (s) => s.endsWith('ok') });
  assert.equal(out2, 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
});

test('malformed request: 400 with Connection: close, then close; protocol error reported', async () => {
  let streams = 0;
  const h = await serve(() => streams++);
  const out = await raw(h.port, 'GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n');
  assert.ok(out.startsWith('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n'), out);
  assert.equal(streams, 0);
  assert.deepEqual(h.protocolErrors, ['invalid_header_name']);
  const smuggle = await raw(h.port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  assert.ok(smuggle.startsWith('HTTP/1.1 400 '), smuggle);
  const te = await raw(h.port, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n');
  assert.ok(te.startsWith('HTTP/1.1 501 '), te);
});

test('a malformed second pipelined request is refused after the first is answered', async () => {
  const h = await serve(echo);
  const out = await raw(h.port, 'GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n');
  assert.ok(out.startsWith('HTTP/1.1 200 OK'), out);
  assert.ok(out.includes('/one' + 'HTTP/1.1 400 Bad Request'), out);
});

test('header bytes over the limit: 431 then close', async () => {
  const h = await serve(echo, { maxHeaderBytes: 256 });
  const out = await raw(h.port, 'GET / HTTP/1.1\r\nHost: a\r\nX-Big: ' + 'x'.repeat(400) + '\r\n\r\n');
  assert.ok(out.startsWith('HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close'), out);
});

test('slow head: 408 then close (slowloris)', async () => {
  const h = await serve(echo, { headerTimeoutMs: 60, idleTimeoutMs: 5000 });
  const out = await raw(h.port, ['GET / HTTP/1.1\r\n', 'Host: a\r\n'], { gapMs: 10 });
  assert.ok(out.startsWith('HTTP/1.1 408 Request Timeout\r\nconnection: close'), out);
  assert.deepEqual(h.protocolErrors, ['header_timeout']);
});

test('idle keep-alive connection is closed silently', async () => {
  const h = await serve(echo, { headerTimeoutMs: 5000, idleTimeoutMs: 60 });
  const t0 = Date.now();
  const out = await raw(h.port, 'GET /i HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.ok(out.endsWith('/i') && !out.includes('408'), out);
  assert.ok(Date.now() - t0 < 1500);
  const silent = await raw(h.port, '');
  assert.equal(silent, '');
});

test('client disconnect mid-request: handler gets onAbort', async () => {
  let resolveAbort: (r: string) => void;
  const aborted = new Promise<string>((r) => (resolveAbort = r));
  const h = await serve((s) => collect(s, () => {}, (r) => resolveAbort(r)));
  const sock = net.connect(h.port, '127.0.0.1');
  sock.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\npartial');
  setTimeout(() => sock.destroy(), 20);
  assert.match(await aborted, /closed/);
});

test('client disconnect while the response is pending: onAbort; reset() destroys the connection', async () => {
  let resolveAbort: (r: string) => void;
  const aborted = new Promise<string>((r) => (resolveAbort = r));
  let stream = null as ServerStream | null;
  const h = await serve((s) => {
    stream = s;
    s.attach({ onData() {}, onEnd() {}, onAbort: (r) => resolveAbort(r) });
  });
  const sock = net.connect(h.port, '127.0.0.1');
  sock.on('error', () => {});
  sock.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(stream);
  const closed = new Promise((r) => sock.on('close', r));
  stream!.reset();
  await closed;
  assert.match(await aborted, /closed/);
});

test('backpressure: a client that stops reading makes write() return false; drain fires after', async () => {
  let waiting = false;
  let drains = 0;
  let total = 0;
  const LIMIT = 64 * 1024 * 1024;
  const h = await serve((s) => {
    s.attach({ onData() {}, onEnd() {}, onAbort() {} });
    s.respond(new HeaderMap([':status', '200']), false);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const pump = (): void => {
      waiting = false;
      while (total < LIMIT) {
        total += chunk.length;
        if (!s.write(chunk)) {
          waiting = true;
          s.onDrain(() => {
            drains++;
            pump();
          });
          return;
        }
      }
      s.end(null);
    };
    pump();
  });
  const sock = net.connect(h.port, '127.0.0.1');
  sock.pause();
  sock.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  // Wait until the writer is stuck: kernel buffers full, no drain arriving.
  let last = -1;
  for (let i = 0; i < 200 && !(waiting && total === last); i++) {
    last = total;
    await new Promise((r) => setTimeout(r, 30));
  }
  assert.equal(waiting, true, 'write() never returned false while the client did not read');
  assert.ok(total < LIMIT);
  const drainsBefore = drains;
  sock.resume();
  await new Promise<void>((resolve) => {
    let tail = '';
    sock.on('data', (c) => {
      tail = (tail + c.toString('latin1')).slice(-5);
      if (tail === '0\r\n\r\n') resolve();
    });
  });
  assert.ok(drains > drainsBefore, 'drain callback fired once the client read');
  sock.destroy();
});

test('drain(): in-flight response says Connection: close; idle connections close now', async () => {
  let pending = null as ServerStream | null;
  const h = await serve((s) => {
    pending = s;
    s.attach({ onData() {}, onEnd() {}, onAbort() {} });
  });
  const p = raw(h.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await new Promise((r) => setTimeout(r, 20));
  for (const c of h.conns) c.drain();
  pending!.respond(new HeaderMap([':status', '200', 'content-length', '2']), false);
  pending!.write(Buffer.from('ok'));
  pending!.end(null);
  const out = await p;
  assert.equal(out, 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
  const idleSock = net.connect(h.port, '127.0.0.1');
  await new Promise((r) => idleSock.on('connect', r));
  await new Promise((r) => setTimeout(r, 20));
  const closed = new Promise((r) => idleSock.on('close', r));
  h.conns[h.conns.length - 1].drain();
  await closed;
});

test('response ending before the request body is read closes the connection', async () => {
  const h = await serve((s) => {
    s.attach({ onData() {}, onEnd() {}, onAbort() {} });
    s.sendLocalReply({ status: 403, reason: 'filter_denied' });
  });
  const out = await raw(h.port, ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc']);
  assert.equal(out, 'HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
});

test('byte counters and startTime', async () => {
  let stream = null as ServerStream | null;
  const h = await serve((s) => {
    stream = s;
    echo(s);
  });
  const req = 'POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz';
  const out = await raw(h.port, req, { until: (s) => s.endsWith('xyz') });
  assert.equal(stream!.bytesReceived, req.length);
  assert.equal(stream!.bytesSent, out.length);
  assert.ok(stream!.startTime > 0);
});

test('onClose fires once; activeStreams tracks the exchange', async () => {
  let closes = 0;
  const h = await serve((s) => {
    assert.equal(h.conns[0].activeStreams, 1);
    echo(s);
  });
  await raw(h.port, 'GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  h.conns[0].onClose(() => closes++);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(closes, 1);
  assert.equal(h.conns[0].activeStreams, 0);
});
