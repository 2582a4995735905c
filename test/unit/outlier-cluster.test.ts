/**
 * Outlier detection inside a Cluster: tries reported through requestFinished(ep, ok, latency,
 * result) eject an endpoint from the balancer and bring it back on time; ejection combines with
 * active health (available only when healthy AND not ejected); gauges and the admin snapshot.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, ENDPOINTS_GAUGE } from '../../src/upstream/cluster';
import { registerBuiltinLoadBalancers } from '../../src/upstream/lb';
import { StatsRegistry } from '../../src/observability/stats';
import type { OutlierDetectionConfig } from '../../src/config/types';
import { EJECTED_GAUGE, failureResult, statusResult } from '../../src/upstream/outlier';
import { ManualClock } from '../fixtures/manual-clock';
import { clusterConfig, FakeProtocol, seeded } from './upstream/fake-protocol';

registerBuiltinLoadBalancers();

const OD: OutlierDetectionConfig = {
  consecutive_5xx: 3, consecutive_gateway_failure: 3, interval_ms: 10_000, base_ejection_time_ms: 30_000,
  max_ejection_time_ms: 300_000, max_ejection_percent: 50, success_rate_minimum_hosts: 5,
  success_rate_request_volume: 100, success_rate_stdev_factor: 1900,
};

function setup() {
  const clock = new ManualClock();
  const stats = new StatsRegistry();
  const proto = new FakeProtocol();
  const cluster = new Cluster(clusterConfig({ name: 'api', outlier_detection: OD }), {
    stats, clock, random: seeded(5), protocols: () => proto,
  });
  const gauge = (name: string, labels: Record<string, string> = {}) => stats.gauge(name, '', { cluster: 'api', ...labels }).value;
  return { clock, cluster, gauge };
}

function finish(cluster: Cluster, port: number, result: Parameters<Cluster['requestFinished']>[3], ok = false): void {
  const ep = cluster.endpoints.find((e) => e.port === port)!;
  cluster.requestStarted(ep);
  cluster.requestFinished(ep, ok, 1, result);
}

function picks(cluster: Cluster): Set<number> {
  const seen = new Set<number>();
  for (let i = 0; i < 30; i++) seen.add(cluster.pick(null)!.port);
  return seen;
}

describe('Cluster with outlier_detection', () => {
  it('ejects after consecutive 5xx and returns the endpoint after the ejection time', () => {
    const { clock, cluster, gauge } = setup();
    for (let i = 0; i < 3; i++) finish(cluster, 9001, statusResult(500));
    const a = cluster.endpoints[0];
    assert.equal(a.ejected, true);
    assert.equal(a.activeHealthy, true);
    assert.equal(a.healthy, false);
    assert.deepEqual(picks(cluster), new Set([9002]));
    assert.equal(gauge(EJECTED_GAUGE), 1);
    assert.equal(gauge(ENDPOINTS_GAUGE, { health: 'healthy' }), 1);
    assert.equal(gauge(ENDPOINTS_GAUGE, { health: 'unhealthy' }), 1);
    const h = cluster.snapshot().endpoints[0].health;
    assert.equal(h.ejected, true);
    assert.equal(h.times_ejected, 1);
    assert.equal(h.ejected_until, new Date(Date.UTC(2026, 0, 1) + 30_000).toISOString());
    clock.advance(30_000);
    assert.equal(a.healthy, true);
    assert.deepEqual(picks(cluster), new Set([9001, 9002]));
    assert.equal(gauge(EJECTED_GAUGE), 0);
    assert.equal(gauge(ENDPOINTS_GAUGE, { health: 'healthy' }), 2);
    assert.equal(cluster.snapshot().endpoints[0].health.ejected_until, null);
  });

  it('tries without a result (cancelled) and overflow say nothing about the endpoint', () => {
    const { cluster } = setup();
    for (let i = 0; i < 10; i++) finish(cluster, 9001, undefined);
    for (let i = 0; i < 10; i++) finish(cluster, 9001, failureResult('overflow'));
    assert.equal(cluster.endpoints[0].ejected, false);
    assert.equal(cluster.endpoints[0].failures, 20, 'still counted as failed requests');
  });

  it('health and ejection combine: available only when healthy and not ejected', () => {
    const { clock, cluster } = setup();
    const a = cluster.endpoints[0];
    for (let i = 0; i < 3; i++) finish(cluster, 9001, failureResult('connect_failure'));
    assert.equal(a.ejected, true);
    cluster.setHealthy(a, false);
    clock.advance(30_000);
    assert.equal(a.ejected, false);
    assert.equal(a.healthy, false, 'still failing health checks');
    assert.deepEqual(picks(cluster), new Set([9002]));
    cluster.setHealthy(a, true);
    assert.equal(a.healthy, true);
    assert.deepEqual(picks(cluster), new Set([9001, 9002]));
  });

  it('forgets endpoints removed by setEndpoints; close() stops un-ejection timers', async () => {
    const { clock, cluster, gauge } = setup();
    for (let i = 0; i < 3; i++) finish(cluster, 9001, statusResult(503));
    assert.equal(gauge(EJECTED_GAUGE), 1);
    cluster.setEndpoints([{ host: '127.0.0.1', port: 9002, weight: 1 }, { host: '127.0.0.1', port: 9003, weight: 1 }]);
    assert.equal(gauge(EJECTED_GAUGE), 0);
    for (let i = 0; i < 3; i++) finish(cluster, 9003, statusResult(502));
    const c = cluster.endpoints[1];
    assert.equal(c.ejected, true);
    await cluster.close();
    clock.advance(60_000);
    assert.equal(c.ejected, true, 'nothing runs after close');
  });
});
