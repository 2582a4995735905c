/**
 * Bolt response statuses (com.alipay.remoting.ResponseStatus) and their mapping to and from the
 * HTTP-equivalent statuses the proxy's stats, retries and local replies speak.
 * Must never: depend on anything but the API types.
 *
 * Bolt → HTTP: 0 SUCCESS 200; 1 ERROR, 2 SERVER_EXCEPTION, 3 UNKNOWN 500; 4 SERVER_THREADPOOL_BUSY
 * 503; 5 ERROR_COMM, 8 CLIENT_SEND_ERROR, 16 CONNECTION_CLOSED 502; 6 NO_PROCESSOR 404; 7 TIMEOUT
 * 504; 9 CODEC_EXCEPTION, 17 SERVER_SERIAL_EXCEPTION, 18 SERVER_DESERIAL_EXCEPTION and anything
 * else 500.
 * Local reply reason → Bolt: no_route, no_healthy_endpoint → 6; timeout → 7; overflow,
 * rate_limited → 4; connect_failure, upstream_reset, upstream_protocol_error → 5; draining → 16;
 * other reasons by reply.status (boltStatusForHttp): 2xx → 0, 404 → 6, 429/503 → 4, 504/408 → 7,
 * 502 → 5, else 2.
 */
import type { LocalReply } from '../../src/api';

export const BoltStatus = {
  SUCCESS: 0,
  ERROR: 1,
  SERVER_EXCEPTION: 2,
  UNKNOWN: 3,
  SERVER_THREADPOOL_BUSY: 4,
  ERROR_COMM: 5,
  NO_PROCESSOR: 6,
  TIMEOUT: 7,
  CLIENT_SEND_ERROR: 8,
  CODEC_EXCEPTION: 9,
  CONNECTION_CLOSED: 16,
  SERVER_SERIAL_EXCEPTION: 17,
  SERVER_DESERIAL_EXCEPTION: 18,
} as const;

export function httpStatusOf(bolt: number): number {
  switch (bolt) {
    case 0:
      return 200;
    case 4:
      return 503;
    case 5:
    case 8:
    case 16:
      return 502;
    case 6:
      return 404;
    case 7:
      return 504;
    default:
      return 500;
  }
}

export function boltStatusFor(reply: LocalReply): number {
  switch (reply.reason) {
    case 'no_route':
    case 'no_healthy_endpoint':
      return BoltStatus.NO_PROCESSOR;
    case 'timeout':
      return BoltStatus.TIMEOUT;
    case 'overflow':
    case 'rate_limited':
      return BoltStatus.SERVER_THREADPOOL_BUSY;
    case 'connect_failure':
    case 'upstream_reset':
    case 'upstream_protocol_error':
      return BoltStatus.ERROR_COMM;
    case 'draining':
      return BoltStatus.CONNECTION_CLOSED;
    default:
      break;
  }
  // A local reply is never a success: a 2xx direct response has no SofaResponse to carry.
  const s = boltStatusForHttp(reply.status);
  return s === BoltStatus.SUCCESS ? BoltStatus.SERVER_EXCEPTION : s;
}

/** Bolt status for an HTTP-equivalent status (200–299 → SUCCESS). */
export function boltStatusForHttp(status: number): number {
  if (status >= 200 && status < 300) return BoltStatus.SUCCESS;
  switch (status) {
    case 404:
      return BoltStatus.NO_PROCESSOR;
    case 429:
    case 503:
      return BoltStatus.SERVER_THREADPOOL_BUSY;
    case 408:
    case 504:
      return BoltStatus.TIMEOUT;
    case 502:
      return BoltStatus.ERROR_COMM;
    default:
      return BoltStatus.SERVER_EXCEPTION;
  }
}
