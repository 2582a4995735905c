/**
 * HTTP/2 abuse through the real proxy, written frame by frame (h2-protect-wire.ts): a rapid-reset
 * attack (CVE-2023-44487: 2,000 HEADERS + RST_STREAM pairs), a PING flood and a SETTINGS flood.
 * Each must end with GOAWAY(ENHANCE_YOUR_CALM) and a closed connection for the attacker, one
 * count in switchyard_downstream_protocol_errors_total, and a well-behaved h2 client on another
 * connection getting its 200s throughout.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { metricValue, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';
import { CODE, FLAG, FRAME, RawH2, getHeaders, headersFrame, pingFrame, rstFrame, settingsFrame } from './h2-protect-wire';

const METRIC = 'switchyard_downstream_protocol_errors_total';

/** Keeps one ordinary h2 client busy (sequential GETs on one session) until stopped. */
function steadyClient(url: string): { stop(): Promise<number[]> } {
  const session = http2.connect(url);
  session.on('error', () => {});
  const statuses: number[] = [];
  let running = true;
  const one = (): Promise<number> =>
    new Promise((resolve) => {
      const req = session.request({ ':path': '/steady' });
      let status = 0;
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', () => {});
      req.on('end', () => resolve(status));
      req.on('error', () => resolve(-1));
    });
  const loop = (async () => {
    while (running) statuses.push(await one());
    statuses.push(await one()); // one more after the attack is over
  })();
  return {
    async stop() {
      running = false;
      await loop;
      session.close();
      return statuses;
    },
  };
}

describe('HTTP/2 flood and rapid-reset mitigations', () => {
  let up: Upstream;
  let proxy: Running;
  let attackRequests = 0;

  before(async () => {
    up = await startUpstream((req, res) => {
      if (req.url?.startsWith('/attack/')) attackRequests++;
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    protocol: http
    routes: [{ match: { prefix: / }, cluster: up }]
clusters:
  - { name: up, endpoints: [{ address: ${up.address} }] }
`);
  });

  after(async () => {
    await proxy.stop();
    await up.close();
  });

  it('closes a rapid-reset attacker with GOAWAY(ENHANCE_YOUR_CALM) while another client is served', { timeout: 10_000 }, async () => {
    const steady = steadyClient(proxy.url);
    const attacker = await RawH2.connect(proxy.port);
    let sent = 0;
    const PAIRS = 2000;
    while (sent < PAIRS && !attacker.closed) {
      const batch: Buffer[] = [];
      for (let i = 0; i < 50 && sent < PAIRS; i++, sent++) {
        const id = 1 + 2 * sent;
        batch.push(headersFrame(id, getHeaders(`/attack/${id}`)), rstFrame(id, CODE.CANCEL));
      }
      await attacker.send(Buffer.concat(batch));
    }
    await attacker.waitClosed();
    assert.equal(attacker.goawayCode(), CODE.ENHANCE_YOUR_CALM);
    assert.ok(sent < PAIRS || attackRequests < PAIRS / 2, `cut off early (sent ${sent}, ${attackRequests} reached the upstream)`);
    const statuses = await steady.stop();
    assert.ok(statuses.length >= 1);
    assert.deepEqual(statuses.filter((s) => s !== 200), [], 'the other client got only 200s');
    assert.equal(await metricValue(proxy.admin!, METRIC, { listener: 'web', kind: 'h2_rapid_reset' }), 1);
  });

  it('closes a PING flooder (paced so that nghttp2 itself never sees a flood)', { timeout: 10_000 }, async () => {
    const steady = steadyClient(proxy.url);
    const c = await RawH2.connect(proxy.port);
    for (let i = 0; i < 30 && !c.closed; i++) {
      const batch: Buffer[] = [];
      for (let j = 0; j < 10; j++) batch.push(pingFrame(i * 10 + j));
      await c.send(Buffer.concat(batch));
      // wait for this batch's ACKs: a reading client, not one that lets ACKs pile up
      await c.waitUntil(() => c.count(FRAME.PING, FLAG.ACK) >= i * 10 + 10, 'PING ACKs').catch(() => {});
    }
    await c.waitClosed();
    assert.equal(c.goawayCode(), CODE.ENHANCE_YOUR_CALM);
    const acks = c.count(FRAME.PING, FLAG.ACK);
    assert.ok(acks >= 100 && acks < 300, `acks: ${acks}`);
    assert.deepEqual((await steady.stop()).filter((s) => s !== 200), []);
    assert.equal(await metricValue(proxy.admin!, METRIC, { listener: 'web', kind: 'h2_ping_flood' }), 1);
  });

  it('closes a SETTINGS flooder', { timeout: 10_000 }, async () => {
    const steady = steadyClient(proxy.url);
    const c = await RawH2.connect(proxy.port);
    for (let i = 0; i < 30 && !c.closed; i++) {
      const batch: Buffer[] = [];
      for (let j = 0; j < 10; j++) batch.push(settingsFrame([[4, 65_535 + i]]));
      const acks = c.count(FRAME.SETTINGS, FLAG.ACK);
      await c.send(Buffer.concat(batch));
      await c.waitUntil(() => c.count(FRAME.SETTINGS, FLAG.ACK) >= acks + 10, 'SETTINGS ACKs').catch(() => {});
    }
    await c.waitClosed();
    assert.equal(c.goawayCode(), CODE.ENHANCE_YOUR_CALM);
    assert.deepEqual((await steady.stop()).filter((s) => s !== 200), []);
    assert.equal(await metricValue(proxy.admin!, METRIC, { listener: 'web', kind: 'h2_settings_flood' }), 1);
  });

  it('does not count an ordinary client that cancels a few streams', { timeout: 10_000 }, async () => {
    const session = http2.connect(proxy.url);
    session.on('error', () => {});
    for (let i = 0; i < 10; i++) {
      const req = session.request({ ':path': `/cancel/${i}` });
      req.on('error', () => {});
      req.close(http2.constants.NGHTTP2_CANCEL);
    }
    const req = session.request({ ':path': '/after' });
    const h = await new Promise<http2.IncomingHttpHeaders>((resolve) => req.on('response', (head) => resolve(head)));
    req.resume();
    assert.equal(h[':status'], 200);
    session.close();
    assert.equal(await metricValue(proxy.admin!, METRIC, { listener: 'web', kind: 'h2_rapid_reset' }), 1, 'still only the attacker');
  });
});
