/**
 * The `wasm` filter through the real proxy, with modules built at test time from AssemblyScript
 * sources written against the third-party SDK @gcoredev/proxy-wasm-sdk-as: header edits and
 * properties, a local reply, body replacement, traps, config errors, metrics, ticks and shared
 * data between two plugins.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerFilter, registry, type Clock, type TimerHandle } from '../../src/api';
import { parseConfigText } from '../../src/config/load';
import { ProxyServer } from '../../src/runtime/proxy-server';
import { registerBuiltins } from '../../src/builtins';
import { wasmFilterFactory, resetSharedState } from '../../src/wasm';
import { metricValue, quietLog, request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';
import { buildFixture, tinyModule } from '../fixtures/wasm/build';

function yaml(up: Upstream, filters: string, admin = false): string {
  return `
${admin ? 'admin: { address: 127.0.0.1:0 }' : 'admin: null'}
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    filters:
${filters}
    routes: [{ match: { prefix: / }, cluster: up }]
clusters:
  - { name: up, endpoints: [{ address: ${up.address} }] }
`;
}

function wasm(module: string, extra: string): string {
  return `      - { name: wasm, config: { module: ${JSON.stringify(module)}, ${extra} } }`;
}

describe('wasm filter (proxy-wasm 0.2.1 modules from the G-Core AssemblyScript SDK)', () => {
  let up: Upstream;
  let tester: string;
  let tmp: string;
  const running: Running[] = [];

  before(async () => {
    if (registry.filter('wasm') === undefined) registerFilter(wasmFilterFactory);
    resetSharedState();
    [up, tester, tmp] = await Promise.all([
      startUpstream(undefined, 'up'),
      buildFixture('tester'),
      mkdtemp(join(tmpdir(), 'switchyard-wasm-test-')),
    ]);
  });

  after(async () => {
    await Promise.all(running.map((r) => r.stop()));
    await up.close();
    await rm(tmp, { recursive: true, force: true });
  });

  async function proxy(filters: string, admin = false): Promise<Running> {
    const r = await startProxy(yaml(up, filters, admin));
    running.push(r);
    return r;
  }

  it('adds, replaces and removes request and response headers; reads properties', async () => {
    const p = await proxy(wasm(tester, 'configuration: headers, root_id: hdrs'));
    const r = await request(`${p.url}/some/path?q=1`, { headers: { 'x-remove-me': 'x', 'x-replace': 'old' } });
    assert.equal(r.status, 200);
    const echo = JSON.parse(r.body);
    assert.equal(echo.headers['x-wasm-req'], '1');
    assert.equal(echo.headers['x-remove-me'], undefined);
    assert.equal(echo.headers['x-replace'], 'replaced');
    assert.equal(echo.headers['x-prop-path'], '/some/path?q=1');
    assert.equal(echo.headers['x-prop-method'], 'GET');
    assert.equal(echo.headers['x-prop-port'], String(p.port));
    assert.equal(echo.headers['x-prop-plugin'], 'hdrs');
    assert.equal(echo.headers['x-time-ok'], '1');
    assert.ok(Number(echo.headers['x-count']) >= 4, 'header count passed to on_request_headers');
    assert.equal(r.headers['x-wasm-resp'], 'hdrs');
    assert.equal(r.headers['x-upstream'], undefined);
  });

  it('answers locally (401 with a header) when the token is missing', async () => {
    const p = await proxy(wasm(tester, 'configuration: auth'));
    const before = up.requests;
    const denied = await request(`${p.url}/private`);
    assert.equal(denied.status, 401);
    assert.equal(denied.headers['www-authenticate'], 'Bearer');
    assert.equal(denied.body, 'token required\n');
    assert.equal(up.requests, before, 'the upstream never saw the denied request');
    const ok = await request(`${p.url}/private`, { headers: { authorization: 'Bearer x' } });
    assert.equal(ok.status, 200);
  });

  it('reads and replaces request and response bodies', async () => {
    const p = await proxy(wasm(tester, 'configuration: body'));
    const r = await request(`${p.url}/echo`, { method: 'POST', body: 'hello' });
    assert.equal(r.status, 200);
    const m = /^<(\d+)>(.*)$/s.exec(r.body);
    assert.ok(m, `response body rewritten: ${r.body}`);
    const echo = JSON.parse(m[2]);
    assert.equal(Number(m[1]), m[2].length);
    assert.equal(echo.bytes, 'wasm[hello]'.length, 'upstream got the replaced request body');
  });

  it('fails only the trapping request with a 500 and counts the trap; the next request works', async () => {
    const p = await proxy(wasm(tester, 'configuration: trap, name: trapper'), true);
    const bad = await request(`${p.url}/x`, { headers: { 'x-trap': '1' } });
    assert.equal(bad.status, 500);
    const good = await request(`${p.url}/x`);
    assert.equal(good.status, 200);
    assert.equal(JSON.parse(good.body).headers['x-survived'], '1');
    assert.equal(await metricValue(p.admin!, 'switchyard_wasm_traps_total', { plugin: 'trapper' }), 1);
  });

  it('passes a trapping request through when fail_open is set', async () => {
    const p = await proxy(wasm(tester, 'configuration: trap, fail_open: true'));
    const r = await request(`${p.url}/x`, { headers: { 'x-trap': '1' } });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).headers['x-survived'], undefined);
  });

  it('rejects a module with an unknown import, naming it', async () => {
    const file = join(tmp, 'unknown-import.wasm');
    await writeFile(file, tinyModule({ imports: [['foo', 'bar']], exports: ['proxy_abi_version_0_2_1'] }));
    await assert.rejects(proxy(wasm(file, 'configuration: x')), (err: Error) => {
      assert.match(err.message, /filters\[0\]\.config\.module/);
      assert.match(err.message, /"foo\.bar"/);
      return true;
    });
  });

  it('rejects a file that is not WebAssembly, and a module without an ABI marker', async () => {
    const junk = join(tmp, 'junk.wasm');
    await writeFile(junk, 'this is not wasm');
    await assert.rejects(proxy(wasm(junk, 'configuration: x')), /not a valid WebAssembly module/);
    const plain = join(tmp, 'plain.wasm');
    await writeFile(plain, tinyModule({ exports: ['hello'] }));
    await assert.rejects(proxy(wasm(plain, 'configuration: x')), /not a proxy-wasm module/);
  });

  it('rejects a configuration that proxy_on_configure refuses or traps on', async () => {
    await assert.rejects(proxy(wasm(tester, 'configuration: reject')), (err: Error) => {
      assert.match(err.message, /filters\[0\]\.config\.configuration/);
      assert.match(err.message, /proxy_on_configure rejected/);
      return true;
    });
    await assert.rejects(proxy(wasm(tester, 'configuration: trap_configure')), /failed to start/);
  });

  it('verifies sha256', async () => {
    await assert.rejects(proxy(wasm(tester, `configuration: headers, sha256: "${'0'.repeat(64)}"`)), /config\.sha256: .* has sha256/);
  });

  it('exports plugin metrics on /stats/prometheus', async () => {
    const p = await proxy(wasm(tester, 'configuration: metrics, name: m1'), true);
    for (let i = 0; i < 3; i++) assert.equal((await request(`${p.url}/abc`)).status, 200);
    assert.equal(await metricValue(p.admin!, 'switchyard_wasm_requests_total', { plugin: 'm1' }), 3);
    assert.equal(await metricValue(p.admin!, 'switchyard_wasm_inflight', { plugin: 'm1' }), 0);
    assert.equal(await metricValue(p.admin!, 'switchyard_wasm_path_len_count', { plugin: 'm1' }), 3);
  });

  it('shares data between two plugins, with compare-and-swap', async () => {
    const p = await proxy([wasm(tester, 'configuration: shared_set'), wasm(tester, 'configuration: shared_get')].join('\n'));
    const r = await request(`${p.url}/s`, { headers: { 'x-set': 'hello' } });
    const echo = JSON.parse(r.body);
    assert.equal(echo.headers['x-shared'], 'hello');
    assert.equal(echo.headers['x-fresh-cas'], 'accepted');
    assert.equal(echo.headers['x-stale-cas'], 'refused');
  });

  it('calls proxy_on_tick at the period the root context set', async () => {
    registerBuiltins();
    const clock = new ManualClock();
    const config = parseConfigText(yaml(up, wasm(tester, 'configuration: tick')), { format: 'yaml', baseDir: process.cwd() });
    const server = new ProxyServer({ log: quietLog, clock });
    await server.start(config);
    try {
      const url = `http://127.0.0.1:${server.listenerPort('web')}/t`;
      assert.equal(JSON.parse((await request(url)).body).headers['x-ticks'], '0');
      clock.advance(10);
      clock.advance(10);
      clock.advance(5);
      assert.equal(JSON.parse((await request(url)).body).headers['x-ticks'], '2');
    } finally {
      await server.stop();
    }
  });
});

/** A clock moved by hand: timers fire inside advance(). */
class ManualClock implements Clock {
  private t = 0;
  private timers = new Set<{ due: number; ms: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  wallNow(): number {
    return 1_700_000_000_000 + this.t;
  }
  setTimer(fn: () => void, ms: number): TimerHandle {
    const e = { due: this.t + ms, ms, fn };
    this.timers.add(e);
    const timers = this.timers;
    const self = this;
    return {
      cancel() {
        timers.delete(e);
      },
      refresh() {
        e.due = self.t + e.ms;
        timers.add(e);
      },
    };
  }
  advance(ms: number): void {
    this.t += ms;
    for (const e of [...this.timers]) {
      if (e.due <= this.t) {
        this.timers.delete(e);
        e.fn();
      }
    }
  }
}
