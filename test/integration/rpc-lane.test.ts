/**
 * The RPC fast lane (src/proxy/rpc-lane.ts) over real sockets, with the example codec: routes
 * without filters or traffic features take it, and keep routing by service, stats with the
 * protocol label, the route timeout's local reply, error replies when the upstream dies, the
 * handling of a downstream that closes mid-call, and the access log line.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricValue, startProxy, type Running } from '../fixtures/harness';
import { ExampleClient, ExampleServer, type ExampleMessage, type ExampleReply } from '../../protocols/example/peer';
import { Status } from '../../protocols/example/codec';

const PLUGIN = JSON.stringify(join(__dirname, '..', '..', 'protocols', 'example', 'index.js'));

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), what);
}

describe('RPC fast lane', () => {
  let a: ExampleServer;
  let b: ExampleServer;
  let dying: net.Server;
  let proxy: Running;
  let client: ExampleClient;
  let logPath: string;
  const held: Array<(r: ExampleReply | null) => void> = [];

  before(async () => {
    const handler = (name: string) => (req: ExampleMessage): ExampleReply | null | Promise<ExampleReply | null> => {
      if (req.headers.method === 'hang') return new Promise((resolve) => held.push(resolve));
      return { payload: `${name}:${req.headers.method}:${req.payload.toString()}` };
    };
    a = await ExampleServer.listen(handler('a'));
    b = await ExampleServer.listen(handler('b'));
    // An upstream that accepts and then drops the connection on the first bytes.
    dying = net.createServer((s) => s.on('data', () => s.destroy()).on('error', () => {}));
    await new Promise<void>((r) => dying.listen(0, '127.0.0.1', r));
    const dyingPort = (dying.address() as net.AddressInfo).port;
    logPath = join(mkdtempSync(join(tmpdir(), 'rpc-lane-')), 'access.log');
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: { path: ${JSON.stringify(logPath)} }
plugins: [${PLUGIN}]
listeners:
  - name: lane
    address: 127.0.0.1:0
    protocol: example
    routes:
      - match: { service: svc, method: toB }
        cluster: b
      - match: { service: svc }
        cluster: a
        timeout: 150ms
      - match: { service: dies }
        cluster: dying
clusters:
  - name: a
    protocol: example
    endpoints: [{ address: 127.0.0.1:${a.port} }]
  - name: b
    protocol: example
    endpoints: [{ address: 127.0.0.1:${b.port} }]
  - name: dying
    protocol: example
    endpoints: [{ address: 127.0.0.1:${dyingPort} }]
`);
    client = await ExampleClient.connect(proxy.port);
  });

  after(async () => {
    for (const h of held) h(null);
    client.socket.destroy();
    await proxy.stop();
    await a.close();
    await b.close();
    await new Promise((r) => dying.close(r));
  });

  it('routes by service and method, and counts with the protocol label', async () => {
    const before = await metricValue(proxy.admin!, 'switchyard_downstream_requests_total', { listener: 'lane', protocol: 'example', code: '200' });
    const m1 = await client.call('svc', 'hello', 'x');
    assert.equal(m1.status, Status.OK);
    assert.equal(m1.payload.toString(), 'a:hello:x');
    const m2 = await client.call('svc', 'toB', 'y');
    assert.equal(m2.payload.toString(), 'b:toB:y');
    assert.equal(
      await metricValue(proxy.admin!, 'switchyard_downstream_requests_total', { listener: 'lane', protocol: 'example', code: '200' }),
      before + 2,
    );
    assert.equal(await metricValue(proxy.admin!, 'switchyard_upstream_requests_total', { cluster: 'b', code: '200' }), 1);
    assert.equal((await client.call('nothing', 'x')).status, Status.NOT_FOUND, 'no route: the full path answers');
  });

  it('answers the route timeout in the protocol form and frees the request', async () => {
    const n = held.length;
    const m = await client.call('svc', 'hang');
    assert.equal(m.status, Status.TIMEOUT);
    assert.equal(held.length, n + 1);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_local_replies_total', { listener: 'lane', reason: 'timeout' }), 1);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_downstream_requests_total', { listener: 'lane', protocol: 'example', code: '504' }), 1);
    // The late answer is dropped; the connection goes on.
    held[n]({ payload: 'late' });
    assert.equal((await client.call('svc', 'again', 'z')).payload.toString(), 'a:again:z');
  });

  it('answers an upstream that dies with an error reply, and counts the failure', async () => {
    const m = await client.call('dies', 'x');
    assert.equal(m.status, Status.UNAVAILABLE);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_upstream_request_failures_total', { cluster: 'dying', kind: 'reset' }), 1);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_local_replies_total', { listener: 'lane', reason: 'upstream_reset' }), 1);
  });

  it('a downstream that closes mid-call ends the request (status 0) and frees the upstream', async () => {
    const c2 = await ExampleClient.connect(proxy.port);
    const n = held.length;
    const p = c2.call('svc', 'hang').catch((e: Error) => e);
    await until(() => held.length === n + 1, 'the call reached the upstream');
    const before = await metricValue(proxy.admin!, 'switchyard_downstream_requests_total', { listener: 'lane', protocol: 'example', code: '0' });
    c2.socket.destroy();
    assert.ok((await p) instanceof Error);
    for (let i = 0; i < 100; i++) {
      const v = await metricValue(proxy.admin!, 'switchyard_downstream_requests_total', { listener: 'lane', protocol: 'example', code: '0' });
      if (v === before + 1) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(
      await metricValue(proxy.admin!, 'switchyard_downstream_requests_total', { listener: 'lane', protocol: 'example', code: '0' }),
      before + 1,
    );
    // The upstream's late answer is dropped; the proxy still serves.
    held[n]({ payload: 'late' });
    assert.equal((await client.call('svc', 'after', '1')).payload.toString(), 'a:after:1');
  });

  it('writes the access log line with the RPC fields', async () => {
    await client.call('svc', 'logged', 'q');
    let lines: Array<Record<string, unknown>> = [];
    await until(() => {
      if (!existsSync(logPath)) return false;
      lines = readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      return lines.some((l) => l.method === 'logged');
    }, 'the access log line was written');
    const l = lines.find((x) => x.method === 'logged')!;
    assert.equal(l.listener, 'lane');
    assert.equal(l.route, 'lane/1');
    assert.equal(l.cluster, 'a');
    assert.equal(l.upstream, `127.0.0.1:${a.port}`);
    assert.equal(l.protocol, 'example');
    assert.equal(l.authority, 'svc');
    assert.equal(l.path, null);
    assert.equal(l.status, 200);
    assert.equal(l.reason, null);
    assert.ok(typeof l.request_id === 'string' && /^[0-9a-f]{12}-[0-9a-z]+$/.test(l.request_id as string));
    assert.ok((l.bytes_in as number) > 0 && (l.bytes_out as number) > 0);
    const timeout = lines.find((x) => x.method === 'hang' && x.status === 504);
    assert.equal(timeout?.reason, 'timeout');
  });
});
