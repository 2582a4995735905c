/**
 * The add-header example (own SDK) on HTTP/2 traffic: node:http2 client (h2c, prior knowledge) →
 * proxy → HTTP/1.1 upstream. Request headers are added for the upstream, response headers for the
 * client, on every stream of one multiplexed session.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { startUpstream, type Running, type Upstream } from '../fixtures/harness';
import { startH2AddHeaderProxy } from '../fixtures/wasm-h2-proxy';

describe('wasm add-header on HTTP/2 downstream traffic', () => {
  let up: Upstream;
  let proxy: Running;
  let session: http2.ClientHttp2Session;

  before(async () => {
    up = await startUpstream(undefined, 'h1');
    proxy = await startH2AddHeaderProxy(
      {
        request_headers_to_add: [{ name: 'x-via-wasm', value: 'h2' }],
        request_headers_to_remove: ['x-secret'],
        response_headers_to_add: [{ name: 'x-served-by', value: 'wasm', append: false }],
        response_headers_to_remove: ['x-upstream'],
      },
      { address: up.address },
    );
    session = http2.connect(`http://127.0.0.1:${proxy.port}`);
    session.on('error', () => {});
  });

  after(async () => {
    session?.close();
    await proxy?.stop();
    await up?.close();
  });

  function get(path: string, headers: Record<string, string> = {}): Promise<{ headers: http2.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const req = session.request({ ':path': path, ...headers });
      let body = '';
      let head: http2.IncomingHttpHeaders = {};
      req.setEncoding('utf8');
      req.on('response', (h) => (head = h));
      req.on('data', (c: string) => (body += c));
      req.on('end', () => resolve({ headers: head, body }));
      req.on('error', reject);
      req.end();
    });
  }

  it('edits request and response headers on concurrent streams of one session', async () => {
    const replies = await Promise.all([1, 2, 3, 4, 5].map((i) => get(`/s${i}`, { 'x-secret': 'hide', 'x-n': String(i) })));
    replies.forEach((r, i) => {
      assert.equal(r.headers[':status'], 200);
      const echo = JSON.parse(r.body);
      assert.equal(echo.url, `/s${i + 1}`);
      assert.equal(echo.headers['x-n'], String(i + 1), 'each stream kept its own headers');
      assert.equal(echo.headers['x-via-wasm'], 'h2');
      assert.equal(echo.headers['x-secret'], undefined);
      assert.equal(r.headers['x-served-by'], 'wasm');
      assert.equal(r.headers['x-upstream'], undefined);
    });
  });
});
