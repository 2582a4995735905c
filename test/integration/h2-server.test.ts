/**
 * The downstream HTTP/2 codec on its own (no engine): real sockets, a node:http2 client, a stub
 * ServeContext and a manual clock. Settings, local replies in HTTP and gRPC form, request
 * trailers, early responses to unfinished requests, idle and first-stream timeouts, drain,
 * oversized headers and garbage input.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { once } from 'node:events';
import { FRAME, RawH2, frame, getHeaders, headersFrame } from './h2-protect-wire';
import { HeaderMap } from '../../src/api/headers';
import type { ServeContext, ServerConnection } from '../../src/api/codec';
import type { RequestBodyHandler, ServerStream } from '../../src/api/stream';
import { createHttp2Listener } from '../../src/http/h2';
import { ManualClock, until } from '../fixtures/grpc/h2-peers';
import { quietLog } from '../fixtures/harness';

interface Rig {
  port: number;
  clock: ManualClock;
  streams: ServerStream[];
  conns: ServerConnection[];
  errors: string[];
  closed: number;
  onStream: (s: ServerStream) => void;
}

const listener = createHttp2Listener({ maxConcurrentStreams: 7 });
let rig: Rig;
let server: net.Server;

function body(): RequestBodyHandler & { chunks: Buffer[]; ended: Promise<HeaderMap | null>; aborted: string | null } {
  let resolve!: (t: HeaderMap | null) => void;
  const h = {
    chunks: [] as Buffer[],
    aborted: null as string | null,
    ended: new Promise<HeaderMap | null>((r) => (resolve = r)),
    onData(c: Buffer) {
      h.chunks.push(c);
    },
    onEnd(t: HeaderMap | null) {
      resolve(t);
    },
    onAbort(r: string) {
      h.aborted = r;
    },
  };
  return h;
}

before(async () => {
  const clock = new ManualClock();
  rig = { port: 0, clock, streams: [], conns: [], errors: [], closed: 0, onStream: () => {} };
  server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    const ctx: ServeContext = {
      connection: { id: 1, listener: 't', remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 2, tls: false },
      limits: { maxHeaderBytes: 4096, headerTimeoutMs: 1000, idleTimeoutMs: 5000, maxBufferBytes: 1 << 20 },
      clock,
      log: quietLog,
      onStream: (s) => {
        rig.streams.push(s);
        rig.onStream(s);
      },
      onProtocolError: (k) => rig.errors.push(k),
    };
    const c = listener.serve(socket, ctx);
    c.onClose(() => rig.closed++);
    rig.conns.push(c);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  rig.port = (server.address() as net.AddressInfo).port;
});

after(() => {
  for (const c of rig.conns) c.destroy();
  server.close();
});

function connect(): http2.ClientHttp2Session {
  const s = http2.connect(`http://127.0.0.1:${rig.port}`);
  s.on('error', () => {});
  return s;
}

describe('HTTP/2 server codec', () => {
  it('advertises its settings and hands over headers, body and trailers', async () => {
    rig.onStream = (s) => {
      const b = body();
      s.attach(b);
      void b.ended.then((t) => {
        s.respond(new HeaderMap([':status', '201', 'x-got', Buffer.concat(b.chunks).toString(), 'connection', 'close']), false);
        s.write(Buffer.from('a'));
        s.end(new HeaderMap(['x-trailer', t?.get('x-req-t') ?? 'none']));
      });
    };
    const c = connect();
    const [settings] = (await once(c, 'remoteSettings')) as [http2.Settings];
    assert.equal(settings.maxConcurrentStreams, 7);
    assert.equal(settings.maxHeaderListSize, 4096);
    const req = c.request({ ':method': 'POST', ':path': '/p?q', 'x-h': 'v' }, { waitForTrailers: true });
    req.on('wantTrailers', () => req.sendTrailers({ 'x-req-t': 'rt' }));
    req.end('payload');
    const [head] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
    const [trailers] = (await once(req, 'trailers')) as [http2.IncomingHttpHeaders];
    assert.equal(head[':status'], 201);
    assert.equal(head['x-got'], 'payload');
    assert.equal(head.connection, undefined);
    assert.equal(trailers['x-trailer'], 'rt');
    const s = rig.streams.at(-1)!;
    assert.equal(s.protocol, 'h2');
    assert.equal(s.headers.get(':path'), '/p?q');
    assert.equal(s.headers.get(':method'), 'POST');
    assert.equal(s.headers.get('x-h'), 'v');
    assert.equal(s.endStream, false);
    c.close();
  });

  it('renders a gRPC local reply as Trailers-Only, others as HTTP', async () => {
    rig.onStream = (s) => {
      s.attach(body());
      s.sendLocalReply({ status: 404, reason: 'no_route', body: 'no route matched\n', details: 'no route: ü 100%' });
    };
    const c = connect();
    const req = c.request({ ':method': 'POST', ':path': '/svc/M', 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false });
    req.write(Buffer.from([0, 0, 0, 0, 0]));
    const [head, flags] = (await once(req, 'response')) as [http2.IncomingHttpHeaders, number];
    assert.equal(head[':status'], 200);
    assert.equal(head['grpc-status'], '12');
    assert.equal(head['grpc-message'], 'no route: %C3%BC 100%25');
    assert.ok(flags & http2.constants.NGHTTP2_FLAG_END_STREAM, 'one HEADERS frame with END_STREAM');
    await once(req, 'close');
    assert.equal(req.rstCode, http2.constants.NGHTTP2_NO_ERROR, 'the unfinished request is stopped with NO_ERROR');
    const plain = c.request({ ':path': '/x' });
    const [h2] = (await once(plain, 'response')) as [http2.IncomingHttpHeaders];
    let text = '';
    for await (const chunk of plain) text += chunk;
    assert.equal(h2[':status'], 404);
    assert.equal(h2['content-type'], 'text/plain');
    assert.equal(text, 'no route matched\n');
    c.close();
  });

  it('reports a client reset to the body handler', async () => {
    const b = body();
    rig.onStream = (s) => s.attach(b);
    const c = connect();
    const req = c.request({ ':method': 'POST', ':path': '/r' }, { endStream: false });
    req.on('error', () => {});
    req.write('x');
    await until(() => b.chunks.length > 0, 'the first body chunk');
    req.close(http2.constants.NGHTTP2_CANCEL);
    await until(() => b.aborted !== null, 'the abort');
    c.close();
  });

  it('closes idle sessions on the clock (GOAWAY), and sessions that never open a stream', async () => {
    // Earlier tests' clients sent GOAWAY without waiting for the close.
    await until(() => rig.closed === rig.conns.length, 'earlier connections to close');
    const before = rig.closed;
    rig.onStream = (s) => {
      s.respond(new HeaderMap([':status', '200']), true);
    };
    const c = connect();
    const r = c.request({ ':path': '/' });
    r.resume();
    await once(r, 'close');
    const goaway = once(c, 'goaway');
    rig.clock.advance(4999);
    await new Promise((res) => setImmediate(res));
    assert.equal(rig.closed, before);
    rig.clock.advance(1);
    await goaway;
    await until(() => rig.closed === before + 1, 'the connection to close');
    // No stream at all: the header timeout (1s) applies.
    const errs = rig.errors.length;
    const accepted = rig.conns.length;
    const quiet = connect();
    await until(() => rig.conns.length === accepted + 1, 'the server to accept');
    rig.clock.advance(1000);
    await until(() => rig.closed === before + 2, 'the quiet connection to close');
    assert.deepEqual(rig.errors.slice(errs), ['header_timeout']);
    quiet.destroy();
  });

  it('drain: GOAWAY, the stream in flight finishes, then the connection closes', async () => {
    let stream: ServerStream | null = null;
    rig.onStream = (s) => {
      stream = s;
      s.respond(new HeaderMap([':status', '200']), false);
    };
    const c = connect();
    const req = c.request({ ':path': '/slow' });
    await once(req, 'response');
    const conn = rig.conns.at(-1)!;
    assert.equal(conn.activeStreams, 1);
    const closed = new Promise<void>((r) => conn.onClose(r));
    const goaway = once(c, 'goaway');
    conn.drain();
    await goaway;
    stream!.write(Buffer.from('late'));
    stream!.end(null);
    let text = '';
    for await (const chunk of req) text += chunk;
    assert.equal(text, 'late');
    await closed;
    assert.equal(conn.activeStreams, 0);
  });

  it('refuses oversized header lists without harming the session', async () => {
    rig.onStream = (s) => s.respond(new HeaderMap([':status', '204']), true);
    const c = connect();
    await once(c, 'remoteSettings');
    const big = c.request({ ':path': '/big', 'x-big': 'x'.repeat(8000) });
    big.on('error', () => {});
    big.resume();
    await new Promise((r) => big.on('close', r));
    assert.notEqual(big.rstCode, http2.constants.NGHTTP2_NO_ERROR);
    const ok = c.request({ ':path': '/small' });
    const [h] = (await once(ok, 'response')) as [http2.IncomingHttpHeaders];
    assert.equal(h[':status'], 204);
    c.close();
  });

  it('holds an unread stream to its receive window: FLOW_CONTROL_ERROR when the client overruns it', async () => {
    let stream: ServerStream | null = null;
    rig.onStream = (s) => (stream = s); // never attached: nothing is consumed, no WINDOW_UPDATE
    const c = await RawH2.connect(rig.port);
    const head: Array<[string, string]> = [[':method', 'POST'], ...getHeaders('/unread').slice(1)];
    const chunk = Buffer.alloc(16_000, 0x61);
    const frames = [headersFrame(1, head, false)];
    for (let i = 0; i < 17; i++) frames.push(frame(FRAME.DATA, 0, 1, chunk)); // 272,000 > 262,144
    await c.send(Buffer.concat(frames));
    const rst = await c.waitFor((f) => f.type === FRAME.RST_STREAM && f.streamId === 1, 'RST_STREAM');
    assert.equal(rst.payload.readUInt32BE(0), 3 /* FLOW_CONTROL_ERROR */);
    assert.ok(!c.frames.some((f) => f.type === FRAME.WINDOW_UPDATE && f.streamId === 1), 'no WINDOW_UPDATE for an unread stream');
    assert.ok(stream !== null);
    rig.onStream = (s) => s.respond(new HeaderMap([':status', '200']), true);
    await c.send(headersFrame(3, getHeaders('/next')));
    await c.waitFor((f) => f.type === FRAME.HEADERS && f.streamId === 3, 'the next stream answered');
    c.destroy();
  });

  it('counts garbage after the preface as a protocol error and closes only that connection', async () => {
    const errs = rig.errors.length;
    const sock = net.connect(rig.port, '127.0.0.1');
    sock.on('error', () => {});
    await once(sock, 'connect');
    sock.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.alloc(64, 0xff)]));
    sock.resume();
    await once(sock, 'close');
    assert.ok(rig.errors.length > errs, 'a protocol error was counted');
    // Another connection is fine.
    rig.onStream = (s) => s.respond(new HeaderMap([':status', '200']), true);
    const c = connect();
    const r = c.request({ ':path': '/' });
    const [h] = (await once(r, 'response')) as [http2.IncomingHttpHeaders];
    assert.equal(h[':status'], 200);
    c.close();
  });
});
