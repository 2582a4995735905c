/**
 * Unit tests for the rpc suite's report (bench/suites/rpc-report.ts: per-protocol ratios to
 * haproxy-tcp and direct, the ≥ 0.5 × haproxy-tcp check, the table) and its generated peer
 * configs and target names (bench/peers/rpc-peers.ts).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunRecord, TargetResult } from '../../bench/lib/rounds';
import { RPC_TARGETS, haproxyTcpCfg, parseTargetName, switchyardRpcConfig } from '../../bench/peers/rpc-peers';
import { rpcMarkdownTable, rpcSummary, targetCheck } from '../../bench/suites/rpc-report';

function ok(round: number, rps: number, errors = 0): RunRecord {
  return { round, ok: true, measurement: { rps, p50Ms: 1, p99Ms: 2, errors, detail: null, raw: '' }, rssMaxMB: 50, cpuPct: 90, foreignCpuPct: 1 };
}
function target(name: string, runs: RunRecord[], skipped?: string): TargetResult {
  return { name, version: skipped ? '' : 'v', runs, ...(skipped ? { skipped } : {}) };
}

test('ratios are per protocol: × haproxy-tcp and × direct of the same protocol', () => {
  const rows = rpcSummary([
    target('dubbo-direct', [ok(1, 100_000), ok(2, 120_000), ok(3, 110_000)]),
    target('dubbo-switchyard', [ok(1, 10_000), ok(2, 20_000), ok(3, 15_000)]),
    target('dubbo-haproxy-tcp', [ok(1, 40_000), ok(2, 40_000), ok(3, 40_000)]),
    target('bolt-direct', [ok(1, 200_000)]),
    target('bolt-switchyard', [], 'no "bolt" codec'),
    target('bolt-haproxy-tcp', [ok(1, 50_000)]),
  ]);
  const get = (n: string) => rows.find((r) => r.name === n)!;
  assert.equal(get('dubbo-switchyard').protocol, 'dubbo');
  assert.equal(get('dubbo-switchyard').peer, 'switchyard');
  assert.equal(get('dubbo-switchyard').rps, 15_000);
  assert.equal(get('dubbo-switchyard').xHaproxyTcp, 15_000 / 40_000);
  assert.equal(get('dubbo-switchyard').xDirect, 15_000 / 110_000);
  assert.equal(get('dubbo-haproxy-tcp').xHaproxyTcp, 1);
  assert.equal(get('bolt-haproxy-tcp').xDirect, 0.25);
  assert.ok(Number.isNaN(get('bolt-switchyard').xHaproxyTcp));
  const check = targetCheck(rows);
  assert.match(check[0], /^dubbo: .*NOT MET — 0\.38 × \(15,000 vs 40,000 req\/s\)$/);
  assert.match(check[1], /^bolt: .*not measured \(switchyard skipped: no "bolt" codec\)/);
  const table = rpcMarkdownTable(rows);
  assert.match(table, /\| dubbo \| switchyard \| 15,000 \| 1\.00 \| 2\.00 \| 50\.0 \| 0\.38 \| 0\.14 \| 0 \| 90 \| 1 \| 3\/3 \|/);
  assert.match(table, /\| bolt \| switchyard \| skipped \|/);
});

test('target check: met, failed haproxy, errors flagged, missing peer', () => {
  const met = rpcSummary([target('bolt-switchyard', [ok(1, 30_000, 4)]), target('bolt-haproxy-tcp', [ok(1, 50_000)])]);
  assert.match(targetCheck(met)[0], /MET — 0\.60 × .*but 4 errors/);
  assert.doesNotMatch(targetCheck(met)[0], /NOT MET/);
  const hapFailed = rpcSummary([
    target('dubbo-switchyard', [ok(1, 30_000)]),
    target('dubbo-haproxy-tcp', [{ round: 1, ok: false, error: 'boom' }]),
  ]);
  assert.match(targetCheck(hapFailed)[0], /not measured \(haproxy-tcp failed every run\)/);
  assert.ok(Number.isNaN(hapFailed[0].xHaproxyTcp));
  const alone = rpcSummary([target('dubbo-direct', [ok(1, 1)])]);
  assert.match(targetCheck(alone)[0], /not measured \(switchyard not among the targets\)/);
});

test('target names: protocol-major, parse back, reject others', () => {
  assert.deepEqual(RPC_TARGETS, [
    'dubbo-direct', 'dubbo-switchyard', 'dubbo-haproxy-tcp', 'bolt-direct', 'bolt-switchyard', 'bolt-haproxy-tcp',
  ]);
  assert.deepEqual(parseTargetName('bolt-haproxy-tcp'), { protocol: 'bolt', peer: 'haproxy-tcp' });
  assert.equal(parseTargetName('http-direct'), null);
  assert.equal(parseTargetName('dubbo-nginx'), null);
});

test('haproxy tcp config: mode tcp, one thread, a frontend/backend pair per entry, no http options', () => {
  const cfg = haproxyTcpCfg([{ name: 'dubbo', port: 1000, upstreamPort: 2000 }, { name: 'bolt', port: 1001, upstreamPort: 2001 }]);
  assert.match(cfg, /^\s+mode tcp$/m);
  assert.match(cfg, /^\s+nbthread 1$/m);
  assert.match(cfg, /frontend fe_dubbo\n\s+bind 127\.0\.0\.1:1000\n\s+default_backend be_dubbo\n/);
  assert.match(cfg, /backend be_bolt\n\s+server up1 127\.0\.0\.1:2001\n/);
  assert.doesNotMatch(cfg, /mode http|option http/);
});

test('switchyard config: same-protocol listener and cluster, routing by service, no access log', () => {
  const c = switchyardRpcConfig('dubbo', 1000, 1001, 2000) as {
    access_log: boolean;
    admin: { address: string };
    listeners: Array<{ protocol: string; address: string; routes: Array<{ match: { service: string }; cluster: string }> }>;
    clusters: Array<{ name: string; protocol: string; endpoints: Array<{ address: string }> }>;
  };
  assert.equal(c.access_log, false);
  assert.equal(c.admin.address, '127.0.0.1:1001');
  assert.equal(c.listeners[0].protocol, 'dubbo');
  assert.equal(c.listeners[0].address, '127.0.0.1:1000');
  assert.deepEqual(c.listeners[0].routes, [{ match: { service: 'com.example.Echo' }, cluster: 'echo' }]);
  assert.deepEqual(c.clusters, [{ name: 'echo', protocol: 'dubbo', endpoints: [{ address: '127.0.0.1:2000' }] }]);
  const b = switchyardRpcConfig('bolt', 1, 2, 3) as typeof c;
  assert.equal(b.listeners[0].protocol, 'bolt');
  assert.deepEqual(b.listeners[0].routes, [{ match: { service: 'com.example.Echo:1.0.0' }, cluster: 'echo' }]);
  assert.equal(b.clusters[0].protocol, 'bolt');
  assert.equal((c as { plugins?: unknown }).plugins, undefined);
  const withPlugins = switchyardRpcConfig('dubbo', 1, 2, 3, ['/x/dubbo.js']) as { plugins: string[] };
  assert.deepEqual(withPlugins.plugins, ['/x/dubbo.js']);
});
