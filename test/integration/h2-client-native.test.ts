/**
 * The native HTTP/2 upstream client (H2Pool over native/client-session + client-exchange) against
 * a raw-frame upstream scripted per test: request field order and stream ids, 1xx heads skipped,
 * trailers, PING answered, GOAWAY mid-flight (streams above the last id replayed on a new
 * session), REFUSED_STREAM replayed with its body, a small peer window forcing request-body
 * framing with backpressure, malformed frames from the upstream (an error and a GOAWAY with the
 * code, never a hang, also through the proxy), and a TLS server that did not pick h2.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { collectResponse, type PoolResponse } from '../fixtures/pool-response';
import { HeaderMap } from '../../src/api/headers';
import { systemClock } from '../../src/api/clock';
import type { PoolOptions, UpstreamPool, UpstreamRequest } from '../../src/api/stream';
import { H2Pool } from '../../src/http/h2';
import { HpackDecoder, HpackEncoder } from '../../src/http/h2/hpack';
import { buildUpstreamTls } from '../../src/upstream/connect';
import { request, startProxy } from '../fixtures/harness';
import { tlsFixture } from '../fixtures/tls';
import { until } from '../fixtures/grpc/h2-peers';

interface Frame {
  type: number;
  flags: number;
  id: number;
  payload: Buffer;
  /** Decoded fields of a HEADERS frame (single-frame blocks only). */
  fields?: string[];
}

class RawConn {
  readonly frames: Frame[] = [];
  closed = false;
  private readonly dec = new HpackDecoder();
  private readonly enc = new HpackEncoder();
  constructor(readonly sock: net.Socket) {}

  send(type: number, flags: number, id: number, payload: Buffer = Buffer.alloc(0)): void {
    const h = Buffer.alloc(9);
    h.writeUIntBE(payload.length, 0, 3);
    h[3] = type;
    h[4] = flags;
    h.writeUInt32BE(id, 5);
    if (!this.sock.destroyed) this.sock.write(Buffer.concat([h, payload]));
  }
  headers(id: number, kv: string[], end: boolean): void {
    const b = Buffer.alloc(HpackEncoder.maxLength(kv));
    const n = this.enc.encodeInto(kv, b, 0);
    this.send(1, 4 | (end ? 1 : 0), id, b.subarray(0, n));
  }
  data(id: number, body: string | Buffer, end: boolean): void {
    this.send(0, end ? 1 : 0, id, Buffer.from(body));
  }
  u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    return b;
  }
  goaway(last: number, code: number): void {
    this.send(7, 0, 0, Buffer.concat([this.u32(last), this.u32(code)]));
  }
  decode(f: Frame): void {
    if (f.type === 1) {
      const out: string[] = [];
      this.dec.decode(f.payload, out, 1 << 20);
      f.fields = out;
    }
  }
}

interface RawUpstream {
  port: number;
  conns: RawConn[];
  close(): void;
}

/** A raw HTTP/2 server: sends `settings`, ACKs SETTINGS, records frames and hands each to `script`. */
async function rawUpstream(settings: Array<[number, number]>, script: (c: RawConn, f: Frame) => void): Promise<RawUpstream> {
  const conns: RawConn[] = [];
  const server = net.createServer((sock) => {
    const c = new RawConn(sock);
    conns.push(c);
    sock.on('error', () => {});
    sock.on('close', () => (c.closed = true));
    const p = Buffer.alloc(settings.length * 6);
    settings.forEach(([k, v], i) => {
      p.writeUInt16BE(k, i * 6);
      p.writeUInt32BE(v, i * 6 + 2);
    });
    c.send(4, 0, 0, p);
    let buf = Buffer.alloc(0);
    let preface = false;
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!preface) {
        if (buf.length < 24) return;
        assert.equal(buf.subarray(0, 24).toString('latin1'), 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
        buf = buf.subarray(24);
        preface = true;
      }
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) return;
        const f: Frame = { type: buf[3], flags: buf[4], id: buf.readUInt32BE(5) & 0x7fffffff, payload: Buffer.from(buf.subarray(9, 9 + len)) };
        buf = buf.subarray(9 + len);
        c.decode(f);
        c.frames.push(f);
        if (f.type === 4 && (f.flags & 1) === 0) c.send(4, 1, 0);
        script(c, f);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    conns,
    close() {
      for (const c of conns) c.sock.destroy();
      server.close();
    },
  };
}

