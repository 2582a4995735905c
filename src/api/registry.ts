/**
 * Registries: the plug-in surface. Built-ins and user plugins (loaded through `plugins:`) call
 * these to add codecs, filters, load balancers and discovery sources. Must never: hold anything
 * but the registrations themselves.
 */
import type { CodecDefinition } from './codec';
import type { FilterFactory } from './filter';
import type { LoadBalancerFactory } from './lb';
import type { DiscoveryFactory } from './discovery';
import { isRpcCodec, type RpcCodec } from './rpc';

const codecs = new Map<string, CodecDefinition>();
const rpcCodecs = new Map<string, RpcCodec>();
/** Turns an RpcCodec into listener/upstream sides; installed by the core (src/rpc) at start. */
let rpcAdapter: ((codec: RpcCodec) => CodecDefinition) | null = null;
const filters = new Map<string, FilterFactory>();
const balancers = new Map<string, LoadBalancerFactory>();
const discoveries = new Map<string, DiscoveryFactory>();

function put<T extends { name: string }>(kind: string, map: Map<string, T>, item: T): void {
  if (!item || typeof item.name !== 'string' || item.name === '') throw new TypeError(`${kind} needs a name`);
  const prev = map.get(item.name);
  if (prev !== undefined && prev !== item) throw new Error(`${kind} "${item.name}" is already registered`);
  map.set(item.name, item);
}

/**
 * Registers a protocol: either a CodecDefinition (listener and/or upstream side written by hand,
 * as HTTP is) or an RpcCodec (a framed RPC protocol; the shared RPC layer supplies both sides).
 */
export function registerCodec(def: CodecDefinition | RpcCodec): void {
  if (isRpcCodec(def)) {
    if (codecs.has(def.name)) throw new Error(`codec "${def.name}" is already registered`);
    put('codec', rpcCodecs, def);
    return;
  }
  if (rpcCodecs.has(def.name)) throw new Error(`codec "${def.name}" is already registered`);
  put('codec', codecs, def);
}

/** Core-internal: installs the adapter that gives RpcCodecs their listener and upstream sides. */
export function setRpcAdapter(adapter: (codec: RpcCodec) => CodecDefinition): void {
  rpcAdapter = adapter;
}

function codecByName(name: string): CodecDefinition | undefined {
  const c = codecs.get(name);
  if (c !== undefined) return c;
  const rpc = rpcCodecs.get(name);
  if (rpc === undefined || rpcAdapter === null) return undefined;
  const adapted = rpcAdapter(rpc);
  codecs.set(name, adapted);
  return adapted;
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
  codec: codecByName,
  rpcCodec: (name: string) => rpcCodecs.get(name),
  filter: (name: string) => filters.get(name),
  loadBalancer: (name: string) => balancers.get(name),
  discovery: (name: string) => discoveries.get(name),
  codecNames: () => [...new Set([...codecs.keys(), ...rpcCodecs.keys()])],
  filterNames: () => [...filters.keys()],
  loadBalancerNames: () => [...balancers.keys()],
  discoveryNames: () => [...discoveries.keys()],
};
