/**
 * Discovery: a source of endpoint snapshots for one cluster (static, dns, zookeeper, etcd, xds).
 * Must never: mutate a snapshot it has emitted; the cluster swaps whole snapshots atomically.
 */
export interface DiscoveredEndpoint {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly zone?: string;
}

export interface DiscoverySource {
  /** Starts watching; `onUpdate` receives every new full snapshot. */
  start(onUpdate: (endpoints: readonly DiscoveredEndpoint[]) => void): void;
  stop(): void;
}

export interface DiscoveryFactory {
  readonly name: string;
  create(cluster: string, config: Readonly<Record<string, unknown>>): DiscoverySource;
}
