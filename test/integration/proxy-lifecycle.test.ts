/**
 * The proxy as a process: `switchyard validate` exit codes and error paths, `switchyard run`
 * with reload (POST /reload, SIGHUP, file change) under load without a failed request, a bad
 * reload leaving the old config in force, SIGTERM draining in-flight requests then exiting 0,
 * the access log, the admin API, and max connections per listener.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';
import * as http from 'node:http';
import { once } from 'node:events';
import { freePort, request, startUpstream, type Upstream } from '../fixtures/harness';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'switchyard.js');

async function waitFor(fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met in time');
}

function config(o: { port: number; admin: number; upstream: string; route?: string; log?: string; maxConn?: number }): string {
  return `
admin: { address: 127.0.0.1:${o.admin} }
access_log: ${o.log ?? 'false'}
drain_timeout: 5s
listeners:
  - name: web
    address: 127.0.0.1:${o.port}
    limits: { max_connections: ${o.maxConn ?? 1000} }
    routes:
      - { match: { prefix: ${o.route ?? '/'} }, cluster: up }
clusters:
  - { name: up, endpoints: [{ address: ${o.upstream} }] }
`;
}

describe('switchyard validate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-validate-'));
  it('exits 0 on a good config', () => {
    const f = join(dir, 'good.yaml');
    writeFileSync(f, config({ port: 0, admin: 0, upstream: '127.0.0.1:1' }));
    const r = spawnSync(process.execPath, [BIN, 'validate', '-c', f], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ok/);
  });
  it('exits 1 with every error and its path', () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(
      f,
      `listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - { match: { prefix: / }, cluster: apii }
      - { match: { prefx: / }, cluster: api }
clusters:
  - { name: api, connect_timeout: soon, endpoints: [{ address: 127.0.0.1:1 }] }
`,
    );
    const r = spawnSync(process.execPath, [BIN, 'validate', '-c', f], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /listeners\[0\]\.routes\[0\]\.cluster: unknown cluster "apii"/);
    assert.match(r.stderr, /listeners\[0\]\.routes\[1\]\.match\.prefx: unknown key/);
    assert.match(r.stderr, /clusters\[0\]\.connect_timeout/);
  });
});

describe('switchyard run', () => {
  let up: Upstream;
  let slowRelease: (() => void) | null = null;
  let child: ChildProcess;
  let dir: string;
  let file: string;
  let port: number;
  let admin: number;
  let stderr = '';

  before(async () => {
    up = await startUpstream((req, res) => {
      if (req.url === '/slow') {
        slowRelease = () => res.end('slow done');
        return;
      }
      res.end(`up ${req.url}`);
    });
    dir = mkdtempSync(join(tmpdir(), 'sy-run-'));
    file = join(dir, 'switchyard.yaml');
    port = await freePort();
    admin = await freePort();
    writeFileSync(file, config({ port, admin, upstream: up.address, log: JSON.stringify(join(dir, 'access.log')) }));
    child = spawn(process.execPath, [BIN, 'run', '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitFor(async () => (await request(`http://127.0.0.1:${admin}/ready`)).status === 200);
  });

  after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await up.close();
  });

  it('serves, writes the access log, and answers the admin API', async () => {
    const r = await request(`http://127.0.0.1:${port}/hello`, { headers: { 'x-request-id': 'log-me' } });
    assert.equal(r.body, 'up /hello');
    for (const p of ['/stats', '/clusters', '/listeners', '/config_dump']) {
      const a = await request(`http://127.0.0.1:${admin}${p}`);
      assert.equal(a.status, 200, p);
      JSON.parse(a.body);
    }
    assert.match((await request(`http://127.0.0.1:${admin}/clusters`)).body, new RegExp(up.address));
    await waitFor(async () => readFileSync(join(dir, 'access.log'), 'utf8').includes('log-me'));
    const line = JSON.parse(readFileSync(join(dir, 'access.log'), 'utf8').trim().split('\n').pop()!);
    assert.equal(line.request_id, 'log-me');
    assert.equal(line.status, 200);
    assert.equal(line.listener, 'web');
    assert.equal(line.cluster, 'up');
    assert.equal(line.upstream, up.address);
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/hello');
    for (const k of ['time', 'route', 'authority', 'reason', 'bytes_in', 'bytes_out', 'duration_ms']) assert.ok(k in line, k);
  });

  it('reloads under load (POST /reload, SIGHUP, file change) without a failed request; a bad config changes nothing', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    let failed = 0;
    let done = 0;
    let stop = false;
    const loops = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const r = await request(`http://127.0.0.1:${port}/load`, { agent }).catch(() => null);
        if (r === null || (r.status !== 200 && r.status !== 404)) failed++;
        done++;
      }
    });
    await new Promise((r) => setTimeout(r, 200));
    // 1. a change through POST /reload
    writeFileSync(file, config({ port, admin, upstream: up.address, route: '/load' }));
    const ok = await request(`http://127.0.0.1:${admin}/reload`, { method: 'POST' });
    assert.equal(ok.status, 200, ok.body);
    assert.equal((await request(`http://127.0.0.1:${port}/elsewhere`)).status, 404);
    // 2. a bad config is rejected with its errors; the old one stays
    writeFileSync(file, config({ port, admin, upstream: up.address, route: '/load' }).replace('cluster: up', 'cluster: nope'));
    const bad = await request(`http://127.0.0.1:${admin}/reload`, { method: 'POST' });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /unknown cluster \\?"nope\\?"/);
    assert.equal((await request(`http://127.0.0.1:${port}/load`)).status, 200);
    // 3. SIGHUP after a good change
    writeFileSync(file, config({ port, admin, upstream: up.address, route: '/' }));
    child.kill('SIGHUP');
    await waitFor(async () => (await request(`http://127.0.0.1:${port}/elsewhere`)).status === 200);
    // 4. a change of the file alone (no signal, no API call) is picked up
    writeFileSync(file, config({ port, admin, upstream: up.address, route: '/load' }));
    await waitFor(async () => (await request(`http://127.0.0.1:${port}/elsewhere`)).status === 404);
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await Promise.all(loops);
    agent.destroy();
    assert.ok(done > 50, `only ${done} requests ran`);
    assert.equal(failed, 0, `${failed} of ${done} requests failed during reloads`);
  });

  it('enforces max connections per listener', async () => {
    writeFileSync(file, config({ port, admin, upstream: up.address, maxConn: 2 }));
    assert.equal((await request(`http://127.0.0.1:${admin}/reload`, { method: 'POST' })).status, 200);
    const socks = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
    await Promise.all(socks.map((s) => once(s, 'connect')));
    await new Promise((r) => setTimeout(r, 50));
    const third = net.connect(port, '127.0.0.1');
    third.on('error', () => {});
    await once(third, 'close');
    for (const s of socks) s.destroy();
    writeFileSync(file, config({ port, admin, upstream: up.address }));
    assert.equal((await request(`http://127.0.0.1:${admin}/reload`, { method: 'POST' })).status, 200);
  });

  it('drains on SIGTERM: the in-flight request completes, then exit 0', async () => {
    const inflight = request(`http://127.0.0.1:${port}/slow`);
    await waitFor(async () => slowRelease !== null);
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 150));
    // new connections are refused while draining
    await assert.rejects(request(`http://127.0.0.1:${port}/after`));
    slowRelease!();
    const r = await inflight;
    assert.equal(r.body, 'slow done');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, stderr);
  });
});
