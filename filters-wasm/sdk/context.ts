// Switchyard proxy-wasm SDK: the classes filters subclass — RootContext (one per plugin, holds
// configuration, ticks, queues, metrics) and Context (one per HTTP stream or TCP connection) — and
// the registry that maps context ids to objects and root ids to factories. Must never call the host
// while creating a stream context: a pass-through stream costs no host call at all.

import { Action, BufferType, StreamType, Status } from "./types";
import { HeaderMap, Headers, requestHeaders, requestTrailers, responseHeaders, responseTrailers, httpCallResponseHeaders, httpCallResponseTrailers } from "./headers";
import * as host from "./host";
import { JsonValue, parseJson } from "./json";

/** What every context has: its id, lifecycle hooks and HTTP calls whose answers come back to it. */
export class BaseContext {
  constructor(public readonly id: u32) {}

  /** Host is done with the context: true lets it finalize now, false defers until host.done(). */
  onDone(): bool { return true; }
  /** Last chance to log (headers are still readable). */
  onLog(): void {}
  /** The context is gone; drop state. */
  onDelete(): void {}

  /**
   * Answer to an HTTP call this context started. `numHeaders == 0` means the call failed (no
   * response, timeout, reset). Read the answer with httpCallResponseHeaders / responseBody().
   */
  onHttpCallResponse(callId: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {}

  /**
   * Sends an HTTP request to `cluster`; the answer arrives in this context's onHttpCallResponse.
   * `headers` must carry :method, :path and :authority. Returns a Status; the call id is lastCallId().
   */
  httpCall(cluster: string, headers: Headers, body: ArrayBuffer | null, timeoutMs: u32): i32 {
    return this.httpCallSerialized(cluster, headers.serialize(), body, timeoutMs);
  }

  /** httpCall with an already serialized header map. */
  httpCallSerialized(cluster: string, serializedHeaders: ArrayBuffer, body: ArrayBuffer | null, timeoutMs: u32): i32 {
    const st = host.httpCallRaw(cluster, serializedHeaders, body, null, timeoutMs);
    if (st == Status.Ok) pendingCalls.set(host.lastCallId(), this);
    return st;
  }

  /** Headers of the HTTP-call answer (valid inside onHttpCallResponse). */
  get callResponseHeaders(): HeaderMap { return httpCallResponseHeaders; }
  get callResponseTrailers(): HeaderMap { return httpCallResponseTrailers; }
  /** Body of the HTTP-call answer (valid inside onHttpCallResponse). */
  callResponseBody(): ArrayBuffer | null { return host.httpCallResponseBody(); }
}

/** Plugin-wide context: configuration, timers, queues, and the factory of stream contexts. */
export class RootContext extends BaseContext {
  /** Size of the configuration passed to the last onConfigure / onVmStart. */
  configurationSize: u32 = 0;
  vmConfigurationSize: u32 = 0;

  /** Creates the per-stream context; override to return your Context subclass. */
  createContext(id: u32): Context { return new Context(id, this); }

  /** The VM started; return false to reject it. */
  onVmStart(vmConfigurationSize: u32): bool { return true; }
  /** (Re)configured; return false to reject the configuration. */
  onConfigure(configurationSize: u32): bool { return true; }
  onTick(): void {}
  onQueueReady(queueId: u32): void {}

  /** The plugin configuration bytes (valid inside onConfigure). */
  configuration(): ArrayBuffer | null {
    if (this.configurationSize == 0) return new ArrayBuffer(0);
    return host.getBuffer(BufferType.PluginConfiguration, 0, this.configurationSize);
  }
  configurationString(): string {
    if (this.configurationSize == 0) return "";
    const s = host.getBufferString(BufferType.PluginConfiguration, 0, this.configurationSize);
    return s === null ? "" : s;
  }
  /** The configuration parsed as JSON; null if empty or invalid. */
  configurationJson(): JsonValue | null {
    const b = this.configuration();
    return b === null || b.byteLength == 0 ? null : parseJson(b);
  }
  vmConfiguration(): ArrayBuffer | null {
    if (this.vmConfigurationSize == 0) return new ArrayBuffer(0);
    return host.getBuffer(BufferType.VmConfiguration, 0, this.vmConfigurationSize);
  }

  setTickPeriod(ms: u32): i32 { return host.setTickPeriod(ms); }
}

/** Per-stream context (HTTP request/response pair, or a TCP connection). */
export class Context extends BaseContext {
  /** Size of the body buffered so far, as the last body callback reported it. */
  requestBodySize: u32 = 0;
  responseBodySize: u32 = 0;

  constructor(id: u32, public readonly root: RootContext) { super(id); }

  get requestHeaders(): HeaderMap { return requestHeaders; }
  get requestTrailers(): HeaderMap { return requestTrailers; }
  get responseHeaders(): HeaderMap { return responseHeaders; }
  get responseTrailers(): HeaderMap { return responseTrailers; }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): i32 { return Action.Continue; }
  onRequestBody(bodySize: u32, endOfStream: bool): i32 { return Action.Continue; }
  onRequestTrailers(numTrailers: u32): i32 { return Action.Continue; }
  onResponseHeaders(numHeaders: u32, endOfStream: bool): i32 { return Action.Continue; }
  onResponseBody(bodySize: u32, endOfStream: bool): i32 { return Action.Continue; }
  onResponseTrailers(numTrailers: u32): i32 { return Action.Continue; }

