/**
 * The Dubbo 2 codec: reads and writes single Dubbo frames for the shared RPC layer (src/rpc).
 * Header: magic DA BB, flag (request, two-way, event, serialization id), status, u64 id, u32 body
 * length. Request header view: `service method version dubbo` read eagerly from the body's
 * leading strings; attachments (`group`, `interface`, `timeout`, ...) read lazily on first use.
 * Must never: throw out of any method, touch sockets, log, keep per-connection state, or decode
 * arguments (they are skipped and copied as the bytes that arrived). Only hessian2 bodies are
 * read; other serializations are forwarded untouched with the header view `serialization` = id.
 */
import { FrameError, FrameHeaderMap, type FrameInfo, type FrameKind, type HeaderMap, type LocalReply, type MatchResult, type RpcCodec } from '../../src/api';
import { emptyBody, parseRequestBody, readLeading, readRest, type RequestBody } from './body';
import { Hessian2Reader, type Attachments } from './hessian2-reader';
import { Hessian2Writer } from './hessian2-writer';
import { OK, dubboStatusOfHttp, dubboStatusOfReply, httpStatusOf } from './status';

export const HEADER_LENGTH = 16;
export const MAGIC_HIGH = 0xda;
export const MAGIC_LOW = 0xbb;
export const FLAG_REQUEST = 0x80;
export const FLAG_TWOWAY = 0x40;
export const FLAG_EVENT = 0x20;
export const SERIALIZATION_MASK = 0x1f;
export const HESSIAN2 = 2;

const HEARTBEAT_BODY = 0x4e; // hessian null
const U64_MAX = 0xffffffffffffffffn;

/** Names a request view answers without reading the attachments. */
const EAGER_NAMES: ReadonlySet<string> = new Set(['service', 'method', 'version', 'dubbo', 'serialization']);
/** When the body's service version is empty, `version` comes from the attachments. */
const EAGER_NAMES_NO_VERSION: ReadonlySet<string> = new Set(['service', 'method', 'dubbo', 'serialization']);
const NO_NAMES: ReadonlySet<string> = new Set();

/** Request header view; `decodeError` says why routing keys or attachments are missing. */
export class DubboRequestHeaders extends FrameHeaderMap {
  /** Why part of the body could not be read (corrupt hessian); null when all was read. */
  decodeError: string | null = null;
  /** Reader position after the method name (where the descriptor starts); -1 if unknown. */
  restOffset = -1;
}

function frameInfo(kind: FrameKind, oneWay: boolean, length: number, status: number): FrameInfo {
  return { kind, oneWay, headerLength: HEADER_LENGTH, length, timeoutMs: 0, status };
}

function isHessian2(frame: Buffer): boolean {
  return (frame[2] & SERIALIZATION_MASK) === HESSIAN2;
}

/** A frame of `header` (its first 16 bytes) and `body`, with the body length fixed. */
function withBody(header: Buffer, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_LENGTH + body.length);
  header.copy(out, 0, 0, HEADER_LENGTH);
  out.writeUInt32BE(body.length, 12);
  body.copy(out, HEADER_LENGTH);
  return out;
}

function bodyOf(frame: Buffer): [start: number, end: number] {
  const declared = frame.length >= HEADER_LENGTH ? frame.readUInt32BE(12) : 0;
  return [Math.min(HEADER_LENGTH, frame.length), Math.min(frame.length, HEADER_LENGTH + declared)];
}

function loadAttachments(into: FrameHeaderMap): void {
  const h = into as DubboRequestHeaders;
  if (h.restOffset < 0) return;
  const [, end] = bodyOf(h.frame);
  const body = emptyBody();
  readRest(new Hessian2Reader(h.frame, h.restOffset, end), body);
  if (body.error !== null) h.decodeError = body.error;
  const att = body.attachments;
  if (att === null) return;
  const entries = att.entries;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.value !== null) h.fill(e.key.toLowerCase(), e.value);
  }
}

// ---- re-encoding attachments ----

interface SyntheticSlots {
  names: string[];
  values: string[];
  used: boolean[];
}

