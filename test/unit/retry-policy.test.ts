import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../src/api';
import { backoffDelay, retryAfterMs, RetryBudget, RetryPolicy } from '../../src/proxy/retry-policy';
import { RETRY_DEFAULTS } from '../../src/config/resilience';
import type { RetryConfig } from '../../src/config/types';
import { ManualClock } from '../fixtures/manual-clock';

function policy(on: RetryConfig['on'], codes: number[] = []): RetryPolicy {
  return new RetryPolicy({ ...RETRY_DEFAULTS, on, retriable_status_codes: codes, per_try_timeout_ms: 0 });
}

describe('RetryPolicy', () => {
  it('retries failures by condition', () => {
    const p = policy(['connect-failure']);
    assert.ok(p.retriableFailure('connect_failure', true));
    assert.ok(p.retriableFailure('connect_timeout', true));
    assert.ok(!p.retriableFailure('reset', false));
    assert.ok(!p.retriableFailure('overflow', true));
    assert.ok(policy(['refused-stream']).retriableFailure('reset', true));
    assert.ok(!policy(['refused-stream']).retriableFailure('reset', false));
    assert.ok(policy(['gateway-error']).retriableFailure('per_try_timeout', false));
    assert.ok(policy(['5xx']).retriableFailure('protocol_error', false));
  });
  it('retries responses by status class, code list and gRPC status', () => {
    const none = new HeaderMap();
    assert.ok(policy(['5xx']).retriableResponse(500, none));
    assert.ok(!policy(['gateway-error']).retriableResponse(500, none));
    assert.ok(policy(['gateway-error']).retriableResponse(503, none));
    assert.ok(policy(['retriable-status-codes'], [409]).retriableResponse(409, none));
    assert.ok(!policy(['5xx']).retriableResponse(404, none));
    const unavailable = HeaderMap.from({ 'grpc-status': '14' });
    assert.ok(policy(['unavailable']).retriableResponse(200, unavailable));
    assert.ok(!policy(['cancelled']).retriableResponse(200, unavailable));
  });
});

describe('backoff and Retry-After', () => {
  it('jitters under an exponentially growing cap', () => {
    assert.equal(backoffDelay(0, 25, 250, () => 0.999999), 24);
    assert.equal(backoffDelay(2, 25, 250, () => 0.999999), 99);
    assert.equal(backoffDelay(10, 25, 250, () => 0.999999), 249);
    assert.equal(backoffDelay(3, 25, 250, () => 0), 0);
  });
  it('reads delta seconds and HTTP dates', () => {
    const now = Date.UTC(2026, 10, 22, 12, 0, 0);
    assert.equal(retryAfterMs(HeaderMap.from({ 'retry-after': '3' }), now), 3000);
    assert.equal(retryAfterMs(HeaderMap.from({ 'retry-after': new Date(now + 1500).toUTCString() }), now), 1000);
    assert.equal(retryAfterMs(HeaderMap.from({ 'retry-after': 'soon' }), now), null);
    assert.equal(retryAfterMs(new HeaderMap(), now), null);
  });
});

describe('RetryBudget', () => {
  it('allows min_per_second over the window, then a percentage of requests', () => {
    const clock = new ManualClock();
    const b = new RetryBudget(20, 1, clock);
    let allowed = 0;
    for (let i = 0; i < 100; i++) if (b.tryWithdraw()) allowed++;
    assert.equal(allowed, 10, '1 per second over a 10 s window');
    for (let i = 0; i < 100; i++) b.onRequest();
    let more = 0;
    for (let i = 0; i < 100; i++) if (b.tryWithdraw()) more++;
    assert.equal(more, 10, '20% of 100 requests is 20 retries in all');
    clock.advance(11_000);
    let later = 0;
    for (let i = 0; i < 100; i++) if (b.tryWithdraw()) later++;
    assert.equal(later, 10, 'the window slid: only the minimum again');
  });
  it('with no minimum and no requests, allows nothing', () => {
    const b = new RetryBudget(0, 0, new ManualClock());
    assert.ok(!b.tryWithdraw());
  });
});
