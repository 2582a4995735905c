/**
 * Deadline propagation on Bolt: a request whose frame says 3 s, on a route with a 300 ms timeout,
 * reaches the provider with the timeout field rewritten to what is left (≤ 300 ms), and the
 * client gets the proxy's timeout reply near the route timeout.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { startProxy, type Running } from '../fixtures/harness';
import { boltCodec, samples } from '../../protocols/bolt';

describe('Bolt timeout field carries the remaining deadline', () => {
  let provider: net.Server;
  let proxy: Running;
  const seen: number[] = [];
  before(async () => {
    provider = net.createServer((s) => {
      s.on('error', () => {});
      s.on('data', (d: Buffer) => {
        const info = boltCodec.peek(d);
        if (info !== 'need-more' && !('code' in info) && info.kind === 'request') seen.push(info.timeoutMs);
        // never answers
      });
    });
    provider.listen(0, '127.0.0.1');
    await once(provider, 'listening');
    const port = (provider.address() as net.AddressInfo).port;
    proxy = await startProxy(`
admin: null
access_log: false
listeners:
  - name: rpc
    address: 127.0.0.1:0
    protocol: bolt
    routes: [{ match: {}, cluster: p, timeout: 300ms }]
clusters:
  - { name: p, protocol: bolt, endpoints: [{ address: 127.0.0.1:${port} }] }
`);
  });
  after(async () => {
    await proxy.stop();
    provider.close();
  });

  it('rewrites the timeout field and answers at the route timeout', async () => {
    const frame = samples.request;
    const before = boltCodec.peek(frame);
    assert.ok(before !== 'need-more' && !('code' in before) && before.timeoutMs === 3000);
    const c = net.connect(proxy.port, '127.0.0.1');
    await once(c, 'connect');
    const t0 = Date.now();
    c.write(frame);
    const [reply] = (await once(c, 'data')) as [Buffer];
    const took = Date.now() - t0;
    c.destroy();
    const info = boltCodec.peek(reply);
    assert.ok(info !== 'need-more' && !('code' in info));
    assert.equal(info.status, 7, 'Bolt TIMEOUT from the proxy');
    assert.ok(took >= 250 && took < 2000, `answered after ${took} ms`);
    assert.equal(seen.length, 1);
    assert.ok(seen[0] > 0 && seen[0] <= 300, `provider saw timeout ${seen[0]} ms`);
  });
});
