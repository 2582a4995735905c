/**
 * Pieces every suite's run() repeats: integer and noise flags, upstreams started on the load CPU,
 * the interleaved rounds driven from the SuiteContext, an HTTP/1.1 GET probe, a wrk measurement,
 * and the method lines the reports share.
 * Must never: start a process outside ctx.children or decide which targets a suite has.
 */

import { get } from 'node:http';
import { join } from 'node:path';
import type { Service } from './children';
import { runRounds, type Measurement, type RoundsOptions, type TargetResult } from './rounds';
import type { SuiteContext } from './suite';
import { runWrk } from './wrk';

/** `--<name>` as an integer ≥ min, `dflt` when absent. */
export function intFlag(flags: Record<string, string>, name: string, dflt: number, min: number): number {
  const v = flags[name] === undefined ? dflt : Number(flags[name]);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return v;
}

/** --max-noise PCT (default 10) and --noise-retries N (default 1). */
export function noiseFlags(flags: Record<string, string>): { maxNoise: number; noiseRetries: number } {
  const noiseRetries = intFlag(flags, 'noise-retries', 1, 0);
  const maxNoise = Number(flags['max-noise'] ?? 10);
  if (!(maxNoise >= 0)) throw new Error('--max-noise must be a percentage ≥ 0');
  return { maxNoise, noiseRetries };
}

/** Runs `node bench/upstream/<js> ...args` on the load CPU, logging to <workDir>/<logName>. */
export function startLoadCpuNode(ctx: SuiteContext, name: string, js: string, args: string[], logName = `${name}.log`): Service {
  const all = [join(__dirname, '..', 'upstream', js), ...args];
  return ctx.children.startService(
    name,
    ctx.loadCpu !== null ? 'taskset' : process.execPath,
    ctx.loadCpu !== null ? ['-c', ctx.loadCpu, process.execPath, ...all] : all,
    { logPath: join(ctx.workDir, logName) },
  );
}

/** runRounds with the rounds, durations and CPUs of the context. */
export function runSuiteRounds(
  ctx: SuiteContext,
  o: Pick<RoundsOptions, 'targets' | 'measure' | 'probe'> & { maxNoise: number; noiseRetries: number },
): Promise<TargetResult[]> {
  return runRounds({
    targets: o.targets,
    rounds: ctx.rounds,
    durationS: ctx.durationS,
    warmupS: ctx.warmupS,
    proxyCpu: ctx.proxyCpu,
    noiseWarnPct: o.maxNoise,
    noiseRetries: o.noiseRetries,
    measure: o.measure,
    probe: o.probe,
    log: ctx.log,
  });
}

/** One GET / through the target: it must answer 200 with exactly `bodyBytes` of body. */
export function probeGet(port: number, bodyBytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000 }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => (n += d.length));
      res.on('end', () => {
        if (res.statusCode === 200 && n === bodyBytes) resolve();
        else reject(new Error(`probe GET / answered ${res.statusCode} with ${n} body bytes (expected 200 with ${bodyBytes})`));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('probe GET / timed out after 5 s')));
    req.on('error', (e) => reject(new Error(`probe GET / failed: ${e.message}`)));
  });
}

/** A wrk run of GET / against the target; fails when the upstream died meanwhile. */
export function wrkMeasure(ctx: SuiteContext, upstream: Service, threads: number): (port: number, durationS: number) => Promise<Measurement> {
  return async (port, durationS) => {
    const { result, raw } = await runWrk(ctx.children, { url: `http://127.0.0.1:${port}/`, durationS, connections: ctx.connections, threads, cpu: ctx.loadCpu });
    if (upstream.exit) throw new Error(`upstream exited; log:\n${upstream.logTail()}`);
    return { rps: result.rps, p50Ms: result.p50Ms, p99Ms: result.p99Ms, errors: result.socketErrors + result.non2xx, detail: result, raw };
  };
}

/** `proxy pinned to CPU a, <others> pinned to CPU b`, or that nothing was pinned. */
export function pinNote(ctx: SuiteContext, others: string): string {
  return ctx.proxyCpu !== null ? `proxy pinned to CPU ${ctx.proxyCpu}, ${others} pinned to CPU ${ctx.loadCpu}` : 'unpinned (taskset missing)';
}

/** The command line as the report quotes it. */
export function benchCommand(): string {
  return `npm run bench -- ${process.argv.slice(2).join(' ')}`;
}

/** Method line on rounds and medians, as http1 and rpc report it. */
export function roundsMethod(ctx: SuiteContext): string {
  return `${ctx.rounds} interleaved round(s), ${ctx.warmupS}s warm-up before each run, each proxy started fresh per run; req/s, p50, p99 are medians over rounds, RSS is the max sampled (VmRSS of the process group every 250 ms)`;
}

/** Method line on repeated noisy runs. */
export function noiseMethod(maxNoise: number, noiseRetries: number): string {
  return `a run with noise above ${maxNoise}% is repeated up to ${noiseRetries} time(s), the last attempt is kept`;
}
