/**
 * Bolt through the proxy between real SOFARPC peers nobody on this project wrote: sofa-rpc-node's
 * RpcServer as providers and RpcClient consumers pointed at the proxy's `protocol: bolt` listener.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { startProxy, type Running } from '../fixtures/harness';
import { installRpcAdapter } from '../../src/rpc';
import { boltCodec } from '../../protocols/bolt';
import { boltHeartbeat, boltRequest, decodeBolt } from '../fixtures/bolt-frames';
import type { FrameInfo } from '../../src/api';

// sofa-rpc-node ships no types.
const { RpcServer } = require('sofa-rpc-node').server as { RpcServer: any };
const { RpcClient } = require('sofa-rpc-node').client as { RpcClient: any };

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const ECHO = 'com.example.EchoService';
const OTHER = 'com.example.OtherService';

interface Provider {
  server: any;
  port: number;
  name: string;
  requests: number;
  connections: number;
  methods: string[];
}

async function startProvider(name: string, impl: (p: Provider) => Record<string, (...args: any[]) => unknown>): Promise<Provider> {
  const server = new RpcServer({ appName: name, port: 0, logger: quiet, publishAddress: '127.0.0.1' });
  const p: Provider = { server, port: 0, name, requests: 0, connections: 0, methods: [] };
  server.on('error', () => {});
  server.on('request', ({ req }: any) => {
    p.requests++;
    p.methods.push(req.data.methodName);
  });
  server.on('connection', () => p.connections++);
  server.addService({ interfaceName: ECHO }, impl(p));
  server.addService({ interfaceName: OTHER }, impl(p));
  await server.start();
  p.port = server.publishPort;
  assert.ok(p.port > 0);
  return p;
}

/** Sends raw frames to the proxy and reads whole Bolt frames back. */
async function rawCall(port: number, frames: Buffer[], want: number): Promise<Buffer[]> {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  const got: Buffer[] = [];
  let buf = Buffer.alloc(0);
  const done = new Promise<void>((resolve, reject) => {
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      for (;;) {
        const i = boltCodec.peek(buf);
        if (typeof i !== 'object' || 'code' in i || i.length > buf.length) break;
        got.push(buf.subarray(0, (i as FrameInfo).length));
        buf = buf.subarray((i as FrameInfo).length);
      }
      if (got.length >= want) resolve();
    });
    sock.on('error', reject);
    sock.on('close', () => (got.length >= want ? resolve() : reject(new Error(`closed after ${got.length} frames`))));
  });
  for (const f of frames) sock.write(f);
  await done;
  sock.destroy();
  return got;
}

