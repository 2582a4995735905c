/**
 * OutlierDetector on a ManualClock: consecutive 5xx and gateway-failure ejections, what resets
 * and what is ignored (overflow), ejection time with its multiplier, cap and decay, un-ejection at
 * expiry, max_ejection_percent, and success-rate ejections.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../fixtures/manual-clock';
import { StatsRegistry } from '../../src/observability/stats';
import type { OutlierDetectionConfig } from '../../src/config/types';
import {
  EJECTED_GAUGE, EJECTIONS_COUNTER, OutlierDetector, failureResult, statusResult, type EjectionReason,
} from '../../src/upstream/outlier';

interface Host {
  name: string;
  ejected: boolean;
}

const BASE: OutlierDetectionConfig = {
  consecutive_5xx: 5,
  consecutive_gateway_failure: 5,
  interval_ms: 10_000,
  base_ejection_time_ms: 30_000,
  max_ejection_time_ms: 300_000,
  max_ejection_percent: 100,
  success_rate_minimum_hosts: 5,
  success_rate_request_volume: 100,
  success_rate_stdev_factor: 1900,
};

function setup(over: Partial<OutlierDetectionConfig> = {}, n = 4) {
  const clock = new ManualClock();
  const stats = new StatsRegistry();
  const hosts: Host[] = Array.from({ length: n }, (_, i) => ({ name: `h${i}`, ejected: false }));
  const log: string[] = [];
  const det = new OutlierDetector<Host>({ ...BASE, ...over }, {
    cluster: 'c',
    clock,
    stats,
    setEjected: (h, e, reason) => {
      h.ejected = e;
      log.push(`${h.name} ${e ? `out ${reason}` : 'back'} @${clock.now()}`);
    },
  });
  det.sync(hosts);
  const ejections = (reason: EjectionReason) => stats.counter(EJECTIONS_COUNTER, '', { cluster: 'c', reason }).value;
  const gauge = () => stats.gauge(EJECTED_GAUGE, '', { cluster: 'c' }).value;
  return { clock, det, hosts, log, ejections, gauge };
}

const s500 = statusResult(500);
const s503 = statusResult(503);
const s200 = statusResult(200);

describe('OutlierDetector: consecutive errors', () => {
  it('ejects after consecutive_5xx 5xx results; a success resets the run', () => {
    const { det, hosts, ejections, gauge } = setup({ consecutive_5xx: 3 });
    const h = hosts[0];
    det.record(h, s500);
    det.record(h, s500);
    det.record(h, s200);
    det.record(h, s500);
    det.record(h, s500);
    assert.equal(h.ejected, false);
    det.record(h, s500);
    assert.equal(h.ejected, true);
    assert.equal(ejections('consecutive_5xx'), 1);
    assert.equal(gauge(), 1);
    assert.equal(det.info(h)?.lastReason, 'consecutive_5xx');
  });

  it('failures count as 5xx; overflow is ignored and does not reset the run', () => {
    const { det, hosts } = setup({ consecutive_5xx: 3, consecutive_gateway_failure: 100 });
    const h = hosts[0];
    det.record(h, failureResult('protocol_error'));
    det.record(h, failureResult('overflow'));
    det.record(h, statusResult(501));
    det.record(h, failureResult('overflow'));
    assert.equal(h.ejected, false);
    det.record(h, failureResult('reset'));
    assert.equal(h.ejected, true);
  });

  it('ejects after consecutive gateway failures (502/503/504, connect failures, resets, timeouts)', () => {
    const { det, hosts, ejections } = setup({ consecutive_5xx: 100, consecutive_gateway_failure: 4 });
    const h = hosts[1];
    for (const r of [s503, failureResult('connect_failure'), statusResult(504), failureResult('connect_timeout')]) {
      assert.equal(h.ejected, false);
      det.record(h, r);
    }
    assert.equal(h.ejected, true);
    assert.equal(ejections('consecutive_gateway_failure'), 1);
    assert.equal(ejections('consecutive_5xx'), 0);
  });

  it('a non-gateway 5xx resets the gateway run (but not the 5xx run)', () => {
    const { det, hosts } = setup({ consecutive_5xx: 100, consecutive_gateway_failure: 2 });
    const h = hosts[0];
    det.record(h, s503);
    det.record(h, s500);
    det.record(h, failureResult('timeout'));
    assert.equal(h.ejected, false);
    det.record(h, statusResult(502));
    assert.equal(h.ejected, true);
  });

  it('a run of 503s is reported as gateway failures when both thresholds are met together', () => {
    const { det, hosts, ejections } = setup({ consecutive_5xx: 2, consecutive_gateway_failure: 2 });
    det.record(hosts[0], s503);
    det.record(hosts[0], s503);
    assert.equal(ejections('consecutive_gateway_failure'), 1);
    assert.equal(ejections('consecutive_5xx'), 0);
  });

  it('ignores endpoints it does not track', () => {
    const { det } = setup({ consecutive_5xx: 1 });
    const stranger = { name: 'x', ejected: false };
    det.record(stranger, s500);
    assert.equal(stranger.ejected, false);
    assert.equal(det.info(stranger), null);
  });
});

describe('OutlierDetector: ejection time', () => {
  it('returns the endpoint after base_ejection_time, with a timer at expiry', () => {
    const { clock, det, hosts, log, gauge } = setup({ consecutive_5xx: 1, interval_ms: 7_000 });
    clock.advance(1_000);
    det.record(hosts[0], s500);
    assert.equal(det.info(hosts[0])?.ejectedUntil, 31_000);
    clock.advance(29_999);
    assert.equal(hosts[0].ejected, true);
    clock.advance(1);
    assert.equal(hosts[0].ejected, false);
    assert.deepEqual(log, ['h0 out consecutive_5xx @1000', 'h0 back @31000']);
    assert.equal(gauge(), 0);
  });

  it('multiplies by the times ejected in a row, capped at max_ejection_time', () => {
    const { clock, det, hosts } = setup({ consecutive_5xx: 1, base_ejection_time_ms: 10_000, max_ejection_time_ms: 25_000, interval_ms: 100_000 });
    const h = hosts[0];
    const durations: number[] = [];
    for (let i = 0; i < 4; i++) {
      det.record(h, s500);
      const until = det.info(h)!.ejectedUntil!;
      durations.push(until - clock.now());
      clock.advance(until - clock.now());
      assert.equal(h.ejected, false);
    }
    assert.deepEqual(durations, [10_000, 20_000, 25_000, 25_000]);
    assert.equal(det.info(h)!.timesEjected, 4);
  });

  it('the multiplier drops by one for every interval spent back in service', () => {
    const { clock, det, hosts } = setup({ consecutive_5xx: 1, base_ejection_time_ms: 10_000, interval_ms: 10_000 });
    const h = hosts[0];
    det.record(h, s500); // t=0, multiplier 1, back at 10s
    clock.advance(10_000);
    det.record(h, s500); // multiplier 2: 20s, back at 30s
    assert.equal(det.info(h)!.ejectedUntil, 30_000);
    clock.advance(20_000);
    assert.equal(h.ejected, false);
    assert.equal(det.info(h)!.multiplier, 2);
    clock.advance(10_000); // tick at 40s: in service for a whole interval
    assert.equal(det.info(h)!.multiplier, 1);
    clock.advance(10_000);
    assert.equal(det.info(h)!.multiplier, 0);
    det.record(h, s500);
    assert.equal(det.info(h)!.ejectedUntil! - clock.now(), 10_000, 'back to the base time');
  });

  it('needs a fresh run of errors after returning', () => {
    const { clock, det, hosts } = setup({ consecutive_5xx: 2 });
    const h = hosts[0];
    det.record(h, s500);
    det.record(h, s500);
    clock.advance(30_000);
    assert.equal(h.ejected, false);
    det.record(h, s500);
    assert.equal(h.ejected, false);
    det.record(h, s500);
    assert.equal(h.ejected, true);
  });

  it('stop() cancels the timers; endpoints stay as they are', () => {
    const { clock, det, hosts } = setup({ consecutive_5xx: 1 });
    det.record(hosts[0], s500);
    det.stop();
    clock.advance(1_000_000);
    assert.equal(hosts[0].ejected, true);
    det.record(hosts[1], s500);
    assert.equal(hosts[1].ejected, false);
  });

  it('forgets endpoints removed by sync (their ejection no longer counts)', () => {
    const { det, hosts, gauge } = setup({ consecutive_5xx: 1, max_ejection_percent: 25 });
    det.record(hosts[0], s500);
    assert.equal(gauge(), 1);
    det.record(hosts[1], s500);
    assert.equal(hosts[1].ejected, false, '25% of 4 is one endpoint');
    det.sync(hosts.slice(1));
    assert.equal(gauge(), 0);
    assert.equal(det.ejectedCount, 0);
    det.record(hosts[1], s500);
    assert.equal(hosts[1].ejected, true);
  });
});

describe('OutlierDetector: max_ejection_percent', () => {
  it('never ejects more than the percent of endpoints at once', () => {
    const { det, hosts, gauge } = setup({ consecutive_5xx: 1, max_ejection_percent: 50 }, 5);
    for (const h of hosts) det.record(h, s500);
    assert.deepEqual(hosts.map((h) => h.ejected), [true, true, false, false, false], '2 of 5 = 40% <= 50%, a third would be 60%');
    assert.equal(gauge(), 2);
  });

  it('always allows one ejection when none is active (percent > 0), even if one is above the percent', () => {
    const { det, hosts } = setup({ consecutive_5xx: 1, max_ejection_percent: 10 }, 2);
    det.record(hosts[0], s500);
    det.record(hosts[1], s500);
    assert.deepEqual(hosts.map((h) => h.ejected), [true, false]);
  });

  it('0 percent disables ejection', () => {
    const { det, hosts } = setup({ consecutive_5xx: 1, max_ejection_percent: 0 }, 3);
    det.record(hosts[0], s500);
    assert.equal(hosts[0].ejected, false);
  });

  it('after a refusal the run starts over (as Envoy resets the counter)', () => {
    const { clock, det, hosts } = setup({ consecutive_5xx: 2, max_ejection_percent: 50 }, 2);
    det.record(hosts[0], s500);
    det.record(hosts[0], s500);
    det.record(hosts[1], s500);
    det.record(hosts[1], s500); // refused: 2 of 2 would be 100%
    assert.equal(hosts[1].ejected, false);
    clock.advance(30_000); // hosts[0] returns
    det.record(hosts[1], s500);
    assert.equal(hosts[1].ejected, false, 'the refused run does not carry over');
    det.record(hosts[1], s500);
    assert.equal(hosts[1].ejected, true);
  });
});

describe('OutlierDetector: success rate', () => {
  function feed(det: OutlierDetector<Host>, h: Host, requests: number, successes: number): void {
    for (let i = 0; i < requests; i++) det.record(h, i < successes ? s200 : s500);
  }

  it('ejects endpoints below mean - factor × stdev at the interval, when enough endpoints qualify', () => {
    const { clock, det, hosts, ejections, log } = setup(
      { consecutive_5xx: 1_000, consecutive_gateway_failure: 1_000, success_rate_minimum_hosts: 5, success_rate_request_volume: 100 },
      6,
    );
    // rates 100,100,100,100,100,50: mean 91.67, stdev 18.63, threshold 91.67 - 1.9 × 18.63 = 56.27
    for (let i = 0; i < 5; i++) feed(det, hosts[i], 100, 100);
    feed(det, hosts[5], 100, 50);
    clock.advance(9_999);
    assert.equal(hosts[5].ejected, false, 'only at the interval');
    clock.advance(1);
    assert.equal(hosts[5].ejected, true);
    assert.equal(ejections('success_rate'), 1);
    assert.deepEqual(log, ['h5 out success_rate @10000']);
  });

  it('does nothing with fewer than success_rate_minimum_hosts qualifying endpoints', () => {
    const { clock, det, hosts } = setup({ consecutive_5xx: 1_000, success_rate_minimum_hosts: 5, success_rate_request_volume: 100 }, 6);
    for (let i = 0; i < 3; i++) feed(det, hosts[i], 100, 100);
    feed(det, hosts[3], 99, 99); // below the request volume: does not qualify
    feed(det, hosts[4], 99, 99);
    feed(det, hosts[5], 100, 0);
    clock.advance(10_000);
    assert.equal(hosts[5].ejected, false, 'four qualify, five needed');
    for (let i = 0; i < 4; i++) feed(det, hosts[i], 100, 100);
    feed(det, hosts[5], 100, 0);
    clock.advance(10_000);
    assert.equal(hosts[5].ejected, true, 'five qualify');
  });

  it('counts each interval separately', () => {
    const { clock, det, hosts } = setup({ consecutive_5xx: 1_000, success_rate_minimum_hosts: 3, success_rate_request_volume: 10 }, 3);
    feed(det, hosts[0], 10, 10);
    feed(det, hosts[1], 10, 10);
    clock.advance(10_000); // hosts[2] had no requests: nothing happens, counters reset
    feed(det, hosts[2], 10, 0);
    feed(det, hosts[0], 5, 5);
    feed(det, hosts[1], 5, 5);
    clock.advance(10_000);
    assert.equal(hosts[2].ejected, false, 'only one endpoint had the volume this interval');
  });
});
