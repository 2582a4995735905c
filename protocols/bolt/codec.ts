/**
 * The SOFARPC Bolt codec (protocol codes 0x01 and 0x02) as an RpcCodec: reads and writes single
 * frames for the shared RPC layer, which does framing, multiplexing, heartbeats and timeouts.
 * Owns: the header view of a frame (the Bolt header map plus routing keys), re-encoding with
 * changed headers, heartbeats and local replies in Bolt's own form.
 * Must never: touch sockets, keep per-connection state, throw out of peek()/match(), or decode
 * more of a frame's content than the routing keys need.
 *
 * Header view of a request (names lower-cased; the original spelling is restored on re-encode):
 *   every header map entry, as sent;
 *   service    header `service`, else `sofa_head_target_service`, else the content's
 *              targetServiceUniqueName (SOFA's `interface:version[:uniqueId]`), exactly as sent;
 *   interface, version, group  derived from service: the parts before the first ':', between the
 *              first and second, after the second (uniqueId) — each only when the part exists
 *              and the header map has no entry of that name;
 *   method     header `sofa_head_method_name` (Java SOFARPC), else the content's SofaRequest
 *              `methodName` (sofa-rpc-node), read lazily on first lookup of a non-eager name;
 *   bolt-class the class name (e.g. com.alipay.sofa.rpc.core.request.SofaRequest).
 * Header view of a response: `:status` (HTTP equivalent), `bolt-status`, `bolt-class`, and the
 * header map entries.
 * Re-encoding writes the header map from the view minus pseudo-headers and the derived names
 * (`bolt-status`, `bolt-class`, `service`, `interface`, `version`, `group`, `method`) unless the
 * original header map carried that name; the fixed header (type, timeout, codec, switch), the
 * class name and the content are kept; lengths and the v2 CRC are recomputed. encodeResponse takes
 * status, class and content from the upstream response behind a FrameHeaderMap (see there).
 * CRC: a payload handed on with the template's 4-byte CRC trailer still attached is trimmed.
 */
import { FrameError, FrameHeaderMap, type FrameInfo, type HeaderMap, type LocalReply, type MatchResult, type RpcCodec } from '../../src/api';
import {
  CLASS_SERVER_EXCEPTION,
  CLASS_SOFA_RESPONSE,
  CODEC_HESSIAN2,
  CMD_HEARTBEAT,
  CMD_RESPONSE,
  PROTO_V1,
  PROTO_V2,
  TYPE_ONEWAY,
  TYPE_RESPONSE,
  idOffset,
  readLayout,
  timeoutOrStatusOffset,
  validPair,
  writeCrc,
  type Layout,
} from './layout';
import { headerNames, readHeaderMap, writeHeaderMap } from './header-map';
import { encodeServerException, readSofaRequestKeys } from './hessian-lite';
import { boltStatusFor, boltStatusForHttp, httpStatusOf } from './status';

const EAGER_WITH_SERVICE: ReadonlySet<string> = new Set(['service', 'interface', 'version', 'group', 'bolt-class']);
const EAGER_NONE: ReadonlySet<string> = new Set(['bolt-class']);
const DERIVED: ReadonlySet<string> = new Set(['bolt-status', 'bolt-class', 'service', 'interface', 'version', 'group', 'method']);
const EMPTY_SET: ReadonlySet<string> = new Set();
const EMPTY = Buffer.alloc(0);
const SERVER_EXCEPTION_CLASS = Buffer.from(CLASS_SERVER_EXCEPTION, 'latin1');

/** Heartbeat request timeout field, as sofa-bolt-node sends. */
const HEARTBEAT_TIMEOUT_MS = 3000;

function layoutOf(frame: Buffer): Layout | null {
  const l = readLayout(frame);
  return typeof l === 'object' ? l : null;
}

