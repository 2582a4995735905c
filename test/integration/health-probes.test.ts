/**
 * Every health-check type against real peers on port 0, driven by real time with short
 * intervals (50 ms): an HTTP server whose /healthz flips between 200 and 503, one that never
 * answers, a TCP server that closes, a @grpc/grpc-js grpc.health.v1 server, and heartbeats
 * against sofa-rpc-node's Bolt and Dubbo servers and the example codec's server.
 * Waits poll the endpoint state (bounded); nothing asserts on speed.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Cluster } from '../../src/upstream/cluster';
import { registerBuiltinLoadBalancers } from '../../src/upstream/lb';
import { StatsRegistry } from '../../src/observability/stats';
import { systemClock } from '../../src/api/clock';
import type { HealthCheckConfig } from '../../src/config/types';
import { HEALTH_CHECKS_COUNTER, HEALTH_TRANSITIONS_COUNTER } from '../../src/upstream/health';
import { clusterConfig, FakeProtocol } from '../unit/upstream/fake-protocol';
import { fixturePath } from '../fixtures/grpc/h2-peers';
import { ExampleServer } from '../../protocols/example/peer';
import '../../protocols/example';
import '../../protocols/bolt';
import '../../protocols/dubbo';
import { installRpcAdapter } from '../../src/rpc';
import { closedPort } from '../fixtures/harness';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { RpcServer } = require('sofa-rpc-node').server;

registerBuiltinLoadBalancers();
installRpcAdapter();

const FAST: Partial<HealthCheckConfig> = { interval_ms: 50, timeout_ms: 40, healthy_threshold: 1, unhealthy_threshold: 1 };
const open: Cluster[] = [];
after(() => {
  for (const c of open) c.destroy();
});

function checked(protocol: string, ports: number[], hc: Partial<HealthCheckConfig> & { type: HealthCheckConfig['type'] }) {
  const stats = new StatsRegistry();
  const proto = new FakeProtocol(protocol);
  const health_check: HealthCheckConfig = {
    path: '/healthz', expected_statuses: [[200, 299]], service_name: '', jitter_ms: 0, host: 'api.internal',
    interval_ms: 50, timeout_ms: 40, healthy_threshold: 1, unhealthy_threshold: 1, ...hc,
  };
  const cluster = new Cluster(
    clusterConfig({
      name: 'hc',
      protocol,
      endpoints: ports.map((port) => ({ address: { host: '127.0.0.1', port }, weight: 1 })),
      health_check,
    }),
    { stats, clock: systemClock, protocols: () => proto },
  );
  open.push(cluster);
  const state = (i: number) => cluster.snapshot().endpoints[i].health.active;
  const counter = (name: string, labels: Record<string, string>) => stats.counter(name, '', { cluster: 'hc', ...labels }).value;
  return { cluster, stats, state, counter };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

describe('http health check', () => {
  it('follows /healthz between 200 and 503, sending GET path with the Host given', async () => {
    let code = 200;
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.host}`);
      res.statusCode = req.url === '/healthz' ? code : 404;
      res.end('x');
    });
    const port = await listen(server);
    const dead = await closedPort();
    const { cluster, state, counter } = checked('http', [port, dead], { type: 'http', ...FAST });
    try {
      await until(() => state(0) === 'healthy' && state(1) === 'unhealthy', 'first verdicts');
      assert.equal(seen[0], 'GET /healthz api.internal');
      assert.equal(cluster.endpoints[0].healthy, true);
      assert.equal(cluster.endpoints[1].healthy, false);
      code = 503;
      await until(() => state(0) === 'unhealthy', '503 to be noticed');
      assert.equal(cluster.endpoints[0].healthy, false);
      code = 200;
      await until(() => state(0) === 'healthy', 'recovery');
      assert.ok(counter(HEALTH_CHECKS_COUNTER, { result: 'success' }) >= 2);
      assert.ok(counter(HEALTH_CHECKS_COUNTER, { result: 'failure' }) >= 2);
      assert.equal(counter(HEALTH_TRANSITIONS_COUNTER, { to: 'healthy' }), 2);
      assert.ok(counter(HEALTH_TRANSITIONS_COUNTER, { to: 'unhealthy' }) >= 2);
      const last = cluster.snapshot().endpoints[1].health.last_check;
      assert.equal(last?.result, 'failure');
      assert.match(last?.detail ?? '', /ECONNREFUSED/);
    } finally {
      cluster.destroy();
      server.closeAllConnections();
      server.close();
    }
  });

  it('accepts the configured expected_statuses only', async () => {
    const server = http.createServer((_req, res) => {
      res.statusCode = 418;
      res.end();
    });
    const port = await listen(server);
    const a = checked('http', [port], { type: 'http', ...FAST, expected_statuses: [[418, 418]] });
    const b = checked('http', [port], { type: 'http', ...FAST });
    try {
      await until(() => a.state(0) === 'healthy' && b.state(0) === 'unhealthy', 'verdicts');
      assert.equal(b.cluster.snapshot().endpoints[0].health.last_check?.detail, 'status 418');
    } finally {
      a.cluster.destroy();
      b.cluster.destroy();
      server.closeAllConnections();
      server.close();
    }
  });

  it('fails a server that never answers (timeout) and one that closes at once', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((s) => held.push(s));
    const closer = net.createServer((s) => s.destroy());
    const silentPort = await listen(silent);
    const closerPort = await listen(closer);
    const { cluster, state } = checked('http', [silentPort, closerPort], { type: 'http', ...FAST });
    try {
      await until(() => state(0) === 'unhealthy' && state(1) === 'unhealthy', 'both unhealthy');
      const eps = cluster.snapshot().endpoints;
      assert.equal(eps[0].health.last_check?.detail, 'timeout');
      assert.notEqual(eps[1].health.last_check?.detail, 'timeout');
    } finally {
      cluster.destroy();
      for (const s of held) s.destroy();
      silent.close();
      closer.close();
    }
  });
});

describe('tcp health check', () => {
  it('passes while the port accepts and fails once the server has closed', async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    const port = await listen(server);
    const { cluster, state } = checked('http', [port], { type: 'tcp', ...FAST });
    try {
      await until(() => state(0) === 'healthy', 'healthy');
      await new Promise((r) => {
        server.close(r);
        for (const s of sockets) s.destroy();
      });
      await until(() => state(0) === 'unhealthy', 'unhealthy after close');
      assert.equal(cluster.endpoints[0].healthy, false);
    } finally {
      cluster.destroy();
    }
  });
});

describe('grpc health check', () => {
  const def = protoLoader.loadSync(fixturePath('health.proto'), { keepCase: true, defaults: true, enums: String });
  const pkg = grpc.loadPackageDefinition(def) as any;

  it('asks grpc.health.v1.Health/Check for the service and follows SERVING', async () => {
    const status = new Map<string, string>([['', 'SERVING'], ['orders', 'SERVING']]);
    const asked: string[] = [];
    const server = new grpc.Server();
    server.addService(pkg.grpc.health.v1.Health.service, {
      Check(call: any, cb: any) {
        asked.push(`${call.request.service}@${call.getHost()}`);
        const s = status.get(call.request.service);
        if (s === undefined) return cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
        cb(null, { status: s });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const all = checked('http2', [port], { type: 'grpc', ...FAST });
    const orders = checked('http2', [port], { type: 'grpc', ...FAST, service_name: 'orders' });
    const unknown = checked('http2', [port], { type: 'grpc', ...FAST, service_name: 'nope' });
    try {
      await until(() => all.state(0) === 'healthy' && orders.state(0) === 'healthy' && unknown.state(0) === 'unhealthy', 'first verdicts');
      assert.ok(asked.includes('orders@api.internal'), asked.join());
      assert.equal(unknown.cluster.snapshot().endpoints[0].health.last_check?.detail, 'grpc-status 5');
      status.set('orders', 'NOT_SERVING');
      await until(() => orders.state(0) === 'unhealthy', 'NOT_SERVING to be noticed');
      assert.equal(orders.cluster.snapshot().endpoints[0].health.last_check?.detail, 'serving status 2');
      assert.equal(all.state(0), 'healthy');
      status.set('orders', 'SERVING');
      await until(() => orders.state(0) === 'healthy', 'recovery');
    } finally {
      all.cluster.destroy();
      orders.cluster.destroy();
      unknown.cluster.destroy();
      server.forceShutdown();
    }
  });
});

describe('heartbeat health check', () => {
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };

  async function sofaServer(protocol: 'bolt' | 'dubbo'): Promise<{ port: number; close(): Promise<void> }> {
    const server = new RpcServer({
      appName: `hc-${protocol}`, port: 0, logger: quiet, publishAddress: '127.0.0.1',
      ...(protocol === 'dubbo' ? { protocol: require('dubbo-remoting') } : {}),
    });
    server.on('error', () => {});
    server.addService({ interfaceName: 'com.example.Health' }, { async ping() { return 'pong'; } });
    await server.start();
    return { port: server.publishPort as number, close: () => server.close() };
  }

  for (const protocol of ['bolt', 'dubbo'] as const) {
    it(`gets heartbeat responses from sofa-rpc-node's ${protocol} server`, async () => {
      const peer = await sofaServer(protocol);
      const dead = await closedPort();
      const { cluster, state } = checked(protocol, [peer.port, dead], { type: 'heartbeat', ...FAST });
      try {
        await until(() => state(0) === 'healthy' && state(1) === 'unhealthy', 'first verdicts');
        await peer.close();
        await until(() => state(0) === 'unhealthy', 'unhealthy after the server closed');
      } finally {
        cluster.destroy();
        await peer.close().catch(() => {});
      }
    });
  }

  it('works with any registered RpcCodec (the example codec) and fails a peer speaking another protocol', async () => {
    const peer = await ExampleServer.listen();
    const httpServer = http.createServer((_req, res) => res.end());
    const httpPort = await listen(httpServer);
    const { cluster, state } = checked('example', [peer.port, httpPort], { type: 'heartbeat', ...FAST });
    try {
      await until(() => state(0) === 'healthy' && state(1) === 'unhealthy', 'verdicts');
      assert.ok(peer.heartbeats >= 1);
    } finally {
      cluster.destroy();
      await peer.close();
      httpServer.closeAllConnections();
      httpServer.close();
    }
  });
});
