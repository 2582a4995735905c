/**
 * Load shedding end to end: with a heap threshold below what the process uses, new requests are
 * answered 503 (reason overload) at once instead of being proxied; raising it restores service.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';
import { parseConfigText } from '../../src/config/load';

const config = (maxHeap: number, up: string) => `
admin: { address: 127.0.0.1:0 }
access_log: false
overload: { max_heap_bytes: ${maxHeap}, sample_interval: 20ms }
listeners:
  - name: web
    address: 127.0.0.1:0
    routes: [{ match: { prefix: / }, cluster: up }]
clusters:
  - { name: up, endpoints: [{ address: ${up} }] }
`;

describe('overload shedding', () => {
  let up: Upstream;
  let proxy: Running;
  before(async () => {
    up = await startUpstream();
    proxy = await startProxy(config(1024, up.address));
  });
  after(async () => {
    await proxy.stop();
    await up.close();
  });

  it('sheds new requests while over the threshold, and recovers', async () => {
    await new Promise((r) => setTimeout(r, 60));
    const r = await request(`${proxy.url}/x`);
    assert.equal(r.status, 503);
    assert.equal(up.requests, 0);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_local_replies_total', { reason: 'overload' }), 1);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_overload_shed_total', { listener: 'web' }), 1);
    const cfg = parseConfigText(config(64 * 1024 * 1024 * 1024, up.address));
    assert.deepEqual(await proxy.server.reload(cfg), { ok: true, errors: [] });
    await new Promise((r) => setTimeout(r, 60));
    assert.equal((await request(`${proxy.url}/x`)).status, 200);
  });
});
