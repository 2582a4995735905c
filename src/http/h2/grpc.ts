/**
 * gRPC helpers the HTTP/2 codecs (and the engine) need: content-type detection, the gRPC status
 * of a local reply, grpc-timeout parsing/formatting and grpc-message percent-encoding.
 * Must never: touch sockets or streams, or decode gRPC messages.
 */
import type { HeaderMap } from '../../api/headers';
import type { LocalReply } from '../../api/stream';

/** gRPC status codes used here (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** True when the request (or response) carries a gRPC content-type (`application/grpc[+proto|...]`). */
export function isGrpc(headers: HeaderMap): boolean {
  const ct = headers.get('content-type');
  return ct !== undefined && ct.length >= 16 && ct.startsWith('application/grpc');
}

/** HTTP status → gRPC status, as the gRPC spec maps it (doc/http-grpc-status-mapping.md). */
export function grpcStatusFromHttp(status: number): number {
  switch (status) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/** The gRPC status a local reply is rendered with: explicit, else by reason, else by HTTP status. */
export function grpcStatusFromReply(reply: LocalReply): number {
  if (reply.grpcStatus !== undefined) return reply.grpcStatus;
  switch (reply.reason) {
    case 'no_route':
      return GrpcStatus.UNIMPLEMENTED;
    case 'no_healthy_endpoint':
    case 'connect_failure':
    case 'upstream_reset':
    case 'overflow':
    case 'draining':
      return GrpcStatus.UNAVAILABLE;
    case 'timeout':
      return GrpcStatus.DEADLINE_EXCEEDED;
    case 'rate_limited':
    case 'payload_too_large':
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 'filter_denied':
      return reply.status === 401 ? GrpcStatus.UNAUTHENTICATED : GrpcStatus.PERMISSION_DENIED;
    case 'bad_request':
    case 'upstream_protocol_error':
    case 'internal_error':
      return GrpcStatus.INTERNAL;
    default:
      return grpcStatusFromHttp(reply.status);
  }
}

const HEX = '0123456789ABCDEF';

/** Percent-encodes a grpc-message value: UTF-8 bytes outside 0x20–0x7E, and '%', become %XX. */
export function encodeGrpcMessage(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  const b = Buffer.from(s, 'utf8');
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c >= 0x20 && c <= 0x7e && c !== 0x25) out += String.fromCharCode(c);
    else out += '%' + HEX[c >> 4] + HEX[c & 15];
  }
  return out;
}

/** Decodes a percent-encoded grpc-message (lenient: a malformed escape is kept as-is). */
export function decodeGrpcMessage(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Parses a grpc-timeout value ("1-8 ASCII digits" + unit H M S m u n) into milliseconds, or null
 * when it is malformed.
 */
export function parseGrpcTimeout(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = v.length - 1;
  if (n < 1 || n > 8) return null;
  let x = 0;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return null;
    x = x * 10 + c;
  }
  switch (v.charCodeAt(n)) {
    case 0x48: // H
      return x * 3_600_000;
    case 0x4d: // M
      return x * 60_000;
    case 0x53: // S
      return x * 1000;
    case 0x6d: // m
      return x;
    case 0x75: // u
      return x / 1000;
    case 0x6e: // n
      return x / 1_000_000;
    default:
      return null;
  }
}

const MAX8 = 99_999_999;

/**
 * Formats milliseconds as a grpc-timeout value with at most 8 digits, rounding up so a deadline
 * is never shortened by the encoding. Zero or negative gives "0n" (already expired).
 */
export function formatGrpcTimeout(ms: number): string {
  if (!(ms > 0)) return '0n';
  if (Number.isInteger(ms) && ms <= MAX8) return ms + 'm';
  const us = Math.ceil(ms * 1000);
  if (us <= MAX8) return us + 'u';
  const m = Math.ceil(ms);
  if (m <= MAX8) return m + 'm';
  const s = Math.ceil(ms / 1000);
  if (s <= MAX8) return s + 'S';
  const min = Math.ceil(ms / 60_000);
  if (min <= MAX8) return min + 'M';
  return Math.min(Math.ceil(ms / 3_600_000), MAX8) + 'H';
}
