/**
 * The `http1` suite: HTTP/1.1 keep-alive GETs through each proxy to one raw-`net` upstream that
 * answers a fixed 100-byte body. The upstream and wrk share the load CPU (1), each proxy gets the
 * proxy CPU (0) to itself; see docs/benchmarks.md for the method and its caveats.
 * Suite flags: --body-bytes N (default 100), --threads N (wrk -t, default 1).
 */

import { join } from 'node:path';
import { versionOf, which } from '../lib/children';
import { environment, pickReference, summarize, markdownTable, writeReport } from '../lib/report';
import { runRounds, type Measurement } from '../lib/rounds';
import type { SuiteContext, SuiteRunner } from '../lib/suite';
import { getFreePort, waitForPort } from '../lib/sys';
import { runWrk } from '../lib/wrk';
import { HTTP1_TARGETS, http1Targets, type PeerEnv } from '../peers/http1-peers';

async function run(ctx: SuiteContext): Promise<void> {
  if (!which('wrk')) throw new Error('wrk is not installed (apt-get install wrk)');
  const bodyBytes = Number(ctx.flags['body-bytes'] ?? 100);
  const threads = Number(ctx.flags['threads'] ?? 1);
  if (!Number.isInteger(bodyBytes) || bodyBytes < 0) throw new Error('--body-bytes must be a non-negative integer');
  if (!Number.isInteger(threads) || threads < 1) throw new Error('--threads must be a positive integer');

  // One upstream for the whole suite, on the load CPU.
  const upstreamPort = await getFreePort();
  const upstreamJs = join(__dirname, '..', 'upstream', 'http1-upstream.js');
  const upArgs = [upstreamJs, String(upstreamPort), String(bodyBytes)];
  const upstream = ctx.children.startService(
    'upstream',
    ctx.loadCpu !== null ? 'taskset' : process.execPath,
    ctx.loadCpu !== null ? ['-c', ctx.loadCpu, process.execPath, ...upArgs] : upArgs,
    { logPath: join(ctx.workDir, 'upstream.log') },
  );
  await waitForPort(upstreamPort, { svc: upstream });
  ctx.log(`upstream on 127.0.0.1:${upstreamPort} (pid ${upstream.pid}, ${bodyBytes}-byte body)`);

  const env: PeerEnv = {
    children: ctx.children,
    repoRoot: ctx.repoRoot,
    workDir: ctx.workDir,
    proxyCpu: ctx.proxyCpu,
    upstreamPort,
    upstreamPgid: upstream.pid,
  };
  const wanted = ctx.targets ?? [...HTTP1_TARGETS];
  const all = http1Targets(env);
  const targets = wanted.map((n) => all.find((t) => t.name === n)!);

  const measure = async (port: number, durationS: number): Promise<Measurement> => {
    const { result, raw } = await runWrk(ctx.children, {
      url: `http://127.0.0.1:${port}/`,
      durationS,
      connections: ctx.connections,
      threads,
      cpu: ctx.loadCpu,
    });
    if (upstream.exit) throw new Error(`upstream exited; log:\n${upstream.logTail()}`);
    return { rps: result.rps, p50Ms: result.p50Ms, p99Ms: result.p99Ms, errors: result.socketErrors + result.non2xx, detail: result, raw };
  };

  const date = new Date();
  const results = await runRounds({
    targets,
    rounds: ctx.rounds,
    durationS: ctx.durationS,
    warmupS: ctx.warmupS,
    proxyCpu: ctx.proxyCpu,
    measure,
    log: ctx.log,
  });
  await upstream.stop();

  const reference = pickReference(results, ['nginx', 'direct']);
  const pin = ctx.proxyCpu !== null ? `proxy pinned to CPU ${ctx.proxyCpu}, wrk and upstream pinned to CPU ${ctx.loadCpu}` : 'unpinned (taskset missing)';
  const method = [
    `wrk -t${threads} -c${ctx.connections} -d${ctx.durationS}s --latency, GET /, ${bodyBytes}-byte response body, HTTP/1.1 keep-alive`,
    `${pin}; one worker/thread per proxy, keep-alive to one upstream, no access log`,
    `${ctx.rounds} interleaved round(s), ${ctx.warmupS}s warm-up before each run, each proxy started fresh per run; req/s, p50, p99 are medians over rounds, RSS is the max sampled (VmRSS of the process group every 250 ms)`,
    'errors = socket errors + non-2xx/3xx responses, summed over rounds',
    'CPU % = CPU time of the measured process group (the proxy; the upstream for direct) ÷ wall time, median; noise % = max share of the proxy CPU used by other processes during a run',
  ];
  const report = writeReport(ctx.resultsDir, {
    suite: 'http1',
    date,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
    method,
    settings: {
      durationS: ctx.durationS,
      warmupS: ctx.warmupS,
      rounds: ctx.rounds,
      connections: ctx.connections,
      threads,
      bodyBytes,
      proxyCpu: ctx.proxyCpu,
      loadCpu: ctx.loadCpu,
    },
    env: environment({ wrk: versionOf('wrk', ['-v']) }),
    reference,
    results,
  });
  process.stdout.write(`\n${markdownTable(summarize(results, reference), reference)}\n\n`);
  ctx.log(`wrote ${report.md}`);
  ctx.log(`wrote ${report.json}`);
}

export const http1Suite: SuiteRunner = {
  description: 'HTTP/1.1 keep-alive GETs (wrk) through each proxy to a raw-net upstream, 100-byte body',
  targets: [...HTTP1_TARGETS],
  run,
};
