/**
 * ext-authz example through the mock host: proxy_http_call with the request's headers, pause, then
 * continue on 200, 403 otherwise, and fail closed when the call fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MockHost } from '../fixtures/wasm-mock-host';
import { ROOT_ID, loadExample, startFilter } from '../fixtures/wasm-sdk/load';

const CONFIG = { cluster: 'authz', timeout_ms: 250, path: '/check' };
const REQUEST: Array<[string, string]> = [
  [':method', 'POST'], [':path', '/orders?id=1'], [':authority', 'shop'], ['content-length', '12'], ['x-user', 'ann\u00e9'],
];

async function begin(config: unknown = CONFIG): Promise<MockHost> {
  const { host, configured } = await startFilter(await loadExample('ext-authz'), config);
  assert.equal(configured, 1);
  host.call('proxy_on_context_create', 2, ROOT_ID);
  host.setMap(0, REQUEST);
  host.resetCounters();
  assert.equal(host.call('proxy_on_request_headers', 2, REQUEST.length, 0), 1, 'paused while the check runs');
  return host;
}

function answer(host: MockHost, headers: Array<[string, string]>): void {
  const call = host.httpCalls[0];
  host.setMap(6, headers);
  host.call('proxy_on_http_call_response', ROOT_ID, call.token, headers.length, 0, 0);
}

test('ext-authz: sends the request headers (framing dropped, :path replaced) to the cluster', async () => {
  const host = await begin();
  assert.equal(host.httpCalls.length, 1);
  const call = host.httpCalls[0];
  assert.equal(call.cluster, 'authz');
  assert.equal(call.timeout, 250);
  assert.equal(call.body.length, 0);
  assert.deepEqual(call.headers, [[':method', 'POST'], [':authority', 'shop'], ['x-user', 'ann\u00e9'], [':path', '/check']]);
  assert.deepEqual(host.calls.map((c) => c.name), ['proxy_get_header_map_pairs', 'proxy_http_call']);
});

test('ext-authz: a 200 answer continues the request on its own context', async () => {
  const host = await begin();
  answer(host, [[':status', '200']]);
  assert.equal(host.effectiveContext, 2);
  assert.deepEqual(host.continued, [0]);
  assert.equal(host.localReplies.length, 0);
});

test('ext-authz: any other answer gets a 403', async () => {
  const host = await begin();
  answer(host, [[':status', '401'], ['content-length', '0']]);
  assert.deepEqual(host.continued, []);
  assert.deepEqual(host.localReplies.map((r) => [r.status, r.details]), [[403, 'ext_authz_denied']]);
  assert.equal(host.metricByName('ext_authz.denied')?.value, 1n);
});

test('ext-authz: a failed call (zero headers) fails closed', async () => {
  const host = await begin();
  answer(host, []);
  assert.deepEqual(host.continued, []);
  assert.deepEqual(host.localReplies.map((r) => [r.status, r.details]), [[403, 'ext_authz_error']]);
});

test('ext-authz: a call the host refuses fails closed at once', async () => {
  const host = await begin({ cluster: 'unknown' });
  assert.equal(host.httpCalls.length, 0);
  assert.deepEqual(host.localReplies.map((r) => [r.status, r.details]), [[403, 'ext_authz_error']]);
});

test('ext-authz: an answer for a deleted stream is dropped', async () => {
  const host = await begin();
  host.call('proxy_on_done', 2);
  host.call('proxy_on_delete', 2);
  answer(host, [[':status', '200']]);
  assert.deepEqual(host.continued, []);
  assert.equal(host.localReplies.length, 0);
});
