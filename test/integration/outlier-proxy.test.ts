/**
 * Outlier detection through the real proxy: of two HTTP upstreams, one answers 500 to
 * everything; after `consecutive_5xx` of its answers it is ejected and traffic goes only to the
 * other, as the admin API (/clusters, metrics) shows. Needs the engine to report each try's
 * result to cluster.requestFinished. Real sockets; no waiting on time (ejection is immediate and
 * base_ejection_time is far longer than the test).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';

describe('outlier detection through the proxy', () => {
  let good: Upstream;
  let bad: Upstream;
  let proxy: Running;

  before(async () => {
    good = await startUpstream((_req, res) => res.end('good'), 'good');
    bad = await startUpstream((_req, res) => {
      res.statusCode = 500;
      res.end('bad');
    }, 'bad');
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    routes: [{ match: { prefix: / }, cluster: api }]
clusters:
  - name: api
    endpoints: [{ address: ${good.address} }, { address: ${bad.address} }]
    outlier_detection: { consecutive_5xx: 3, max_ejection_percent: 50, base_ejection_time: 10m, interval: 10m }
`);
  });

  after(async () => {
    await proxy.stop();
    await good.close();
    await bad.close();
  });

  it('ejects an endpoint answering 500s after consecutive_5xx and sends traffic to the other', async () => {
    // Round robin alternates: within 8 requests the bad endpoint answers at least 3 times.
    let fives = 0;
    for (let i = 0; i < 8; i++) {
      const r = await request(`${proxy.url}/x`);
      if (r.status === 500) fives++;
    }
    assert.equal(fives, 3, 'the bad endpoint answered exactly consecutive_5xx times before its ejection');
    assert.equal(bad.requests, 3);
    const before = bad.requests;
    for (let i = 0; i < 10; i++) assert.equal((await request(`${proxy.url}/x`)).body, 'good');
    assert.equal(bad.requests, before, 'no traffic to the ejected endpoint');

    assert.equal(await metricValue(proxy.admin!, 'switchyard_upstream_ejections_total', { cluster: 'api', reason: 'consecutive_5xx' }), 1);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_upstream_ejected_endpoints', { cluster: 'api' }), 1);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_upstream_endpoints', { cluster: 'api', health: 'healthy' }), 1);
    const clusters = JSON.parse((await request(`${proxy.admin}/clusters`)).body) as Array<{
      name: string;
      endpoints: Array<{ address: string; healthy: boolean; health: { ejected: boolean; ejected_until: string | null; times_ejected: number } }>;
    }>;
    const ep = clusters.find((c) => c.name === 'api')!.endpoints.find((e) => e.address === bad.address)!;
    assert.equal(ep.healthy, false);
    assert.equal(ep.health.ejected, true);
    assert.equal(ep.health.times_ejected, 1);
    assert.ok(ep.health.ejected_until !== null && Date.parse(ep.health.ejected_until) > Date.now());
  });
});
