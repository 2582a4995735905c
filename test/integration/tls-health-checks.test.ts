/**
 * Active health checks on TLS clusters connect as traffic does: over TLS, verified against the
 * cluster's CA. An https upstream passes `http` and `tcp` checks (before, the probes spoke plaintext
 * to it and every endpoint went unhealthy); with a CA that did not sign the upstream's certificate
 * the `tcp` check fails (a handshake that fails verification is not a healthy endpoint); a plain
 * `http2` TLS upstream passes a `grpc` check over h2 with ALPN.
 * Real time with 100 ms intervals; waits poll the admin API (bounded), nothing asserts on speed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as https from 'node:https';
import * as http2 from 'node:http2';
import { readFile } from 'node:fs/promises';
import { listenLocal, metricValue, request, startProxy, type Running } from '../fixtures/harness';
import { tlsFixture, type TlsFixture } from '../fixtures/tls';

async function until(cond: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A grpc.health.v1 answer: SERVING (status 1), as one length-prefixed message. */
const SERVING = Buffer.from([0, 0, 0, 0, 2, 0x08, 0x01]);

describe('health checks on TLS clusters', () => {
  let fx: TlsFixture;
  let h1: https.Server;
  let h2: http2.Http2SecureServer;
  let proxy: Running;
  let healthz = 0;

  before(async () => {
    fx = await tlsFixture();
    const cert = await readFile(fx.upstream.cert);
    const key = await readFile(fx.upstream.key);
    h1 = https.createServer({ cert, key }, (req, res) => {
      if (req.url === '/healthz') healthz++;
      res.end('ok');
    });
    h2 = http2.createSecureServer({ cert, key });
    h2.on('stream', (stream, headers) => {
      if (headers[':path'] !== '/grpc.health.v1.Health/Check') {
        stream.respond({ ':status': 404 }, { endStream: true });
        return;
      }
      stream.on('data', () => {});
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(SERVING);
      });
    });
    const [p1, p2] = await Promise.all([listenLocal(h1), listenLocal(h2)]);
    const hc = 'interval: 100ms, timeout: 90ms, healthy_threshold: 1, unhealthy_threshold: 1';
    proxy = await startProxy(
      `
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: plain
    address: 127.0.0.1:0
    routes: [{ match: { prefix: / }, cluster: web }]
clusters:
  - { name: web, endpoints: [{ address: 127.0.0.1:${p1} }], tls: { ca: ca.crt },
      health_check: { type: http, path: /healthz, ${hc} } }
  - { name: tcp-ok, endpoints: [{ address: 127.0.0.1:${p1} }], tls: { ca: ca.crt },
      health_check: { type: tcp, ${hc} } }
  - { name: tcp-wrong-ca, endpoints: [{ address: 127.0.0.1:${p1} }], tls: { ca: other-ca.crt },
      health_check: { type: tcp, ${hc} } }
  - { name: grpc, protocol: http2, endpoints: [{ address: 127.0.0.1:${p2} }], tls: { ca: ca.crt },
      health_check: { type: grpc, ${hc} } }
`,
      { baseDir: fx.dir },
    );
  });

  after(async () => {
    await proxy?.stop();
    h1?.closeAllConnections();
    await Promise.all([h1, h2].map((s) => new Promise((r) => s?.close(r))));
  });

  const count = (cluster: string, health: string) => metricValue(proxy.admin!, 'switchyard_upstream_endpoints', { cluster, health });
  const checks = (cluster: string, result: string) => metricValue(proxy.admin!, 'switchyard_upstream_health_checks_total', { cluster, result });

  it('http and tcp checks pass over verified TLS; traffic flows', async () => {
    await until(async () => (await count('web', 'healthy')) === 1 && (await checks('web', 'success')) >= 2, 'web healthy');
    assert.ok(healthz >= 2, 'the probe reached /healthz over TLS');
    await until(async () => (await count('tcp-ok', 'healthy')) === 1 && (await checks('tcp-ok', 'success')) >= 2, 'tcp-ok healthy');
    const r = await request(`${proxy.url}/x`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok');
  });

  it('a handshake that fails verification fails the tcp check', async () => {
    await until(async () => (await checks('tcp-wrong-ca', 'failure')) >= 2, 'tcp-wrong-ca failures');
    assert.equal(await count('tcp-wrong-ca', 'healthy'), 0);
    assert.equal(await checks('tcp-wrong-ca', 'success'), 0);
  });

  it('a grpc check reaches an HTTP/2 TLS upstream over h2', async () => {
    await until(async () => (await count('grpc', 'healthy')) === 1 && (await checks('grpc', 'success')) >= 2, 'grpc healthy');
  });
});