function peek(buf: Buffer): FrameInfo | 'need-more' | FrameError {
  const l = readLayout(buf);
  if (typeof l === 'number') return 'need-more';
  if (typeof l === 'string') return new FrameError('bolt_bad_frame', l);
  const response = l.type === TYPE_RESPONSE;
  const at = timeoutOrStatusOffset(l.v2);
  let timeoutMs = 0;
  let status = 0;
  if (response) status = buf.readUInt16BE(at);
  else {
    timeoutMs = buf.readInt32BE(at);
    if (timeoutMs < 0) timeoutMs = 0;
  }
  const kind = l.cmd === CMD_HEARTBEAT ? (response ? 'heartbeat-response' : 'heartbeat-request') : response ? 'response' : 'request';
  return { kind, oneWay: l.type === TYPE_ONEWAY, headerLength: l.contentAt, length: l.length, timeoutMs, status };
}

function match(head: Buffer): MatchResult {
  if (head.length < 1) return 'need-more';
  const p = head[0];
  if (p !== PROTO_V1 && p !== PROTO_V2) return 'no';
  const t = p === PROTO_V2 ? 2 : 1;
  if (p === PROTO_V2 && head.length >= 2 && head[1] !== 1 && head[1] !== 2) return 'no';
  if (head.length < t + 3) return 'need-more';
  return validPair(head[t], head.readUInt16BE(t + 1)) ? 'yes' : 'no';
}

function getRequestId(frame: Buffer): number {
  const at = idOffset(frame[0] === PROTO_V2);
  return frame.length >= at + 4 ? frame.readUInt32BE(at) : 0;
}

function setRequestId(frame: Buffer, id: number | bigint): void {
  const v2 = frame[0] === PROTO_V2;
  const at = idOffset(v2);
  if (frame.length < at + 4) return;
  // Numbers (the pool's ids, Bolt's own): low 32 bits without a BigInt round trip.
  frame.writeUInt32BE(typeof id === 'number' ? id >>> 0 : Number(BigInt.asUintN(32, id)), at);
  if (v2) {
    const l = layoutOf(frame);
    if (l !== null && l.crc && frame.length >= l.length) writeCrc(frame, l.length);
  }
}

/** Writes a request's remaining deadline into its timeout field (and the v2 CRC, when present). */
function setTimeoutMs(frame: Buffer, ms: number): void {
  const v2 = frame[0] === PROTO_V2;
  const at = timeoutOrStatusOffset(v2);
  if (frame.length < at + 4 || frame[v2 ? 2 : 1] === 0 /* response */) return;
  frame.writeInt32BE(Math.max(1, Math.min(0x7fffffff, Math.ceil(ms))), at);
  if (v2) {
    const l = layoutOf(frame);
    if (l !== null && l.crc && frame.length >= l.length) writeCrc(frame, l.length);
  }
}

/** Adds interface / version / group split from a SOFA unique name, unless flat[0, own) has them. */
function pushService(flat: string[], own: number, service: string): void {
  const a = service.indexOf(':');
  if (a < 0) return;
  if (!hasIn(flat, 'interface', own)) flat.push('interface', service.slice(0, a));
  const b = service.indexOf(':', a + 1);
  const version = b < 0 ? service.slice(a + 1) : service.slice(a + 1, b);
  if (version !== '' && !hasIn(flat, 'version', own)) flat.push('version', version);
  if (b >= 0 && b + 1 < service.length && !hasIn(flat, 'group', own)) flat.push('group', service.slice(b + 1));
}

function hasIn(flat: readonly string[], name: string, upTo: number): boolean {
  for (let i = 0; i < upTo; i += 2) if (flat[i] === name) return true;
  return false;
}

/** Lazy part of a request view: method (and service when the header map lacked it) from the content. */
function loadFromContent(into: FrameHeaderMap): void {
  const l = layoutOf(into.frame);
  if (l === null) return;
  const keys = readSofaRequestKeys(into.frame, l.contentAt, l.contentAt + l.contentLen);
  if (keys.method !== undefined && !into.has('method')) into.fill('method', keys.method);
  if (keys.service !== undefined && !into.has('service')) {
    into.fill('service', keys.service);
    const extra: string[] = [];
    pushService(extra, 0, keys.service);
    for (let i = 0; i < extra.length; i += 2) if (!into.has(extra[i])) into.fill(extra[i], extra[i + 1]);
  }
}

