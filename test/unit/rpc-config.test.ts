/**
 * A cluster's `rpc` section and a listener's `limits.max_frame_bytes`: defaults, errors reported
 * with their paths, and the PoolOptions `options` record the RPC pool reads.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { registerCodec, registry } from '../../src/api';
import { exampleCodec } from '../../protocols/example/codec';
import { installRpcAdapter } from '../../src/rpc';
import { RPC_DEFAULTS, rpcPoolOptions } from '../../src/config/rpc';

import { configIssues, oneClusterConfig } from '../fixtures/config-issues';

function config(cluster: Record<string, unknown>, limits?: Record<string, unknown>) {
  return oneClusterConfig({ protocol: 'example', ...cluster }, { protocol: 'example', match: { service: 'a' }, listener: limits ? { limits } : {} });
}
const issues = (cluster: Record<string, unknown>, limits?: Record<string, unknown>) => configIssues(() => config(cluster, limits));

describe('cluster rpc options', () => {
  before(() => {
    installRpcAdapter();
    if (registry.rpcCodec('example') === undefined) registerCodec(exampleCodec);
  });

  it('absent: no section, and the pool gets the defaults', () => {
    const c = config({});
    assert.equal(c.clusters[0].rpc, undefined);
    assert.deepEqual({ ...rpcPoolOptions(undefined) }, { connections: 1, heartbeat_interval_ms: 30_000, max_frame_bytes: 16 * 1024 * 1024 });
    assert.equal(c.listeners[0].limits.max_frame_bytes, 16 * 1024 * 1024);
  });

  it('reads connections, heartbeat_interval (0 disables) and max_frame_bytes', () => {
    const c = config({ rpc: { connections: 3, heartbeat_interval: '0s', max_frame_bytes: 65536 } }, { max_frame_bytes: 4096 });
    assert.deepEqual(c.clusters[0].rpc, { connections: 3, heartbeat_interval_ms: 0, max_frame_bytes: 65536 });
    assert.deepEqual({ ...rpcPoolOptions(c.clusters[0].rpc) }, { connections: 3, heartbeat_interval_ms: 0, max_frame_bytes: 65536 });
    assert.equal(c.listeners[0].limits.max_frame_bytes, 4096);
    const partial = config({ rpc: { heartbeat_interval: '5s' } });
    assert.deepEqual(partial.clusters[0].rpc, { ...RPC_DEFAULTS, heartbeat_interval_ms: 5000 });
  });

  it('reports bad values with their paths', () => {
    assert.deepEqual(issues({ rpc: { connections: 0 } }), ['clusters[0].rpc.connections: must be between 1 and 1024, got 0']);
    assert.deepEqual(issues({ rpc: { connections: 1.5 } }), ['clusters[0].rpc.connections: expected integer, got 1.5']);
    const hb = issues({ rpc: { heartbeat_interval: 'often' } });
    assert.equal(hb.length, 1);
    assert.match(hb[0], /^clusters\[0\]\.rpc\.heartbeat_interval: invalid duration/);
    assert.deepEqual(issues({ rpc: { max_frame_bytes: 10 } }), ['clusters[0].rpc.max_frame_bytes: must be between 64 and 1073741824, got 10']);
    assert.deepEqual(issues({}, { max_frame_bytes: 'big' }), ['listeners[0].limits.max_frame_bytes: expected integer, got string']);
  });

  it('reports unknown keys, a non-object section, and rpc on a protocol that is not an RPC codec', () => {
    assert.deepEqual(issues({ rpc: { conections: 2 } }), ['clusters[0].rpc.conections: unknown key (did you mean "connections"?)']);
    const notObject = issues({ rpc: 3 });
    assert.equal(notObject.length, 1);
    assert.match(notObject[0], /^clusters\[0\]\.rpc: expected object/);
    const http = issues({ protocol: 'http', rpc: { connections: 2 } });
    assert.deepEqual(http, ['clusters[0].rpc: applies only to RPC protocols (e.g. dubbo, bolt); cluster protocol "http" is not one']);
  });
});
