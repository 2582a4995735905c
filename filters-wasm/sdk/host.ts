// Switchyard proxy-wasm SDK: typed wrappers of the host functions that aren't about header maps —
// logging, time, ticks, buffers (bodies, configuration), local replies, stream control, properties,
// shared data, shared queues and HTTP calls. Each wrapper is one host call; strings are encoded into
// reused scratch. Must never cache host state that the host may change (log level excepted, on request).

import * as abi from "./imports";
import { BufferType, NO_GRPC_STATUS, Status, StreamType } from "./types";
import {
  RET, armBuffer, armScratch, outBlock, readUtf8, releaseScratch, retLen, retPtr, retU32, retU64, takeBuffer,
  textBound, writeText,
} from "./memory";
import { Headers } from "./headers";

// ---- logging ----

let cachedLevel: i32 = -1;

/** Logs `message` (UTF-8) at `level` (LogLevel.*). */
export function log(level: i32, message: string): void {
  const n = String.UTF8.byteLength(message);
  const p = outBlock(<usize>n);
  String.UTF8.encodeUnsafe(changetype<usize>(message), message.length, p);
  abi.proxy_log(level, p, <usize>n);
}
export function logTrace(m: string): void { log(0, m); }
export function logDebug(m: string): void { log(1, m); }
export function logInfo(m: string): void { log(2, m); }
export function logWarn(m: string): void { log(3, m); }
export function logError(m: string): void { log(4, m); }

/** The host's log level; cached after the first query until `refreshLogLevel()`. */
export function logLevel(): i32 {
  if (cachedLevel < 0) refreshLogLevel();
  return cachedLevel;
}
export function refreshLogLevel(): void {
  store<u32>(RET, 0, 8);
  cachedLevel = abi.proxy_get_log_level(RET + 8) == Status.Ok ? <i32>retU32() : 2;
}
/** Whether a message at `level` would be kept: build expensive log lines only when true. */
export function logEnabled(level: i32): bool { return level >= logLevel(); }

// ---- time and ticks ----

/** Host time in nanoseconds since the epoch (hosts may freeze it per callback). */
export function currentTimeNanos(): u64 {
  store<u64>(RET, 0, 16);
  abi.proxy_get_current_time_nanoseconds(RET + 16);
  return retU64();
}

/** Calls the root context's onTick every `ms` milliseconds (0 stops). */
export function setTickPeriod(ms: u32): i32 { return abi.proxy_set_tick_period_milliseconds(ms); }

// ---- buffers ----

/** Bytes [start, start+max) of a buffer (BufferType.*), or null when unavailable. No guest copy. */
export function getBuffer(bufferType: i32, start: u32 = 0, max: u32 = 0xffffffff): ArrayBuffer | null {
  armBuffer();
  return takeBuffer(abi.proxy_get_buffer_bytes(bufferType, start, max, RET, RET + 4));
}

/** Replaces `size` bytes at `start` of a buffer with `value` (start 0 size 0 prepends). */
export function setBuffer(bufferType: i32, start: u32, size: u32, value: ArrayBuffer): i32 {
  return abi.proxy_set_buffer_bytes(bufferType, start, size, changetype<usize>(value), value.byteLength);
}

/** Size of a buffer, or -1 when unavailable. */
export function bufferSize(bufferType: i32): i64 {
  store<u32>(RET, 0, 4);
  const st = abi.proxy_get_buffer_status(bufferType, RET + 4, RET + 8);
  return st == Status.Ok ? <i64>retLen() : -1;
}

/** A buffer decoded as UTF-8 (e.g. the plugin configuration), or null. */
export function getBufferString(bufferType: i32, start: u32 = 0, max: u32 = 0xffffffff): string | null {
  armScratch();
  const st = abi.proxy_get_buffer_bytes(bufferType, start, max, RET, RET + 4);
  const p = retPtr();
  const s = st == Status.Ok ? readUtf8(p, retLen()) : null;
  releaseScratch(p);
  return s;
}

