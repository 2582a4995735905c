import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, formatDuration } from '../../src/config/duration';
import { parseAddress, formatAddress } from '../../src/config/address';
import { closest, editDistance, keyPath } from '../../src/config/schema';

test('parseDuration: units, fractions, compounds and bare numbers', () => {
  const cases: Array<[string | number, number]> = [
    ['250ms', 250],
    ['2s', 2000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['1.1s', 1100],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['0', 0],
    ['0s', 0],
    [' 2s ', 2000],
    ['250', 250],
    [250, 250],
    [0, 0],
    [1.5, 1.5],
  ];
  for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, `parseDuration(${JSON.stringify(input)})`);
});

test('parseDuration: rejects bad input with a message', () => {
  for (const bad of ['', 's', '2x', '2 s', '1.s', '2sec', '1d', 'ms', '2s3', 'abc', '1e3ms', '--1s']) {
    assert.throws(() => parseDuration(bad), /invalid duration|must not be negative/, `parseDuration(${JSON.stringify(bad)})`);
  }
  assert.throws(() => parseDuration('-1s'), { message: 'duration must not be negative, got "-1s"' });
  assert.throws(() => parseDuration(-5), { message: 'duration must not be negative, got -5' });
  assert.throws(() => parseDuration(Infinity), /invalid duration/);
  assert.throws(() => parseDuration(NaN), /invalid duration/);
  assert.throws(() => parseDuration('2x'), {
    message: 'invalid duration "2x": expected a number of milliseconds, or a number with unit ms, s, m or h (e.g. "250ms", "2s", "1m30s")',
  });
});

test('formatDuration round-trips common values', () => {
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(2000), '2s');
  assert.equal(formatDuration(90_000), '90s');
  assert.equal(formatDuration(60_000), '1m');
  assert.equal(formatDuration(3_600_000), '1h');
  assert.equal(formatDuration(0), '0ms');
});

test('parseAddress: good addresses', () => {
  assert.deepEqual(parseAddress('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseAddress('localhost:80'), { host: 'localhost', port: 80 });
  assert.deepEqual(parseAddress('api.example.com:443'), { host: 'api.example.com', port: 443 });
  assert.deepEqual(parseAddress('[::1]:80'), { host: '::1', port: 80 });
  assert.deepEqual(parseAddress('[::]:0'), { host: '::', port: 0 });
  assert.deepEqual(parseAddress('[fe80::1%eth0]:9000'), { host: 'fe80::1%eth0', port: 9000 });
  assert.deepEqual(parseAddress(':8080'), { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(parseAddress('0.0.0.0:0'), { host: '0.0.0.0', port: 0 });
  assert.deepEqual(parseAddress('h:65535'), { host: 'h', port: 65535 });
});

test('parseAddress: bad addresses', () => {
  const cases: Array<[string, string]> = [
    ['', 'invalid address "": expected "host:port"'],
    ['localhost', 'invalid address "localhost": expected "host:port" (port is required)'],
    ['localhost:', 'invalid address "localhost:": missing port after ":"'],
    ['h:65536', 'invalid port in address "h:65536": 65536 is above 65535'],
    ['h:-1', 'invalid port in address "h:-1": expected a number 0-65535'],
    ['h:80x', 'invalid port in address "h:80x": expected a number 0-65535'],
    ['h:123456', 'invalid port in address "h:123456": expected a number 0-65535'],
    ['::1:80', 'invalid address "::1:80": write IPv6 hosts in brackets, like "[::1]:8080"'],
    ['[::1:80', 'invalid address "[::1:80": missing "]" after IPv6 host'],
    ['[::1]', 'invalid address "[::1]": expected "[::1]:port"'],
    ['[nope]:80', 'invalid address "[nope]:80": "nope" is not an IPv6 address'],
    ['bad host:80', 'invalid address "bad host:80": "bad host" is not a valid host'],
    ['http://x:80', 'invalid address "http://x:80": expected "host:port"'],
  ];
  for (const [input, message] of cases) assert.throws(() => parseAddress(input), { message }, input);
});

test('formatAddress brackets IPv6', () => {
  assert.equal(formatAddress({ host: '::1', port: 80 }), '[::1]:80');
  assert.equal(formatAddress({ host: '10.0.0.1', port: 80 }), '10.0.0.1:80');
});

test('schema helpers: edit distance, suggestions, key paths', () => {
  assert.equal(editDistance('prefx', 'prefix'), 1);
  assert.equal(editDistance('hedeg', 'hedge'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(closest('prefx', ['prefix', 'path', 'regex']), 'prefix');
  assert.equal(closest('Prefix', ['prefix', 'path']), 'prefix');
  assert.equal(closest('zzzzzz', ['prefix', 'path']), undefined);
  assert.equal(closest('endpionts', ['endpoints', 'lb']), 'endpoints');
  assert.equal(keyPath('', 'listeners'), 'listeners');
  assert.equal(keyPath('a', 'x-canary'), 'a.x-canary');
  assert.equal(keyPath('a', 'odd key'), 'a["odd key"]');
});