function requestHeaders(frame: Buffer, info: FrameInfo): FrameHeaderMap {
  const l = layoutOf(frame);
  const flat: string[] = [];
  if (l === null) return new FrameHeaderMap(frame, info, flat, EAGER_NONE, null);
  const hStart = l.fixed + l.classLen;
  readHeaderMap(frame, hStart, hStart + l.headerLen, flat);
  const own = flat.length;
  if (l.classLen > 0) flat.push('bolt-class', frame.toString('utf8', l.fixed, Math.min(hStart, frame.length)));
  let service: string | undefined;
  let method: string | undefined;
  for (let i = 0; i < own; i += 2) {
    const n = flat[i];
    if (n === 'service') service ??= flat[i + 1];
    else if (n === 'sofa_head_target_service' && service === undefined) service = flat[i + 1];
    else if (n === 'sofa_head_method_name') method ??= flat[i + 1];
    else if (n === 'method') method ??= flat[i + 1];
  }
  if (service !== undefined) {
    if (!hasIn(flat, 'service', own)) flat.push('service', service);
    pushService(flat, own, service);
  }
  if (method !== undefined && !hasIn(flat, 'method', own)) flat.push('method', method);
  const eager = service !== undefined ? EAGER_WITH_SERVICE : EAGER_NONE;
  const lazy = (method === undefined || service === undefined) && l.cmd !== CMD_HEARTBEAT && l.contentLen > 0 && frame[l.v2 ? 10 : 9] === CODEC_HESSIAN2;
  return new FrameHeaderMap(frame, info, flat, eager, lazy ? loadFromContent : null);
}

function responseHeaders(frame: Buffer, info: FrameInfo): FrameHeaderMap {
  const l = layoutOf(frame);
  const status = l === null ? info.status : frame.readUInt16BE(timeoutOrStatusOffset(l.v2));
  const flat: string[] = [':status', String(httpStatusOf(status)), 'bolt-status', String(status)];
  if (l !== null) {
    const hStart = l.fixed + l.classLen;
    if (l.classLen > 0) flat.push('bolt-class', frame.toString('utf8', l.fixed, Math.min(hStart, frame.length)));
    readHeaderMap(frame, hStart, hStart + l.headerLen, flat);
  }
  return new FrameHeaderMap(frame, info, flat, EAGER_NONE, null);
}

/**
 * The content in `payload`: without the 4-byte CRC trailer of `tpl` when the payload carries it
 * (the RPC layer hands on everything after headerLength; a body a filter replaced will not end in
 * the template's own CRC at exactly that length).
 */
function contentOf(tpl: Buffer, l: Layout, payload: Buffer): Buffer {
  if (!l.crc || payload.length !== l.contentLen + 4 || tpl.length < l.length) return payload;
  const n = payload.length;
  const t = l.length;
  if (payload[n - 4] !== tpl[t - 4] || payload[n - 3] !== tpl[t - 3] || payload[n - 2] !== tpl[t - 2] || payload[n - 1] !== tpl[t - 1]) {
    return payload;
  }
  return payload.subarray(0, l.contentLen);
}

/** The header map section for `headers`, without pseudo-headers or derived names `tpl` lacked. */
function sectionFor(headers: HeaderMap, tpl: Buffer | null, l: Layout | null): Buffer {
  const spelling = new Map<string, string>();
  let had: ReadonlySet<string> = EMPTY_SET;
  if (tpl !== null && l !== null) {
    const hStart = l.fixed + l.classLen;
    had = headerNames(tpl, hStart, hStart + l.headerLen, spelling);
  }
  const section = writeHeaderMap(headers.raw(), (n) => n.charCodeAt(0) === 58 /* : */ || (DERIVED.has(n) && !had.has(n)), spelling);
  if (section.length > 0xffff) throw new RangeError(`bolt: header map of ${section.length} bytes exceeds 65535`);
  return section;
}

