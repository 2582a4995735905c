/**
 * The native HTTP/2 server codec, frame by frame through the real proxy (h2-protect-wire.ts writes
 * the frames): header blocks split over CONTINUATION with padding and priority, unknown frame
 * types, PING, the peer's send window (a client with a 10-byte window gets its body in window-sized
 * DATA frames), malformed requests reset on their own (CR/LF in a
 * value, connection-specific fields, a body that does not match content-length), connection
 * errors answered with GOAWAY and the right code, and seeded random frames that never take the
 * process or another connection down.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { metricValue, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';
import { seededRandom } from '../fixtures/random';
import { CODE, FLAG, FRAME, RawH2, frame, getHeaders, headersFrame, hpackLiterals, pingFrame, settingsFrame } from './h2-protect-wire';

const METRIC = 'switchyard_downstream_protocol_errors_total';
const PADDED = 0x8;
const PRIORITY = 0x20;
const FRAME_SIZE_ERROR = 6;
const COMPRESSION_ERROR = 9;
const SETTINGS_INITIAL_WINDOW_SIZE = 4;
const BODY = 'b'.repeat(100);

function count(proxy: Running, kind: string): Promise<number> {
  return metricValue(proxy.admin!, METRIC, { listener: 'web', kind });
}

function statusOf(f: { payload: Buffer }): string {
  // ":status" as the static-table entry 8 (0x88 = 200) or as a literal holding the digits.
  if (f.payload[0] === 0x88) return '200';
  const m = /[1-5]\d\d/.exec(f.payload.toString('latin1'));
  return m === null ? '?' : m[0];
}

async function goodRequest(c: RawH2, id: number): Promise<string> {
  await c.send(headersFrame(id, getHeaders('/good')));
  const h = await c.waitFor((f) => f.type === FRAME.HEADERS && f.streamId === id, `response on stream ${id}`);
  return statusOf(h);
}

async function expectGoaway(c: RawH2, code: number): Promise<void> {
  await c.waitFor((f) => f.type === FRAME.GOAWAY, 'GOAWAY');
  assert.equal(c.goawayCode(), code);
  await c.waitClosed();
}

describe('native HTTP/2 codec, frame by frame', () => {
  let up: Upstream;
  let proxy: Running;
  const seen: string[] = [];

  before(async () => {
    up = await startUpstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${Buffer.concat(chunks).length}`);
        res.setHeader('content-type', 'text/plain');
        res.end(BODY);
      });
    });
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    protocol: http2
    http2: { initial_stream_window_size: 65535 }
    routes: [{ match: { prefix: / }, cluster: up }]
clusters:
  - { name: up, endpoints: [{ address: ${up.address} }] }
`);
  });

  after(async () => {
    await proxy.stop();
    await up.close();
  });

  it('joins CONTINUATION frames, strips padding and priority, ignores unknown frames, answers PING', async () => {
    const c = await RawH2.connect(proxy.port);
    const block = hpackLiterals(getHeaders('/split'));
    const a = block.subarray(0, 7);
    const b = block.subarray(7, 20);
    const rest = block.subarray(20);
    // HEADERS: pad length 3, priority (5 bytes), first fragment, 3 bytes of padding.
    const first = Buffer.concat([Buffer.from([3]), Buffer.from([0, 0, 0, 0, 16]), a, Buffer.alloc(3)]);
    await c.send(
      Buffer.concat([
        frame(FRAME.HEADERS, PADDED | PRIORITY | FLAG.END_STREAM, 1, first),
        frame(FRAME.CONTINUATION, 0, 1, b),
        frame(FRAME.CONTINUATION, FLAG.END_HEADERS, 1, rest),
        frame(0xfa, 0, 0, Buffer.from('unknown')),
        pingFrame(0x1234),
      ]),
    );
    const h = await c.waitFor((f) => f.type === FRAME.HEADERS && f.streamId === 1, 'response');
    assert.equal(statusOf(h), '200');
    const pong = await c.waitFor((f) => f.type === FRAME.PING && (f.flags & FLAG.ACK) !== 0, 'PING ACK');
    assert.equal(pong.payload.readUInt32BE(4), 0x1234);
    await c.waitFor((f) => f.type === FRAME.DATA && f.streamId === 1 && (f.flags & FLAG.END_STREAM) !== 0, 'the end of the body');
    assert.ok(seen.includes('GET /split 0'));
    c.destroy();
  });

  it('respects the client window: a 10-byte window gets 10-byte DATA frames, more after WINDOW_UPDATE', async () => {
    const c = await RawH2.connect(proxy.port, [[SETTINGS_INITIAL_WINDOW_SIZE, 10]]);
    await c.send(headersFrame(1, getHeaders('/window')));
    await c.waitFor((f) => f.type === FRAME.DATA && f.streamId === 1, 'the first DATA');
    const dataBytes = (): number => c.frames.filter((f) => f.type === FRAME.DATA && f.streamId === 1).reduce((n, f) => n + f.payload.length, 0);
    // Give the proxy a moment to (wrongly) send more: a PING round trip orders it after the DATA.
    await c.send(pingFrame(7));
    await c.waitFor((f) => f.type === FRAME.PING && (f.flags & FLAG.ACK) !== 0, 'PING ACK');
    assert.equal(dataBytes(), 10);
    const inc = Buffer.alloc(4);
    inc.writeUInt32BE(1000);
    await c.send(frame(FRAME.WINDOW_UPDATE, 0, 1, inc));
    await c.waitFor((f) => f.type === FRAME.DATA && f.streamId === 1 && (f.flags & FLAG.END_STREAM) !== 0, 'the end of the body');
    assert.equal(dataBytes(), BODY.length);
    c.destroy();
  });

  it('resets malformed requests on their own and counts them', async () => {
    const before = await count(proxy, 'h2_rejected_stream');
    const c = await RawH2.connect(proxy.port);
    await c.send(headersFrame(1, [...getHeaders('/crlf'), ['x-evil', 'a\r\nx-injected: 1']]));
    await c.send(headersFrame(3, [...getHeaders('/conn'), ['connection', 'keep-alive']]));
    await c.send(headersFrame(5, [...getHeaders('/te'), ['te', 'gzip']]));
    for (const id of [1, 3, 5]) {
      const rst = await c.waitFor((f) => f.type === FRAME.RST_STREAM && f.streamId === id, `RST_STREAM ${id}`);
      assert.equal(rst.payload.readUInt32BE(0), CODE.PROTOCOL_ERROR);
    }
    assert.equal(await goodRequest(c, 7), '200');
    c.destroy();
    assert.equal(await count(proxy, 'h2_rejected_stream'), before + 3);
    assert.ok(!seen.some((s) => s.includes('/crlf') || s.includes('/conn') || s.includes('/te')), 'none of them reached the upstream');
  });

  it('resets a request whose body does not match its content-length', async () => {
    const c = await RawH2.connect(proxy.port);
    const head: Array<[string, string]> = [[':method', 'POST'], ...getHeaders('/short').slice(1), ['content-length', '10']];
    await c.send(Buffer.concat([headersFrame(1, head, false), frame(FRAME.DATA, FLAG.END_STREAM, 1, Buffer.from('abc'))]));
    const rst = await c.waitFor((f) => f.type === FRAME.RST_STREAM && f.streamId === 1, 'RST_STREAM');
    assert.equal(rst.payload.readUInt32BE(0), CODE.PROTOCOL_ERROR);
    assert.equal(await goodRequest(c, 3), '200');
    c.destroy();
  });

  it('answers connection errors with GOAWAY and the right code, and counts them', async () => {
    const proto = await count(proxy, 'h2_protocol_error');
    // A frame between HEADERS and its CONTINUATION.
    let c = await RawH2.connect(proxy.port);
    const block = hpackLiterals(getHeaders('/x'));
    await c.send(Buffer.concat([frame(FRAME.HEADERS, FLAG.END_STREAM, 1, block.subarray(0, 5)), pingFrame(1)]));
    await expectGoaway(c, CODE.PROTOCOL_ERROR);
    // DATA on a stream that was never opened.
    c = await RawH2.connect(proxy.port);
    await c.send(frame(FRAME.DATA, 0, 9, Buffer.from('x')));
    await expectGoaway(c, CODE.PROTOCOL_ERROR);
    assert.equal(await count(proxy, 'h2_protocol_error'), proto + 2);
    // A frame over SETTINGS_MAX_FRAME_SIZE.
    c = await RawH2.connect(proxy.port);
    await c.send(frame(FRAME.DATA, 0, 1, Buffer.alloc(20_000)));
    await expectGoaway(c, FRAME_SIZE_ERROR);
    // An HPACK index beyond both tables.
    c = await RawH2.connect(proxy.port);
    await c.send(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, Buffer.from([0xff, 0x70])));
    await expectGoaway(c, COMPRESSION_ERROR);
    // A SETTINGS frame of the wrong length.
    c = await RawH2.connect(proxy.port);
    await c.send(frame(FRAME.SETTINGS, 0, 0, Buffer.alloc(5)));
    await expectGoaway(c, FRAME_SIZE_ERROR);
    assert.equal(await count(proxy, 'h2_compression_error'), 1);
  });

  it('survives seeded random frames; an ordinary client is served afterwards', { timeout: 30_000 }, async () => {
    const rnd = seededRandom(0x5eed);
    const byte = (): number => Math.floor(rnd() * 256);
    for (let conn = 0; conn < 60; conn++) {
      const c = await RawH2.connect(proxy.port);
      const parts: Buffer[] = [];
      for (let i = 0; i < 8; i++) {
        const type = rnd() < 0.8 ? Math.floor(rnd() * 10) : byte();
        const len = Math.floor(rnd() * 40);
        const payload = Buffer.alloc(len);
        for (let j = 0; j < len; j++) payload[j] = byte();
        // Sometimes a well-formed request in between, so streams exist when the junk arrives.
        if (rnd() < 0.3) parts.push(settingsFrame([]), headersFrame(1 + 2 * i, getHeaders('/r' + i), rnd() < 0.5));
        parts.push(frame(type, byte(), Math.floor(rnd() * 12), payload));
      }
      await c.send(Buffer.concat(parts));
      // Either the server closes us or it is still fine: a PING gets an ACK.
      await c.send(pingFrame(99));
      await c.waitUntil(() => c.frames.some((f) => f.type === FRAME.PING && (f.flags & FLAG.ACK) !== 0 && f.payload.readUInt32BE(4) === 99), 'PING ACK').catch(() => {});
      c.destroy();
    }
    const s = http2.connect(proxy.url);
    s.on('error', () => {});
    const req = s.request({ ':path': '/after-fuzz' });
    const status = await new Promise<number>((resolve) => req.on('response', (h) => resolve(Number(h[':status']))));
    req.resume();
    assert.equal(status, 200);
    s.close();
  });
});
