/**
 * Consistent hashing through the proxy: with `hash_on: { header: x-user }` a user always reaches
 * the same endpoint (ring_hash and maglev), and different users spread over the endpoints.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';

describe('hash-based balancing', () => {
  const ups: Upstream[] = [];
  let proxy: Running;
  before(async () => {
    for (const n of ['u1', 'u2', 'u3']) ups.push(await startUpstream(undefined, n));
    const eps = `[${ups.map((u) => `{ address: ${u.address} }`).join(', ')}]`;
    proxy = await startProxy(`
admin: null
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - { match: { prefix: /ring }, cluster: ring }
      - { match: { prefix: /maglev }, cluster: maglev }
clusters:
  - { name: ring, lb: ring_hash, hash_on: { header: x-user }, endpoints: ${eps} }
  - { name: maglev, lb: maglev, hash_on: { header: x-user }, endpoints: ${eps} }
`);
  });
  after(async () => {
    await proxy.stop();
    for (const u of ups) await u.close();
  });

  for (const path of ['/ring', '/maglev']) {
    it(`${path}: sticks each user to one endpoint and spreads users`, async () => {
      const owners = new Set<string>();
      for (let u = 0; u < 30; u++) {
        const seen = new Set<string>();
        for (let i = 0; i < 3; i++) {
          const r = await request(`${proxy.url}${path}`, { headers: { 'x-user': `user-${u}` } });
          seen.add(JSON.parse(r.body).name);
        }
        assert.equal(seen.size, 1, `user-${u} went to ${[...seen]}`);
        owners.add([...seen][0]);
      }
      assert.equal(owners.size, 3, 'thirty users use all three endpoints');
    });
  }
});
