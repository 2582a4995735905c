/**
 * Generation: everything compiled from one config — per listener its route table, built filter
 * chain, limits and codec; the cluster manager — ready to serve before anything is swapped in.
 * Building is all-or-nothing: every problem is collected into one ConfigError with paths.
 * Must never: bind sockets or touch the running generation (reuse of warm clusters aside).
 */
import {
  ConfigError,
  registry,
  type BuiltFilter,
  type Clock,
  type ConfigIssue,
  type ListenerProtocol,
  type Logger,
  type ServerStream,
} from '../api';
import type { ListenerConfig, SwitchyardConfig } from '../config/types';
import type { StatsRegistry } from '../observability/stats';
import type { AccessLog } from '../observability/access-log';
import { compileRouteTable, type CompiledRoute } from '../router';
import { ClusterManager } from '../upstream/cluster-manager';
import { ActiveStream } from '../proxy/active-stream';
import { tryRpcLane } from '../proxy/rpc-lane';
import { ClusterStats, ListenerStats, NO_ROUTE_POLICY, type RoutePolicy, type StreamEnv } from '../proxy/stream-env';
import { RetryBudget, RetryPolicy } from '../proxy/retry-policy';
import { RateLimiter } from '../proxy/rate-limiter';
import { CircuitBreaker } from '../upstream/circuit-breaker';
import { httpCall } from '../proxy/http-call';
import { filterMetrics } from '../proxy/filter-metrics';
import type { ListenerGeneration } from '../listener/listener';

export interface GenerationDeps {
  stats: StatsRegistry;
  clock: Clock;
  log: Logger;
  accessLog: AccessLog | null;
  random?: () => number;
  /** Circuit breakers by cluster name; they outlive generations so in-flight counts stay true. */
  breakers: Map<string, CircuitBreaker>;
  /** The process overload flag, when the config sets thresholds. */
  overload?: { readonly overloaded: boolean } | null;
}

export interface ListenerPlan {
  readonly config: ListenerConfig;
  readonly env: StreamEnv;
  readonly gen: ListenerGeneration;
}

export interface Generation {
  readonly config: SwitchyardConfig;
  readonly clusters: ClusterManager;
  readonly listeners: ReadonlyMap<string, ListenerPlan>;
  /** Filters built for this generation, destroyed when it is retired. */
  readonly builtFilters: readonly BuiltFilter[];
}

