/**
 * Per-stream HTTP/2 protections through the real proxy: streams with invalid pseudo-headers,
 * invalid field names and oversized header lists are reset on their own (the rest of the
 * connection, and other connections, keep working) and counted as h2_rejected_stream; the
 * listener's `http2` section reaches the codec (advertised SETTINGS, stream idle timeout); bad
 * values in it are config errors with paths.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { parseConfigText } from '../../src/config/load';
import { ConfigError } from '../../src/api/errors';
import { registerBuiltins } from '../../src/builtins';
import { metricValue, startProxy, startUpstream, type Running, type Upstream } from '../fixtures/harness';
import { CODE, FRAME, RawH2, getHeaders, headersFrame } from './h2-protect-wire';

const METRIC = 'switchyard_downstream_protocol_errors_total';

function rejected(proxy: Running): Promise<number> {
  return metricValue(proxy.admin!, METRIC, { listener: 'web', kind: 'h2_rejected_stream' });
}

/** HEADERS on `bad` then a valid GET on `good`: the bad stream gets RST_STREAM, the good one a 200. */
async function badThenGood(port: number, badHeaders: Array<[string, string]>): Promise<{ rst: number; status: string }> {
  const c = await RawH2.connect(port);
  await c.send(headersFrame(1, badHeaders));
  const rst = await c.waitFor((f) => f.type === FRAME.RST_STREAM && f.streamId === 1, 'RST_STREAM on stream 1');
  await c.send(headersFrame(3, getHeaders('/good')));
  const h = await c.waitFor((f) => f.type === FRAME.HEADERS && f.streamId === 3, 'response HEADERS on stream 3');
  c.destroy();
  // ":status: 200" from the server's HPACK block: indexed static entry 8 (0x88) or a literal.
  const status = h.payload[0] === 0x88 ? '200' : h.payload.includes(Buffer.from('200')) ? '200' : `?${h.payload.toString('hex')}`;
  return { rst: rst.payload.readUInt32BE(0), status };
}

