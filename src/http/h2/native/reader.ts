/**
 * Splits an HTTP/2 byte stream into frames: on a server connection checks the client connection
 * preface first (a client connection expects none), then
 * hands each complete frame to its sink as (type, flags, stream id, buffer, payload start, end)
 * without copying when the frame lies inside one chunk. Frames split across chunks are joined.
 * Owns: reassembly and the frame-size limit. Must never: interpret a frame, buffer more than one
 * frame plus a chunk, or keep going after the sink reported an error.
 */
import { FRAME_HEADER } from './frames';
import { H2_PREFACE } from '../sniff';

export interface FrameSink {
  /** One frame; returns false to stop reading (the connection failed). */
  onFrame(type: number, flags: number, streamId: number, buf: Buffer, start: number, end: number): boolean;
  /** A frame longer than the limit, or a bad preface: a connection error. */
  onReadError(kind: 'bad_preface' | 'frame_too_large', detail: string): void;
}

export class FrameReader {
  private rest: Buffer | null = null;
  private prefaceLeft = H2_PREFACE.length;
  private failed = false;

  constructor(
    private readonly sink: FrameSink,
    /** Our SETTINGS_MAX_FRAME_SIZE. */
    private readonly maxFrame: number,
    /** False on a client connection: the server sends no preface, only its SETTINGS. */
    expectPreface = true,
  ) {
    if (!expectPreface) this.prefaceLeft = 0;
  }

  push(chunk: Buffer): void {
    if (this.failed) return;
    let buf = chunk;
    if (this.rest !== null) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    let at = 0;
    if (this.prefaceLeft > 0) {
      const off = H2_PREFACE.length - this.prefaceLeft;
      const n = Math.min(this.prefaceLeft, buf.length);
      for (let i = 0; i < n; i++) {
        if (buf[i] !== H2_PREFACE[off + i]) {
          this.failed = true;
          this.sink.onReadError('bad_preface', 'the client did not send the HTTP/2 connection preface');
          return;
        }
      }
      this.prefaceLeft -= n;
      at = n;
    }
    const len = buf.length;
    while (len - at >= FRAME_HEADER) {
      const flen = (buf[at] << 16) | (buf[at + 1] << 8) | buf[at + 2];
      if (flen > this.maxFrame) {
        this.failed = true;
        this.sink.onReadError('frame_too_large', `frame of ${flen} bytes (limit ${this.maxFrame})`);
        return;
      }
      const end = at + FRAME_HEADER + flen;
      if (end > len) break;
      const id = buf.readUInt32BE(at + 5) & 0x7fff_ffff;
      if (!this.sink.onFrame(buf[at + 3], buf[at + 4], id, buf, at + FRAME_HEADER, end)) {
        this.failed = true;
        return;
      }
      at = end;
    }
    if (at < len) this.rest = at === 0 ? buf : buf.subarray(at);
  }

  stop(): void {
    this.failed = true;
    this.rest = null;
  }
}
