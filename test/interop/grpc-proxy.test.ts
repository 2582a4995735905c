/**
 * gRPC through the proxy with @grpc/grpc-js on both ends (h2c): unary, client-, server- and
 * bidi-streaming calls, metadata both ways, an error status sent before any message
 * (Trailers-Only) reaching the client intact, and the proxy's own gRPC local replies
 * (no route → UNIMPLEMENTED, dead upstream → UNAVAILABLE), through both h2 listeners.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { closedPort, startProxy, type Running } from '../fixtures/harness';
import { registerH2Codecs } from '../fixtures/grpc/h2-peers';
import { Echo, bindInsecure, rawUnaryCall, type EchoClient, type EchoReply, type EchoRequest } from '../fixtures/grpc/echo';

function echoServer(): grpc.Server {
  const server = new grpc.Server();
  server.addService(Echo.service, {
    Unary(call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) {
      const md = call.metadata.get('x-req-md');
      if (call.request.fail_code) {
        const t = new grpc.Metadata();
        t.set('x-why', 'asked-to-fail');
        return cb({ code: call.request.fail_code, details: 'failed on purpose: ümlaut %', metadata: t } as grpc.ServiceError);
      }
      const head = new grpc.Metadata();
      head.set('x-head-md', 'h1');
      call.sendMetadata(head);
      const trailer = new grpc.Metadata();
      trailer.set('x-trail-md', 't1');
      cb(null, { message: `${call.request.message}|${md.join(',')}`, index: 0 }, trailer);
    },
    ClientStream(call: grpc.ServerReadableStream<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) {
      const parts: string[] = [];
      call.on('data', (r: EchoRequest) => parts.push(r.message ?? ''));
      call.on('end', () => cb(null, { message: parts.join('+'), index: parts.length }));
    },
    ServerStream(call: grpc.ServerWritableStream<EchoRequest, EchoReply>) {
      if (call.request.fail_code) {
        call.emit('error', { code: call.request.fail_code, details: 'no stream for you' });
        return;
      }
      for (let i = 0; i < (call.request.repeat ?? 0); i++) call.write({ message: call.request.message ?? '', index: i });
      call.end();
    },
    Bidi(call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) {
      let i = 0;
      call.on('data', (r: EchoRequest) => call.write({ message: (r.message ?? '').toUpperCase(), index: i++ }));
      call.on('end', () => call.end());
    },
  });
  return server;
}

function unary(c: EchoClient, req: EchoRequest, md = new grpc.Metadata()): Promise<{ reply?: EchoReply; err?: grpc.ServiceError; head?: grpc.Metadata; trailer?: grpc.Metadata }> {
  return new Promise((resolve) => {
    let head: grpc.Metadata | undefined;
    let trailer: grpc.Metadata | undefined;
    const call = c.Unary(req, md, { deadline: Date.now() + 10_000 }, (err, reply) =>
      // 'status' fires after the callback on success; collect on the next turn.
      setImmediate(() => resolve({ reply, err: err ?? undefined, head, trailer })),
    );
    call.on('metadata', (m) => (head = m));
    call.on('status', (s) => (trailer = s.metadata));
  });
}

describe('gRPC through the proxy (grpc-js ↔ grpc-js)', () => {
  let server: grpc.Server;
  let proxy: Running;
  const clients: EchoClient[] = [];
  let h2c: EchoClient;
  let auto: EchoClient;

  before(async () => {
    registerH2Codecs();
    server = echoServer();
    const port = await bindInsecure(server);
    const dead = await closedPort();
    proxy = await startProxy(`
admin: null
access_log: false
listeners:
  - name: g
    address: 127.0.0.1:0
    protocol: http2
    routes:
      - { match: { prefix: /switchyard.test.Echo/ }, cluster: echo, timeout: 20s }
      - { match: { prefix: /dead.Service/ }, cluster: dead }
  - name: both
    address: 127.0.0.1:0
    protocol: http
    routes:
      - { match: { prefix: /switchyard.test.Echo/ }, cluster: echo, timeout: 20s }
clusters:
  - { name: echo, protocol: http2, endpoints: [{ address: 127.0.0.1:${port} }] }
  - { name: dead, protocol: http2, connect_timeout: 2s, endpoints: [{ address: 127.0.0.1:${dead} }] }
`);
    const mk = (p: number): EchoClient => {
      const c = new Echo(`127.0.0.1:${p}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
      clients.push(c);
      return c;
    };
    h2c = mk(proxy.port);
    auto = mk(proxy.server.listenerPort('both'));
  });

  after(async () => {
    for (const c of clients) c.close();
    await proxy.stop();
    server.forceShutdown();
  });

  it('unary call with request, initial and trailing metadata', async () => {
    for (const c of [h2c, auto]) {
      const md = new grpc.Metadata();
      md.set('x-req-md', 'm1');
      const r = await unary(c, { message: 'hi' }, md);
      assert.equal(r.err, undefined);
      assert.equal(r.reply?.message, 'hi|m1');
      assert.deepEqual(r.head?.get('x-head-md'), ['h1']);
      assert.deepEqual(r.trailer?.get('x-trail-md'), ['t1']);
    }
  });

  it('an error before any message keeps its status, message and metadata (Trailers-Only)', async () => {
    const r = await unary(h2c, { message: 'x', fail_code: grpc.status.NOT_FOUND });
    assert.equal(r.err?.code, grpc.status.NOT_FOUND);
    assert.equal(r.err?.details, 'failed on purpose: ümlaut %');
    assert.deepEqual(r.err?.metadata.get('x-why'), ['asked-to-fail']);
    const s = h2c.ServerStream({ message: 'x', fail_code: grpc.status.PERMISSION_DENIED });
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      s.on('data', () => resolve(new Error('unexpected message') as grpc.ServiceError));
      s.on('error', resolve);
    });
    assert.equal(err.code, grpc.status.PERMISSION_DENIED);
    assert.equal(err.details, 'no stream for you');
  });

  it('client-streaming call', async () => {
    const reply = await new Promise<EchoReply>((resolve, reject) => {
      const call = h2c.ClientStream(new grpc.Metadata(), (e, r) => (e ? reject(e) : resolve(r!)));
      for (const m of ['a', 'b', 'c', 'd']) call.write({ message: m });
      call.end();
    });
    assert.deepEqual(reply, { message: 'a+b+c+d', index: 4 });
  });

  it('server-streaming call', async () => {
    const got: EchoReply[] = [];
    const s = auto.ServerStream({ message: 'tick', repeat: 25 });
    s.on('data', (r: EchoReply) => got.push(r));
    await once(s, 'end');
    assert.equal(got.length, 25);
    assert.deepEqual(got[24], { message: 'tick', index: 24 });
  });

  it('bidi-streaming call, ping-pong', async () => {
    const call = h2c.Bidi();
    const replies: EchoReply[] = [];
    for (const m of ['one', 'two', 'three']) {
      call.write({ message: m });
      const [r] = (await once(call, 'data')) as [EchoReply];
      replies.push(r);
    }
    call.end();
    await once(call, 'end');
    assert.deepEqual(
      replies.map((r) => r.message),
      ['ONE', 'TWO', 'THREE'],
    );
  });

  it('many concurrent unary calls share the upstream session', async () => {
    const rs = await Promise.all(Array.from({ length: 100 }, (_, i) => unary(h2c, { message: `m${i}` })));
    rs.forEach((r, i) => assert.equal(r.reply?.message, `m${i}|`));
  });

  it('no route for a gRPC request → UNIMPLEMENTED', async () => {
    const err = await rawUnaryCall(proxy.port, '/no.Such/Nope');
    assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
    assert.match(err?.details ?? '', /no route/);
  });

  it('a dead upstream → UNAVAILABLE', async () => {
    const err = await rawUnaryCall(proxy.port, '/dead.Service/Call');
    assert.equal(err?.code, grpc.status.UNAVAILABLE);
  });
});