function field(kv: string[] | undefined, name: string): string | undefined {
  if (kv === undefined) return undefined;
  for (let i = 0; i < kv.length; i += 2) if (kv[i] === name) return kv[i + 1];
  return undefined;
}

function call(pool: UpstreamPool, path: string, o: { body?: Buffer | string; extra?: string[]; onReq?: (r: UpstreamRequest) => void } = {}): Promise<PoolResponse> {
  const { handler, done } = collectResponse();
  const method = o.body === undefined ? 'GET' : 'POST';
  const h = new HeaderMap([':path', path, ':method', method, 'x-a', '1', 'host', 'up.test', ...(o.extra ?? [])]);
  const req = pool.request(h, o.body === undefined, handler);
  if (o.onReq !== undefined) o.onReq(req);
  else if (o.body !== undefined) {
    req.write(Buffer.from(o.body));
    req.end(null);
  }
  return done;
}

const cleanups: Array<() => void> = [];
after(() => {
  for (const f of cleanups) f();
});

function pool(port: number, o: Partial<PoolOptions> = {}): H2Pool {
  const p = new H2Pool({ host: '127.0.0.1', port }, { connectTimeoutMs: 2000, maxConnections: 4, maxPending: 100, idleTimeoutMs: 60_000, ...o }, systemClock);
  cleanups.push(() => p.destroy());
  return p;
}

function track(u: RawUpstream): RawUpstream {
  cleanups.push(() => u.close());
  return u;
}

