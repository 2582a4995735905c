/**
 * FrameReader: reassembles whole frames of one RpcCodec from a byte stream, using codec.peek().
 * Owns: partial frames, many frames per chunk, frames split anywhere, pausing between frames,
 * and the max frame size, enforced on the declared length before the rest is buffered.
 * Must never: copy a frame that arrived whole in one chunk (it is handed on as a subarray),
 * hand on bytes past a frame's declared length, throw on any input, or read after a failure.
 */
import { FrameError, type FrameInfo, type RpcCodec } from '../api/rpc';

/** Default largest frame accepted: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export type FrameFailure = 'frame_error' | 'oversize';

export interface FrameSink {
  /** One whole frame; `frame.length === info.length`. */
  onFrame(frame: Buffer, info: FrameInfo): void;
  /**
   * The stream cannot be read on: `err` says why. `head` holds the bytes of the offending frame
   * seen so far and `info` its header when it was readable (oversize), else null.
   * No frame is delivered after this.
   */
  onFrameError(kind: FrameFailure, err: FrameError, head: Buffer, info: FrameInfo | null): void;
}

function badInfo(info: FrameInfo): boolean {
  const n = info.length;
  const h = info.headerLength;
  return !(Number.isSafeInteger(n) && n > 0 && Number.isSafeInteger(h) && h >= 0 && h <= n);
}

export class FrameReader {
  /** Unscanned bytes, in order: an incomplete frame header, or frames held back while paused. */
  private held: Buffer | null = null;
  /** Bytes pushed while a frame was being delivered (re-entrantly); they follow everything else. */
  private incoming: Buffer | null = null;
  /** Parts of a split frame whose length is known (`need`). */
  private parts: Buffer[] | null = null;
  private partsBytes = 0;
  private need = 0;
  private partInfo: FrameInfo | null = null;
  private busy = false;
  private paused = false;
  /** True once a frame error was reported (or clear() ran); everything after is ignored. */
  failed = false;

  constructor(
    private readonly codec: RpcCodec,
    private readonly sink: FrameSink,
    readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES,
  ) {}

  /** Bytes held that are not yet part of a delivered frame. */
  get bufferedBytes(): number {
    return (this.held === null ? 0 : this.held.length) + (this.incoming === null ? 0 : this.incoming.length) + this.partsBytes;
  }

  /** Feeds a chunk read from the connection. */
  push(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    if (this.busy) {
      this.incoming = this.incoming === null ? chunk : Buffer.concat([this.incoming, chunk]);
      return;
    }
    this.run(chunk);
  }

  /** Stops delivering frames after the current one; bytes pushed meanwhile are kept. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.busy && !this.failed) this.run(null);
  }

  /** Drops everything held (the connection is closing). */
  clear(): void {
    this.failed = true;
    this.held = null;
    this.incoming = null;
    this.parts = null;
    this.partsBytes = 0;
  }

  private run(chunk: Buffer | null): void {
    this.busy = true;
    try {
      while (!this.failed) {
        if (chunk !== null) {
          if (this.paused) this.hold(chunk);
          else this.step(chunk);
        } else if (!this.paused && this.held !== null) {
          // resumed: scan what was held back
          const h = this.held;
          this.held = null;
          this.step(h);
        }
        chunk = this.incoming;
        this.incoming = null;
        if (chunk === null) break;
      }
    } finally {
      this.busy = false;
    }
  }

  private hold(b: Buffer): void {
    this.held = this.held === null ? b : Buffer.concat([this.held, b]);
  }

  /** Appends to the split frame being collected; delivers it once whole. Returns the rest. */
  private fill(chunk: Buffer): Buffer {
    const want = this.need - this.partsBytes;
    const take = chunk.length < want ? chunk.length : want;
    this.parts!.push(take === chunk.length ? chunk : chunk.subarray(0, take));
    this.partsBytes += take;
    const rest = take === chunk.length ? EMPTY : chunk.subarray(take);
    if (this.partsBytes < this.need) return rest;
    const frame = Buffer.concat(this.parts!, this.need);
    const info = this.partInfo!;
    this.parts = null;
    this.partInfo = null;
    this.partsBytes = 0;
    this.need = 0;
    this.sink.onFrame(frame, info);
    if (rest.length > 0 && !this.failed) this.held = this.held === null ? rest : Buffer.concat([rest, this.held]);
    return EMPTY;
  }

  private step(chunk: Buffer): void {
    if (this.parts !== null) {
      this.fill(chunk);
      if (this.failed || this.paused || this.held === null) return;
      chunk = this.held;
      this.held = null;
    } else if (this.held !== null) {
      chunk = Buffer.concat([this.held, chunk]);
      this.held = null;
    }
    this.scan(chunk);
  }

  private scan(data: Buffer): void {
    let off = 0;
    while (off < data.length && !this.failed) {
      const view = off === 0 ? data : data.subarray(off);
      if (this.paused) {
        this.held = view;
        return;
      }
      let r: FrameInfo | 'need-more' | FrameError;
      try {
        r = this.codec.peek(view);
      } catch (e) {
        r = new FrameError('peek_threw', e instanceof Error ? e.message : String(e));
      }
      if (r === 'need-more') {
        if (view.length >= this.maxFrameBytes) {
          this.fail('oversize', new FrameError('oversize', `no frame header within ${this.maxFrameBytes} bytes`), view, null);
          return;
        }
        this.held = view;
        return;
      }
      if (r instanceof FrameError) {
        this.fail('frame_error', r, view, null);
        return;
      }
      if (typeof r !== 'object' || r === null || badInfo(r)) {
        this.fail('frame_error', new FrameError('bad_length', 'frame header declares an impossible length'), view, null);
        return;
      }
      if (r.length > this.maxFrameBytes) {
        this.fail('oversize', new FrameError('oversize', `frame of ${r.length} bytes exceeds ${this.maxFrameBytes}`), view, r);
        return;
      }
      if (view.length < r.length) {
        this.parts = [view];
        this.partsBytes = view.length;
        this.need = r.length;
        this.partInfo = r;
        return;
      }
      off += r.length;
      this.sink.onFrame(view.length === r.length ? view : view.subarray(0, r.length), r);
    }
  }

  private fail(kind: FrameFailure, err: FrameError, head: Buffer, info: FrameInfo | null): void {
    this.clear();
    this.sink.onFrameError(kind, err, head, info);
  }
}

const EMPTY = Buffer.alloc(0);
