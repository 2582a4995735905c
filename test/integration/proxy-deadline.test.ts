/**
 * Deadlines through the proxy: a request's grpc-timeout shortens the route timeout, and the
 * upstream receives what is left of it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGrpcTimeout } from '../../src/proxy/grpc-deadline';
import { request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';

describe('request deadlines', () => {
  let up: Upstream;
  let proxy: Running;
  const seen: string[] = [];
  before(async () => {
    up = await startUpstream((req, res) => {
      seen.push(String(req.headers['grpc-timeout']));
      if (req.url === '/fast') res.end('ok');
      // else: never answers
    });
    proxy = await startProxy(`
admin: null
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    routes: [{ match: { prefix: / }, cluster: up, timeout: 10s }]
clusters:
  - { name: up, endpoints: [{ address: ${up.address} }] }
`);
  });
  after(async () => {
    await proxy.stop();
    await up.close();
  });

  it('passes the remaining grpc-timeout upstream', async () => {
    const r = await request(`${proxy.url}/fast`, { headers: { 'grpc-timeout': '5S' } });
    assert.equal(r.status, 200);
    const ms = parseGrpcTimeout(seen.at(-1)!);
    assert.ok(ms !== null && ms <= 5000 && ms > 4000, `upstream saw ${seen.at(-1)}`);
  });

  it('answers near the carried deadline, not the route timeout', async () => {
    const t0 = Date.now();
    const r = await request(`${proxy.url}/slow`, { headers: { 'grpc-timeout': '300m' } });
    const took = Date.now() - t0;
    assert.equal(r.status, 504);
    assert.ok(took >= 250 && took < 3000, `took ${took} ms`);
  });
});
