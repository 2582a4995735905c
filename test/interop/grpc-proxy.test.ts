/**
 * gRPC through the proxy with @grpc/grpc-js on both ends (h2c): unary, client-, server- and
 * bidi-streaming calls, metadata both ways, an error status sent before any message
 * (Trailers-Only) reaching the client intact, and the proxy's own gRPC local replies
 * (no route → UNIMPLEMENTED, dead upstream → UNAVAILABLE), through both h2 listeners.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { startProxy, type Running } from '../fixtures/harness';
import { fixturePath, registerH2Codecs } from '../fixtures/grpc/h2-peers';

interface EchoRequest {
  message?: string;
  fail_code?: number;
  repeat?: number;
}
interface EchoReply {
  message: string;
  index: number;
}
type EchoClient = grpc.Client & {
  Unary(req: EchoRequest, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: EchoReply) => void): grpc.ClientUnaryCall;
  ClientStream(md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r?: EchoReply) => void): grpc.ClientWritableStream<EchoRequest>;
  ServerStream(req: EchoRequest, md?: grpc.Metadata): grpc.ClientReadableStream<EchoReply>;
  Bidi(md?: grpc.Metadata): grpc.ClientDuplexStream<EchoRequest, EchoReply>;
};

const def = protoLoader.loadSync(fixturePath('echo.proto'), { keepCase: true, defaults: true });
const pkg = grpc.loadPackageDefinition(def) as unknown as {
  switchyard: { test: { Echo: grpc.ServiceClientConstructor } };
};
const Echo = pkg.switchyard.test.Echo;

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

async function deadPort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
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
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const dead = await deadPort();
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
    const Other = grpc.makeGenericClientConstructor(
      {
        Nope: {
          path: '/no.Such/Nope',
          requestStream: false,
          responseStream: false,
          requestSerialize: (x: Buffer) => x,
          requestDeserialize: (x: Buffer) => x,
          responseSerialize: (x: Buffer) => x,
          responseDeserialize: (x: Buffer) => x,
        },
      },
      'Other',
    );
    const c = new Other(`127.0.0.1:${proxy.port}`, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      (c as unknown as { Nope(b: Buffer, cb: (e: grpc.ServiceError | null) => void): void }).Nope(Buffer.alloc(0), (e) => resolve(e)),
    );
    c.close();
    assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
    assert.match(err?.details ?? '', /no route/);
  });

  it('a dead upstream → UNAVAILABLE', async () => {
    const Dead = grpc.makeGenericClientConstructor(
      {
        Call: {
          path: '/dead.Service/Call',
          requestStream: false,
          responseStream: false,
          requestSerialize: (x: Buffer) => x,
          requestDeserialize: (x: Buffer) => x,
          responseSerialize: (x: Buffer) => x,
          responseDeserialize: (x: Buffer) => x,
        },
      },
      'Dead',
    );
    const c = new Dead(`127.0.0.1:${proxy.port}`, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      (c as unknown as { Call(b: Buffer, cb: (e: grpc.ServiceError | null) => void): void }).Call(Buffer.alloc(0), (e) => resolve(e)),
    );
    c.close();
    assert.equal(err?.code, grpc.status.UNAVAILABLE);
  });
});
