/**
 * The `env` host functions of proxy-wasm 0.2.0/0.2.1 for one VmInstance: logging, time, ticks,
 * header maps, buffers, stream control, properties, metrics, shared data/queues, http calls.
 * Every guest pointer is bounds-checked (INVALID_MEMORY_ACCESS); stream control is recorded on
 * the effective stream and applied after the guest call returns.
 * Must never: throw a host exception into the guest except a real trap (guest allocator trap,
 * proc_exit), or call into the guest other than through its allocator.
 */
import { HeaderMap } from '../api';
import { joined, lower, replaceAll } from './header-access';
import { BufferType, MetricType, Status, HOST_FUNCTIONS } from './abi';
import { MemoryAccessError, deserializePairs, mapEncoding, pairsSize } from './memory';
import { getProperty, propertyKey } from './properties';
import * as shared from './shared';
import { ProcExit } from './wasi';
import { WA } from './wa';
import type { VmInstance } from './instance';
import type { WasmStream } from './stream';

type HostFn = (...a: any[]) => number;

const EMPTY = Buffer.alloc(0);
const NO_PAIRS: readonly string[] = [];

function isTrap(err: unknown): boolean {
  return err instanceof WA.RuntimeError || err instanceof ProcExit || err instanceof RangeError;
}

/** Map `type` for the effective context: a HeaderMap, null (not available now) or undefined (unsupported). */
function headerMap(inst: VmInstance, type: number): HeaderMap | null | undefined {
  const s = inst.current;
  switch (type) {
    case 0:
      return s === null || s.ctx === null ? null : s.ctx.requestHeaders;
    case 1:
      return s === null ? null : s.reqTrailers;
    case 2:
      return s === null || s.ctx === null ? null : s.respHeaders ?? s.ctx.responseHeaders;
    case 3:
      return s === null ? null : s.respTrailers;
    case 6:
      return inst.httpResponse === null ? null : inst.httpResponse.headers;
    case 7:
      return inst.httpResponse === null ? null : inst.httpResponse.trailers;
    case 4:
    case 5:
      return null; // gRPC metadata: no gRPC calls are made, so never available
    default:
      return undefined;
  }
}


function bodyBuffer(inst: VmInstance, type: number): Buffer | null | undefined {
  const s = inst.current;
  switch (type) {
    case BufferType.RequestBody:
    case BufferType.ResponseBody: {
      if (s === null || s.ctx === null) return null;
      return s.ctx.bufferedBody(type === BufferType.RequestBody ? 'request' : 'response');
    }
    case BufferType.HttpCallResponseBody:
      return inst.httpResponse === null ? null : inst.httpResponse.body;
    case BufferType.VmConfiguration:
      return inst.plugin.vmConfig;
    case BufferType.PluginConfiguration:
      return inst.plugin.pluginConfig;
    case BufferType.DownstreamData:
    case BufferType.UpstreamData:
    case BufferType.GrpcReceiveBuffer:
    case BufferType.CallData:
      return null;
    default:
      return undefined;
  }
}

function streamOf(inst: VmInstance): WasmStream | null {
  const s = inst.current;
  return s === null || s.ctx === null ? null : s;
}

