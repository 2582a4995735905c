/**
 * auth example through the mock host: 401 local reply (with details, headers, counter) when the token
 * header is missing or wrong; Continue with a single host call when it is valid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadExample, runStream, startFilter } from '../fixtures/wasm-sdk/load';

const CONFIG = { header: 'X-Token', tokens: ['s3cret', 'other\u00ff'] };

test('auth: a missing token gets a 401 local reply', async () => {
  const { host, configured } = await startFilter(await loadExample('auth'), CONFIG);
  assert.equal(configured, 1);
  const r = runStream(host, 2, [[':path', '/'], [':method', 'GET']]);
  assert.equal(r.request, 1, 'the hook pauses after the local reply');
  assert.equal(host.localReplies.length, 1);
  const reply = host.localReplies[0];
  assert.equal(reply.status, 401);
  assert.equal(reply.details, 'auth_missing_token');
  assert.equal(reply.body.toString(), 'unauthorized\n');
  assert.deepEqual(reply.headers, [['www-authenticate', 'Bearer'], ['content-type', 'text/plain']]);
  assert.equal(reply.grpcStatus, -1);
  assert.equal(host.callsNamed('proxy_send_local_response').length, 1);
  assert.equal(host.metricByName('auth.denied')?.value, 1n);
});

test('auth: a wrong token gets a 401 with its own details', async () => {
  const { host } = await startFilter(await loadExample('auth'), CONFIG);
  runStream(host, 2, [[':path', '/'], ['x-token', 's3cre']]);
  runStream(host, 3, [[':path', '/'], ['x-token', 's3cret ']]);
  assert.deepEqual(host.localReplies.map((r) => [r.status, r.details]), [[401, 'auth_invalid_token'], [401, 'auth_invalid_token']]);
  assert.equal(host.metricByName('auth.denied')?.value, 2n);
});

test('auth: a valid token continues with one host call and no guest allocation', async () => {
  const { host } = await startFilter(await loadExample('auth'), CONFIG);
  host.resetCounters();
  assert.deepEqual(runStream(host, 2, [[':path', '/'], ['x-token', 's3cret']]), { request: 0, response: 0 });
  // A latin1 byte (0xFF) in a token matches the header's raw byte.
  assert.deepEqual(runStream(host, 3, [[':path', '/'], ['x-token', 'other\u00ff']]), { request: 0, response: 0 });
  assert.equal(host.localReplies.length, 0);
  assert.deepEqual(host.calls.map((c) => c.name), ['proxy_get_header_map_value', 'proxy_get_header_map_value']);
  const call = host.calls[0];
  assert.equal(call.args[0], 0);
  assert.equal(call.args[2], 'x-token'.length);
});

test('auth: strip removes the token header before forwarding', async () => {
  const { host } = await startFilter(await loadExample('auth'), { ...CONFIG, strip: true });
  runStream(host, 2, [[':path', '/'], ['x-token', 's3cret']]);
  assert.deepEqual(host.map(0), [[':path', '/']]);
});

test('auth: configuration that is not an object is rejected', async () => {
  const { configured } = await startFilter(await loadExample('auth'), '["s3cret"]');
  assert.equal(configured, 0);
});
