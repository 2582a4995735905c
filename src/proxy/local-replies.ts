/**
 * Local replies for upstream failures: maps a pool's failure kind to the HTTP-equivalent status
 * and the reason stats and access logs carry. Must never: render protocol bytes (codecs do).
 */
import type { LocalReply, UpstreamError } from '../api';

export function upstreamFailureReply(err: UpstreamError): LocalReply {
  switch (err.kind) {
    case 'connect_failure':
    case 'connect_timeout':
      return { status: 503, reason: 'connect_failure', body: 'upstream connect error\n', details: err.message };
    case 'overflow':
      return { status: 503, reason: 'overflow', body: 'upstream overflow\n', details: err.message };
    case 'protocol_error':
      return { status: 502, reason: 'upstream_protocol_error', body: 'invalid upstream response\n', details: err.message };
    case 'reset':
    default:
      return { status: 503, reason: 'upstream_reset', body: 'upstream reset before response\n', details: err.message };
  }
}