function classOf(frame: Buffer, l: Layout): Buffer {
  return frame.subarray(l.fixed, l.fixed + l.classLen);
}

function encodeRequest(original: Buffer, _info: FrameInfo, headers: HeaderMap, payload: Buffer): Buffer {
  const l = layoutOf(original);
  if (l === null || l.type === TYPE_RESPONSE || original.length < l.contentAt) throw new Error('bolt: encodeRequest needs a Bolt request frame');
  const section = sectionFor(headers, original, l);
  const at = timeoutOrStatusOffset(l.v2);
  const e = echo(original);
  return buildFrame(e.v2, e.ver1, l.type, l.cmd, e.ver2, getRequestId(original), e.codec, e.sw, original.readInt32BE(at), classOf(original, l), section, contentOf(original, l, payload));
}

/**
 * A response to `original` (the downstream request, or a response frame). Status, class, header
 * map and content come from the upstream Bolt response behind `headers` when there is one; the
 * protocol version, codec and switch follow `original`. Without an upstream Bolt response (a
 * view a filter built, another protocol's response) the status is `bolt-status`, else mapped from
 * `:status`, the class `bolt-class` or SofaResponse, and a failure without a body carries an
 * RpcServerException naming the status.
 */
function encodeResponse(original: Buffer, _info: FrameInfo, headers: HeaderMap, payload: Buffer): Buffer {
  const ol = layoutOf(original);
  if (ol === null) throw new Error('bolt: encodeResponse needs a Bolt frame');
  let tpl: Buffer | null = null;
  let tl: Layout | null = null;
  if (headers instanceof FrameHeaderMap) {
    const hl = layoutOf(headers.frame);
    if (hl !== null && hl.type === TYPE_RESPONSE && hl.cmd === CMD_RESPONSE && headers.frame.length >= hl.contentAt) {
      tpl = headers.frame;
      tl = hl;
    }
  }
  if (tpl === null && ol.type === TYPE_RESPONSE && ol.cmd === CMD_RESPONSE && original.length >= ol.contentAt) {
    tpl = original;
    tl = ol;
  }
  const e = echo(original);
  const section = sectionFor(headers, tpl, tl);
  if (tpl !== null && tl !== null) {
    const status = tpl.readUInt16BE(timeoutOrStatusOffset(tl.v2));
    return buildFrame(e.v2, e.ver1, TYPE_RESPONSE, CMD_RESPONSE, e.ver2, getRequestId(original), e.codec, e.sw, status, classOf(tpl, tl), section, contentOf(tpl, tl, payload));
  }
  const bs = Number(headers.get('bolt-status'));
  const http = Number(headers.get(':status') ?? 200);
  const status = Number.isInteger(bs) && bs >= 0 && bs <= 0xffff && headers.has('bolt-status') ? bs : boltStatusForHttp(http);
  let cls = headers.get('bolt-class');
  let content = payload;
  if (status !== 0 && payload.length === 0 && e.codec === CODEC_HESSIAN2) {
    cls = CLASS_SERVER_EXCEPTION;
    content = encodeServerException(`upstream answered status ${http}`);
  }
  return buildFrame(e.v2, e.ver1, TYPE_RESPONSE, CMD_RESPONSE, e.ver2, getRequestId(original), e.codec, e.sw, status, Buffer.from(cls ?? CLASS_SOFA_RESPONSE, 'utf8'), section, content);
}