/** The entries the view derived from the body itself: not written back as attachments. */
function synthetic(body: RequestBody): SyntheticSlots {
  const names: string[] = [];
  const values: string[] = [];
  if (body.service !== null) names.push('service'), values.push(body.service);
  if (body.method !== null) names.push('method'), values.push(body.method);
  if (body.version !== null && body.version !== '') names.push('version'), values.push(body.version);
  if (body.dubbo !== null) names.push('dubbo'), values.push(body.dubbo);
  return { names, values, used: names.map(() => false) };
}

function takeSynthetic(s: SyntheticSlots, name: string, value: string): boolean {
  for (let i = 0; i < s.names.length; i++) {
    if (!s.used[i] && s.names[i] === name && s.values[i] === value) {
      s.used[i] = true;
      return true;
    }
  }
  return false;
}

/**
 * Writes the attachments map for `headers`: entries unchanged since `original` are copied as
 * their original bytes (keeping key spelling and value types); changed or new ones are written
 * as strings under the original key spelling; entries the view could not show (non-text values)
 * are kept unless a header of the same name replaces them.
 */
function writeAttachments(w: Hessian2Writer, src: Buffer, original: Attachments | null, headers: HeaderMap, slots: SyntheticSlots): void {
  const entries = original === null ? [] : original.entries;
  const lower = entries.map((e) => e.key.toLowerCase());
  const consumed = entries.map(() => false);
  const kv = headers.raw();
  const present = new Set<string>();
  for (let i = 0; i < kv.length; i += 2) present.add(kv[i]);

  if (original !== null && original.entriesStart > original.start) w.raw(src, original.start, original.entriesStart);
  else w.byte(0x48);
  for (let j = 0; j < entries.length; j++) {
    const e = entries[j];
    if (e.value === null && !(e.keyStart < e.valueStart && present.has(lower[j]))) {
      w.raw(src, e.keyStart, e.valueEnd);
      consumed[j] = true;
    }
  }
  for (let i = 0; i < kv.length; i += 2) {
    const name = kv[i];
    const value = kv[i + 1];
    if (name.charCodeAt(0) === 0x3a /* : */ || name === 'serialization') continue;
    if (takeSynthetic(slots, name, value)) continue;
    let spelling = name;
    let copied = false;
    for (let j = 0; j < entries.length; j++) {
      if (lower[j] !== name) continue;
      if (spelling === name) spelling = entries[j].key;
      if (!consumed[j] && entries[j].value === value) {
        w.raw(src, entries[j].keyStart, entries[j].valueEnd);
        consumed[j] = true;
        copied = true;
        break;
      }
    }
    if (!copied) w.writeString(spelling).writeString(value);
  }
  w.byte(0x5a);
}

function rebuildRequest(original: Buffer, headers: HeaderMap, payload: Buffer): Buffer {
  const body = parseRequestBody(payload, 0, payload.length);
  if (body.argsEnd < 0) return withBody(original, payload); // arguments unreadable: cannot rebuild
  const w = new Hessian2Writer(payload.length + 256);
  w.raw(original, 0, HEADER_LENGTH);
  w.raw(payload, 0, body.argsEnd);
  writeAttachments(w, payload, body.attachments, headers, synthetic(body));
  if (body.attachments !== null) w.raw(payload, body.attachments.end, payload.length);
  const out = w.toBuffer();
  out.writeUInt32BE(out.length - HEADER_LENGTH, 12);
  return out;
}

function isOriginalBody(original: Buffer, payload: Buffer): boolean {
  return (
    payload.buffer === original.buffer &&
    payload.byteOffset === original.byteOffset + HEADER_LENGTH &&
    payload.length === original.length - HEADER_LENGTH
  );
}

