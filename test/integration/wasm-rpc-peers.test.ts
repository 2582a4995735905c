/**
 * WASM filters on RPC streams through the real proxy, between peers nobody on this project wrote:
 * sofa-rpc-node consumers and providers speaking Dubbo (via dubbo-remoting) and Bolt. A filter sees
 * routing keys and attachments as request headers (UTF-8), changes attachments the provider then
 * sees, reads the payload as the request body, and answers locally: the client gets the protocol's
 * own error carrying the filter's message.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { registerFilter, registry, type FrameInfo } from '../../src/api';
import { installRpcAdapter } from '../../src/rpc';
import { wasmFilterFactory } from '../../src/wasm';
import { dubboCodec } from '../../protocols/dubbo';
import { boltCodec } from '../../protocols/bolt';
import '../../protocols/dubbo';
import '../../protocols/bolt';
import { startProxy, type Running } from '../fixtures/harness';
import { requestFrame } from '../fixtures/dubbo-frames';
import { boltRequest, decodeBolt, withHeaderMap } from '../fixtures/bolt-frames';
import { buildFixture } from '../fixtures/wasm/build';
import { build as sdkBuild } from '../fixtures/wasm-sdk/load';

/* eslint-disable @typescript-eslint/no-var-requires */
const sofa = require('sofa-rpc-node') as any;
const dubboProtocol = require('dubbo-remoting');
const boltProtocol = require('sofa-bolt-node');
/* eslint-enable @typescript-eslint/no-var-requires */

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const GREETER = 'com.example.Greeter';
const ECHO = 'com.example.EchoService';

interface Provider {
  server: any;
  port: number;
  calls: number;
  /** Dubbo: attachments as dubbo-remoting decoded them. Bolt: the header map on the wire. */
  last: Record<string, unknown> | null;
  sockets: Set<net.Socket>;
}

function wasmFilter(module: string, configuration: unknown): string {
  return `      - { name: wasm, config: { module: ${JSON.stringify(module)}, configuration: ${JSON.stringify(typeof configuration === 'string' ? configuration : JSON.stringify(configuration))} } }`;
}

/** Reads whole Bolt request frames off a provider's sockets and keeps the last header map. */
function tapBolt(p: Provider, sock: net.Socket): void {
  let buf = Buffer.alloc(0);
  sock.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    for (;;) {
      const i = boltCodec.peek(buf);
      if (typeof i !== 'object' || !('kind' in i) || i.length > buf.length) return;
      const frame = Buffer.from(buf.subarray(0, i.length));
      buf = buf.subarray(i.length);
      if (i.kind === 'request') p.last = boltCodec.requestHeaders(frame, i).toObject();
    }
  });
}

async function startProvider(kind: 'dubbo' | 'bolt'): Promise<Provider> {
  const p: Provider = { server: null, port: 0, calls: 0, last: null, sockets: new Set() };
  const server =
    kind === 'dubbo'
      ? new sofa.server.RpcServer({ logger: quiet, protocol: dubboProtocol, port: 0 })
      : new sofa.server.RpcServer({ appName: 'bolt-p', logger: quiet, port: 0, publishAddress: '127.0.0.1' });
  server.on('error', () => {});
  const impl = {
    async echo(x: unknown) {
      p.calls++;
      return x;
    },
  };
  if (kind === 'dubbo') server.addService({ interfaceName: GREETER, version: '1.0.0', group: 'blue' }, impl);
  else server.addService({ interfaceName: ECHO }, impl);
  await server.start();
  for (const s of server._servers as net.Server[]) {
    s.on('connection', (sock: net.Socket) => {
      p.sockets.add(sock);
      sock.on('close', () => p.sockets.delete(sock));
      if (kind === 'bolt') tapBolt(p, sock);
    });
  }
  if (kind === 'dubbo') server.on('request', ({ req }: any) => (p.last = req.data?.requestProps ?? null));
  p.server = server;
  p.port = server.publishPort;
  return p;
}

async function stopProvider(p: Provider | undefined): Promise<void> {
  if (p === undefined) return;
  for (const s of p.sockets) s.destroy();
  await p.server.close();
}

