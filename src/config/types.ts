/**
 * The effective (validated, defaults filled) config as the rest of the proxy consumes it.
 * Durations are milliseconds, addresses are split. Produced only by the loader in this folder;
 * the raw user shape is documented in docs/config.md. Must never: contain unvalidated input.
 */

export interface Address {
  host: string;
  port: number;
}

export interface AdminConfig {
  address: Address;
  /** Host names (besides IP literals, localhost and the bind host) the admin API answers to. */
  allowed_hosts?: string[];
}

export interface AccessLogConfig {
  /** "stdout", "stderr" or a file path. */
  path: string;
}

export interface LimitsConfig {
  max_connections: number; // default 10000
  max_header_bytes: number; // default 65536 (Envoy's 60 KiB rounded); 431 beyond
  header_timeout_ms: number; // default 10s; 408 beyond (slowloris)
  idle_timeout_ms: number; // default 60s
  max_buffer_bytes: number; // default 1 MiB: what a filter may buffer
  max_frame_bytes: number; // default 16 MiB: largest RPC frame a client may send
}

export interface FilterConfig {
  name: string;
  config: unknown;
}

export type StringMatch =
  | { kind: 'exact'; value: string }
  | { kind: 'prefix'; value: string }
  | { kind: 'regex'; value: RegExp }
  | { kind: 'present' }
  | { kind: 'absent' };

export interface RouteMatchConfig {
  /** Lower-case; "*" any, "*.suffix" wildcard, else exact (port ignored when matching). */
  host?: string;
  prefix?: string;
  path?: string;
  regex?: RegExp;
  headers?: Array<{ name: string; match: StringMatch }>;
  query?: Array<{ name: string; match: StringMatch }>;
  /** RPC routing keys (codecs expose them as headers of these names). */
  service?: string;
  method?: string;
  version?: string;
  group?: string;
  /** TLS server name of the downstream connection: lower-case exact or "*.suffix". */
  sni?: string;
  /** One of the SANs of the downstream's verified client certificate (exact). */
  peer_san?: string;
}

export interface WeightedCluster {
  cluster: string;
  weight: number;
}

export interface DirectResponseConfig {
  status: number;
  body: string;
  headers: Array<[string, string]>;
}

export interface RedirectConfig {
  scheme?: string;
  host?: string;
  path?: string;
  prefix_rewrite?: string;
  status: number; // default 301
}

/** What makes a try worth retrying (see docs/config.md#retry). */
export type RetryCondition =
  | 'connect-failure'
  | 'reset'
  | 'refused-stream'
  | '5xx'
  | 'gateway-error'
  | 'retriable-status-codes'
  | 'cancelled'
  | 'deadline-exceeded'
  | 'internal'
  | 'resource-exhausted'
  | 'unavailable';

export interface RetryConfig {
  /** Retries after the first try (so at most attempts + 1 tries). */
  attempts: number;
  on: RetryCondition[];
  retriable_status_codes: number[];
  /** 0: no per-try timeout (the route timeout still covers all tries). */
  per_try_timeout_ms: number;
  backoff: { base_ms: number; max_ms: number };
  /** Finagle-style budget: retries allowed = max(percent of requests, min_per_second) over 10 s. */
  budget: { percent: number; min_per_second: number };
  /** Request bodies up to this size are kept for replay; a larger body disables retries. */
  max_replay_bytes: number;
}

export interface HedgeConfig {
  /** Send a second try after this long without a response head; 0: not on a timer. */
  delay_ms: number;
  /** Send a second try (keeping the first) when the per-try timeout fires. */
  on_per_try_timeout: boolean;
  /** At most this many tries in flight at once. */
  max_in_flight: number;
}

/** Where a per-key limit (or a hash) takes its key from. */
export type RateLimitKey = { kind: 'header'; name: string } | { kind: 'source_ip' };

export interface RateLimitConfig {
  tokens_per_second: number;
  burst: number;
  /** null: one bucket for the whole route or listener. */
  key: RateLimitKey | null;
}

export interface FaultConfig {
  delay?: { percent: number; duration_ms: number };
  abort?: { percent: number; status: number; grpc_status?: number };
}

export interface MirrorConfig {
  cluster: string;
  percent: number;
}

export interface RouteConfig {
  /** Given, or generated as `<listener>/<index>`. */
  name: string;
  match: RouteMatchConfig;
  cluster?: string;
  weighted_clusters?: WeightedCluster[];
  direct_response?: DirectResponseConfig;
  redirect?: RedirectConfig;
  prefix_rewrite?: string;
  host_rewrite?: string;
  timeout_ms: number; // default 15000; 0 disables
  retry?: RetryConfig;
  hedge?: HedgeConfig;
  rate_limit?: RateLimitConfig;
  fault?: FaultConfig;
  mirror?: MirrorConfig;
}

export interface ListenerConfig {
  name: string;
  address: Address;
  protocol: string; // http, http2, dubbo, bolt, auto, tcp or a registered codec
  filters: FilterConfig[];
  routes: RouteConfig[];
  limits: LimitsConfig;
  /** A token bucket for every request on the listener (before routing). */
  rate_limit?: RateLimitConfig;
  /** TLS termination (absent: plaintext). */
  tls?: ListenerTlsConfig;
  /** Downstream HTTP/2 settings and abuse thresholds (absent: the codec's defaults). */
  http2?: import('./http2').Http2ListenerConfig;
}

export interface TlsCertificateConfig {
  /** Absolute paths of the PEM certificate (chain) and private key. */
  cert: string;
  key: string;
  /** Lower-case server names this certificate serves: exact, or "*.suffix" (one label). */
  sni: string[];
}