function errorResponse(request: Buffer, status: number, message: string): Buffer {
  const w = new Hessian2Writer(HEADER_LENGTH + message.length * 3 + 8);
  w.byte(MAGIC_HIGH).byte(MAGIC_LOW).byte(HESSIAN2).byte(status);
  if (request.length >= 12) w.raw(request, 4, 12);
  else w.raw(Buffer.alloc(8));
  w.raw(Buffer.alloc(4));
  if (status === OK) w.writeInt(1); // RESPONSE_VALUE: the message is the returned value
  w.writeString(message);
  const out = w.toBuffer();
  out.writeUInt32BE(out.length - HEADER_LENGTH, 12);
  return out;
}

function replyMessage(reply: LocalReply): string {
  if (reply.details !== undefined) return reply.details;
  if (reply.body !== undefined) return typeof reply.body === 'string' ? reply.body : reply.body.toString('utf8');
  return reply.reason;
}

// ---- responses built by encodeResponse ----

const RESPONSE_VALUE_TAG = 0x91; // compact int 1: RESPONSE_VALUE
const RESPONSE_NULL_VALUE = Buffer.from([0x92]); // compact int 2: RESPONSE_NULL_VALUE

/**
 * The Dubbo status for a response head. From an upstream Dubbo response (`orig` >= 0): whichever
 * of `dubbo-status` / `:status` a filter changed (dubbo-status first), else the frame's own. From
 * a request (`orig` < 0): `dubbo-status` when valid, else mapped from `:status`, else OK.
 */
function statusOf(headers: HeaderMap, orig: number): number {
  const ds = headers.get('dubbo-status');
  const v = ds === undefined ? NaN : Number(ds);
  const dsOk = Number.isInteger(v) && v >= 0 && v <= 255;
  const hs = headers.get(':status');
  const http = hs === undefined ? NaN : Number(hs);
  const httpOk = Number.isInteger(http) && http >= 100 && http <= 999;
  if (orig >= 0) {
    if (dsOk && v !== orig) return v;
    if (httpOk && http !== httpStatusOf(orig)) return dubboStatusOfHttp(http);
    return orig;
  }
  if (dsOk) return v;
  return httpOk ? dubboStatusOfHttp(http) : OK;
}

/** True when `b` is exactly one hessian2 string (an error response body). */
function isHessianString(b: Buffer): boolean {
  try {
    const r = new Hessian2Reader(b, 0, b.length);
    if (!r.atString()) return false;
    r.skipString();
    return r.pos === b.length;
  } catch {
    return false;
  }
}

/** True when `b` starts like an OK response body (a result flag 0..5 as a compact int). */
function isResultBody(b: Buffer): boolean {
  return b.length > 0 && b[0] >= 0x90 && b[0] <= 0x95;
}

function responseFrame(flag: number, status: number, original: Buffer, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_LENGTH + body.length);
  out[0] = MAGIC_HIGH;
  out[1] = MAGIC_LOW;
  out[2] = flag;
  out[3] = status;
  if (original.length >= 12) original.copy(out, 4, 4, 12);
  else out.fill(0, 4, 12);
  out.writeUInt32BE(body.length, 12);
  body.copy(out, HEADER_LENGTH);
  return out;
}

/**
 * encodeResponse. `original` is the upstream Dubbo response (info.kind 'response') or the
 * downstream request (another protocol or the proxy produced the head). The result is always a
 * response frame: flag = the original's serialization id (request/two-way/event bits cleared),
 * status from the head, id from `original`. The body is `payload` when it can be a Dubbo body
 * for that status; otherwise one is written in hessian2 (serialization 2): an OK answer's text
 * as a returned String (empty: a null value), an error's text (or "upstream answered status N")
 * as the error message.
 */
