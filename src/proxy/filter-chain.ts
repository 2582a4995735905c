/**
 * FilterChainRunner: runs one direction (request or response) of a stream through its filters —
 * headers, body chunks, trailers, in order — honouring `continue`, `stop` (hold, resumed later),
 * body `stop` (buffer, bounded) and Promise results, then hands the result to a sink.
 * Must never: know about routing, upstreams or codecs; allocate on the path of a filter that
 * continues synchronously (the common case).
 */
import type { FilterContext, FilterResult, FilterStatus, HeaderMap, StreamFilter } from '../api';

export type Direction = 'request' | 'response';

/** Where a direction's output goes once every filter has passed it on. */
export interface ChainSink {
  headers(headers: HeaderMap, endStream: boolean): void;
  data(chunk: Buffer, endStream: boolean): void;
  trailers(trailers: HeaderMap): void;
}

export interface ChainEvents {
  /** A filter failed (threw or rejected): the owner answers or resets the stream. */
  onFilterError(err: unknown): void;
  /** Buffered bytes exceeded the limit. */
  onBufferOverflow(): void;
  /** Queued input is above the watermark / back below it: pause or resume the source. */
  pauseSource(): void;
  resumeSource(): void;
  /** True once the stream has been answered locally or reset: stop everything. */
  isDone(): boolean;
}

const enum Ev {
  Data,
  Trailers,
}

interface QueuedEvent {
  kind: Ev;
  chunk: Buffer | null;
  end: boolean;
  trailers: HeaderMap | null;
}

const QUEUE_WATERMARK = 64 * 1024;

function isPromise(r: FilterResult): r is Promise<FilterStatus | void> {
  return r !== undefined && typeof r !== 'string';
}

export class FilterChainRunner {
  private headersPassed = false;
  private paused = false;
  private readonly queue: QueuedEvent[] = [];
  private queuedBytes = 0;
  private sourcePaused = false;
  /** Per-filter body buffers, made on the first body chunk (a bodiless stream allocates none). */
  private buffers: Buffer[][] | null = null;
  private bufferBytes: number[] | null = null;
  /** Filter whose body hook is running now (for ctx.bufferedBody). */
  current = -1;
  private resumeAt: (() => void) | null = null;

  constructor(
    private readonly dir: Direction,
    private readonly filters: readonly StreamFilter[],
    private readonly ctx: FilterContext,
    private readonly sink: ChainSink,
    private readonly events: ChainEvents,
    private readonly maxBufferBytes: number,
  ) {
  }

  // ---- input ---------------------------------------------------------------------------------

  headers(headers: HeaderMap, endStream: boolean): void {
    this.runHeaders(headers, endStream, 0);
  }

  data(chunk: Buffer, endStream: boolean): void {
    if (this.paused || !this.headersPassed) return this.enqueue({ kind: Ev.Data, chunk, end: endStream, trailers: null });
    this.runData(chunk, endStream, 0);
  }

  trailers(trailers: HeaderMap): void {
    if (this.paused || !this.headersPassed) return this.enqueue({ kind: Ev.Trailers, chunk: null, end: true, trailers });
    this.runTrailers(trailers, 0);
  }

  /** ctx.continueRequest()/continueResponse(): resumes a chain held by a `stop`. */
  resume(): void {
    const r = this.resumeAt;
    if (r === null) return;
    this.resumeAt = null;
    this.paused = false;
    r();
  }

  bufferedBody(): Buffer {
    const i = this.current;
    if (i < 0 || this.buffers === null) return Buffer.alloc(0);
    const b = this.buffers[i];
    return b.length === 1 ? b[0] : Buffer.concat(b);
  }

  setBufferedBody(body: Buffer): void {
    const i = this.current;
    if (i < 0 || this.buffers === null || this.bufferBytes === null) {
      throw new Error('setBufferedBody() is only valid inside a body hook');
    }
    this.buffers[i] = [body];
    this.bufferBytes[i] = body.length;
  }

  // ---- phases --------------------------------------------------------------------------------

  private runHeaders(headers: HeaderMap, end: boolean, from: number): void {
    const fs = this.filters;
    for (let i = from; i < fs.length; i++) {
      const f = fs[i];
      const hook = this.dir === 'request' ? f.onRequestHeaders : f.onResponseHeaders;
      if (hook === undefined) continue;
      let r: FilterResult;
      try {
        r = hook.call(f, this.ctx, headers, end);
      } catch (err) {
        return this.events.onFilterError(err);
      }
      if (this.events.isDone()) return;
      if (r === undefined || r === 'continue') continue;
      this.hold(() => this.runHeaders(headers, end, i + 1));
      if (r !== 'stop') this.settle(r);
      return;
    }
    this.headersPassed = true;
    this.sink.headers(headers, end);
    this.drainQueue();
  }

