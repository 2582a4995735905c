// Switchyard proxy-wasm SDK: the host functions of proxy-wasm ABI v0.2.1, declared exactly as the spec
// lists them (every parameter i32 except the i64 metric value/delta). Owns nothing else; must never
// declare a function outside the spec's `env` set (a host must provide every import or linking fails).
// AssemblyScript emits an import only when something calls it.

// Context lifecycle
@external("env", "proxy_done")
export declare function proxy_done(): i32;
@external("env", "proxy_set_effective_context")
export declare function proxy_set_effective_context(context_id: u32): i32;

// Logging, clock, timers
@external("env", "proxy_log")
export declare function proxy_log(level: i32, message_data: usize, message_size: usize): i32;
@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(return_log_level: usize): i32;
@external("env", "proxy_get_current_time_nanoseconds")
export declare function proxy_get_current_time_nanoseconds(return_time: usize): i32;
@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(tick_period: u32): i32;

// Buffers
@external("env", "proxy_get_buffer_bytes")
export declare function proxy_get_buffer_bytes(buffer_id: i32, start: usize, max_size: usize, return_value_data: usize, return_value_size: usize): i32;
@external("env", "proxy_set_buffer_bytes")
export declare function proxy_set_buffer_bytes(buffer_id: i32, start: usize, size: usize, value_data: usize, value_size: usize): i32;
@external("env", "proxy_get_buffer_status")
export declare function proxy_get_buffer_status(buffer_id: i32, return_buffer_size: usize, return_unused: usize): i32;

// Header maps
@external("env", "proxy_get_header_map_size")
export declare function proxy_get_header_map_size(map_id: i32, return_serialized_pairs_size: usize): i32;
@external("env", "proxy_get_header_map_pairs")
export declare function proxy_get_header_map_pairs(map_id: i32, return_serialized_pairs_data: usize, return_serialized_pairs_size: usize): i32;
@external("env", "proxy_set_header_map_pairs")
export declare function proxy_set_header_map_pairs(map_id: i32, serialized_pairs_data: usize, serialized_pairs_size: usize): i32;
@external("env", "proxy_get_header_map_value")
export declare function proxy_get_header_map_value(map_id: i32, key_data: usize, key_size: usize, return_value_data: usize, return_value_size: usize): i32;
@external("env", "proxy_add_header_map_value")
export declare function proxy_add_header_map_value(map_id: i32, key_data: usize, key_size: usize, value_data: usize, value_size: usize): i32;
@external("env", "proxy_replace_header_map_value")
export declare function proxy_replace_header_map_value(map_id: i32, key_data: usize, key_size: usize, value_data: usize, value_size: usize): i32;
@external("env", "proxy_remove_header_map_value")
export declare function proxy_remove_header_map_value(map_id: i32, key_data: usize, key_size: usize): i32;

// Streams
@external("env", "proxy_continue_stream")
export declare function proxy_continue_stream(stream_type: i32): i32;
@external("env", "proxy_close_stream")
export declare function proxy_close_stream(stream_type: i32): i32;
@external("env", "proxy_get_status")
export declare function proxy_get_status(return_status_code: usize, return_status_message_data: usize, return_status_message_size: usize): i32;
@external("env", "proxy_send_local_response")
export declare function proxy_send_local_response(status_code: u32, details_data: usize, details_size: usize, body_data: usize, body_size: usize, headers_data: usize, headers_size: usize, grpc_status: i32): i32;

// HTTP calls
@external("env", "proxy_http_call")
export declare function proxy_http_call(upstream_data: usize, upstream_size: usize, headers_data: usize, headers_size: usize, body_data: usize, body_size: usize, trailers_data: usize, trailers_size: usize, timeout: u32, return_call_id: usize): i32;

// Shared data and queues
@external("env", "proxy_get_shared_data")
export declare function proxy_get_shared_data(key_data: usize, key_size: usize, return_value_data: usize, return_value_size: usize, return_cas: usize): i32;
@external("env", "proxy_set_shared_data")
export declare function proxy_set_shared_data(key_data: usize, key_size: usize, value_data: usize, value_size: usize, cas: u32): i32;
@external("env", "proxy_register_shared_queue")
export declare function proxy_register_shared_queue(name_data: usize, name_size: usize, return_queue_id: usize): i32;
@external("env", "proxy_resolve_shared_queue")
export declare function proxy_resolve_shared_queue(vm_id_data: usize, vm_id_size: usize, name_data: usize, name_size: usize, return_queue_id: usize): i32;
@external("env", "proxy_enqueue_shared_queue")
export declare function proxy_enqueue_shared_queue(queue_id: u32, value_data: usize, value_size: usize): i32;
@external("env", "proxy_dequeue_shared_queue")
export declare function proxy_dequeue_shared_queue(queue_id: u32, return_value_data: usize, return_value_size: usize): i32;

// Metrics (the only i64 parameters of the ABI)
@external("env", "proxy_define_metric")
export declare function proxy_define_metric(metric_type: i32, name_data: usize, name_size: usize, return_metric_id: usize): i32;
@external("env", "proxy_record_metric")
export declare function proxy_record_metric(metric_id: u32, value: u64): i32;
@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(metric_id: u32, delta: i64): i32;
@external("env", "proxy_get_metric")
export declare function proxy_get_metric(metric_id: u32, return_value: usize): i32;

// Properties
@external("env", "proxy_get_property")
export declare function proxy_get_property(path_data: usize, path_size: usize, return_value_data: usize, return_value_size: usize): i32;
@external("env", "proxy_set_property")
export declare function proxy_set_property(path_data: usize, path_size: usize, value_data: usize, value_size: usize): i32;
