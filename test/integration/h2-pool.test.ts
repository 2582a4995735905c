/**
 * The HTTP/2 upstream pool against real node:http2 servers (and one raw-frame peer): streams
 * multiplexed on one session, a second session when the peer's max concurrent streams (or the
 * cluster's cap) is reached, the pending limit (overflow), GOAWAY mid-load without a failed request, refused
 * streams replayed, dead endpoints, PING keep-alive and idle expiry on a manual clock.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { once } from 'node:events';
import { collectResponse, type PoolResponse } from '../fixtures/pool-response';
import { HeaderMap } from '../../src/api/headers';
import { systemClock, type Clock } from '../../src/api/clock';
import type { PoolOptions, UpstreamPool, UpstreamResponseHandler } from '../../src/api/stream';
import { H2Pool } from '../../src/http/h2';
import { ManualClock, h2request, registerH2Codecs, startH2Upstream, until, type H2Upstream } from '../fixtures/grpc/h2-peers';
import { closedPort, startProxy } from '../fixtures/harness';

function call(pool: UpstreamPool, path: string, body?: string, method = body === undefined ? 'GET' : 'POST'): Promise<PoolResponse> {
  const { handler, done } = collectResponse();
  const h = new HeaderMap([':method', method, ':path', path, ':authority', 'up.test', ':scheme', 'http']);
  const req = pool.request(h, body === undefined, handler);
  if (body !== undefined) {
    req.write(Buffer.from(body));
    req.end(null);
  }
  return done;
}

function opts(o: Partial<PoolOptions> = {}): PoolOptions {
  return { connectTimeoutMs: 2000, maxConnections: 10, maxPending: 100, idleTimeoutMs: 60_000, ...o };
}

const pools: UpstreamPool[] = [];
const ups: H2Upstream[] = [];
function pool(u: { port: number }, o: Partial<PoolOptions> = {}, clock: Clock = systemClock): H2Pool {
  const p = new H2Pool({ host: '127.0.0.1', port: u.port }, opts(o), clock);
  pools.push(p);
  return p;
}

after(async () => {
  for (const p of pools) p.destroy();
  for (const u of ups) await u.close();
});

describe('HTTP/2 upstream pool', () => {
  it('multiplexes concurrent requests on one session and reads trailers and Trailers-Only', async () => {
    const u = await startH2Upstream((stream, headers) => {
      if (headers[':path'] === '/trailers-only') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5' }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(String(headers[':path']));
    });
    ups.push(u);
    const p = pool(u);
    const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => call(p, `/r${i}`)));
    rs.forEach((r, i) => {
      assert.equal(r.error, null);
      assert.equal(r.body, `/r${i}`);
      assert.equal(r.trailers?.get('grpc-status'), '0');
    });
    assert.equal(u.sessions.size, 1);
    const t = await call(p, '/trailers-only');
    assert.equal(t.endAfterHeaders, true);
    assert.equal(t.headers?.get('grpc-status'), '5');
    assert.equal(p.stats.connections, 1);
    await until(() => p.stats.active === 0, 'streams to close');
    await p.close();
    assert.equal(p.stats.connections, 0);
    assert.equal((await call(p, '/after-close')).error?.kind, 'connect_failure');
  });

  it('opens another session when the peer allows fewer concurrent streams', async () => {
    const held: http2.ServerHttp2Stream[] = [];
    const u = await startH2Upstream((stream) => held.push(stream), { settings: { maxConcurrentStreams: 2 } });
    ups.push(u);
    const p = pool(u);
    const all = Promise.all(Array.from({ length: 5 }, (_, i) => call(p, `/c${i}`)));
    await until(() => held.length === 5, 'five streams upstream');
    assert.equal(u.sessions.size, 3);
    assert.equal(p.stats.connections, 3);
    for (const s of held) {
      s.respond({ ':status': 200 });
      s.end('ok');
    }
    const rs = await all;
    for (const r of rs) assert.equal(r.body, 'ok');
  });

  it('caps streams per session at the cluster max_concurrent_streams even when the peer allows more', async () => {
    const held: http2.ServerHttp2Stream[] = [];
    const u = await startH2Upstream((stream) => held.push(stream)); // the peer allows 100 per session
    ups.push(u);
    const p = pool(u, { maxConnections: 3, options: { max_concurrent_streams: 2 } });
    const all = Promise.all(Array.from({ length: 7 }, (_, i) => call(p, `/c${i}`)));
    await until(() => held.length === 6, 'six streams upstream');
    assert.equal(u.sessions.size, 3);
    assert.equal(p.stats.connections, 3);
    assert.equal(p.stats.pending, 1, 'the seventh waits for a free stream');
    for (const s of held.splice(0)) {
      s.respond({ ':status': 200 });
      s.end('ok');
    }
    await until(() => held.length === 1, 'the seventh started once a stream closed');
    held[0].respond({ ':status': 200 });
    held[0].end('ok');
    const rs = await all;
    for (const r of rs) assert.equal(r.body, 'ok');
    assert.equal(u.sessions.size, 3);
  });

  it('bounds the pending queue: overflow once every stream and slot is taken', async () => {
    const held: http2.ServerHttp2Stream[] = [];
    const u = await startH2Upstream((stream) => held.push(stream), { settings: { maxConcurrentStreams: 1 } });
    ups.push(u);
    const p = pool(u, { maxConnections: 1, maxPending: 1 });
    const first = call(p, '/1');
    await until(() => held.length === 1, 'the first stream');
    const second = call(p, '/2');
    assert.equal(p.stats.pending, 1);
    const third = await call(p, '/3');
    assert.equal(third.error?.kind, 'overflow');
    assert.equal(third.error?.beforeRequestSent, true);
    held[0].respond({ ':status': 200 });
    held[0].end('one');
    assert.equal((await first).body, 'one');
    await until(() => held.length === 2, 'the queued stream to start');
    held[1].respond({ ':status': 200 });
    held[1].end('two');
    assert.equal((await second).body, 'two');
  });

  it('GOAWAY mid-load: no request fails, the rest go to a new session', async () => {
    let perSession = new WeakMap<http2.ServerHttp2Session, number>();
    let goaways = 0;
    const u = await startH2Upstream((stream, headers) => {
      const s = stream.session as http2.ServerHttp2Session;
      const n = (perSession.get(s) ?? 0) + 1;
      perSession.set(s, n);
      if (n === 15) {
        // Accept up to this stream; later ones on this session are refused (not processed).
        goaways++;
        s.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id!);
        setImmediate(() => s.close());
      }
      if (n > 15) {
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      let body = '';
      stream.on('data', (c: Buffer) => (body += c));
      stream.on('end', () => {
        if (stream.destroyed) return;
        stream.respond({ ':status': 200 });
        stream.end(`${headers[':path']}:${body}`);
      });
    });
    ups.push(u);
    const p = pool(u);
    const results: PoolResponse[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 150) {
        const i = next++;
        results[i] = await call(p, `/g${i}`, i % 2 === 0 ? `b${i}` : undefined);
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    results.forEach((r, i) => {
      assert.equal(r.error, null, `request ${i} failed: ${r.error?.message}`);
      assert.equal(r.body, `/g${i}:${i % 2 === 0 ? `b${i}` : ''}`);
    });
    assert.ok(goaways >= 5, `upstream sent ${goaways} GOAWAYs`);
    perSession = new WeakMap();
  });

  it('replays a refused stream, body included; a large body is reported, not replayed', async () => {
    const seen = new Map<string, number>();
    const u = await startH2Upstream((stream, headers) => {
      const path = String(headers[':path']);
      const n = (seen.get(path) ?? 0) + 1;
      seen.set(path, n);
      if (n === 1 || path === '/always') {
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      let body = '';
      stream.on('data', (c: Buffer) => (body += c));
      stream.on('end', () => {
        stream.respond({ ':status': 200 });
        stream.end(`${n}:${body}`);
      });
    });
    ups.push(u);
    const p = pool(u);
    const r = await call(p, '/once', 'payload');
    assert.equal(r.body, '2:payload');
    const big = await call(p, '/big', 'x'.repeat(100 * 1024));
    assert.equal(big.error?.kind, 'reset');
    assert.equal(big.error?.beforeRequestSent, true);
    const always = await call(p, '/always');
    assert.equal(always.error?.kind, 'reset');
    assert.equal(always.error?.beforeRequestSent, true);
    assert.equal(seen.get('/always'), 3, 'replayed twice, then reported');
  });

  it('a stream reset after the request was processed is an error, not retried', async () => {
    let n = 0;
    const u = await startH2Upstream((stream) => {
      n++;
      // waitForTrailers: node's close() would otherwise send END_STREAM before the RST.
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.write('partial');
      setImmediate(() => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    });
    ups.push(u);
    const p = pool(u);
    const r = await call(p, '/x');
    assert.equal(r.status, 200);
    assert.equal(r.error?.kind, 'reset');
    assert.equal(r.error?.beforeRequestSent, false);
    assert.equal(n, 1);
  });

  it('a dead endpoint fails every waiting request with connect_failure', async () => {
    const port = await closedPort();
    const p = pool({ port });
    const rs = await Promise.all([call(p, '/a'), call(p, '/b'), call(p, '/c')]);
    for (const r of rs) {
      assert.equal(r.error?.kind, 'connect_failure');
      assert.equal(r.error?.beforeRequestSent, true);
    }
    assert.equal(p.stats.connections, 0);
  });

  it('pings idle sessions on the clock and closes one whose peer never acks', async () => {
    // A raw HTTP/2 peer: answers SETTINGS, ignores everything else (PING included).
    const frames: number[] = [];
    const server = net.createServer((sock) => {
      sock.on('error', () => {});
      sock.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]));
      let buf = Buffer.alloc(0);
      let prefaceSeen = false;
      sock.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (!prefaceSeen) {
          if (buf.length < 24) return;
          buf = buf.subarray(24);
          prefaceSeen = true;
        }
        while (buf.length >= 9) {
          const len = buf.readUIntBE(0, 3);
          if (buf.length < 9 + len) return;
          const type = buf[3];
          const flags = buf[4];
          frames.push(type);
          if (type === 4 && (flags & 1) === 0) sock.write(Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]));
          buf = buf.subarray(9 + len);
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const clock = new ManualClock();
    const p = pool({ port }, { idleTimeoutMs: 0, options: { ping_interval_ms: 1000, ping_timeout_ms: 500 } }, clock);
    // Start (and abandon) one request so a session exists and becomes idle.
    const h = new HeaderMap([':method', 'GET', ':path', '/', ':authority', 'x', ':scheme', 'http']);
    const noop: UpstreamResponseHandler = { onHeaders() {}, onData() {}, onEnd() {}, onError() {} };
    const req = p.request(h, true, noop);
    await until(() => frames.includes(1), 'the request HEADERS');
    req.abort();
    await until(() => p.stats.active === 0, 'the stream to close');
    assert.equal(frames.includes(6), false);
    clock.advance(999);
    await new Promise((r) => setImmediate(r));
    assert.equal(frames.includes(6), false, 'no PING before the interval');
    clock.advance(1);
    await until(() => frames.includes(6), 'a PING frame');
    assert.equal(p.stats.connections, 1);
    clock.advance(500);
    await until(() => p.stats.connections === 0, 'the unresponsive session to close');
    server.close();
  });

  it('keeps a session whose peer acks PINGs; closes it after the idle timeout', async () => {
    const u = await startH2Upstream();
    ups.push(u);
    const clock = new ManualClock();
    const p = pool(u, { idleTimeoutMs: 5000, options: { ping_interval_ms: 1000, ping_timeout_ms: 500 } }, clock);
    assert.equal((await call(p, '/a')).status, 200);
    await until(() => p.stats.active === 0 && u.sessions.size === 1, 'an idle session');
    const [srv] = [...u.sessions];
    const pinged = once(srv, 'ping');
    clock.advance(1000);
    await pinged;
    await until(() => clock.pending === 1, 'the ack to cancel its timer');
    clock.advance(500);
    await new Promise((r) => setImmediate(r));
    assert.equal(p.stats.connections, 1, 'acked: still open');
    clock.advance(3500);
    await until(() => p.stats.connections === 0, 'the idle session to close');
  });
});

describe('HTTP/2 upstream GOAWAY through the proxy', () => {
  it('an h2 client sees no failure while the upstream rotates sessions', async () => {
    registerH2Codecs();
    let perSession = new WeakMap<http2.ServerHttp2Session, number>();
    const u = await startH2Upstream((stream, headers) => {
      const s = stream.session as http2.ServerHttp2Session;
      const n = (perSession.get(s) ?? 0) + 1;
      perSession.set(s, n);
      if (n === 10) {
        s.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id!);
        setImmediate(() => s.close());
      }
      if (n > 10) return void stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      stream.respond({ ':status': 200 });
      stream.end(String(headers[':path']));
    });
    ups.push(u);
    const proxy = await startProxy(`
admin: null
access_log: false
listeners:
  - { name: g, address: 127.0.0.1:0, protocol: http2, routes: [{ match: { prefix: / }, cluster: u }] }
clusters:
  - { name: u, protocol: http2, endpoints: [{ address: ${u.address} }] }
`);
    const s = http2.connect(proxy.url);
    const rs = await Promise.all(Array.from({ length: 100 }, (_, i) => h2request(s, { ':path': `/p${i}` })));
    s.close();
    rs.forEach((r, i) => {
      assert.equal(r.status, 200, `request ${i}`);
      assert.equal(r.body.toString(), `/p${i}`);
    });
    await proxy.stop();
    perSession = new WeakMap();
  });
});