  private runData(chunk: Buffer, end: boolean, from: number): void {
    const fs = this.filters;
    if (this.buffers === null) {
      this.buffers = fs.map(() => []);
      this.bufferBytes = fs.map(() => 0);
    }
    const buffers = this.buffers;
    const bytes = this.bufferBytes as number[];
    for (let i = from; i < fs.length; i++) {
      const f = fs[i];
      const hook = this.dir === 'request' ? f.onRequestBody : f.onResponseBody;
      if (hook === undefined) continue;
      buffers[i].push(chunk);
      bytes[i] += chunk.length;
      let r: FilterResult;
      this.current = i;
      try {
        r = hook.call(f, this.ctx, chunk, end);
      } catch (err) {
        this.current = -1;
        return this.events.onFilterError(err);
      } finally {
        this.current = -1;
      }
      if (this.events.isDone()) return;
      if (r === undefined || r === 'continue') {
        chunk = this.takeBuffer(i);
        continue;
      }
      if (bytes[i] > this.maxBufferBytes) return this.events.onBufferOverflow();
      if (r === 'stop') {
        // Buffering: at end of stream the filter must resume the chain itself.
        if (end) this.hold(() => this.runData(this.takeBuffer(i), end, i + 1));
        return;
      }
      this.hold(() => this.runData(this.takeBuffer(i), end, i + 1), () => {
        if (end) this.hold(() => this.runData(this.takeBuffer(i), end, i + 1));
        else this.drainQueue();
      });
      this.settle(r);
      return;
    }
    this.sink.data(chunk, end);
  }

  private runTrailers(trailers: HeaderMap, from: number): void {
    const fs = this.filters;
    for (let i = from; i < fs.length; i++) {
      const f = fs[i];
      const hook = this.dir === 'request' ? f.onRequestTrailers : f.onResponseTrailers;
      let r: FilterResult = undefined;
      if (hook !== undefined) {
        try {
          r = hook.call(f, this.ctx, trailers);
        } catch (err) {
          return this.events.onFilterError(err);
        }
        if (this.events.isDone()) return;
      }
      if (r === undefined || r === 'continue') {
        this.flushBuffered(i);
        if (this.events.isDone()) return;
        continue;
      }
      this.hold(() => {
        this.flushBuffered(i);
        if (!this.events.isDone()) this.runTrailers(trailers, i + 1);
      });
      if (r !== 'stop') this.settle(r);
      return;
    }
    this.sink.trailers(trailers);
  }

  /** Data a filter held when trailers arrived goes on (not ending the stream) before them. */
  private flushBuffered(i: number): void {
    if (this.buffers === null || this.buffers[i].length === 0) return;
    const body = this.takeBuffer(i);
    this.runData(body, false, i + 1);
  }

  private takeBuffer(i: number): Buffer {
    const b = (this.buffers as Buffer[][])[i];
    const out = b.length === 1 ? b[0] : b.length === 0 ? Buffer.alloc(0) : Buffer.concat(b);
    b.length = 0;
    (this.bufferBytes as number[])[i] = 0;
    return out;
  }

  // ---- holding and resuming ------------------------------------------------------------------

  /** Holds the chain: events queue until resume() runs `next`. `onStop` runs if a promise says stop. */
  private hold(next: () => void, onStop?: () => void): void {
    this.paused = true;
    this.resumeAt = () => {
      next();
      if (!this.paused) this.drainQueue();
    };
    this.onAsyncStop = onStop ?? null;
  }

  private onAsyncStop: (() => void) | null = null;

  private settle(p: Promise<FilterStatus | void>): void {
    p.then(
      (s) => {
        if (this.events.isDone()) return;
        if (s === 'stop') {
          const onStop = this.onAsyncStop;
          this.onAsyncStop = null;
          if (onStop !== null) {
            this.paused = false;
            this.resumeAt = null;
            onStop();
          }
          // headers/trailers stop: stays held until ctx.continue*()
          return;
        }
        this.resume();
      },
      (err) => {
        if (!this.events.isDone()) this.events.onFilterError(err);
      },
    );
  }

  private enqueue(ev: QueuedEvent): void {
    this.queue.push(ev);
    if (ev.chunk !== null) {
      this.queuedBytes += ev.chunk.length;
      if (this.queuedBytes > this.maxBufferBytes) return this.events.onBufferOverflow();
      if (!this.sourcePaused && this.queuedBytes > QUEUE_WATERMARK) {
        this.sourcePaused = true;
        this.events.pauseSource();
      }
    }
  }

  private drainQueue(): void {
    const q = this.queue;
    while (q.length > 0 && !this.paused && this.headersPassed && !this.events.isDone()) {
      const ev = q.shift() as QueuedEvent;
      if (ev.kind === Ev.Data) {
        this.queuedBytes -= (ev.chunk as Buffer).length;
        this.runData(ev.chunk as Buffer, ev.end, 0);
      } else {
        this.runTrailers(ev.trailers as HeaderMap, 0);
      }
    }
    if (this.sourcePaused && this.queuedBytes <= QUEUE_WATERMARK / 2 && !this.events.isDone()) {
      this.sourcePaused = false;
      this.events.resumeSource();
    }
  }
}
