/**
 * HTTP/2 through the real proxy: h2c clients (node:http2, curl --http2-prior-knowledge) to
 * HTTP/1.1 and h2c upstreams, HTTP/1.1 clients to h2c upstreams, HTTP/1.1 and h2c on one port,
 * trailers both ways, large bodies both ways with flow control, a stalled reader holding the
 * upstream back, local replies, drain.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { closedPort, request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';
import { h2request, registerH2Codecs, startH2Upstream, until, untilStill, type H2Upstream } from '../fixtures/grpc/h2-peers';

const execFileP = promisify(execFile);
const MB = 1024 * 1024;

async function curlHasHttp2(): Promise<boolean> {
  try {
    const r = await execFileP('curl', ['--version'], { encoding: 'utf8' });
    return /\bHTTP2\b/.test(r.stdout);
  } catch {
    return false;
  }
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

describe('HTTP/2 through the proxy', () => {
  let h1up: Upstream;
  let h2up: H2Upstream;
  let proxy: Running;
  let auto: number;
  let narrow: number;
  let stall = { written: 0, closed: false };

  before(async () => {
    registerH2Codecs();
    h1up = await startUpstream(undefined, 'h1');
    h2up = await startH2Upstream((stream, headers) => {
      const full = String(headers[':path']);
      const p = full.startsWith('/to-h2/') ? full.slice(6) : full;
      if (p.startsWith('/trailers')) {
        let n = 0;
        let reqTrailers: http2.IncomingHttpHeaders = {};
        stream.on('trailers', (t) => (reqTrailers = t));
        stream.on('data', (c: Buffer) => (n += c.length));
        stream.on('end', () => {
          stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': String(n), 'x-echo': String(reqTrailers['x-req'] ?? 'none') }));
          stream.end(`got ${n}`);
        });
      } else if (p.startsWith('/upload')) {
        const h = createHash('sha256');
        let n = 0;
        stream.on('data', (c: Buffer) => {
          h.update(c);
          n += c.length;
        });
        stream.on('end', () => {
          stream.respond({ ':status': 200 });
          stream.end(JSON.stringify({ bytes: n, sha: h.digest('hex') }));
        });
      } else if (p.startsWith('/download/')) {
        const size = Number(p.slice(10)) * MB;
        stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 7);
        let sent = 0;
        const go = (): void => {
          while (sent < size) {
            sent += chunk.length;
            if (!stream.write(chunk)) return void stream.once('drain', go);
          }
          stream.end();
        };
        go();
      } else if (p.startsWith('/sink-stall')) {
        stream.pause(); // never reads: only flow control can stop the client
        stream.on('close', () => (stall.closed = true));
      } else if (p.startsWith('/reset-mid')) {
        stream.respond({ ':status': 200 }, { waitForTrailers: true });
        stream.write('partial');
        setImmediate(() => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
      } else if (p.startsWith('/endless')) {
        stall = { written: 0, closed: false };
        stream.on('close', () => (stall.closed = true));
        stream.respond({ ':status': 200 });
        const chunk = Buffer.alloc(64 * 1024, 1);
        const go = (): void => {
          while (!stall.closed && !stream.destroyed) {
            stall.written += chunk.length;
            if (!stream.write(chunk)) return void stream.once('drain', go);
          }
        };
        go();
      } else {
        let bytes = 0;
        stream.on('data', (c: Buffer) => (bytes += c.length));
        stream.on('end', () => {
          stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-upstream': 'h2' });
          stream.end(JSON.stringify({ method: headers[':method'], path: full, headers, bytes }));
        });
      }
    });
    proxy = await startProxy(`
admin: null
access_log: false
listeners:
  - name: h2
    address: 127.0.0.1:0
    protocol: http2
    routes:
      - { match: { prefix: /to-h1/ }, cluster: h1 }
      - { match: { prefix: /local }, direct_response: { status: 200, body: "local ok" } }
      - { match: { prefix: / }, cluster: h2, timeout: 60s }
  - name: narrow
    address: 127.0.0.1:0
    protocol: http2
    routes: [{ match: { prefix: /only }, direct_response: { status: 200, body: "x" } }]
  - name: both
    address: 127.0.0.1:0
    protocol: http
    routes:
      - { match: { prefix: /to-h1/ }, cluster: h1 }
      - { match: { prefix: /to-h2/ }, cluster: h2 }
      - { match: { prefix: / }, cluster: h2, timeout: 60s }
clusters:
  - { name: h1, endpoints: [{ address: ${h1up.address} }] }
  - { name: h2, protocol: http2, endpoints: [{ address: ${h2up.address} }] }
`);
    auto = proxy.server.listenerPort('both');
    narrow = proxy.server.listenerPort('narrow');
  });

  after(async () => {
    await proxy.stop();
    await h1up.close();
    await h2up.close();
  });

  it('h2c client → HTTP/1.1 upstream: pseudo-headers become a request line and Host', async () => {
    const r = await h2request(proxy.url, { ':method': 'POST', ':path': '/to-h1/x?q=1', 'x-a': 'b', cookie: ['a=1', 'b=2'] }, 'hello');
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body.toString());
    assert.equal(body.name, 'h1');
    assert.equal(body.method, 'POST');
    assert.equal(body.url, '/to-h1/x?q=1');
    assert.equal(body.headers.host, `127.0.0.1:${proxy.port}`);
    assert.equal(body.headers['x-a'], 'b');
    assert.equal(body.headers.cookie, 'a=1; b=2');
    assert.equal(body.bytes, 5);
    assert.equal(body.headers['x-forwarded-proto'], 'http');
  });

  it('h2c client → h2c upstream, many streams on one session', async () => {
    const s = http2.connect(proxy.url);
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => h2request(s, { ':path': `/n${i}` })));
    s.close();
    rs.forEach((r, i) => {
      assert.equal(r.status, 200);
      const b = JSON.parse(r.body.toString());
      assert.equal(b.path, `/n${i}`);
      assert.equal(b.headers[':authority'], `127.0.0.1:${proxy.port}`);
      assert.equal(b.headers['x-forwarded-proto'], 'http');
    });
  });

  it('HTTP/1.1 client → h2c upstream: Host becomes :authority, hop-by-hop fields dropped', async () => {
    const r = await request(`http://127.0.0.1:${auto}/to-h2/p`, {
      method: 'POST',
      headers: { host: 'svc.test', connection: 'keep-alive', 'keep-alive': 'timeout=5', 'x-k': 'v' },
      body: 'abc',
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-upstream'], 'h2');
    const b = JSON.parse(r.body);
    assert.equal(b.method, 'POST');
    assert.equal(b.path, '/to-h2/p');
    assert.equal(b.headers[':authority'], 'svc.test');
    assert.equal(b.headers[':scheme'], 'http');
    assert.equal(b.headers['x-k'], 'v');
    assert.equal(b.headers.connection, undefined);
    assert.equal(b.headers['keep-alive'], undefined);
    assert.equal(b.headers.host, undefined);
    assert.equal(b.bytes, 3);
  });

  it('serves HTTP/1.1 and h2c on one port (preface sniffing)', async () => {
    const a = await request(`http://127.0.0.1:${auto}/to-h1/one`);
    assert.equal(JSON.parse(a.body).name, 'h1');
    const b = await h2request(`http://127.0.0.1:${auto}`, { ':path': '/to-h1/two' });
    assert.equal(JSON.parse(b.body.toString()).url, '/to-h1/two');
    // A preface split over several TCP segments is still recognised.
    const sock = net.connect(auto, '127.0.0.1');
    await once(sock, 'connect');
    const session = http2.connect(`http://127.0.0.1:${auto}`, {
      createConnection: () => {
        const orig = sock.write.bind(sock);
        let first = true;
        (sock as unknown as { write: typeof sock.write }).write = ((chunk: Buffer | string, ...rest: unknown[]) => {
          if (first && Buffer.isBuffer(chunk) && chunk.length > 5) {
            first = false;
            orig(chunk.subarray(0, 5));
            setTimeout(() => orig(chunk.subarray(5), ...(rest as [])), 20);
            return true;
          }
          return orig(chunk as Buffer, ...(rest as []));
        }) as typeof sock.write;
        return sock;
      },
    });
    const c = await h2request(session, { ':path': '/to-h2/split' });
    session.close();
    assert.equal(JSON.parse(c.body.toString()).path, '/to-h2/split');
  });

  it('curl --http2-prior-knowledge works against both listeners', async (t) => {
    if (!(await curlHasHttp2())) return t.skip('curl without HTTP/2 support');
    for (const port of [proxy.port, auto]) {
      const r = await execFileP('curl', ['-s', '-i', '--http2-prior-knowledge', '-d', 'xyz', `http://127.0.0.1:${port}/to-h1/curl`], {
        encoding: 'utf8',
      });
      assert.match(r.stdout, /^HTTP\/2 200/);
      const body = JSON.parse(r.stdout.slice(r.stdout.indexOf('\r\n\r\n') + 4));
      assert.equal(body.url, '/to-h1/curl');
      assert.equal(body.bytes, 3);
    }
  });

  it('passes trailers both ways (h2 → h2)', async () => {
    const r = await h2request(proxy.url, { ':method': 'POST', ':path': '/trailers', te: 'trailers' }, 'x'.repeat(1000), { 'x-req': 'r1' });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'got 1000');
    assert.equal(r.trailers?.['x-checksum'], '1000');
    assert.equal(r.trailers?.['x-echo'], 'r1');
  });

  it('passes response trailers to an HTTP/1.1 client as chunked trailers', async () => {
    const r = await new Promise<{ body: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
      const req = http.request(`http://127.0.0.1:${auto}/to-h2/trailers`, { method: 'POST', agent: false, headers: { te: 'trailers' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ body, trailers: res.trailers }));
      });
      req.on('error', reject);
      req.end('abcd');
    });
    assert.equal(r.body, 'got 4');
    assert.equal(r.trailers['x-checksum'], '4');
  });

  it('streams 20 MB up and down through h2 on both legs', async () => {
    const up = Buffer.alloc(20 * MB);
    for (let i = 0; i < up.length; i += 4096) up.writeUInt32BE(i, i);
    const r = await h2request(proxy.url, { ':method': 'POST', ':path': '/upload' }, up);
    assert.deepEqual(JSON.parse(r.body.toString()), { bytes: up.length, sha: sha(up) });
    const d = await h2request(proxy.url, { ':path': '/download/20' });
    assert.equal(d.body.length, 20 * MB);
  });

  it('streams 20 MB from an HTTP/1.1 client to an h2 upstream and back', async () => {
    const up = Buffer.alloc(20 * MB, 3);
    const r = await request(`http://127.0.0.1:${auto}/to-h2/upload`, { method: 'POST', body: up });
    assert.deepEqual(JSON.parse(r.body), { bytes: up.length, sha: sha(up) });
    const d = await request(`http://127.0.0.1:${auto}/to-h2/download/20`);
    assert.equal(Buffer.byteLength(d.body), 20 * MB);
  });

  it('holds an h2 upstream back when the h2 client stops reading', async () => {
    const s = http2.connect(proxy.url);
    s.on('error', () => {});
    const req = s.request({ ':path': '/endless' });
    req.on('error', () => {});
    await once(req, 'response');
    req.pause();
    // Wait until the upstream stops making progress (flow-control windows full on every hop).
    const last = await untilStill(() => stall.written, 'the upstream to stall');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(stall.written, last, 'the upstream is blocked, not writing');
    assert.ok(last < 24 * MB, `upstream wrote ${(last / MB).toFixed(1)} MB into a stalled client`);
    req.close(http2.constants.NGHTTP2_CANCEL);
    s.close();
    await until(() => stall.closed, 'the upstream stream to be reset');
  });

  it('holds an h2 client back when the h2 upstream stops reading', async () => {
    stall = { written: 0, closed: false };
    const s = http2.connect(proxy.url);
    s.on('error', () => {});
    const req = s.request({ ':method': 'POST', ':path': '/sink-stall' }, { endStream: false });
    req.on('error', () => {});
    const chunk = Buffer.alloc(64 * 1024, 2);
    let accepted = 0;
    let stop = false;
    void (async () => {
      while (!stop) {
        accepted += chunk.length;
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
      }
    })();
    const last = await untilStill(() => accepted, 'the client to stall');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(accepted, last, 'the client is blocked, not writing');
    assert.ok(last < 16 * MB, `the client pushed ${(last / MB).toFixed(1)} MB into a stalled upstream`);
    stop = true;
    req.close(http2.constants.NGHTTP2_CANCEL);
    s.close();
    await until(() => stall.closed, 'the upstream stream to be reset');
  });

  it('an upstream reset mid-body resets the downstream stream (never a clean end)', async () => {
    const s = http2.connect(proxy.url);
    s.on('error', () => {});
    const req = s.request({ ':path': '/reset-mid' });
    req.on('error', () => {});
    let data = '';
    req.on('data', (c: Buffer) => (data += c));
    const [status] = await once(req, 'response');
    assert.equal(status[':status'], 200);
    await once(req, 'close');
    assert.equal(data, 'partial');
    assert.notEqual(req.rstCode, http2.constants.NGHTTP2_NO_ERROR);
    s.close();
  });

  it('answers local replies over h2: 404 without a route, a direct response', async () => {
    const r = await h2request(`http://127.0.0.1:${narrow}`, { ':path': '/nothing-here' });
    assert.equal(r.status, 404);
    const l = await h2request(proxy.url, { ':path': '/local' });
    assert.equal(l.status, 200);
    assert.equal(l.body.toString(), 'local ok');
    assert.equal(l.headers['content-length'], '8');
  });

  it('a dead upstream gives 503 to an h2 client', async () => {
    const port = await closedPort();
    const p = await startProxy(`
admin: null
access_log: false
listeners:
  - { name: d, address: 127.0.0.1:0, protocol: http2, routes: [{ match: { prefix: / }, cluster: dead }] }
clusters:
  - { name: dead, protocol: http2, endpoints: [{ address: 127.0.0.1:${port} }] }
`);
    const r = await h2request(p.url, { ':path': '/' });
    assert.equal(r.status, 503);
    await p.stop();
  });

  it('drains: GOAWAY to h2 clients, in-flight streams finish', async () => {
    const p = await startProxy(`
admin: null
access_log: false
drain_timeout: 5s
listeners:
  - { name: d, address: 127.0.0.1:0, protocol: http2, routes: [{ match: { prefix: / }, cluster: h2 }] }
clusters:
  - { name: h2, protocol: http2, endpoints: [{ address: ${h2up.address} }] }
`);
    const s = http2.connect(p.url);
    s.on('error', () => {});
    const goaway = once(s, 'goaway');
    const req = s.request({ ':path': '/download/2' });
    await once(req, 'response');
    const stopped = p.stop();
    await goaway;
    let n = 0;
    for await (const c of req) n += (c as Buffer).length;
    assert.equal(n, 2 * MB);
    await stopped;
    s.close();
  });
});