/** Sends one raw frame and returns the first whole response frame. */
async function rawCall(port: number, frame: Buffer, peek: (b: Buffer) => unknown): Promise<Buffer> {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  let buf = Buffer.alloc(0);
  const got = new Promise<Buffer>((resolve, reject) => {
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const i = peek(buf) as FrameInfo | string | object;
      if (typeof i === 'object' && 'length' in i && i.length <= buf.length) resolve(buf.subarray(0, i.length));
    });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error('closed before a response')));
  });
  sock.write(frame);
  try {
    return await got;
  } finally {
    sock.destroy();
  }
}

let authWasm: string;
let addHeaderWasm: string;
let rpcWasm: string;

before(async () => {
  if (registry.filter('wasm') === undefined) registerFilter(wasmFilterFactory);
  installRpcAdapter();
  const [examples, rpc] = await Promise.all([sdkBuild.buildAll({ names: ['auth', 'add-header'] }), buildFixture('rpc')]);
  authWasm = examples.find((e) => e.name === 'auth')!.file;
  addHeaderWasm = examples.find((e) => e.name === 'add-header')!.file;
  rpcWasm = rpc;
});

const ADD = { request_headers_to_add: [{ name: 'x-added', value: 'by-wasm' }] };

describe('wasm filters on Dubbo streams (sofa-rpc-node + dubbo-remoting)', () => {
  let provider: Provider;
  let proxy: Running;
  let client: any;
  let authed: any;
  let open: any;

  before(async () => {
    provider = await startProvider('dubbo');
    proxy = await startProxy(`
admin: null
access_log: false
listeners:
  - name: dubbo-auth
    address: 127.0.0.1:0
    protocol: dubbo
    filters:
${wasmFilter(authWasm, { header: 'token', tokens: ['s3cret'] })}
${wasmFilter(addHeaderWasm, ADD)}
    routes: [{ match: { service: ${GREETER} }, cluster: p }]
  - name: dubbo-rpc
    address: 127.0.0.1:0
    protocol: dubbo
    filters:
${wasmFilter(rpcWasm, 'open')}
    routes: [{ match: { service: ${GREETER} }, cluster: p }]
clusters:
  - { name: p, protocol: dubbo, endpoints: [{ address: 127.0.0.1:${provider.port} }] }
`);
    client = new sofa.client.RpcClient({ logger: quiet, protocol: dubboProtocol });
    const consumer = (listener: string) =>
      client.createConsumer({
        interfaceName: GREETER,
        version: '1.0.0',
        group: 'blue',
        serverHost: `127.0.0.1:${proxy.server.listenerPort(listener)}`,
        retryFaultInterval: 200,
      });
    authed = consumer('dubbo-auth');
    open = consumer('dubbo-rpc');
    await Promise.all([authed.ready(), open.ready()]);
  });

  after(async () => {
    await client?.close();
    await proxy?.stop();
    await stopProvider(provider);
  });

  const call = (c: any, arg: unknown, props?: Record<string, string>) =>
    c.invoke('echo', [arg], { responseTimeout: 10_000, requestProps: props });

  it('the auth example reads the token attachment; add-header adds an attachment the provider sees', async () => {
    assert.equal(await call(authed, 'hi', { token: 's3cret' }), 'hi');
    const att = provider.last ?? {};
    assert.equal(att['x-added'], 'by-wasm');
    assert.equal(att.token, 's3cret');
    assert.equal(att.group, 'blue', 'untouched attachments kept');
  });

  it('a denied call reaches the client as a Dubbo error carrying the filter\'s message', async () => {
    const before = provider.calls;
    await assert.rejects(call(authed, 'x'), /auth_missing_token/);
    await assert.rejects(call(authed, 'x', { token: 'nope' }), /auth_invalid_token/);
    assert.equal(provider.calls, before, 'the provider never saw the denied calls');
    // On the wire: a Dubbo response with an error status (401 → 40 BAD_REQUEST) and our message.
    const res = await rawCall(proxy.server.listenerPort('dubbo-auth'), requestFrame({ id: 77n, method: 'echo', args: ['x'] }), (b) => dubboCodec.peek(b));
    assert.equal(res.readBigUInt64BE(4), 77n);
    assert.equal(res[3], 40);
    assert.match(res.toString('latin1'), /auth_missing_token/);
  });

  it('routing keys and attachments are request headers (UTF-8 both ways); payload is the body', async () => {
    assert.equal(await call(open, 'plain', { 'x-note': 'héllo 😀' }), 'plain');
    const att = provider.last ?? {};
    assert.equal(att['x-wasm-service'], GREETER);
    assert.equal(att['x-wasm-method'], 'echo');
    assert.equal(att['x-note'], 'héllo 😀 ✓');
    const before = provider.calls;
    await assert.rejects(call(open, 'a forbidden argument'), /rpc_forbidden_argument/);
    assert.equal(provider.calls, before);
  });
});

