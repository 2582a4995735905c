/**
 * ClusterManager: the clusters of one effective config, by name. A reload builds a new manager
 * from the previous one: a cluster whose config is deep-equal to its predecessor's is taken over
 * as the same object (its warm pools, counters and health kept); the others are new. Managers
 * share such clusters by reference count: `retire()` drops this manager's hold, and a cluster
 * closes gracefully once no manager holds it. So after a reload `previous.retire()` closes what
 * the new manager did not take over while in-flight requests finish on it, and an abandoned
 * reload is undone by `next.retire()` without touching the clusters still in service.
 * Owns: the name → Cluster map. Must never: close a cluster that another manager still holds.
 */
import type { ClusterConfig } from '../config/types';
import { Cluster, type ClusterDeps, type ClusterSnapshot } from './cluster';
import { deepEqual } from './deep-equal';

export class ClusterManager {
  private clusters: Map<string, Cluster>;
  private readonly taken: readonly string[];

  /** Same as ClusterManager.build(configs, deps, previous). */
  constructor(configs: readonly ClusterConfig[], deps: ClusterDeps, previous?: ClusterManager | null) {
    const { clusters, taken } = buildClusters(configs, deps, previous ?? null);
    this.clusters = clusters;
    this.taken = taken;
  }

  /**
   * Builds the manager for `configs`, taking over from `previous` every cluster whose config is
   * deep-equal to the new one. `previous` is left untouched: call `previous.retire()` once the
   * new config is in force (or `next.retire()` to abandon it).
   * Throws (leaving nothing open) on a duplicate name or a cluster that cannot be built.
   */
  static build(configs: readonly ClusterConfig[], deps: ClusterDeps, previous?: ClusterManager | null): ClusterManager {
    return new ClusterManager(configs, deps, previous);
  }

  get(name: string): Cluster | undefined {
    return this.clusters.get(name);
  }

  names(): string[] {
    return [...this.clusters.keys()];
  }

  /** Names of the clusters this manager took over unchanged from the previous one. */
  reused(): readonly string[] {
    return this.taken;
  }

  /** The admin `/clusters` view, in config order. */
  snapshot(): ClusterSnapshot[] {
    const out: ClusterSnapshot[] = [];
    for (const c of this.clusters.values()) out.push(c.snapshot());
    return out;
  }

  /**
   * Drops this manager's hold on its clusters and closes gracefully those no other manager holds
   * (i.e. those a newer manager did not take over). Afterwards this manager is empty. The
   * argument is not needed (ownership is reference-counted) and is accepted only so that call
   * sites written as `previous.retire(next.names())` or `previous.retire(next)` keep compiling.
   * Resolves when the clusters closed here have finished closing.
   */
  retire(_next?: ClusterManager | readonly string[] | null): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const c of this.clusters.values()) if (release(c)) waits.push(c.close());
    this.clusters = new Map();
    return Promise.all(waits).then(() => undefined);
  }

  /** Graceful shutdown: same as retire(). */
  close(): Promise<void> {
    return this.retire();
  }

  /** Immediate shutdown of the clusters no other manager holds; this manager is empty after. */
  destroy(): void {
    for (const c of this.clusters.values()) if (release(c)) c.destroy();
    this.clusters = new Map();
  }
}

/** How many managers hold each cluster. */
const holders = new WeakMap<Cluster, number>();

function hold(c: Cluster): void {
  holders.set(c, (holders.get(c) ?? 0) + 1);
}

/** Drops one hold; true when it was the last. */
function release(c: Cluster): boolean {
  const n = (holders.get(c) ?? 1) - 1;
  if (n > 0) {
    holders.set(c, n);
    return false;
  }
  holders.delete(c);
  return true;
}

function buildClusters(
  configs: readonly ClusterConfig[],
  deps: ClusterDeps,
  previous: ClusterManager | null,
): { clusters: Map<string, Cluster>; taken: string[] } {
  const clusters = new Map<string, Cluster>();
  const taken: string[] = [];
  const created: Cluster[] = [];
  try {
    for (const cfg of configs) {
      if (clusters.has(cfg.name)) throw new Error(`duplicate cluster name "${cfg.name}"`);
      const old = previous?.get(cfg.name);
      if (old !== undefined && !old.closed && deepEqual(old.config, cfg)) {
        clusters.set(cfg.name, old);
        taken.push(cfg.name);
      } else {
        const c = new Cluster(cfg, deps);
        created.push(c);
        clusters.set(cfg.name, c);
      }
    }
  } catch (err) {
    for (const c of created) c.destroy();
    throw err;
  }
  for (const c of clusters.values()) hold(c);
  return { clusters, taken };
}
