/**
 * proxy-wasm ABI constants (0.2.0 / 0.2.1): status codes, map/buffer/stream/metric types, log
 * levels, and the full list of host functions a conforming module may import.
 * Must never: hold state or behaviour.
 */

export const enum Status {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  InternalFailure = 10,
  Unimplemented = 12,
}

export const enum MapType {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcInitialMetadata = 4,
  GrpcTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}

export const enum BufferType {
  RequestBody = 0,
  ResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
}

export const enum StreamType {
  Request = 0,
  Response = 1,
  Downstream = 2,
  Upstream = 3,
}

export const enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

/** trace 0, debug 1, info 2, warn 3, error 4, critical 5. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical'] as const;

export type AbiVersion = '0.2.0' | '0.2.1';

/** ABI marker exports, newest first. */
export const ABI_MARKERS: ReadonlyArray<[string, AbiVersion]> = [
  ['proxy_abi_version_0_2_1', '0.2.1'],
  ['proxy_abi_version_0_2_0', '0.2.0'],
];

/** Every `env` host function of ABI 0.2.0 and 0.2.1 (0.2.1 adds proxy_get_log_level). */
export const HOST_FUNCTIONS: readonly string[] = [
  'proxy_log',
  'proxy_get_log_level',
  'proxy_get_current_time_nanoseconds',
  'proxy_set_tick_period_milliseconds',
  'proxy_set_effective_context',
  'proxy_done',
  'proxy_call_foreign_function',
  'proxy_get_status',
  'proxy_get_buffer_bytes',
  'proxy_set_buffer_bytes',
  'proxy_get_buffer_status',
  'proxy_get_header_map_size',
  'proxy_get_header_map_pairs',
  'proxy_set_header_map_pairs',
  'proxy_get_header_map_value',
  'proxy_add_header_map_value',
  'proxy_replace_header_map_value',
  'proxy_remove_header_map_value',
  'proxy_continue_stream',
  'proxy_close_stream',
  'proxy_send_local_response',
  'proxy_http_call',
  'proxy_grpc_call',
  'proxy_grpc_stream',
  'proxy_grpc_send',
  'proxy_grpc_cancel',
  'proxy_grpc_close',
  'proxy_set_shared_data',
  'proxy_get_shared_data',
  'proxy_register_shared_queue',
  'proxy_resolve_shared_queue',
  'proxy_enqueue_shared_queue',
  'proxy_dequeue_shared_queue',
  'proxy_define_metric',
  'proxy_record_metric',
  'proxy_increment_metric',
  'proxy_get_metric',
  'proxy_get_property',
  'proxy_set_property',
  // Envoy extensions that SDKs commonly import.
  'proxy_clear_route_cache',
  'proxy_continue_request',
  'proxy_continue_response',
];

export const WASI_MODULES: readonly string[] = ['wasi_snapshot_preview1', 'wasi_unstable'];
