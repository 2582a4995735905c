/**
 * The router stage's decision for one request head, before any upstream is touched: the local
 * reply (no route, direct response, redirect, unknown cluster, rate limited), or the cluster to
 * forward to with the route's rewrites applied to the head, the deadline (the smaller of the route
 * timeout and the request's own, already reduced by the time spent; gRPC's grpc-timeout and an RPC
 * frame's deadline updated to match) and the fault decision.
 * Must never: start an upstream call, set timers, or touch the downstream stream.
 */
import { FrameHeaderMap, HeaderMap, type LocalReply, type ServerStream } from '../api';
import type { EngineCluster, EngineRoute, RoutePolicy, StreamEnv } from './stream-env';
import { applyDeadline } from './grpc-deadline';
import { decideFault, type FaultDecision } from './fault';

export type RouteDecision =
  | { readonly reply: LocalReply; readonly clusterName: string | null }
  | {
      readonly reply: null;
      readonly clusterName: string;
      readonly cluster: EngineCluster;
      readonly policy: RoutePolicy;
      /** 0 when neither the route nor the request sets a deadline. */
      readonly timeoutMs: number;
      readonly fault: FaultDecision | null;
    };

const reply = (r: LocalReply, clusterName: string | null = null): RouteDecision => ({ reply: r, clusterName });

/** Decides what happens to head `h` (mutated by rewrites) of `stream` on `route`. */
export function decideRoute(env: StreamEnv, route: EngineRoute | null, h: HeaderMap, stream: ServerStream, rpc: boolean, now: number): RouteDecision {
  if (route === null) return reply({ status: 404, reason: 'no_route', body: 'no route matched\n' });
  if (route.action === 'direct') {
    const d = route.directResponse!;
    const headers = d.headers.length > 0 ? new HeaderMap(d.headers.slice()) : undefined;
    return reply({ status: d.status, body: d.body, headers, reason: 'direct_response' });
  }
  if (route.action === 'redirect') {
    const r = route.buildRedirect(h, h.get(':scheme') ?? 'http');
    return reply({ status: r.status, headers: HeaderMap.from({ location: r.location }), reason: 'redirect' });
  }
  const name = route.pickCluster();
  const cluster = name === null ? undefined : env.cluster(name);
  if (cluster === undefined || name === null) return reply({ status: 503, reason: 'no_healthy_endpoint', body: 'no cluster\n' }, name);
  if (route.hostRewrite !== undefined) h.set(':authority', route.hostRewrite);
  if (route.config.prefix_rewrite !== undefined) {
    const path = h.get(':path');
    if (path !== undefined) h.set(':path', route.rewritePath(path));
  }
  // RPC header views are attachments: the deadline travels in the frame, never as a header.
  const timeoutMs = applyDeadline(rpc ? null : h, route.timeoutMs, stream.timeoutMs, now - stream.startTime);
  if (rpc && timeoutMs > 0) (h as FrameHeaderMap).deadlineMs = timeoutMs;
  const policy = env.routePolicy(route);
  if (policy.counters !== null && policy.rateLimiter !== null && !policy.rateLimiter.tryTake(h, stream.connection.remoteAddress)) {
    policy.counters.rateLimited.inc();
    return reply({ status: 429, reason: 'rate_limited', body: 'rate limited\n' }, name);
  }
  const fault = policy.counters === null || policy.fault === null ? null : decideFault(policy.fault, env.random);
  return { reply: null, clusterName: name, cluster, policy, timeoutMs, fault };
}
