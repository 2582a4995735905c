/**
 * Config readers for a cluster's `health_check` and `outlier_detection`: defaults, type-specific
 * keys, status ranges, and contradictions reported with their paths.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { registerCodec, registry } from '../../src/api';
import { exampleCodec } from '../../protocols/example/codec';
import { installRpcAdapter } from '../../src/rpc';

import { configIssues, oneClusterConfig } from '../fixtures/config-issues';

const config = (cluster: Record<string, unknown>) => oneClusterConfig(cluster);
const issues = (cluster: Record<string, unknown>) => configIssues(() => config(cluster));

describe('health_check config', () => {
  it('fills Envoy-like defaults; host defaults to the cluster name', () => {
    const c = config({ health_check: { type: 'http' } }).clusters[0];
    assert.deepEqual(c.health_check, {
      type: 'http',
      path: '/healthz',
      expected_statuses: [[200, 299]],
      service_name: '',
      interval_ms: 5000,
      timeout_ms: 1000,
      jitter_ms: 0,
      healthy_threshold: 2,
      unhealthy_threshold: 2,
      host: 'api',
    });
    assert.equal(c.outlier_detection, undefined);
  });

  it('reads every key, statuses as codes and ranges', () => {
    const c = config({
      health_check: {
        type: 'http', path: '/ready', expected_statuses: [200, '204', '300-302'], interval: '1s', timeout: '250ms',
        jitter: '100ms', healthy_threshold: 3, unhealthy_threshold: 1, host: 'api.internal',
      },
    }).clusters[0].health_check!;
    assert.deepEqual(c.expected_statuses, [[200, 200], [204, 204], [300, 302]]);
    assert.equal(c.path, '/ready');
    assert.equal(c.interval_ms, 1000);
    assert.equal(c.timeout_ms, 250);
    assert.equal(c.jitter_ms, 100);
    assert.equal(c.healthy_threshold, 3);
    assert.equal(c.unhealthy_threshold, 1);
    assert.equal(c.host, 'api.internal');
  });

  it('reports contradictions and bad values with paths', () => {
    assert.deepEqual(issues({ health_check: {} }), ['clusters[0].health_check.type: required']);
    assert.deepEqual(issues({ health_check: { type: 'ping' } }), [
      'clusters[0].health_check.type: expected one of "http", "tcp", "grpc", "heartbeat", got "ping"',
    ]);
    assert.deepEqual(issues({ health_check: { type: 'tcp', interval: '1s', timeout: '1s' } }), [
      'clusters[0].health_check.timeout: must be shorter than the interval (1000 ms)',
    ]);
    assert.deepEqual(issues({ health_check: { type: 'tcp', healthy_threshold: 0, unhealthy_threshold: -1 } }), [
      'clusters[0].health_check.healthy_threshold: must be a positive integer, got 0',
      'clusters[0].health_check.unhealthy_threshold: must be a positive integer, got -1',
    ]);
    assert.deepEqual(issues({ health_check: { type: 'tcp', path: '/x', service_name: 'a' } }), [
      'clusters[0].health_check.path: only applies to type "http" (this check is "tcp")',
      'clusters[0].health_check.service_name: only applies to type "grpc" (this check is "tcp")',
    ]);
    assert.deepEqual(issues({ health_check: { type: 'http', path: 'healthz' } }), [
      'clusters[0].health_check.path: must start with "/", got "healthz"',
    ]);
    assert.deepEqual(issues({ health_check: { type: 'http', expected_statuses: ['299-200', 700, 'ok'] } }), [
      'clusters[0].health_check.expected_statuses[0]: range start must not exceed its end, got "299-200"',
      'clusters[0].health_check.expected_statuses[1]: statuses must be between 100 and 599, got 700',
      'clusters[0].health_check.expected_statuses[2]: expected a status (e.g. 200) or a range (e.g. "200-299"), got "ok"',
    ]);
    assert.deepEqual(issues({ health_check: { type: 'tcp', intervall: '1s' } }), [
      'clusters[0].health_check.intervall: unknown key (did you mean "interval"?)',
    ]);
  });

  it('accepts heartbeat only on a cluster whose protocol is an RPC codec', () => {
    assert.deepEqual(issues({ health_check: { type: 'heartbeat' } }), [
      'clusters[0].health_check.type: "heartbeat" needs a cluster protocol that is an RPC codec (e.g. dubbo, bolt); "http" is not one',
    ]);
    installRpcAdapter();
    if (registry.rpcCodec(exampleCodec.name) === undefined) registerCodec(exampleCodec);
    const c = config({ protocol: 'example', health_check: { type: 'heartbeat', interval: '2s' } }).clusters[0];
    assert.equal(c.health_check!.type, 'heartbeat');
  });
});

describe('outlier_detection config', () => {
  it('fills Envoy defaults', () => {
    assert.deepEqual(config({ outlier_detection: {} }).clusters[0].outlier_detection, {
      consecutive_5xx: 5,
      consecutive_gateway_failure: 5,
      interval_ms: 10_000,
      base_ejection_time_ms: 30_000,
      max_ejection_time_ms: 300_000,
      max_ejection_percent: 10,
      success_rate_minimum_hosts: 5,
      success_rate_request_volume: 100,
      success_rate_stdev_factor: 1900,
    });
  });

  it('reads every key', () => {
    const o = config({
      outlier_detection: {
        consecutive_5xx: 3, consecutive_gateway_failure: 2, interval: '1s', base_ejection_time: '5s',
        max_ejection_time: '20s', max_ejection_percent: 50, success_rate_minimum_hosts: 3,
        success_rate_request_volume: 10, success_rate_stdev_factor: 1000,
      },
    }).clusters[0].outlier_detection!;
    assert.deepEqual(o, {
      consecutive_5xx: 3, consecutive_gateway_failure: 2, interval_ms: 1000, base_ejection_time_ms: 5000,
      max_ejection_time_ms: 20_000, max_ejection_percent: 50, success_rate_minimum_hosts: 3,
      success_rate_request_volume: 10, success_rate_stdev_factor: 1000,
    });
  });

  it('max_ejection_time defaults to at least base_ejection_time', () => {
    assert.equal(config({ outlier_detection: { base_ejection_time: '10m' } }).clusters[0].outlier_detection!.max_ejection_time_ms, 600_000);
  });

  it('reports contradictions and bad values with paths', () => {
    assert.deepEqual(issues({ outlier_detection: { consecutive_5xx: 0, max_ejection_percent: 120 } }), [
      'clusters[0].outlier_detection.consecutive_5xx: must be a positive integer, got 0',
      'clusters[0].outlier_detection.max_ejection_percent: expected a percentage between 0 and 100, got 120',
    ]);
    assert.deepEqual(issues({ outlier_detection: { base_ejection_time: '30s', max_ejection_time: '10s' } }), [
      'clusters[0].outlier_detection.max_ejection_time: must not be less than base_ejection_time (30000 ms)',
    ]);
    assert.deepEqual(issues({ outlier_detection: { interval: 0, max_ejection_percent: -1 } }), [
      'clusters[0].outlier_detection.max_ejection_percent: expected a percentage between 0 and 100, got -1',
      'clusters[0].outlier_detection.interval: must be greater than 0',
    ]);
  });
});
