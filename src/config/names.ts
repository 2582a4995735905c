/**
 * Checks names that refer to the plug-in registries: listener and upstream protocols (codecs),
 * load balancers and filters. Built-ins registered by other modules at startup are accepted by
 * name here so config validates before (or without) those modules being loaded.
 * Must never: build codecs, balancers or filters, or validate a filter's own `config`.
 */
import { registry } from '../api/registry';
import type { Issues } from './schema';

/** Protocol names always accepted (their codecs register themselves elsewhere). */
export const BUILTIN_LISTENER_PROTOCOLS = ['http', 'auto'] as const;
export const BUILTIN_UPSTREAM_PROTOCOLS = ['http'] as const;
export const BUILTIN_LOAD_BALANCERS = ['round_robin', 'least_request', 'random'] as const;
export const BUILTIN_FILTERS = ['headers', 'router'] as const;

function known(builtins: readonly string[], registered: string[]): string {
  return [...new Set([...builtins, ...registered])].sort().join(', ');
}

export function checkListenerProtocol(issues: Issues, path: string, name: string): void {
  if ((BUILTIN_LISTENER_PROTOCOLS as readonly string[]).includes(name)) return;
  const def = registry.codec(name);
  if (def?.listener) return;
  if (def) {
    issues.add(path, `protocol "${name}" has no listener (server) side`);
    return;
  }
  const names = registry.codecNames().filter((n) => registry.codec(n)?.listener);
  issues.add(path, `unknown protocol "${name}" (known: ${known(BUILTIN_LISTENER_PROTOCOLS, names)})`);
}

export function checkUpstreamProtocol(issues: Issues, path: string, name: string): void {
  if ((BUILTIN_UPSTREAM_PROTOCOLS as readonly string[]).includes(name)) return;
  const def = registry.codec(name);
  if (def?.upstream) return;
  if (def) {
    issues.add(path, `protocol "${name}" has no upstream (client) side`);
    return;
  }
  const names = registry.codecNames().filter((n) => registry.codec(n)?.upstream);
  issues.add(path, `unknown protocol "${name}" (known: ${known(BUILTIN_UPSTREAM_PROTOCOLS, names)})`);
}

/**
 * Checks the balancer name and, when it is registered, its `lb_config` (by building it over no
 * endpoints: every balancer parses its config at construction).
 */
export function checkLoadBalancer(issues: Issues, path: string, name: string, lbConfig: Record<string, unknown> = {}, configPath = ''): void {
  const factory = registry.loadBalancer(name);
  if (factory !== undefined) {
    try {
      factory.create([], { random: Math.random, config: lbConfig });
    } catch (err) {
      issues.add(configPath || path, err instanceof Error ? err.message : String(err));
    }
    return;
  }
  if ((BUILTIN_LOAD_BALANCERS as readonly string[]).includes(name)) return;
  issues.add(path, `unknown load balancer "${name}" (known: ${known(BUILTIN_LOAD_BALANCERS, registry.loadBalancerNames())})`);
}

export function checkFilter(issues: Issues, path: string, name: string): void {
  if ((BUILTIN_FILTERS as readonly string[]).includes(name) || registry.filter(name)) return;
  issues.add(path, `unknown filter "${name}" (known: ${known(BUILTIN_FILTERS, registry.filterNames())})`);
}
