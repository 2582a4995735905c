/**
 * The receive side of one HTTP/2 stream as the engine sees it, shared by the server stream (the
 * request body) and the client exchange (the response body): chunks go straight to the consumer
 * while it takes them; while it is paused (or not ready yet) they are held — and the stream's
 * receive window is only replenished as they are handed over, so the peer stops at the window —
 * then delivered in order, the end last, from a later tick once it resumes.
 * Must never: deliver out of order, deliver while paused, or replenish a window for bytes held.
 */
import type { HeaderMap } from '../../../api/headers';

export interface InboxTarget {
  /** Whether chunks may be handed over now (a consumer is attached and the stream still lives). */
  inboxReady(): boolean;
  /** `n` bytes were handed over: replenish the stream's receive window. */
  inboxConsumed(n: number): void;
  inboxData(chunk: Buffer): void;
  inboxEnd(trailers: HeaderMap | null): void;
}

export class BodyInbox {
  private paused = false;
  private chunks: Buffer[] | null = null;
  private ended = false;
  private trailers: HeaderMap | null = null;
  private scheduled = false;

  constructor(private readonly target: InboxTarget) {}

  /** Chunks or the end are being held. */
  get holding(): boolean {
    return this.chunks !== null || this.ended;
  }

  data(chunk: Buffer): void {
    if (this.direct()) {
      this.target.inboxConsumed(chunk.length);
      this.target.inboxData(chunk);
    } else {
      (this.chunks ??= []).push(chunk);
    }
  }

  end(trailers: HeaderMap | null): void {
    if (this.direct()) {
      this.target.inboxEnd(trailers);
      return;
    }
    this.ended = true;
    this.trailers = trailers;
    this.kick();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.kick();
  }

  /** Delivery may have become possible (resumed, or a consumer attached): deliver from a later tick. */
  kick(): void {
    if (this.paused || this.scheduled || !this.holding) return;
    this.scheduled = true;
    process.nextTick(deliverHeld, this);
  }

  /** Drops whatever is held (the stream was aborted or its request side cut short). */
  clear(): void {
    this.chunks = null;
    this.ended = false;
    this.trailers = null;
  }

  /** Hands held chunks (then the end) over until paused. */
  deliver(): void {
    this.scheduled = false;
    const t = this.target;
    if (!t.inboxReady()) return;
    const chunks = this.chunks;
    if (chunks !== null) {
      while (chunks.length > 0 && !this.paused) {
        const c = chunks.shift()!;
        t.inboxConsumed(c.length);
        t.inboxData(c);
        if (!t.inboxReady()) return;
      }
      if (chunks.length > 0) return;
      this.chunks = null;
    }
    if (this.ended && !this.paused) {
      const tr = this.trailers;
      this.ended = false;
      this.trailers = null;
      t.inboxEnd(tr);
    }
  }

  private direct(): boolean {
    return !this.paused && this.chunks === null && !this.scheduled && this.target.inboxReady();
  }
}

function deliverHeld(inbox: BodyInbox): void {
  inbox.deliver();
}
