/**
 * Benchmark entry point: `npm run bench -- <suite> [flags]` (compiled to dist/bench/run.js).
 * Parses the flags every suite shares into a SuiteContext, pins itself to the load CPU, and runs
 * the suite registered under <suite> in SUITES below. A new suite (rpc, http2, wasm, ...) is a new
 * module exporting a SuiteRunner plus one line in SUITES; nothing else here changes.
 * Every child process is killed on exit, on errors and on Ctrl-C. See docs/benchmarks.md.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Children, pinProcess, which } from './lib/children';
import type { SuiteContext, SuiteRunner } from './lib/suite';
import { findRepoRoot, parseDurationS } from './lib/sys';
import { http1Suite } from './suites/http1';
import { rpcSuite } from './suites/rpc';
import { http2Suite } from './suites/http2';
import { wasmSuite } from './suites/wasm';

/** Suite name → runner. Register new suites here. */
const SUITES: Record<string, SuiteRunner> = {
  http1: http1Suite,
  rpc: rpcSuite,
  http2: http2Suite,
  wasm: wasmSuite,
};

const COMMON_FLAGS: Record<string, string> = {
  duration: 'measured run per target per round (default 10s)',
  warmup: 'warm-up load before each measured run (default 2s; 0 = none)',
  rounds: 'interleaved rounds (default 3)',
  targets: 'comma-separated target names (default: all the suite knows)',
  connections: 'load-generator connections (default 50)',
  'proxy-cpu': 'taskset CPU list for proxies (default 0)',
  'load-cpu': 'taskset CPU list for the load generator and upstreams (default 1)',
  'no-pin': 'do not use taskset at all',
  keep: 'keep the temp directory with generated configs and logs',
  help: 'this text',
};
const BOOLEAN_FLAGS = new Set(['no-pin', 'keep', 'help']);

function usage(): string {
  const lines = ['usage: npm run bench -- <suite> [--flag value ...]', '', 'suites:'];
  for (const [name, s] of Object.entries(SUITES)) lines.push(`  ${name.padEnd(8)} ${s.description}`, `           targets: ${s.targets.join(', ')}`);
  lines.push('', 'flags:');
  for (const [f, d] of Object.entries(COMMON_FLAGS)) lines.push(`  --${f.padEnd(12)} ${d}`);
  lines.push('', 'Suites may take more flags (see the suite module\'s opening comment).');
  return lines.join('\n');
}

export function parseArgs(argv: string[]): { positional: string[]; flags: Record<string, string> } {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (eq > 0) flags[name] = a.slice(eq + 1);
    else if (BOOLEAN_FLAGS.has(name)) flags[name] = 'true';
    else if (i + 1 < argv.length) flags[name] = argv[++i];
    else throw new Error(`--${name} needs a value`);
  }
  return { positional, flags };
}

function positiveInt(flags: Record<string, string>, name: string, dflt: number): number {
  const v = flags[name] === undefined ? dflt : Number(flags[name]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

function wholeSeconds(flags: Record<string, string>, name: string, dflt: string, min: number): number {
  const s = parseDurationS(flags[name] ?? dflt);
  if (!Number.isInteger(s) || s < min) throw new Error(`--${name} must be a whole number of seconds ≥ ${min} (wrk's resolution)`);
  return s;
}

async function main(): Promise<number> {
  const { positional, flags } = parseArgs(process.argv.slice(2));
  if (flags.help || positional.length === 0) {
    process.stdout.write(usage() + '\n');
    return positional.length === 0 && !flags.help ? 2 : 0;
  }
  const suiteName = positional[0];
  const suite = SUITES[suiteName];
  if (!suite) throw new Error(`unknown suite "${suiteName}"; known: ${Object.keys(SUITES).join(', ')}`);

  let targets: string[] | null = null;
  if (flags.targets !== undefined) {
    targets = flags.targets.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = targets.filter((t) => !suite.targets.includes(t));
    if (unknown.length || targets.length === 0) throw new Error(`unknown target(s) ${unknown.join(', ')}; ${suiteName} knows: ${suite.targets.join(', ')}`);
  }

  const durationS = wholeSeconds(flags, 'duration', '10s', 1);
  const warmupS = wholeSeconds(flags, 'warmup', '2s', 0);
  const rounds = positiveInt(flags, 'rounds', 3);
  const connections = positiveInt(flags, 'connections', 50);
  const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
  let proxyCpu: string | null = flags['proxy-cpu'] ?? '0';
  let loadCpu: string | null = flags['load-cpu'] ?? '1';
  if (flags['no-pin'] || !which('taskset')) {
    if (!flags['no-pin']) log('taskset not found: running unpinned, numbers are not comparable with the baseline');
    proxyCpu = loadCpu = null;
  } else {
    if (cpus().length < 2) log(`only ${cpus().length} CPU: proxy and load share a core, numbers are not comparable with the baseline`);
    // Keep the harness itself (RSS sampling, bookkeeping) off the proxy's core.
    if (!pinProcess(loadCpu)) log(`could not pin the harness to CPU ${loadCpu}`);
  }

  const load1 = loadavg()[0];
  if (load1 > 0.5) log(`load average is ${load1.toFixed(2)}: other work on this machine will add noise (see the noise % column)`);

  const repoRoot = findRepoRoot(__dirname);
  const workDir = mkdtempSync(join(tmpdir(), `switchyard-bench-${suiteName}-`));
  const removeWorkDir = () => {
    if (flags.keep) log(`kept ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  };
  const children = new Children();
  children.installExitHandlers(removeWorkDir);
  const ctx: SuiteContext = {
    repoRoot,
    durationS,
    warmupS,
    rounds,
    connections,
    targets,
    proxyCpu,
    loadCpu,
    children,
    resultsDir: join(repoRoot, 'bench', 'results'),
    workDir,
    flags,
    log,
  };
  log(`${suiteName}: ${ctx.rounds} round(s) × ${ctx.durationS}s (+${ctx.warmupS}s warm-up), work dir ${workDir}`);
  try {
    await suite.run(ctx);
  } catch (e) {
    await children.shutdown();
    log(`kept ${workDir} for inspection`);
    throw e;
  }
  await children.shutdown();
  removeWorkDir();
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`[bench] error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
