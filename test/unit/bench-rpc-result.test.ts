/**
 * Unit tests for the rpc load generator's command line and summary line (bench/load/rpc-load.ts
 * parseLoadArgs, bench/load/rpc-result.ts), and the concurrency split over connections.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLoadArgs } from '../../bench/load/rpc-load';
import { parseRpcLoadOutput, spreadInflight } from '../../bench/load/rpc-result';

const LINE = JSON.stringify({
  tool: 'rpc-load', protocol: 'bolt', connections: 10, inflight: 50, durationS: 10.001, requests: 200000, errors: 3,
  errorDetail: { status: 1, unknownId: 0, closed: 2, timeout: 0, connect: 0, protocol: 0 },
  rps: 19998, p50Ms: 2.4, p90Ms: 3, p99Ms: 5.5, meanMs: 2.5, maxMs: 40,
});

test('parses the last summary line, ignoring other output', () => {
  const r = parseRpcLoadOutput(`warming up\n{"not":"ours"}\n${LINE}\n`);
  assert.equal(r.protocol, 'bolt');
  assert.equal(r.requests, 200000);
  assert.equal(r.errors, 3);
  assert.equal(r.rps, 19998);
  assert.equal(r.p99Ms, 5.5);
  assert.deepEqual(r.errorDetail, { status: 1, unknownId: 0, closed: 2, timeout: 0, connect: 0, protocol: 0 });
});

test('null latencies become NaN; missing counts or no summary are errors', () => {
  const noLatency = JSON.parse(LINE);
  noLatency.p50Ms = null;
  noLatency.requests = 0;
  const r = parseRpcLoadOutput(JSON.stringify(noLatency));
  assert.ok(Number.isNaN(r.p50Ms));
  const noRps = JSON.parse(LINE);
  delete noRps.rps;
  assert.throws(() => parseRpcLoadOutput(JSON.stringify(noRps)), /lacks "rps"/);
  const badType = JSON.parse(LINE);
  badType.p99Ms = '5ms';
  assert.throws(() => parseRpcLoadOutput(JSON.stringify(badType)), /not a number/);
  assert.throws(() => parseRpcLoadOutput(''), /no summary line/);
  assert.throws(() => parseRpcLoadOutput('rpc-load: boom\n'), /no summary line: rpc-load: boom/);
});

test('spreadInflight: like wrk -c spread over N connections', () => {
  assert.deepEqual(spreadInflight(50, 10), [5, 5, 5, 5, 5, 5, 5, 5, 5, 5]);
  assert.deepEqual(spreadInflight(7, 3), [3, 2, 2]);
  assert.deepEqual(spreadInflight(3, 10), [1, 1, 1]);
  assert.deepEqual(spreadInflight(1, 1), [1]);
  assert.throws(() => spreadInflight(0, 1));
  assert.throws(() => spreadInflight(5, 0));
});

test('parseLoadArgs: defaults, overrides, and refusals', () => {
  const o = parseLoadArgs(['--protocol', 'dubbo', '--port', '1234']);
  assert.deepEqual(o, { protocol: 'dubbo', host: '127.0.0.1', port: 1234, durationS: 10, concurrency: 50, connections: 10, timeoutMs: 5000, argBytes: 100 });
  const p = parseLoadArgs(['--protocol', 'bolt', '--port', '1', '--duration', '0.5', '--concurrency', '8', '--connections', '2', '--arg-bytes', '0']);
  assert.equal(p.durationS, 0.5);
  assert.equal(p.concurrency, 8);
  assert.equal(p.argBytes, 0);
  assert.throws(() => parseLoadArgs(['--protocol', 'http', '--port', '1']), /dubbo or bolt/);
  assert.throws(() => parseLoadArgs(['--protocol', 'bolt']), /--port/);
  assert.throws(() => parseLoadArgs(['--protocol', 'bolt', '--port', '1', '--bogus', '1']), /unknown flag/);
  assert.throws(() => parseLoadArgs(['--protocol', 'bolt', '--port', '1', '--duration', '0']), /--duration/);
  assert.throws(() => parseLoadArgs(['--protocol']), /bad argument/);
});
