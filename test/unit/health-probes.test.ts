/** The probers' pure parts: HTTP status lines and the hand-written gRPC health protobuf. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeServingStatus, encodeHealthCheckRequest, grpcFrame, parseStatusLine, statusExpected, unaryMessage,
} from '../../src/upstream/health';

describe('http probe parsing', () => {
  it('reads the status of HTTP/1.x status lines only', () => {
    assert.equal(parseStatusLine('HTTP/1.1 200 OK'), 200);
    assert.equal(parseStatusLine('HTTP/1.0 503 Service Unavailable'), 503);
    assert.equal(parseStatusLine('HTTP/1.1 204'), 204);
    assert.equal(parseStatusLine('HTTP/2 200'), -1);
    assert.equal(parseStatusLine('HTTP/1.1 20 OK'), -1);
    assert.equal(parseStatusLine('HTTP/1.1 2000 OK'), -1);
    assert.equal(parseStatusLine('SSH-2.0-OpenSSH'), -1);
  });

  it('matches inclusive ranges', () => {
    const r: Array<[number, number]> = [[200, 299], [418, 418]];
    assert.equal(statusExpected(200, r), true);
    assert.equal(statusExpected(299, r), true);
    assert.equal(statusExpected(300, r), false);
    assert.equal(statusExpected(418, r), true);
  });
});

describe('grpc health protobuf', () => {
  it('encodes HealthCheckRequest{service} (field 1, length-delimited)', () => {
    assert.deepEqual(encodeHealthCheckRequest(''), Buffer.alloc(0));
    assert.deepEqual(encodeHealthCheckRequest('svc'), Buffer.from([0x0a, 3, 0x73, 0x76, 0x63]));
    const long = encodeHealthCheckRequest('x'.repeat(200));
    assert.deepEqual([...long.subarray(0, 3)], [0x0a, 0xc8, 0x01]);
    assert.equal(long.length, 203);
  });

  it('frames a message with the 5-byte gRPC prefix and unframes it', () => {
    const f = grpcFrame(Buffer.from([8, 1]));
    assert.deepEqual([...f], [0, 0, 0, 0, 2, 8, 1]);
    assert.deepEqual(unaryMessage(f), Buffer.from([8, 1]));
    assert.equal(typeof unaryMessage(Buffer.from([1, 0, 0, 0, 0])), 'string', 'compressed');
    assert.equal(typeof unaryMessage(Buffer.from([0, 0, 0, 0, 3, 8])), 'string', 'truncated');
  });

  it('decodes HealthCheckResponse.status, skipping unknown fields', () => {
    assert.equal(decodeServingStatus(Buffer.from([0x08, 0x01])), 1);
    assert.equal(decodeServingStatus(Buffer.from([0x08, 0x02])), 2);
    assert.equal(decodeServingStatus(Buffer.alloc(0)), 0, 'UNKNOWN when absent');
    // field 2 string "ab", field 3 fixed64, then status SERVING
    assert.equal(decodeServingStatus(Buffer.from([0x12, 2, 0x61, 0x62, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x08, 0x01])), 1);
    assert.equal(decodeServingStatus(Buffer.from([0x08])), -1, 'truncated varint');
    assert.equal(decodeServingStatus(Buffer.from([0x12, 5, 0x61])), -1, 'length past the end');
    assert.equal(decodeServingStatus(Buffer.from([0x0b])), -1, 'group wire type');
  });
});
