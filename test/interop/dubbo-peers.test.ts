/**
 * Dubbo through the proxy between peers nobody on this project wrote: providers are sofa-rpc-node
 * RpcServers speaking dubbo-remoting; consumers are sofa-rpc-node's RpcClient and apache-dubbo-js's
 * DirectlyDubbo, both pointed at a `protocol: dubbo` listener.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { installRpcAdapter } from '../../src/rpc';
import '../../protocols/dubbo';
import { startProxy, type Running } from '../fixtures/harness';
import { heartbeatRequestFrame } from '../fixtures/dubbo-frames';

/* eslint-disable @typescript-eslint/no-var-requires */
const sofa = require('sofa-rpc-node') as any;
const dubboProtocol = require('dubbo-remoting');
const dubboJs = require('apache-dubbo-js') as any;
/* eslint-enable @typescript-eslint/no-var-requires */

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const GREETER = 'com.example.Greeter';
const OTHER = 'com.example.Other';
const DYING = 'com.example.Dying';

interface Provider {
  name: string;
  server: any;
  port: number;
  /** Business handler invocations, by method. */
  calls: Map<string, number>;
  /** Sockets accepted (upstream connections from the proxy). */
  accepted: number;
  sockets: Set<net.Socket>;
  onCall: ((method: string) => void) | null;
  /** Attachments of the last request, as dubbo-remoting decoded them. */
  lastAttachments: Record<string, unknown> | null;
}

async function startProvider(name: string, services: Record<string, Record<string, (...a: any[]) => Promise<unknown>>>): Promise<Provider> {
  const p: Provider = { name, server: null, port: 0, calls: new Map(), accepted: 0, sockets: new Set(), onCall: null, lastAttachments: null };
  const server = new sofa.server.RpcServer({ logger: quiet, protocol: dubboProtocol, port: 0 });
  for (const [iface, methods] of Object.entries(services)) {
    const impl: Record<string, (...a: any[]) => Promise<unknown>> = {};
    for (const [m, fn] of Object.entries(methods)) {
      // sofa-rpc-node only calls AsyncFunctions
      impl[m] = async (...args: any[]) => {
        p.calls.set(m, (p.calls.get(m) ?? 0) + 1);
        p.onCall?.(m);
        return fn(...args);
      };
    }
    server.addService({ interfaceName: iface, version: '1.0.0', group: 'blue' }, impl);
  }
  await server.start();
  // RpcServer listens on every interface with no host option; count what the proxy opens to it
  for (const s of server._servers as net.Server[]) {
    s.on('connection', (sock: net.Socket) => {
      p.accepted++;
      p.sockets.add(sock);
      sock.on('close', () => p.sockets.delete(sock));
    });
  }
  server.on('request', ({ req }: any) => (p.lastAttachments = req.data?.requestProps ?? null));
  p.server = server;
  p.port = server.publishPort;
  return p;
}

let a: Provider;
let b: Provider;
let dying: Provider;
let proxy: Running;
let sofaClient: any;
let dubboJsClient: any;
const consumers: Record<string, any> = {};
let filteredConsumer: any;
const jsServices: Record<string, any> = {};

function callCount(p: Provider, method: string): number {
  return p.calls.get(method) ?? 0;
}

