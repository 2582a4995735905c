/**
 * Chaos: three upstreams — one dying and coming back, one slow, one healthy — under steady load
 * through two proxies at once: one without resilience config, one with retries, per-try timeout,
 * outlier detection and health checks. No client request may be lost or hang, and the resilient
 * proxy's client error rate must stay below what the upstreams alone cause (the baseline).
 * Prints the figures (sent, answered, errors) for the closing note.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { once } from 'node:events';
import { request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';

const RUN_MS = 3000;
const CONCURRENCY = 6;
const HANG_MS = 4000;

interface Tally {
  sent: number;
  answered: number;
  errors: number;
  hung: number;
}

/** An upstream that dies (closing every connection and its port) and comes back, on a cycle. */
async function flappingUpstream(upMs: number, downMs: number): Promise<{ port: number; stop(): Promise<void> }> {
  const handler = (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('flappy');
  let server = http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  let stopped = false;
  let timer: NodeJS.Timeout;
  const cycle = (up: boolean) => {
    if (stopped) return;
    if (up) {
      server.closeAllConnections();
      server.close();
      timer = setTimeout(() => cycle(false), downMs);
    } else {
      server = http.createServer(handler);
      server.listen(port, '127.0.0.1');
      timer = setTimeout(() => cycle(true), upMs);
    }
  };
  timer = setTimeout(() => cycle(true), upMs);
  return {
    port,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      server.closeAllConnections();
      await new Promise((r) => server.close(() => r(undefined)));
    },
  };
}

async function load(url: string, until: number, tally: Tally): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  while (Date.now() < until) {
    tally.sent++;
    let timer!: NodeJS.Timeout;
    const hang = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), HANG_MS)));
    const r = await Promise.race([request(url, { agent }).catch(() => null), hang]);
    clearTimeout(timer);
    if (r === 'hung') tally.hung++;
    else {
      tally.answered++;
      if (r === null || r.status !== 200) tally.errors++;
    }
  }
  agent.destroy();
}

describe('chaos: dying, slow and healthy upstreams under load', () => {
  let good: Upstream;
  let slow: Upstream;
  let flappy: { port: number; stop(): Promise<void> };
  let baseline: Running;
  let resilient: Running;

  before(async () => {
    good = await startUpstream((_q, s) => s.end('good'));
    let n = 0;
    slow = await startUpstream((_q, s) => {
      if (++n % 3 === 0) setTimeout(() => s.end('slow'), 600).unref();
      else s.end('slow-ok');
    });
    flappy = await flappingUpstream(500, 500);
    const endpoints = `[{ address: ${good.address} }, { address: ${slow.address} }, { address: 127.0.0.1:${flappy.port} }]`;
    baseline = await startProxy(`
admin: null
access_log: false
listeners:
  - { name: web, address: 127.0.0.1:0, routes: [{ match: { prefix: / }, cluster: three, timeout: 400ms }] }
clusters:
  - { name: three, lb: round_robin, connect_timeout: 200ms, endpoints: ${endpoints} }
`);
    resilient = await startProxy(`
admin: null
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - match: { prefix: / }
        cluster: three
        timeout: 1s
        retry:
          attempts: 3
          on: [connect-failure, reset, 5xx]
          per_try_timeout: 150ms
          backoff: { base: 5ms, max: 50ms }
          budget: { percent: 50, min_per_second: 50 }
clusters:
  - name: three
    lb: least_request
    connect_timeout: 200ms
    endpoints: ${endpoints}
    health_check: { type: tcp, interval: 100ms, timeout: 50ms, healthy_threshold: 1, unhealthy_threshold: 1 }
    outlier_detection: { consecutive_gateway_failure: 2, interval: 200ms, base_ejection_time: 300ms, max_ejection_percent: 34 }
`);
  });

  after(async () => {
    await baseline.stop();
    await resilient.stop();
    await flappy.stop();
    await good.close();
    await slow.close();
  });

  it('loses no request, and resilience lowers the error rate below the upstreams alone', async () => {
    const base: Tally = { sent: 0, answered: 0, errors: 0, hung: 0 };
    const res: Tally = { sent: 0, answered: 0, errors: 0, hung: 0 };
    const until = Date.now() + RUN_MS;
    await Promise.all([
      ...Array.from({ length: CONCURRENCY }, () => load(`${baseline.url}/c`, until, base)),
      ...Array.from({ length: CONCURRENCY }, () => load(`${resilient.url}/c`, until, res)),
    ]);
    const rate = (t: Tally) => (t.answered === 0 ? 0 : t.errors / t.answered);
    console.log(
      `chaos figures: without resilience sent=${base.sent} answered=${base.answered} errors=${base.errors} ` +
        `(${(rate(base) * 100).toFixed(1)}%); with resilience sent=${res.sent} answered=${res.answered} ` +
        `errors=${res.errors} (${(rate(res) * 100).toFixed(1)}%)`,
    );
    assert.equal(res.hung, 0, 'no request hangs');
    assert.equal(res.answered, res.sent, 'no request is lost');
    assert.equal(base.hung, 0);
    assert.ok(base.errors > 0, 'the chaos does cause errors without resilience');
    assert.ok(rate(res) < rate(base) / 2, `resilient ${rate(res)} vs baseline ${rate(base)}`);
  });
});
