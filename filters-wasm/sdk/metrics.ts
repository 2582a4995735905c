// Switchyard proxy-wasm SDK: metric handles. Define each once (in a root context's constructor or
// onConfigure, never at module top level) and keep it; every update is one host call with no
// allocation. Must never define a metric per request.

import { proxy_define_metric, proxy_get_metric, proxy_increment_metric, proxy_record_metric } from "./imports";
import { MetricType, Status } from "./types";
import { RET, outBlock, retU32, textBound, writeText } from "./memory";

function define(kind: i32, name: string): u32 {
  const k = outBlock(textBound(name));
  const kl = writeText(name, k);
  store<u32>(RET, 0, 8);
  return proxy_define_metric(kind, k, kl, RET + 8) == Status.Ok ? retU32() : 0xffffffff;
}

function read(id: u32): u64 {
  store<u64>(RET, 0, 16);
  proxy_get_metric(id, RET + 16);
  return load<u64>(RET, 16);
}

export class Counter {
  readonly id: u32;
  constructor(name: string) { this.id = define(MetricType.Counter, name); }
  increment(delta: i64 = 1): i32 { return proxy_increment_metric(this.id, delta); }
  get(): u64 { return read(this.id); }
}

export class Gauge {
  readonly id: u32;
  constructor(name: string) { this.id = define(MetricType.Gauge, name); }
  set(value: u64): i32 { return proxy_record_metric(this.id, value); }
  add(delta: i64): i32 { return proxy_increment_metric(this.id, delta); }
  get(): u64 { return read(this.id); }
}

export class Histogram {
  readonly id: u32;
  constructor(name: string) { this.id = define(MetricType.Histogram, name); }
  record(value: u64): i32 { return proxy_record_metric(this.id, value); }
}
