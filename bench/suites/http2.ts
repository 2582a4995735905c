/**
 * The `http2` suite: h2load (h2c, prior knowledge) through each proxy, per job — `h1up` (GETs to an
 * HTTP/1.1 upstream), `h2up` (GETs to an h2c upstream) and `grpc` (gRPC unary POSTs to an h2c
 * gRPC upstream) — against nginx and haproxy doing the same job, plus `direct`. Same rig as
 * http1: each proxy alone on the proxy CPU, h2load + upstreams + harness on the load CPU,
 * interleaved rounds, warm-up, RSS/CPU/noise sampling. req/s from h2load's summary, p50/p99 from
 * its per-request log; one table per job with ratios to nginx (else haproxy, else direct).
 * Suite flags: --jobs h1up,h2up,grpc (default all), --clients N (h2load -c; default 10, or
 * --connections when given), --streams N (h2load -m, default 10), --body-bytes N (response body,
 * default 100), --grpc-bytes N (request message string length, default 100), --max-noise PCT (10),
 * --noise-retries N (1).
 */

import * as http2 from 'node:http2';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { versionOf, which } from '../lib/children';
import { environment, failedRunsSection, markdownTable, oneLine, pickReference, reportTail, skippedLines, summarize, writeResultFiles } from '../lib/report';
import type { Measurement, TargetResult } from '../lib/rounds';
import type { SuiteContext, SuiteRunner } from '../lib/suite';
import { benchCommand, intFlag, noiseFlags, noiseMethod, pinNote, probeGet, runSuiteRounds, startLoadCpuNode } from '../lib/suite-kit';
import { getFreePort, waitForPort } from '../lib/sys';
import { GRPC_REPLY, grpcRequestMessage } from '../upstream/h2-upstream';
import { H2_JOBS, HTTP2_TARGETS, http2Targets, parseH2Target, type H2Job, type H2RunInfo, type Http2PeerEnv } from '../peers/http2-peers';
import { runH2load } from './http2-h2load';

const GRPC_PATH = '/bench.Echo/Unary';

/** One request through the target; it must answer as the upstream does. */
function probe(port: number, info: H2RunInfo, bodyBytes: number, grpcBody: Buffer): Promise<void> {
  if (info.h1) return probeGet(port, bodyBytes);
  return new Promise((resolve, reject) => {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    const fail = (msg: string): void => {
      s.destroy();
      reject(new Error(`probe: ${msg}`));
    };
    const timer = setTimeout(() => fail('timed out after 5 s'), 5000);
    s.on('error', (e) => fail(e.message));
    const grpc = info.job === 'grpc';
    const req = grpc
      ? s.request({ ':method': 'POST', ':path': GRPC_PATH, 'content-type': 'application/grpc', te: 'trailers' })
      : s.request({ ':path': '/' });
    let status = 0;
    let grpcStatus: string | undefined;
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    });
    req.on('trailers', (t) => (grpcStatus = t['grpc-status'] === undefined ? grpcStatus : String(t['grpc-status'])));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', (e) => fail(e.message));
    req.on('end', () => {
      clearTimeout(timer);
      s.close();
      const body = Buffer.concat(chunks);
      if (status !== 200) return reject(new Error(`probe: status ${status}`));
      if (grpc && (grpcStatus !== '0' || !body.equals(GRPC_REPLY))) return reject(new Error(`probe: grpc-status ${grpcStatus}, body ${body.toString('hex')}`));
      if (!grpc && body.length !== bodyBytes) return reject(new Error(`probe: ${body.length} body bytes, expected ${bodyBytes}`));
      resolve();
    });
    req.end(grpc ? grpcBody : undefined);
  });
}

