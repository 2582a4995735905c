// The RPC upstream pool against real sockets (the example protocol's peer server, or raw ones):
// id rewriting, multiplexing, unknown ids, failures, heartbeats (manual clock), one-way, abort,
// ping-pong limits and overflow, re-encoding.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import {
  HeaderMap,
  systemClock,
  type Clock,
  type FrameHeaderMap,
  type PoolOptions,
  type RpcCodec,
  type TimerHandle,
  type UpstreamError,
  type UpstreamResponseHandler,
} from '../../src/api';
import { RpcPool } from '../../src/rpc/pool';
import { encodeFrame, exampleCodec, FLAG_ONE_WAY, FLAG_RESPONSE } from '../../protocols/example/codec';
import { ExampleServer, FrameSplitter, parseFrame, type ExampleReply } from '../../protocols/example/peer';

class ManualClock implements Clock {
  t = 1000;
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  now(): number {
    return this.t;
  }
  wallNow(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): TimerHandle {
    const e = { at: this.t + ms, fn, live: true };
    this.timers.push(e);
    return {
      cancel: () => {
        e.live = false;
      },
      refresh: () => {
        e.at = this.t + ms;
        e.live = true;
        if (!this.timers.includes(e)) this.timers.push(e);
      },
    };
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: { at: number; fn: () => void; live: boolean } | null = null;
      for (const e of this.timers) if (e.live && e.at <= end && (next === null || e.at < next.at)) next = e;
      if (next === null) break;
      this.t = next.at;
      next.live = false;
      this.timers = this.timers.filter((e) => e !== next);
      next.fn();
    }
    this.t = end;
  }
}

const OPTS: PoolOptions = { connectTimeoutMs: 1000, maxConnections: 4, maxPending: 64, idleTimeoutMs: 0 };

function reqHeaders(codec: RpcCodec, frame: Buffer): FrameHeaderMap {
  const info = codec.peek(frame);
  if (info === 'need-more' || !('kind' in info)) throw new Error('bad sample');
  return codec.requestHeaders(frame, info);
}

interface Outcome {
  status?: string;
  headers?: HeaderMap;
  body: Buffer[];
  ended: boolean;
  error?: UpstreamError;
  done: Promise<void>;
}

function handler(): { h: UpstreamResponseHandler; o: Outcome } {
  let resolve!: () => void;
  const o: Outcome = { body: [], ended: false, done: new Promise((r) => (resolve = r)) };
  const h: UpstreamResponseHandler = {
    onHeaders: (hm, end) => {
      o.headers = hm;
      o.status = hm.get(':status');
      if (end) {
        o.ended = true;
        resolve();
      }
    },
    onData: (c) => o.body.push(c),
    onEnd: () => {
      o.ended = true;
      resolve();
    },
    onError: (e) => {
      o.error = e;
      resolve();
    },
  };
  return { h, o };
}

/** Sends one request through the pool the way the engine does: request, write(payload), end. */
function send(pool: RpcPool, frame: Buffer, headers = reqHeaders(exampleCodec, frame)) {
  const { h, o } = handler();
  const info = exampleCodec.peek(frame) as { headerLength: number };
  const up = pool.request(headers, false, h);
  if (frame.length > info.headerLength) up.write(frame.subarray(info.headerLength));
  up.end(null);
  return { o, up };
}

function frame(id: number, method: string, payload = '', flags = 0): Buffer {
  return encodeFrame({ id, flags, headers: ['service', 'svc', 'method', method], payload: Buffer.from(payload) });
}

