/**
 * Request mirroring: a fire-and-forget copy of a request to a shadow cluster. The copy's
 * `:authority` gets a `-shadow` suffix (as Envoy does); its response is read and dropped. It never
 * affects the primary: a shadow that cannot keep up is abandoned rather than slowing the client.
 * Must never: delay, fail or reorder the primary request.
 */
import type { Clock, HeaderMap, TimerHandle, UpstreamRequest, UpstreamResponseHandler } from '../api';
import type { EngineCluster, EngineEndpoint } from './stream-env';

const DISCARD_LIMIT = 1024 * 1024;

class ShadowHandler implements UpstreamResponseHandler {
  constructor(private readonly m: Mirror) {}
  onHeaders(_h: HeaderMap, end: boolean): void {
    if (end) this.m.finish(true);
  }
  onData(): void {}
  onEnd(): void {
    this.m.finish(true);
  }
  onError(): void {
    this.m.finish(false);
  }
}

export class Mirror {
  private req: UpstreamRequest | null = null;
  private sent = 0;
  private finished = false;
  private timer: TimerHandle | null = null;

  private constructor(private readonly cluster: EngineCluster, private readonly ep: EngineEndpoint) {}

  /** Starts the shadow request; null when the shadow cluster has no endpoint. */
  static start(cluster: EngineCluster, headers: HeaderMap, endStream: boolean, clock: Clock, timeoutMs: number): Mirror | null {
    const ep = cluster.pick(null);
    if (ep === null) return null;
    const h = headers.clone();
    const authority = h.get(':authority');
    if (authority !== undefined) {
      const colon = authority.lastIndexOf(':');
      const hasPort = colon > 0 && authority.indexOf(']', colon) < 0;
      h.set(':authority', hasPort ? `${authority.slice(0, colon)}-shadow${authority.slice(colon)}` : `${authority}-shadow`);
    }
    const m = new Mirror(cluster, ep);
    // A shadow gets the route's timeout like the primary; it must not hold a connection forever.
    if (timeoutMs > 0) m.timer = clock.setTimer(() => m.abort(), timeoutMs);
    cluster.requestStarted(ep);
    m.req = ep.pool.request(h, endStream, new ShadowHandler(m));
    return m;
  }

  write(chunk: Buffer): void {
    const r = this.req;
    if (r === null || this.finished) return;
    this.sent += chunk.length;
    // A shadow that pushes back is dropped, never waited for.
    if (!r.write(chunk) && this.sent > DISCARD_LIMIT) this.abort();
  }

  end(trailers: HeaderMap | null): void {
    if (this.req !== null && !this.finished) this.req.end(trailers);
  }

  abort(): void {
    if (this.finished) return;
    const r = this.req;
    this.finish(false);
    if (r !== null) r.abort();
  }

  finish(ok: boolean): void {
    if (this.finished) return;
    this.finished = true;
    this.req = null;
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    this.cluster.requestFinished(this.ep, ok);
  }
}
