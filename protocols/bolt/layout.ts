/**
 * Bolt frame layout: where each fixed-header field lives in a v1 or v2 frame, reading the fixed
 * header without trusting it, and the optional v2 CRC32 trailer.
 * Owns: offsets, lengths, the CRC rule. Must never: decode the class, header map or content
 * (see header-map.ts and hessian-lite.ts), or read past the buffer it is given.
 *
 * v1 (proto 0x01)                          v2 (proto 0x02)
 *  0 proto                                  0 proto   1 ver1 (1, or 2 = CRC capable)
 *  1 type (0 resp, 1 req, 2 one-way)        2 type
 *  2 u16 cmd code (0 hb, 1 req, 2 resp)     3 u16 cmd code
 *  4 ver2                                   5 ver2
 *  5 u32 request id                         6 u32 request id
 *  9 codec (1 hessian2, 11 protobuf)       10 codec  11 switch (bit 0 = CRC)
 * 10 request: i32 timeout | response: u16 status   (v2: at 12)
 * then u16 class length, u16 header length, u32 content length; then class, header map, content;
 * v2 with ver1 = 2 and the CRC switch bit on: a trailing i32 CRC32 of everything before it
 * (the rule of the Java reference, RpcCommandDecoderV2; sofa-bolt-node only looks at the switch).
 */
import * as zlib from 'node:zlib';

export const PROTO_V1 = 0x01;
export const PROTO_V2 = 0x02;

export const TYPE_RESPONSE = 0;
export const TYPE_REQUEST = 1;
export const TYPE_ONEWAY = 2;

export const CMD_HEARTBEAT = 0;
export const CMD_REQUEST = 1;
export const CMD_RESPONSE = 2;

export const CODEC_HESSIAN2 = 1;

export const CLASS_SOFA_REQUEST = 'com.alipay.sofa.rpc.core.request.SofaRequest';
export const CLASS_SOFA_RESPONSE = 'com.alipay.sofa.rpc.core.response.SofaResponse';
export const CLASS_SERVER_EXCEPTION = 'com.alipay.remoting.rpc.exception.RpcServerException';

/** Everything the fixed header says about one frame. Offsets are from the frame start. */
export interface Layout {
  v2: boolean;
  type: number;
  cmd: number;
  /** Size of the fixed header (20/22 v1, 22/24 v2). */
  fixed: number;
  /** Offset of the u16 class length (the header length and content length follow it). */
  lensAt: number;
  classLen: number;
  headerLen: number;
  contentLen: number;
  crc: boolean;
  /** fixed + class + header map: where the content starts. */
  contentAt: number;
  /** Whole frame including a CRC trailer. */
  length: number;
}

export function idOffset(v2: boolean): number {
  return v2 ? 6 : 5;
}

/** Is (type, cmd) a combination a Bolt peer sends? */
export function validPair(type: number, cmd: number): boolean {
  if (type === TYPE_RESPONSE) return cmd === CMD_RESPONSE || cmd === CMD_HEARTBEAT;
  if (type === TYPE_REQUEST) return cmd === CMD_REQUEST || cmd === CMD_HEARTBEAT;
  if (type === TYPE_ONEWAY) return cmd === CMD_REQUEST;
  return false;
}

/**
 * Reads the fixed header. Returns the number of bytes needed when `buf` is too short, or a string
 * naming the violation. Does not check that the rest of the frame is present.
 */
export function readLayout(buf: Buffer): Layout | number | string {
  const n = buf.length;
  if (n < 1) return 1;
  const proto = buf[0];
  if (proto !== PROTO_V1 && proto !== PROTO_V2) return 'unknown protocol code';
  const v2 = proto === PROTO_V2;
  const t = v2 ? 2 : 1;
  if (n < t + 3) return t + 3;
  const type = buf[t];
  const cmd = buf.readUInt16BE(t + 1);
  if (type > TYPE_ONEWAY) return 'unknown command type ' + type;
  if (cmd > CMD_RESPONSE) return 'unknown command code ' + cmd;
  if (!validPair(type, cmd)) return `command code ${cmd} with type ${type}`;
  const isResponse = type === TYPE_RESPONSE;
  const fixed = (isResponse ? 20 : 22) + (v2 ? 2 : 0);
  if (n < fixed) return fixed;
  const lensAt = fixed - 8;
  const classLen = buf.readUInt16BE(lensAt);
  const headerLen = buf.readUInt16BE(lensAt + 2);
  const contentLen = buf.readUInt32BE(lensAt + 4);
  const crc = v2 && buf[1] === 2 && (buf[11] & 1) === 1;
  const contentAt = fixed + classLen + headerLen;
  return { v2, type, cmd, fixed, lensAt, classLen, headerLen, contentLen, crc, contentAt, length: contentAt + contentLen + (crc ? 4 : 0) };
}

/** Offset of the request timeout (i32) or response status (u16). */
export function timeoutOrStatusOffset(v2: boolean): number {
  return v2 ? 12 : 10;
}

// ---- CRC32 (IEEE, as java.util.zip.CRC32) ----

type Crc32Fn = (data: Uint8Array) => number;
const native = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
let table: Int32Array | null = null;

function tableCrc(data: Uint8Array): number {
  if (table === null) {
    table = new Int32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[i] = c;
    }
  }
  let crc = -1;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

export const crc32: Crc32Fn = typeof native === 'function' ? (d) => native(d) >>> 0 : tableCrc;
/** Exposed for tests: the pure-JS fallback used on Node builds without zlib.crc32. */
export const crc32Fallback: Crc32Fn = tableCrc;

/** Writes the CRC trailer of a whole frame of `length` bytes (the last 4 bytes). */
export function writeCrc(frame: Buffer, length: number): void {
  if (length < 4 || frame.length < length) return;
  frame.writeUInt32BE(crc32(frame.subarray(0, length - 4)), length - 4);
}
