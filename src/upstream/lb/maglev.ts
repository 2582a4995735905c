/**
 * `maglev`: Google's Maglev consistent hashing (NSDI '16). A lookup table of prime size M
 * (`lb_config.table_size`, default 65537) is filled by letting endpoints claim slots in turn,
 * each along its own permutation (offset = h0(address) mod M, skip = h1(address) mod (M-1) + 1).
 * Weighted: every round each endpoint earns weight / max weight of a claim, so slot counts are
 * proportional to weight. Endpoints take turns in address order, so the table depends only on the
 * set of endpoints, not on the order discovery listed them. A request's key (lb_config.hash_on)
 * indexes the table; keyless requests get a weighted random endpoint. An unhealthy or excluded
 * owner: the next slots are tried in order (their owners are spread like the table itself).
 * Owns: the table of one snapshot. Must never: allocate in pick() beyond hashing the key, or use
 * randomness other than options.random (and that only for keyless requests).
 */
import type { Endpoint, LbContext, LoadBalancer, LoadBalancerFactory, LoadBalancerOptions } from '../../api/lb';
import { effectiveWeight, excludeOf, pickFromSlot, WeightedSampler } from './common';
import { hashMod } from './hash';
import { hashKeyOf, parseHashOn, type HashOn } from './hash-key';
import { readInt } from './options';

export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;
/** Largest table accepted (a prime; hashMod is exact below 2^21). */
export const MAX_MAGLEV_TABLE_SIZE = 1_999_993;

export function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

export interface MaglevConfig {
  tableSize: number;
  hashOn: HashOn | null;
}

export function parseMaglevConfig(config: Readonly<Record<string, unknown>> | undefined): MaglevConfig {
  const c = config ?? {};
  const tableSize = readInt('maglev', 'table_size', c.table_size, DEFAULT_MAGLEV_TABLE_SIZE, 3, MAX_MAGLEV_TABLE_SIZE);
  if (!isPrime(tableSize)) throw new TypeError(`maglev: table_size must be a prime number, got ${tableSize}`);
  return { tableSize, hashOn: parseHashOn('maglev', c.hash_on) };
}

/** Fills the Maglev table: table[slot] = index into `eps`. */
export function buildMaglevTable(eps: readonly Endpoint[], m: number): Int32Array {
  const n = eps.length;
  const table = new Int32Array(m).fill(-1);
  if (n === 0) return table;
  if (n > m) throw new TypeError(`maglev: ${n} endpoints do not fit a table of ${m} slots (raise table_size)`);
  const order = eps.map((_, i) => i).sort((a, b) => (eps[a].address < eps[b].address ? -1 : eps[a].address > eps[b].address ? 1 : a - b));
  const next = new Float64Array(n); // current slot along each endpoint's permutation
  const skip = new Float64Array(n);
  const share = new Float64Array(n);
  const credit = new Float64Array(n);
  let maxW = 0;
  for (let i = 0; i < n; i++) maxW = Math.max(maxW, effectiveWeight(eps[i].weight));
  for (let i = 0; i < n; i++) {
    next[i] = hashMod(eps[i].address, m, 0);
    skip[i] = hashMod(eps[i].address, m - 1, 1) + 1;
    share[i] = effectiveWeight(eps[i].weight) / maxW;
  }
  let filled = 0;
  while (filled < m) {
    for (let k = 0; k < n && filled < m; k++) {
      const i = order[k];
      credit[i] += share[i];
      if (credit[i] < 1 - 1e-9) continue;
      credit[i] -= 1;
      let c = next[i];
      while (table[c] !== -1) c = (c + skip[i]) % m;
      table[c] = i;
      next[i] = (c + skip[i]) % m;
      filled++;
    }
  }
  return table;
}

export class MaglevBalancer implements LoadBalancer {
  private readonly eps: readonly Endpoint[];
  private readonly sampler: WeightedSampler;
  readonly table: Int32Array;

  constructor(endpoints: readonly Endpoint[], private readonly random: () => number, private readonly cfg: MaglevConfig) {
    const eps = endpoints.slice();
    this.eps = eps;
    this.sampler = new WeightedSampler(eps);
    this.table = buildMaglevTable(eps, cfg.tableSize);
  }

  pick(ctx: LbContext | null): Endpoint | null {
    const eps = this.eps;
    const n = eps.length;
    if (n === 0) return null;
    if (n === 1) return eps[0];
    const exclude = excludeOf(ctx);
    const key = hashKeyOf(this.cfg.hashOn, ctx);
    return pickFromSlot(eps, this.table, key === undefined ? -1 : hashMod(key, this.cfg.tableSize), exclude, this.sampler, this.random);
  }
}

export const maglevFactory: LoadBalancerFactory = {
  name: 'maglev',
  create(endpoints: readonly Endpoint[], options: LoadBalancerOptions): LoadBalancer {
    return new MaglevBalancer(endpoints, options.random, parseMaglevConfig(options.config));
  },
};
