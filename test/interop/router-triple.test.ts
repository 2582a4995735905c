/**
 * Dubbo Triple routing through the real proxy with @grpc/grpc-js on both ends: calls carrying
 * `tri-service-version` / `tri-service-group` metadata (what Triple clients send) are routed by
 * `match: { service, method, version, group }` to different clusters; calls without them fall to
 * the service-only route.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { startProxy, type Running } from '../fixtures/harness';
import { Echo, bindInsecure, type EchoClient, type EchoReply } from '../fixtures/grpc/echo';

/** A provider that answers every Unary call with its own name. */
async function provider(name: string): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(Echo.service, {
    Unary(call: grpc.ServerUnaryCall<{ message?: string }, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) {
      cb(null, { message: `${name}:${call.request.message ?? ''}`, index: 0 });
    },
  });
  const port = await bindInsecure(server);
  return { server, port };
}

function call(c: EchoClient, md: Record<string, string>): Promise<string> {
  const m = new grpc.Metadata();
  for (const [k, v] of Object.entries(md)) m.set(k, v);
  return new Promise((resolve, reject) => c.Unary({ message: 'hi' }, m, (e, r) => (e ? reject(e) : resolve(r!.message))));
}

describe('Triple routing keys with a gRPC client', () => {
  const providers: Array<{ server: grpc.Server; port: number }> = [];
  let proxy: Running;
  let client: EchoClient;

  before(async () => {
    for (const n of ['v1', 'v2', 'canary']) providers.push(await provider(n));
    const [v1, v2, canary] = providers;
    proxy = await startProxy(`
admin: null
access_log: false
listeners:
  - name: tri
    address: 127.0.0.1:0
    protocol: http
    routes:
      - { match: { service: switchyard.test.Echo, version: 2.0.0 }, cluster: v2 }
      - { match: { service: switchyard.test.Echo, method: Unary, group: canary }, cluster: canary }
      - { match: { service: switchyard.test.Echo }, cluster: v1 }
clusters:
  - { name: v1, protocol: http2, endpoints: [{ address: 127.0.0.1:${v1.port} }] }
  - { name: v2, protocol: http2, endpoints: [{ address: 127.0.0.1:${v2.port} }] }
  - { name: canary, protocol: http2, endpoints: [{ address: 127.0.0.1:${canary.port} }] }
`);
    client = new Echo(`127.0.0.1:${proxy.port}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
  });

  after(async () => {
    client.close();
    await proxy.stop();
    for (const p of providers) p.server.forceShutdown();
  });

  it('routes by tri-service-version', async () => {
    assert.equal(await call(client, { 'tri-service-version': '2.0.0' }), 'v2:hi');
  });

  it('routes by tri-service-group and method', async () => {
    assert.equal(await call(client, { 'tri-service-version': '1.0.0', 'tri-service-group': 'canary' }), 'canary:hi');
  });

  it('falls back to the service-only route without Triple metadata or with other values', async () => {
    assert.equal(await call(client, {}), 'v1:hi');
    assert.equal(await call(client, { 'tri-service-version': '3.0.0', 'tri-service-group': 'blue' }), 'v1:hi');
  });
});