// ---- local replies and stream control ----

/**
 * Answers the current stream locally instead of forwarding it: `status`, UTF-8 `body`, extra
 * `headers`, and `details` (a short reason for logs). For RPC streams the host renders the status
 * as the protocol's error. After calling it, return Action.Pause from the hook.
 */
export function sendLocalResponse(status: u32, body: string = "", headers: Headers | null = null, details: string = "", grpcStatus: i32 = NO_GRPC_STATUS): i32 {
  const hs = headers === null ? EMPTY_MAP : headers.serialize();
  const bodyLen = <usize>String.UTF8.byteLength(body);
  const blk = outBlock(bodyLen + textBound(details));
  String.UTF8.encodeUnsafe(changetype<usize>(body), body.length, blk);
  const dl = writeText(details, blk + bodyLen);
  return abi.proxy_send_local_response(status, blk + bodyLen, dl, blk, bodyLen, changetype<usize>(hs), hs.byteLength, grpcStatus);
}

/** sendLocalResponse with a byte body. */
export function sendLocalResponseBytes(status: u32, body: ArrayBuffer | null, headers: Headers | null = null, details: string = "", grpcStatus: i32 = NO_GRPC_STATUS): i32 {
  const hs = headers === null ? EMPTY_MAP : headers.serialize();
  const blk = outBlock(textBound(details));
  const dl = writeText(details, blk);
  const bp: usize = body === null ? 0 : changetype<usize>(body);
  const bl: usize = body === null ? 0 : <usize>body.byteLength;
  return abi.proxy_send_local_response(status, blk, dl, bp, bl, changetype<usize>(hs), hs.byteLength, grpcStatus);
}

const EMPTY_MAP: ArrayBuffer = new ArrayBuffer(4);

export function continueStream(streamType: i32): i32 { return abi.proxy_continue_stream(streamType); }
export function closeStream(streamType: i32): i32 { return abi.proxy_close_stream(streamType); }
export function continueRequest(): i32 { return abi.proxy_continue_stream(StreamType.Request); }
export function continueResponse(): i32 { return abi.proxy_continue_stream(StreamType.Response); }
export function setEffectiveContext(contextId: u32): i32 { return abi.proxy_set_effective_context(contextId); }
/** Tells the host a context that returned false from onDone is now done. */
export function done(): i32 { return abi.proxy_done(); }

// ---- properties ----

/** A property's raw value; `path` is sent as given (use getPropertyPath for NUL-joined segments). */
export function getProperty(path: string): ArrayBuffer | null {
  const k = outBlock(textBound(path));
  const kl = writeText(path, k);
  armBuffer();
  return takeBuffer(abi.proxy_get_property(k, kl, RET, RET + 4));
}

/** A property's value decoded as UTF-8, or null. */
export function getPropertyString(path: string): string | null {
  const k = outBlock(textBound(path));
  const kl = writeText(path, k);
  armScratch();
  const st = abi.proxy_get_property(k, kl, RET, RET + 4);
  const p = retPtr();
  const s = st == Status.Ok ? readUtf8(p, retLen()) : null;
  releaseScratch(p);
  return s;
}

/** A property addressed by segments, joined with NUL as Envoy-style hosts expect. */
export function getPropertyPath(segments: Array<string>): ArrayBuffer | null {
  return getProperty(segments.join("\0"));
}

export function setProperty(path: string, value: ArrayBuffer): i32 {
  const k = outBlock(textBound(path));
  const kl = writeText(path, k);
  return abi.proxy_set_property(k, kl, changetype<usize>(value), value.byteLength);
}

// ---- shared data ----

/** Result of getSharedData: status, value (null unless Ok) and the CAS token for setSharedData. */
export class SharedValue {
  constructor(public status: i32, public value: ArrayBuffer | null, public cas: u32) {}
}

