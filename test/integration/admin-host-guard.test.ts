/**
 * The admin API's DNS-rebinding and cross-site protection through a real admin server: requests
 * naming the admin by IP, localhost or an allowed name are served; a foreign Host is refused for
 * every path (so a rebinding page cannot read /config_dump), and a POST /reload from a foreign
 * Origin or a cross-site fetch is refused without reloading. Plus the config shape.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { startAdminServer, type AdminProvider, type AdminServer } from '../../src/admin/server';
import { AdminHostGuard, hostOf } from '../../src/admin/host-guard';
import { parseConfigText } from '../../src/config/load';
import { ConfigError } from '../../src/api/errors';
import { registerBuiltins } from '../../src/builtins';
import { quietLog } from '../fixtures/harness';

function call(port: number, method: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false, setHost: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('admin Host/Origin guard', () => {
  let server: AdminServer;
  let reloads = 0;

  before(async () => {
    const provider: AdminProvider = {
      ready: () => true,
      statsRegistries: () => [],
      clusters: () => ({}),
      listeners: () => ({}),
      configDump: () => ({ secret: 'config' }),
      reload: async () => {
        reloads++;
        return { ok: true };
      },
    };
    server = await startAdminServer({ address: { host: '127.0.0.1', port: 0 }, allowedHosts: ['admin.internal'], provider, log: quietLog });
  });

  after(() => server.close());

  it('serves requests that name the admin by IP, localhost or an allowed name', async () => {
    const p = server.port;
    assert.equal(await call(p, 'GET', '/config_dump', { host: `127.0.0.1:${p}` }), 200);
    assert.equal(await call(p, 'GET', '/config_dump', { host: `localhost:${p}` }), 200);
    assert.equal(await call(p, 'GET', '/config_dump', { host: `[::1]:${p}` }), 200);
    assert.equal(await call(p, 'GET', '/config_dump', { host: 'ADMIN.internal:9901' }), 200);
  });

  it('refuses a foreign Host on every path, and a foreign or cross-site POST without reloading', async () => {
    const p = server.port;
    assert.equal(await call(p, 'GET', '/config_dump', { host: 'rebind.attacker.example' }), 403);
    assert.equal(await call(p, 'GET', '/stats/prometheus', { host: `rebind.attacker.example:${p}` }), 403);
    const before = reloads;
    assert.equal(await call(p, 'POST', '/reload', { host: `127.0.0.1:${p}`, origin: 'http://attacker.example' }), 403);
    assert.equal(await call(p, 'POST', '/reload', { host: `127.0.0.1:${p}`, 'sec-fetch-site': 'cross-site' }), 403);
    assert.equal(await call(p, 'POST', '/reload', { host: `127.0.0.1:${p}`, origin: 'null' }), 403);
    assert.equal(reloads, before, 'nothing reloaded');
    assert.equal(await call(p, 'POST', '/reload', { host: `127.0.0.1:${p}`, origin: `http://localhost:${p}` }), 200);
    assert.equal(await call(p, 'POST', '/reload', { host: `127.0.0.1:${p}` }), 200, 'curl sends no Origin');
    assert.equal(reloads, before + 2);
  });

  it('parses host names out of Host and Origin values', () => {
    assert.equal(hostOf('Example.COM:80'), 'example.com');
    assert.equal(hostOf('[::1]:9901'), '::1');
    assert.equal(hostOf('::1'), '::1');
    const g = new AdminHostGuard('0.0.0.0', []);
    assert.equal(g.check('GET', { host: '10.1.2.3:9901' }), null);
    assert.match(g.check('GET', { host: 'evil.example' }) ?? '', /not allowed/);
    assert.match(g.check('POST', { host: '10.1.2.3', origin: 'not a url' }) ?? '', /not a URL/);
  });

  it('reads admin.allowed_hosts and rejects bad entries with their paths', () => {
    registerBuiltins();
    const listeners = 'listeners: [{ name: web, address: 127.0.0.1:0, routes: [{ match: { prefix: / }, direct_response: { status: 200 } }] }]\n';
    const ok = parseConfigText('admin: { address: 127.0.0.1:0, allowed_hosts: [admin.internal] }\n' + listeners, { format: 'yaml', baseDir: process.cwd() });
    assert.deepEqual(ok.admin?.allowed_hosts, ['admin.internal']);
    assert.throws(
      () => parseConfigText('admin: { allowed_hosts: ["", "a b", 3] }\n' + listeners, { format: 'yaml', baseDir: process.cwd() }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(
          e.issues.map((i) => i.path),
          ['admin.allowed_hosts[0]', 'admin.allowed_hosts[1]', 'admin.allowed_hosts[2]'],
        );
        return true;
      },
    );
  });
});