export function envImports(inst: VmInstance): Record<string, HostFn> {
  const m = () => inst.memory;
  const plugin = inst.plugin;
  const fns: Record<string, HostFn> = {
    proxy_log(level: number, p: number, n: number) {
      inst.logAt(level, m().string(p, n));
      return Status.Ok;
    },
    proxy_get_log_level(ret: number) {
      m().setU32(ret, plugin.logLevel);
      return Status.Ok;
    },
    proxy_get_current_time_nanoseconds(ret: number) {
      m().setU64(ret, BigInt(Math.round(plugin.clock.wallNow() * 1e6)));
      return Status.Ok;
    },
    proxy_set_tick_period_milliseconds(ms: number) {
      inst.setTickPeriod(ms >>> 0);
      return Status.Ok;
    },
    proxy_set_effective_context(id: number) {
      if (id === inst.rootId) inst.current = null;
      else {
        const s = inst.contextById(id);
        if (s === undefined) return Status.BadArgument;
        inst.current = s;
      }
      return Status.Ok;
    },
    proxy_done: () => Status.Ok,
    proxy_call_foreign_function: () => Status.NotFound,
    proxy_get_status(retCode: number, retPtr: number, retSize: number) {
      m().setU32(retCode, 0);
      return m().copyOut(EMPTY, retPtr, retSize);
    },

    // ---- header maps ----
    // HTTP maps carry header bytes (latin1 strings); RPC frame views carry UTF-8 text.
    proxy_get_header_map_size(type: number, ret: number) {
      const h = headerMap(inst, type);
      if (h === undefined) return Status.BadArgument;
      m().setU32(ret, h === null ? 4 : pairsSize(h.raw(), mapEncoding(h)));
      return Status.Ok;
    },
    proxy_get_header_map_pairs(type: number, retPtr: number, retSize: number) {
      const h = headerMap(inst, type);
      if (h === undefined) return Status.BadArgument;
      if (h === null) return m().copyOutPairs(NO_PAIRS, 'latin1', retPtr, retSize);
      return m().copyOutPairs(h.raw(), mapEncoding(h), retPtr, retSize);
    },
    proxy_set_header_map_pairs(type: number, p: number, n: number) {
      const h = headerMap(inst, type);
      if (h === undefined) return Status.BadArgument;
      if (h === null || type >= 4) return Status.NotFound;
      const kv = deserializePairs(m().view(p, n), mapEncoding(h));
      if (kv === null) return Status.ParseFailure;
      replaceAll(h, kv);
      return Status.Ok;
    },
    proxy_get_header_map_value(type: number, kp: number, kn: number, retPtr: number, retSize: number) {
      const h = headerMap(inst, type);
      if (h === undefined) return Status.BadArgument;
      const mem = m();
      if (h === null) {
        mem.view(kp, kn); // bounds check
        return Status.NotFound;
      }
      const enc = mapEncoding(h);
      const key = lower(mem.string(kp, kn, enc));
      const v = joined(h, key);
      if (v === undefined) return Status.NotFound;
      return mem.copyOutString(v, enc, retPtr, retSize);
    },
    proxy_add_header_map_value(type: number, kp: number, kn: number, vp: number, vn: number) {
      const h = headerMap(inst, type);
      if (h === undefined) return Status.BadArgument;
      if (h === null || type >= 4) return Status.NotFound;
      const enc = mapEncoding(h);
      const mem = m();
      h.add(lower(mem.string(kp, kn, enc)), mem.string(vp, vn, enc));
      return Status.Ok;
    },
    proxy_replace_header_map_value(type: number, kp: number, kn: number, vp: number, vn: number) {
      const h = headerMap(inst, type);
      if (h === undefined) return Status.BadArgument;
      if (h === null || type >= 4) return Status.NotFound;
      const enc = mapEncoding(h);
      const mem = m();
      h.set(lower(mem.string(kp, kn, enc)), mem.string(vp, vn, enc));
      return Status.Ok;
    },
    proxy_remove_header_map_value(type: number, kp: number, kn: number) {
      const h = headerMap(inst, type);
      if (h === undefined) return Status.BadArgument;
      if (h === null || type >= 4) return Status.NotFound;
      h.remove(lower(m().string(kp, kn, mapEncoding(h))));
      return Status.Ok;
    },

    // ---- buffers ----
    proxy_get_buffer_bytes(type: number, start: number, max: number, retPtr: number, retSize: number) {
      const b = bodyBuffer(inst, type);
      if (b === undefined) return Status.BadArgument;
      if (b === null) return Status.NotFound;
      start >>>= 0;
      max >>>= 0;
      if (start > b.length) return Status.BadArgument;
      const end = Math.min(b.length, start + max);
      return m().copyOut(b.subarray(start, end), retPtr, retSize);
    },
    proxy_get_buffer_status(type: number, retLen: number, retFlags: number) {
      const b = bodyBuffer(inst, type);
      if (b === undefined) return Status.BadArgument;
      if (b === null) return Status.NotFound;
      const s = inst.current;
      const eos = s !== null && s.eosOf(type);
      m().setU32(retLen, b.length);
      m().setU32(retFlags, eos ? 1 : 0);
      return Status.Ok;
    },
    proxy_set_buffer_bytes(type: number, start: number, size: number, p: number, n: number) {
      if (type !== BufferType.RequestBody && type !== BufferType.ResponseBody) {
        return type <= BufferType.CallData ? Status.NotFound : Status.BadArgument;
      }
      const s = streamOf(inst);
      if (s === null) return Status.NotFound;
      const dir = type === BufferType.RequestBody ? 'request' : 'response';
      const value = m().copy(p, n);
      const cur = s.ctx!.bufferedBody(dir);
      start = Math.min(start >>> 0, cur.length);
      const end = Math.min(cur.length, start + (size >>> 0));
      const next = start === 0 && end === cur.length ? value : Buffer.concat([cur.subarray(0, start), value, cur.subarray(end)]);
      try {
        s.ctx!.setBufferedBody(dir, next);
      } catch {
        return Status.NotFound; // only inside a body callback of that direction
      }
      return Status.Ok;
    },

    // ---- stream control ----
    proxy_continue_stream(type: number) {
      const s = streamOf(inst);
      if (s === null) return Status.NotFound;
      if (type !== 0 && type !== 1) return type <= 3 ? Status.Unimplemented : Status.BadArgument;
      s.pendingContinue |= type === 0 ? 1 : 2;
      inst.touch(s);
      return Status.Ok;
    },
    proxy_close_stream(type: number) {
      const s = streamOf(inst);
      if (s === null) return Status.NotFound;
      if (type > 3) return Status.BadArgument;
      if (s.pendingReply === null) {
        s.pendingReply = { status: 502, details: 'closed by wasm plugin', body: EMPTY, headers: undefined, grpcStatus: undefined };
      }
      inst.touch(s);
      return Status.Ok;
    },
    proxy_send_local_response(status: number, dp: number, dn: number, bp: number, bn: number, hp: number, hn: number, grpc: number) {
      const s = streamOf(inst);
      if (s === null) return Status.NotFound;
      const mem = m();
      const details = mem.string(dp, dn);
      const body = mem.copy(bp, bn);
      const kv = deserializePairs(mem.view(hp, hn));
      if (kv === null) return Status.ParseFailure;
      let headers: HeaderMap | undefined;
      if (kv.length > 0) {
        headers = new HeaderMap();
        for (let i = 0; i < kv.length; i += 2) headers.add(kv[i].toLowerCase(), kv[i + 1]);
      }
      const g = grpc | 0;
      s.pendingReply = { status: status >>> 0, details, body, headers, grpcStatus: g < 0 || g > 16 ? undefined : g };
      inst.touch(s);
      return Status.Ok;
    },
    proxy_clear_route_cache() {
      const s = streamOf(inst);
      if (s !== null) s.ctx!.clearRouteCache();
      return Status.Ok;
    },
    proxy_continue_request: () => fns.proxy_continue_stream(0),
    proxy_continue_response: () => fns.proxy_continue_stream(1),

    // ---- properties ----
    proxy_get_property(pp: number, pn: number, retPtr: number, retSize: number) {
      const key = propertyKey(m().string(pp, pn));
      const s = inst.current;
      const own = s === null ? plugin.rootProps.get(key) : s.props?.get(key) ?? plugin.rootProps.get(key);
      const v = own ?? getProperty(key, s === null ? null : s.ctx, plugin.identity);
      if (v === undefined) return Status.NotFound;
      return m().copyOut(v, retPtr, retSize);
    },
    proxy_set_property(pp: number, pn: number, vp: number, vn: number) {
      const key = propertyKey(m().string(pp, pn));
      const v = m().copy(vp, vn);
      const s = inst.current;
      if (s === null) plugin.rootProps.set(key, v);
      else (s.props ??= new Map()).set(key, v);
      return Status.Ok;
    },

    // ---- metrics ----
    proxy_define_metric(type: number, np: number, nn: number, ret: number) {
      const name = m().string(np, nn);
      if (name === '') return Status.BadArgument;
      const metric = plugin.metrics.define(type, name);
      if (metric === null) return Status.BadArgument;
      let id = inst.metrics.indexOf(metric);
      if (id < 0) id = inst.metrics.push(metric) - 1;
      m().setU32(ret, id + 1);
      return Status.Ok;
    },
    proxy_increment_metric(id: number, delta: bigint | number) {
      const x = inst.metrics[id - 1];
      if (x === undefined) return Status.NotFound;
      const d = Number(delta);
      if (x.type === MetricType.Counter) {
        if (d < 0) return Status.BadArgument;
        x.m.inc(d);
      } else if (x.type === MetricType.Gauge) x.m.inc(d);
      else return Status.BadArgument;
      return Status.Ok;
    },
    proxy_record_metric(id: number, value: bigint | number) {
      const x = inst.metrics[id - 1];
      if (x === undefined) return Status.NotFound;
      const v = Number(BigInt.asUintN(64, BigInt(value)));
      if (x.type === MetricType.Histogram) x.m.observe(v);
      else x.m.set(v);
      return Status.Ok;
    },
    proxy_get_metric(id: number, ret: number) {
      const x = inst.metrics[id - 1];
      if (x === undefined) return Status.NotFound;
      if (x.type === MetricType.Histogram) return Status.BadArgument;
      m().setU64(ret, BigInt(Math.trunc(x.m.value)));
      return Status.Ok;
    },

    // ---- shared data and queues ----
    proxy_get_shared_data(kp: number, kn: number, retPtr: number, retSize: number, retCas: number) {
      const e = shared.getSharedData(plugin.identity.vmId, m().string(kp, kn));
      if (e === undefined) return Status.NotFound;
      const st = m().copyOut(e.value, retPtr, retSize);
      if (st === Status.Ok) m().setU32(retCas, e.cas);
      return st;
    },
    proxy_set_shared_data(kp: number, kn: number, vp: number, vn: number, cas: number) {
      return shared.setSharedData(plugin.identity.vmId, m().string(kp, kn), m().copy(vp, vn), cas >>> 0);
    },
    proxy_register_shared_queue(np: number, nn: number, ret: number) {
      const token = shared.registerQueue(plugin.identity.vmId, m().string(np, nn), inst);
      m().setU32(ret, token);
      return Status.Ok;
    },
    proxy_resolve_shared_queue(vp: number, vn: number, np: number, nn: number, ret: number) {
      const token = shared.resolveQueue(m().string(vp, vn), m().string(np, nn));
      if (token === undefined) return Status.NotFound;
      m().setU32(ret, token);
      return Status.Ok;
    },
    proxy_enqueue_shared_queue(token: number, p: number, n: number) {
      return shared.enqueue(token >>> 0, m().copy(p, n));
    },
    proxy_dequeue_shared_queue(token: number, retPtr: number, retSize: number) {
      const v = shared.dequeue(token >>> 0);
      if (typeof v === 'number') return v;
      return m().copyOut(v, retPtr, retSize);
    },

    // ---- out-of-band calls ----
    proxy_http_call(up: number, un: number, hp: number, hn: number, bp: number, bn: number, tp: number, tn: number, timeout: number, ret: number) {
      const mem = m();
      const cluster = mem.string(up, un);
      const hkv = deserializePairs(mem.view(hp, hn));
      const tkv = deserializePairs(mem.view(tp, tn));
      if (hkv === null || tkv === null) return Status.ParseFailure;
      const headers = new HeaderMap();
      for (let i = 0; i < hkv.length; i += 2) headers.add(hkv[i].toLowerCase(), hkv[i + 1]);
      if (!headers.has(':method') || !headers.has(':path') || !headers.has(':authority')) return Status.BadArgument;
      if (!headers.has(':scheme')) headers.add(':scheme', 'http');
      let trailers: HeaderMap | null = null;
      if (tkv.length > 0) {
        trailers = new HeaderMap();
        for (let i = 0; i < tkv.length; i += 2) trailers.add(tkv[i].toLowerCase(), tkv[i + 1]);
      }
      void trailers; // the runtime's http calls carry no request trailers
      mem.setU32(ret, 0); // bounds check before starting anything
      const token = inst.httpCall(cluster, headers, mem.copy(bp, bn), timeout >>> 0);
      if (token < 0) return -token;
      m().setU32(ret, token);
      return Status.Ok;
    },
    // gRPC calls are not implemented; SDKs disagree on their parameter lists, so arguments are ignored.
    proxy_grpc_call: () => Status.Unimplemented,
    proxy_grpc_stream: () => Status.Unimplemented,
    proxy_grpc_send: () => Status.Unimplemented,
    proxy_grpc_cancel: () => Status.Unimplemented,
    proxy_grpc_close: () => Status.Unimplemented,
  };
  const out: Record<string, HostFn> = {};
  for (const name of HOST_FUNCTIONS) {
    const f = fns[name];
    if (f === undefined) throw new Error(`host function ${name} missing`);
    out[name] = guarded(inst, name, f);
  }
  return out;
}

