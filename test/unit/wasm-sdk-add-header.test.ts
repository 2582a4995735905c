/**
 * add-header example through the mock host: configured request/response headers are added, replaced
 * and removed with one host call each and the exact bytes; bad configuration is rejected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadExample, runStream, startFilter } from '../fixtures/wasm-sdk/load';

const CONFIG = {
  request_headers_to_add: [{ name: 'X-Via', value: 'switchyard' }, { name: 'x-env', value: 'prod', append: false }],
  request_headers_to_remove: ['x-internal'],
  response_headers_to_add: [{ name: 'x-served-by', value: 'edge\u00e9' }],
  response_headers_to_remove: ['server'],
};

test('add-header: adds, replaces and removes configured headers with exact bytes', async () => {
  const { host, configured } = await startFilter(await loadExample('add-header'), CONFIG);
  assert.equal(configured, 1);
  host.resetCounters();
  const r = runStream(host, 2, [[':path', '/'], ['x-internal', 'secret'], ['x-env', 'dev'], ['x-via', 'lb']], [[':status', '200'], ['server', 'nginx']]);
  assert.deepEqual(r, { request: 0, response: 0 });

  const adds = host.callsNamed('proxy_add_header_map_value');
  assert.equal(adds.length, 2);
  // proxy_add_header_map_value(map_id=0, key_data, key_size=5, value_data, value_size=10)
  assert.equal(adds[0].args[0], 0);
  assert.equal(adds[0].args[2], 5);
  assert.equal(adds[0].args[4], 10);
  assert.equal(adds[1].args[0], 2);
  assert.equal(host.callsNamed('proxy_replace_header_map_value').length, 1);
  assert.deepEqual(host.callsNamed('proxy_remove_header_map_value').map((c) => c.args[0]), [0, 2]);

  assert.deepEqual(host.map(0), [[':path', '/'], ['x-via', 'lb'], ['x-via', 'switchyard'], ['x-env', 'prod']]);
  // A non-ASCII value that fits latin1 is sent as latin1 bytes: é is one byte 0xE9.
  assert.deepEqual(host.map(2), [[':status', '200'], ['x-served-by', 'edge\u00e9']]);
  assert.equal(adds[1].args[4], 5);

  // Per request: exactly the 5 header edits, no other host call, no allocation in the guest.
  assert.equal(host.calls.length, 5);
  assert.equal(host.allocations, 0);
});

test('add-header: empty configuration passes everything through without host calls', async () => {
  const { host, configured } = await startFilter(await loadExample('add-header'), undefined);
  assert.equal(configured, 1);
  host.resetCounters();
  assert.deepEqual(runStream(host, 2, [[':path', '/']]), { request: 0, response: 0 });
  assert.equal(host.calls.length, 0);
});

test('add-header: invalid JSON configuration is rejected', async () => {
  const { host, configured } = await startFilter(await loadExample('add-header'), '{"request_headers_to_add": [');
  assert.equal(configured, 0);
  assert.ok(host.logs.some((l) => l.level === 4 && /not a JSON object/.test(l.message)));
});
