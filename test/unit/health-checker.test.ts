/**
 * EndpointChecker on a ManualClock with a scripted prober: the first check runs at start, checks
 * repeat every interval (plus jitter), a probe without a verdict within the timeout fails and is
 * cancelled, transitions follow the thresholds, and stop() ends everything.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../fixtures/manual-clock';
import { EndpointChecker, type CheckerTiming, type ProbeDone, type Prober } from '../../src/upstream/health';

/** A prober whose verdicts the test gives: `answer(ok)` settles the oldest pending probe. */
class ScriptedProber implements Prober {
  readonly type = 'scripted';
  pending: Array<{ done: ProbeDone; cancelled: boolean }> = [];
  started = 0;
  cancelled = 0;
  /** When set, every probe answers this synchronously. */
  auto: boolean | null = null;
  start(_t: unknown, done: ProbeDone) {
    this.started++;
    if (this.auto !== null) {
      done(this.auto, this.auto ? undefined : 'scripted failure');
      return { cancel: () => {} };
    }
    const p = { done, cancelled: false };
    this.pending.push(p);
    return {
      cancel: () => {
        p.cancelled = true;
        this.cancelled++;
      },
    };
  }
  answer(ok: boolean): void {
    const p = this.pending.shift();
    assert.ok(p !== undefined, 'a probe is pending');
    assert.equal(p.cancelled, false);
    p.done(ok, ok ? undefined : 'nope');
  }
}

const TIMING: CheckerTiming = { interval_ms: 1000, timeout_ms: 200, jitter_ms: 0, healthy_threshold: 2, unhealthy_threshold: 3 };

function setup(timing: Partial<CheckerTiming> = {}, random = () => 0) {
  const clock = new ManualClock();
  const prober = new ScriptedProber();
  const events: string[] = [];
  const results: boolean[] = [];
  const checker = new EndpointChecker(
    { host: '127.0.0.1', port: 1 },
    {
      clock,
      random,
      prober,
      timing: { ...TIMING, ...timing },
      onResult: (ok) => results.push(ok),
      onTransition: (healthy) => events.push(healthy ? 'healthy' : 'unhealthy'),
    },
  );
  return { clock, prober, events, results, checker };
}

describe('EndpointChecker', () => {
  it('runs the first check at start and then one per interval', () => {
    const { clock, prober, checker } = setup();
    assert.equal(prober.started, 0);
    checker.start();
    assert.equal(prober.started, 1, 'first check immediately');
    prober.answer(true);
    clock.advance(999);
    assert.equal(prober.started, 1);
    clock.advance(1);
    assert.equal(prober.started, 2);
    prober.answer(true);
    clock.advance(1000);
    assert.equal(prober.started, 3);
    checker.stop();
  });

  it('decides unchecked at the first verdict, then follows the thresholds', () => {
    const { clock, prober, events, checker } = setup();
    checker.start();
    assert.equal(checker.state, 'unchecked');
    prober.answer(true);
    assert.equal(checker.state, 'healthy', 'one success is enough for a new endpoint');
    assert.deepEqual(events, ['healthy']);
    // healthy → unhealthy needs 3 consecutive failures; a success in between resets the run.
    for (const ok of [false, false, true, false, false]) {
      clock.advance(1000);
      prober.answer(ok);
    }
    assert.equal(checker.state, 'healthy');
    clock.advance(1000);
    prober.answer(false);
    assert.equal(checker.state, 'unhealthy');
    assert.deepEqual(events, ['healthy', 'unhealthy']);
    // unhealthy → healthy needs 2 consecutive successes.
    clock.advance(1000);
    prober.answer(true);
    assert.equal(checker.state, 'unhealthy');
    clock.advance(1000);
    prober.answer(false);
    clock.advance(1000);
    prober.answer(true);
    assert.equal(checker.state, 'unhealthy');
    clock.advance(1000);
    prober.answer(true);
    assert.equal(checker.state, 'healthy');
    assert.deepEqual(events, ['healthy', 'unhealthy', 'healthy']);
    checker.stop();
  });

  it('a first failure makes an unchecked endpoint unhealthy', () => {
    const { prober, events, checker } = setup();
    checker.start();
    prober.answer(false);
    assert.equal(checker.state, 'unhealthy');
    assert.deepEqual(events, ['unhealthy']);
    assert.equal(checker.lastCheck?.ok, false);
    assert.equal(checker.lastCheck?.detail, 'nope');
    checker.stop();
  });

  it('fails and cancels a probe that gives no verdict within the timeout; a late answer is ignored', () => {
    const { clock, prober, results, checker } = setup({ unhealthy_threshold: 1 });
    checker.start();
    const first = prober.pending[0];
    clock.advance(199);
    assert.deepEqual(results, []);
    clock.advance(1);
    assert.deepEqual(results, [false]);
    assert.equal(first.cancelled, true);
    assert.equal(prober.cancelled, 1);
    assert.equal(checker.lastCheck?.detail, 'timeout');
    first.done(true); // too late
    assert.deepEqual(results, [false]);
    assert.equal(checker.state, 'unhealthy');
    checker.stop();
  });

  it('adds up to `jitter` of random time to each interval', () => {
    const { clock, prober, checker } = setup({ jitter_ms: 500 }, () => 0.5);
    prober.auto = true;
    checker.start();
    assert.equal(prober.started, 1);
    clock.advance(1249);
    assert.equal(prober.started, 1);
    clock.advance(1);
    assert.equal(prober.started, 2);
    checker.stop();
  });

  it('handles probes that answer synchronously', () => {
    const { clock, prober, events, checker } = setup({ unhealthy_threshold: 2 });
    prober.auto = true;
    checker.start();
    assert.deepEqual(events, ['healthy']);
    prober.auto = false;
    clock.advance(2000);
    assert.deepEqual(events, ['healthy', 'unhealthy']);
    assert.equal(checker.checks, 3);
    checker.stop();
  });

  it('stop() cancels the probe in flight and schedules nothing more', () => {
    const { clock, prober, results, checker } = setup();
    checker.start();
    const p = prober.pending[0];
    checker.stop();
    assert.equal(p.cancelled, true);
    p.done(true);
    clock.advance(10_000);
    assert.equal(prober.started, 1);
    assert.deepEqual(results, []);
    assert.equal(checker.running, false);
  });
});