/** Reads shared data (visible to every VM of the host). No guest copy of the value. */
export function getSharedData(key: string): SharedValue {
  const k = outBlock(textBound(key));
  const kl = writeText(key, k);
  store<u32>(RET, 0, 8);
  armBuffer();
  const st = abi.proxy_get_shared_data(k, kl, RET, RET + 4, RET + 8);
  const cas = retU32();
  return new SharedValue(st, takeBuffer(st), cas);
}

/** Writes shared data; with a non-zero `cas` it fails with Status.CasMismatch if the value changed. */
export function setSharedData(key: string, value: ArrayBuffer, cas: u32 = 0): i32 {
  const k = outBlock(textBound(key));
  const kl = writeText(key, k);
  return abi.proxy_set_shared_data(k, kl, changetype<usize>(value), value.byteLength, cas);
}

// ---- shared queues ----

/** Registers (or opens) a queue of this VM; returns its id, or 0 on failure. */
export function registerSharedQueue(name: string): u32 {
  const k = outBlock(textBound(name));
  const kl = writeText(name, k);
  store<u32>(RET, 0, 8);
  return abi.proxy_register_shared_queue(k, kl, RET + 8) == Status.Ok ? retU32() : 0;
}

/** Finds a queue registered by VM `vmId`; returns its id, or 0 when not found. */
export function resolveSharedQueue(vmId: string, name: string): u32 {
  const blk = outBlock(textBound(vmId) + textBound(name));
  const vl = writeText(vmId, blk);
  const nl = writeText(name, blk + vl);
  store<u32>(RET, 0, 8);
  return abi.proxy_resolve_shared_queue(blk, vl, blk + vl, nl, RET + 8) == Status.Ok ? retU32() : 0;
}

export function enqueueSharedQueue(queueId: u32, value: ArrayBuffer): i32 {
  return abi.proxy_enqueue_shared_queue(queueId, changetype<usize>(value), value.byteLength);
}

/** The next item of a queue, or null when empty (or unknown). */
export function dequeueSharedQueue(queueId: u32): ArrayBuffer | null {
  armBuffer();
  return takeBuffer(abi.proxy_dequeue_shared_queue(queueId, RET, RET + 4));
}

// ---- HTTP calls (low level; contexts wrap these with callback routing) ----

let lastToken: u32 = 0;

/** Sends a request to `cluster`; on Ok the call id is lastCallId(). Headers must carry :method, :path, :authority. */
export function httpCallRaw(cluster: string, headers: ArrayBuffer, body: ArrayBuffer | null, trailers: ArrayBuffer | null, timeoutMs: u32): i32 {
  const k = outBlock(textBound(cluster));
  const kl = writeText(cluster, k);
  const bp: usize = body === null ? 0 : changetype<usize>(body);
  const bl: usize = body === null ? 0 : <usize>body.byteLength;
  const tr = trailers === null ? EMPTY_MAP : trailers;
  store<u32>(RET, 0, 8);
  const st = abi.proxy_http_call(k, kl, changetype<usize>(headers), headers.byteLength, bp, bl, changetype<usize>(tr), tr.byteLength, timeoutMs, RET + 8);
  lastToken = st == Status.Ok ? retU32() : 0;
  return st;
}

/** Id of the call the last successful httpCall started. */
export function lastCallId(): u32 { return lastToken; }

/** The status code of the finished HTTP call (in onHttpCallResponse), or 0. */
export function callStatus(): u32 {
  store<u32>(RET, 0, 8);
  armScratch();
  const st = abi.proxy_get_status(RET + 8, RET, RET + 4);
  releaseScratch(retPtr());
  return st == Status.Ok ? retU32() : 0;
}

/** The body of the finished HTTP call (in onHttpCallResponse). */
export function httpCallResponseBody(start: u32 = 0, max: u32 = 0xffffffff): ArrayBuffer | null {
  return getBuffer(BufferType.HttpCallResponseBody, start, max);
}
