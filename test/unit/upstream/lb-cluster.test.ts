import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, type ClusterDeps } from '../../../src/upstream/cluster';
import { registerBuiltinLoadBalancers } from '../../../src/upstream/lb';
import { ewmaStateOf } from '../../../src/upstream/lb/peak-ewma';
import { StatsRegistry } from '../../../src/observability/stats';
import { clusterConfig, FakeProtocol } from './fake-protocol';
import { seeded, TestClock } from './lb-helpers';

registerBuiltinLoadBalancers();

function setup(over: Parameters<typeof clusterConfig>[0]) {
  const proto = new FakeProtocol();
  const clock = new TestClock();
  clock.t = 1000;
  const deps: ClusterDeps = { stats: new StatsRegistry(), clock, random: seeded(1), protocols: (n) => (n === proto.name ? proto : undefined) };
  return { clock, cluster: new Cluster(clusterConfig(over), deps) };
}

const tallyCluster = (c: Cluster, n: number) => {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const a = c.pick(null)!.address;
    m.set(a, (m.get(a) ?? 0) + 1);
  }
  return m;
};

describe('Cluster and the balancer extensions', () => {
  it('passes request latency to the balancer (peak_ewma), through health rebuilds', () => {
    const { cluster, clock } = setup({ name: 'c', lb: 'peak_ewma' });
    const [a, b] = cluster.endpoints;
    cluster.requestStarted(a);
    clock.t += 250;
    cluster.requestFinished(a, true, 250);
    assert.equal(ewmaStateOf(a)!.ewma, 250);
    assert.equal(a.activeRequests, 0);
    cluster.requestStarted(b);
    cluster.requestFinished(b, true); // no latency: counters only
    assert.equal(ewmaStateOf(b)!.sampled, undefined);
    cluster.setHealthy(b, false);
    cluster.setHealthy(b, true); // rebuilt balancer, same estimates
    cluster.requestStarted(b);
    cluster.requestFinished(b, true, 5);
    const m = tallyCluster(cluster, 1000);
    assert.ok((m.get(b.address) ?? 0) > 700, `b ${m.get(b.address)}`);
  });

  it('stamps endpoints with createdAt from the cluster clock, kept across snapshot swaps', () => {
    const { cluster, clock } = setup({ name: 'c' });
    const [a] = cluster.endpoints;
    assert.equal(a.createdAt, 1000);
    clock.t = 5000;
    cluster.setEndpoints([
      { host: '127.0.0.1', port: 9001, weight: 1 },
      { host: '127.0.0.1', port: 9003, weight: 1 },
    ]);
    assert.equal(cluster.endpoints[0], a);
    assert.equal(cluster.endpoints[0].createdAt, 1000);
    assert.equal(cluster.endpoints[1].createdAt, 5000);
  });

  it('slow start through the cluster: a new endpoint ramps up with the clock', () => {
    for (const lb of ['round_robin', 'least_request']) {
      const { cluster, clock } = setup({ name: 'c', lb, lb_config: { slow_start: { window: '10s' } } });
      const eps = (port: number) => ({ host: '127.0.0.1', port, weight: 1 });
      cluster.setEndpoints([eps(9001), eps(9002)]);
      clock.t = 100_000;
      cluster.setEndpoints([eps(9001), eps(9002), eps(9003)]);
      const fresh = '127.0.0.1:9003';
      clock.t += 1000; // 10% of the window: weight 0.1 (min_weight_percent 10)
      let share = (tallyCluster(cluster, 4200).get(fresh) ?? 0) / 4200;
      assert.ok(Math.abs(share - 0.1 / 2.1) < 0.02, `${lb}: share at 10% ${share}`);
      clock.t += 4000; // 50%
      share = (tallyCluster(cluster, 2500).get(fresh) ?? 0) / 2500;
      assert.ok(Math.abs(share - 0.5 / 2.5) < 0.03, `${lb}: share at 50% ${share}`);
      clock.t += 6000; // past the window: a full share
      share = (tallyCluster(cluster, 3000).get(fresh) ?? 0) / 3000;
      assert.ok(Math.abs(share - 1 / 3) < 0.03, `${lb}: share after the window ${share}`);
    }
  });

  it('wraps the balancer for lb_config.local_zone', () => {
    const { cluster } = setup({ name: 'c', lb: 'least_request', lb_config: { local_zone: 'a' } });
    assert.deepEqual([...tallyCluster(cluster, 200).keys()], ['127.0.0.1:9001']);
    cluster.setHealthy(cluster.endpoints[0], false);
    assert.deepEqual([...tallyCluster(cluster, 200).keys()], ['127.0.0.1:9002']);
  });

  it('rejects a bad lb_config when the cluster is built', () => {
    assert.throws(() => setup({ name: 'c', lb: 'maglev', lb_config: { table_size: 100 } }), /prime/);
    assert.throws(() => setup({ name: 'c', lb_config: { local_zone: '' } }), /local_zone/);
    assert.throws(() => setup({ name: 'c', lb: 'round_robin', lb_config: { slow_start: { window: 'x' } } }), /slow_start.window/);
  });
});
