import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyDeadline, formatGrpcTimeout, parseGrpcTimeout } from '../../src/proxy/grpc-deadline';
import { HeaderMap } from '../../src/api';

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
    assert.equal(applyDeadline(null, 15000, 200, 0), 200);
    assert.equal(applyDeadline(null, 100, 200, 0), 100);
    assert.equal(applyDeadline(null, 0, 200, 0), 200);
    assert.equal(applyDeadline(null, 300, undefined, 0), 300);
    assert.equal(applyDeadline(null, 300, 0, 0), 300);
    assert.equal(applyDeadline(null, 0, undefined, 0), 0);
  });
  it('propagates what is left upstream, in grpc-timeout and x-switchyard-timeout-ms', () => {
    const g = HeaderMap.from({ 'grpc-timeout': '5S' });
    assert.equal(applyDeadline(g, 10000, undefined, 100), 4900);
    assert.equal(g.get('grpc-timeout'), '4900m');
    assert.equal(g.get('x-switchyard-timeout-ms'), '4900');
    const hop = HeaderMap.from({ 'x-switchyard-timeout-ms': '250' });
    assert.equal(applyDeadline(hop, 15000, undefined, 50), 200);
    assert.equal(hop.get('x-switchyard-timeout-ms'), '200');
    const plain = new HeaderMap();
    assert.equal(applyDeadline(plain, 2000, undefined, 5), 2000);
    assert.equal(plain.get('x-switchyard-timeout-ms'), '2000');
    const bogus = HeaderMap.from({ 'x-switchyard-timeout-ms': 'soon' });
    assert.equal(applyDeadline(bogus, 2000, undefined, 5), 2000);
  });
});
