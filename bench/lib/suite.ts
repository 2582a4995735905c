/**
 * The contract between bench/run.ts and a benchmark suite (http1 today; rpc, http2, wasm later).
 * run.ts parses the common flags once into a SuiteContext and calls the suite registered under the
 * name given on the command line; a suite owns its targets, load tool and report.
 */

import type { Children } from './children';

export interface SuiteContext {
  /** Repository root (holds package.json, bin/, bench/). */
  repoRoot: string;
  /** Measured run length per target per round, seconds. */
  durationS: number;
  /** Warm-up load before each measured run, seconds (0 = none). */
  warmupS: number;
  rounds: number;
  /** Concurrent connections of the load generator. */
  connections: number;
  /** Target names chosen with --targets, or null for the suite's default list. */
  targets: string[] | null;
  /** CPU lists for taskset: proxies get `proxyCpu`, load generator and upstreams `loadCpu`; null = unpinned. */
  proxyCpu: string | null;
  loadCpu: string | null;
  /** Every process a suite starts must go through this (it is killed on exit / Ctrl-C). */
  children: Children;
  /** Where result files go (bench/results). */
  resultsDir: string;
  /** A fresh temp directory for generated configs and logs; removed on success. */
  workDir: string;
  /** Every --flag value given, including the common ones, for suite-specific options. */
  flags: Record<string, string>;
  log(msg: string): void;
}

export interface SuiteRunner {
  /** One line for --help. */
  description: string;
  /** Target names the suite knows (for --help and --targets validation). */
  targets: string[];
  run(ctx: SuiteContext): Promise<void>;
}