describe('HTTP/2 per-stream protections', () => {
  let up: Upstream;
  let proxy: Running;
  let hang: Array<() => void> = [];

  before(async () => {
    up = await startUpstream((req, res) => {
      if (req.url === '/hang') {
        hang.push(() => res.end('late'));
        return;
      }
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
    limits: { max_header_bytes: 8192 }
    http2: { max_concurrent_streams: 33, max_header_list_size: 2048, stream_idle_timeout: 150ms, initial_stream_window_size: 100000 }
    routes: [{ match: { prefix: / }, cluster: up }]
clusters:
  - { name: up, endpoints: [{ address: ${up.address} }] }
`);
  });

  after(async () => {
    for (const h of hang) h();
    await proxy.stop();
    await up.close();
  });

  it('advertises the listener http2 settings', { timeout: 10_000 }, async () => {
    const s = http2.connect(proxy.url);
    s.on('error', () => {});
    const settings = await new Promise<http2.Settings>((resolve) => s.once('remoteSettings', resolve));
    s.close();
    assert.equal(settings.maxConcurrentStreams, 33);
    assert.equal(settings.maxHeaderListSize, 2048);
    assert.equal(settings.initialWindowSize, 100000);
  });

  it('resets a stream with an unknown pseudo-header, serves the next one, counts it', { timeout: 10_000 }, async () => {
    const before = await rejected(proxy);
    const r = await badThenGood(proxy.port, [...getHeaders('/a'), [':bogus', '1']]);
    assert.equal(r.rst, CODE.PROTOCOL_ERROR);
    assert.equal(r.status, '200');
    assert.equal(await rejected(proxy), before + 1);
  });

  it('resets a stream without :path and one with an upper-case field name', { timeout: 10_000 }, async () => {
    const before = await rejected(proxy);
    const noPath = await badThenGood(proxy.port, getHeaders('/x').filter(([n]) => n !== ':path'));
    assert.equal(noPath.rst, CODE.PROTOCOL_ERROR);
    assert.equal(noPath.status, '200');
    const upper = await badThenGood(proxy.port, [...getHeaders('/x'), ['X-Upper', 'v']]);
    assert.equal(upper.rst, CODE.PROTOCOL_ERROR);
    assert.equal(upper.status, '200');
    assert.equal(await rejected(proxy), before + 2);
  });

  it('resets a stream whose header list exceeds max_header_list_size, and counts it', { timeout: 10_000 }, async () => {
    const before = await rejected(proxy);
    const r = await badThenGood(proxy.port, [...getHeaders('/big'), ['x-big', 'a'.repeat(3000)]]);
    assert.equal(r.rst, CODE.ENHANCE_YOUR_CALM);
    assert.equal(r.status, '200');
    assert.equal(await rejected(proxy), before + 1);
  });

  it('counts a rejected stream that is the last one on its connection', { timeout: 10_000 }, async () => {
    const before = await rejected(proxy);
    const c = await RawH2.connect(proxy.port);
    await c.send(headersFrame(1, getHeaders('/ok')));
    await c.waitFor((f) => f.type === FRAME.HEADERS && f.streamId === 1, 'response on stream 1');
    // A stream is still open (hanging upstream), so the stream-idle sweep runs and notices the reject.
    await c.send(headersFrame(3, getHeaders('/hang')));
    await c.send(headersFrame(5, [...getHeaders('/x'), [':bogus', '1']]));
    await c.waitFor((f) => f.type === FRAME.RST_STREAM && f.streamId === 5, 'RST_STREAM on stream 5');
    await c.waitFor((f) => f.type === FRAME.RST_STREAM && f.streamId === 3, 'stream-idle RST_STREAM on stream 3');
    c.destroy();
    assert.equal(await rejected(proxy), before + 1);
  });

  it('resets a stream that stays idle beyond stream_idle_timeout; the session goes on', { timeout: 10_000 }, async () => {
    const s = http2.connect(proxy.url);
    s.on('error', () => {});
    const req = s.request({ ':path': '/hang' });
    const code = await new Promise<number>((resolve) => {
      req.on('error', () => {});
      req.on('close', () => resolve(req.rstCode ?? -1));
      req.resume();
    });
    assert.equal(code, http2.constants.NGHTTP2_CANCEL);
    const ok = s.request({ ':path': '/fine' });
    const status = await new Promise<number>((resolve) => ok.on('response', (h) => resolve(Number(h[':status']))));
    ok.resume();
    assert.equal(status, 200);
    s.close();
  });

  it('rejects bad http2 values with their paths', () => {
    registerBuiltins();
    const yaml = `
listeners:
  - name: web
    address: 127.0.0.1:0
    http2: { max_concurrent_streams: 0, initial_stream_window_size: 10, stream_idle_timeout: soon, max_pings: -1, bogus: 1 }
    routes: [{ match: { prefix: / }, direct_response: { status: 200 } }]
`;
    assert.throws(
      () => parseConfigText(yaml, { format: 'yaml', baseDir: process.cwd() }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        const paths = e.issues.map((i) => i.path).sort();
        assert.deepEqual(paths, [
          'listeners[0].http2.bogus',
          'listeners[0].http2.initial_stream_window_size',
          'listeners[0].http2.max_concurrent_streams',
          'listeners[0].http2.max_pings',
          'listeners[0].http2.stream_idle_timeout',
        ]);
        return true;
      },
    );
    const ok = parseConfigText(
      `
listeners:
  - name: web
    address: 127.0.0.1:0
    limits: { max_header_bytes: 4000 }
    http2: { max_resets: 7 }
    routes: [{ match: { prefix: / }, direct_response: { status: 200 } }]
`,
      { format: 'yaml', baseDir: process.cwd() },
    );
    const h2 = ok.listeners[0].http2!;
    assert.equal(h2.max_resets, 7);
    assert.equal(h2.max_header_list_size, 4000, 'defaults to limits.max_header_bytes');
    assert.equal(h2.max_concurrent_streams, 100);
    assert.equal(h2.stream_idle_timeout_ms, 300_000);
  });
});
