/**
 * Wire frames of the rpc benchmark (Dubbo 2 / hessian2 and Bolt v1), shared by the load generator
 * (bench/load/rpc-load.ts), the responder (bench/upstream/rpc-responder.ts) and the suite's probe:
 * builds the canned request and response frames once (hessian bodies through the hessian.js and
 * sofa-bolt-node encoders found in node_modules), rewrites request ids in place, and finds frame
 * boundaries and ids in a byte stream. Pure functions over Buffers, unit-tested in
 * test/unit/bench-rpc-frames.test.ts.
 * Must never: touch sockets, or decode a hessian body on the per-request path.
 */

export type RpcProtocol = 'dubbo' | 'bolt';
export const RPC_PROTOCOLS: readonly RpcProtocol[] = ['dubbo', 'bolt'];

export const DUBBO_HEADER = 16;
export const DUBBO_MAGIC_HI = 0xda;
export const DUBBO_MAGIC_LO = 0xbb;
export const DUBBO_FLAG_REQUEST = 0x80;
export const DUBBO_FLAG_TWOWAY = 0x40;
export const DUBBO_FLAG_EVENT = 0x20;
export const DUBBO_HESSIAN2 = 2;
export const DUBBO_OK = 20;

export const BOLT_V1 = 0x01;
export const BOLT_REQ_HEADER = 22;
export const BOLT_RES_HEADER = 20;
export const BOLT_TYPE_RESPONSE = 0;
export const BOLT_TYPE_REQUEST = 1;
export const BOLT_TYPE_ONEWAY = 2;
export const BOLT_CMD_HEARTBEAT = 0;
export const BOLT_CMD_REQUEST = 1;
export const BOLT_CMD_RESPONSE = 2;
export const BOLT_CODEC_HESSIAN2 = 1;
export const BOLT_SUCCESS = 0;
export const BOLT_RESPONSE_CLASS = 'com.alipay.sofa.rpc.core.response.SofaResponse';

/** What the benchmark calls: one service, one method, one string argument. */
export interface CallSpec {
  service: string;
  method: string;
  version: string;
  group: string;
  /** Length of the string argument in characters (ASCII). */
  argBytes: number;
}

export const DEFAULT_CALL: CallSpec = { service: 'com.example.Echo', method: 'echo', version: '1.0.0', group: 'bench', argBytes: 100 };

/** The ASCII argument string of `n` characters (deterministic, not all one letter). */
export function argString(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + (i % 26));
  return s;
}

// ---------------------------------------------------------------------------------------------
// Frame boundaries and ids

/**
 * Total length of the frame starting at buf[at], or -1 when fewer bytes than its header are there
 * yet. Throws on bytes that are not a frame of `protocol` (bad magic / unknown Bolt version).
 */
export function frameLength(protocol: RpcProtocol, buf: Buffer, at: number): number {
  const avail = buf.length - at;
  if (protocol === 'dubbo') {
    if (avail >= 1 && buf[at] !== DUBBO_MAGIC_HI) throw new Error(`not a Dubbo frame (first byte 0x${buf[at].toString(16)})`);
    if (avail >= 2 && buf[at + 1] !== DUBBO_MAGIC_LO) throw new Error(`not a Dubbo frame (second byte 0x${buf[at + 1].toString(16)})`);
    if (avail < DUBBO_HEADER) return -1;
    return DUBBO_HEADER + buf.readUInt32BE(at + 12);
  }
  if (avail >= 1 && buf[at] !== BOLT_V1) throw new Error(`not a Bolt v1 frame (first byte 0x${buf[at].toString(16)})`);
  if (avail < 2) return -1;
  const type = buf[at + 1];
  if (type === BOLT_TYPE_RESPONSE) {
    if (avail < BOLT_RES_HEADER) return -1;
    return BOLT_RES_HEADER + buf.readUInt16BE(at + 12) + buf.readUInt16BE(at + 14) + buf.readUInt32BE(at + 16);
  }
  if (type === BOLT_TYPE_REQUEST || type === BOLT_TYPE_ONEWAY) {
    if (avail < BOLT_REQ_HEADER) return -1;
    return BOLT_REQ_HEADER + buf.readUInt16BE(at + 14) + buf.readUInt16BE(at + 16) + buf.readUInt32BE(at + 18);
  }
  throw new Error(`unknown Bolt frame type ${type}`);
}

