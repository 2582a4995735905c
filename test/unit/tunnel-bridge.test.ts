/**
 * The tunnel on real socket pairs with a hand-driven clock: bytes both ways, bytes unshifted
 * before the hand-over come first, half-close, teardown on close and on error, backpressure,
 * the idle timeout, the upgrade counters and the one end-of-tunnel report.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { tunnel, UpgradeStats, type TunnelResult } from '../../src/proxy/tunnel';
import { StatsRegistry } from '../../src/observability/stats';
import { ManualClock } from '../fixtures/manual-clock';

/**
 * A connected pair: `outer` is the peer's socket, `inner` the proxy's (paused, as handed over).
 * A peer that is not `halfOpen` answers a FIN with its own, as most clients and servers do.
 */
async function pair(halfOpen = false): Promise<{ outer: net.Socket; inner: net.Socket; server: net.Server }> {
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const outer = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: halfOpen });
  const [[inner]] = (await Promise.all([once(server, 'connection'), once(outer, 'connect')])) as [[net.Socket], unknown];
  outer.on('error', () => {});
  inner.on('error', () => {});
  return { outer, inner, server };
}

/** Reads `n` bytes from a socket. */
function readN(s: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const onData = (c: Buffer): void => {
      chunks.push(c);
      have += c.length;
      if (have >= n) {
        s.off('data', onData);
        s.off('close', onClose);
        resolve(Buffer.concat(chunks));
      }
    };
    const onClose = (): void => reject(new Error(`closed after ${have} of ${n}`));
    s.on('data', onData);
    s.on('close', onClose);
  });
}

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

async function setup(idleTimeoutMs = 0, stats: UpgradeStats | null = null, halfOpen = false) {
  const a = await pair(halfOpen);
  const b = await pair(halfOpen);
  servers.push(a.server, b.server);
  sockets.push(a.outer, a.inner, b.outer, b.inner);
  const clock = new ManualClock();
  const results: TunnelResult[] = [];
  let resolveClosed!: (r: TunnelResult) => void;
  const closed = new Promise<TunnelResult>((r) => (resolveClosed = r));
  // a.outer plays the client, b.outer the upstream server.
  const t = tunnel(a.inner, b.inner, {
    clock,
    idleTimeoutMs,
    stats,
    protocol: 'websocket',
    onClose: (r) => {
      results.push(r);
      resolveClosed(r);
    },
  });
  return { client: a.outer, server: b.outer, down: a.inner, up: b.inner, clock, t, results, closed };
}

afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

describe('tunnel', () => {
  it('carries bytes both ways, counts them, and reports once after both sides close', async () => {
    const reg = new StatsRegistry();
    const stats = new UpgradeStats(reg, 'web');
    const x = await setup(0, stats);
    assert.equal(stats.total('websocket').value, 1);
    assert.equal(stats.active.value, 1);
    x.client.write('ping');
    assert.equal((await readN(x.server, 4)).toString(), 'ping');
    x.server.write('pong!');
    assert.equal((await readN(x.client, 5)).toString(), 'pong!');
    x.client.destroy();
    const r = await x.closed;
    if (!x.server.destroyed) await once(x.server, 'close');
    assert.equal(r.bytesFromDownstream, 4);
    assert.equal(r.bytesFromUpstream, 5);
    assert.equal(r.end, 'closed');
    assert.equal(x.results.length, 1);
    assert.equal(stats.active.value, 0);
    assert.equal(stats.total('websocket').value, 1);
  });

  it('delivers bytes unshifted into a paused socket before anything else', async () => {
    const a = await pair();
    const b = await pair();
    servers.push(a.server, b.server);
    sockets.push(a.outer, a.inner, b.outer, b.inner);
    a.inner.unshift(Buffer.from('early-'));
    const got = readN(b.outer, 11);
    tunnel(a.inner, b.inner, { clock: new ManualClock(), idleTimeoutMs: 0, onClose() {} });
    a.outer.write('later');
    assert.equal((await got).toString(), 'early-later');
  });

  it('propagates a half-close and keeps the other direction open', async () => {
    const x = await setup(0, null, true);
    x.client.end('last words');
    assert.equal((await readN(x.server, 10)).toString(), 'last words');
    await once(x.server, 'end');
    assert.equal(x.results.length, 0, 'still open one way');
    x.server.write('still here');
    assert.equal((await readN(x.client, 10)).toString(), 'still here');
    x.server.end();
    await once(x.client, 'end');
    const r = await x.closed;
    assert.equal(r.end, 'closed');
    assert.equal(r.bytesFromUpstream, 10);
  });

  it('tears both sides down when one is reset', async () => {
    const x = await setup();
    x.client.write('a');
    await readN(x.server, 1);
    x.server.resetAndDestroy();
    await once(x.client, 'close');
    const r = await x.closed;
    assert.ok(x.down.destroyed && x.up.destroyed);
    assert.ok(r.end === 'error' || r.end === 'closed');
  });

  it('tears both sides down on a socket error', async () => {
    const x = await setup();
    x.up.destroy(new Error('boom'));
    await once(x.client, 'close');
    const r = await x.closed;
    assert.equal(r.end, 'error');
  });

  it('closes both sides after idleTimeoutMs without a byte either way', async () => {
    const x = await setup(1000);
    x.clock.advance(900);
    x.client.write('keep');
    await readN(x.server, 4);
    x.clock.advance(900); // 1800 since start, 900 since the last byte: still open
    assert.equal(x.t.closed, false);
    x.server.write('alive');
    await readN(x.client, 5);
    x.clock.advance(999);
    assert.equal(x.t.closed, false);
    x.clock.advance(1);
    assert.equal(x.t.closed, true);
    await once(x.client, 'close');
    const r = await x.closed;
    assert.equal(r.end, 'idle_timeout');
  });

  it('pauses the writer while the reader does not read, then delivers everything', async () => {
    const x = await setup();
    x.client.pause(); // the client stops reading
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    let written = 0;
    // The upstream writes until its own socket says stop, as a well-behaved server does.
    while (x.server.write(chunk)) written += chunk.length;
    written += chunk.length;
    const deadline = Date.now() + 5000;
    while (!x.up.isPaused() && Date.now() < deadline) {
      await new Promise((r) => setImmediate(r));
      if (x.server.writableLength === 0 && !x.up.isPaused()) {
        x.server.write(chunk);
        written += chunk.length;
      }
    }
    assert.ok(x.up.isPaused(), 'the upstream side is paused');
    assert.ok(x.down.writableLength <= 256 * 1024, `proxy holds ${x.down.writableLength} bytes for the slow client`);
    x.server.end();
    const all: Buffer[] = [];
    x.client.on('data', (c: Buffer) => all.push(c));
    x.client.resume();
    await once(x.client, 'end');
    assert.equal(Buffer.concat(all).length, written);
  });
});
