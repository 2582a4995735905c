/**
 * A reload while WASM-filtered requests are in flight: streams that began on the old generation
 * finish with the old plugin instance (its response edits applied, no 500), new streams use the
 * new configuration, and the old instance is released once its last stream is gone.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load';
import { freePort, request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';

const MODULE = join(__dirname, '..', '..', '..', 'filters-wasm', 'build', 'add-header.wasm');

function config(port: number, upstream: string, value: string): string {
  return `
admin: null
access_log: false
drain_timeout: 2s
listeners:
  - name: web
    address: 127.0.0.1:${port}
    filters:
      - name: wasm
        config:
          module: ${MODULE}
          configuration: { response_headers_to_add: [{ name: x-gen, value: "${value}" }] }
    routes: [{ match: { prefix: / }, cluster: up }]
clusters:
  - { name: up, endpoints: [{ address: ${upstream} }] }
`;
}

describe('WASM filters across a reload', () => {
  let up: Upstream;
  let proxy: Running;
  let port: number;
  const held: Array<() => void> = [];

  before(async () => {
    up = await startUpstream((req, res) => {
      if (req.url === '/slow') held.push(() => res.end('slow'));
      else res.end('fast');
    });
    port = await freePort();
    proxy = await startProxy(config(port, up.address, 'old'));
  });

  after(async () => {
    for (const h of held) h();
    await proxy.stop();
    await up.close();
  });

  it('finishes in-flight streams on the old instance; new streams get the new config', async () => {
    const slow = request(`${proxy.url}/slow`);
    while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
    const r = await proxy.server.reload(parseConfigText(config(port, up.address, 'new'), { format: 'yaml' }));
    assert.deepEqual(r, { ok: true, errors: [] });
    const fresh = await request(`${proxy.url}/fast`);
    assert.equal(fresh.status, 200);
    assert.equal(fresh.headers['x-gen'], 'new');
    held.shift()!();
    const old = await slow;
    assert.equal(old.status, 200, old.body);
    assert.equal(old.body, 'slow');
    assert.equal(old.headers['x-gen'], 'old');
  });
});
