/**
 * Active health checks through the real proxy: a cluster of two HTTP upstreams with an `http`
 * health check. When one endpoint's /healthz fails, traffic goes only to the other; when it
 * recovers, traffic returns. The admin API shows the per-endpoint health and the metrics.
 * Real time with 50 ms intervals; waits poll the admin API (bounded), nothing asserts on speed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';

async function until(cond: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('health checks through the proxy', () => {
  const code: Record<string, number> = { a: 200, b: 200 };
  const health: Record<string, number> = { a: 0, b: 0 };
  let a: Upstream;
  let b: Upstream;
  let proxy: Running;

  const serve = (name: string) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    if (req.url === '/healthz') {
      health[name]++;
      res.statusCode = code[name];
      return res.end();
    }
    res.setHeader('x-upstream', name);
    res.end(name);
  };

  before(async () => {
    a = await startUpstream(serve('a'), 'a');
    b = await startUpstream(serve('b'), 'b');
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    routes: [{ match: { prefix: / }, cluster: api }]
clusters:
  - name: api
    endpoints: [{ address: ${a.address} }, { address: ${b.address} }]
    health_check: { type: http, path: /healthz, interval: 50ms, timeout: 40ms,
                    healthy_threshold: 1, unhealthy_threshold: 1, host: api.internal }
`);
  });

  after(async () => {
    await proxy.stop();
    await a.close();
    await b.close();
  });

  async function servedBy(n: number): Promise<Set<string>> {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const r = await request(`${proxy.url}/x`);
      assert.equal(r.status, 200);
      seen.add(r.body);
    }
    return seen;
  }

  async function endpointHealth(): Promise<Record<string, { healthy: boolean; health: { active: string } }>> {
    const r = await request(`${proxy.admin}/clusters`);
    const api = (JSON.parse(r.body) as Array<{ name: string; endpoints: Array<{ address: string; healthy: boolean; health: { active: string } }> }>)
      .find((c) => c.name === 'api')!;
    const out: Record<string, { healthy: boolean; health: { active: string } }> = {};
    for (const ep of api.endpoints) out[ep.address === a.address ? 'a' : 'b'] = ep;
    return out;
  }

  const healthyCount = () => metricValue(proxy.admin!, 'switchyard_upstream_endpoints', { cluster: 'api', health: 'healthy' });

  it('sends traffic only to endpoints whose health check passes, and back after recovery', async () => {
    await until(async () => (await healthyCount()) === 2, 'both endpoints healthy');
    assert.deepEqual(await servedBy(6), new Set(['a', 'b']));

    code.b = 503;
    await until(async () => (await endpointHealth()).b.health.active === 'unhealthy', 'b to fail its check');
    const eps = await endpointHealth();
    assert.equal(eps.b.healthy, false);
    assert.equal(eps.a.health.active, 'healthy');
    assert.equal(await healthyCount(), 1);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_upstream_endpoints', { cluster: 'api', health: 'unhealthy' }), 1);
    const before = b.requests;
    const checksBefore = health.b;
    assert.deepEqual(await servedBy(10), new Set(['a']));
    assert.equal(b.requests - before, health.b - checksBefore, 'b received health checks only');

    code.b = 200;
    await until(async () => (await endpointHealth()).b.health.active === 'healthy', 'b to recover');
    assert.deepEqual(await servedBy(6), new Set(['a', 'b']));
    assert.ok((await metricValue(proxy.admin!, 'switchyard_upstream_health_transitions_total', { cluster: 'api', to: 'unhealthy' })) >= 1);
    assert.ok((await metricValue(proxy.admin!, 'switchyard_upstream_health_checks_total', { cluster: 'api', result: 'failure' })) >= 1);
  });
});
