/**
 * Unit tests for the wrk output parser used by the benchmark harness (bench/lib/wrk.ts):
 * real wrk 4.1 output shapes, unit conversion to milliseconds, error lines, and the failure case.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWrkOutput, parseWrkTime } from '../../bench/lib/wrk';

const TYPICAL = `Running 10s test @ http://127.0.0.1:18080/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   636.81us  190.97us   7.48ms   91.14%
    Req/Sec    78.95k     4.29k   85.06k    77.00%
  Latency Distribution
     50%  601.00us
     75%  658.00us
     90%  757.00us
     99%    1.35ms
  785691 requests in 10.00s, 140.87MB read
Requests/sec:  78553.38
Transfer/sec:     14.08MB
`;

const WITH_ERRORS = `Running 1m test @ http://127.0.0.1:8080/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    15.20ms   40.11ms    1.99s    97.10%
    Req/Sec     3.10k   512.00     4.00k    70.00%
  Latency Distribution
     50%    4.50ms
     75%    9.00ms
     90%   30.25ms
     99%    1.20s
  186000 requests in 1.00m, 20.00MB read
  Socket errors: connect 3, read 10, write 2, timeout 7
  Non-2xx or 3xx responses: 42
Requests/sec:   3099.99
Transfer/sec:    341.33KB
`;

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≉ ${b}`);

test('parses throughput, percentiles and totals of a clean run', () => {
  const r = parseWrkOutput(TYPICAL);
  close(r.rps, 78553.38);
  close(r.p50Ms, 0.601);
  close(r.p99Ms, 1.35);
  close(r.percentiles['75'], 0.658);
  close(r.percentiles['90'], 0.757);
  close(r.latencyAvgMs, 0.63681);
  assert.equal(r.requests, 785691);
  close(r.durationS, 10);
  assert.equal(r.socketErrors, 0);
  assert.equal(r.non2xx, 0);
});

test('converts s and m units and reads error lines', () => {
  const r = parseWrkOutput(WITH_ERRORS);
  close(r.rps, 3099.99);
  close(r.p50Ms, 4.5);
  close(r.p99Ms, 1200);
  close(r.latencyAvgMs, 15.2);
  close(r.durationS, 60);
  assert.deepEqual(r.socketErrorDetail, { connect: 3, read: 10, write: 2, timeout: 7 });
  assert.equal(r.socketErrors, 22);
  assert.equal(r.non2xx, 42);
});

test('percentiles are NaN without --latency, and the Req/Sec thread line is not taken for Requests/sec', () => {
  const noDist = TYPICAL.replace(/  Latency Distribution[\s\S]*?(?=  785691)/, '');
  const r = parseWrkOutput(noDist);
  close(r.rps, 78553.38);
  assert.ok(Number.isNaN(r.p50Ms));
  assert.ok(Number.isNaN(r.p99Ms));
  assert.deepEqual(r.percentiles, {});
});

test('output without Requests/sec is an error that quotes the output', () => {
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), /Requests\/sec.*Connection refused/);
  assert.throws(() => parseWrkOutput(''), /\(empty\)/);
});

test('parseWrkTime handles every wrk unit and rejects junk', () => {
  close(parseWrkTime('250.00us'), 0.25);
  close(parseWrkTime('3.00ms'), 3);
  close(parseWrkTime('2.50s'), 2500);
  close(parseWrkTime('1.50m'), 90_000);
  close(parseWrkTime('1.00h'), 3_600_000);
  assert.throws(() => parseWrkTime('12.0kb'));
  assert.throws(() => parseWrkTime('ms'));
});
