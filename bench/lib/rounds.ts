/**
 * The measurement loop shared by suites: interleaved rounds (round 1 runs every target, then round
 * 2 runs every target, ...), each run being start target → wait for its port → warm-up → measured
 * load while sampling the target's RSS → stop target. A run that fails (target does not start,
 * crashes, load tool errors) is recorded with its error and the loop goes on with the next one.
 * The load tool is injected (`measure`), so an HTTP/2 or RPC suite reuses this with its own tool.
 */

import type { Service } from './children';
import { startCpuMeter, startRssSampler, sleep } from './sys';

/** What one measured run produced (latencies in ms). */
export interface Measurement {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Failed requests: socket errors + non-2xx/3xx responses (or the tool's equivalent). */
  errors: number;
  /** Tool-specific parsed numbers, kept in the JSON. */
  detail: unknown;
  /** The tool's raw output. */
  raw: string;
}

export interface RunningTarget {
  /** Port the load generator targets. */
  port: number;
  /** Process group whose RSS is sampled (the proxy, or the upstream for `direct`). */
  rssPgid: number;
  /** The process started for this run, if any (checked for crashes during load). */
  service: Service | null;
  /** Whether the measured group runs on the proxy CPU (false for `direct`: the upstream). */
  onProxyCpu: boolean;
  stop(): Promise<void>;
}

export interface TargetDef {
  name: string;
  /** null when it can run here, else why it is skipped. */
  unavailable(): string | null;
  /** Version string for the report. */
  version(): string;
  start(): Promise<RunningTarget>;
}

export interface RunRecord {
  round: number;
  ok: boolean;
  error?: string;
  measurement?: Measurement;
  rssMaxMB?: number;
  /** CPU the target's process group used during the measured run, % of one core. */
  cpuPct?: number;
  /** Busy % of the proxy CPU from other processes during the run (noise); NaN when unknown. */
  foreignCpuPct?: number;
  /** How many noisy attempts of this run were discarded and repeated. */
  noisyRetries?: number;
}

export interface TargetResult {
  name: string;
  version: string;
  /** Reason, when the target was skipped entirely. */
  skipped?: string;
  runs: RunRecord[];
}

export interface RoundsOptions {
  targets: TargetDef[];
  rounds: number;
  durationS: number;
  warmupS: number;
  /** Pause between runs, ms (lets sockets in TIME_WAIT and the CPU settle). */
  pauseMs?: number;
  /** The proxies' taskset CPU list (for the noise measurement), or null. */
  proxyCpu: string | null;
  /** A run during which other processes used more than this % of the proxy CPU is noisy (default 10). */
  noiseWarnPct?: number;
  /** How many times a noisy run is repeated before its result is kept anyway (default 0). */
  noiseRetries?: number;
  measure(port: number, durationS: number): Promise<Measurement>;
  /** Optional check that the target answers correctly before any load (throws if not). */
  probe?(port: number): Promise<void>;
  log(msg: string): void;
}

function isNoisy(rec: RunRecord, o: RoundsOptions): boolean {
  return rec.ok && (rec.foreignCpuPct ?? 0) > (o.noiseWarnPct ?? 10);
}

function fmtErr(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function runRounds(o: RoundsOptions): Promise<TargetResult[]> {
  const results: TargetResult[] = [];
  const active: Array<{ def: TargetDef; res: TargetResult }> = [];
  for (const def of o.targets) {
    const why = def.unavailable();
    const res: TargetResult = { name: def.name, version: why ? '' : def.version(), runs: [] };
    if (why) {
      res.skipped = why;
      o.log(`skip ${def.name}: ${why}`);
    } else {
      active.push({ def, res });
    }
    results.push(res);
  }
  for (let round = 1; round <= o.rounds; round++) {
    for (const { def, res } of active) {
      o.log(`round ${round}/${o.rounds} ${def.name}: starting`);
      let rec = await runOne(def, round, o);
      for (let retry = 1; retry <= (o.noiseRetries ?? 0) && isNoisy(rec, o); retry++) {
        o.log(`round ${round}/${o.rounds} ${def.name}: noisy (${rec.foreignCpuPct!.toFixed(0)}% foreign CPU), repeating (${retry}/${o.noiseRetries})`);
        await sleep(o.pauseMs ?? 1000);
        rec = await runOne(def, round, o);
        rec.noisyRetries = retry;
      }
      res.runs.push(rec);
      if (rec.ok && rec.measurement) {
        const m = rec.measurement;
        o.log(
          `round ${round}/${o.rounds} ${def.name}: ${Math.round(m.rps)} req/s, p50 ${m.p50Ms.toFixed(3)} ms, ` +
            `p99 ${m.p99Ms.toFixed(3)} ms, RSS ${rec.rssMaxMB?.toFixed(1)} MB, CPU ${rec.cpuPct?.toFixed(0)}%${m.errors ? `, ${m.errors} errors` : ''}`,
        );
      } else {
        o.log(`round ${round}/${o.rounds} ${def.name}: FAILED: ${rec.error}`);
      }
      await sleep(o.pauseMs ?? 1000);
    }
  }
  return results;
}

async function runOne(def: TargetDef, round: number, o: RoundsOptions): Promise<RunRecord> {
  let running: RunningTarget | null = null;
  try {
    running = await def.start();
    if (o.probe) await o.probe(running.port);
    if (o.warmupS > 0) await o.measure(running.port, o.warmupS);
    const sampler = startRssSampler(running.rssPgid);
    const meter = startCpuMeter(running.rssPgid, o.proxyCpu, running.onProxyCpu);
    let measurement: Measurement;
    let rssMaxMB = 0;
    try {
      measurement = await o.measure(running.port, o.durationS);
    } finally {
      rssMaxMB = sampler.stop();
    }
    const cpu = meter.stop();
    const svc = running.service;
    if (svc?.exit) {
      throw new Error(`${def.name} exited during the run (code ${svc.exit.code}, signal ${svc.exit.signal}); log:\n${svc.logTail()}`);
    }
    if (cpu.foreignOnProxyCpuPct > (o.noiseWarnPct ?? 10)) {
      o.log(`warning: other processes used ${cpu.foreignOnProxyCpuPct.toFixed(0)}% of CPU ${o.proxyCpu} during ${def.name} round ${round}: noisy run`);
    }
    return { round, ok: true, measurement, rssMaxMB, cpuPct: cpu.targetPct, foreignCpuPct: cpu.foreignOnProxyCpuPct };
  } catch (e) {
    return { round, ok: false, error: fmtErr(e) };
  } finally {
    if (running) {
      try {
        await running.stop();
      } catch (e) {
        o.log(`${def.name}: stop failed: ${fmtErr(e)}`);
      }
    }
  }
}
