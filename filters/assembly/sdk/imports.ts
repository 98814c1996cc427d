// The raw proxy-wasm host ABI (0.2.1), in one place. Filters never declare host imports; they use
// the typed wrappers in host.ts, context.ts and callouts.ts.
//
// Declarations that @solo-io/proxy-runtime 0.1.8 gets right are re-exported from it. The ones it
// gets wrong or lacks are declared here (see docs/decisions/0001-own-sdk-layer.md):
//   - proxy_grpc_call: 0.1.8 declares 10 parameters (no initial metadata); Envoy's host function
//     takes 12, and V8 refuses to link a module whose import signature differs.
//   - proxy_set_buffer_bytes: 0.1.8 binds its "proxy_set_buffer_status" to the *get* function.
//   - proxy_get_log_level: not in 0.1.8; lets filters skip building debug strings.
//   - proxy_clear_route_cache: declared by 0.1.8 but not offered by Envoy under ABI 0.2.x. It is
//     deliberately not re-exported: a module that imports it fails to load.
// AssemblyScript only emits imports that are actually called, so re-exporting is free.

export {
  proxy_log,
  proxy_get_status,
  proxy_set_tick_period_milliseconds,
  proxy_get_current_time_nanoseconds,
  proxy_get_property,
  proxy_set_property,
  proxy_continue_stream,
  proxy_close_stream,
  proxy_send_local_response,
  proxy_get_shared_data,
  proxy_set_shared_data,
  proxy_register_shared_queue,
  proxy_resolve_shared_queue,
  proxy_dequeue_shared_queue,
  proxy_enqueue_shared_queue,
  proxy_add_header_map_value,
  proxy_get_header_map_value,
  proxy_get_header_map_pairs,
  proxy_set_header_map_pairs,
  proxy_replace_header_map_value,
  proxy_remove_header_map_value,
  proxy_get_header_map_size,
  proxy_get_buffer_bytes,
  proxy_get_buffer_status,
  proxy_http_call,
  proxy_grpc_cancel,
  proxy_grpc_close,
  proxy_define_metric,
  proxy_increment_metric,
  proxy_record_metric,
  proxy_get_metric,
  proxy_set_effective_context,
  proxy_done,
} from "@solo-io/proxy-runtime/assembly/imports";

// @ts-ignore: decorator
@external("env", "proxy_grpc_call")
export declare function proxy_grpc_call(
  upstream_ptr: usize, upstream_size: usize,
  service_name_ptr: usize, service_name_size: usize,
  method_name_ptr: usize, method_name_size: usize,
  initial_metadata_ptr: usize, initial_metadata_size: usize,
  request_ptr: usize, request_size: usize,
  timeout_milliseconds: u32, token_ptr: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_set_buffer_bytes")
export declare function proxy_set_buffer_bytes(
  buffer_type: i32, start: u32, length: u32, data_ptr: usize, data_size: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(level_ptr: usize): u32;

// WASI random_get: Envoy fills the buffer from BoringSSL's RAND_bytes (proxy-wasm-cpp-host
// src/exports.cc, wasi_unstable_random_get), a CSPRNG, up to 64 KiB per call. Registered under
// wasi_snapshot_preview1 (and wasi_unstable) for every module.
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
export declare function random_get(buf_ptr: usize, buf_len: usize): u32;