function buildResponse(original: Buffer, info: FrameInfo, headers: HeaderMap, payload: Buffer): Buffer {
  // The upstream Dubbo response: `original`, or the frame behind a response view handed in with
  // the downstream request.
  let resp: Buffer | null = info.kind === 'response' && original.length >= HEADER_LENGTH ? original : null;
  if (resp === null && headers instanceof FrameHeaderMap && headers.info.kind === 'response') {
    const f = headers.frame;
    if (f.length >= HEADER_LENGTH && f[0] === MAGIC_HIGH && f[1] === MAGIC_LOW && (f[2] & (FLAG_REQUEST | FLAG_EVENT)) === 0) resp = f;
  }
  const fromResponse = resp !== null;
  const origStatus = resp !== null ? resp[3] : OK;
  const status = statusOf(headers, resp !== null ? origStatus : -1);
  const src = resp ?? original;
  const serialization = src.length >= 3 ? src[2] & SERIALIZATION_MASK : HESSIAN2;
  const hessian = serialization === HESSIAN2;
  if (resp === original && status === origStatus && isOriginalBody(original, payload)) return original;
  let body = payload;
  let flag = serialization;
  const keepBody = fromResponse && (status === OK) === (origStatus === OK);
  if (!keepBody) {
    if (status === OK) {
      if (payload.length === 0) {
        body = RESPONSE_NULL_VALUE;
        flag = HESSIAN2;
      } else if (hessian && !isResultBody(payload)) {
        body = new Hessian2Writer(payload.length + 8).byte(RESPONSE_VALUE_TAG).writeString(payload.toString('utf8')).toBuffer();
      }
    } else if (payload.length === 0 || (hessian && !isHessianString(payload))) {
      const text =
        payload.length === 0 || isResultBody(payload) ? `upstream answered status ${headers.get(':status') ?? status}` : payload.toString('utf8');
      body = new Hessian2Writer(text.length * 3 + 8).writeString(text).toBuffer();
      flag = HESSIAN2;
    }
  }
  return responseFrame(flag, status, original, body);
}

const RESULT_NAMES = ['exception', 'value', 'null', 'exception', 'value', 'null'];
/** Header values of every Dubbo status byte, made once. */
const STATUS_TEXT: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
const HTTP_STATUS_TEXT: readonly string[] = Array.from({ length: 256 }, (_, i) => String(httpStatusOf(i)));

