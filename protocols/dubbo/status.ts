/**
 * Dubbo response statuses and their mapping to and from HTTP-equivalent statuses and the proxy's
 * local-reply reasons. Must never: depend on frames or I/O.
 */
import type { LocalReply } from '../../src/api';

export const OK = 20;
export const CLIENT_TIMEOUT = 30;
export const SERVER_TIMEOUT = 31;
export const BAD_REQUEST = 40;
export const BAD_RESPONSE = 50;
export const SERVICE_NOT_FOUND = 60;
export const SERVICE_ERROR = 70;
export const SERVER_ERROR = 80;
export const CLIENT_ERROR = 90;
export const SERVER_THREADPOOL_EXHAUSTED = 100;

/** HTTP-equivalent of a Dubbo response status (unknown statuses: 500). */
export function httpStatusOf(status: number): number {
  switch (status) {
    case OK:
      return 200;
    case CLIENT_TIMEOUT:
    case SERVER_TIMEOUT:
      return 504;
    case BAD_REQUEST:
    case CLIENT_ERROR:
      return 400;
    case BAD_RESPONSE:
      return 502;
    case SERVICE_NOT_FOUND:
      return 404;
    case SERVER_THREADPOOL_EXHAUSTED:
      return 503;
    default:
      return 500; // 70 service error, 80 server error, anything unknown
  }
}

/** Dubbo status closest to an HTTP status (used where the reason alone does not decide). */
export function dubboStatusOfHttp(http: number): number {
  if (http >= 200 && http < 300) return OK;
  if (http === 404) return SERVICE_NOT_FOUND;
  if (http === 408 || http === 504) return SERVER_TIMEOUT;
  if (http === 429 || http === 503) return SERVER_THREADPOOL_EXHAUSTED;
  if (http === 502) return BAD_RESPONSE;
  if (http >= 400 && http < 500) return BAD_REQUEST;
  return SERVER_ERROR;
}

/**
 * Dubbo status of a local reply. By reason: no route / no healthy endpoint → 60 (no provider
 * serves the service), timeout → 31, overflow / rate limited → 100 (server busy), bad request /
 * payload too large → 40, upstream protocol error → 50, connect failure / reset / draining /
 * internal error → 80. Filter denials, direct responses and anything else follow the reply's
 * HTTP status (a filter denying with 403 gives 40, with 429 gives 100, with 500 gives 80).
 */
export function dubboStatusOfReply(reply: LocalReply): number {
  switch (reply.reason) {
    case 'no_route':
    case 'no_healthy_endpoint':
      return SERVICE_NOT_FOUND;
    case 'timeout':
      return SERVER_TIMEOUT;
    case 'overflow':
    case 'rate_limited':
      return SERVER_THREADPOOL_EXHAUSTED;
    case 'bad_request':
    case 'payload_too_large':
      return BAD_REQUEST;
    case 'upstream_protocol_error':
      return BAD_RESPONSE;
    case 'connect_failure':
    case 'upstream_reset':
    case 'draining':
    case 'internal_error':
      return SERVER_ERROR;
    default:
      return dubboStatusOfHttp(reply.status);
  }
}
