/**
 * The HTTP/1.1 + h2c listener's preface sniffing on real sockets with stub protocols: which
 * side gets the connection, that no byte is lost, split prefaces, connections that send
 * nothing (header timeout on a manual clock), drain before a decision, close callbacks.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import type { ListenerProtocol, ServeContext, ServerConnection } from '../../src/api/codec';
import { httpAutoListenerProtocol, H2_PREFACE } from '../../src/http/h2';
import { ManualClock, until } from '../fixtures/grpc/h2-peers';
import { quietLog } from '../fixtures/harness';

interface Served {
  proto: string;
  bytes: Buffer;
}

function stub(name: string, served: Served[]): ListenerProtocol {
  return {
    name,
    serve(socket: Duplex): ServerConnection {
      const rec: Served = { proto: name, bytes: Buffer.alloc(0) };
      served.push(rec);
      const cbs: Array<() => void> = [];
      socket.on('data', (c: Buffer) => {
        rec.bytes = Buffer.concat([rec.bytes, c]);
        if (rec.bytes.includes('END')) socket.end('bye');
      });
      socket.on('close', () => cbs.forEach((f) => f()));
      socket.resume(); // node:http2 reads the handle natively; this stub reads through 'data'
      return { activeStreams: 0, drain: () => socket.end(), destroy: () => socket.destroy(), onClose: (f) => cbs.push(f) };
    },
  };
}

describe('HTTP/1.1 + h2c preface sniffing', () => {
  const served: Served[] = [];
  const errors: string[] = [];
  const conns: ServerConnection[] = [];
  const clock = new ManualClock();
  const auto = httpAutoListenerProtocol(stub('h1', served), stub('h2', served));
  let server: net.Server;
  let port = 0;

  before(async () => {
    server = net.createServer((socket) => {
      socket.on('error', () => {});
      const ctx: ServeContext = {
        connection: { id: 1, listener: 't', remoteAddress: '', remotePort: 0, localAddress: '', localPort: 0, tls: false },
        limits: { maxHeaderBytes: 4096, headerTimeoutMs: 1000, idleTimeoutMs: 5000, maxBufferBytes: 1 << 20 },
        clock,
        log: quietLog,
        onStream: () => {},
        onProtocolError: (k) => errors.push(k),
      };
      conns.push(auto.serve(socket, ctx));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as net.AddressInfo).port;
  });

  after(() => {
    for (const c of conns) c.destroy();
    server.close();
  });

  async function open(): Promise<net.Socket> {
    const n = conns.length;
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    await once(s, 'connect');
    await until(() => conns.length === n + 1, 'accept');
    return s;
  }

  async function exchange(parts: Buffer[]): Promise<Served> {
    const n = served.length;
    const s = await open();
    for (const p of parts) {
      s.write(p);
      await new Promise((r) => setImmediate(r));
    }
    s.resume();
    await once(s, 'close');
    assert.equal(served.length, n + 1);
    return served[n];
  }

  it('gives an HTTP/1.1 request to the HTTP/1.1 side, every byte intact', async () => {
    const msg = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\nEND');
    const r = await exchange([msg]);
    assert.equal(r.proto, 'h1');
    assert.deepEqual(r.bytes, msg);
  });

  it('gives the preface to the HTTP/2 side, also when it arrives byte by byte', async () => {
    const msg = Buffer.concat([H2_PREFACE, Buffer.from('END')]);
    const whole = await exchange([msg]);
    assert.equal(whole.proto, 'h2');
    assert.deepEqual(whole.bytes, msg);
    const parts = [...msg].map((b) => Buffer.from([b]));
    const split = await exchange(parts);
    assert.equal(split.proto, 'h2');
    assert.deepEqual(split.bytes, msg);
  });

  it('"PRI" that turns out not to be the preface goes to HTTP/1.1', async () => {
    const msg = Buffer.from('PRI * HTTP/1.1\r\n\r\nEND');
    const r = await exchange([msg.subarray(0, 3), msg.subarray(3)]);
    assert.equal(r.proto, 'h1');
    assert.deepEqual(r.bytes, msg);
  });

  it('closes a connection that sends nothing, or half a preface, within the header timeout', async () => {
    const n = served.length;
    const quiet = await open();
    const partial = await open();
    partial.write(H2_PREFACE.subarray(0, 10));
    await new Promise((r) => setImmediate(r));
    const closed = Promise.all([once(quiet, 'close'), once(partial, 'close')]);
    quiet.resume();
    partial.resume();
    clock.advance(999);
    await new Promise((r) => setImmediate(r));
    assert.equal(quiet.destroyed, false);
    clock.advance(1);
    await closed;
    assert.equal(served.length, n, 'no protocol was given these connections');
    assert.deepEqual(errors, ['incomplete_preface']);
  });

  it('drain before a decision closes; close callbacks fire either way', async () => {
    const s = await open();
    const c = conns.at(-1)!;
    let closed = false;
    c.onClose(() => (closed = true));
    c.drain();
    s.resume();
    await once(s, 'close');
    await until(() => closed, 'the close callback');
    const t = await open();
    const d = conns.at(-1)!;
    let closed2 = false;
    d.onClose(() => (closed2 = true));
    t.write('GET / HTTP/1.1\r\n\r\nEND');
    t.resume();
    await once(t, 'close');
    await until(() => closed2, 'the close callback after hand-off');
  });
});
