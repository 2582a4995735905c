/**
 * A filter that sets a header HTTP/2 cannot carry (a value with CR/LF, here through the WASM
 * add-header example) on a request going to an HTTP/2 upstream and on a response going to an
 * HTTP/2 client: the field is dropped, as the HTTP/1.1 serializer drops it, and the stream
 * succeeds with every valid field, between real node:http2 peers. (nghttp2 happens to ignore such
 * a field itself; a stricter peer resets the stream — h2-client-headers.test.ts checks that the
 * proxy no longer sends it.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { listenLocal, type Running } from '../fixtures/harness';
import { startH2AddHeaderProxy } from '../fixtures/wasm-h2-proxy';
import { h2request } from '../fixtures/grpc/h2-peers';

describe('HTTP/2 legs drop header fields a filter set that HTTP/2 cannot carry', () => {
  let upstream: http2.Http2Server;
  let proxy: Running;
  const seen: http2.IncomingHttpHeaders[] = [];

  before(async () => {
    upstream = http2.createServer();
    upstream.on('stream', (stream, headers) => {
      seen.push(headers);
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end('ok');
    });
    const port = await listenLocal(upstream);
    proxy = await startH2AddHeaderProxy(
      {
        request_headers_to_add: [
          { name: 'x-split', value: 'a\r\nx-evil: 1' },
          { name: 'x-nul', value: 'a\u0000b' },
          { name: 'x-good', value: 'fine' },
        ],
        response_headers_to_add: [
          { name: 'x-split-back', value: 'b\nx-evil-back: 1' },
          { name: 'x-good-back', value: 'also fine' },
        ],
      },
      { address: `127.0.0.1:${port}`, protocol: 'http2' },
    );
  });

  after(async () => {
    await proxy?.stop();
    await new Promise<void>((r) => upstream?.close(() => r()));
  });

  it('the request and the response get through with the valid fields only', async () => {
    const res = await h2request(`http://127.0.0.1:${proxy.port}`, { ':path': '/x' });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'ok');
    assert.equal(res.headers['x-good-back'], 'also fine');
    assert.equal(res.headers['x-split-back'], undefined);
    assert.equal(res.headers['x-evil-back'], undefined);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]['x-good'], 'fine');
    assert.equal(seen[0]['x-split'], undefined);
    assert.equal(seen[0]['x-nul'], undefined);
    assert.equal(seen[0]['x-evil'], undefined);
  });
});
