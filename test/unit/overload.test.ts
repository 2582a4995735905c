import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OverloadMonitor, type LoadSample } from '../../src/runtime/overload';
import { StatsRegistry } from '../../src/observability/stats';
import { ManualClock } from '../fixtures/manual-clock';

describe('OverloadMonitor', () => {
  it('raises the flag while heap or loop lag is over a threshold, sampling on the clock', () => {
    const clock = new ManualClock();
    let sample: LoadSample = { heapUsedBytes: 10, loopLagMs: 0 };
    const m = new OverloadMonitor({ max_heap_bytes: 100, max_event_loop_lag_ms: 50, sample_interval_ms: 100 }, clock, new StatsRegistry(), () => sample);
    m.start();
    clock.advance(100);
    assert.equal(m.overloaded, false);
    sample = { heapUsedBytes: 200, loopLagMs: 0 };
    clock.advance(50);
    assert.equal(m.overloaded, false, 'not sampled yet');
    clock.advance(50);
    assert.equal(m.overloaded, true, 'heap over the limit');
    sample = { heapUsedBytes: 10, loopLagMs: 80 };
    clock.advance(100);
    assert.equal(m.overloaded, true, 'loop lag over the limit');
    sample = { heapUsedBytes: 10, loopLagMs: 5 };
    clock.advance(100);
    assert.equal(m.overloaded, false, 'recovered');
    m.stop();
  });
});