before(async () => {
  a = await startProvider('a', {
    [GREETER]: {
      sayHello: async (n: string) => `hello ${n} from a`,
      echo: async (x: unknown) => x,
      whoami: async () => 'a',
      fail: async () => {
        throw new Error('boom from provider');
      },
    },
  });
  b = await startProvider('b', {
    [GREETER]: { whoami: async () => 'b' },
    [OTHER]: { whoami: async () => 'b-other' },
  });
  dying = await startProvider('dying', { [DYING]: { hang: () => new Promise(() => {}) } });

  installRpcAdapter();
  proxy = await startProxy(`
access_log: false
listeners:
  - name: dubbo-in
    address: 127.0.0.1:0
    protocol: dubbo
    routes:
      - match: { service: ${GREETER}, method: whoami }
        cluster: b
      - match: { service: ${OTHER} }
        cluster: b
      - match: { service: ${DYING} }
        cluster: dying
        timeout: 5s
      - match: { service: ${GREETER} }
        cluster: a
        timeout: 10s
  - name: dubbo-filtered
    address: 127.0.0.1:0
    protocol: dubbo
    filters:
      - { name: headers, config: { request: { set: { x-env: canary } } } }
    routes:
      - match: { service: ${GREETER} }
        cluster: a
clusters:
  - name: a
    protocol: dubbo
    endpoints: [{ address: 127.0.0.1:${a.port} }]
  - name: b
    protocol: dubbo
    endpoints: [{ address: 127.0.0.1:${b.port} }]
  - name: dying
    protocol: dubbo
    endpoints: [{ address: 127.0.0.1:${dying.port} }]
`);
  const serverHost = `127.0.0.1:${proxy.port}`;
  sofaClient = new sofa.client.RpcClient({ logger: quiet, protocol: dubboProtocol });
  for (const iface of [GREETER, OTHER, DYING]) {
    // retryFaultInterval: the address group sleeps that long (uncancellable) after a failed call
    consumers[iface] = sofaClient.createConsumer({ interfaceName: iface, version: '1.0.0', group: 'blue', serverHost, retryFaultInterval: 200 });
    await consumers[iface].ready();
  }
  filteredConsumer = sofaClient.createConsumer({
    interfaceName: GREETER,
    version: '1.0.0',
    group: 'blue',
    serverHost: `127.0.0.1:${proxy.server.listenerPort('dubbo-filtered')}`,
    retryFaultInterval: 200,
  });
  await filteredConsumer.ready();
  dubboJsClient = dubboJs.DirectlyDubbo.from({ dubboAddress: serverHost, dubboVersion: '2.0.2', dubboInvokeTimeout: 20 });
  const java = dubboJs.java;
  jsServices[GREETER] = dubboJsClient.proxyService({
    dubboInterface: GREETER,
    version: '1.0.0',
    group: 'blue',
    methods: {
      sayHello: (n: string) => [java.String(n)],
      echo: (x: string) => [java.String(x)],
      whoami: () => [],
      fail: () => [],
    },
  });
  jsServices[OTHER] = dubboJsClient.proxyService({ dubboInterface: OTHER, version: '1.0.0', group: 'blue', methods: { whoami: () => [] } });
});

after(async () => {
  await sofaClient?.close();
  const w = dubboJsClient?._socketWorker;
  if (w) {
    w._retry = 0;
    clearTimeout(w._retryTimeoutId);
    clearInterval(w._heartBeatTimer);
    w._socket?.destroy();
  }
  await proxy?.stop();
  for (const p of [a, b, dying]) {
    if (!p) continue;
    for (const s of p.sockets) s.destroy();
    await p.server.close();
  }
});

const sofaCall = (iface: string, method: string, args: unknown[], timeout = 15_000) =>
  consumers[iface].invoke(method, args, { responseTimeout: timeout });

async function jsCall(iface: string, method: string, ...args: unknown[]): Promise<unknown> {
  const { res, err } = await jsServices[iface][method](...args);
  if (err) throw err;
  return res;
}

test('both consumers get answers through the proxy', async () => {
  assert.equal(await sofaCall(GREETER, 'sayHello', ['sofa']), 'hello sofa from a');
  assert.equal(await jsCall(GREETER, 'sayHello', 'js'), 'hello js from a');
});