/** Request id of the frame at buf[at] (Dubbo: low 32 bits of the u64 — the benchmark's ids fit). */
export function frameId(protocol: RpcProtocol, buf: Buffer, at: number): number {
  return protocol === 'dubbo' ? buf.readUInt32BE(at + 8) : buf.readUInt32BE(at + 5);
}

/** Writes request id `id` (0 ≤ id < 2^32) into the frame at buf[at]. */
export function setFrameId(protocol: RpcProtocol, buf: Buffer, at: number, id: number): void {
  if (protocol === 'dubbo') {
    buf.writeUInt32BE(0, at + 4);
    buf.writeUInt32BE(id, at + 8);
  } else {
    buf.writeUInt32BE(id, at + 5);
  }
}

/** Copies the request id of src[srcAt] into dst[dstAt] (Dubbo: all 8 bytes). */
export function copyFrameId(protocol: RpcProtocol, src: Buffer, srcAt: number, dst: Buffer, dstAt: number): void {
  if (protocol === 'dubbo') src.copy(dst, dstAt + 4, srcAt + 4, srcAt + 12);
  else src.copy(dst, dstAt + 5, srcAt + 5, srcAt + 9);
}

export type FrameClass = 'request' | 'oneway' | 'response' | 'heartbeat-request' | 'heartbeat-response';

/** Classifies the (complete-header) frame at buf[at]. */
export function classify(protocol: RpcProtocol, buf: Buffer, at: number): FrameClass {
  if (protocol === 'dubbo') {
    const flag = buf[at + 2];
    const event = (flag & DUBBO_FLAG_EVENT) !== 0;
    if ((flag & DUBBO_FLAG_REQUEST) === 0) return event ? 'heartbeat-response' : 'response';
    if (event) return 'heartbeat-request';
    return (flag & DUBBO_FLAG_TWOWAY) !== 0 ? 'request' : 'oneway';
  }
  const type = buf[at + 1];
  const cmd = buf.readUInt16BE(at + 2);
  if (type === BOLT_TYPE_RESPONSE) return cmd === BOLT_CMD_HEARTBEAT ? 'heartbeat-response' : 'response';
  if (cmd === BOLT_CMD_HEARTBEAT) return 'heartbeat-request';
  return type === BOLT_TYPE_ONEWAY ? 'oneway' : 'request';
}

/** Whether the response frame at buf[at] reports success (Dubbo status 20, Bolt status 0). */
export function responseOk(protocol: RpcProtocol, buf: Buffer, at: number): boolean {
  return protocol === 'dubbo' ? buf[at + 3] === DUBBO_OK : buf.readUInt16BE(at + 10) === BOLT_SUCCESS;
}

/** The protocol status of the response frame at buf[at]. */
export function responseStatus(protocol: RpcProtocol, buf: Buffer, at: number): number {
  return protocol === 'dubbo' ? buf[at + 3] : buf.readUInt16BE(at + 10);
}

// ---------------------------------------------------------------------------------------------
// Hand-built pieces

/** Bolt header map: for each entry u32 key length, key, u32 value length, value (UTF-8). */
export function encodeBoltHeaderMap(map: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(map)) {
    const kb = Buffer.from(k, 'utf8');
    const vb = Buffer.from(v, 'utf8');
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(kb.length, 0);
    const vlen = Buffer.allocUnsafe(4);
    vlen.writeUInt32BE(vb.length, 0);
    parts.push(len, kb, vlen, vb);
  }
  return Buffer.concat(parts);
}

