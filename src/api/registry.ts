/**
 * Registries: the plug-in surface. Built-ins and user plugins (loaded through `plugins:`) call
 * these to add codecs, filters, load balancers and discovery sources. Must never: hold anything
 * but the registrations themselves.
 */
import type { CodecDefinition } from './codec';
import type { FilterFactory } from './filter';
import type { LoadBalancerFactory } from './lb';
import type { DiscoveryFactory } from './discovery';

const codecs = new Map<string, CodecDefinition>();
const filters = new Map<string, FilterFactory>();
const balancers = new Map<string, LoadBalancerFactory>();
const discoveries = new Map<string, DiscoveryFactory>();

function put<T extends { name: string }>(kind: string, map: Map<string, T>, item: T): void {
  if (!item || typeof item.name !== 'string' || item.name === '') throw new TypeError(`${kind} needs a name`);
  const prev = map.get(item.name);
  if (prev !== undefined && prev !== item) throw new Error(`${kind} "${item.name}" is already registered`);
  map.set(item.name, item);
}

export function registerCodec(def: CodecDefinition): void {
  put('codec', codecs, def);
}
export function registerFilter(f: FilterFactory): void {
  put('filter', filters, f);
}
export function registerLoadBalancer(lb: LoadBalancerFactory): void {
  put('load balancer', balancers, lb);
}
export function registerDiscovery(d: DiscoveryFactory): void {
  put('discovery', discoveries, d);
}

export const registry = {
  codec: (name: string) => codecs.get(name),
  filter: (name: string) => filters.get(name),
  loadBalancer: (name: string) => balancers.get(name),
  discovery: (name: string) => discoveries.get(name),
  codecNames: () => [...codecs.keys()],
  filterNames: () => [...filters.keys()],
  loadBalancerNames: () => [...balancers.keys()],
  discoveryNames: () => [...discoveries.keys()],
};