describe('Bolt interop: sofa-rpc-node consumers → proxy → sofa-rpc-node providers', () => {
  let a: Provider;
  let b: Provider;
  let fragile: Provider;
  let slow: Provider;
  let proxy: Running;
  const clients: any[] = [];
  const releaseSlow: Array<() => void> = [];

  before(async () => {
    installRpcAdapter();
    const echoImpl = (p: Provider) => ({
      async echo(x: unknown) {
        return typeof x === 'string' && x.length > 1000 ? x : `${p.name}:${String(x)}`;
      },
      async shout(x: string) {
        return `${p.name}:${String(x).toUpperCase()}`;
      },
      async fail(msg: string) {
        throw new Error(msg);
      },
    });
    a = await startProvider('a', echoImpl);
    b = await startProvider('b', echoImpl);
    fragile = await startProvider('fragile', (p) => ({
      async fragile() {
        // the provider dies mid-call: every connection is cut before it answers
        for (const conn of p.server._connections.values()) conn.socket.destroy();
        return new Promise(() => {});
      },
    }));
    slow = await startProvider('slow', () => ({
      async slow(x: string) {
        return new Promise((resolve) => releaseSlow.push(() => resolve(x)));
      },
    }));
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: bolt-in
    address: 127.0.0.1:0
    protocol: bolt
    routes:
      - match: { service: "${ECHO}:1.0", method: shout }
        cluster: b
      - match: { service: "${ECHO}:1.0" }
        cluster: a
      - match: { service: "${OTHER}:1.0", method: fragile }
        cluster: fragile
      - match: { service: "${OTHER}:1.0", method: slow }
        cluster: slow
      - match: { service: "${OTHER}:1.0" }
        cluster: b
clusters:
  - { name: a, protocol: bolt, endpoints: [{ address: "127.0.0.1:${a.port}" }] }
  - { name: b, protocol: bolt, endpoints: [{ address: "127.0.0.1:${b.port}" }] }
  - { name: fragile, protocol: bolt, endpoints: [{ address: "127.0.0.1:${fragile.port}" }] }
  - { name: slow, protocol: bolt, endpoints: [{ address: "127.0.0.1:${slow.port}" }] }
`);
  });

  after(async () => {
    for (const r of releaseSlow) r();
    for (const c of clients) await c.close();
    await proxy?.stop();
    for (const p of [a, b, fragile, slow]) if (p) await p.server.close();
  });

  function consumer(interfaceName: string, responseTimeout = 3000): any {
    const client = new RpcClient({ logger: quiet });
    client.on('error', () => {});
    clients.push(client);
    // retryFaultInterval: its reconnect loop sleeps this long before it notices close()
    return client.createConsumer({ interfaceName, serverHost: `127.0.0.1:${proxy.port}`, responseTimeout, retryFaultInterval: 200 });
  }

  it('many concurrent calls from two clients share multiplexed upstream connections; each gets its own answer', async () => {
    const c1 = consumer(ECHO);
    const c2 = consumer(ECHO);
    await Promise.all([c1.ready(), c2.ready()]);
    const before = a.requests;
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 150; i++) {
      for (const [tag, c] of [
        ['one', c1],
        ['two', c2],
      ] as const) {
        calls.push(
          c.invoke('echo', [`${tag}-${i}`]).then((r: string) => {
            assert.equal(r, `a:${tag}-${i}`);
          }),
        );
      }
    }
    await Promise.all(calls);
    assert.equal(a.requests - before, 300);
    assert.equal(a.connections, 1, 'both downstream connections were multiplexed onto one upstream connection');
  });

  it('routes by service and by method to different clusters', async () => {
    const echo = consumer(ECHO);
    const other = consumer(OTHER);
    assert.equal(await echo.invoke('echo', ['x']), 'a:x');
    assert.equal(await echo.invoke('shout', ['x']), 'b:X');
    assert.equal(await other.invoke('echo', ['y']), 'b:y');
    assert.ok(b.methods.includes('shout'));
    assert.ok(!a.methods.includes('shout'));
  });

  it('a 1 MB argument round-trips', async () => {
    const c = consumer(ECHO, 10_000);
    const big = 'abcdefghij'.repeat(104_858);
    const r = await c.invoke('echo', [big]);
    assert.equal(r.length, big.length);
    assert.equal(r, big);
  });

  it('a provider exception reaches the client as that exception', async () => {
    const c = consumer(ECHO);
    await assert.rejects(c.invoke('fail', ['kaboom 42']), (e: Error) => e.message.includes('kaboom 42'));
  });

  it('heartbeats are answered and never reach the provider', async () => {
    const before = a.requests + b.requests;
    const acks = await rawCall(proxy.port, [boltHeartbeat(901, 'v1'), boltHeartbeat(902, 'v2crc')], 2);
    const ids = acks.map((f) => decodeBolt(f)).map((p) => [p.packetType, p.packetId]);
    assert.deepEqual(ids.sort(), [
      ['heartbeat_ack', 901],
      ['heartbeat_ack', 902],
    ]);
    // a request after the heartbeats still works, and only it reached a provider
    const [res] = await rawCall(proxy.port, [boltRequest({ id: 903, service: `${ECHO}:1.0`, method: 'echo', args: ['hb'] })], 1);
    assert.equal(decodeBolt(res).data.appResponse, 'a:hb');
    assert.equal(a.requests + b.requests - before, 1);
  });

  it('v2 frames with CRC pass through with rewritten ids', async () => {
    const frames = [1, 2, 3].map((i) => boltRequest({ id: 7000 + i, service: `${ECHO}:1.0`, method: 'echo', args: [`v2-${i}`], variant: 'v2crc' }));
    const res = await rawCall(proxy.port, frames, 3);
    const got = res.map((f) => decodeBolt(f)).map((p) => [p.packetId, p.data.appResponse]);
    assert.deepEqual(got.sort(), [
      [7001, 'a:v2-1'],
      [7002, 'a:v2-2'],
      [7003, 'a:v2-3'],
    ]);
  });

  it('the request timeout field is honoured: a slower provider gives the client a timeout error', async () => {
    // raw client: the only possible answer is the proxy's own timeout reply
    const [res] = await rawCall(proxy.port, [boltRequest({ id: 501, service: `${OTHER}:1.0`, method: 'slow', timeout: 300 })], 1);
    const i = boltCodec.peek(res) as FrameInfo;
    assert.equal(i.status, 7, `Bolt TIMEOUT: ${String(decodeBolt(res).data.error)}`);
    assert.equal(decodeBolt(res).packetId, 501);
    // sofa-rpc-node consumer: a timeout error, from the proxy's reply or its own timer
    const c = consumer(OTHER, 400);
    await assert.rejects(c.invoke('slow', ['z']), (e: Error) => /timeout|no response/i.test(`${e.name} ${e.message}`));
  });

  it('the provider killed mid-call gives an error, not a hang', async () => {
    const c = consumer(OTHER, 20_000);
    await assert.rejects(c.invoke('fragile', ['q']), (e: Error) => {
      assert.notEqual(e.name, 'RpcResponseTimeoutError', 'the proxy answered, the client did not have to time out');
      assert.match(e.message, /upstream/, 'the message of the proxy\'s local reply');
      return true;
    });
  });
});
