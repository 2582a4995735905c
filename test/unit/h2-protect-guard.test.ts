/**
 * H2FloodGuard on a manual clock: the rapid-reset rules (absolute count per window, and more
 * resets than completed streams from a minimum), PING and SETTINGS counts per window, window
 * roll-over, stream-id gaps; effective limits from defaults, codec options and config; the
 * mapping of node:http2 session errors to kinds.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { H2FloodGuard, H2_LIMIT_DEFAULTS, effectiveH2Limits, sessionErrorKind, type H2Limits } from '../../src/http/h2/protect';
import { ManualClock } from '../fixtures/manual-clock';

function limits(over: Partial<H2Limits> = {}): H2Limits {
  return { ...effectiveH2Limits({}, { maxHeaderBytes: 1000, headerTimeoutMs: 0, idleTimeoutMs: 0, maxBufferBytes: 0 }), ...over };
}

describe('H2FloodGuard', () => {
  it('trips on more resets than completed streams once the minimum is reached', () => {
    const g = new H2FloodGuard(limits({ resetRatioMin: 10, maxResets: 0 }), new ManualClock());
    for (let i = 0; i < 9; i++) assert.equal(g.prematureReset(), null);
    assert.equal(g.prematureReset(), 'h2_rapid_reset');
  });

  it('does not trip the ratio rule for a client that mostly completes its streams', () => {
    const g = new H2FloodGuard(limits({ resetRatioMin: 10, maxResets: 0 }), new ManualClock());
    for (let i = 0; i < 100; i++) {
      g.completedStream();
      g.completedStream();
      assert.equal(g.prematureReset(), null);
    }
  });

  it('trips the absolute rule whatever the completed count', () => {
    const g = new H2FloodGuard(limits({ resetRatioMin: 0, maxResets: 5 }), new ManualClock());
    for (let i = 0; i < 1000; i++) g.completedStream();
    for (let i = 0; i < 5; i++) assert.equal(g.prematureReset(), null);
    assert.equal(g.prematureReset(), 'h2_rapid_reset');
  });

  it('starts counting afresh in a new window', () => {
    const clock = new ManualClock();
    const g = new H2FloodGuard(limits({ resetRatioMin: 0, maxResets: 5, maxPings: 3, floodWindowMs: 1000 }), clock);
    for (let i = 0; i < 5; i++) assert.equal(g.prematureReset(), null);
    for (let i = 0; i < 3; i++) assert.equal(g.ping(), null);
    clock.advance(1000);
    for (let i = 0; i < 5; i++) assert.equal(g.prematureReset(), null);
    for (let i = 0; i < 3; i++) assert.equal(g.ping(), null);
    assert.equal(g.ping(), 'h2_ping_flood');
    assert.equal(g.prematureReset(), 'h2_rapid_reset');
  });

  it('counts SETTINGS frames; 0 disables a rule', () => {
    const g = new H2FloodGuard(limits({ maxSettings: 2, maxPings: 0 }), new ManualClock());
    assert.equal(g.settingsFrame(), null);
    assert.equal(g.settingsFrame(), null);
    assert.equal(g.settingsFrame(), 'h2_settings_flood');
    for (let i = 0; i < 10_000; i++) assert.equal(g.ping(), null);
  });

  it('reports client stream ids that never surfaced', () => {
    const g = new H2FloodGuard(limits(), new ManualClock());
    assert.equal(g.streamSeen(1, true), 0);
    assert.equal(g.streamSeen(3, true), 0);
    assert.equal(g.streamSeen(9, true), 2, '5 and 7 were skipped');
    assert.equal(g.streamSeen(9, false), 0, 'the last processed id already surfaced');
    assert.equal(g.streamSeen(11, false), 1, 'a last processed id that never surfaced counts itself');
    assert.equal(g.streamSeen(11, true), 0);
    const g2 = new H2FloodGuard(limits(), new ManualClock());
    assert.equal(g2.streamSeen(5, true), 2, '1 and 3 were skipped');
  });
});

describe('effective HTTP/2 limits', () => {
  const base = { maxHeaderBytes: 4096, headerTimeoutMs: 0, idleTimeoutMs: 0, maxBufferBytes: 0 };

  it('defaults, with the header list size from the listener limits', () => {
    const l = effectiveH2Limits({}, base);
    assert.equal(l.maxConcurrentStreams, H2_LIMIT_DEFAULTS.maxConcurrentStreams);
    assert.equal(l.maxConcurrentStreams, 100);
    assert.equal(l.maxHeaderListSize, 4096);
    assert.equal(l.streamIdleTimeoutMs, 300_000);
  });

  it('codec options, overridden by the config section', () => {
    assert.equal(effectiveH2Limits({ maxConcurrentStreams: 7 }, base).maxConcurrentStreams, 7);
    const l = effectiveH2Limits({ maxConcurrentStreams: 7 }, { ...base, http2: { max_concurrent_streams: 9, max_header_list_size: 100, stream_idle_timeout_ms: 0 } });
    assert.equal(l.maxConcurrentStreams, 9);
    assert.equal(l.maxHeaderListSize, 100);
    assert.equal(l.streamIdleTimeoutMs, 0);
  });
});

describe('sessionErrorKind', () => {
  it('maps node:http2 errors', () => {
    assert.equal(sessionErrorKind({ code: 'ERR_HTTP2_ERROR', errno: -904 }), 'h2_flood');
    assert.equal(sessionErrorKind({ code: 'ERR_HTTP2_ERROR', errno: -505 }), 'h2_protocol_error');
    assert.equal(sessionErrorKind({ code: 'ERR_HTTP2_TOO_MANY_INVALID_FRAMES' }), 'h2_too_many_invalid_frames');
    assert.equal(sessionErrorKind({ code: 'ECONNRESET' }), 'h2_session_error');
  });
});
