/**
 * SDK APIs beyond the examples, through a probe filter (test/fixtures/wasm-sdk/sdk-probe.as): header
 * cursor and latin1 round trip of bytes 0x80-0xFF, absent headers, whole-map replacement, bodies,
 * properties, shared queues, gauges/histograms, JSON string escapes, byte-bodied local replies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MockHost } from '../fixtures/wasm-mock-host';
import { ROOT_ID, build, compileFixture, startFilter } from '../fixtures/wasm-sdk/load';

const CONFIG = '{"greeting": "h\\u00e9llo \\"you\\"\\n"}';

async function probe(setup?: (h: MockHost) => void): Promise<MockHost> {
  const { host, configured } = await startFilter(await compileFixture('sdk-probe', build.ASC_OPTIONS), CONFIG, setup);
  assert.equal(configured, 1);
  return host;
}

function headers(host: MockHost, id: number, pairs: Array<[string, string]>, eos = 1): number {
  host.call('proxy_on_context_create', id, ROOT_ID);
  host.setMap(0, pairs);
  return host.call('proxy_on_request_headers', id, pairs.length, eos);
}

test('sdk: header cursor, latin1 round trip, absent headers', async () => {
  const host = await probe();
  const bin = Array.from({ length: 128 }, (_, i) => String.fromCharCode(0x80 + i)).join('');
  assert.equal(headers(host, 2, [['x-op', 'pairs'], ['x-bin', bin], ['x-e', '']]), 0);
  const m = new Map(host.map(0));
  assert.equal(m.get('x-names'), 'x-op,x-bin,x-e');
  assert.equal(m.get('x-count'), '3');
  assert.equal(m.get('x-echo'), bin, 'bytes 0x80-0xFF survive get + set unchanged');
  const echo = host.callsNamed('proxy_replace_header_map_value')[0];
  assert.equal(echo.args[4], 128, 'one byte per latin1 character');
  assert.equal(m.get('x-same'), 'yes');
  assert.equal(m.get('x-absent'), 'yes');
});

test('sdk: setAll replaces the map with the exact serialization', async () => {
  const host = await probe();
  headers(host, 2, [['x-op', 'setall'], [':path', '/old']]);
  assert.deepEqual(host.map(0), [[':path', '/new'], ['x-only', '1']]);
});

test('sdk: request body is buffered, read and replaced', async () => {
  const host = await probe();
  assert.equal(headers(host, 2, [['x-op', 'body']], 0), 0);
  host.buffers.set(0, Buffer.from('hello '));
  assert.equal(host.call('proxy_on_request_body', 2, 6, 0), 1);
  host.buffers.set(0, Buffer.from('hello world'));
  assert.equal(host.call('proxy_on_request_body', 2, 11, 1), 0);
  assert.equal(host.buffers.get(0)?.toString(), 'HELLO WORLD');
  const set = host.callsNamed('proxy_set_buffer_bytes')[0];
  assert.deepEqual(set.args.slice(0, 3), [0, 0, 11]);
});

test('sdk: properties and JSON escapes in configuration', async () => {
  const host = await probe((h) => h.properties.set('plugin_name', Buffer.from('probe-1')));
  headers(host, 2, [['x-op', 'props']]);
  const m = new Map(host.map(0));
  assert.equal(m.get('x-plugin'), 'probe-1');
  assert.equal(m.get('x-greeting'), 'h\u00e9llo "you"\n');
});

test('sdk: shared queue enqueue, queue-ready dequeue, gauge and histogram', async () => {
  const host = await probe();
  headers(host, 2, [['x-op', 'queue'], [':path', '/q/1']]);
  const [[qid, q]] = [...host.queues];
  assert.equal(q.name, 'probe');
  assert.equal(q.items.length, 1);
  host.call('proxy_on_queue_ready', ROOT_ID, qid);
  assert.equal(q.items.length, 0);
  assert.equal(host.metricByName('probe.last_item')?.value, 4n);
  assert.equal(host.metricByName('probe.last_item')?.type, 1);
  assert.equal(host.metricByName('probe.sizes')?.value, 42n);
  assert.ok(host.logs.some((l) => l.level === 2 && l.message === 'dequeued /q/1'));
});

test('sdk: local reply with a byte body and byte headers', async () => {
  const host = await probe();
  assert.equal(headers(host, 2, [['x-op', 'reply']]), 1);
  const r = host.localReplies[0];
  assert.equal(r.status, 418);
  assert.deepEqual([...r.body], [0, 0xff, 0x41]);
  assert.deepEqual(r.headers, [['x-a', '\u00e9']]);
  assert.equal(r.details, 'probe');
});

test('sdk: unknown context ids are ignored, not trapped on', async () => {
  const host = await probe();
  assert.equal(host.call('proxy_on_request_headers', 99, 0, 1), 0);
  assert.equal(host.call('proxy_on_done', 99), 1);
  host.call('proxy_on_delete', 99);
  host.call('proxy_on_http_call_response', ROOT_ID, 12345, 0, 0, 0);
});
