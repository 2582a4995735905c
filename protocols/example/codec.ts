/**
 * The "example" RPC protocol: a small length-prefixed request/response protocol, written as an
 * RpcCodec to show how a user adds a protocol (see docs/writing-a-codec.md). Owns: the wire
 * format below, the header-map view of a frame, and status mapping. Imports only src/api.
 * Must never: throw out of peek(), read past the buffer it is given, or keep any state.
 *
 * Frame (big-endian), 20-byte fixed header:
 *   0  u8[2] magic "SY"        2  u8  version (1)       3  u8  flags: 0x01 response,
 *   4  u32 request id          8  u16 status (responses)          0x02 one-way, 0x04 heartbeat
 *  10  u16 header-map bytes   12  u32 payload bytes    16  u32 timeout ms (requests; 0: none)
 *  20  header map: (u16 key length, key, u16 value length, value)*, UTF-8; requests carry
 *      `service` and `method`
 *      payload
 */
import { FrameError, FrameHeaderMap } from '../../src/api';
import type { FrameInfo, HeaderMap, LocalReply, MatchResult, RpcCodec } from '../../src/api';

export const MAGIC0 = 0x53; // 'S'
export const MAGIC1 = 0x59; // 'Y'
export const VERSION = 1;
export const HEADER_BYTES = 20;
export const FLAG_RESPONSE = 0x01;
export const FLAG_ONE_WAY = 0x02;
export const FLAG_HEARTBEAT = 0x04;

/** Protocol statuses and their HTTP equivalents. */
export const Status = {
  OK: 0,
  BAD_REQUEST: 1,
  NOT_FOUND: 2,
  UNAVAILABLE: 3,
  TIMEOUT: 4,
  ERROR: 5,
  RATE_LIMITED: 6,
  DENIED: 7,
  TOO_LARGE: 8,
} as const;
const TO_HTTP = [200, 400, 404, 503, 504, 500, 429, 403, 413];

export function statusToHttp(s: number): number {
  return s >= 0 && s < TO_HTTP.length ? TO_HTTP[s] : 500;
}

export function httpToStatus(h: number): number {
  const i = TO_HTTP.indexOf(h);
  if (i >= 0) return i;
  if (h >= 200 && h < 300) return Status.OK;
  if (h >= 400 && h < 500) return Status.BAD_REQUEST;
  return Status.ERROR;
}

export interface ExampleFrame {
  id: number;
  flags: number;
  status?: number;
  timeoutMs?: number;
  /** Flat name/value pairs. */
  headers?: readonly string[];
  payload?: Buffer;
}

/** Builds one frame. */
export function encodeFrame(f: ExampleFrame): Buffer {
  const pairs = f.headers ?? [];
  let mapBytes = 0;
  for (const s of pairs) mapBytes += 2 + Buffer.byteLength(s, 'utf8');
  if (mapBytes > 0xffff) throw new RangeError('example: header map larger than 65535 bytes');
  const payload = f.payload ?? EMPTY;
  const out = Buffer.allocUnsafe(HEADER_BYTES + mapBytes + payload.length);
  out[0] = MAGIC0;
  out[1] = MAGIC1;
  out[2] = VERSION;
  out[3] = f.flags;
  out.writeUInt32BE(f.id >>> 0, 4);
  out.writeUInt16BE(f.status ?? 0, 8);
  out.writeUInt16BE(mapBytes, 10);
  out.writeUInt32BE(payload.length, 12);
  out.writeUInt32BE(f.timeoutMs ?? 0, 16);
  let o = HEADER_BYTES;
  for (const s of pairs) {
    const n = out.write(s, o + 2, 'utf8');
    out.writeUInt16BE(n, o);
    o += 2 + n;
  }
  payload.copy(out, o);
  return out;
}

/** Reads the header map of a whole frame; a malformed map yields the pairs before the fault. */
export function decodeHeaderMap(frame: Buffer, headerLength: number, into: string[]): string[] {
  let o = HEADER_BYTES;
  const end = headerLength <= frame.length ? headerLength : frame.length;
  while (o + 2 <= end) {
    const kl = frame.readUInt16BE(o);
    if (o + 2 + kl + 2 > end) break;
    const key = frame.toString('utf8', o + 2, o + 2 + kl).toLowerCase();
    o += 2 + kl;
    const vl = frame.readUInt16BE(o);
    if (o + 2 + vl > end) break;
    into.push(key, frame.toString('utf8', o + 2, o + 2 + vl));
    o += 2 + vl;
  }
  return into;
}

