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
  /** Raw TLS section, interpreted by the TLS capability when it lands. */
  tls?: Record<string, unknown>;
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
  listeners: ListenerConfig[];
  clusters: ClusterConfig[];
}
