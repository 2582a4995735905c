/**
 * Out-of-band HTTP calls from filters (ext-authz, WASM proxy_http_call): one request to an
 * endpoint of a named cluster through its pool, the whole response collected, with a timeout.
 * Must never: buffer more than the cap, or leave the exchange open after it settles.
 */
import { HeaderMap, UpstreamError, type Clock, type HttpCallRequest, type HttpCallResponse } from '../api';
import type { EngineCluster } from './stream-env';

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export function httpCall(
  cluster: EngineCluster | undefined,
  req: HttpCallRequest,
  clock: Clock,
): Promise<HttpCallResponse> {
  return new Promise((resolve, reject) => {
    if (cluster === undefined) return reject(new Error(`unknown cluster "${req.cluster}"`));
    const ep = cluster.pick(null);
    if (ep === null) return reject(new Error(`no healthy endpoint in cluster "${req.cluster}"`));
    const headers = req.headers.clone();
    if (!headers.has(':method')) headers.set(':method', req.body !== undefined && req.body.length > 0 ? 'POST' : 'GET');
    if (!headers.has(':path')) headers.set(':path', '/');
    if (!headers.has(':authority')) headers.set(':authority', req.cluster);
    if (!headers.has(':scheme')) headers.set(':scheme', 'http');
    const body = req.body;
    if (body !== undefined && body.length > 0) headers.set('content-length', String(body.length));
    const chunks: Buffer[] = [];
    let size = 0;
    let head: HeaderMap | null = null;
    let settled = false;
    const started = clock.now();
    const settle = (err: Error | null, trailers: HeaderMap | null = null) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      cluster.requestFinished(ep, err === null, clock.now() - started);
      if (err !== null) reject(err);
      else resolve({ headers: head as HeaderMap, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), trailers });
    };
    const timer = clock.setTimer(() => {
      up.abort();
      settle(new UpstreamError('reset', `http call to "${req.cluster}" timed out after ${req.timeoutMs} ms`));
    }, req.timeoutMs);
    cluster.requestStarted(ep);
    const hasBody = body !== undefined && body.length > 0;
    const up = ep.pool.request(headers, !hasBody, {
      onHeaders(h, end) {
        head = h;
        if (end) settle(null);
      },
      onData(c) {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) {
          up.abort();
          return settle(new Error(`http call response from "${req.cluster}" exceeds ${MAX_RESPONSE_BYTES} bytes`));
        }
        chunks.push(c);
      },
      onEnd(trailers) {
        settle(null, trailers);
      },
      onError(err) {
        settle(err);
      },
    });
    if (hasBody) {
      up.write(body);
      up.end(null);
    }
  });
}
