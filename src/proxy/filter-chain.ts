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
  /** Events held while the chain is paused; made on first use. */
  private queue: QueuedEvent[] | null = null;
  private queuedBytes = 0;
  private sourcePaused = false;
  /** Per-filter body buffers, made on the first body chunk (a bodiless stream allocates none). */
  private buffers: Buffer[][] | null = null;
  private bufferBytes: number[] | null = null;
  /** Filter whose body hook is running now (for ctx.bufferedBody). */
  current = -1;
  /**
   * The chunk the running body hook sees when its filter holds nothing buffered: passed through
   * without touching the per-filter buffers (which exist only once a filter buffers).
   */
  private passChunk: Buffer | null = null;
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
    if (i < 0) return Buffer.alloc(0);
    if (this.passChunk !== null) return this.passChunk;
    if (this.buffers === null) return Buffer.alloc(0);
    const b = this.buffers[i];
    return b.length === 1 ? b[0] : Buffer.concat(b);
  }

  setBufferedBody(body: Buffer): void {
    const i = this.current;
    if (i < 0) throw new Error('setBufferedBody() is only valid inside a body hook');
    if (this.passChunk !== null) {
      this.passChunk = body;
      return;
    }
    const buffers = this.ensureBuffers();
    buffers[i] = [body];
    (this.bufferBytes as number[])[i] = body.length;
  }

  private ensureBuffers(): Buffer[][] {
    if (this.buffers === null) {
      const n = this.filters.length;
      const buffers: Buffer[][] = new Array(n);
      const bytes: number[] = new Array(n);
      for (let i = 0; i < n; i++) {
        buffers[i] = [];
        bytes[i] = 0;
      }
      this.buffers = buffers;
      this.bufferBytes = bytes;
    }
    return this.buffers;
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
    for (let i = from; i < fs.length; i++) {
      const f = fs[i];
      const hook = this.dir === 'request' ? f.onRequestBody : f.onResponseBody;
      if (hook === undefined) continue;
      // Nothing buffered for this filter (the common case): the chunk passes without a copy into
      // its buffer; it is buffered only when the filter stops.
      const held = this.buffers !== null && this.buffers[i].length > 0;
      if (held) {
        this.buffers![i].push(chunk);
        this.bufferBytes![i] += chunk.length;
      }
      const prevCurrent = this.current;
      const prevPass = this.passChunk;
      this.current = i;
      this.passChunk = held ? null : chunk;
      let r: FilterResult;
      try {
        r = hook.call(f, this.ctx, chunk, end);
      } catch (err) {
        this.current = prevCurrent;
        this.passChunk = prevPass;
        return this.events.onFilterError(err);
      }
      const passed = this.passChunk;
      this.current = prevCurrent;
      this.passChunk = prevPass;
      if (this.events.isDone()) return;
      if (r === undefined || r === 'continue') {
        chunk = passed !== null ? passed : this.takeBuffer(i);
        continue;
      }
      const buffers = this.ensureBuffers();
      const bytes = this.bufferBytes as number[];
      if (passed !== null) {
        buffers[i].push(passed);
        bytes[i] += passed.length;
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
    if (this.queue === null) this.queue = [];
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
    if (q === null) return;
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