/** Inverse of encodeBoltHeaderMap (throws on truncated input). */
export function decodeBoltHeaderMap(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let p = 0;
  while (p < buf.length) {
    if (p + 4 > buf.length) throw new Error('truncated Bolt header map');
    const kl = buf.readUInt32BE(p);
    p += 4;
    if (p + kl + 4 > buf.length) throw new Error('truncated Bolt header map');
    const k = buf.toString('utf8', p, p + kl);
    p += kl;
    const vl = buf.readUInt32BE(p);
    p += 4;
    if (p + vl > buf.length) throw new Error('truncated Bolt header map');
    out[k] = buf.toString('utf8', p, p + vl);
    p += vl;
  }
  return out;
}

/** Dubbo heartbeat response: flag 0x22 (event, hessian2), status 20, the request's id, body `N`. */
export function dubboHeartbeatResponse(req: Buffer, at: number): Buffer {
  const out = Buffer.alloc(DUBBO_HEADER + 1);
  out[0] = DUBBO_MAGIC_HI;
  out[1] = DUBBO_MAGIC_LO;
  out[2] = DUBBO_FLAG_EVENT | DUBBO_HESSIAN2;
  out[3] = DUBBO_OK;
  copyFrameId('dubbo', req, at, out, 0);
  out.writeUInt32BE(1, 12);
  out[16] = 0x4e; // hessian null
  return out;
}

/** Bolt v1 heartbeat ack: type response, cmd code heartbeat, the request's id and codec, status 0. */
export function boltHeartbeatAck(req: Buffer, at: number): Buffer {
  const out = Buffer.alloc(BOLT_RES_HEADER);
  out[0] = BOLT_V1;
  out[1] = BOLT_TYPE_RESPONSE;
  out.writeUInt16BE(BOLT_CMD_HEARTBEAT, 2);
  out[4] = 1;
  copyFrameId('bolt', req, at, out, 0);
  out[9] = req[at + 9];
  return out;
}

/** The reply a peer owes to the heartbeat request at buf[at]. */
export function heartbeatReply(protocol: RpcProtocol, buf: Buffer, at: number): Buffer {
  return protocol === 'dubbo' ? dubboHeartbeatResponse(buf, at) : boltHeartbeatAck(buf, at);
}

/** A Dubbo heartbeat request (two-way event, body hessian null) with id `id`. */
export function dubboHeartbeatRequest(id: number): Buffer {
  const out = Buffer.alloc(DUBBO_HEADER + 1);
  out[0] = DUBBO_MAGIC_HI;
  out[1] = DUBBO_MAGIC_LO;
  out[2] = DUBBO_FLAG_REQUEST | DUBBO_FLAG_TWOWAY | DUBBO_FLAG_EVENT | DUBBO_HESSIAN2;
  setFrameId('dubbo', out, 0, id);
  out.writeUInt32BE(1, 12);
  out[16] = 0x4e;
  return out;
}