describe('wasm filters on Bolt streams (sofa-rpc-node)', () => {
  let provider: Provider;
  let proxy: Running;
  const clients: any[] = [];

  before(async () => {
    provider = await startProvider('bolt');
    proxy = await startProxy(`
admin: null
access_log: false
listeners:
  - name: bolt-guard
    address: 127.0.0.1:0
    protocol: bolt
    filters:
${wasmFilter(rpcWasm, 'guard')}
    routes: [{ match: { service: "${ECHO}:1.0" }, cluster: p }]
  - name: bolt-open
    address: 127.0.0.1:0
    protocol: bolt
    filters:
${wasmFilter(rpcWasm, 'open')}
${wasmFilter(addHeaderWasm, ADD)}
    routes: [{ match: { service: "${ECHO}:1.0" }, cluster: p }]
clusters:
  - { name: p, protocol: bolt, endpoints: [{ address: "127.0.0.1:${provider.port}" }] }
`);
  });

  after(async () => {
    for (const c of clients) await c.close();
    await proxy?.stop();
    await stopProvider(provider);
  });

  async function consumer(listener: string): Promise<any> {
    // An explicit protocol: RpcClient({ protocol }) overwrites sofa-rpc-node's shared default, so
    // after the Dubbo client above a client without one would speak Dubbo.
    const client = new sofa.client.RpcClient({ logger: quiet, protocol: boltProtocol });
    client.on('error', () => {});
    clients.push(client);
    const c = client.createConsumer({
      interfaceName: ECHO,
      serverHost: `127.0.0.1:${proxy.server.listenerPort(listener)}`,
      responseTimeout: 10_000,
      retryFaultInterval: 200,
    });
    await c.ready();
    return c;
  }

  it('a denied call reaches the sofa-rpc-node client as a Bolt error carrying the filter\'s message', async () => {
    const c = await consumer('bolt-guard');
    const before = provider.calls;
    await assert.rejects(c.invoke('echo', ['x']), (e: Error) => {
      assert.match(e.message, /rpc_denied: no token/);
      return true;
    });
    assert.equal(provider.calls, before);
  });

  it('a header-map token lets a call through; a wrong one gets a Bolt error status with the message', async () => {
    const port = proxy.server.listenerPort('bolt-guard');
    const frame = (id: number, token: string) =>
      withHeaderMap(boltRequest({ id, service: `${ECHO}:1.0`, method: 'echo', args: ['tok'] }), { service: `${ECHO}:1.0`, token });
    const ok = await rawCall(port, frame(31, 's3cret'), (b) => boltCodec.peek(b));
    assert.equal(decodeBolt(ok).data.appResponse, 'tok');
    assert.equal(provider.last?.['x-wasm-service'], `${ECHO}:1.0`);
    assert.equal(provider.last?.['x-wasm-method'], 'echo', 'the lazily decoded method key');
    assert.equal(provider.last?.token, 's3cret');
    const denied = await rawCall(port, frame(32, 'wrong'), (b) => boltCodec.peek(b));
    const info = boltCodec.peek(denied) as FrameInfo;
    assert.notEqual(info.status, 0, 'a Bolt error status');
    assert.equal(decodeBolt(denied).packetId, 32);
    assert.match(denied.toString('latin1'), /rpc_denied: bad token/);
  });

  it('attachments added by two filters reach the provider; the payload is the body', async () => {
    const c = await consumer('bolt-open');
    assert.equal(await c.invoke('echo', ['hello']), 'hello');
    assert.equal(provider.last?.['x-added'], 'by-wasm');
    assert.equal(provider.last?.['x-wasm-method'], 'echo');
    const before = provider.calls;
    await assert.rejects(c.invoke('echo', ['forbidden fruit']), /rpc_forbidden_argument/);
    assert.equal(provider.calls, before);
  });
});
