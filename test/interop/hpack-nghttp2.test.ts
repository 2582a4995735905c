/**
 * HPACK against nghttp2 (node:http2): a raw-socket HTTP/2 server made of just enough frame
 * handling decodes node's request header blocks (Huffman, dynamic-table indexing, CONTINUATION)
 * with HpackDecoder and answers with blocks from HpackEncoder, which node must accept — including
 * the table size update nghttp2 requires after it lowers its own SETTINGS_HEADER_TABLE_SIZE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as http2 from 'node:http2';
import { HpackDecoder, HpackEncoder } from '../../src/http/h2/hpack';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

interface Server {
  port: number;
  requests: string[][];
  /** Rejects when the client sends GOAWAY with an error code (nghttp2 rejected one of our blocks). */
  goaway: Promise<never>;
  close(): Promise<void>;
}

/** Responds to every request with `respond(requestHeaders)` encoded by one HpackEncoder. */
async function startRawServer(respond: (req: string[]) => string[]): Promise<Server> {
  const requests: string[][] = [];
  let onGoaway: (e: Error) => void = () => {};
  const goaway = new Promise<never>((_, reject) => { onGoaway = reject; });
  goaway.catch(() => {});
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    const dec = new HpackDecoder(4096);
    const enc = new HpackEncoder();
    let buf = Buffer.alloc(0);
    let prefaceSeen = false;
    let pending: Buffer[] = [];
    let pendingStream = 0;
    sock.write(frame(4, 0, 0, Buffer.alloc(0)));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!prefaceSeen) {
        if (buf.length < PREFACE.length) return;
        assert.deepEqual(buf.subarray(0, PREFACE.length), PREFACE);
        buf = buf.subarray(PREFACE.length);
        prefaceSeen = true;
      }
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        const type = buf[3];
        const flags = buf[4];
        const stream = buf.readUInt32BE(5) & 0x7fffffff;
        let payload = buf.subarray(9, 9 + len);
        buf = buf.subarray(9 + len);
        if (type === 7) {
          // node's client session does not surface a GOAWAY it sends itself: report it from here
          onGoaway(new Error(`client sent GOAWAY, error code ${payload.readUInt32BE(4)}`));
          sock.destroy();
        } else if (type === 4 && !(flags & 1)) {
          for (let p = 0; p + 6 <= payload.length; p += 6) {
            if (payload.readUInt16BE(p) === 1) enc.setPeerMaxTableSize(payload.readUInt32BE(p + 2));
          }
          sock.write(frame(4, 1, 0, Buffer.alloc(0)));
        } else if (type === 1 || type === 9) {
          if (type === 1) {
            let start = 0;
            let end = payload.length;
            if (flags & 0x8) { start = 1; end -= payload[0]; }
            if (flags & 0x20) start += 5;
            payload = payload.subarray(start, end);
            pendingStream = stream;
            pending = [];
          }
          pending.push(payload);
          if (flags & 0x4) {
            const out: string[] = [];
            dec.decode(Buffer.concat(pending), out, Infinity);
            requests.push(out);
            const kv = respond(out);
            const block = Buffer.alloc(HpackEncoder.maxLength(kv));
            const n = enc.encodeInto(kv, block, 0);
            sock.write(frame(1, 0x5, pendingStream, block.subarray(0, n)));
          }
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    goaway,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

function get(client: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<http2.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const req = client.request(headers);
    req.on('response', (h) => resolve(h));
    req.on('error', reject);
    // e.g. nghttp2 rejected our block (COMPRESSION_ERROR): fail instead of hanging
    req.on('close', () => reject(new Error(`stream closed without a response (rst ${req.rstCode})`)));
    client.once('goaway', (code) => reject(new Error(`GOAWAY ${code}`)));
    client.once('close', () => reject(new Error('session closed')));
    req.resume();
  });
}

function field(list: string[], name: string): string | undefined {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return list[i + 1];
  return undefined;
}

for (const headerTableSize of [4096, 0]) {
  test(`node:http2 client <-> HpackDecoder/HpackEncoder (client table size ${headerTableSize})`, async () => {
    let weird = '';
    for (let c = 0x20; c < 0x7f; c++) weird += String.fromCharCode(c);
    const server = await startRawServer((req) => [
      ':status', field(req, 'x-want-status') ?? '200',
      'content-type', 'text/plain; charset=utf-8',
      'server', 'switchyard',
      'x-echo', field(req, 'x-echo') ?? '',
      'set-cookie', 'a=b',
      'x-empty', '',
    ]);
    const client = http2.connect(`http://127.0.0.1:${server.port}`, { settings: { headerTableSize } });
    const sessionErrors: Error[] = [];
    client.on('error', (e) => sessionErrors.push(e));
    try {
      const statuses = ['200', '404', '302', '500', '204', '200', '503'];
      for (let i = 0; i < statuses.length; i++) {
        const echo = i % 2 === 0 ? `v${i}-${weird}` : 'x'.repeat(100 + i * 1000);
        const res = await Promise.race([server.goaway, get(client, {
          ':path': `/path/${i}?q=${weird.slice(0, 20).replace(/[^a-z0-9]/gi, '')}`,
          'user-agent': 'hpack-interop/1.0',
          'accept': '*/*',
          'x-echo': echo,
          'x-want-status': statuses[i],
          'x-large': i === 3 ? 'L'.repeat(20000) : 'small',
        })]);
        assert.equal(String(res[':status']), statuses[i]);
        assert.equal(res['x-echo'], echo);
        assert.equal(res['content-type'], 'text/plain; charset=utf-8');
        assert.equal(res['server'], 'switchyard');
        assert.deepEqual(res['set-cookie'], ['a=b']);
        assert.equal(res['x-empty'], '');
        const req = server.requests[i];
        assert.equal(field(req, ':method'), 'GET');
        assert.equal(field(req, ':path'), `/path/${i}?q=${weird.slice(0, 20).replace(/[^a-z0-9]/gi, '')}`);
        assert.equal(field(req, 'user-agent'), 'hpack-interop/1.0');
        assert.equal(field(req, 'x-echo'), echo);
        assert.equal(field(req, 'x-large'), i === 3 ? 'L'.repeat(20000) : 'small');
      }
      assert.deepEqual(sessionErrors, []);
    } finally {
      client.destroy();
      await server.close();
    }
  });
}