/**
 * Wraps a host function so a host exception becomes a status (a trap stays a trap). The wrapper
 * has the function's own arity: no rest-parameter array per host call, and wasm's import call
 * needs no arity adaptation.
 */
function guarded(inst: VmInstance, name: string, f: HostFn): HostFn {
  const fail = (err: unknown): number => {
    if (err instanceof MemoryAccessError) return Status.InvalidMemoryAccess;
    if (isTrap(err)) throw err;
    inst.logAt(4, `host function ${name} failed: ${String(err)}`);
    return Status.InternalFailure;
  };
  type A = any;
  switch (f.length) {
    case 0:
      return () => { try { return f(); } catch (e) { return fail(e); } };
    case 1:
      return (a: A) => { try { return f(a); } catch (e) { return fail(e); } };
    case 2:
      return (a: A, b: A) => { try { return f(a, b); } catch (e) { return fail(e); } };
    case 3:
      return (a: A, b: A, c: A) => { try { return f(a, b, c); } catch (e) { return fail(e); } };
    case 4:
      return (a: A, b: A, c: A, d: A) => { try { return f(a, b, c, d); } catch (e) { return fail(e); } };
    case 5:
      return (a: A, b: A, c: A, d: A, e: A) => { try { return f(a, b, c, d, e); } catch (x) { return fail(x); } };
    default:
      return (...a: A[]) => { try { return f(...a); } catch (e) { return fail(e); } };
  }
}
