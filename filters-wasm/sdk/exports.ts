// Switchyard proxy-wasm SDK: every export of a proxy-wasm 0.2.1 module — the ABI marker, the
// allocator, and the proxy_on_* callbacks, each routed to the context object for its id. A filter's
// entry file re-exports this module (`export * from "../sdk/exports"`). Must never call the host on
// the stream path itself (only user code does) and never trap on an unknown context id.

import "./abort";
import { Action } from "./types";
import { allocate } from "./memory";
import { setEffectiveContext } from "./host";
import { collectCounted, collectIfGrown } from "./gc";
import {
  BaseContext, createRoot, createStream, find, findRoot, findStream, forget, isLive, pendingCalls,
} from "./context";

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_memory_allocate(size: usize): usize { return allocate(size); }
/** Deprecated name of the allocator; some hosts still look for it first. */
export function malloc(size: usize): usize { return allocate(size); }

export function proxy_on_context_create(contextId: u32, parentContextId: u32): void {
  if (parentContextId == 0) createRoot(contextId);
  else createStream(contextId, parentContextId);
}

export function proxy_on_vm_start(rootContextId: u32, vmConfigurationSize: u32): i32 {
  const r = findRoot(rootContextId);
  if (r === null) return 1;
  r.vmConfigurationSize = vmConfigurationSize;
  const ok = r.onVmStart(vmConfigurationSize);
  collectCounted();
  return ok ? 1 : 0;
}

export function proxy_on_configure(rootContextId: u32, configurationSize: u32): i32 {
  const r = findRoot(rootContextId);
  if (r === null) return 1;
  r.configurationSize = configurationSize;
  const ok = r.onConfigure(configurationSize);
  collectCounted();
  return ok ? 1 : 0;
}

export function proxy_on_tick(rootContextId: u32): void {
  const r = findRoot(rootContextId);
  if (r !== null) r.onTick();
  collectCounted();
}

export function proxy_on_queue_ready(rootContextId: u32, queueId: u32): void {
  const r = findRoot(rootContextId);
  if (r !== null) r.onQueueReady(queueId);
  collectCounted();
}

// ---- HTTP streams ----

export function proxy_on_request_headers(contextId: u32, numHeaders: u32, endOfStream: u32): i32 {
  const c = findStream(contextId);
  return c === null ? Action.Continue : c.onRequestHeaders(numHeaders, endOfStream != 0);
}

export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: u32): i32 {
  const c = findStream(contextId);
  if (c === null) return Action.Continue;
  c.requestBodySize = bodySize;
  const a = c.onRequestBody(bodySize, endOfStream != 0);
  collectIfGrown();
  return a;
}

export function proxy_on_request_trailers(contextId: u32, numTrailers: u32): i32 {
  const c = findStream(contextId);
  return c === null ? Action.Continue : c.onRequestTrailers(numTrailers);
}

export function proxy_on_response_headers(contextId: u32, numHeaders: u32, endOfStream: u32): i32 {
  const c = findStream(contextId);
  return c === null ? Action.Continue : c.onResponseHeaders(numHeaders, endOfStream != 0);
}

export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: u32): i32 {
  const c = findStream(contextId);
  if (c === null) return Action.Continue;
  c.responseBodySize = bodySize;
  const a = c.onResponseBody(bodySize, endOfStream != 0);
  collectIfGrown();
  return a;
}

export function proxy_on_response_trailers(contextId: u32, numTrailers: u32): i32 {
  const c = findStream(contextId);
  return c === null ? Action.Continue : c.onResponseTrailers(numTrailers);
}

// ---- TCP streams ----

export function proxy_on_new_connection(contextId: u32): i32 {
  const c = findStream(contextId);
  return c === null ? Action.Continue : c.onNewConnection();
}

export function proxy_on_downstream_data(contextId: u32, dataSize: u32, endOfStream: u32): i32 {
  const c = findStream(contextId);
  return c === null ? Action.Continue : c.onDownstreamData(dataSize, endOfStream != 0);
}

export function proxy_on_upstream_data(contextId: u32, dataSize: u32, endOfStream: u32): i32 {
  const c = findStream(contextId);
  return c === null ? Action.Continue : c.onUpstreamData(dataSize, endOfStream != 0);
}

export function proxy_on_downstream_connection_close(contextId: u32, peerType: u32): void {
  const c = findStream(contextId);
  if (c !== null) c.onDownstreamConnectionClose(<i32>peerType);
}

export function proxy_on_upstream_connection_close(contextId: u32, peerType: u32): void {
  const c = findStream(contextId);
  if (c !== null) c.onUpstreamConnectionClose(<i32>peerType);
}

// ---- HTTP calls ----

export function proxy_on_http_call_response(contextId: u32, callId: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  deliverHttpCallResponse(contextId, callId, numHeaders, bodySize, numTrailers);
  collectCounted();
}

function deliverHttpCallResponse(contextId: u32, callId: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  let owner: BaseContext | null = null;
  if (pendingCalls.has(callId)) {
    owner = pendingCalls.get(callId);
    pendingCalls.delete(callId);
    if (!isLive(owner)) return; // the stream went away while the call was in flight
  } else {
    owner = find(contextId);
    if (owner === null) return;
  }
  // Hosts deliver the answer on the plugin context; streams need to act on their own.
  if (owner.id != contextId) setEffectiveContext(owner.id);
  owner.onHttpCallResponse(callId, numHeaders, bodySize, numTrailers);
}

// ---- lifecycle ----

export function proxy_on_done(contextId: u32): i32 {
  const c = find(contextId);
  return c === null || c.onDone() ? 1 : 0;
}

export function proxy_on_log(contextId: u32): void {
  const c = find(contextId);
  if (c !== null) c.onLog();
}

export function proxy_on_delete(contextId: u32): void {
  const c = find(contextId);
  if (c === null) return;
  c.onDelete();
  forget(contextId);
  collectCounted();
}
