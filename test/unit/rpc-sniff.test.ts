// `protocol: auto` sniffing: the choice among candidates, the byte bound, the header timeout,
// and the hand-off of the sniffed bytes to the chosen protocol.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import type { Clock, ListenerProtocol, ServeContext, ServerConnection, TimerHandle } from '../../src/api';
import { autoListenerProtocol, chooseProtocol, MAX_SNIFF_BYTES } from '../../src/listener/sniff';

function proto(name: string, match: (b: Buffer) => 'yes' | 'no' | 'need-more', onServe?: (s: net.Socket) => void): ListenerProtocol {
  return {
    name,
    match,
    serve(socket): ServerConnection {
      onServe?.(socket as net.Socket);
      return { activeStreams: 0, drain() {}, destroy: () => socket.destroy(), onClose: (cb) => socket.on('close', cb) };
    },
  };
}

const prefix = (p: string) => (b: Buffer) => {
  const s = b.toString('latin1');
  if (s.startsWith(p)) return 'yes' as const;
  return p.startsWith(s) ? ('need-more' as const) : ('no' as const);
};

describe('chooseProtocol', () => {
  const a = proto('a', prefix('ABCD'));
  const b = proto('b', prefix('ABXY'));
  it('waits while any candidate needs more, picks the first yes, gives up on all no', () => {
    assert.equal(chooseProtocol([a, b], Buffer.from('AB'), false), 'need-more');
    assert.equal(chooseProtocol([a, b], Buffer.from('ABX'), false), 'need-more');
    assert.equal(chooseProtocol([a, b], Buffer.from('ABXY'), false), b);
    assert.equal(chooseProtocol([a, b], Buffer.from('ZZ'), false), null);
    assert.equal(chooseProtocol([a, b], Buffer.from('AB'), true), null, 'at end of input need-more is no');
  });
  it('stops waiting at the byte bound', () => {
    const never = proto('n', () => 'need-more');
    assert.equal(chooseProtocol([never], Buffer.alloc(MAX_SNIFF_BYTES - 1), false), 'need-more');
    assert.equal(chooseProtocol([never], Buffer.alloc(MAX_SNIFF_BYTES), false), null);
  });
  it('treats a throwing match() as no', () => {
    const bad = proto('bad', () => {
      throw new Error('x');
    });
    assert.equal(chooseProtocol([bad, a], Buffer.from('ABCD'), false), a);
  });
});

class ManualClock implements Clock {
  fns: Array<() => void> = [];
  now = () => 0;
  wallNow = () => 0;
  setTimer(fn: () => void): TimerHandle {
    this.fns.push(fn);
    return { cancel: () => (this.fns = this.fns.filter((f) => f !== fn)), refresh() {} };
  }
  fire(): void {
    const f = this.fns;
    this.fns = [];
    for (const x of f) x();
  }
}

async function serveAuto(candidates: ListenerProtocol[], clock: ManualClock) {
  const errors: string[] = [];
  const auto = autoListenerProtocol(() => candidates);
  const socks = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    socks.add(sock);
    sock.on('close', () => socks.delete(sock));
    const ctx: ServeContext = {
      connection: { id: 1, listener: 'l', remoteAddress: '', remotePort: 0, localAddress: '', localPort: 0, tls: false },
      limits: { maxHeaderBytes: 1024, headerTimeoutMs: 500, idleTimeoutMs: 1000, maxBufferBytes: 1024 },
      clock,
      log: { debug() {}, info() {}, warn() {}, error() {} },
      onStream() {},
      onProtocolError: (k) => errors.push(k),
    };
    auto.serve(sock, ctx);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const close = (): Promise<void> => {
    for (const s of socks) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  };
  return { port: (server.address() as net.AddressInfo).port, errors, close };
}

describe('autoListenerProtocol', () => {
  it('hands the chosen protocol every byte, the sniffed ones first', async () => {
    let got!: (b: Buffer) => void;
    const received = new Promise<Buffer>((r) => (got = r));
    const echo = proto('abcd', prefix('ABCD'), (s) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (all.length >= 10) got(all);
      });
    });
    const srv = await serveAuto([proto('other', prefix('XYZ')), echo], new ManualClock());
    const c = net.connect(srv.port, '127.0.0.1');
    await once(c, 'connect');
    c.write('AB');
    await new Promise((r) => setImmediate(r));
    c.write('CD');
    await new Promise((r) => setImmediate(r));
    c.write('efghij');
    assert.equal((await received).toString(), 'ABCDefghij');
    c.destroy();
    await srv.close();
  });

  it('closes a connection that never decides within the header timeout', async () => {
    const clock = new ManualClock();
    const srv = await serveAuto([proto('slow', () => 'need-more')], clock);
    const c = net.connect(srv.port, '127.0.0.1');
    c.on('error', () => {});
    await once(c, 'connect');
    c.write('?');
    while (clock.fns.length === 0) await new Promise((r) => setImmediate(r));
    const closed = new Promise((r) => c.on('close', r));
    clock.fire();
    await closed;
    assert.deepEqual(srv.errors, ['unknown_protocol']);
    await srv.close();
  });
});
