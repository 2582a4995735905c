/**
 * Measures (does not assert) host calls, bytes copied across the boundary, guest allocations by the
 * host and time per request for the add-header filter written with this project's SDK and with
 * @gcoredev/proxy-wasm-sdk-as (built here from test/fixtures/wasm-sdk/add-header-gcore.as), and
 * prints the comparison. Asserts only that both filters do the same edits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { MockHost, Pairs } from '../fixtures/wasm-mock-host';
import { ROOT, compileFixture, loadExample, runStream, startFilter } from '../fixtures/wasm-sdk/load';

const CONFIG = {
  request_headers_to_add: [{ name: 'x-a', value: '1' }],
  request_headers_to_remove: ['x-b'],
  response_headers_to_add: [{ name: 'x-c', value: '2' }],
  response_headers_to_remove: ['x-d'],
};
const REQUEST: Pairs = [[':method', 'GET'], [':path', '/api/v1/items?id=42'], [':authority', 'example.com'], ['user-agent', 'bench/1.0'], ['accept', '*/*'], ['x-b', 'drop-me']];
const RESPONSE: Pairs = [[':status', '200'], ['content-type', 'application/json'], ['content-length', '100'], ['x-d', 'drop-me']];
const N = 2000;

interface Measure { hostCalls: number; bytesFromGuest: number; bytesToGuest: number; allocations: number; usPerRequest: number; calls: Record<string, number> }

let nextId = 10;

/** One timed round of N streams; counters cover this round only. */
function round(host: MockHost): Measure {
  host.resetCounters();
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) runStream(host, nextId++, REQUEST, RESPONSE);
  const ns = Number(process.hrtime.bigint() - start);
  const calls: Record<string, number> = {};
  for (const c of host.calls) calls[c.name] = (calls[c.name] ?? 0) + 1;
  for (const k of Object.keys(calls)) calls[k] /= N;
  return {
    hostCalls: host.calls.length / N, bytesFromGuest: host.bytesFromGuest / N, bytesToGuest: host.bytesToGuest / N,
    allocations: host.allocations / N, usPerRequest: ns / N / 1000, calls,
  };
}

/** Warms both modules up, then alternates rounds and keeps each one's fastest. */
function compare(a: MockHost, b: MockHost): [Measure, Measure] {
  for (let i = 0; i < 300; i++) { runStream(a, nextId++, REQUEST, RESPONSE); runStream(b, nextId++, REQUEST, RESPONSE); }
  let ma = round(a), mb = round(b);
  for (let r = 0; r < 2; r++) {
    const x = round(a), y = round(b);
    if (x.usPerRequest < ma.usPerRequest) ma = x;
    if (y.usPerRequest < mb.usPerRequest) mb = y;
  }
  return [ma, mb];
}

test('add-header per request: this SDK vs @gcoredev/proxy-wasm-sdk-as (measured, printed)', async () => {
  const ours = await startFilter(await loadExample('add-header'), CONFIG);
  const gcoreBytes = await compileFixture('add-header-gcore', [
    '-O3', // asc resolves the config's "lib" wrongly from an absolute --config path: pass it relative to cwd.
    '--config', path.relative(process.cwd(), path.join(ROOT, 'node_modules', '@assemblyscript', 'wasi-shim', 'asconfig.json')), '--use', 'abort=abort_proc_exit',
  ]);
  const gcore = await startFilter(gcoreBytes, undefined);

  // Same edits from both.
  for (const h of [ours.host, gcore.host]) {
    runStream(h, 2, REQUEST, RESPONSE);
    assert.deepEqual(h.map(0), [...REQUEST.filter(([k]) => k !== 'x-b'), ['x-a', '1']]);
    assert.deepEqual(h.map(2), [...RESPONSE.filter(([k]) => k !== 'x-d'), ['x-c', '2']]);
  }

  const [a, b] = compare(ours.host, gcore.host);
  const row = (name: string, m: Measure) =>
    `${name.padEnd(28)} ${m.hostCalls.toFixed(1).padStart(10)} ${m.bytesFromGuest.toFixed(0).padStart(12)} ${m.bytesToGuest.toFixed(0).padStart(10)} ${m.allocations.toFixed(1).padStart(8)} ${m.usPerRequest.toFixed(2).padStart(8)}`;
  const lines = [
    `add-header, one stream (create, request headers, response headers, done, log, delete), fastest of 3 alternating rounds of ${N}:`,
    `${'SDK'.padEnd(28)} ${'host calls'.padStart(10)} ${'guest→host B'.padStart(12)} ${'host→guest B'.padStart(10)} ${'allocs'.padStart(8)} ${'µs/req'.padStart(8)}`,
    row('switchyard filters-wasm/sdk', a),
    row('@gcoredev/proxy-wasm-sdk-as', b),
    `  switchyard calls: ${JSON.stringify(a.calls)}`,
    `  gcore calls:      ${JSON.stringify(b.calls)}`,
    '  (µs/req includes the mock host\'s JS work; it is indicative only)',
  ];
  console.log(lines.join('\n'));
  assert.ok(a.hostCalls > 0 && b.hostCalls > 0);
});
