/**
 * The project's own AssemblyScript examples (filters-wasm/build, built by `npm run build`) in the
 * real proxy-wasm host, through real sockets: add-header, auth, rate-limit (shared data, ticks)
 * and ext-authz (proxy_http_call to a cluster).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { metricValue, request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';

const BUILD = join(__dirname, '..', '..', '..', 'filters-wasm', 'build');
const mod = (name: string) => JSON.stringify(join(BUILD, `${name}.wasm`));
const json = (o: object) => JSON.stringify(JSON.stringify(o));

describe('own-SDK example filters in the real host', { skip: !existsSync(join(BUILD, 'add-header.wasm')) && 'run `npm run build:filters` first' }, () => {
  let app: Upstream;
  let authz: Upstream;
  let proxy: Running;
  before(async () => {
    app = await startUpstream(undefined, 'app');
    authz = await startUpstream((req, res) => {
      res.statusCode = req.headers['x-token'] === 'let-me-in' ? 200 : 403;
      res.end();
    });
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    filters:
      - name: wasm
        config:
          module: ${mod('add-header')}
          configuration: ${json({
            request_headers_to_add: [{ name: 'x-via', value: 'switchyard-wasm' }],
            request_headers_to_remove: ['x-internal'],
            response_headers_to_add: [{ name: 'x-served-by', value: 'edge', append: false }],
          })}
    routes:
      - { match: { prefix: / }, cluster: app }
  - name: guarded
    address: 127.0.0.1:0
    filters:
      - name: wasm
        config: { module: ${mod('auth')}, configuration: ${json({ header: 'authorization', tokens: ['Bearer s3cret'] })} }
      - name: wasm
        config: { module: ${mod('rate-limit')}, configuration: ${json({ limit: 2, window_ms: 60000, key_header: 'x-api-key' })} }
    routes:
      - { match: { prefix: / }, cluster: app }
  - name: authz
    address: 127.0.0.1:0
    filters:
      - name: wasm
        config: { module: ${mod('ext-authz')}, configuration: ${json({ cluster: 'authz', timeout_ms: 1000, path: '/check' })} }
    routes:
      - { match: { prefix: / }, cluster: app }
clusters:
  - { name: app, endpoints: [{ address: ${app.address} }] }
  - { name: authz, endpoints: [{ address: ${authz.address} }] }
`);
  });
  after(async () => {
    await proxy.stop();
    await app.close();
    await authz.close();
  });

  it('add-header edits request and response headers', async () => {
    const r = await request(`${proxy.url}/h`, { headers: { 'x-internal': 'secret' } });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body).headers;
    assert.equal(seen['x-via'], 'switchyard-wasm');
    assert.equal(seen['x-internal'], undefined);
    assert.equal(r.headers['x-served-by'], 'edge');
  });

  it('auth answers 401 without a valid token; rate-limit counts per key in shared data', async () => {
    const port = proxy.server.listenerPort('guarded');
    const url = `http://127.0.0.1:${port}/g`;
    assert.equal((await request(url)).status, 401);
    assert.equal((await request(url, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const ok = { authorization: 'Bearer s3cret', 'x-api-key': 'k1' };
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await request(url, { headers: ok })).status);
    assert.deepEqual(codes, [200, 200, 429]);
    assert.equal((await request(url, { headers: { ...ok, 'x-api-key': 'k2' } })).status, 200);
    assert.equal(await metricValue(proxy.admin!, 'switchyard_wasm_auth_denied', {}), 2);
  });

  it('ext-authz calls a cluster and follows its answer', async () => {
    const url = `http://127.0.0.1:${proxy.server.listenerPort('authz')}/e`;
    assert.equal((await request(url, { headers: { 'x-token': 'let-me-in' } })).status, 200);
    assert.equal((await request(url, { headers: { 'x-token': 'nope' } })).status, 403);
    await authz.close();
    assert.equal((await request(url, { headers: { 'x-token': 'let-me-in' } })).status, 403, 'fails closed');
  });
});