/** A raw upstream that hands every frame to `onFrame` with the socket. */
async function rawUpstream(onFrame: (sock: net.Socket, f: Buffer) => void) {
  const socks = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    socks.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => socks.delete(sock));
    const sp = new FrameSplitter((f) => onFrame(sock, f), () => sock.destroy());
    sock.on('data', (c: Buffer) => sp.push(c));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    socks,
    close: () => {
      for (const s of socks) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('RpcPool (multiplex)', () => {
  it('multiplexes concurrent requests over one connection with ids it assigns, leaving the originals untouched', async () => {
    const up = await ExampleServer.listen((req) => ({ payload: req.payload }));
    const pool = new RpcPool(exampleCodec, { host: '127.0.0.1', port: up.port }, OPTS, systemClock);
    const frames = Array.from({ length: 20 }, (_, i) => frame(500, 'm', `p${i}`)); // same downstream id everywhere
    const sent = frames.map((f) => send(pool, f));
    await Promise.all(sent.map((s) => s.o.done));
    sent.forEach((s, i) => {
      assert.equal(s.o.error, undefined);
      assert.equal(s.o.status, '200');
      assert.equal(Buffer.concat(s.o.body).toString(), `p${i}`);
    });
    assert.equal(up.connectionsAccepted, 1);
    const ids = up.seen.map((m) => m.id);
    assert.equal(new Set(ids).size, 20, 'every request got its own upstream id');
    for (const f of frames) assert.equal(f.readUInt32BE(4), 500, 'the downstream frame was not written into');
    assert.equal(pool.stats.active, 0);
    pool.destroy();
    await up.close();
  });

  it('opens up to `connections` connections under load', async () => {
    const up = await ExampleServer.listen((req) => ({ payload: req.payload }));
    const pool = new RpcPool(exampleCodec, { host: '127.0.0.1', port: up.port }, { ...OPTS, options: { connections: 3 } }, systemClock);
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => send(pool, frame(i, 'm', 'x')).o.done));
    }
    assert.ok(up.connectionsAccepted >= 2 && up.connectionsAccepted <= 3, `connections: ${up.connectionsAccepted}`);
    pool.destroy();
    await up.close();
  });

  it('counts and drops a response with an unknown id, keeping the connection', async () => {
    const up = await rawUpstream((sock, f) => {
      const m = parseFrame(f);
      sock.write(encodeFrame({ id: m.id + 1000, flags: FLAG_RESPONSE, payload: Buffer.from('stray') }));
      sock.write(encodeFrame({ id: m.id, flags: FLAG_RESPONSE, payload: Buffer.from('mine') }));
    });
    const pool = new RpcPool(exampleCodec, { host: '127.0.0.1', port: up.port }, OPTS, systemClock);
    const a = send(pool, frame(1, 'm'));
    await a.o.done;
    assert.equal(Buffer.concat(a.o.body).toString(), 'mine');
    const b = send(pool, frame(2, 'm'));
    await b.o.done;
    assert.equal(Buffer.concat(b.o.body).toString(), 'mine');
    assert.equal(pool.stats.unknownResponses, 2);
    assert.equal(pool.stats.connections, 1);
    pool.destroy();
    await up.close();
  });

  it('fails every in-flight request with reset at once when the connection dies', async () => {
    let seen = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const up = await rawUpstream(() => {
      if (++seen === 3) done();
    });
    const pool = new RpcPool(exampleCodec, { host: '127.0.0.1', port: up.port }, OPTS, systemClock);
    const sent = [1, 2, 3].map((i) => send(pool, frame(i, 'm')));
    await all;
    for (const s of up.socks) s.destroy();
    await Promise.all(sent.map((s) => s.o.done));
    for (const s of sent) {
      assert.equal(s.o.error?.kind, 'reset');
      assert.equal(s.o.error?.beforeRequestSent, false);
    }
    pool.destroy();
    await up.close();
  });

  it('reports connect_failure before anything was sent', async () => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const pool = new RpcPool(exampleCodec, { host: '127.0.0.1', port }, OPTS, systemClock);
    const s = send(pool, frame(1, 'm'));
    await s.o.done;
    assert.equal(s.o.error?.kind, 'connect_failure');
    assert.equal(s.o.error?.beforeRequestSent, true);
    pool.destroy();
  });

  it('sends heartbeats on an idle connection and closes it after 3 unanswered', async () => {
    const clock = new ManualClock();
    const answered = await ExampleServer.listen((req) => ({ payload: req.payload }));
    const pool = new RpcPool(exampleCodec, { host: '127.0.0.1', port: answered.port }, { ...OPTS, options: { heartbeat_interval_ms: 1000 } }, clock);
    await send(pool, frame(1, 'm')).o.done;
    clock.advance(1000);
    await answered.waitFor(() => answered.heartbeats === 1);
    pool.destroy();
    await answered.close();

    let hb = 0;
    let hbSeen!: () => void;
    let waitHb = new Promise<void>((r) => (hbSeen = r));
    let reqSeen!: () => void;
    const arrived = new Promise<void>((r) => (reqSeen = r));
    const silent = await rawUpstream((_sock, f) => {
      const m = parseFrame(f);
      if (m.kind === 'heartbeat-request') {
        hb++;
        hbSeen();
      } else reqSeen();
    });
    const pool2 = new RpcPool(exampleCodec, { host: '127.0.0.1', port: silent.port }, { ...OPTS, options: { heartbeat_interval_ms: 1000 } }, clock);
    const stuck = send(pool2, frame(9, 'never answered'));
    await arrived; // the connection is open and idle from here
    for (let i = 1; i <= 3; i++) {
      clock.advance(1000);
      await waitHb;
      waitHb = new Promise<void>((r) => (hbSeen = r));
      assert.equal(hb, i);
    }
    assert.equal(stuck.o.error, undefined);
    clock.advance(1000);
    await stuck.o.done;
    const err = (stuck.o as Outcome).error;
    assert.equal(err?.kind, 'reset');
    assert.match(err!.message, /heartbeat/);
    pool2.destroy();
    await silent.close();
  });

  it('answers heartbeats the upstream sends', async () => {
    let got!: (m: ReturnType<typeof parseFrame>) => void;
    const reply = new Promise<ReturnType<typeof parseFrame>>((r) => (got = r));
    const up = await rawUpstream((sock, f) => {
      const m = parseFrame(f);
      if (m.kind === 'request') {
        sock.write(encodeFrame({ id: 4242, flags: 0x04 }));
        sock.write(encodeFrame({ id: m.id, flags: FLAG_RESPONSE }));
      } else if (m.kind === 'heartbeat-response') got(m);
    });
    const pool = new RpcPool(exampleCodec, { host: '127.0.0.1', port: up.port }, OPTS, systemClock);
    await send(pool, frame(1, 'm')).o.done;
    assert.equal((await reply).id, 4242);
    pool.destroy();
    await up.close();
  });

  it('completes a one-way request as soon as it is written', async () => {
    const up = await ExampleServer.listen(() => ({ payload: 'never sent for one-way' }));
    const pool = new RpcPool(exampleCodec, { host: '127.0.0.1', port: up.port }, OPTS, systemClock);
    const s = send(pool, frame(3, 'fire', 'x', FLAG_ONE_WAY));
    await s.o.done;
    assert.equal(s.o.status, '200');
    assert.equal(s.o.ended, true);
    await up.waitFor(() => up.oneWay === 1);
    assert.equal(pool.stats.active, 0);
    pool.destroy();
    await up.close();
  });

  it('abort forgets a request: its late answer is dropped quietly, the connection is kept', async () => {
    const later: Array<(r: ExampleReply) => void> = [];
    const up = await ExampleServer.listen((req) =>
      req.headers.method === 'slow' ? new Promise<ExampleReply>((r) => later.push(r)) : { payload: 'fast' },
    );
    const pool = new RpcPool(exampleCodec, { host: '127.0.0.1', port: up.port }, OPTS, systemClock);
    const s = send(pool, frame(1, 'slow'));
    await up.waitFor(() => later.length === 1);
    s.up.abort();
    later[0]({ payload: 'too late' });
    const next = send(pool, frame(2, 'm'));
    await next.o.done;
    assert.equal(Buffer.concat(next.o.body).toString(), 'fast');
    assert.equal(s.o.ended, false);
    assert.equal(s.o.error, undefined);
    assert.equal(pool.stats.unknownResponses, 0);
    assert.equal(up.connectionsAccepted, 1);
    pool.destroy();
    await up.close();
  });

  it('re-encodes a changed request, and refuses one that did not arrive in this protocol', async () => {
    const up = await ExampleServer.listen((req) => ({ payload: req.headers['x-added'] ?? 'none' }));
    const pool = new RpcPool(exampleCodec, { host: '127.0.0.1', port: up.port }, OPTS, systemClock);
    const f = frame(1, 'm');
    const h = reqHeaders(exampleCodec, f);
    h.set('x-added', 'yes');
    const s = send(pool, f, h);
    await s.o.done;
    assert.equal(Buffer.concat(s.o.body).toString(), 'yes');
    const { h: hh, o } = handler();
    pool.request(HeaderMap.from({ ':method': 'GET', ':path': '/' }), true, hh);
    await o.done;
    assert.equal(o.error?.kind, 'protocol_error');
    assert.equal(o.error?.beforeRequestSent, true);
    pool.destroy();
    await up.close();
  });
});

