/**
 * Reader for a cluster's `rpc` section (upstream pool settings of RPC codecs: multiplexed
 * connections per endpoint, heartbeat interval, largest frame accepted) and the PoolOptions
 * `options` record built from it, in the names src/rpc/pool.ts reads.
 * Must never: hold runtime behaviour (src/rpc does), or know any particular protocol.
 */
import { registry } from '../api/registry';
import type { RpcClusterConfig } from './types';
import type { Issues, Reader } from './schema';
import { BUILTIN_UPSTREAM_PROTOCOLS } from './names';

export const RPC_KEYS = ['connections', 'heartbeat_interval', 'max_frame_bytes'] as const;

/** Largest frame accepted by default, from clients and from upstreams: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Bounds of max_frame_bytes: a frame header must fit; 1 GiB is already more than sane. */
export const MIN_FRAME_BYTES = 64;
export const MAX_FRAME_BYTES = 1024 * 1024 * 1024;

export const RPC_DEFAULTS: Readonly<RpcClusterConfig> = Object.freeze({
  connections: 1,
  heartbeat_interval_ms: 30_000,
  max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
});

/** Most multiplexed connections per endpoint a cluster may ask for. */
export const MAX_RPC_CONNECTIONS = 1024;

/**
 * Reads `rpc` (`r` is its reader, unknown keys already reported). An `rpc` section on a cluster
 * whose protocol is known and is not an RPC codec is an error at `rpcPath`.
 */
export function readRpc(issues: Issues, r: Reader, protocol: string, rpcPath: string): RpcClusterConfig {
  const d = RPC_DEFAULTS;
  const knownProtocol = (BUILTIN_UPSTREAM_PROTOCOLS as readonly string[]).includes(protocol) || registry.codec(protocol) !== undefined;
  if (protocol !== '' && knownProtocol && registry.rpcCodec(protocol) === undefined) {
    issues.add(rpcPath, `applies only to RPC protocols (e.g. dubbo, bolt); cluster protocol "${protocol}" is not one`);
  }
  return {
    connections: r.int('connections', d.connections, { min: 1, max: MAX_RPC_CONNECTIONS }) ?? d.connections,
    heartbeat_interval_ms: r.duration('heartbeat_interval', d.heartbeat_interval_ms) ?? d.heartbeat_interval_ms,
    max_frame_bytes: r.int('max_frame_bytes', d.max_frame_bytes, { min: MIN_FRAME_BYTES, max: MAX_FRAME_BYTES }) ?? d.max_frame_bytes,
  };
}

/** PoolOptions.options for a cluster's RPC pools (defaults when the section is absent). */
export function rpcPoolOptions(rpc: RpcClusterConfig | undefined): Readonly<Record<string, unknown>> {
  const c = rpc ?? RPC_DEFAULTS;
  return Object.freeze({
    connections: c.connections,
    heartbeat_interval_ms: c.heartbeat_interval_ms,
    max_frame_bytes: c.max_frame_bytes,
  });
}
