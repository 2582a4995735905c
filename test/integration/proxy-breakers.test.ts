/**
 * Circuit breakers through real sockets: requests over a cluster's max_requests are answered at
 * once with 503 (reason overflow), retries over max_retries are not sent, and the slots come back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';

describe('circuit breakers', () => {
  let held: Array<() => void> = [];
  let slow: Upstream;
  let failing: Upstream;
  let proxy: Running;
  before(async () => {
    slow = await startUpstream((_req, res) => held.push(() => res.end('done')));
    failing = await startUpstream((req, res) => {
      req.resume();
      res.statusCode = 503;
      res.end('no');
    });
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - { match: { prefix: /slow }, cluster: slow }
      - match: { prefix: /fail }
        cluster: failing
        retry: { attempts: 3, on: [5xx], backoff: { base: 1ms, max: 2ms } }
clusters:
  - name: slow
    circuit_breakers: { max_requests: 2 }
    endpoints: [{ address: ${slow.address} }]
  - name: failing
    circuit_breakers: { max_retries: 0 }
    endpoints: [{ address: ${failing.address} }]
`);
  });
  after(async () => {
    for (const h of held) h();
    await proxy.stop();
    await slow.close();
    await failing.close();
  });

  it('answers requests over max_requests at once with 503 overflow', async () => {
    const inflight = [request(`${proxy.url}/slow`), request(`${proxy.url}/slow`)];
    for (let i = 0; i < 100 && held.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(held.length, 2);
    const t0 = Date.now();
    const over = await request(`${proxy.url}/slow`);
    assert.equal(over.status, 503);
    assert.ok(Date.now() - t0 < 500, 'answered at once, not queued');
    assert.equal(await metricValue(proxy.admin!, 'switchyard_local_replies_total', { reason: 'overflow' }), 1);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_upstream_overflow_total', { cluster: 'slow', breaker: 'max_requests' }), 1);
    for (const h of held.splice(0)) h();
    for (const r of await Promise.all(inflight)) assert.equal(r.body, 'done');
    // the slots came back
    const again = request(`${proxy.url}/slow`);
    for (let i = 0; i < 100 && held.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    for (const h of held.splice(0)) h();
    assert.equal((await again).status, 200);
  });

  it('does not retry past max_retries', async () => {
    const r = await request(`${proxy.url}/fail`);
    assert.equal(r.status, 503);
    assert.equal(failing.requests, 1);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_upstream_overflow_total', { cluster: 'failing', breaker: 'max_retries' }), 1);
  });
});