async function run(ctx: SuiteContext): Promise<void> {
  if (!which('h2load')) throw new Error('h2load is not installed (apt-get install nghttp2-client)');
  const clients = intFlag(ctx.flags, 'clients', ctx.flags.connections !== undefined ? ctx.connections : 10, 1);
  const streams = intFlag(ctx.flags, 'streams', 10, 1);
  const bodyBytes = intFlag(ctx.flags, 'body-bytes', 100, 0);
  const grpcBytes = intFlag(ctx.flags, 'grpc-bytes', 100, 0);
  const { maxNoise, noiseRetries } = noiseFlags(ctx.flags);
  let jobs: H2Job[] = [...H2_JOBS];
  if (ctx.flags.jobs !== undefined) {
    const list = ctx.flags.jobs.split(',').map((s) => s.trim()).filter(Boolean);
    if (list.length === 0 || list.some((j) => !H2_JOBS.includes(j as H2Job))) throw new Error(`--jobs takes a list of ${H2_JOBS.join(', ')}`);
    jobs = list as H2Job[];
  }

  // Upstreams for the whole suite, on the load CPU.
  const [h1Port, h2Port] = [await getFreePort(), await getFreePort()];
  const h1 = startLoadCpuNode(ctx, 'h1-upstream', 'http1-upstream.js', [String(h1Port), String(bodyBytes)]);
  const h2 = startLoadCpuNode(ctx, 'h2-upstream', 'h2-upstream.js', [String(h2Port), String(bodyBytes)]);
  await waitForPort(h1Port, { svc: h1 });
  await waitForPort(h2Port, { svc: h2 });
  ctx.log(`upstreams: HTTP/1.1 on 127.0.0.1:${h1Port} (pid ${h1.pid}), h2c on 127.0.0.1:${h2Port} (pid ${h2.pid}); ${bodyBytes}-byte bodies`);

  const grpcBody = grpcRequestMessage(grpcBytes);
  const grpcFile = join(ctx.workDir, 'grpc-request.bin');
  writeFileSync(grpcFile, grpcBody);
  const infoByPort = new Map<number, H2RunInfo>();
  const env: Http2PeerEnv = {
    children: ctx.children,
    repoRoot: ctx.repoRoot,
    workDir: ctx.workDir,
    proxyCpu: ctx.proxyCpu,
    h1Port,
    h2Port,
    h1Pgid: h1.pid,
    h2Pgid: h2.pid,
    onStarted: (port, info) => infoByPort.set(port, info),
  };
  const wanted = (ctx.targets ?? HTTP2_TARGETS).filter((n) => jobs.includes(parseH2Target(n)!.job));
  if (wanted.length === 0) throw new Error('no targets left after --jobs');
  const all = http2Targets(env);
  const targets = wanted.map((n) => all.find((t) => t.name === n)!);
  const infoOf = (port: number): H2RunInfo => {
    const i = infoByPort.get(port);
    if (!i) throw new Error(`internal: no run info for port ${port}`);
    return i;
  };

  const measure = async (port: number, durationS: number): Promise<Measurement> => {
    const info = infoOf(port);
    const grpc = info.job === 'grpc';
    const { result, log, raw } = await runH2load(ctx.children, {
      url: `http://127.0.0.1:${port}${grpc ? GRPC_PATH : '/'}`,
      durationS,
      clients,
      streams: info.h1 ? 1 : streams,
      h1: info.h1,
      headers: grpc ? ['content-type: application/grpc', 'te: trailers'] : [],
      dataFile: grpc ? grpcFile : null,
      logFile: join(ctx.workDir, 'h2load.log'),
      cpu: ctx.loadCpu,
    });
    if (h1.exit || h2.exit) throw new Error(`an upstream exited; logs:\n${h1.logTail()}\n${h2.logTail()}`);
    if (result.requests.succeeded === 0) throw new Error(`no successful request: ${oneLine(raw, 300)}`);
    const r = result.requests;
    const s = result.status;
    const errors = r.failed + r.errored + r.timeout + s['3xx'] + s['4xx'] + s['5xx'];
    return { rps: result.rps, p50Ms: log.percentiles['50'], p99Ms: log.percentiles['99'], errors, detail: { ...result, log }, raw: raw.trim() };
  };

  const date = new Date();
  const env0 = environment({ h2load: versionOf('h2load', ['--version']) });
  const results = await runSuiteRounds(ctx, { targets, maxNoise, noiseRetries, measure, probe: (port) => probe(port, infoOf(port), bodyBytes, grpcBody) });
  await Promise.all([h1.stop(), h2.stop()]);

  const pin = pinNote(ctx, 'h2load and upstreams');
  const method = [
    `h2load -c${clients} -m${streams} -t1 -D${ctx.durationS} (h2c prior knowledge; h1up-direct uses --h1 -m1), ${bodyBytes}-byte response bodies`,
    `jobs: h1up = GET / to bench/upstream/http1-upstream (HTTP/1.1 keep-alive); h2up = GET / to bench/upstream/h2-upstream (node:http2, h2c); grpc = POST ${GRPC_PATH} content-type application/grpc with a ${grpcBody.length}-byte length-prefixed message, canned reply + grpc-status 0 trailers from h2-upstream`,
    `${pin}; one worker/thread per proxy, no access log; node (h1up only): node:http2 compat server + undici Pool + .pipe(); nginx: listen http2 + proxy_pass keep-alive (h1up) / grpc_pass (grpc); haproxy: bind proto h2, backend proto h2 for h2c upstreams; switchyard: protocol http2 listener, cluster http or http2`,
    `${ctx.rounds} interleaved round(s), ${ctx.warmupS}s warm-up before each run, each proxy started fresh per run; req/s (h2load summary), p50, p99 (nearest rank over h2load's per-request log) are medians over rounds; RSS is the max sampled`,
    'errors = failed + errored + timed-out requests + non-2xx responses, summed over rounds (h2load does not read grpc-status: the probe checks it once per run)',
    noiseMethod(maxNoise, noiseRetries),
  ];
  const report = writeHttp2Report(ctx, date, method, env0, results, jobs, {
    durationS: ctx.durationS,
    warmupS: ctx.warmupS,
    rounds: ctx.rounds,
    clients,
    streams,
    bodyBytes,
    grpcBytes,
    jobs,
    maxNoise,
    noiseRetries,
    proxyCpu: ctx.proxyCpu,
    loadCpu: ctx.loadCpu,
  });
  process.stdout.write(`\n${report.tables}\n\n`);
  ctx.log(`wrote ${report.md}`);
  ctx.log(`wrote ${report.json}`);
}