export interface ListenerTlsConfig {
  certificates: TlsCertificateConfig[];
  /** Index into certificates served when the client's SNI matches none (default 0). */
  default_certificate: number;
  /** ALPN protocols offered, in preference order (default [h2, http/1.1] for http, [h2] for http2, none otherwise). */
  alpn: string[];
  min_version: 'TLSv1.2' | 'TLSv1.3'; // default TLSv1.2
  client_auth: {
    mode: 'none' | 'optional' | 'required'; // default none
    /** Absolute path of the PEM CA bundle client certificates must chain to (required unless mode none). */
    ca?: string;
    /** A verified client certificate must carry one of these SANs (DNS/URI entries); empty: any. */
    allowed_sans: string[];
  };
  /** SNI matching no certificate: serve the default certificate, or refuse the handshake. */
  on_unknown_sni: 'default' | 'reject';
}

export interface ClusterTlsConfig {
  /** Server name sent and verified; default the endpoint host when it is not an IP address. */
  sni?: string;
  /** Absolute path of a PEM CA bundle; default the system CAs. */
  ca?: string;
  /** Verify the upstream certificate (default true). */
  verify: boolean;
  /** Client certificate and key (absolute paths), both or neither. */
  cert?: string;
  key?: string;
  /** ALPN offered (default [h2] for http2 clusters, [http/1.1] for http, none otherwise). */
  alpn: string[];
}

export interface EndpointConfig {
  address: Address;
  weight: number; // default 1
  zone?: string;
}

export interface ClusterConfig {
  name: string;
  protocol: string; // http, http2, dubbo, bolt, or a registered codec
  lb: string; // default round_robin
  lb_config: Record<string, unknown>;
  endpoints: EndpointConfig[];
  connect_timeout_ms: number; // default 5s
  idle_timeout_ms: number; // default 60s: idle upstream connections closed
  max_connections_per_endpoint: number; // default 1024
  max_pending_requests: number; // default 1024
  /** Cluster-wide limits: requests in flight (default 1024), retries in flight (default 3). */
  circuit_breakers: { max_requests: number; max_retries: number };
  /** Active health checking of every endpoint (absent: endpoints are not checked). */
  health_check?: HealthCheckConfig;
  /** Passive outlier detection from the outcome of every try (absent: off). */
  outlier_detection?: OutlierDetectionConfig;
  /** Upstream pool settings for RPC codecs (absent: the defaults). */
  rpc?: RpcClusterConfig;
  /** Upstream HTTP/2 session settings (absent: the defaults). */
  http2?: ClusterHttp2Config;
  /** TLS to the endpoints (absent: plaintext). */
  tls?: ClusterTlsConfig;
}

export interface ClusterHttp2Config {
  max_concurrent_streams: number; // default 0: as many as each session's peer allows
  ping_interval_ms: number; // default 30s: PING an idle-but-open session; 0 disables
  ping_timeout_ms: number; // default 10s: no PING ACK within this closes the session
  initial_stream_window_size: number; // default 256 KiB
  initial_connection_window_size: number; // default 1 MiB
}

export interface RpcClusterConfig {
  connections: number; // default 1: multiplexed connections per endpoint
  heartbeat_interval_ms: number; // default 30s; 0 disables
  max_frame_bytes: number; // default 16 MiB: largest frame accepted from an upstream
}

export type HealthCheckType = 'http' | 'tcp' | 'grpc' | 'heartbeat';

export interface HealthCheckConfig {
  type: HealthCheckType;
  /** http: the path to GET (default /healthz). */
  path: string;
  /** http: inclusive [low, high] status ranges that count as success (default [[200, 299]]). */
  expected_statuses: Array<[number, number]>;
  /** grpc: the service asked about in grpc.health.v1.Health/Check (default ""). */
  service_name: string;
  interval_ms: number; // default 5s
  timeout_ms: number; // default 1s; always < interval_ms
  /** Up to this much random extra time before each next check (default 0). */
  jitter_ms: number;
  healthy_threshold: number; // default 2
  unhealthy_threshold: number; // default 2
  /** Authority sent (Host / :authority); default the cluster name. */
  host: string;
}

export interface OutlierDetectionConfig {
  consecutive_5xx: number; // default 5
  consecutive_gateway_failure: number; // default 5
  /** How often the success-rate check and un-ejection run (default 10s). */
  interval_ms: number;
  base_ejection_time_ms: number; // default 30s
  max_ejection_time_ms: number; // default 300s; >= base_ejection_time_ms
  max_ejection_percent: number; // default 10 (0..100)
  success_rate_minimum_hosts: number; // default 5
  success_rate_request_volume: number; // default 100
  /** Ejection below mean - (factor / 1000) * stdev (default 1900, i.e. 1.9). */
  success_rate_stdev_factor: number;
}

export interface OverloadConfig {
  /** V8 heap in use above which new requests are shed; 0: no limit. */
  max_heap_bytes: number;
  /** Event-loop delay (mean over the last sample window) above which new requests are shed; 0: none. */
  max_event_loop_lag_ms: number;
  /** How often the thresholds are sampled. */
  sample_interval_ms: number;
}

export interface SwitchyardConfig {
  /** Absolute path of the file it came from, or "" for an in-memory config. */
  source: string;
  /** Directory relative paths (plugins, wasm modules) resolve against. */
  base_dir: string;
  admin: AdminConfig | null;
  plugins: string[]; // absolute paths
  drain_timeout_ms: number; // default 10s
  access_log: AccessLogConfig | null; // default stdout; `access_log: false` turns it off
  log_level: 'debug' | 'info' | 'warn' | 'error';
  /** Load shedding: new requests get 503 (reason `overload`) while a threshold is exceeded. */
  overload: OverloadConfig | null;
  listeners: ListenerConfig[];
  clusters: ClusterConfig[];
}