  onNewConnection(): i32 { return Action.Continue; }
  onDownstreamData(size: u32, endOfStream: bool): i32 { return Action.Continue; }
  onUpstreamData(size: u32, endOfStream: bool): i32 { return Action.Continue; }
  onDownstreamConnectionClose(peerType: i32): void {}
  onUpstreamConnectionClose(peerType: i32): void {}

  /** The request body received so far (inside onRequestBody, or while paused from it). */
  requestBody(): ArrayBuffer | null { return host.getBuffer(BufferType.RequestBody, 0, this.requestBodySize); }
  /** Replaces the whole request body seen so far. */
  setRequestBody(value: ArrayBuffer): i32 { return host.setBuffer(BufferType.RequestBody, 0, this.requestBodySize, value); }
  responseBody(): ArrayBuffer | null { return host.getBuffer(BufferType.ResponseBody, 0, this.responseBodySize); }
  setResponseBody(value: ArrayBuffer): i32 { return host.setBuffer(BufferType.ResponseBody, 0, this.responseBodySize, value); }

  /** Answers locally; return Action.Pause from the hook afterwards. */
  sendLocalResponse(status: u32, body: string = "", headers: Headers | null = null, details: string = ""): i32 {
    return host.sendLocalResponse(status, body, headers, details);
  }
  continueRequest(): i32 { return host.continueStream(StreamType.Request); }
  continueResponse(): i32 { return host.continueStream(StreamType.Response); }
  closeRequest(): i32 { return host.closeStream(StreamType.Request); }
  closeResponse(): i32 { return host.closeStream(StreamType.Response); }
}

// ---- registry ----

type RootFactory = (id: u32) => RootContext;

const factories = new Map<string, RootFactory>();
let factoryCount: i32 = 0;
let onlyFactory: RootFactory | null = null;

/**
 * Registers the root context factory for `rootId` (the plugin's root_id in the host configuration;
 * "" matches any). Call it at module top level; it makes no host call.
 */
export function registerRootContext(factory: RootFactory, rootId: string = ""): void {
  if (!factories.has(rootId)) factoryCount++;
  factories.set(rootId, factory);
  onlyFactory = factory;
}

/**
 * Live contexts: a direct-mapped table indexed by the low bits of the id, with a Map for the ones
 * whose slot is taken. Hosts hand out ids in sequence, so the streams in flight sit in distinct
 * slots: creating, finding and forgetting a context costs no hashing and no Map entry.
 */
const SLOTS: u32 = 256;
const slots = new StaticArray<BaseContext | null>(<i32>SLOTS);
const overflow = new Map<u32, BaseContext>();

function remember(c: BaseContext): void {
  const i = <i32>(c.id & (SLOTS - 1));
  const cur = unchecked(slots[i]);
  if (cur === null || cur.id == c.id) {
    unchecked(slots[i] = c);
    if (overflow.size > 0 && overflow.has(c.id)) overflow.delete(c.id);
  } else overflow.set(c.id, c);
}
export const pendingCalls = new Map<u32, BaseContext>();

export function createRoot(id: u32): void {
  let f: RootFactory | null = null;
  if (factoryCount == 1) f = onlyFactory;
  else if (factoryCount > 1) {
    const rid = host.getPropertyString("plugin_root_id");
    if (rid !== null && factories.has(rid)) f = factories.get(rid);
    else if (factories.has("")) f = factories.get("");
  }
  remember(f === null ? new RootContext(id) : f(id));
}

export function createStream(id: u32, rootId: u32): void {
  const r = find(rootId);
  const root = r !== null && r instanceof RootContext ? changetype<RootContext>(r) : new RootContext(rootId);
  remember(root.createContext(id));
}

export function find(id: u32): BaseContext | null {
  const hit = unchecked(slots[<i32>(id & (SLOTS - 1))]);
  if (hit !== null && hit.id == id) return hit;
  if (overflow.size == 0 || !overflow.has(id)) return null;
  return overflow.get(id);
}

/** The stream context `id`, or null when unknown or not a stream context. */
export function findStream(id: u32): Context | null {
  const c = find(id);
  return c !== null && c instanceof Context ? changetype<Context>(c) : null;
}

/** The root context `id`, or null. */
export function findRoot(id: u32): RootContext | null {
  const c = find(id);
  return c !== null && c instanceof RootContext ? changetype<RootContext>(c) : null;
}

export function forget(id: u32): void {
  const i = <i32>(id & (SLOTS - 1));
  const hit = unchecked(slots[i]);
  if (hit !== null && hit.id == id) unchecked(slots[i] = null);
  else if (overflow.size > 0) overflow.delete(id);
}

export function isLive(c: BaseContext): bool {
  return find(c.id) === c;
}