/** One table per job, each with its own reference (nginx, else haproxy, else direct). */
function writeHttp2Report(
  ctx: SuiteContext,
  date: Date,
  method: string[],
  env: Record<string, string>,
  results: TargetResult[],
  jobs: H2Job[],
  settings: Record<string, unknown>,
): { md: string; json: string; tables: string } {
  const sections: string[] = [];
  const summaries: Record<string, unknown> = {};
  for (const job of jobs) {
    const rows = results.filter((r) => parseH2Target(r.name)!.job === job);
    if (rows.length === 0) continue;
    const ref = pickReference(rows, [`${job}-nginx`, `${job}-haproxy`, `${job}-direct`]);
    const sum = summarize(rows, ref);
    summaries[job] = { reference: ref, rows: sum };
    const skipped = skippedLines(sum);
    sections.push(`### ${job}`, '', markdownTable(sum, ref), '', ...skipped, ...(skipped.length ? [''] : []));
    const plain = sum.find((r) => r.name === `${job}-node`);
    const ours = sum.find((r) => r.name === `${job}-switchyard`);
    if (plain && ours && plain.rps > 0 && ours.rps > 0) {
      sections.push(`- ${job}: switchyard ÷ plain node:http2 + undici proxy = **${(ours.rps / plain.rps).toFixed(2)}×** (issue #4 target: ≥ 2×)`, '');
    }
  }
  const tables = sections.join('\n').trim();
  const md = [
    `# http2 benchmark — ${date.toISOString()}`,
    '',
    ...method.map((l) => `- ${l}`),
    '- ratio column: req/s ÷ the job\'s reference (nginx, else haproxy, else direct) from this same invocation',
    '',
    tables,
    '',
    ...failedRunsSection(results),
    ...reportTail(results, env, benchCommand()),
  ].join('\n');
  const json = { suite: 'http2', date: date.toISOString(), method, settings, environment: env, summary: summaries, targets: results };
  return { ...writeResultFiles(ctx.resultsDir, 'http2', date, md, json), tables };
}

export const http2Suite: SuiteRunner = {
  description: 'h2load over h2c through Switchyard, a plain node proxy, nginx, haproxy and direct: to HTTP/1.1 and h2c upstreams, and gRPC unary',
  targets: [...HTTP2_TARGETS],
  run,
};
