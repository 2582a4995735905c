/**
 * rate-limit example through the mock host: counts per key in shared data with CAS, answers 429 over
 * the limit, retries on CAS mismatch, and starts a new window on tick.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MockHost } from '../fixtures/wasm-mock-host';
import { ROOT_ID, loadExample, runStream, startFilter } from '../fixtures/wasm-sdk/load';

const CONFIG = { limit: 2, window_ms: 1000, key_header: 'x-api-key', key_prefix: 'rl:' };
const req = (key: string): Array<[string, string]> => [[':path', '/'], ['x-api-key', key]];

function count(host: MockHost, key: string): [number, number] {
  const e = host.shared.get(key);
  assert.ok(e, `shared data ${key}`);
  return [e.value.readUInt32LE(0), e.value.readUInt32LE(4)];
}

test('rate-limit: allows `limit` requests per key, then answers 429', async () => {
  const { host, configured } = await startFilter(await loadExample('rate-limit'), CONFIG);
  assert.equal(configured, 1);
  assert.equal(host.tickPeriod, 1000);
  const window = Number(host.timeNanos / 1_000_000_000n) >>> 0;
  assert.equal(runStream(host, 2, req('a')).request, 0);
  assert.deepEqual(count(host, 'rl:a'), [window, 1]);
  assert.equal(runStream(host, 3, req('a')).request, 0);
  assert.equal(runStream(host, 4, req('b')).request, 0, 'keys are counted separately');
  assert.equal(runStream(host, 5, req('a')).request, 1);
  assert.deepEqual(host.localReplies.map((r) => [r.status, r.details]), [[429, 'rate_limited']]);
  assert.deepEqual(host.localReplies[0].headers, [['retry-after', '1']]);
  assert.deepEqual(count(host, 'rl:a'), [window, 2]);
  assert.equal(host.metricByName('rate_limit.limited')?.value, 1n);
});

test('rate-limit: writes carry the CAS token read before them', async () => {
  const { host } = await startFilter(await loadExample('rate-limit'), CONFIG);
  runStream(host, 2, req('a'));
  const casAfterFirst = host.shared.get('rl:a')!.cas;
  host.resetCounters();
  runStream(host, 3, req('a'));
  assert.deepEqual(host.calls.map((c) => c.name), ['proxy_get_header_map_value', 'proxy_get_shared_data', 'proxy_set_shared_data']);
  const set = host.callsNamed('proxy_set_shared_data')[0];
  assert.equal(set.args[4], casAfterFirst, 'set uses the cas returned by get');
  assert.equal(set.args[3], 8);
});

test('rate-limit: a CAS mismatch is retried with a fresh read', async () => {
  const { host } = await startFilter(await loadExample('rate-limit'), CONFIG);
  runStream(host, 2, req('a'));
  host.resetCounters();
  host.sharedSetFailures.push(8); // CAS_MISMATCH once
  assert.equal(runStream(host, 3, req('a')).request, 0);
  assert.equal(host.callsNamed('proxy_get_shared_data').length, 2);
  assert.equal(host.callsNamed('proxy_set_shared_data').length, 2);
  assert.equal(count(host, 'rl:a')[1], 2);
});

test('rate-limit: a tick in a new window resets the counts', async () => {
  const { host } = await startFilter(await loadExample('rate-limit'), CONFIG);
  runStream(host, 2, req('a'));
  runStream(host, 3, req('a'));
  assert.equal(runStream(host, 4, req('a')).request, 1);
  host.timeNanos += 1_000_000_000n;
  host.call('proxy_on_tick', ROOT_ID);
  assert.equal(runStream(host, 5, req('a')).request, 0);
  assert.equal(count(host, 'rl:a')[1], 1);
});

test('rate-limit: requests without the key share one bucket; bad limits are rejected', async () => {
  const { host } = await startFilter(await loadExample('rate-limit'), { ...CONFIG, limit: 1 });
  assert.equal(runStream(host, 2, [[':path', '/']]).request, 0);
  assert.equal(runStream(host, 3, [[':path', '/x']]).request, 1);
  assert.ok(host.shared.has('rl:'));
  const bad = await startFilter(await loadExample('rate-limit'), { limit: 1, window_ms: 0 });
  assert.equal(bad.configured, 0);
});