describe('native HTTP/2 upstream client', () => {
  it('sends pseudo-headers first on odd increasing ids, skips 1xx, reads trailers, answers PING', async () => {
    const u = track(
      await rawUpstream([], (c, f) => {
        if (f.type !== 1) return;
        c.send(6, 0, 0, Buffer.from('pingpong'));
        c.headers(f.id, [':status', '103', 'link', '</a>'], false);
        c.headers(f.id, [':status', '200', 'x-b', '2'], false);
        c.data(f.id, 'hi', false);
        c.headers(f.id, ['x-t', 'done'], true);
      }),
    );
    const p = pool(u.port);
    const a = await call(p, '/one');
    const b = await call(p, '/two', { extra: ['content-type', 'application/grpc', 'connection', 'close'] });
    for (const r of [a, b]) {
      assert.equal(r.error, null);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'hi');
      assert.equal(r.trailers?.get('x-t'), 'done');
    }
    const c = u.conns[0];
    const heads = c.frames.filter((f) => f.type === 1);
    assert.deepEqual(heads.map((f) => f.id), [1, 3]);
    assert.deepEqual(heads[0].fields, [':method', 'GET', ':scheme', 'http', ':authority', 'up.test', ':path', '/one', 'x-a', '1']);
    assert.equal(field(heads[1].fields, 'te'), 'trailers');
    assert.equal(field(heads[1].fields, 'connection'), undefined);
    assert.equal(heads[0].flags & 1, 1, 'END_STREAM on a bodiless request');
    await until(() => c.frames.some((f) => f.type === 6 && f.flags === 1), 'the PING ack');
    assert.equal(c.frames.find((f) => f.type === 6 && f.flags === 1)!.payload.toString(), 'pingpong');
    const settings = c.frames.find((f) => f.type === 4 && f.flags === 0)!;
    assert.ok(settings.payload.includes(Buffer.from([0, 2, 0, 0, 0, 0])), 'ENABLE_PUSH 0');
    assert.ok(c.frames.some((f) => f.type === 4 && f.flags === 1), 'our SETTINGS were acked back');
  });

  it('GOAWAY mid-flight: streams above the last id are replayed on a new session', async () => {
    const u = track(
      await rawUpstream([], (c, f) => {
        if (f.type !== 1) return;
        const first = c === u.conns[0];
        if (first) {
          if (c.frames.filter((x) => x.type === 1).length < 3) return;
          // Three streams in flight: only the first was taken.
          c.goaway(1, 0);
          c.headers(1, [':status', '200'], false);
          c.data(1, 'first', true);
          return;
        }
        c.headers(f.id, [':status', '200'], false);
        c.data(f.id, 'second:' + field(f.fields, ':path'), true);
      }),
    );
    const p = pool(u.port);
    const rs = await Promise.all([call(p, '/a'), call(p, '/b'), call(p, '/c')]);
    assert.deepEqual(
      rs.map((r) => r.error?.message ?? r.body),
      ['first', 'second:/b', 'second:/c'],
    );
    assert.equal(u.conns.length, 2);
    await until(() => u.conns[0].closed, 'the old session to close');
    assert.ok(u.conns[0].frames.some((f) => f.type === 7), 'the client said GOAWAY too');
  });

  it('replays a REFUSED_STREAM with its body; a reset after the head is an error', async () => {
    let n = 0;
    const u = track(
      await rawUpstream([], (c, f) => {
        if (f.type === 1 && field(f.fields, ':path') === '/mid') {
          c.headers(f.id, [':status', '200'], false);
          c.send(3, 0, f.id, c.u32(2));
          return;
        }
        if (f.type === 1 && n++ === 0) c.send(3, 0, f.id, c.u32(7));
        if (f.type === 0 && (f.flags & 1) === 1 && f.id !== 1) {
          const body = Buffer.concat(c.frames.filter((x) => x.type === 0 && x.id === f.id).map((x) => x.payload));
          c.headers(f.id, [':status', '200'], false);
          c.data(f.id, `${f.id}:${body}`, true);
        }
      }),
    );
    const p = pool(u.port);
    const r = await call(p, '/r', { body: 'payload' });
    assert.equal(r.error, null);
    assert.equal(r.body, '3:payload');
    const m = await call(p, '/mid');
    assert.equal(m.status, 200);
    assert.equal(m.error?.kind, 'reset');
    assert.equal(m.error?.beforeRequestSent, false);
  });

  it('frames a request body within a small peer window, with write() backpressure and drain', async () => {
    const WINDOW = 1000;
    let maxData = 0;
    const u = track(
      await rawUpstream([[4, WINDOW]], (c, f) => {
        if (f.type !== 0) return;
        maxData = Math.max(maxData, f.payload.length);
        if (f.payload.length > 0) {
          c.send(8, 0, f.id, c.u32(f.payload.length));
          c.send(8, 0, 0, c.u32(f.payload.length));
        }
        if ((f.flags & 1) === 1) {
          const got = Buffer.concat(c.frames.filter((x) => x.type === 0 && x.id === f.id).map((x) => x.payload));
          c.headers(f.id, [':status', '200'], false);
          c.data(f.id, `${got.length}:${got.reduce((a, b) => (a + b) % 65521, 0)}`, true);
        }
      }),
    );
    const p = pool(u.port);
    const body = Buffer.alloc(200 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    let sawFalse = false;
    const r = await call(p, '/up', {
      body,
      onReq: (req) => {
        let at = 0;
        const pump = (): void => {
          while (at < body.length) {
            const ok = req.write(body.subarray(at, at + 16 * 1024));
            at += 16 * 1024;
            if (!ok) {
              sawFalse = true;
              req.onDrain(pump);
              return;
            }
          }
          req.end(null);
        };
        pump();
      },
    });
    assert.equal(r.error, null);
    assert.equal(r.body, `${body.length}:${body.reduce((a, b) => (a + b) % 65521, 0)}`);
    assert.ok(maxData <= WINDOW, `a DATA frame of ${maxData} bytes exceeded the window`);
    assert.ok(sawFalse, 'write() asked to wait');
    assert.ok(u.conns[0].frames.filter((f) => f.type === 0).length >= body.length / WINDOW);
  });

  for (const [what, code, misbehave] of [
    ['a header block that is not valid HPACK', 9, (c: RawConn, id: number) => c.send(1, 4, id, Buffer.from([0x80]))],
    ['DATA on a stream never opened', 1, (c: RawConn) => c.data(7, 'x', false)],
    ['a frame over SETTINGS_MAX_FRAME_SIZE', 6, (c: RawConn, id: number) => c.data(id, Buffer.alloc(20_000), false)],
    ['a PUSH_PROMISE although push is off', 1, (c: RawConn, id: number) => c.send(5, 4, id, c.u32(2))],
  ] as const) {
    it(`${what} from the upstream: GOAWAY(${code}), the exchange fails, the next one works`, async () => {
      const u = track(
        await rawUpstream([], (c, f) => {
          if (f.type !== 1) return;
          if (c === u.conns[0]) return misbehave(c, f.id);
          c.headers(f.id, [':status', '200'], false);
          c.data(f.id, 'ok', true);
        }),
      );
      const p = pool(u.port);
      const r = await call(p, '/bad');
      assert.equal(r.error?.kind, 'protocol_error');
      assert.equal(r.error?.beforeRequestSent, false);
      const c0 = u.conns[0];
      await until(() => c0.closed, 'the connection to close');
      const g = c0.frames.find((f) => f.type === 7);
      assert.ok(g !== undefined, 'GOAWAY sent');
      assert.equal(g.payload.readUInt32BE(4), code);
      await until(() => p.stats.connections === 0, 'the session to go');
      assert.equal((await call(p, '/good')).body, 'ok');
    });
  }

  it('a response body that does not match its content-length resets the stream only', async () => {
    const u = track(
      await rawUpstream([], (c, f) => {
        if (f.type !== 1) return;
        const path = field(f.fields, ':path');
        c.headers(f.id, [':status', '200', 'content-length', path === '/short' ? '10' : '2'], false);
        c.data(f.id, 'hi', true);
      }),
    );
    const p = pool(u.port);
    const r = await call(p, '/short');
    assert.equal(r.error?.kind, 'protocol_error');
    const c = u.conns[0];
    await until(() => c.frames.some((f) => f.type === 3), 'RST_STREAM');
    assert.equal(c.frames.find((f) => f.type === 3)!.payload.readUInt32BE(0), 1);
    assert.equal((await call(p, '/exact')).body, 'hi');
    assert.equal(u.conns.length, 1, 'the session stayed up');
  });

  it('through the proxy: a malformed upstream response is a 502 for the client', async () => {
    const u = track(await rawUpstream([], (c, f) => f.type === 1 && c.send(1, 4, f.id, Buffer.from([0x80]))));
    const proxy = await startProxy(`
admin: null
access_log: false
listeners:
  - { name: h, address: 127.0.0.1:0, protocol: http, routes: [{ match: { prefix: / }, cluster: u }] }
clusters:
  - { name: u, protocol: http2, endpoints: [{ address: 127.0.0.1:${u.port} }] }
`);
    try {
      const r = await request(`${proxy.url}/x`);
      assert.equal(r.status, 502);
    } finally {
      await proxy.stop();
    }
  });

  it('refuses a TLS upstream that did not select h2 by ALPN (it ignores ALPN)', async () => {
    const fx = await tlsFixture();
    const server = tls.createServer({ cert: readFileSync(fx.upstream.cert), key: readFileSync(fx.upstream.key) }, (s) => {
      s.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => server.close());
    const t = buildUpstreamTls({ ca: fx.ca, verify: true, alpn: ['h2'] });
    const p = pool((server.address() as net.AddressInfo).port, { options: { tls: t } });
    const r = await call(p, '/x');
    assert.equal(r.error?.kind, 'connect_failure');
    assert.match(r.error!.message, /did not select h2/);
  });
});
