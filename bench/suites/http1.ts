/**
 * The `http1` suite: HTTP/1.1 keep-alive GETs through each proxy to one raw-`net` upstream that
 * answers a fixed 100-byte body. The upstream and wrk share the load CPU (1), each proxy gets the
 * proxy CPU (0) to itself; see docs/benchmarks.md for the method and its caveats.
 * Suite flags: --body-bytes N (default 100), --threads N (wrk -t, default 1), --max-noise PCT
 * (default 10) and --noise-retries N (default 1): a run during which other processes took more than
 * PCT% of the proxy CPU is repeated up to N times.
 */

import { get } from 'node:http';
import { join } from 'node:path';
import { versionOf, which } from '../lib/children';
import { environment, pickReference, summarize, markdownTable, writeReport } from '../lib/report';
import { runRounds, type Measurement } from '../lib/rounds';
import type { SuiteContext, SuiteRunner } from '../lib/suite';
import { getFreePort, waitForPort } from '../lib/sys';
import { runWrk } from '../lib/wrk';
import { HTTP1_TARGETS, http1Targets, type PeerEnv } from '../peers/http1-peers';

/** One GET through the target: it must answer 200 with exactly the upstream's body length. */
function probe(port: number, bodyBytes: number): Promise<void> {
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
  const env0 = environment({ wrk: versionOf('wrk', ['-v']) }); // load average as the suite starts
  const noiseRetries = Number(ctx.flags['noise-retries'] ?? 1);
  const maxNoise = Number(ctx.flags['max-noise'] ?? 10);
  if (!Number.isInteger(noiseRetries) || noiseRetries < 0) throw new Error('--noise-retries must be a non-negative integer');
  if (!(maxNoise >= 0)) throw new Error('--max-noise must be a percentage ≥ 0');
  const results = await runRounds({
    targets,
    rounds: ctx.rounds,
    durationS: ctx.durationS,
    warmupS: ctx.warmupS,
    proxyCpu: ctx.proxyCpu,
    noiseWarnPct: maxNoise,
    noiseRetries,
    measure,
    probe: (port) => probe(port, bodyBytes),
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
    `a run with noise above ${maxNoise}% is repeated up to ${noiseRetries} time(s), the last attempt is kept`,
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
