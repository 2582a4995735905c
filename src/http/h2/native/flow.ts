/**
 * What both ends of a native HTTP/2 connection do alike with the peer's flow-control and settings
 * frames: our connection receive window (overrun check, WINDOW_UPDATE at half the target), a
 * stream's receive window replenished as its body is consumed, DATA/HEADERS padding, and a peer
 * SETTINGS payload applied to the frame writer and the open streams.
 * Must never: write to the socket itself (it returns what to send), or know which end it serves.
 */
import type { FrameWriter } from './writer';
import type { OutStream } from './out-stream';
import { DEFAULT_MAX_FRAME, DEFAULT_WINDOW, E, MAX_WINDOW, S } from './frames';

/** Our receive window on the connection (stream 0). */
export class ConnectionReceiveWindow {
  private avail: number;
  private unacked = 0;

  constructor(private readonly target: number) {
    this.avail = Math.max(target, DEFAULT_WINDOW);
  }

  /**
   * A DATA frame of `n` bytes (padding included) arrived: -1 when it overruns the window (a
   * FLOW_CONTROL_ERROR), else the WINDOW_UPDATE increment due now (0: none yet).
   */
  receive(n: number): number {
    this.avail -= n;
    if (this.avail < 0) return -1;
    this.unacked += n;
    if (this.unacked < this.target >> 1) return 0;
    const inc = this.unacked;
    this.avail += inc;
    this.unacked = 0;
    return inc;
  }
}

/** A stream's receive side as the window bookkeeping sees it. */
export interface InStream {
  readonly id: number;
  recvWindow: number;
  recvUnacked: number;
}

/** `n` body bytes of `s` were consumed: the WINDOW_UPDATE increment due now (0: none yet). */
export function streamConsumed(s: InStream, n: number, initialWindow: number): number {
  s.recvUnacked += n;
  if (s.recvUnacked < initialWindow >> 1) return 0;
  const inc = s.recvUnacked;
  s.recvWindow += inc;
  s.recvUnacked = 0;
  return inc;
}

/** End of the payload of a PADDED frame (pad length in its first byte), or -1 when the padding overruns it. */
export function paddedEnd(buf: Buffer, start: number, end: number): number {
  const pad = end > start ? buf[start] : 256;
  return pad >= end - start ? -1 : end - pad;
}

export interface SettingsProblem {
  readonly code: number;
  readonly detail: string;
}

/**
 * Applies a peer SETTINGS payload (length already checked to be a multiple of 6) to the writer
 * and the open streams (`open` is called only when the initial window changes); hands
 * MAX_CONCURRENT_STREAMS to `onMaxStreams`. Returns the connection error, or null.
 */
export function applyPeerSettings(
  buf: Buffer,
  start: number,
  end: number,
  writer: FrameWriter,
  open: () => Iterable<OutStream>,
  onMaxStreams: ((v: number) => void) | null,
): SettingsProblem | null {
  for (let at = start; at < end; at += 6) {
    const key = buf.readUInt16BE(at);
    const v = buf.readUInt32BE(at + 2);
    switch (key) {
      case S.HEADER_TABLE_SIZE:
        writer.setPeerTableSize(v);
        break;
      case S.ENABLE_PUSH:
        if (v > 1) return { code: E.PROTOCOL_ERROR, detail: 'ENABLE_PUSH not 0 or 1' };
        break;
      case S.MAX_CONCURRENT_STREAMS:
        if (onMaxStreams !== null) onMaxStreams(v);
        break;
      case S.INITIAL_WINDOW_SIZE:
        if (v > MAX_WINDOW) return { code: E.FLOW_CONTROL_ERROR, detail: 'INITIAL_WINDOW_SIZE too large' };
        if (!writer.setPeerInitialWindow(v, open())) return { code: E.FLOW_CONTROL_ERROR, detail: 'stream window overflow' };
        break;
      case S.MAX_FRAME_SIZE:
        if (v < DEFAULT_MAX_FRAME || v > 0xff_ffff) return { code: E.PROTOCOL_ERROR, detail: 'MAX_FRAME_SIZE out of range' };
        writer.peerMaxFrame = v;
        break;
      default:
        break; // MAX_HEADER_LIST_SIZE (advisory), unknown settings
    }
  }
  return null;
}
