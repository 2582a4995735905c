/**
 * Streaming through the proxy: 50 MB up and down with bounded memory, chunked bodies, a client
 * that stops reading (backpressure reaches the upstream), keep-alive reuse, pipelining,
 * Expect: 100-continue, HEAD/204/304.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { rawExchange, request, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';

const execFileP = promisify(execFile);
const MB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** Writes `total` bytes to `w`, honouring backpressure; resolves the sha256 of what was written. */
async function pump(w: NodeJS.WritableStream & { write(b: Buffer): boolean }, total: number): Promise<string> {
  const h = createHash('sha256');
  let sent = 0;
  let n = 0;
  while (sent < total) {
    const c = Buffer.from(CHUNK);
    c.writeUInt32BE(n++, 0);
    const part = total - sent < c.length ? c.subarray(0, total - sent) : c;
    h.update(part);
    sent += part.length;
    if (!w.write(part)) await once(w, 'drain');
  }
  return h.digest('hex');
}

class RssProbe {
  private readonly base = process.memoryUsage().rss;
  private peak = this.base;
  private readonly t = setInterval(() => {
    this.peak = Math.max(this.peak, process.memoryUsage().rss);
  }, 20);
  stop(): number {
    clearInterval(this.t);
    return (Math.max(this.peak, process.memoryUsage().rss) - this.base) / MB;
  }
}

describe('streaming (HTTP/1.1)', () => {
  let up: Upstream;
  let proxy: Running;
  let stalled = { written: 0, closed: false };

  before(async () => {
    up = await startUpstream((req, res) => {
      const url = req.url ?? '/';
      if (url.startsWith('/upload')) {
        const h = createHash('sha256');
        let n = 0;
        req.on('data', (c: Buffer) => {
          h.update(c);
          n += c.length;
        });
        req.on('end', () => res.end(JSON.stringify({ bytes: n, sha: h.digest('hex'), te: req.headers['transfer-encoding'] ?? null })));
      } else if (url.startsWith('/download')) {
        res.setHeader('content-type', 'application/octet-stream');
        void pump(res, 50 * MB).then((sha) => res.end(() => void sha), () => {});
      } else if (url.startsWith('/endless')) {
        stalled = { written: 0, closed: false };
        res.on('close', () => (stalled.closed = true));
        const go = () => {
          while (!stalled.closed) {
            stalled.written += CHUNK.length;
            if (!res.write(CHUNK)) return void res.once('drain', go);
          }
        };
        go();
      } else if (url.startsWith('/status/')) {
        res.statusCode = Number(url.slice(8));
        res.end(res.statusCode === 204 || res.statusCode === 304 ? undefined : 'body');
      } else {
        req.resume();
        req.on('end', () => res.end(`hello ${url}`));
      }
    });
    proxy = await startProxy(`
admin: null
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    routes: [{ match: { prefix: / }, cluster: up, timeout: 60s }]
clusters:
  - { name: up, endpoints: [{ address: ${up.address} }] }
`);
  });

  after(async () => {
    await proxy.stop();
    await up.close();
  });

  it('streams a 50 MB upload with bounded memory', async () => {
    const probe = new RssProbe();
    const req = http.request(`${proxy.url}/upload`, { method: 'POST', agent: false });
    const res = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
    });
    const sha = await pump(req, 50 * MB);
    req.end();
    const r = await res;
    const body = JSON.parse(await readAll(r));
    const grew = probe.stop();
    assert.equal(body.bytes, 50 * MB);
    assert.equal(body.sha, sha);
    assert.equal(body.te, 'chunked');
    assert.ok(grew < 64, `RSS grew ${grew.toFixed(1)} MB`);
  });

  it('streams a 50 MB download with bounded memory', async () => {
    const probe = new RssProbe();
    const r = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get(`${proxy.url}/download`, { agent: false }, resolve).on('error', reject),
    );
    const h = createHash('sha256');
    let n = 0;
    for await (const c of r) {
      h.update(c as Buffer);
      n += (c as Buffer).length;
    }
    const grew = probe.stop();
    assert.equal(n, 50 * MB);
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.ok(grew < 64, `RSS grew ${grew.toFixed(1)} MB`);
  });

  it('holds the upstream back when the client stops reading', async () => {
    const probe = new RssProbe();
    const sock = net.connect(proxy.port, '127.0.0.1');
    await once(sock, 'connect');
    sock.write('GET /endless HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(sock, 'data');
    sock.pause();
    await new Promise((r) => setTimeout(r, 800));
    const first = stalled.written;
    await new Promise((r) => setTimeout(r, 400));
    const grew = probe.stop();
    assert.equal(stalled.written, first, 'the upstream is blocked, not writing');
    assert.ok(first < 48 * MB, `upstream wrote ${first / MB} MB into a stalled client`);
    assert.ok(grew < 64, `RSS grew ${grew.toFixed(1)} MB`);
    sock.destroy();
    for (let i = 0; i < 100 && !stalled.closed; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(stalled.closed, 'the upstream request is closed when the client goes away');
  });

  it('reuses one client connection for many requests and answers pipelined ones in order', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 20; i++) assert.equal((await request(`${proxy.url}/k${i}`, { agent })).body, `hello /k${i}`);
    agent.destroy();
    const out = await rawExchange(
      proxy.port,
      'GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\n\r\nGET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const bodies = out.match(/hello \/p\d/g);
    assert.deepEqual(bodies, ['hello /p1', 'hello /p2', 'hello /p3']);
  });

  it('answers HEAD, 204 and 304 without bodies', async () => {
    const head = await rawExchange(proxy.port, 'HEAD /status/200 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.ok(!head.includes('body'));
    for (const code of [204, 304]) {
      const out = await rawExchange(proxy.port, `GET /status/${code} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(out, new RegExp(`^HTTP/1\\.1 ${code} `));
      assert.ok(out.endsWith('\r\n\r\n'), `no body after a ${code}`);
    }
  });

  it('handles Expect: 100-continue (curl)', async (t) => {
    if (spawnSync('curl', ['--version']).status !== 0) return t.skip('curl is not installed (apt-get install curl)');
    // Asynchronous: the proxy runs in this process, a synchronous spawn would block it.
    const r = await execFileP('curl', ['-s', '-v', '-H', 'Expect: 100-continue', '--data-binary', 'x'.repeat(2048), `${proxy.url}/upload`], {
      encoding: 'utf8',
    });
    assert.match(r.stderr, /HTTP\/1\.1 100 Continue/);
    assert.equal(JSON.parse(r.stdout).bytes, 2048);
  });
});

async function readAll(r: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}
