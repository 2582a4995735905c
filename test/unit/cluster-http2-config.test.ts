/**
 * A cluster's `http2` section: defaults, errors reported with their paths (bad values, the section
 * on a cluster that is not http2, unknown keys), and the PoolOptions `options` entries the HTTP/2
 * pool reads.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_HTTP2_DEFAULTS, http2PoolOptions } from '../../src/config/cluster-http2';
import { registerH2Codecs } from '../fixtures/grpc/h2-peers';
import { configIssues, oneClusterConfig } from '../fixtures/config-issues';

const config = (cluster: Record<string, unknown>) => oneClusterConfig({ protocol: 'http2', ...cluster });
const issues = (cluster: Record<string, unknown>) => configIssues(() => config(cluster));

describe('cluster http2 options', () => {
  before(() => registerH2Codecs());

  it('absent: no section, and the pool keeps its own defaults', () => {
    assert.equal(config({}).clusters[0].http2, undefined);
    assert.deepEqual({ ...http2PoolOptions(undefined) }, {});
  });

  it('reads every key (durations in ms; 0 streams = as many as the peer allows)', () => {
    const c = config({
      http2: { max_concurrent_streams: 50, ping_interval: '5s', ping_timeout: '2s', initial_stream_window_size: 65535, initial_connection_window_size: 2097152 },
    });
    const want = { max_concurrent_streams: 50, ping_interval_ms: 5000, ping_timeout_ms: 2000, initial_stream_window_size: 65535, initial_connection_window_size: 2097152 };
    assert.deepEqual(c.clusters[0].http2, want);
    assert.deepEqual({ ...http2PoolOptions(c.clusters[0].http2) }, want);
    assert.deepEqual(config({ http2: { max_concurrent_streams: 8 } }).clusters[0].http2, { ...CLUSTER_HTTP2_DEFAULTS, max_concurrent_streams: 8 });
  });

  it('reports bad values, a non-http2 cluster and unknown keys with their paths', () => {
    assert.deepEqual(issues({ http2: { max_concurrent_streams: -1 } }), ['clusters[0].http2.max_concurrent_streams: must be between 0 and 2147483647, got -1']);
    assert.deepEqual(issues({ http2: { initial_stream_window_size: 100 } }), [
      'clusters[0].http2.initial_stream_window_size: must be between 65535 and 2147483647, got 100',
    ]);
    assert.deepEqual(issues({ protocol: 'http', http2: { max_concurrent_streams: 4 } }), ['clusters[0].http2: applies only to http2 clusters; cluster protocol is "http"']);
    const unknown = issues({ http2: { max_streams: 4 } });
    assert.equal(unknown.length, 1);
    assert.match(unknown[0], /^clusters\[0\]\.http2\.max_streams: unknown key/);
  });
});
