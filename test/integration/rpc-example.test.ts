/**
 * The example RPC protocol end to end through the real proxy, loaded only through `plugins:`:
 * multiplexed upstream connections shared by several clients, one-way calls, heartbeats answered
 * by the proxy, upstream failures, clients leaving mid-call, routing by service and method,
 * protocol errors, and `protocol: auto` serving the example codec and HTTP/1.1 on one port.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as net from 'node:net';
import { once } from 'node:events';
import { metricValue, rawExchange, request, startProxy, type Running } from '../fixtures/harness';
import { registerBuiltins } from '../../src/builtins';
import { registerCodec, registry } from '../../src/api';
import { installRpcAdapter } from '../../src/rpc';
import { autoListener } from '../../src/listener/sniff';
import { ExampleClient, ExampleServer, type ExampleMessage, type ExampleReply } from '../../protocols/example/peer';
import { encodeFrame, Status } from '../../protocols/example/codec';

const PLUGIN = join(__dirname, '..', '..', 'protocols', 'example', 'index.js');

/** What src/builtins.ts will do once the lead wires it (idempotent here). */
function wire(): void {
  registerBuiltins();
  installRpcAdapter();
  if (registry.codec('auto') === undefined) registerCodec({ name: 'auto', listener: autoListener });
}

function named(name: string, hold?: Map<string, Array<(r: ExampleReply | null) => void>>) {
  return (req: ExampleMessage): ExampleReply | null | Promise<ExampleReply | null> => {
    const method = req.headers.method ?? '';
    if (method === 'hang' && hold !== undefined) {
      return new Promise((resolve) => {
        const list = hold.get(name) ?? [];
        list.push(resolve);
        hold.set(name, list);
      });
    }
    const body = { by: name, service: req.headers.service, method, payload: req.payload.toString() };
    const reply = { headers: { 'x-served-by': name }, payload: JSON.stringify(body) };
    if (method === 'slow') {
      // answer later, in an order unrelated to arrival
      return new Promise((resolve) => setTimeout(() => resolve(reply), Math.floor(Math.random() * 5)));
    }
    return reply;
  };
}

