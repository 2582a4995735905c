/**
 * The built-in load balancers and their registration. Owns: nothing but the list.
 * Must never: register anything as a side effect of being imported.
 */
import { registerLoadBalancer } from '../../api/registry';
import type { LoadBalancerFactory } from '../../api/lb';
import { roundRobinFactory } from './round-robin';
import { leastRequestFactory } from './least-request';
import { randomFactory } from './random';

export { roundRobinFactory, SmoothRoundRobinBalancer } from './round-robin';
export { leastRequestFactory, LeastRequestBalancer, DEFAULT_CHOICE_COUNT } from './least-request';
export { randomFactory, RandomBalancer } from './random';

export const BUILTIN_LOAD_BALANCERS: readonly LoadBalancerFactory[] = [roundRobinFactory, leastRequestFactory, randomFactory];

/**
 * Registers round_robin, least_request and random. Idempotent (the registry accepts the same
 * factory object twice); throws if a plugin already took one of these names.
 */
export function registerBuiltinLoadBalancers(): void {
  for (const f of BUILTIN_LOAD_BALANCERS) registerLoadBalancer(f);
}