/** A whole frame from its parts; the CRC trailer is written when ver1 = 2 and the switch says so. */
function buildFrame(
  v2: boolean,
  ver1: number,
  type: number,
  cmd: number,
  ver2: number,
  id: number,
  codec: number,
  sw: number,
  timeoutOrStatus: number,
  cls: Buffer,
  section: Buffer,
  content: Buffer,
): Buffer {
  const response = type === TYPE_RESPONSE;
  const fixed = (response ? 20 : 22) + (v2 ? 2 : 0);
  const crc = v2 && ver1 === 2 && (sw & 1) === 1;
  if (cls.length > 0xffff) throw new RangeError('bolt: class name too long');
  const total = fixed + cls.length + section.length + content.length + (crc ? 4 : 0);
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  out[p++] = v2 ? PROTO_V2 : PROTO_V1;
  if (v2) out[p++] = ver1;
  out[p++] = type;
  out.writeUInt16BE(cmd, p);
  p += 2;
  out[p++] = ver2;
  out.writeUInt32BE(id >>> 0, p);
  p += 4;
  out[p++] = codec;
  if (v2) out[p++] = sw;
  if (response) {
    out.writeUInt16BE(timeoutOrStatus & 0xffff, p);
    p += 2;
  } else {
    out.writeInt32BE(timeoutOrStatus | 0, p);
    p += 4;
  }
  out.writeUInt16BE(cls.length, p);
  out.writeUInt16BE(section.length, p + 2);
  out.writeUInt32BE(content.length, p + 4);
  p += 8;
  cls.copy(out, p);
  p += cls.length;
  section.copy(out, p);
  p += section.length;
  content.copy(out, p);
  if (crc) writeCrc(out, total);
  return out;
}

/** Fields of a request a reply echoes: version bytes, codec, switch. */
function echo(request: Buffer): { v2: boolean; ver1: number; ver2: number; codec: number; sw: number } {
  const v2 = request[0] === PROTO_V2 && request.length >= 12;
  if (v2) return { v2, ver1: request[1], ver2: request[5], codec: request[10], sw: request[11] };
  return { v2: false, ver1: 1, ver2: request.length > 4 ? request[4] : 1, codec: request.length > 9 ? request[9] : CODEC_HESSIAN2, sw: 0 };
}

function heartbeatResponse(request: Buffer, _info: FrameInfo): Buffer {
  const e = echo(request);
  return buildFrame(e.v2, e.ver1, TYPE_RESPONSE, CMD_HEARTBEAT, e.ver2, getRequestId(request), e.codec, e.sw, 0, EMPTY, EMPTY, EMPTY);
}

function heartbeatRequest(id: number): Buffer {
  return buildFrame(false, 1, 1, CMD_HEARTBEAT, 1, id, CODEC_HESSIAN2, 0, HEARTBEAT_TIMEOUT_MS, EMPTY, EMPTY, EMPTY);
}

function messageOf(reply: LocalReply): string {
  if (reply.details !== undefined && reply.details !== '') return reply.details;
  if (typeof reply.body === 'string' && reply.body !== '') return reply.body;
  if (Buffer.isBuffer(reply.body) && reply.body.length > 0) return reply.body.toString('utf8');
  return `switchyard: ${reply.reason.replace(/_/g, ' ')} (${reply.status})`;
}

function localReply(request: Buffer, _info: FrameInfo, reply: LocalReply): Buffer {
  const e = echo(request);
  const status = boltStatusFor(reply);
  // Only hessian2 peers can read the exception; others get an empty content (their client then
  // reports the status alone).
  const content = e.codec === CODEC_HESSIAN2 ? encodeServerException(messageOf(reply)) : EMPTY;
  return buildFrame(e.v2, e.ver1, TYPE_RESPONSE, CMD_RESPONSE, e.ver2, getRequestId(request), e.codec, e.sw, status, SERVER_EXCEPTION_CLASS, EMPTY, content);
}

export const boltCodec: RpcCodec = {
  name: 'bolt',
  poolMode: 'multiplex',
  match,
  peek,
  getRequestId,
  setRequestId,
  setTimeoutMs,
  requestHeaders,
  responseHeaders,
  encodeRequest,
  encodeResponse,
  heartbeatResponse,
  heartbeatRequest,
  localReply,
};