describe('example RPC protocol through the proxy', () => {
  let a: ExampleServer;
  let b: ExampleServer;
  let proxy: Running;
  let autoPort: number;
  const hold = new Map<string, Array<(r: ExampleReply | null) => void>>();

  before(async () => {
    wire();
    a = await ExampleServer.listen(named('a', hold));
    b = await ExampleServer.listen(named('b', hold));
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
plugins: [${JSON.stringify(PLUGIN)}]
listeners:
  - name: rpc
    address: 127.0.0.1:0
    protocol: example
    routes:
      - match: { service: com.example.Greeter, method: sayHello }
        cluster: a
      - match: { service: com.example.Greeter }
        cluster: b
      - match: { service: com.example.Slow }
        cluster: a
        timeout: 150ms
      - match: { service: com.example.Hang }
        cluster: a
  - name: mixed
    address: 127.0.0.1:0
    protocol: auto
    routes:
      - match: { prefix: /health }
        direct_response: { status: 200, body: "ok\\n" }
      - match: { service: com.example.Greeter }
        cluster: a
clusters:
  - name: a
    protocol: example
    endpoints: [{ address: ${a.address} }]
  - name: b
    protocol: example
    endpoints: [{ address: ${b.address} }]
`);
    autoPort = proxy.server.listenerPort('mixed');
  });

  after(async () => {
    await proxy?.stop();
    await a?.close();
    await b?.close();
  });

  it('answers many concurrent calls from several clients over one shared upstream connection', async () => {
    const before = a.connectionsAccepted;
    const clients = await Promise.all([1, 2, 3, 4].map(() => ExampleClient.connect(proxy.port)));
    const calls: Array<Promise<void>> = [];
    clients.forEach((c, ci) => {
      for (let i = 0; i < 40; i++) {
        const tag = `client${ci}-call${i}`;
        calls.push(
          c.call('com.example.Greeter', 'sayHello', tag).then((m) => {
            assert.equal(m.kind, 'response');
            assert.equal(m.status, Status.OK, `${m.headers.reason}: ${m.headers.message}`);
            const body = JSON.parse(m.payload.toString());
            assert.equal(body.by, 'a');
            assert.equal(body.payload, tag, 'each client gets its own answer');
          }),
        );
      }
    });
    await Promise.all(calls);
    assert.ok(a.connectionsAccepted - before <= 1, `one multiplexed upstream connection (opened ${a.connectionsAccepted - before})`);
    for (const c of clients) c.close();
  });

  it('matches answers that come back out of order', async () => {
    const c = await ExampleClient.connect(proxy.port);
    const got = await Promise.all(Array.from({ length: 30 }, (_, i) => c.call('com.example.Greeter', 'slow', `n${i}`)));
    got.forEach((m, i) => {
      assert.equal(m.status, Status.OK);
      assert.equal(JSON.parse(m.payload.toString()).payload, `n${i}`);
    });
    c.close();
  });

  it('routes by service and method to different clusters, and answers unknown services itself', async () => {
    const c = await ExampleClient.connect(proxy.port);
    const [hello, bye, none] = await Promise.all([
      c.call('com.example.Greeter', 'sayHello', 'x'),
      c.call('com.example.Greeter', 'sayBye', 'y'),
      c.call('com.example.Nope', 'x'),
    ]);
    assert.equal(hello.headers['x-served-by'], 'a');
    assert.equal(bye.headers['x-served-by'], 'b');
    assert.equal(JSON.parse(bye.payload.toString()).method, 'sayBye');
    assert.equal(none.status, Status.NOT_FOUND);
    assert.equal(none.headers.reason, 'no_route');
    c.close();
  });

  it('forwards one-way calls and never answers them', async () => {
    const c = await ExampleClient.connect(proxy.port);
    const before = a.oneWay;
    for (let i = 0; i < 5; i++) c.send('com.example.Greeter', 'sayHello', `ow${i}`);
    await a.waitFor(() => a.oneWay >= before + 5);
    // a two-way call after them: its answer is the only frame the client ever gets
    const r = await c.call('com.example.Greeter', 'sayHello', 'after');
    assert.equal(r.status, Status.OK);
    assert.deepEqual(
      c.received.map((m) => m.id),
      [r.id],
    );
    c.close();
  });

  it('answers client heartbeats itself; they never reach the backend', async () => {
    const c = await ExampleClient.connect(proxy.port);
    const hbA = a.heartbeats;
    const hbB = b.heartbeats;
    const reqA = a.requests;
    const reqB = b.requests;
    const r = await c.heartbeat();
    assert.equal(r.kind, 'heartbeat-response');
    await c.heartbeat();
    assert.equal(a.heartbeats + b.heartbeats, hbA + hbB);
    assert.equal(a.requests + b.requests, reqA + reqB);
    c.close();
  });

  it('answers an error at once when the upstream dies mid-call, and recovers', async () => {
    const c = await ExampleClient.connect(proxy.port);
    const pending = c.call('com.example.Hang', 'hang', 'x');
    await a.waitFor(() => (hold.get('a')?.length ?? 0) > 0);
    hold.set('a', []);
    a.killConnections();
    const r = await pending;
    assert.equal(r.status, Status.UNAVAILABLE);
    assert.equal(r.headers.reason, 'upstream_reset');
    const ok = await c.call('com.example.Greeter', 'sayHello', 'again');
    assert.equal(ok.status, Status.OK);
    c.close();
  });

  it('applies the route timeout with the protocol timeout status', async () => {
    const c = await ExampleClient.connect(proxy.port);
    const r = await c.call('com.example.Slow', 'hang', 'x');
    assert.equal(r.status, Status.TIMEOUT);
    assert.equal(r.headers.reason, 'timeout');
    c.close();
  });

  it('forwards unchanged frames as their original bytes, never re-encoding them', async () => {
    const codec = registry.rpcCodec('example')!;
    const orig = { req: codec.encodeRequest, resp: codec.encodeResponse };
    let encodes = 0;
    const c = await ExampleClient.connect(proxy.port);
    try {
      (codec as { encodeRequest: typeof orig.req }).encodeRequest = (...args) => (encodes++, orig.req(...args));
      (codec as { encodeResponse: typeof orig.resp }).encodeResponse = (...args) => (encodes++, orig.resp(...args));
      const r = await c.call('com.example.Greeter', 'sayHello', 'as is', { headers: { 'x-attach': 'kept' } });
      assert.equal(r.status, Status.OK);
      assert.equal(encodes, 0);
      const seen = a.seen[a.seen.length - 1];
      assert.equal(seen.headers['x-attach'], 'kept');
      assert.equal(seen.headers['x-request-id'], undefined, 'the proxy adds nothing to an RPC frame');
    } finally {
      (codec as { encodeRequest: typeof orig.req }).encodeRequest = orig.req;
      (codec as { encodeResponse: typeof orig.resp }).encodeResponse = orig.resp;
      c.close();
    }
  });

  it('applies the timeout the frame itself carries', async () => {
    hold.set('a', []);
    const c = await ExampleClient.connect(proxy.port);
    const r = await c.call('com.example.Hang', 'hang', 'x', { timeoutMs: 50 });
    assert.equal(r.status, Status.TIMEOUT);
    hold.set('a', []);
    c.close();
  });

  it('survives a client leaving with calls in flight; late answers are dropped', async () => {
    hold.set('a', []);
    const c = await ExampleClient.connect(proxy.port);
    const calls = [1, 2, 3].map((i) => c.call('com.example.Hang', 'hang', `h${i}`).catch((e: Error) => e));
    await a.waitFor(() => (hold.get('a')?.length ?? 0) >= 3);
    c.close();
    const errs = await Promise.all(calls);
    for (const e of errs) assert.ok(e instanceof Error);
    await c.closed;
    // the proxy notices the client is gone (connection gauge drops), then the backend answers
    await waitForGauge(proxy, 'rpc', 0);
    for (const resolve of hold.get('a')!) resolve({ payload: 'late' });
    const other = await ExampleClient.connect(proxy.port);
    const r = await other.call('com.example.Greeter', 'sayHello', 'still fine');
    assert.equal(r.status, Status.OK);
    assert.equal(JSON.parse(r.payload.toString()).payload, 'still fine');
    other.close();
  });

  it('answers a frame declaring an oversize length with an error reply, then closes', async () => {
    const head = encodeFrame({ id: 77, flags: 0, headers: ['service', 'com.example.Greeter', 'method', 'sayHello'] });
    head.writeUInt32BE(64 * 1024 * 1024, 12);
    const c = await ExampleClient.connect(proxy.port);
    const reply = c.expect(77);
    c.write(head);
    const r = await reply;
    assert.equal(r.status, Status.TOO_LARGE);
    await c.closed;
    assert.equal(await metricValue(proxy.admin!, 'switchyard_downstream_protocol_errors_total', { listener: 'rpc', kind: 'frame_too_large' }), 1);
  });

  it('closes a connection that sends garbage, touching no other', async () => {
    const other = await ExampleClient.connect(proxy.port);
    const bad = await ExampleClient.connect(proxy.port);
    bad.write(Buffer.from('SY\x09garbage'));
    await bad.closed;
    const r = await other.call('com.example.Greeter', 'sayHello', 'unharmed');
    assert.equal(r.status, Status.OK);
    other.close();
  });

  it('auto: serves the example protocol and HTTP/1.1 on one port', async () => {
    const http = await request(`http://127.0.0.1:${autoPort}/health`);
    assert.equal(http.status, 200);
    assert.equal(http.body, 'ok\n');
    const c = await ExampleClient.connect(autoPort);
    const r = await c.call('com.example.Greeter', 'sayHello', 'via auto');
    assert.equal(r.status, Status.OK);
    assert.equal(JSON.parse(r.payload.toString()).payload, 'via auto');
    c.close();
  });

  it('auto: closes a connection whose first bytes match no protocol, and counts it', async () => {
    const out = await rawExchange(autoPort, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]));
    assert.equal(out, '');
    assert.equal(await metricValue(proxy.admin!, 'switchyard_downstream_protocol_errors_total', { listener: 'mixed', kind: 'unknown_protocol' }), 1);
  });

  it('auto: waits for more bytes when the first ones are ambiguous', async () => {
    const s = net.connect(autoPort, '127.0.0.1');
    await once(s, 'connect');
    s.write('S'); // could start "SY" or an HTTP method such as "SEARCH"
    await new Promise((r) => setImmediate(r));
    s.write('EARCH /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    await once(s, 'close');
    assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 200/);
  });
});

async function waitForGauge(proxy: Running, listener: string, value: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const v = await metricValue(proxy.admin!, 'switchyard_downstream_connections_active', { listener });
    if (v === value) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`switchyard_downstream_connections_active{listener="${listener}"} never reached ${value}`);
}