async function buildFilters(
  l: ListenerConfig,
  li: number,
  config: SwitchyardConfig,
  deps: GenerationDeps,
  issues: ConfigIssue[],
  clusters: () => ClusterManager | null,
): Promise<BuiltFilter[]> {
  const out: BuiltFilter[] = [];
  for (let fi = 0; fi < l.filters.length; fi++) {
    const f = l.filters[fi];
    const path = `listeners[${li}].filters[${fi}]`;
    if (f.name === 'router') {
      if (fi !== l.filters.length - 1) issues.push({ path: `${path}.name`, message: 'the router filter must be the last filter' });
      continue;
    }
    const factory = registry.filter(f.name);
    if (factory === undefined) {
      issues.push({ path: `${path}.name`, message: `unknown filter "${f.name}"` });
      continue;
    }
    try {
      out.push(
        await factory.build(f.config ?? {}, {
          listener: l.name,
          clock: deps.clock,
          log: deps.log,
          baseDir: config.base_dir,
          clusterNames: config.clusters.map((c) => c.name),
          metrics: filterMetrics(deps.stats, l.name),
          httpCall: (req) => httpCall(clusters()?.get(req.cluster), req, deps.clock),
        }),
      );
    } catch (err) {
      if (err instanceof ConfigError) {
        for (const i of err.issues) issues.push({ path: i.path ? `${path}.config.${i.path}` : `${path}.config`, message: i.message });
      } else {
        issues.push({ path: `${path}.config`, message: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  return out;
}

export async function buildGeneration(
  config: SwitchyardConfig,
  deps: GenerationDeps,
  previous: Generation | null,
): Promise<Generation> {
  const issues: ConfigIssue[] = [];
  const random = deps.random ?? Math.random;
  const filtersByListener: BuiltFilter[][] = [];
  // Filters are built before the clusters; their out-of-band calls resolve clusters when made.
  let manager: ClusterManager | null = null;
  for (let li = 0; li < config.listeners.length; li++) {
    filtersByListener.push(await buildFilters(config.listeners[li], li, config, deps, issues, () => manager));
  }
  const protocols: ListenerProtocol[] = [];
  config.listeners.forEach((l, li) => {
    const codec = registry.codec(l.protocol);
    if (codec === undefined || codec.listener === undefined) {
      issues.push({ path: `listeners[${li}].protocol`, message: `no listener codec "${l.protocol}"` });
    } else protocols.push(codec.listener);
  });
  if (issues.length > 0) {
    for (const fs of filtersByListener) for (const f of fs) f.destroy?.();
    throw new ConfigError(issues);
  }

  let clusters: ClusterManager;
  try {
    clusters = manager = ClusterManager.build(config.clusters, {
      stats: deps.stats,
      clock: deps.clock,
      random,
      protocols: (name: string) => registry.codec(name)?.upstream,
    }, previous?.clusters);
  } catch (err) {
    for (const fs of filtersByListener) for (const f of fs) f.destroy?.();
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([{ path: 'clusters', message: err instanceof Error ? err.message : String(err) }]);
  }

  const clusterStats = new Map<string, ClusterStats>();
  for (const c of config.clusters) {
    clusterStats.set(c.name, new ClusterStats(deps.stats, c.name, c.protocol));
    const b = deps.breakers.get(c.name);
    if (b === undefined) deps.breakers.set(c.name, new CircuitBreaker(c.name, c.circuit_breakers, deps.stats));
    else b.setLimits(c.circuit_breakers);
  }
  const breaker = (name: string): CircuitBreaker => {
    let b = deps.breakers.get(name);
    if (b === undefined) {
      b = new CircuitBreaker(name, { max_requests: 1024, max_retries: 3 }, deps.stats);
      deps.breakers.set(name, b);
    }
    return b;
  };

  const listeners = new Map<string, ListenerPlan>();
  config.listeners.forEach((l, li) => {
    const routes = compileRouteTable(l.routes, { random });
    const policies = new Map<CompiledRoute, RoutePolicy>();
    for (const r of routes.routes) {
      const policy = routePolicy(r, l.name, deps);
      if (policy !== null) policies.set(r, policy);
    }
    const env: StreamEnv = {
      listener: l.name,
      routes,
      random,
      routePolicy: (r) => policies.get(r) ?? NO_ROUTE_POLICY,
      overload: config.overload === null ? null : deps.overload ?? null,
      listenerRateLimiter: l.rate_limit === undefined ? null : new RateLimiter(l.rate_limit, deps.clock),
      filters: filtersByListener[li],
      cluster: (name) => clusters.get(name),
      clusterStats: (name) => {
        let s = clusterStats.get(name);
        if (s === undefined) {
          s = new ClusterStats(deps.stats, name, 'unknown');
          clusterStats.set(name, s);
        }
        return s;
      },
      stats: new ListenerStats(deps.stats, l.name),
      breaker,
      accessLog: deps.accessLog,
      clock: deps.clock,
      log: deps.log,
      maxBufferBytes: l.limits.max_buffer_bytes,
      idleTimeoutMs: l.limits.idle_timeout_ms,
    };
    const gen: ListenerGeneration = {
      protocol: protocols[li],
      maxConnections: l.limits.max_connections,
      tls: l.tls ?? null,
      limits: {
        maxHeaderBytes: l.limits.max_header_bytes,
        headerTimeoutMs: l.limits.header_timeout_ms,
        idleTimeoutMs: l.limits.idle_timeout_ms,
        maxBufferBytes: l.limits.max_buffer_bytes,
        maxFrameBytes: l.limits.max_frame_bytes,
        http2: l.http2,
      },
      // RPC requests that need no per-stream engine feature take the fast lane (src/proxy/rpc-lane).
      onStream: (stream: ServerStream) => {
        if (!tryRpcLane(env, stream)) new ActiveStream(env, stream).start();
      },
    };
    listeners.set(l.name, { config: l, env, gen });
  });
  return { config, clusters, listeners, builtFilters: filtersByListener.flat() };
}

/** Compiles a route's resilience and traffic features; null when it has none. */
function routePolicy(r: CompiledRoute, listener: string, deps: GenerationDeps): RoutePolicy | null {
  const c = r.config;
  if (c.retry === undefined && c.hedge === undefined && c.rate_limit === undefined && c.fault === undefined && c.mirror === undefined) {
    return null;
  }
  const labels = { listener, route: r.name };
  const s = deps.stats;
  return {
    retry: c.retry === undefined ? null : new RetryPolicy(c.retry),
    budget: c.retry === undefined ? null : new RetryBudget(c.retry.budget.percent, c.retry.budget.min_per_second, deps.clock),
    hedge: c.hedge ?? null,
    rateLimiter: c.rate_limit === undefined ? null : new RateLimiter(c.rate_limit, deps.clock),
    fault: c.fault ?? null,
    mirror: c.mirror ?? null,
    counters: {
      rateLimited: s.counter('switchyard_rate_limited_total', 'Requests refused by a local rate limit.', labels),
      faultDelays: s.counter('switchyard_faults_injected_total', 'Faults injected by route fault config.', { ...labels, kind: 'delay' }),
      faultAborts: s.counter('switchyard_faults_injected_total', 'Faults injected by route fault config.', { ...labels, kind: 'abort' }),
      mirrored: s.counter('switchyard_mirrored_requests_total', 'Requests copied to a shadow cluster.', {
        ...labels,
        cluster: c.mirror?.cluster ?? '',
      }),
    },
  };
}

/** Releases what a generation built that no other generation holds (clusters are ref-counted). */
export function retireGeneration(old: Generation, next: Generation | null): Promise<void> {
  for (const f of old.builtFilters) {
    try {
      f.destroy?.();
    } catch {
      /* a filter's destroy must not stop the others */
    }
  }
  return old.clusters.retire(next === null ? null : next.clusters);
}
