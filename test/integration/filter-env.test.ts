/**
 * What filters get from the proxy at build time: out-of-band HTTP calls to a cluster of their
 * generation (an ext-authz style filter, through real sockets) and metrics on /stats/prometheus.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap, registerFilter, type FilterFactory } from '../../src/api';
import { metricValue, request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';

const extAuth: FilterFactory = {
  name: 'test-ext-auth',
  build(_config, env) {
    const denied = env.metrics.counter('test_ext_auth_denied_total', 'Requests the test ext-auth filter denied.');
    return {
      createFilter: () => ({
        async onRequestHeaders(ctx, headers) {
          try {
            const r = await env.httpCall({
              cluster: 'auth',
              headers: HeaderMap.from({ ':method': 'GET', ':path': '/check', 'x-token': headers.get('x-token') ?? '' }),
              timeoutMs: 1000,
            });
            if (r.headers.get(':status') === '200') {
              headers.set('x-user', r.body.toString());
              return 'continue';
            }
          } catch (err) {
            ctx.sendLocalReply({ status: 503, body: `auth unavailable: ${(err as Error).message}\n` });
            return 'stop';
          }
          denied.inc();
          ctx.sendLocalReply({ status: 403, body: 'denied\n' });
          return 'stop';
        },
      }),
    };
  },
};

describe('filter build environment', () => {
  let auth: Upstream;
  let app: Upstream;
  let proxy: Running;
  before(async () => {
    registerFilter(extAuth);
    auth = await startUpstream((req, res) => {
      if (req.headers['x-token'] === 'good') res.end('alice');
      else {
        res.statusCode = 401;
        res.end('no');
      }
    });
    app = await startUpstream();
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    filters: [{ name: test-ext-auth }]
    routes: [{ match: { prefix: / }, cluster: app }]
clusters:
  - { name: app, endpoints: [{ address: ${app.address} }] }
  - { name: auth, endpoints: [{ address: ${auth.address} }] }
`);
  });
  after(async () => {
    await proxy.stop();
    await auth.close();
    await app.close();
  });

  it('lets a filter call a cluster and act on the answer', async () => {
    const ok = await request(`${proxy.url}/x`, { headers: { 'x-token': 'good' } });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).headers['x-user'], 'alice');
    const no = await request(`${proxy.url}/x`, { headers: { 'x-token': 'bad' } });
    assert.equal(no.status, 403);
    assert.equal(app.requests, 1);
  });

  it('exports filter metrics with the listener label', async () => {
    assert.equal(await metricValue(proxy.admin!, 'switchyard_test_ext_auth_denied_total', { listener: 'web' }), 1);
  });

  it('rejects the call when the cluster is down', async () => {
    await auth.close();
    const r = await request(`${proxy.url}/x`, { headers: { 'x-token': 'good' } });
    assert.equal(r.status, 503);
    assert.match(r.body, /auth unavailable/);
  });
});
