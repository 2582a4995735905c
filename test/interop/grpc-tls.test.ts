/**
 * gRPC over TLS (h2 chosen by ALPN) through the proxy with @grpc/grpc-js on both ends: unary and
 * streaming calls, a Trailers-Only error, and a deadline shorter than the route timeout that
 * ends in DEADLINE_EXCEEDED near the deadline (the upstream receives the shortened grpc-timeout).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { startProxy, type Running } from '../fixtures/harness';
import { registerH2Codecs } from '../fixtures/grpc/h2-peers';
import { Echo, bindInsecure, type EchoClient, type EchoReply, type EchoRequest } from '../fixtures/grpc/echo';
import { tlsFixture, type TlsFixture } from '../fixtures/tls';

describe('gRPC over TLS through the proxy', () => {
  let tls: TlsFixture;
  let server: grpc.Server;
  let proxy: Running;
  let client: EchoClient;
  const seenTimeouts: number[] = [];

  before(async () => {
    registerH2Codecs();
    tls = await tlsFixture();
    server = new grpc.Server();
    server.addService(Echo.service, {
      Unary(call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) {
        const d = call.getDeadline();
        seenTimeouts.push(d === Infinity ? Infinity : Number(d instanceof Date ? d.getTime() : d) - Date.now());
        if (call.request.fail_code) return cb({ code: call.request.fail_code, details: 'refused' } as grpc.ServiceError);
        if (call.request.message === 'slow') return void setTimeout(() => cb(null, { message: 'late', index: 0 }), 3000).unref();
        cb(null, { message: `tls:${call.request.message}`, index: 0 });
      },
      ServerStream(call: grpc.ServerWritableStream<EchoRequest, EchoReply>) {
        for (let i = 0; i < (call.request.repeat ?? 0); i++) call.write({ message: 'x', index: i });
        call.end();
      },
    });
    const port = await bindInsecure(server);
    proxy = await startProxy(`
admin: null
access_log: false
listeners:
  - name: tls
    address: 127.0.0.1:0
    protocol: http
    tls: { certificates: [{ cert: ${JSON.stringify(tls.a.cert)}, key: ${JSON.stringify(tls.a.key)}, sni: [a.example] }] }
    routes:
      - { match: { grpc: { service: switchyard.test.Echo } }, cluster: grpc, timeout: 10s }
clusters:
  - { name: grpc, protocol: http2, endpoints: [{ address: 127.0.0.1:${port} }] }
`);
    const creds = grpc.credentials.createSsl(readFileSync(tls.ca));
    client = new Echo(`127.0.0.1:${proxy.port}`, creds, { 'grpc.ssl_target_name_override': 'a.example' }) as unknown as EchoClient;
  });

  after(async () => {
    client.close();
    await proxy.stop();
    server.forceShutdown();
  });

  const unary = (req: EchoRequest, deadlineMs = 10_000) =>
    new Promise<{ reply?: EchoReply; err?: grpc.ServiceError }>((resolve) =>
      client.Unary(req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, reply) => resolve({ reply, err: err ?? undefined })),
    );

  it('unary and server-streaming calls', async () => {
    assert.equal((await unary({ message: 'hi' })).reply?.message, 'tls:hi');
    const got: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const s = client.ServerStream({ repeat: 5 });
      s.on('data', (r: EchoReply) => got.push(r.index));
      s.on('end', resolve);
      s.on('error', reject);
    });
    assert.deepEqual(got, [0, 1, 2, 3, 4]);
  });

  it('a Trailers-Only error reaches the client with its status', async () => {
    const r = await unary({ fail_code: grpc.status.NOT_FOUND });
    assert.equal(r.err?.code, grpc.status.NOT_FOUND);
    assert.equal(r.err?.details, 'refused');
  });

  it('ends a call near its deadline with DEADLINE_EXCEEDED, and tells the upstream', async () => {
    const t0 = Date.now();
    const r = await unary({ message: 'slow' }, 400);
    const took = Date.now() - t0;
    assert.equal(r.err?.code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(took < 2000, `took ${took} ms, not the 10 s route timeout`);
    const left = seenTimeouts.at(-1)!;
    assert.ok(left > 0 && left <= 400, `the upstream's deadline was ${left} ms away`);
  });
});
