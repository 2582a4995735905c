/**
 * Resilience on an RPC codec (the example protocol, loaded through `plugins:`), over real
 * sockets: retries of error statuses on another endpoint, outlier ejection through the codec's
 * HTTP-equivalent status, rate limits, circuit-breaker overflow, fault aborts and timeouts — each
 * answered in the protocol's own form.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { metricValue, startProxy, type Running } from '../fixtures/harness';
import { ExampleClient, ExampleServer, type ExampleMessage, type ExampleReply } from '../../protocols/example/peer';
import { Status } from '../../protocols/example/codec';

const PLUGIN = JSON.stringify(join(__dirname, '..', '..', 'protocols', 'example', 'index.js'));

describe('resilience on an RPC codec', () => {
  let good: ExampleServer;
  let bad: ExampleServer;
  let proxy: Running;
  let client: ExampleClient;
  const held: Array<(r: ExampleReply | null) => void> = [];

  before(async () => {
    const handler = (name: string) => (req: ExampleMessage): ExampleReply | null | Promise<ExampleReply | null> => {
      if (req.headers.method === 'hang') return new Promise((resolve) => held.push(resolve));
      if (name === 'bad') return { status: Status.ERROR, payload: 'boom' };
      return { payload: `ok from ${name}` };
    };
    good = await ExampleServer.listen(handler('good'));
    bad = await ExampleServer.listen(handler('bad'));
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
plugins: [${PLUGIN}]
listeners:
  - name: rpc
    address: 127.0.0.1:0
    protocol: example
    routes:
      - match: { service: retry }
        cluster: mixed
        retry: { attempts: 2, on: [5xx], backoff: { base: 1ms, max: 2ms } }
      - match: { service: eject }
        cluster: ejecting
      - match: { service: limited }
        cluster: good
        rate_limit: { tokens_per_second: 0.001, burst: 1 }
      - match: { service: abort }
        cluster: good
        fault: { abort: { percent: 100, status: 503 } }
      - match: { service: hold }
        cluster: small
        timeout: 300ms
clusters:
  - name: mixed
    protocol: example
    endpoints: [{ address: 127.0.0.1:${bad.port} }, { address: 127.0.0.1:${good.port} }]
  - name: ejecting
    protocol: example
    outlier_detection: { consecutive_5xx: 2, interval: 10s, base_ejection_time: 30s, max_ejection_percent: 50 }
    endpoints: [{ address: 127.0.0.1:${bad.port} }, { address: 127.0.0.1:${good.port} }]
  - name: good
    protocol: example
    endpoints: [{ address: 127.0.0.1:${good.port} }]
  - name: small
    protocol: example
    circuit_breakers: { max_requests: 1 }
    endpoints: [{ address: 127.0.0.1:${good.port} }]
`);
    client = await ExampleClient.connect(proxy.port);
  });

  after(async () => {
    for (const h of held) h(null);
    client.socket.destroy();
    await proxy.stop();
    await good.close();
    await bad.close();
  });

  it('retries an error status on another endpoint', async () => {
    for (let i = 0; i < 6; i++) {
      const m = await client.call('retry', 'x', 'p');
      assert.equal(m.status, Status.OK);
      assert.equal(m.payload.toString(), 'ok from good');
    }
    assert.ok((await metricValue(proxy.admin!, 'switchyard_upstream_retries_total', { cluster: 'mixed' })) >= 2);
  });

  it('ejects an endpoint whose error statuses count as 5xx', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await client.call('eject', 'x')).status);
    const errors = statuses.filter((s) => s !== Status.OK).length;
    assert.equal(errors, 2, `only the two errors before ejection reach the client: ${statuses}`);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_upstream_ejections_total', { cluster: 'ejecting' }), 1);
  });

  it('answers rate limits, fault aborts, overflow and timeouts in the protocol\'s form', async () => {
    assert.equal((await client.call('limited', 'x')).status, Status.OK);
    assert.equal((await client.call('limited', 'x')).status, Status.RATE_LIMITED);
    assert.equal((await client.call('abort', 'x')).status, Status.UNAVAILABLE);
    const first = client.call('hold', 'hang');
    for (let i = 0; i < 100 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await client.call('hold', 'hang')).status, Status.UNAVAILABLE, 'max_requests: 1 overflows at once');
    assert.equal((await first).status, Status.TIMEOUT, 'the route timeout answers the held call');
    assert.equal(await metricValue(proxy.admin!, 'switchyard_local_replies_total', { reason: 'overflow' }), 1);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_local_replies_total', { reason: 'timeout' }), 1);
  });
});