/** A Bolt v1 heartbeat request with id `id` (no class, header or content). */
export function boltHeartbeatRequest(id: number): Buffer {
  const out = Buffer.alloc(BOLT_REQ_HEADER);
  out[0] = BOLT_V1;
  out[1] = BOLT_TYPE_REQUEST;
  out.writeUInt16BE(BOLT_CMD_HEARTBEAT, 2);
  out[4] = 1;
  setFrameId('bolt', out, 0, id);
  out[9] = BOLT_CODEC_HESSIAN2;
  out.writeInt32BE(1000, 10);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoder-built frames (hessian bodies)

interface HessianEncoderV2 {
  write(v: unknown): unknown;
  get(): Buffer;
}
interface BoltProtocol {
  requestEncode(id: number, req: object, options: object): Buffer;
  responseEncode(id: number, res: object, options: object): Buffer;
}

function hessianV2(): new () => HessianEncoderV2 {
  return (require('hessian.js') as { EncoderV2: new () => HessianEncoderV2 }).EncoderV2;
}
function boltProtocol(): BoltProtocol {
  return require('sofa-bolt-node/lib/protocol') as BoltProtocol;
}

function dubboFrame(flag: number, status: number, id: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(DUBBO_HEADER + body.length);
  out[0] = DUBBO_MAGIC_HI;
  out[1] = DUBBO_MAGIC_LO;
  out[2] = flag;
  out[3] = status;
  setFrameId('dubbo', out, 0, id);
  out.writeUInt32BE(body.length, 12);
  body.copy(out, DUBBO_HEADER);
  return out;
}

/**
 * Dubbo 2 two-way request, hessian2 body: dubbo version 2.0.2, path, version, method, parameter
 * descriptor `Ljava/lang/String;`, the string argument, attachments (path, interface, version,
 * group, timeout).
 */
export function buildDubboRequest(call: CallSpec = DEFAULT_CALL, id = 1): Buffer {
  const Enc = hessianV2();
  const e = new Enc();
  e.write('2.0.2');
  e.write(call.service);
  e.write(call.version);
  e.write(call.method);
  e.write('Ljava/lang/String;');
  e.write(argString(call.argBytes));
  e.write({ path: call.service, interface: call.service, version: call.version, group: call.group, timeout: '3000' });
  return dubboFrame(DUBBO_FLAG_REQUEST | DUBBO_FLAG_TWOWAY | DUBBO_HESSIAN2, 0, id, e.get());
}

/**
 * Dubbo 2 success response: flag 0x02 (response, hessian2), status 20, body = hessian int 1
 * (RESPONSE_VALUE, encoded 0x91) followed by the string `value`.
 */
export function buildDubboResponse(id = 1, value = 'ok'): Buffer {
  const Enc = hessianV2();
  const e = new Enc();
  e.write(1);
  e.write(value);
  return dubboFrame(DUBBO_HESSIAN2, DUBBO_OK, id, e.get());
}

/**
 * Bolt v1 request, codec hessian2, timeout 3000 ms: class SofaRequest, header map `service`
 * (`<service>:<version>`, as SOFARPC sends it), `sofa_head_method_name`, `sofa_head_target_service`,
 * and the SofaRequest content encoded by sofa-bolt-node (which writes only `service` in the header
 * map itself; the map is replaced here).
 */
export function buildBoltRequest(call: CallSpec = DEFAULT_CALL, id = 1): Buffer {
  const signature = `${call.service}:${call.version}`;
  const base = boltProtocol().requestEncode(
    id,
    { serverSignature: signature, methodName: call.method, args: [{ $class: 'java.lang.String', $: argString(call.argBytes) }], timeout: 3000, requestProps: {} },
    { protocolType: 'bolt', codecType: 'hessian2', boltVersion: 1 },
  );
  const classLen = base.readUInt16BE(14);
  const headerLen = base.readUInt16BE(16);
  const contentLen = base.readUInt32BE(18);
  const cls = base.subarray(BOLT_REQ_HEADER, BOLT_REQ_HEADER + classLen);
  const content = base.subarray(BOLT_REQ_HEADER + classLen + headerLen, BOLT_REQ_HEADER + classLen + headerLen + contentLen);
  const header = encodeBoltHeaderMap({ service: signature, sofa_head_method_name: call.method, sofa_head_target_service: signature });
  const head = Buffer.from(base.subarray(0, BOLT_REQ_HEADER));
  head.writeUInt16BE(header.length, 16);
  return Buffer.concat([head, cls, header, content]);
}

/** Bolt v1 success response: class SofaResponse, no header map, SofaResponse content `{ appResponse: value }`. */
export function buildBoltResponse(id = 1, value = 'ok'): Buffer {
  return Buffer.from(
    boltProtocol().responseEncode(id, { isError: false, errorMsg: null, appResponse: value }, { protocolType: 'bolt', codecType: 'hessian2', boltVersion: 1 }),
  );
}

export function buildRequest(protocol: RpcProtocol, call: CallSpec = DEFAULT_CALL, id = 1): Buffer {
  return protocol === 'dubbo' ? buildDubboRequest(call, id) : buildBoltRequest(call, id);
}

export function buildResponse(protocol: RpcProtocol, id = 1, value = 'ok'): Buffer {
  return protocol === 'dubbo' ? buildDubboResponse(id, value) : buildBoltResponse(id, value);
}

export function isRpcProtocol(s: string): s is RpcProtocol {
  return s === 'dubbo' || s === 'bolt';
}