/** Pairs of a HeaderMap worth putting on the wire: everything but pseudo-headers. */
function wirePairs(h: HeaderMap): string[] {
  const out: string[] = [];
  h.forEach((v, k) => {
    if (k.charCodeAt(0) !== 58 /* : */) out.push(k, v);
  });
  return out;
}

const NO_NAMES: ReadonlySet<string> = new Set();
const EMPTY = Buffer.alloc(0);

export const exampleCodec: RpcCodec = {
  name: 'example',
  poolMode: 'multiplex',

  match(head: Buffer): MatchResult {
    if (head.length > 0 && head[0] !== MAGIC0) return 'no';
    if (head.length > 1 && head[1] !== MAGIC1) return 'no';
    if (head.length > 2) return head[2] === VERSION ? 'yes' : 'no';
    return 'need-more';
  },

  peek(buf: Buffer): FrameInfo | 'need-more' | FrameError {
    if ((buf.length > 0 && buf[0] !== MAGIC0) || (buf.length > 1 && buf[1] !== MAGIC1)) {
      return new FrameError('bad_magic', 'not an example frame');
    }
    if (buf.length > 2 && buf[2] !== VERSION) return new FrameError('bad_version', `unknown version ${buf[2]}`);
    if (buf.length > 3) {
      const f = buf[3];
      if ((f & ~0x07) !== 0 || ((f & FLAG_ONE_WAY) !== 0 && (f & (FLAG_RESPONSE | FLAG_HEARTBEAT)) !== 0)) {
        return new FrameError('bad_flags', `invalid flags 0x${f.toString(16)}`);
      }
    }
    if (buf.length < HEADER_BYTES) return 'need-more';
    const flags = buf[3];
    const response = (flags & FLAG_RESPONSE) !== 0;
    const headerLength = HEADER_BYTES + buf.readUInt16BE(10);
    return {
      kind: (flags & FLAG_HEARTBEAT) !== 0 ? (response ? 'heartbeat-response' : 'heartbeat-request') : response ? 'response' : 'request',
      oneWay: (flags & FLAG_ONE_WAY) !== 0,
      headerLength,
      length: headerLength + buf.readUInt32BE(12),
      timeoutMs: response ? 0 : buf.readUInt32BE(16),
      status: response ? buf.readUInt16BE(8) : 0,
    };
  },

  getRequestId(frame: Buffer): number {
    return frame.readUInt32BE(4);
  },

  setRequestId(frame: Buffer, id: number | bigint): void {
    frame.writeUInt32BE(Number(id) >>> 0, 4);
  },

  requestHeaders(frame: Buffer, info: FrameInfo): FrameHeaderMap {
    return new FrameHeaderMap(frame, info, decodeHeaderMap(frame, info.headerLength, []), NO_NAMES, null);
  },

  responseHeaders(frame: Buffer, info: FrameInfo): FrameHeaderMap {
    const flat = [':status', String(statusToHttp(info.status))];
    return new FrameHeaderMap(frame, info, decodeHeaderMap(frame, info.headerLength, flat), NO_NAMES, null);
  },

  encodeRequest(original: Buffer, info: FrameInfo, headers: HeaderMap, payload: Buffer): Buffer {
    return encodeFrame({
      id: original.readUInt32BE(4),
      flags: info.oneWay ? FLAG_ONE_WAY : 0,
      timeoutMs: original.readUInt32BE(16),
      headers: wirePairs(headers),
      payload,
    });
  },

  encodeResponse(original: Buffer, _info: FrameInfo, headers: HeaderMap, payload: Buffer): Buffer {
    return encodeFrame({
      id: original.readUInt32BE(4),
      flags: FLAG_RESPONSE,
      status: httpToStatus(Number(headers.get(':status')) || 200),
      headers: wirePairs(headers),
      payload,
    });
  },

  heartbeatResponse(request: Buffer): Buffer {
    return encodeFrame({ id: request.readUInt32BE(4), flags: FLAG_RESPONSE | FLAG_HEARTBEAT });
  },

  heartbeatRequest(id: number): Buffer {
    return encodeFrame({ id, flags: FLAG_HEARTBEAT });
  },

  localReply(request: Buffer, _info: FrameInfo, reply: LocalReply): Buffer {
    const body = reply.body === undefined ? EMPTY : typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
    return encodeFrame({
      id: request.readUInt32BE(4),
      flags: FLAG_RESPONSE,
      status: httpToStatus(reply.status),
      headers: ['reason', reply.reason, 'message', (reply.details ?? reply.reason).slice(0, 1024)],
      payload: body,
    });
  },
};
