import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterManager } from '../../../src/upstream/cluster-manager';
import type { ClusterDeps } from '../../../src/upstream/cluster';
import { deepEqual } from '../../../src/upstream/deep-equal';
import { registerBuiltinLoadBalancers } from '../../../src/upstream/lb';
import { StatsRegistry } from '../../../src/observability/stats';
import { clusterConfig, FakeProtocol, manualClock, seeded } from './fake-protocol';

registerBuiltinLoadBalancers();

function deps(proto: FakeProtocol): ClusterDeps {
  return { stats: new StatsRegistry(), clock: manualClock, random: seeded(1), protocols: (n) => (n === proto.name ? proto : undefined) };
}

const twoPorts = (a: number, b: number) => [
  { address: { host: '127.0.0.1', port: a }, weight: 1 },
  { address: { host: '127.0.0.1', port: b }, weight: 1 },
];

/** Warms a pool on every endpoint of every cluster. */
function warm(m: ClusterManager): void {
  for (const n of m.names()) for (const ep of m.get(n)!.endpoints) void ep.pool;
}

describe('ClusterManager', () => {
  it('builds clusters by name and snapshots them in config order', () => {
    const proto = new FakeProtocol();
    const m = new ClusterManager([clusterConfig({ name: 'a' }), clusterConfig({ name: 'b', lb: 'random' })], deps(proto));
    assert.deepEqual(m.names(), ['a', 'b']);
    assert.equal(m.get('a')!.name, 'a');
    assert.equal(m.get('zzz'), undefined);
    const snap = m.snapshot();
    assert.deepEqual(snap.map((c) => [c.name, c.lb, c.endpoints.length]), [['a', 'round_robin', 2], ['b', 'random', 2]]);
    assert.deepEqual(m.reused(), []);
  });

  it('rejects duplicate names and leaves nothing half-built', () => {
    const proto = new FakeProtocol();
    assert.throws(() => new ClusterManager([clusterConfig({ name: 'a' }), clusterConfig({ name: 'a' })], deps(proto)), /duplicate/);
    assert.throws(
      () => ClusterManager.build([clusterConfig({ name: 'a' }), clusterConfig({ name: 'b', protocol: 'nope' })], deps(proto)),
      /nope/,
    );
  });

  it('reuses a cluster (same object, warm pools) when its config is deep-equal', () => {
    const proto = new FakeProtocol();
    const d = deps(proto);
    const old = ClusterManager.build(
      [clusterConfig({ name: 'same' }), clusterConfig({ name: 'changed' }), clusterConfig({ name: 'gone' })],
      d,
    );
    warm(old);
    assert.equal(proto.pools.length, 6);
    const next = ClusterManager.build(
      [
        clusterConfig({ name: 'same' }), // a fresh but equal object
        clusterConfig({ name: 'changed', endpoints: twoPorts(9001, 9005) }),
        clusterConfig({ name: 'new' }),
      ],
      d,
      old,
    );
    assert.equal(next.get('same'), old.get('same'), 'identical config: same Cluster');
    assert.notEqual(next.get('changed'), old.get('changed'));
    assert.deepEqual(next.reused(), ['same']);
    assert.equal(proto.pools.length, 6, 'building the next manager opens nothing');
    for (const ep of next.get('same')!.endpoints) void ep.pool;
    assert.equal(proto.pools.length, 6, 'reused cluster keeps its warm pools');
    assert.ok(proto.pools.every((p) => p.closeCalls === 0), 'previous left untouched by build');
  });

  it('previous.retire() closes gracefully what the new manager did not take over', async () => {
    const proto = new FakeProtocol();
    const d = deps(proto);
    const old = ClusterManager.build([clusterConfig({ name: 'same' }), clusterConfig({ name: 'changed' }), clusterConfig({ name: 'gone' })], d);
    warm(old);
    const [same, changed, gone] = ['same', 'changed', 'gone'].map((n) => old.get(n)!);
    const next = ClusterManager.build(
      [clusterConfig({ name: 'same' }), clusterConfig({ name: 'changed', lb: 'least_request' })],
      d,
      old,
    );
    proto.holdClose = false;
    await old.retire(next.names()); // the argument is accepted and not needed
    assert.equal(same.closed, false, 'reused cluster still open');
    assert.equal(changed.closed, true, 'same name, changed config: old object closed');
    assert.equal(gone.closed, true);
    for (const ep of same.endpoints) assert.equal(ep.existingPool && (ep.existingPool as unknown as { closeCalls: number }).closeCalls, 0);
    const closedPools = proto.pools.filter((p) => p.closeCalls === 1).length;
    assert.equal(closedPools, 4);
    assert.ok(proto.pools.every((p) => p.destroyCalls === 0), 'graceful');
    assert.deepEqual(old.names(), [], 'previous is empty after retire');
    // Closing or destroying the old manager later cannot touch the cluster now owned by next.
    await old.close();
    old.destroy();
    assert.equal(same.closed, false);
    assert.ok(next.get('same')!.pick(null) !== null);
  });

  it('retire waits for in-flight requests on the retired clusters', async () => {
    const proto = new FakeProtocol();
    proto.holdClose = true;
    const d = deps(proto);
    const old = ClusterManager.build([clusterConfig({ name: 'x' })], d);
    warm(old);
    const next = ClusterManager.build([clusterConfig({ name: 'x', connect_timeout_ms: 1 })], d, old);
    let done = false;
    const p = old.retire().then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false);
    for (const pool of proto.pools) pool.finishClose();
    await p;
    assert.equal(done, true);
    assert.equal(next.get('x')!.closed, false);
  });

  it('an abandoned reload is undone by next.retire(), leaving the previous clusters in service', async () => {
    const proto = new FakeProtocol();
    const d = deps(proto);
    const old = ClusterManager.build([clusterConfig({ name: 'keep' }), clusterConfig({ name: 'mod' })], d);
    const next = ClusterManager.build([clusterConfig({ name: 'keep' }), clusterConfig({ name: 'mod', lb: 'random' })], d, old);
    const newMod = next.get('mod')!;
    await next.retire();
    assert.equal(newMod.closed, true);
    assert.equal(old.get('keep')!.closed, false);
    assert.equal(old.get('mod')!.closed, false);
    // And a reload after that still reuses from the previous manager.
    const again = ClusterManager.build([clusterConfig({ name: 'keep' })], d, old);
    assert.equal(again.get('keep'), old.get('keep'));
  });

  it('chains of reloads keep reusing the same cluster until its config changes', async () => {
    const proto = new FakeProtocol();
    const d = deps(proto);
    let m = ClusterManager.build([clusterConfig({ name: 'c' })], d);
    const first = m.get('c')!;
    for (let i = 0; i < 3; i++) {
      const next = ClusterManager.build([clusterConfig({ name: 'c' })], d, m);
      await m.retire(next);
      m = next;
    }
    assert.equal(m.get('c'), first);
    assert.equal(first.closed, false);
    await m.close();
    assert.equal(first.closed, true, 'closing the last holder closes it');
  });

  it('destroy() destroys the pools of the clusters it alone holds', () => {
    const proto = new FakeProtocol();
    const m = ClusterManager.build([clusterConfig({ name: 'a' })], deps(proto));
    warm(m);
    m.destroy();
    assert.ok(proto.pools.every((p) => p.destroyCalls === 1));
  });
});

describe('deepEqual', () => {
  it('compares config trees structurally', () => {
    assert.equal(deepEqual({ a: [1, { b: 'x' }], r: /a+/i }, { a: [1, { b: 'x' }], r: /a+/i }), true);
    assert.equal(deepEqual({ a: 1 }, { a: 1, b: undefined }), false);
    assert.equal(deepEqual({ a: [1, 2] }, { a: [2, 1] }), false);
    assert.equal(deepEqual(/a/g, /a/i), false);
    assert.equal(deepEqual([], {}), false);
    assert.equal(deepEqual(NaN, NaN), true);
    assert.equal(deepEqual(null, {}), false);
  });
});
