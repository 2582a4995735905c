// Switchyard proxy-wasm SDK: the ABI v0.2.1 enumerations (status codes, actions, map and buffer ids).
// Owns only constants; must never call the host or allocate.

/** proxy_status_t */
export namespace Status {
  export const Ok: i32 = 0;
  export const NotFound: i32 = 1;
  export const BadArgument: i32 = 2;
  export const SerializationFailure: i32 = 3;
  export const ParseFailure: i32 = 4;
  export const InvalidMemoryAccess: i32 = 6;
  export const Empty: i32 = 7;
  export const CasMismatch: i32 = 8;
  export const InternalFailure: i32 = 10;
  export const Unimplemented: i32 = 12;
}

/** proxy_action_t: what a stream hook returns. */
export namespace Action {
  export const Continue: i32 = 0;
  export const Pause: i32 = 1;
}

/** proxy_log_level_t */
export namespace LogLevel {
  export const Trace: i32 = 0;
  export const Debug: i32 = 1;
  export const Info: i32 = 2;
  export const Warn: i32 = 3;
  export const Error: i32 = 4;
  export const Critical: i32 = 5;
}

/** proxy_map_type_t */
export namespace MapType {
  export const RequestHeaders: i32 = 0;
  export const RequestTrailers: i32 = 1;
  export const ResponseHeaders: i32 = 2;
  export const ResponseTrailers: i32 = 3;
  export const GrpcInitialMetadata: i32 = 4;
  export const GrpcTrailingMetadata: i32 = 5;
  export const HttpCallResponseHeaders: i32 = 6;
  export const HttpCallResponseTrailers: i32 = 7;
}

/** proxy_buffer_type_t */
export namespace BufferType {
  export const RequestBody: i32 = 0;
  export const ResponseBody: i32 = 1;
  export const DownstreamData: i32 = 2;
  export const UpstreamData: i32 = 3;
  export const HttpCallResponseBody: i32 = 4;
  export const GrpcCallMessage: i32 = 5;
  export const VmConfiguration: i32 = 6;
  export const PluginConfiguration: i32 = 7;
  export const ForeignFunctionArguments: i32 = 8;
}

/** proxy_stream_type_t */
export namespace StreamType {
  export const Request: i32 = 0;
  export const Response: i32 = 1;
  export const Downstream: i32 = 2;
  export const Upstream: i32 = 3;
}

/** proxy_metric_type_t */
export namespace MetricType {
  export const Counter: i32 = 0;
  export const Gauge: i32 = 1;
  export const Histogram: i32 = 2;
}

/** proxy_peer_type_t */
export namespace PeerType {
  export const Unknown: i32 = 0;
  export const Local: i32 = 1;
  export const Remote: i32 = 2;
}

/** grpc_status argument of proxy_send_local_response meaning "not a gRPC reply". */
export const NO_GRPC_STATUS: i32 = -1;
