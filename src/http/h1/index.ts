/**
 * The HTTP/1.1 codec on raw `net` sockets: a ListenerProtocol and an UpstreamProtocol, both
 * named "http". Owns: wiring and protocol sniffing. Must never: hold per-connection state.
 */
import type { Duplex } from 'node:stream';
import type { ListenerProtocol, MatchResult, ServeContext, ServerConnection, UpstreamProtocol } from '../../api/codec';
import type { PoolOptions, UpstreamPool } from '../../api/stream';
import type { Clock } from '../../api/clock';
import { H1ServerConnection } from './server-connection';
import { H1Pool } from './pool';
import { TCHAR } from './chars';

export { H1Parser, H1Head, H1ParseError } from './parser';
export type { H1ParserHandler } from './parser';
export { H1ServerConnection } from './server-connection';
export { H1ServerStream } from './server-stream';
export { H1Pool } from './pool';

/**
 * Sniffs an HTTP/1.x request: an upper-case method token (3–16 chars) followed by a space.
 * The HTTP/2 preface ("PRI * HTTP/2.0") is not ours.
 */
export function matchHttp1(head: Buffer): MatchResult {
  const n = head.length < 17 ? head.length : 17;
  for (let i = 0; i < n; i++) {
    const c = head[i];
    if (c === 0x20) {
      if (i < 3) return 'no';
      return i === 3 && head[0] === 0x50 && head[1] === 0x52 && head[2] === 0x49 ? 'no' : 'yes';
    }
    if (c < 0x41 || c > 0x5a || TCHAR[c] !== 1) return 'no';
  }
  return n === head.length && n < 17 ? 'need-more' : 'no';
}

export const http1Listener: ListenerProtocol = {
  name: 'http',
  match: matchHttp1,
  serve(socket: Duplex, ctx: ServeContext): ServerConnection {
    return new H1ServerConnection(socket, ctx);
  },
};

export const http1Upstream: UpstreamProtocol = {
  name: 'http',
  createPool(endpoint: { host: string; port: number }, options: PoolOptions, clock: Clock): UpstreamPool {
    return new H1Pool(endpoint, options, clock);
  },
};