export const dubboCodec: RpcCodec = {
  name: 'dubbo',
  poolMode: 'multiplex',

  match(head: Buffer): MatchResult {
    if (head.length === 0) return 'need-more';
    if (head[0] !== MAGIC_HIGH) return 'no';
    if (head.length < 2) return 'need-more';
    return head[1] === MAGIC_LOW ? 'yes' : 'no';
  },

  peek(buf: Buffer): FrameInfo | 'need-more' | FrameError {
    const n = buf.length;
    if ((n >= 1 && buf[0] !== MAGIC_HIGH) || (n >= 2 && buf[1] !== MAGIC_LOW)) {
      const seen = buf.subarray(0, Math.min(n, 2)).toString('hex');
      return new FrameError('bad_magic', `not a Dubbo frame: magic 0x${seen}, expected 0xdabb`);
    }
    if (n < HEADER_LENGTH) return 'need-more';
    const flag = buf[2];
    const length = HEADER_LENGTH + buf.readUInt32BE(12);
    const event = (flag & FLAG_EVENT) !== 0;
    if ((flag & FLAG_REQUEST) !== 0) {
      return frameInfo(event ? 'heartbeat-request' : 'request', (flag & FLAG_TWOWAY) === 0, length, 0);
    }
    return frameInfo(event ? 'heartbeat-response' : 'response', false, length, buf[3]);
  },

  getRequestId(frame: Buffer): bigint {
    return frame.length >= 12 ? frame.readBigUInt64BE(4) : 0n;
  },

  setRequestId(frame: Buffer, id: number | bigint): void {
    if (frame.length < 12) return;
    if (typeof id === 'number' && id >= 0 && Number.isSafeInteger(id)) {
      // The pool's ids: two 32-bit halves, no BigInt allocated.
      frame.writeUInt32BE(Math.floor(id / 0x100000000), 4);
      frame.writeUInt32BE(id >>> 0, 8);
      return;
    }
    let v: bigint;
    if (typeof id === 'bigint') v = id;
    else if (Number.isFinite(id)) v = BigInt(Math.trunc(id));
    else v = 0n;
    frame.writeBigUInt64BE(v >= 0n && v <= U64_MAX ? v : BigInt.asUintN(64, v), 4);
  },

  requestHeaders(frame: Buffer, info: FrameInfo): FrameHeaderMap {
    if (frame.length < HEADER_LENGTH || info.kind !== 'request') return new DubboRequestHeaders(frame, info, [], NO_NAMES, null);
    if (!isHessian2(frame)) {
      return new DubboRequestHeaders(frame, info, ['serialization', String(frame[2] & SERIALIZATION_MASK)], NO_NAMES, null);
    }
    const [start, end] = bodyOf(frame);
    const body = emptyBody();
    const r = readLeading(frame, start, end, body);
    const eager: string[] = [];
    if (body.service !== null) eager.push('service', body.service);
    if (body.method !== null) eager.push('method', body.method);
    const hasVersion = body.version !== null && body.version !== '';
    if (hasVersion) eager.push('version', body.version as string);
    if (body.dubbo !== null) eager.push('dubbo', body.dubbo);
    if (r === null) {
      const h = new DubboRequestHeaders(frame, info, eager, NO_NAMES, null);
      h.decodeError = body.error;
      return h;
    }
    const h = new DubboRequestHeaders(frame, info, eager, hasVersion ? EAGER_NAMES : EAGER_NAMES_NO_VERSION, loadAttachments);
    h.restOffset = r.pos;
    return h;
  },

  responseHeaders(frame: Buffer, info: FrameInfo): FrameHeaderMap {
    const status = frame.length >= 4 ? frame[3] : 0;
    const eager = [':status', HTTP_STATUS_TEXT[status], 'dubbo-status', STATUS_TEXT[status]];
    if (status === OK && info.kind === 'response' && frame.length > HEADER_LENGTH && isHessian2(frame)) {
      const flag = frame[HEADER_LENGTH] - 0x90; // compact int 0..5
      if (flag >= 0 && flag < RESULT_NAMES.length) eager.push('dubbo-result', RESULT_NAMES[flag]);
    }
    return new FrameHeaderMap(frame, info, eager, NO_NAMES, null);
  },

  encodeRequest(original: Buffer, info: FrameInfo, headers: HeaderMap, payload: Buffer): Buffer {
    try {
      const dirty = !(headers instanceof FrameHeaderMap) || headers.dirty;
      if (!dirty || info.kind !== 'request' || !isHessian2(original)) {
        return isOriginalBody(original, payload) ? original : withBody(original, payload);
      }
      return rebuildRequest(original, headers, payload);
    } catch {
      return isOriginalBody(original, payload) ? original : withBody(original, payload);
    }
  },

  encodeResponse(original: Buffer, info: FrameInfo, headers: HeaderMap, payload: Buffer): Buffer {
    return buildResponse(original, info, headers, payload);
  },

  heartbeatResponse(request: Buffer): Buffer {
    const out = Buffer.alloc(HEADER_LENGTH + 1);
    out[0] = MAGIC_HIGH;
    out[1] = MAGIC_LOW;
    out[2] = FLAG_EVENT | HESSIAN2;
    out[3] = OK;
    if (request.length >= 12) request.copy(out, 4, 4, 12);
    out.writeUInt32BE(1, 12);
    out[HEADER_LENGTH] = HEARTBEAT_BODY;
    return out;
  },

  heartbeatRequest(id: number): Buffer {
    const out = Buffer.alloc(HEADER_LENGTH + 1);
    out[0] = MAGIC_HIGH;
    out[1] = MAGIC_LOW;
    out[2] = FLAG_REQUEST | FLAG_TWOWAY | FLAG_EVENT | HESSIAN2;
    dubboCodec.setRequestId(out, id);
    out.writeUInt32BE(1, 12);
    out[HEADER_LENGTH] = HEARTBEAT_BODY;
    return out;
  },

  localReply(request: Buffer, _info: FrameInfo, reply: LocalReply): Buffer {
    let message: string;
    try {
      message = replyMessage(reply);
    } catch {
      message = String(reply.reason);
    }
    return errorResponse(request, dubboStatusOfReply(reply), message);
  },
};
