/**
 * The `http1` suite: HTTP/1.1 keep-alive GETs through each proxy to one raw-`net` upstream that
 * answers a fixed 100-byte body. The upstream and wrk share the load CPU (1), each proxy gets the
 * proxy CPU (0) to itself; see docs/benchmarks.md for the method and its caveats.
 * Suite flags: --body-bytes N (default 100), --threads N (wrk -t, default 1), --max-noise PCT
 * (default 10) and --noise-retries N (default 1): a run during which other processes took more than
 * PCT% of the proxy CPU is repeated up to N times.
 */

import { versionOf, which } from '../lib/children';
import { environment, pickReference, summarize, markdownTable, writeReport } from '../lib/report';
import type { SuiteContext, SuiteRunner } from '../lib/suite';
import { benchCommand, noiseFlags, noiseMethod, pinNote, probeGet, roundsMethod, runSuiteRounds, startLoadCpuNode, wrkMeasure } from '../lib/suite-kit';
import { getFreePort, waitForPort } from '../lib/sys';
import { HTTP1_TARGETS, http1Targets, type PeerEnv } from '../peers/http1-peers';

async function run(ctx: SuiteContext): Promise<void> {
  if (!which('wrk')) throw new Error('wrk is not installed (apt-get install wrk)');
  const bodyBytes = Number(ctx.flags['body-bytes'] ?? 100);
  const threads = Number(ctx.flags['threads'] ?? 1);
  if (!Number.isInteger(bodyBytes) || bodyBytes < 0) throw new Error('--body-bytes must be a non-negative integer');
  if (!Number.isInteger(threads) || threads < 1) throw new Error('--threads must be a positive integer');
  const { maxNoise, noiseRetries } = noiseFlags(ctx.flags);

  // One upstream for the whole suite, on the load CPU.
  const upstreamPort = await getFreePort();
  const upstream = startLoadCpuNode(ctx, 'upstream', 'http1-upstream.js', [String(upstreamPort), String(bodyBytes)]);
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

  const date = new Date();
  const env0 = environment({ wrk: versionOf('wrk', ['-v']) }); // load average as the suite starts
  const results = await runSuiteRounds(ctx, {
    targets,
    maxNoise,
    noiseRetries,
    measure: wrkMeasure(ctx, upstream, threads),
    probe: (port) => probeGet(port, bodyBytes),
  });
  await upstream.stop();

  const reference = pickReference(results, ['nginx', 'direct']);
  const method = [
    `wrk -t${threads} -c${ctx.connections} -d${ctx.durationS}s --latency, GET /, ${bodyBytes}-byte response body, HTTP/1.1 keep-alive`,
    `${pinNote(ctx, 'wrk and upstream')}; one worker/thread per proxy, keep-alive to one upstream, no access log`,
    roundsMethod(ctx),
    'errors = socket errors + non-2xx/3xx responses, summed over rounds',
    'CPU % = CPU time of the measured process group (the proxy; the upstream for direct) ÷ wall time, median; noise % = max share of the proxy CPU used by other processes during a run',
    noiseMethod(maxNoise, noiseRetries),
  ];
  const report = writeReport(ctx.resultsDir, {
    suite: 'http1',
    date,
    command: benchCommand(),
    method,
    settings: {
      durationS: ctx.durationS,
      warmupS: ctx.warmupS,
      rounds: ctx.rounds,
      connections: ctx.connections,
      threads,
      bodyBytes,
      maxNoise,
      noiseRetries,
      proxyCpu: ctx.proxyCpu,
      loadCpu: ctx.loadCpu,
    },
    env: env0,
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
