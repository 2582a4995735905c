/**
 * HTTP/2 frame layout (RFC 9113 section 4 and 6): type, flag, error and setting codes, and
 * builders for the frames the server writes. Owns: byte layout only.
 * Must never: keep state, or build a frame larger than the peer's SETTINGS_MAX_FRAME_SIZE (callers
 * pass the size they may use; HEADERS are split into CONTINUATION frames here).
 */

export const FRAME_HEADER = 9;
export const DEFAULT_MAX_FRAME = 16_384;
export const DEFAULT_WINDOW = 65_535;
export const MAX_WINDOW = 0x7fff_ffff;

export const enum T {
  DATA = 0x0,
  HEADERS = 0x1,
  PRIORITY = 0x2,
  RST_STREAM = 0x3,
  SETTINGS = 0x4,
  PUSH_PROMISE = 0x5,
  PING = 0x6,
  GOAWAY = 0x7,
  WINDOW_UPDATE = 0x8,
  CONTINUATION = 0x9,
}

export const enum F {
  END_STREAM = 0x1,
  ACK = 0x1,
  END_HEADERS = 0x4,
  PADDED = 0x8,
  PRIORITY = 0x20,
}

/** Error codes (RFC 9113 section 7). */
export const enum E {
  NO_ERROR = 0x0,
  PROTOCOL_ERROR = 0x1,
  INTERNAL_ERROR = 0x2,
  FLOW_CONTROL_ERROR = 0x3,
  SETTINGS_TIMEOUT = 0x4,
  STREAM_CLOSED = 0x5,
  FRAME_SIZE_ERROR = 0x6,
  REFUSED_STREAM = 0x7,
  CANCEL = 0x8,
  COMPRESSION_ERROR = 0x9,
  ENHANCE_YOUR_CALM = 0xb,
}

export const enum S {
  HEADER_TABLE_SIZE = 0x1,
  ENABLE_PUSH = 0x2,
  MAX_CONCURRENT_STREAMS = 0x3,
  INITIAL_WINDOW_SIZE = 0x4,
  MAX_FRAME_SIZE = 0x5,
  MAX_HEADER_LIST_SIZE = 0x6,
}

/** Writes a frame header at `at`. */
export function putHeader(b: Buffer, at: number, length: number, type: number, flags: number, streamId: number): void {
  b[at] = length >>> 16;
  b[at + 1] = (length >>> 8) & 0xff;
  b[at + 2] = length & 0xff;
  b[at + 3] = type;
  b[at + 4] = flags;
  b.writeUInt32BE(streamId & MAX_WINDOW, at + 5);
}

/** A SETTINGS frame with the given (id, value) pairs. */
export function settingsFrame(pairs: ReadonlyArray<readonly [number, number]>): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER + pairs.length * 6);
  putHeader(b, 0, pairs.length * 6, T.SETTINGS, 0, 0);
  let at = FRAME_HEADER;
  for (const [id, v] of pairs) {
    b.writeUInt16BE(id, at);
    b.writeUInt32BE(v >>> 0, at + 2);
    at += 6;
  }
  return b;
}

export const SETTINGS_ACK: Buffer = (() => {
  const b = Buffer.alloc(FRAME_HEADER);
  putHeader(b, 0, 0, T.SETTINGS, F.ACK, 0);
  return b;
})();

export function pingAck(payload: Buffer, at: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER + 8);
  putHeader(b, 0, 8, T.PING, F.ACK, 0);
  payload.copy(b, FRAME_HEADER, at, at + 8);
  return b;
}

export function rstStream(streamId: number, code: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER + 4);
  putHeader(b, 0, 4, T.RST_STREAM, 0, streamId);
  b.writeUInt32BE(code >>> 0, FRAME_HEADER);
  return b;
}

export function windowUpdate(streamId: number, increment: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER + 4);
  putHeader(b, 0, 4, T.WINDOW_UPDATE, 0, streamId);
  b.writeUInt32BE(increment & MAX_WINDOW, FRAME_HEADER);
  return b;
}

export function goaway(lastStreamId: number, code: number, debug = ''): Buffer {
  const d = Buffer.from(debug, 'latin1');
  const b = Buffer.allocUnsafe(FRAME_HEADER + 8 + d.length);
  putHeader(b, 0, 8 + d.length, T.GOAWAY, 0, 0);
  b.writeUInt32BE(lastStreamId & MAX_WINDOW, FRAME_HEADER);
  b.writeUInt32BE(code >>> 0, FRAME_HEADER + 4);
  d.copy(b, FRAME_HEADER + 8);
  return b;
}

/** The 9-byte header of a DATA frame carrying `length` bytes. */
export function dataHeader(streamId: number, length: number, endStream: boolean): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER);
  putHeader(b, 0, length, T.DATA, endStream ? F.END_STREAM : 0, streamId);
  return b;
}

/**
 * Wraps an encoded header block (at block[0..len)) as HEADERS (+ CONTINUATION frames when it is
 * larger than `maxFrame`) in one buffer.
 */
export function headersFrames(streamId: number, block: Buffer, len: number, endStream: boolean, maxFrame: number): Buffer {
  const frames = len <= maxFrame ? 1 : Math.ceil(len / maxFrame);
  const out = Buffer.allocUnsafe(len + frames * FRAME_HEADER);
  let at = 0;
  let from = 0;
  for (let i = 0; i < frames; i++) {
    const n = Math.min(maxFrame, len - from);
    const last = i === frames - 1;
    const type = i === 0 ? T.HEADERS : T.CONTINUATION;
    const flags = (last ? F.END_HEADERS : 0) | (i === 0 && endStream ? F.END_STREAM : 0);
    putHeader(out, at, n, type, flags, streamId);
    block.copy(out, at + FRAME_HEADER, from, from + n);
    at += FRAME_HEADER + n;
    from += n;
  }
  return out;
}
