/**
 * What every engine path (ActiveStream, the RPC lane) writes when a stream finishes: the access-log
 * entry built from the stream and its outcome, and the request ids of RPC streams
 * (`<process id>-<sequence>`: unique per process run, cheap to make).
 * Must never: read the clock (callers pass `now`), or differ between engine paths for one request.
 */
import { randomBytes } from 'node:crypto';
import type { LocalReplyReason, ServerStream } from '../api';
import type { AccessLogEntry } from '../observability/access-log';
import type { StreamEnv } from './stream-env';

const BOOT_ID = randomBytes(6).toString('hex');
let rpcSeq = 0;

/** A fresh request id for an RPC stream (RPC frames carry none the proxy could use). */
export function nextRpcRequestId(): string {
  return `${BOOT_ID}-${(++rpcSeq).toString(36)}`;
}

/** The outcome of a stream as the access log reports it. */
export interface StreamOutcome {
  route: string | null;
  cluster: string | null;
  upstream: string | null;
  status: number;
  reason: LocalReplyReason | null;
  requestId: string;
  /** The stream is an RPC frame: its method and service stand in for :method and :authority. */
  rpc: boolean;
  /** Bytes a tunnel carried after a 101, added to the stream's own counts. */
  tunnelIn?: number;
  tunnelOut?: number;
}

export function accessLogEntry(env: StreamEnv, stream: ServerStream, now: number, o: StreamOutcome): AccessLogEntry {
  const h = stream.headers;
  const start = stream.startTime;
  return {
    time: env.clock.wallNow() - (now - start),
    listener: env.listener,
    route: o.route,
    cluster: o.cluster,
    upstream: o.upstream,
    protocol: stream.protocol,
    method: (o.rpc ? h.get('method') : h.get(':method')) ?? null,
    authority: (o.rpc ? h.get('service') : h.get(':authority')) ?? null,
    path: o.rpc ? null : h.get(':path') ?? null,
    status: o.status,
    reason: o.reason,
    bytes_in: stream.bytesReceived + (o.tunnelIn ?? 0),
    bytes_out: stream.bytesSent + (o.tunnelOut ?? 0),
    duration_ms: Math.round((now - start) * 1000) / 1000,
    request_id: o.requestId,
  };
}
