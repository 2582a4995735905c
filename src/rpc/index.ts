/**
 * The shared RPC stream layer: turns any RpcCodec into a CodecDefinition with a listener side
 * (rpcListenerProtocol) and an upstream side (rpcUpstreamProtocol), and installs that adapter in
 * the registry so `registerCodec(rpcCodec)` is all a protocol plug-in needs.
 * Must never: know any particular protocol.
 */
import { setRpcAdapter, type CodecDefinition, type RpcCodec } from '../api';
import { rpcListenerProtocol } from './server';
import { rpcUpstreamProtocol } from './pool';

export { FrameReader, DEFAULT_MAX_FRAME_BYTES } from './frame-reader';
export type { FrameSink, FrameFailure } from './frame-reader';
export { rpcListenerProtocol, RpcServerConnection } from './server';
export type { RpcListenerOptions } from './server';
export { RpcServerStream } from './server-stream';
export { rpcUpstreamProtocol, RpcPool, DEFAULT_HEARTBEAT_INTERVAL_MS } from './pool';
export type { RpcPoolStats } from './pool';

/** Both sides of an RpcCodec, under the codec's name. */
export function rpcCodecDefinition(codec: RpcCodec): CodecDefinition {
  return { name: codec.name, listener: rpcListenerProtocol(codec), upstream: rpcUpstreamProtocol(codec) };
}

/** Makes registry.codec(name) give every registered RpcCodec its listener and upstream sides. */
export function installRpcAdapter(): void {
  setRpcAdapter(rpcCodecDefinition);
}
