/**
 * The http2 bench suite's h2load parsers: the summary h2load 1.52 prints (a captured run, a run
 * where every request failed, truncated output), per-request log percentiles, and the argument
 * list given to h2load.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { h2loadArgs, h2loadLogStats, parseH2loadOutput, parseH2loadTime } from '../../bench/suites/http2-h2load';

const OK_RUN = `starting benchmark...
spawning thread #0: 4 total client(s). Timing-based test with 0s of warm-up time and 1s of main duration for measurements.
Warm-up phase is over for thread #0.
Main benchmark duration is started for thread #0.
Application protocol: h2c
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 1.00s, 56392.00 req/s, 6.51MB/s
requests: 56392 total, 56408 started, 56392 done, 56392 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 56390 2xx, 0 3xx, 2 4xx, 0 5xx
traffic: 6.51MB (6823720) total, 165.42KB (169392) headers (space savings 95.38%), 5.38MB (5639200) data
                     min         max         mean         sd        +/- sd
time for request:       55us     11.42ms       279us       371us    97.45%
time for connect:       61us        91us        79us        12us    75.00%
time to 1st byte:     5.33ms     11.54ms      8.45ms      2.64ms    50.00%
req/s           :   12870.28    15417.57    14095.82     1219.74    50.00%
`;

const FAILED_RUN = `starting benchmark...
spawning thread #0: 2 total client(s). 10 total requests
finished in 1.21ms, 0.00 req/s, 0B/s
requests: 10 total, 0 started, 0 done, 0 succeeded, 10 failed, 10 errored, 0 timeout
status codes: 0 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 0B (0) total, 0B (0) headers (space savings 0.00%), 0B (0) data
                     min         max         mean         sd        +/- sd
time for request:        0us         0us         0us         0us     0.00%
`;

describe('parseH2loadOutput', () => {
  it('reads a timing-based run', () => {
    const r = parseH2loadOutput(OK_RUN);
    assert.equal(r.rps, 56392);
    assert.equal(r.durationS, 1);
    assert.deepEqual(r.requests, { total: 56392, started: 56408, done: 56392, succeeded: 56392, failed: 0, errored: 0, timeout: 0 });
    assert.deepEqual(r.status, { '2xx': 56390, '3xx': 0, '4xx': 2, '5xx': 0 });
    assert.equal(r.request.minMs, 0.055);
    assert.equal(r.request.maxMs, 11.42);
    assert.equal(r.request.meanMs, 0.279);
    assert.equal(r.request.sdMs, 0.371);
    assert.equal(r.protocol, 'h2c');
  });

  it('reads a run where everything failed', () => {
    const r = parseH2loadOutput(FAILED_RUN);
    assert.equal(r.rps, 0);
    assert.ok(Math.abs(r.durationS - 0.00121) < 1e-12);
    assert.equal(r.requests.failed, 10);
    assert.equal(r.requests.errored, 10);
    assert.equal(r.protocol, '');
  });

  it('throws on output without the summary', () => {
    assert.throws(() => parseH2loadOutput(''), /no "finished in" line/);
    assert.throws(() => parseH2loadOutput(OK_RUN.split('\n').filter((l) => !l.startsWith('requests:')).join('\n')), /no "requests:" line/);
  });

  it('parses h2load times', () => {
    assert.equal(parseH2loadTime('601us'), 0.601);
    assert.equal(parseH2loadTime('1.35ms'), 1.35);
    assert.equal(parseH2loadTime('2.00s'), 2000);
    assert.throws(() => parseH2loadTime('3 parsecs'));
  });
});

describe('h2loadLogStats', () => {
  it('computes nearest-rank percentiles of completed requests and counts failures', () => {
    const lines: string[] = [];
    for (let i = 1; i <= 100; i++) lines.push(`1795318891311199\t200\t${i * 1000}`);
    lines.push('1795318891311199\t-1\t5');
    lines.push('garbage line');
    const s = h2loadLogStats(lines.reverse().join('\n') + '\n');
    assert.equal(s.count, 100);
    assert.equal(s.failed, 1);
    assert.equal(s.percentiles['50'], 50);
    assert.equal(s.percentiles['99'], 99);
  });

  it('gives NaN for an empty log', () => {
    const s = h2loadLogStats('');
    assert.equal(s.count, 0);
    assert.ok(Number.isNaN(s.percentiles['50']));
  });
});

describe('h2loadArgs', () => {
  it('builds a gRPC POST run', () => {
    assert.deepEqual(
      h2loadArgs({
        url: 'http://127.0.0.1:1/a.B/C',
        durationS: 3,
        clients: 10,
        streams: 5,
        h1: false,
        headers: ['content-type: application/grpc', 'te: trailers'],
        dataFile: '/tmp/x.bin',
        logFile: '/tmp/log',
        cpu: '1',
      }),
      ['-c10', '-m5', '-t1', '-D3', '--log-file=/tmp/log', '-H', 'content-type: application/grpc', '-H', 'te: trailers', '-d', '/tmp/x.bin', 'http://127.0.0.1:1/a.B/C'],
    );
    assert.ok(h2loadArgs({ url: 'u', durationS: 1, clients: 1, streams: 1, h1: true, headers: [], dataFile: null, logFile: 'l', cpu: null }).includes('--h1'));
  });
});
