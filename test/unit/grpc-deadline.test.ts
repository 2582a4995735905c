import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatGrpcTimeout, parseGrpcTimeout } from '../../src/proxy/grpc-deadline';
import { effectiveTimeout } from '../../src/proxy/active-stream';

describe('grpc-timeout', () => {
  it('parses every unit and refuses bad values', () => {
    assert.equal(parseGrpcTimeout('1H'), 3_600_000);
    assert.equal(parseGrpcTimeout('2M'), 120_000);
    assert.equal(parseGrpcTimeout('3S'), 3000);
    assert.equal(parseGrpcTimeout('250m'), 250);
    assert.equal(parseGrpcTimeout('1500u'), 1.5);
    assert.equal(parseGrpcTimeout('2000000n'), 2);
    for (const bad of ['', 'S', '10', '10x', '-1S', '123456789S', '1.5S']) assert.equal(parseGrpcTimeout(bad), null, bad);
  });
  it('formats remaining time without rounding up, within 8 digits', () => {
    assert.equal(formatGrpcTimeout(0.3), '1m');
    assert.equal(formatGrpcTimeout(999.9), '999m');
    assert.equal(formatGrpcTimeout(123_456_789), '123456S');
    assert.ok(parseGrpcTimeout(formatGrpcTimeout(1e12))! <= 1e12);
  });
  it('takes the smaller of route timeout and carried deadline; 0 means none', () => {
    assert.equal(effectiveTimeout(15000, 200), 200);
    assert.equal(effectiveTimeout(100, 200), 100);
    assert.equal(effectiveTimeout(0, 200), 200);
    assert.equal(effectiveTimeout(300, undefined), 300);
    assert.equal(effectiveTimeout(300, 0), 300);
  });
});
