import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, ENDPOINTS_GAUGE, type ClusterDeps } from '../../../src/upstream/cluster';
import { REMOVED_ENDPOINT_POOL } from '../../../src/upstream/endpoint';
import { registerBuiltinLoadBalancers } from '../../../src/upstream/lb';
import { StatsRegistry } from '../../../src/observability/stats';
import { UpstreamError } from '../../../src/api/errors';
import { HeaderMap } from '../../../src/api/headers';
import { clusterConfig, FakeProtocol, manualClock, seeded } from './fake-protocol';

registerBuiltinLoadBalancers();

function setup(over: Parameters<typeof clusterConfig>[0] = { name: 'api' }) {
  const proto = new FakeProtocol();
  const stats = new StatsRegistry();
  const deps: ClusterDeps = {
    stats,
    clock: manualClock,
    random: seeded(1),
    protocols: (n) => (n === proto.name ? proto : undefined),
  };
  const cluster = new Cluster(clusterConfig(over), deps);
  const gauge = (health: string) => stats.gauge(ENDPOINTS_GAUGE, '', { cluster: over.name, health }).value;
  return { proto, stats, deps, cluster, gauge };
}

const addr = (port: number) => `127.0.0.1:${port}`;

describe('Cluster', () => {
  it('builds endpoint records from the config', () => {
    const { cluster } = setup();
    assert.equal(cluster.name, 'api');
    assert.equal(cluster.protocol, 'fake');
    const [a, b] = cluster.endpoints;
    assert.equal(a.address, '127.0.0.1:9001');
    assert.equal(a.host, '127.0.0.1');
    assert.equal(a.port, 9001);
    assert.equal(a.weight, 1);
    assert.equal(a.zone, 'a');
    assert.equal(b.weight, 2);
    assert.equal(b.zone, undefined);
    assert.equal(a.healthy, true);
    assert.equal(a.activeRequests, 0);
  });

  it('creates pools lazily, one per endpoint, with options from the config', () => {
    const { cluster, proto } = setup();
    assert.equal(proto.pools.length, 0, 'no pool before first use');
    const ep = cluster.pick(null)!;
    assert.equal(ep.existingPool, null);
    const pool = ep.pool;
    assert.equal(proto.pools.length, 1);
    assert.equal(ep.pool, pool, 'same pool on second use');
    assert.equal(proto.pools.length, 1);
    assert.deepEqual(
      { ...proto.pools[0].options },
      {
        connectTimeoutMs: 5000,
        maxConnections: 1024,
        maxPending: 512,
        idleTimeoutMs: 60000,
        // protocol options: the RPC pool's defaults (ignored by other protocols)
        options: { connections: 1, heartbeat_interval_ms: 30000, max_frame_bytes: 16777216 },
      },
    );
    assert.equal(proto.pools[0].port, ep.port);
    const other = cluster.endpoints.find((e) => e !== ep)!;
    void other.pool;
    assert.equal(proto.pools.length, 2);
  });

  it('picks through the configured balancer over the current snapshot (weights honoured)', () => {
    const { cluster } = setup();
    const m = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const a = cluster.pick(null)!.address;
      m.set(a, (m.get(a) ?? 0) + 1);
    }
    assert.equal(m.get(addr(9001)), 10);
    assert.equal(m.get(addr(9002)), 20);
  });

  it('keeps activeRequests and the counters right', () => {
    const { cluster } = setup();
    const ep = cluster.endpoints[0];
    cluster.requestStarted(ep);
    cluster.requestStarted(ep);
    cluster.requestStarted(ep);
    assert.equal(ep.activeRequests, 3);
    assert.equal(ep.requestsTotal, 3);
    cluster.requestFinished(ep, true);
    cluster.requestFinished(ep, false);
    assert.equal(ep.activeRequests, 1);
    assert.equal(ep.failures, 1);
    cluster.requestFinished(ep, true);
    cluster.requestFinished(ep, true); // one too many: must not go negative
    assert.equal(ep.activeRequests, 0);
    assert.equal(ep.requestsTotal, 3);
    assert.equal(ep.failures, 1);
  });

  it('least_request sees the bookkeeping', () => {
    const { cluster } = setup({ name: 'lr', lb: 'least_request' });
    const [a, b] = cluster.endpoints;
    for (let i = 0; i < 20; i++) cluster.requestStarted(b);
    let picksA = 0;
    for (let i = 0; i < 100; i++) if (cluster.pick(null) === a) picksA++;
    // a is idle, b heavily loaded: b wins only when both draws are b ((2/3)^2).
    assert.ok(picksA > 40, `idle endpoint picked ${picksA}/100`);
  });

  it('setEndpoints keeps surviving endpoints (object, counters, pool), closes removed pools, adds new lazily', () => {
    const { cluster, proto } = setup();
    const [a, b] = cluster.endpoints;
    const poolA = a.pool;
    void b.pool;
    cluster.requestStarted(a);
    cluster.setEndpoints([
      { host: '127.0.0.1', port: 9001, weight: 3, zone: 'z' },
      { host: '127.0.0.1', port: 9003, weight: 1 },
    ]);
    const [a2, c] = cluster.endpoints;
    assert.equal(a2, a, 'same object for a surviving endpoint');
    assert.equal(a2.pool, poolA, 'warm pool kept');
    assert.equal(a2.activeRequests, 1);
    assert.equal(a2.weight, 3, 'weight updated');
    assert.equal(a2.zone, 'z');
    assert.equal(c.address, addr(9003));
    assert.equal(proto.pools.length, 2, 'new endpoint has no pool yet');
    const poolB = proto.poolFor(9002)[0];
    assert.equal(poolB.closeCalls, 1, 'removed endpoint pool closed');
    assert.equal(poolB.destroyCalls, 0, 'gracefully, not destroyed');
    assert.equal(proto.poolFor(9001)[0].closeCalls, 0);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add(cluster.pick(null)!.address);
    assert.deepEqual(seen, new Set([addr(9001), addr(9003)]));
    // A stale reference to the removed endpoint no longer creates pools.
    assert.equal(b.retired, true);
    assert.equal(b.pool, REMOVED_ENDPOINT_POOL);
    assert.equal(proto.pools.length, 2);
  });

  it('the removed-endpoint pool fails requests as retryable connect failures (unless aborted)', async () => {
    const errors: UpstreamError[] = [];
    const handler = { onHeaders() {}, onData() {}, onEnd() {}, onError: (e: UpstreamError) => errors.push(e) };
    REMOVED_ENDPOINT_POOL.request(new HeaderMap(), true, handler);
    REMOVED_ENDPOINT_POOL.request(new HeaderMap(), true, handler).abort();
    assert.equal(errors.length, 0, 'asynchronous');
    await Promise.resolve();
    assert.equal(errors.length, 1);
    assert.equal(errors[0].kind, 'connect_failure');
    assert.equal(errors[0].beforeRequestSent, true);
  });

  it('setEndpoints to an empty snapshot makes pick return null', () => {
    const { cluster, gauge } = setup();
    cluster.setEndpoints([]);
    assert.equal(cluster.pick(null), null);
    assert.equal(gauge('healthy'), 0);
  });

  it('a balancer that fails to build leaves the old snapshot in force', () => {
    const { cluster } = setup({ name: 'lr2', lb: 'least_request' });
    const before = cluster.endpoints;
    (cluster.config.lb_config as Record<string, unknown>).choice_count = 0;
    assert.throws(() => cluster.setEndpoints([{ host: '10.0.0.1', port: 1, weight: 9 }]), /choice_count/);
    assert.equal(cluster.endpoints, before);
    assert.ok(before.includes(cluster.pick(null)!));
  });

  it('maintains the endpoints gauge by health', () => {
    const { cluster, gauge } = setup();
    assert.equal(gauge('healthy'), 2);
    assert.equal(gauge('unhealthy'), 0);
    const [a] = cluster.endpoints;
    cluster.setHealthy(a, false);
    assert.equal(gauge('healthy'), 1);
    assert.equal(gauge('unhealthy'), 1);
    cluster.setEndpoints([
      { host: '127.0.0.1', port: 9001, weight: 1 },
      { host: '127.0.0.1', port: 9002, weight: 1 },
      { host: '127.0.0.1', port: 9003, weight: 1 },
    ]);
    assert.equal(gauge('healthy'), 2, 'surviving endpoint keeps its health');
    assert.equal(gauge('unhealthy'), 1);
  });

  it('does not pick an endpoint marked unhealthy', () => {
    const { cluster } = setup();
    const [a, b] = cluster.endpoints;
    cluster.setHealthy(b, false);
    for (let i = 0; i < 20; i++) assert.equal(cluster.pick(null), a);
    cluster.setHealthy(b, true);
    let sawB = false;
    for (let i = 0; i < 20; i++) if (cluster.pick(null) === b) sawB = true;
    assert.ok(sawB);
  });

  it('snapshot() has the admin JSON shape', () => {
    const { cluster, proto } = setup();
    const [a] = cluster.endpoints;
    void a.pool;
    cluster.requestStarted(a);
    cluster.requestStarted(a);
    cluster.requestFinished(a, false);
    proto.pools[0].stats = { connections: 2, active: 1, pending: 3 };
    const json = JSON.parse(JSON.stringify(cluster.snapshot()));
    assert.deepEqual(json, {
      name: 'api',
      protocol: 'fake',
      lb: 'round_robin',
      endpoints: [
        {
          address: '127.0.0.1:9001',
          weight: 1,
          zone: 'a',
          healthy: true,
          health: { active: 'unchecked', ejected: false, ejected_until: null, times_ejected: 0, last_check: null },
          active_requests: 1,
          requests_total: 2,
          failures: 1,
          pool: { connections: 2, active: 1, pending: 3 },
        },
        {
          address: '127.0.0.1:9002',
          weight: 2,
          zone: null,
          healthy: true,
          health: { active: 'unchecked', ejected: false, ejected_until: null, times_ejected: 0, last_check: null },
          active_requests: 0,
          requests_total: 0,
          failures: 0,
          pool: null,
        },
      ],
    });
  });

  it('close() is graceful: waits for every pool (removed ones too), then pick returns null', async () => {
    const { cluster, proto } = setup();
    proto.holdClose = true;
    const [a, b] = cluster.endpoints;
    void a.pool;
    void b.pool;
    cluster.setEndpoints([{ host: '127.0.0.1', port: 9001, weight: 1 }]); // b retiring, close held
    let done = false;
    const p = cluster.close().then(() => (done = true));
    assert.equal(cluster.pick(null), null);
    assert.equal(cluster.closed, true);
    const [poolA, poolB] = [proto.poolFor(9001)[0], proto.poolFor(9002)[0]];
    assert.equal(poolA.closeCalls, 1);
    assert.equal(poolB.closeCalls, 1);
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false, 'waits for in-flight requests');
    poolA.finishClose();
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false, 'still waits for the removed endpoint');
    poolB.finishClose();
    await p;
    assert.equal(done, true);
    assert.equal(cluster.close(), cluster.close(), 'idempotent');
    cluster.setEndpoints([{ host: '127.0.0.1', port: 9009, weight: 1 }]);
    assert.equal(cluster.pick(null), null, 'a closed cluster ignores new snapshots');
  });

  it('destroy() destroys every pool at once', () => {
    const { cluster, proto } = setup();
    proto.holdClose = true;
    for (const ep of cluster.endpoints) void ep.pool;
    cluster.setEndpoints([{ host: '127.0.0.1', port: 9001, weight: 1 }]);
    cluster.destroy();
    assert.equal(proto.poolFor(9001)[0].destroyCalls, 1);
    assert.equal(proto.poolFor(9002)[0].destroyCalls, 1, 'a retiring pool is destroyed too');
    assert.equal(cluster.pick(null), null);
  });

  it('rejects an unknown protocol or balancer', () => {
    assert.throws(() => setup({ name: 'x', protocol: 'nope' }), /upstream protocol "nope"/);
    assert.throws(() => setup({ name: 'y', lb: 'nope' }), /load balancer "nope"/);
  });

  it('uses the injected random (random balancer is deterministic)', () => {
    const seq = () => {
      const { cluster } = setup({ name: 'r', lb: 'random' });
      return Array.from({ length: 50 }, () => cluster.pick(null)!.port).join(',');
    };
    assert.equal(seq(), seq());
  });

  it('formats IPv6 addresses with brackets and ignores duplicate addresses', () => {
    const { cluster } = setup();
    cluster.setEndpoints([
      { host: '::1', port: 80, weight: 1 },
      { host: '::1', port: 80, weight: 5 },
    ]);
    assert.equal(cluster.endpoints.length, 1);
    assert.equal(cluster.endpoints[0].address, '[::1]:80');
    assert.equal(cluster.endpoints[0].weight, 1);
  });
});
