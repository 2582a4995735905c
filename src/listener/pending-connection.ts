/**
 * PendingConnection: a downstream connection before its codec has it (while sniffing the first
 * bytes, during a TLS handshake), then a thin forwarder to the codec's connection. Owns the
 * ServerConnection contract in between: drain/destroy close the raw socket, close callbacks are
 * queued and moved to the codec's connection at hand-off, or run if the socket closes first.
 * Must never: read or write the socket's bytes (subclasses decide what to do with them).
 */
import type { Duplex } from 'node:stream';
import type { ServerConnection, TimerHandle } from '../api';

export abstract class PendingConnection implements ServerConnection {
  protected inner: ServerConnection | null = null;
  /** Close callbacks waiting for the hand-off; null once handed off or closed. */
  protected closeCbs: Array<() => void> | null = [];
  protected timer: TimerHandle | null = null;
  protected draining = false;

  constructor(protected readonly raw: Duplex) {}

  get activeStreams(): number {
    return this.inner === null ? 0 : this.inner.activeStreams;
  }

  drain(): void {
    this.draining = true;
    if (this.inner !== null) this.inner.drain();
    else this.raw.destroy();
  }

  destroy(): void {
    if (this.inner !== null) this.inner.destroy();
    else this.raw.destroy();
  }

  onClose(cb: () => void): void {
    if (this.inner !== null) this.inner.onClose(cb);
    else if (this.closeCbs === null) cb();
    else this.closeCbs.push(cb);
  }

  /** The codec's connection takes over: queued close callbacks move to it. */
  protected adopt(inner: ServerConnection): void {
    this.inner = inner;
    const cbs = this.closeCbs;
    this.closeCbs = null;
    if (cbs !== null) for (const cb of cbs) inner.onClose(cb);
  }

  /** The socket closed before any hand-off: run the queued close callbacks, once. */
  protected closedBeforeHandOff(): void {
    if (this.inner !== null) return;
    const cbs = this.closeCbs;
    this.closeCbs = null;
    if (cbs !== null) for (const cb of cbs) cb();
  }

  protected cancelTimer(): void {
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
  }
}