test('many concurrent calls from two clients share multiplexed upstream connections', async () => {
  const before = callCount(a, 'echo');
  const N = 150;
  const calls: Array<Promise<void>> = [];
  for (let i = 0; i < N; i++) {
    calls.push(sofaCall(GREETER, 'echo', [`sofa-${i}`]).then((r: unknown) => assert.equal(r, `sofa-${i}`)));
    calls.push(jsCall(GREETER, 'echo', `js-${i}`).then((r) => assert.equal(r, `js-${i}`)));
  }
  await Promise.all(calls);
  assert.equal(callCount(a, 'echo') - before, 2 * N);
  // two downstream connections, 300 calls in flight: the proxy kept to its multiplexed connection(s)
  assert.ok(a.accepted >= 1 && a.accepted <= 2, `upstream connections to a: ${a.accepted}`);
});

test('a provider exception reaches each client as that exception', async () => {
  await assert.rejects(sofaCall(GREETER, 'fail', []), /boom from provider/);
  await assert.rejects(jsCall(GREETER, 'fail'), /boom from provider/);
  assert.equal(await sofaCall(GREETER, 'sayHello', ['after']), 'hello after from a', 'the connection survives');
});

test('a 1 MB argument round-trips unchanged', async () => {
  const big = ('0123456789abcdef'.repeat(1 << 16) + 'é😀').slice(0);
  assert.equal(await sofaCall(GREETER, 'echo', [big]), big);
  assert.equal(await jsCall(GREETER, 'echo', big), big);
});

test('routing by service and by method to different clusters', async () => {
  assert.equal(await sofaCall(GREETER, 'whoami', []), 'b', 'Greeter.whoami is routed by method to b');
  assert.equal(await jsCall(GREETER, 'whoami'), 'b');
  assert.equal(await sofaCall(OTHER, 'whoami', []), 'b-other', 'Other is routed by service to b');
  assert.equal(await jsCall(OTHER, 'whoami'), 'b-other');
  assert.equal(callCount(a, 'whoami'), 0);
  assert.equal(await sofaCall(GREETER, 'sayHello', ['r']), 'hello r from a');
});

test('heartbeats are answered and never reach a business handler', async () => {
  const totals = () => [a, b, dying].reduce((n, p) => n + [...p.calls.values()].reduce((x, y) => x + y, 0), 0);
  const before = totals();
  const sock = net.connect(proxy.port, '127.0.0.1');
  await once(sock, 'connect');
  const id = 2n ** 60n + 5n;
  sock.write(heartbeatRequestFrame(id));
  const [reply] = (await once(sock, 'data')) as [Buffer];
  sock.destroy();
  assert.equal(reply.readUInt16BE(0), 0xdabb);
  assert.equal(reply[2] & 0xe0, 0x20, 'an event response');
  assert.equal(reply[3], 20);
  assert.equal(reply.readBigUInt64BE(4), id);
  assert.equal(totals(), before);
});

test('a provider killed mid-call gives an error within the route timeout, not a hang', async () => {
  const arrived = new Promise<void>((resolve) => (dying.onCall = () => resolve()));
  const call = sofaCall(DYING, 'hang', [], 20_000);
  const outcome = call.then(
    () => 'answered',
    (e: Error) => e,
  );
  await arrived;
  for (const s of dying.sockets) s.destroy();
  dying.server._servers.forEach((s: net.Server) => s.close());
  const e = await outcome;
  assert.ok(e instanceof Error, `expected an error, got ${String(e)}`);
  // the proxy's local reply (SERVER_ERROR with its message), not the client's own 20 s timer
  assert.match(e.message, /upstream|closed|reset/i);
  assert.doesNotMatch(e.message, /timeout/i);
});

test('a filter that changes attachments: re-encoded request, arguments intact', async () => {
  const arg = 'é😀'.repeat(5000) + 'end';
  assert.equal(await filteredConsumer.invoke('echo', [arg], { responseTimeout: 15_000 }), arg);
  const att = a.lastAttachments ?? {};
  assert.equal(att['x-env'], 'canary');
  assert.equal(att.group, 'blue', 'untouched attachments kept');
  assert.equal(att.path, GREETER);
  assert.equal(await sofaCall(GREETER, 'echo', ['plain']), 'plain');
  assert.equal((a.lastAttachments ?? {})['x-env'], undefined, 'the other listener forwards unchanged');
});
