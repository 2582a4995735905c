// The RPC listener side on real sockets with a scripted engine: streams per request frame,
// answers in any order, original response bytes forwarded with the downstream id, heartbeats
// answered directly, one-way streams, aborts on close, oversize replies, drain, pause.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { HeaderMap, systemClock, type FrameInfo, type ServeContext, type ServerConnection, type ServerStream } from '../../src/api';
import { rpcListenerProtocol } from '../../src/rpc/server';
import { RpcServerStream } from '../../src/rpc/server-stream';
import { frameOwners } from '../../src/rpc/frames';
import { encodeFrame, exampleCodec, FLAG_RESPONSE, Status } from '../../protocols/example/codec';
import { ExampleClient } from '../../protocols/example/peer';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface Served {
  port: number;
  streams: ServerStream[];
  errors: string[];
  conns: ServerConnection[];
  nextStream(): Promise<ServerStream>;
  close(): Promise<void>;
}

async function serve(onStream: (s: ServerStream) => void = () => {}): Promise<Served> {
  const listener = rpcListenerProtocol(exampleCodec);
  const streams: ServerStream[] = [];
  const errors: string[] = [];
  const conns: ServerConnection[] = [];
  let waiters: Array<(s: ServerStream) => void> = [];
  let id = 1;
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    const ctx: ServeContext = {
      connection: { id: id++, listener: 'l', remoteAddress: '127.0.0.1', remotePort: 0, localAddress: '127.0.0.1', localPort: 0, tls: false },
      limits: { maxHeaderBytes: 65536, headerTimeoutMs: 10_000, idleTimeoutMs: 60_000, maxBufferBytes: 1 << 20 },
      clock: systemClock,
      log: quiet,
      onStream: (s) => {
        streams.push(s);
        onStream(s);
        const w = waiters;
        waiters = [];
        for (const f of w) f(s);
      },
      onProtocolError: (k) => errors.push(k),
    };
    conns.push(listener.serve(sock, ctx));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    streams,
    errors,
    conns,
    nextStream: () => new Promise((r) => waiters.push(r)),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Attaches a body collector, as the engine does right after onStream. */
function collect(s: ServerStream): { body: Buffer[]; ended: boolean; aborted: string | null } {
  const c = { body: [] as Buffer[], ended: false, aborted: null as string | null };
  s.attach({ onData: (b) => c.body.push(b), onEnd: () => (c.ended = true), onAbort: (r) => (c.aborted = r) });
  return c;
}

describe('rpcListenerProtocol', () => {
  it('turns each request frame into a stream and answers them in any order', async () => {
    const bodies = new Map<ServerStream, ReturnType<typeof collect>>();
    const srv = await serve((s) => bodies.set(s, collect(s)));
    const c = await ExampleClient.connect(srv.port);
    const p1 = c.call('svc', 'one', 'first', { timeoutMs: 750 });
    const p2 = c.call('svc', 'two', 'second');
    while (srv.streams.length < 2) await srv.nextStream();
    const [s1, s2] = srv.streams;
    assert.equal(s1.protocol, 'example');
    assert.equal(s1.headers.get('service'), 'svc');
    assert.equal(s1.headers.get('method'), 'one');
    assert.equal((s1 as RpcServerStream).timeoutMs, 750);
    assert.equal(Buffer.concat(bodies.get(s1)!.body).toString(), 'first');
    assert.equal(bodies.get(s1)!.ended, true);
    // answer the second first, with a head from another protocol (re-encoded)
    s2.respond(HeaderMap.from({ ':status': '404' }), false);
    s2.write(Buffer.from('nope'));
    s2.end(null);
    const r2 = await p2;
    assert.equal(r2.status, Status.NOT_FOUND);
    assert.equal(r2.payload.toString(), 'nope');
    s1.respond(HeaderMap.from({ ':status': '200' }), false);
    s1.write(Buffer.from('ok'));
    s1.end(null);
    const r1 = await p1;
    assert.equal(r1.status, Status.OK);
    assert.equal(r1.payload.toString(), 'ok');
    assert.equal(srv.conns[0].activeStreams, 0);
    c.close();
    await srv.close();
  });

  it('forwards an unchanged upstream response frame as its own bytes, with the downstream id', async () => {
    const srv = await serve((s) => collect(s));
    const c = await ExampleClient.connect(srv.port);
    const p = c.call('svc', 'm', 'x');
    const s = await srv.nextStream();
    const upstreamFrame = encodeFrame({ id: 999, flags: FLAG_RESPONSE, status: Status.OK, headers: ['x-up', '1'], payload: Buffer.from('payload!') });
    const info = exampleCodec.peek(upstreamFrame) as FrameInfo;
    const h = exampleCodec.responseHeaders(upstreamFrame, info);
    frameOwners.set(h, exampleCodec);
    s.respond(h, false);
    s.write(upstreamFrame.subarray(info.headerLength));
    s.end(null);
    const r = await p;
    assert.equal(r.payload.toString(), 'payload!');
    assert.equal(r.headers['x-up'], '1');
    assert.equal(upstreamFrame.readUInt32BE(4), r.id, 'the upstream frame itself was written, id restored in place');
    c.close();
    await srv.close();
  });

  it('answers heartbeats itself; they never become streams', async () => {
    const srv = await serve();
    const c = await ExampleClient.connect(srv.port);
    const r = await c.heartbeat();
    assert.equal(r.kind, 'heartbeat-response');
    assert.equal(srv.streams.length, 0);
    c.close();
    await srv.close();
  });

  it('discards anything answered to a one-way request', async () => {
    const srv = await serve((s) => collect(s));
    const c = await ExampleClient.connect(srv.port);
    c.send('svc', 'fire', 'x');
    const s = await srv.nextStream();
    assert.equal((s as RpcServerStream).oneWay, true);
    s.respond(HeaderMap.from({ ':status': '200' }), true);
    s.sendLocalReply({ status: 503, reason: 'upstream_reset' });
    assert.equal(srv.conns[0].activeStreams, 0);
    const two = c.call('svc', 'two-way');
    const s2 = await srv.nextStream();
    s2.sendLocalReply({ status: 503, reason: 'no_healthy_endpoint', details: 'none' });
    const r = await two;
    assert.equal(r.status, Status.UNAVAILABLE);
    assert.deepEqual(
      c.received.map((m) => m.id),
      [r.id],
      'nothing came back for the one-way call',
    );
    c.close();
    await srv.close();
  });

  it('aborts in-flight streams when the client goes away; late answers are dropped', async () => {
    const bodies: Array<ReturnType<typeof collect>> = [];
    const srv = await serve((s) => bodies.push(collect(s)));
    const c = await ExampleClient.connect(srv.port);
    c.call('svc', 'a').catch(() => {});
    c.call('svc', 'b').catch(() => {});
    while (srv.streams.length < 2) await srv.nextStream();
    const closed = new Promise<void>((r) => srv.conns[0].onClose(r));
    c.close();
    await closed;
    assert.deepEqual(
      bodies.map((b) => b.aborted !== null),
      [true, true],
    );
    srv.streams[0].respond(HeaderMap.from({ ':status': '200' }), true); // late: no throw, no write
    await srv.close();
  });

  it('replies to an oversize frame with the protocol error, then closes', async () => {
    const srv = await serve();
    const c = await ExampleClient.connect(srv.port);
    const head = encodeFrame({ id: 5, flags: 0, headers: ['service', 's', 'method', 'm'] });
    head.writeUInt32BE(0x7fffffff, 12);
    const reply = c.expect(5);
    c.write(head);
    const r = await reply;
    assert.equal(r.status, Status.TOO_LARGE);
    assert.equal(r.headers.reason, 'payload_too_large');
    await c.closed;
    assert.deepEqual(srv.errors, ['frame_too_large']);
    await srv.close();
  });

  it('drain: refuses new requests, finishes the in-flight one, then closes', async () => {
    const srv = await serve((s) => collect(s));
    const c = await ExampleClient.connect(srv.port);
    const first = c.call('svc', 'm', 'x');
    const s = await srv.nextStream();
    srv.conns[0].drain();
    const refused = await c.call('svc', 'm', 'late');
    assert.equal(refused.status, Status.UNAVAILABLE);
    assert.equal(refused.headers.reason, 'draining');
    s.respond(HeaderMap.from({ ':status': '200' }), true);
    assert.equal((await first).status, Status.OK);
    await c.closed;
    await srv.close();
  });

  it('pause holds later frames back until resume', async () => {
    const srv = await serve((s) => {
      collect(s);
      if (s.headers.get('method') === 'first') s.pause();
    });
    const c = await ExampleClient.connect(srv.port);
    c.write(Buffer.concat([c.requestFrame(1, 'svc', 'first'), c.requestFrame(2, 'svc', 'second')]));
    const s1 = await srv.nextStream();
    await new Promise((r) => setImmediate(r));
    assert.equal(srv.streams.length, 1, 'the second frame waits');
    const next = srv.nextStream();
    s1.resume();
    const s2 = await next;
    assert.equal(s2.headers.get('method'), 'second');
    c.close();
    await srv.close();
  });
});
