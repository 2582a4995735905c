/**
 * Retries and hedging through real sockets: connect failures and 5xx retried on another
 * endpoint, the body replayed, per-try timeouts, Retry-After, the retry budget, a body too large
 * to replay, and a hedged try that wins over a slow one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closedPort, metricValue, request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';

describe('retries and hedging', () => {
  let good: Upstream;
  let failing: Upstream;
  let slow: Upstream;
  let proxy: Running;
  const bodies: string[] = [];
  let slowClosed = 0;

  before(async () => {
    good = await startUpstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString());
        res.end('good');
      });
    }, 'good');
    failing = await startUpstream((req, res) => {
      req.resume();
      res.statusCode = 503;
      if (req.url === '/after') res.setHeader('retry-after', '1');
      res.end('unavailable');
    }, 'failing');
    slow = await startUpstream((req, res) => {
      res.on('close', () => slowClosed++);
      setTimeout(() => res.end('slow'), 1500).unref();
    }, 'slow');
    const dead = await closedPort();
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - match: { prefix: /connect }
        cluster: dead-then-good
        retry: { attempts: 2, on: [connect-failure], backoff: { base: 1ms, max: 5ms } }
      - match: { prefix: /5xx }
        cluster: failing-then-good
        retry: { attempts: 2, on: [5xx], backoff: { base: 1ms, max: 5ms } }
      - match: { prefix: /after }
        cluster: failing-then-good
        retry: { attempts: 1, on: [gateway-error] }
      - match: { prefix: /nobudget }
        cluster: failing-then-good
        retry: { attempts: 2, on: [5xx], budget: { percent: 0, min_per_second: 0 } }
      - match: { prefix: /bigbody }
        cluster: failing-then-good
        retry: { attempts: 2, on: [5xx], max_replay_bytes: 1024 }
      - match: { prefix: /pertry }
        cluster: slow-then-good
        retry: { attempts: 1, on: [gateway-error], per_try_timeout: 100ms }
      - match: { prefix: /hedge }
        cluster: slow-then-good
        hedge: { delay: 50ms }
clusters:
  - name: dead-then-good
    lb: round_robin
    endpoints: [{ address: 127.0.0.1:${dead} }, { address: ${good.address} }]
  - name: failing-then-good
    lb: round_robin
    endpoints: [{ address: ${failing.address} }, { address: ${good.address} }]
  - name: slow-then-good
    lb: round_robin
    endpoints: [{ address: ${slow.address} }, { address: ${good.address} }]
`);
  });

  after(async () => {
    await proxy.stop();
    await good.close();
    await failing.close();
    await slow.close();
  });

  /** Round robin starts at a random offset: send until the first pick is the bad endpoint. */
  async function everyStart(path: string, opts: Parameters<typeof request>[1] = {}) {
    const out = [];
    for (let i = 0; i < 4; i++) out.push(await request(`${proxy.url}${path}`, opts));
    return out;
  }

  it('retries a connect failure on another endpoint', async () => {
    for (const r of await everyStart('/connect')) assert.equal(r.body, 'good');
  });

  it('retries a 5xx on another endpoint, replaying the body, and counts retries', async () => {
    const before = await metricValue(proxy.admin!, 'switchyard_upstream_retries_total', { cluster: 'failing-then-good' });
    bodies.length = 0;
    for (const r of await everyStart('/5xx', { method: 'POST', body: 'payload-123' })) assert.equal(r.body, 'good');
    assert.deepEqual(bodies, ['payload-123', 'payload-123', 'payload-123', 'payload-123']);
    const afterN = await metricValue(proxy.admin!, 'switchyard_upstream_retries_total', { cluster: 'failing-then-good' });
    assert.equal(afterN - before, 2, 'two of four requests started on the failing endpoint');
  });

  it('honours Retry-After', async () => {
    const times: number[] = [];
    for (let i = 0; i < 2; i++) {
      const t0 = Date.now();
      const r = await request(`${proxy.url}/after`);
      assert.equal(r.body, 'good');
      times.push(Date.now() - t0);
    }
    assert.ok(Math.max(...times) >= 950, `one request waited for Retry-After: ${times}`);
  });

  it('stops retrying when the budget is spent', async () => {
    const rs = await everyStart('/nobudget');
    assert.deepEqual(rs.map((r) => r.status).sort(), [200, 200, 503, 503]);
  });

  it('does not retry a request whose body was too large to keep', async () => {
    const rs = await everyStart('/bigbody', { method: 'POST', body: 'x'.repeat(4096) });
    assert.deepEqual(rs.map((r) => r.status).sort(), [200, 200, 503, 503]);
  });

  it('retries after a per-try timeout', async () => {
    const t0 = Date.now();
    for (const r of await everyStart('/pertry')) assert.equal(r.body, 'good');
    assert.ok(Date.now() - t0 < 1400, 'no request waited for the slow endpoint');
  });

  it('hedges: a second try after the delay wins and the slow one is cancelled', async () => {
    const before = await metricValue(proxy.admin!, 'switchyard_upstream_hedges_total', { cluster: 'slow-then-good' });
    const closedBefore = slowClosed;
    const t0 = Date.now();
    for (const r of await everyStart('/hedge')) assert.equal(r.body, 'good');
    assert.ok(Date.now() - t0 < 1400, 'no request waited for the slow endpoint');
    const hedges = (await metricValue(proxy.admin!, 'switchyard_upstream_hedges_total', { cluster: 'slow-then-good' })) - before;
    assert.equal(hedges, 2);
    for (let i = 0; i < 50 && slowClosed - closedBefore < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(slowClosed - closedBefore, 2, 'the losing tries were cancelled');
  });
});
