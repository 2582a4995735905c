/**
 * End-to-end routing through real sockets: route matching and actions, rewrites, forwarded
 * headers, request ids, hop-by-hop stripping, load balancing, filters, local replies and their
 * metrics.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { metricValue, request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';

describe('proxy routing (HTTP/1.1)', () => {
  let a: Upstream;
  let b: Upstream;
  let proxy: Running;

  before(async () => {
    a = await startUpstream(undefined, 'a');
    b = await startUpstream(undefined, 'b');
    proxy = await startProxy(
      `
admin: { address: 127.0.0.1:0 }
access_log: false
plugins: [${JSON.stringify(join(__dirname, '..', '..', 'examples', 'filters', 'api-key.js'))}]
listeners:
  - name: web
    address: 127.0.0.1:0
    filters:
      - name: headers
        config:
          request: { set: { x-env: test }, remove: [x-drop-me] }
          response: { add: { x-proxy: switchyard } }
      - name: api-key
        config: { keys: [k1], prefix: /private }
    routes:
      - name: health
        match: { path: /health }
        direct_response: { status: 200, body: "ok\\n", headers: { x-direct: "1" } }
      - name: moved
        match: { prefix: /old }
        redirect: { path: /new, status: 308 }
      - name: wild-host
        match: { host: "*.b.test" }
        cluster: b
      - name: exact-host
        match: { host: a.test }
        cluster: a
      - name: canary
        match: { prefix: /, headers: { x-canary: "1" } }
        cluster: b
      - name: query
        match: { prefix: /q, query: { v: "2" } }
        cluster: b
      - name: rewrite
        match: { prefix: /api/ }
        prefix_rewrite: /v2/
        host_rewrite: internal.example
        cluster: a
      - name: split
        match: { prefix: /split }
        weighted_clusters: [{ cluster: a, weight: 1 }, { cluster: b, weight: 3 }]
      - name: both
        match: { prefix: /rr }
        cluster: ab
      - name: fallback
        match: { prefix: /a-only }
        cluster: a
clusters:
  - name: a
    endpoints: [{ address: ${a.address} }]
  - name: b
    endpoints: [{ address: ${b.address} }]
  - name: ab
    lb: round_robin
    endpoints: [{ address: ${a.address} }, { address: ${b.address} }]
`,
      { baseDir: __dirname },
    );
  });

  after(async () => {
    await proxy.stop();
    await a.close();
    await b.close();
  });

  it('forwards to the matched cluster with forwarded headers and a request id', async () => {
    const r = await request(`${proxy.url}/a-only/x?y=1`, { headers: { 'x-drop-me': 'gone' } });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body);
    assert.equal(seen.name, 'a');
    assert.equal(seen.url, '/a-only/x?y=1');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], `127.0.0.1:${proxy.port}`);
    assert.match(seen.headers['x-request-id'], /^[0-9a-f-]{36}$/);
    assert.equal(seen.headers['x-env'], 'test');
    assert.equal(seen.headers['x-drop-me'], undefined);
    assert.equal(r.headers['x-proxy'], 'switchyard');
  });

  it('passes an incoming x-request-id on and appends to x-forwarded-for', async () => {
    const r = await request(`${proxy.url}/a-only`, { headers: { 'x-request-id': 'abc-123', 'x-forwarded-for': '10.1.2.3' } });
    const seen = JSON.parse(r.body);
    assert.equal(seen.headers['x-request-id'], 'abc-123');
    assert.equal(seen.headers['x-forwarded-for'], '10.1.2.3, 127.0.0.1');
  });

  it('strips hop-by-hop headers, including those named in Connection', async () => {
    const r = await request(`${proxy.url}/a-only`, {
      headers: { connection: 'x-secret, keep-alive', 'x-secret': 's', 'keep-alive': 'timeout=5', te: 'gzip', 'proxy-connection': 'x' },
    });
    const seen = JSON.parse(r.body);
    assert.equal(seen.headers['x-secret'], undefined);
    assert.equal(seen.headers['keep-alive'], undefined);
    assert.equal(seen.headers.te, undefined);
    assert.equal(seen.headers['proxy-connection'], undefined);
  });

  it('matches hosts exactly and by wildcard, ignoring the port', async () => {
    assert.equal(JSON.parse((await request(`${proxy.url}/x`, { headers: { host: 'a.test:8080' } })).body).name, 'a');
    assert.equal(JSON.parse((await request(`${proxy.url}/x`, { headers: { host: 'deep.z.b.test' } })).body).name, 'b');
    assert.equal((await request(`${proxy.url}/x`, { headers: { host: 'b.test' } })).status, 404);
  });

  it('matches headers and query parameters', async () => {
    assert.equal(JSON.parse((await request(`${proxy.url}/a-only`, { headers: { 'x-canary': '1' } })).body).name, 'b');
    assert.equal(JSON.parse((await request(`${proxy.url}/q?v=2`)).body).name, 'b');
    assert.equal((await request(`${proxy.url}/q?v=3`)).status, 404);
  });

  it('answers direct responses and redirects', async () => {
    const d = await request(`${proxy.url}/health`);
    assert.equal(d.status, 200);
    assert.equal(d.body, 'ok\n');
    assert.equal(d.headers['x-direct'], '1');
    const r = await request(`${proxy.url}/old/page?z=1`, { headers: { host: 'site.test' } });
    assert.equal(r.status, 308);
    assert.equal(r.headers.location, 'http://site.test/new?z=1');
  });

  it('rewrites the path prefix and the host', async () => {
    const seen = JSON.parse((await request(`${proxy.url}/api/users?id=7`)).body);
    assert.equal(seen.url, '/v2/users?id=7');
    assert.equal(seen.headers.host, 'internal.example');
  });

  it('splits weighted clusters and round-robins endpoints', async () => {
    const split = { a: 0, b: 0 } as Record<string, number>;
    for (let i = 0; i < 200; i++) split[JSON.parse((await request(`${proxy.url}/split`)).body).name]++;
    assert.ok(split.b > split.a * 1.8 && split.a > 20, `weighted 1:3 gave ${JSON.stringify(split)}`);
    const rr: string[] = [];
    for (let i = 0; i < 6; i++) rr.push(JSON.parse((await request(`${proxy.url}/rr`)).body).name);
    assert.deepEqual(new Set(rr.slice(0, 2)), new Set(['a', 'b']));
    assert.equal(rr.filter((n) => n === 'a').length, 3);
  });

  it('answers 404 without a route and counts the local reply', async () => {
    const before = await metricValue(proxy.admin!, 'switchyard_local_replies_total', { reason: 'no_route' });
    const r = await request(`${proxy.url}/nothing-here`, { headers: { host: 'unknown.example' } });
    assert.equal(r.status, 404);
    const afterN = await metricValue(proxy.admin!, 'switchyard_local_replies_total', { reason: 'no_route' });
    assert.equal(afterN, before + 1);
  });

  it('runs a TypeScript filter loaded through plugins:', async () => {
    assert.equal((await request(`${proxy.url}/private/x`)).status, 401);
    const ok = await request(`${proxy.url}/private/x`, { headers: { 'x-api-key': 'k1', 'x-canary': '1' } });
    assert.equal(ok.status, 200);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_local_replies_total', { reason: 'filter_denied' }), 1);
  });

  it('exposes the contract metrics', async () => {
    const text = (await request(`${proxy.admin}/stats/prometheus`)).body;
    for (const name of [
      'switchyard_downstream_requests_total',
      'switchyard_downstream_connections_active',
      'switchyard_upstream_requests_total',
      'switchyard_upstream_request_duration_seconds_bucket',
      'switchyard_upstream_retries_total',
      'switchyard_local_replies_total',
    ]) {
      assert.ok(text.includes(name), `missing ${name}`);
    }
    assert.ok((await metricValue(proxy.admin!, 'switchyard_downstream_requests_total', { listener: 'web', code: '200' })) > 0);
    assert.ok((await metricValue(proxy.admin!, 'switchyard_upstream_requests_total', { cluster: 'a', code: '200' })) > 0);
  });
});
