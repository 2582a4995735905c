/**
 * Route traffic features through real sockets: local rate limits (per route, per key, per
 * listener), fault injection (abort, delay), and request mirroring that never touches the
 * primary's answer or latency.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';

describe('rate limits, faults and mirroring', () => {
  let app: Upstream;
  let shadow: Upstream;
  let slowShadow: Upstream;
  let proxy: Running;
  let limited: Running;
  const shadowSeen: Array<{ host: string; body: string }> = [];

  before(async () => {
    app = await startUpstream(undefined, 'app');
    shadow = await startUpstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        shadowSeen.push({ host: String(req.headers.host), body: Buffer.concat(chunks).toString() });
        res.statusCode = 500;
        res.end('shadow answers are dropped');
      });
    });
    slowShadow = await startUpstream(() => {
      /* never answers */
    });
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - match: { prefix: /limited }
        cluster: app
        rate_limit: { tokens_per_second: 0.001, burst: 2 }
      - match: { prefix: /per-user }
        cluster: app
        rate_limit: { tokens_per_second: 0.001, burst: 1, key: { header: x-user } }
      - match: { prefix: /abort }
        cluster: app
        fault: { abort: { percent: 100, status: 418 } }
      - match: { prefix: /delay }
        cluster: app
        fault: { delay: { percent: 100, duration: 200ms } }
      - match: { prefix: /mirror }
        cluster: app
        mirror: { cluster: shadow }
      - match: { prefix: /slow-mirror }
        cluster: app
        mirror: { cluster: slow-shadow, percent: 100 }
        timeout: 300ms
clusters:
  - { name: app, endpoints: [{ address: ${app.address} }] }
  - { name: shadow, endpoints: [{ address: ${shadow.address} }] }
  - { name: slow-shadow, endpoints: [{ address: ${slowShadow.address} }] }
`);
    limited = await startProxy(`
admin: null
access_log: false
listeners:
  - name: edge
    address: 127.0.0.1:0
    rate_limit: { tokens_per_second: 0.001, burst: 3 }
    routes: [{ match: { prefix: / }, cluster: app }]
clusters:
  - { name: app, endpoints: [{ address: ${app.address} }] }
`);
  });

  after(async () => {
    await proxy.stop();
    await limited.stop();
    await app.close();
    await shadow.close();
    await slowShadow.close();
  });

  it('limits a route with a token bucket and answers 429', async () => {
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await request(`${proxy.url}/limited`)).status);
    assert.deepEqual(codes, [200, 200, 429, 429]);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_rate_limited_total', { route: 'web/0' }), 2);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_local_replies_total', { reason: 'rate_limited' }), 2);
  });

  it('keeps one bucket per key', async () => {
    const u = (user: string) => request(`${proxy.url}/per-user`, { headers: { 'x-user': user } }).then((r) => r.status);
    assert.deepEqual([await u('a'), await u('a'), await u('b'), await u('b')], [200, 429, 200, 429]);
  });

  it('limits a whole listener', async () => {
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await request(`${limited.url}/x${i}`)).status);
    assert.deepEqual(codes, [200, 200, 200, 429, 429]);
  });

  it('injects aborts and delays', async () => {
    const before = app.requests;
    const a = await request(`${proxy.url}/abort`);
    assert.equal(a.status, 418);
    assert.equal(app.requests, before, 'an aborted request never reaches the upstream');
    const t0 = Date.now();
    const d = await request(`${proxy.url}/delay`, { method: 'POST', body: 'delayed body' });
    assert.equal(d.status, 200);
    assert.ok(Date.now() - t0 >= 190, 'delayed');
    assert.equal(JSON.parse(d.body).bytes, 12, 'the body that arrived during the delay went on');
    assert.equal(await metricValue(proxy.admin!, 'switchyard_faults_injected_total', { kind: 'abort' }), 1);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_faults_injected_total', { kind: 'delay' }), 1);
  });

  it('mirrors requests to a shadow cluster without changing the answer', async () => {
    const r = await request(`${proxy.url}/mirror/x`, { method: 'POST', body: 'copy me', headers: { host: 'api.test:8080' } });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).name, 'app');
    for (let i = 0; i < 100 && shadowSeen.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
    assert.deepEqual(shadowSeen, [{ host: 'api.test-shadow:8080', body: 'copy me' }]);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_mirrored_requests_total', { cluster: 'shadow' }), 1);
  });

  it('does not wait for a shadow that never answers', async () => {
    const t0 = Date.now();
    const r = await request(`${proxy.url}/slow-mirror`);
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 < 1000);
  });
});
