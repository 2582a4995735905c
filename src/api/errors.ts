/**
 * Errors with stable codes shared across layers: config errors carrying paths, and the reasons
 * that local replies, stats and access logs carry. Must never: hold behaviour.
 */

/** One config problem: `listeners[0].routes[2].cluster: unknown cluster "apii"`. */
export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * Why the proxy answered itself. These strings are the `reason` label of
 * switchyard_local_replies_total and the access log's `reason` field: only add, never rename.
 */
export type LocalReplyReason =
  | 'no_route'
  | 'no_healthy_endpoint'
  | 'connect_failure'
  | 'upstream_reset'
  | 'upstream_protocol_error'
  | 'timeout'
  | 'overflow'
  | 'rate_limited'
  | 'filter_denied'
  | 'bad_request'
  | 'direct_response'
  | 'redirect'
  | 'payload_too_large'
  | 'draining'
  | 'internal_error'
  | 'fault_abort'
  | 'overload'
  /** Not a reply: the access log's reason when the client went away before the response ended. */
  | 'downstream_disconnect';

/** Why an upstream exchange failed, as reported by a connection pool. */
export type UpstreamFailureKind = 'connect_failure' | 'connect_timeout' | 'reset' | 'protocol_error' | 'overflow';

export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
    /** True when no byte of the request reached the upstream (safe to retry anywhere). */
    readonly beforeRequestSent = false,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}
