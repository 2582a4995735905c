/**
 * Active health checking inside a Cluster (fake pools, scripted prober, ManualClock): endpoints
 * start unavailable until their first check, the balancer follows health, metrics and the admin
 * snapshot are kept right, and checkers follow setEndpoints, close and destroy.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, ENDPOINTS_GAUGE, type ClusterDeps } from '../../src/upstream/cluster';
import { registerBuiltinLoadBalancers } from '../../src/upstream/lb';
import { StatsRegistry } from '../../src/observability/stats';
import type { HealthCheckConfig } from '../../src/config/types';
import { HEALTH_CHECKS_COUNTER, HEALTH_TRANSITIONS_COUNTER, type ProbeDone, type Prober, type ProbeTarget } from '../../src/upstream/health';
import { ManualClock } from '../fixtures/manual-clock';
import { clusterConfig, FakeProtocol, seeded } from './upstream/fake-protocol';

registerBuiltinLoadBalancers();

/** Each port's verdict is looked up when the probe starts (synchronous answers). */
class PortProber implements Prober {
  readonly type = 'ports';
  readonly verdict = new Map<number, boolean>();
  readonly started: number[] = [];
  start(t: ProbeTarget, done: ProbeDone) {
    this.started.push(t.port);
    done(this.verdict.get(t.port) ?? true, 'down');
    return { cancel: () => {} };
  }
}

const HC: HealthCheckConfig = {
  type: 'tcp', path: '/healthz', expected_statuses: [[200, 299]], service_name: '', interval_ms: 1000,
  timeout_ms: 100, jitter_ms: 0, healthy_threshold: 2, unhealthy_threshold: 2, host: 'api',
};

function setup(prober: Prober = new PortProber()) {
  const clock = new ManualClock();
  const stats = new StatsRegistry();
  const proto = new FakeProtocol();
  const deps: ClusterDeps = {
    stats,
    clock,
    random: seeded(3),
    protocols: (n) => (n === proto.name ? proto : undefined),
    healthProber: () => prober,
  };
  const cluster = new Cluster(clusterConfig({ name: 'api', health_check: HC }), deps);
  const gauge = (health: string) => stats.gauge(ENDPOINTS_GAUGE, '', { cluster: 'api', health }).value;
  const counter = (name: string, labels: Record<string, string>) => stats.counter(name, '', { cluster: 'api', ...labels }).value;
  return { clock, stats, cluster, gauge, counter };
}

function picks(cluster: Cluster, n = 30): Set<number> {
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) seen.add(cluster.pick(null)!.port);
  return seen;
}

describe('Cluster with health_check', () => {
  it('endpoints start unchecked and unavailable; the first check (run at once) decides', () => {
    const prober = new PortProber();
    prober.verdict.set(9002, false);
    // Hold the first verdicts to see the state before any check answered.
    let held: Array<() => void> | null = [];
    const holding: Prober = {
      type: 'hold',
      start: (t, done) => {
        if (held !== null) held.push(() => prober.start(t, done));
        else prober.start(t, done);
        return { cancel: () => {} };
      },
    };
    const { cluster, gauge, counter } = setup(holding);
    const [a, b] = cluster.endpoints;
    assert.equal(a.healthy, false);
    assert.equal(b.healthy, false);
    assert.equal(a.activeHealthy, false);
    assert.equal(gauge('healthy'), 0);
    assert.equal(gauge('unhealthy'), 2);
    assert.equal(cluster.snapshot().endpoints[0].health.active, 'unchecked');
    // Panic mode: with nothing healthy yet, traffic still flows.
    assert.ok(cluster.pick(null) !== null);
    const pending = held;
    held = null;
    for (const f of pending) f();
    assert.equal(a.healthy, true);
    assert.equal(b.healthy, false);
    assert.equal(gauge('healthy'), 1);
    assert.equal(gauge('unhealthy'), 1);
    assert.deepEqual(picks(cluster), new Set([9001]));
    assert.equal(counter(HEALTH_CHECKS_COUNTER, { result: 'success' }), 1);
    assert.equal(counter(HEALTH_CHECKS_COUNTER, { result: 'failure' }), 1);
    assert.equal(counter(HEALTH_TRANSITIONS_COUNTER, { to: 'healthy' }), 1);
    assert.equal(counter(HEALTH_TRANSITIONS_COUNTER, { to: 'unhealthy' }), 1);
    const snap = cluster.snapshot().endpoints;
    assert.equal(snap[0].health.active, 'healthy');
    assert.equal(snap[1].health.active, 'unhealthy');
    assert.equal(snap[1].health.last_check?.result, 'failure');
    assert.equal(snap[1].health.last_check?.detail, 'down');
    assert.equal(snap[1].health.last_check?.at, new Date(Date.UTC(2026, 0, 1)).toISOString());
    cluster.destroy();
  });

  it('traffic follows health transitions by thresholds', () => {
    const prober = new PortProber();
    const { clock, cluster, gauge } = setup(prober);
    assert.deepEqual(picks(cluster), new Set([9001, 9002]));
    prober.verdict.set(9001, false);
    clock.advance(1000);
    assert.deepEqual(picks(cluster), new Set([9001, 9002]), 'one failure is below unhealthy_threshold');
    clock.advance(1000);
    assert.deepEqual(picks(cluster), new Set([9002]));
    assert.equal(gauge('healthy'), 1);
    prober.verdict.set(9001, true);
    clock.advance(1000);
    assert.deepEqual(picks(cluster), new Set([9002]), 'one success is below healthy_threshold');
    clock.advance(1000);
    assert.deepEqual(picks(cluster), new Set([9001, 9002]));
    assert.equal(gauge('healthy'), 2);
    cluster.destroy();
  });

  it('checks endpoints added by setEndpoints at once and stops checking removed ones', () => {
    const prober = new PortProber();
    const { clock, cluster } = setup(prober);
    assert.deepEqual(prober.started, [9001, 9002]);
    prober.started.length = 0;
    cluster.setEndpoints([
      { host: '127.0.0.1', port: 9002, weight: 1 },
      { host: '127.0.0.1', port: 9003, weight: 1 },
    ]);
    assert.deepEqual(prober.started, [9003], 'only the new endpoint is checked now');
    const c = cluster.endpoints.find((e) => e.port === 9003)!;
    assert.equal(c.healthy, true);
    prober.started.length = 0;
    clock.advance(1000);
    assert.deepEqual(prober.started.sort(), [9002, 9003]);
    cluster.destroy();
  });

  it('close() and destroy() stop every checker', async () => {
    const prober = new PortProber();
    const a = setup(prober);
    await a.cluster.close();
    const b = setup(prober);
    b.cluster.destroy();
    prober.started.length = 0;
    a.clock.advance(5000);
    b.clock.advance(5000);
    assert.deepEqual(prober.started, []);
  });

  it('without health_check endpoints are healthy and report unchecked', () => {
    const stats = new StatsRegistry();
    const proto = new FakeProtocol();
    const cluster = new Cluster(clusterConfig({ name: 'plain' }), {
      stats, clock: new ManualClock(), protocols: () => proto,
    });
    assert.equal(cluster.endpoints[0].healthy, true);
    assert.deepEqual(cluster.snapshot().endpoints[0].health, {
      active: 'unchecked', ejected: false, ejected_until: null, times_ejected: 0, last_check: null,
    });
  });
});
