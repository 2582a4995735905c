/**
 * The HTTP/2 codec: a ListenerProtocol named "http2" (the native server codec on the raw socket,
 * native/ with HPACK from hpack/; h2c with prior knowledge, or h2 after TLS ALPN), an
 * UpstreamProtocol named "http2" (native client sessions, native/client-*), the HTTP/1.1 + h2c listener named
 * "http" that sniffs the connection preface, and the gRPC helpers. Owns: wiring only. Must never: hold per-connection
 * state.
 */
import type { Duplex } from 'node:stream';
import type { ListenerLimits, ListenerProtocol, ServeContext, ServerConnection, UpstreamProtocol } from '../../api/codec';
import type { PoolOptions, UpstreamPool } from '../../api/stream';
import type { Clock } from '../../api/clock';
import { NativeH2Connection } from './native/connection';
import { H2Pool } from './pool';
import { matchHttp2Preface } from './sniff';
import { effectiveH2Limits, type H2BaseOptions, type H2Limits } from './protect';

export { NativeH2Connection } from './native/connection';
export { NativeH2Stream } from './native/stream';
export { H2Pool } from './pool';
export { H2FloodGuard, H2_LIMIT_DEFAULTS, effectiveH2Limits } from './protect';
export type { H2Limits, FloodKind, H2BaseOptions } from './protect';
export { httpAutoListenerProtocol, matchHttp2Preface, H2_PREFACE } from './sniff';
export {
  GrpcStatus,
  isGrpc,
  grpcStatusFromReply,
  grpcStatusFromHttp,
  parseGrpcTimeout,
  formatGrpcTimeout,
  encodeGrpcMessage,
  decodeGrpcMessage,
} from './grpc';
export { requestMapFromRaw, requestKvH2, responseKvH2, isConnectionSpecific } from './headers';

/**
 * A downstream HTTP/2 (h2c, prior knowledge) listener protocol with the given tunables; a
 * listener's `http2` config section (ServeContext.limits.http2) overrides them.
 */
export function createHttp2Listener(options: H2BaseOptions = {}): ListenerProtocol {
  const opts = { ...options };
  // Effective limits per listener generation (its limits object), computed once.
  const byLimits = new WeakMap<ListenerLimits, H2Limits>();
  return {
    name: 'http2',
    match: matchHttp2Preface,
    serve(socket: Duplex, ctx: ServeContext): ServerConnection {
      let lim = byLimits.get(ctx.limits);
      if (lim === undefined) {
        lim = effectiveH2Limits(opts, ctx.limits);
        byLimits.set(ctx.limits, lim);
      }
      return new NativeH2Connection(socket, ctx, lim);
    },
  };
}

export const http2Listener: ListenerProtocol = createHttp2Listener();

export const http2Upstream: UpstreamProtocol = {
  name: 'http2',
  createPool(endpoint: { host: string; port: number }, options: PoolOptions, clock: Clock): UpstreamPool {
    return new H2Pool(endpoint, options, clock);
  },
};
