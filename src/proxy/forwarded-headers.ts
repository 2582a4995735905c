/**
 * Forwarded headers: what an L7 proxy tells the upstream about the original request —
 * x-forwarded-for (the peer appended), x-forwarded-proto (the downstream scheme, overwritten:
 * this proxy is the one that knows it), x-forwarded-host (the original authority, kept when a
 * previous proxy set it). Must never: touch anything else.
 */
import type { ConnectionInfo, HeaderMap } from '../api';

export function setForwardedHeaders(h: HeaderMap, conn: ConnectionInfo): void {
  const peer = conn.remoteAddress;
  const xff = h.get('x-forwarded-for');
  h.set('x-forwarded-for', xff === undefined || xff === '' ? peer : `${xff}, ${peer}`);
  h.set('x-forwarded-proto', conn.tls ? 'https' : 'http');
  if (!h.has('x-forwarded-host')) {
    const authority = h.get(':authority');
    if (authority !== undefined) h.add('x-forwarded-host', authority);
  }
}
