/**
 * H2FloodGuard on a manual clock: the rapid-reset rules (absolute count per window, and more
 * resets than completed streams from a minimum), PING and SETTINGS counts per window, window
 * roll-over, stream-id gaps; effective limits from defaults, codec options and config; the
 * mapping of node:http2 session errors to kinds.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { H2FloodGuard, H2_LIMIT_DEFAULTS, effectiveH2Limits, type H2Limits } from '../../src/http/h2/protect';
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