describe('RpcPool (ping-pong)', () => {
  const pingPong: RpcCodec = { ...exampleCodec, name: 'example-pp', poolMode: 'ping-pong' };

  it('runs one request per connection, up to maxConnections, keeping the downstream ids', async () => {
    let open = 0;
    let maxOpen = 0;
    const up = await ExampleServer.listen(
      (req) =>
        new Promise<ExampleReply>((r) => {
          open++;
          maxOpen = Math.max(maxOpen, open);
          setImmediate(() => {
            open--;
            r({ payload: req.payload });
          });
        }),
    );
    const pool = new RpcPool(pingPong, { host: '127.0.0.1', port: up.port }, { ...OPTS, maxConnections: 2 }, systemClock);
    const sent = [11, 12, 13, 14, 15].map((id) => send(pool, frame(id, 'm', `v${id}`), reqHeaders(pingPong, frame(id, 'm', `v${id}`))));
    await Promise.all(sent.map((s) => s.o.done));
    sent.forEach((s, i) => assert.equal(Buffer.concat(s.o.body).toString(), `v${11 + i}`));
    assert.ok(up.connectionsAccepted <= 2);
    assert.ok(maxOpen <= 2);
    assert.deepEqual(up.seen.map((m) => m.id).sort(), [11, 12, 13, 14, 15]);
    pool.destroy();
    await up.close();
  });

  it('fails with overflow beyond maxPending', async () => {
    const up = await ExampleServer.listen(() => null);
    const pool = new RpcPool(pingPong, { host: '127.0.0.1', port: up.port }, { ...OPTS, maxConnections: 1, maxPending: 1 }, systemClock);
    const sent = [1, 2, 3].map((id) => send(pool, frame(id, 'm'), reqHeaders(pingPong, frame(id, 'm'))));
    await sent[2].o.done;
    assert.equal(sent[2].o.error?.kind, 'overflow');
    assert.equal(sent[2].o.error?.beforeRequestSent, true);
    pool.destroy();
    await Promise.all(sent.slice(0, 2).map((s) => s.o.done));
    await up.close();
  });
});
