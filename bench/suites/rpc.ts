/**
 * The `rpc` suite: Dubbo 2 and Bolt v1 request load (bench/load/rpc-load.ts, a Node closed-loop
 * client: --connections outstanding requests over --rpc-connections connections) through
 * Switchyard (L7: decodes frames, routes by service), through haproxy in TCP mode (L4 byte
 * forwarding, the yardstick) and straight at the provider (bench/upstream/rpc-responder.ts).
 * Same rig as http1: proxy alone on the proxy CPU, load + responder + harness on the load CPU,
 * interleaved rounds, warm-up, RSS/CPU/noise sampling. Each protocol is its own set of rows.
 * Suite flags: --rpc-connections N (default 10), --protocols dubbo,bolt (default both),
 * --arg-bytes N (string argument length, default 100), --max-noise PCT (default 10),
 * --noise-retries N (default 1), --switchyard-plugins a.js,b.js (put into the generated config's
 * `plugins:`, for codecs not registered by dist/src/builtins yet). A switchyard target whose codec
 * is not registered (and no plug-ins given) is skipped.
 */

import { join, resolve } from 'node:path';
import { environment } from '../lib/report';
import type { Measurement } from '../lib/rounds';
import type { SuiteContext, SuiteRunner } from '../lib/suite';
import { benchCommand, intFlag, noiseFlags, noiseMethod, pinNote, roundsMethod, runSuiteRounds, startLoadCpuNode } from '../lib/suite-kit';
import { getFreePort, waitForPort } from '../lib/sys';
import { RPC_PROTOCOLS, isRpcProtocol, type RpcProtocol } from '../load/rpc-frames';
import { probeRpc } from '../load/rpc-probe';
import { parseRpcLoadOutput } from '../load/rpc-result';
import { RPC_TARGETS, parseTargetName, rpcTargets, type RpcPeerEnv } from '../peers/rpc-peers';
import { writeRpcReport } from './rpc-report';

async function run(ctx: SuiteContext): Promise<void> {
  const rpcConnections = intFlag(ctx.flags, 'rpc-connections', 10, 1);
  const argBytes = intFlag(ctx.flags, 'arg-bytes', 100, 0);
  const { maxNoise, noiseRetries } = noiseFlags(ctx.flags);
  const switchyardPlugins = (ctx.flags['switchyard-plugins'] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((p) => resolve(p));
  let protocols: RpcProtocol[] = [...RPC_PROTOCOLS];
  if (ctx.flags.protocols !== undefined) {
    const list = ctx.flags.protocols.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = list.filter((p) => !isRpcProtocol(p));
    if (bad.length || list.length === 0) throw new Error(`--protocols takes a list of ${RPC_PROTOCOLS.join(', ')}`);
    protocols = list as RpcProtocol[];
  }

  // One responder for the whole suite (both protocols), on the load CPU.
  const [dubboPort, boltPort] = [await getFreePort(), await getFreePort()];
  const upstream = startLoadCpuNode(ctx, 'responder', 'rpc-responder.js', [String(dubboPort), String(boltPort)]);
  await waitForPort(dubboPort, { svc: upstream });
  await waitForPort(boltPort, { svc: upstream });
  ctx.log(`responder: dubbo on 127.0.0.1:${dubboPort}, bolt on 127.0.0.1:${boltPort} (pid ${upstream.pid})`);

  const protoByPort = new Map<number, RpcProtocol>();
  const env: RpcPeerEnv = {
    children: ctx.children,
    repoRoot: ctx.repoRoot,
    workDir: ctx.workDir,
    proxyCpu: ctx.proxyCpu,
    upstreamPorts: { dubbo: dubboPort, bolt: boltPort },
    upstreamPgid: upstream.pid,
    switchyardPlugins,
    onStarted: (port, protocol) => protoByPort.set(port, protocol),
  };
  const wanted = (ctx.targets ?? RPC_TARGETS).filter((n) => protocols.includes(parseTargetName(n)!.protocol));
  if (wanted.length === 0) throw new Error('no targets left after --protocols');
  const all = rpcTargets(env);
  const targets = wanted.map((n) => all.find((t) => t.name === n)!);

  const loadJs = join(__dirname, '..', 'load', 'rpc-load.js');
  const protocolOf = (port: number): RpcProtocol => {
    const p = protoByPort.get(port);
    if (!p) throw new Error(`internal: no protocol recorded for port ${port}`);
    return p;
  };
  const measure = async (port: number, durationS: number): Promise<Measurement> => {
    const args = [
      loadJs, '--protocol', protocolOf(port), '--port', String(port), '--duration', String(durationS),
      '--concurrency', String(ctx.connections), '--connections', String(rpcConnections), '--arg-bytes', String(argBytes),
    ];
    const [cmd, a] = ctx.loadCpu !== null ? ['taskset', ['-c', ctx.loadCpu, process.execPath, ...args]] : [process.execPath, args];
    const { code, stdout, stderr } = await ctx.children.runToEnd('rpc-load', cmd, a as string[], (durationS + 30) * 1000);
    if (code !== 0) throw new Error(`rpc-load exited with ${code}: ${(stderr || stdout).trim().slice(0, 500)}`);
    if (upstream.exit) throw new Error(`responder exited; log:\n${upstream.logTail()}`);
    const r = parseRpcLoadOutput(stdout);
    if (r.requests === 0) throw new Error(`no successful ${r.protocol} request (${r.errors} errors: ${JSON.stringify(r.errorDetail)})`);
    return { rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors, detail: r, raw: stdout.trim() };
  };

  const date = new Date();
  const env0 = environment({ load: `bench/load/rpc-load (node ${process.version})` });
  const results = await runSuiteRounds(ctx, { targets, maxNoise, noiseRetries, measure, probe: (port) => probeRpc(protocolOf(port), port) });
  await upstream.stop();

  const pin = pinNote(ctx, 'load generator and responder');
  const method = [
    `bench/load/rpc-load: ${ctx.connections} requests outstanding over ${rpcConnections} connection(s) (closed loop, ids multiplexed), ${ctx.durationS}s per run; ` +
      `Dubbo 2 hessian2 call com.example.Echo#echo(String of ${argBytes} chars) with path/interface/version/group attachments; Bolt v1 SofaRequest with service + sofa_head_method_name header map`,
    'responder: raw net, canned success response per request (Dubbo status 20, Bolt status 0); one process, both protocols',
    `${pin}; one worker/thread per proxy; switchyard: protocol dubbo|bolt listener routing by match.service to a same-protocol cluster, no access log; haproxy: mode tcp, nbthread 1`,
    roundsMethod(ctx),
    'latency = send → whole response frame read, per request, in a log-linear histogram (< 0.8 % bucket error); errors = non-success status + unknown ids + requests lost to closed connections + 5 s timeouts + failed connects, summed over rounds',
    'CPU % = CPU time of the measured process group (the proxy; the responder for direct) ÷ wall time, median; noise % = max share of the proxy CPU used by other processes during a run',
    noiseMethod(maxNoise, noiseRetries),
  ];
  const report = writeRpcReport(ctx.resultsDir, {
    date,
    command: benchCommand(),
    method,
    settings: {
      durationS: ctx.durationS,
      warmupS: ctx.warmupS,
      rounds: ctx.rounds,
      concurrency: ctx.connections,
      rpcConnections,
      argBytes,
      protocols,
      maxNoise,
      noiseRetries,
      proxyCpu: ctx.proxyCpu,
      loadCpu: ctx.loadCpu,
      switchyardPlugins,
    },
    env: env0,
    results,
  });
  process.stdout.write(`\n${report.table}\n\n${report.check.map((l) => `target: ${l}`).join('\n')}\n\n`);
  ctx.log(`wrote ${report.md}`);
  ctx.log(`wrote ${report.json}`);
}

export const rpcSuite: SuiteRunner = {
  description: 'Dubbo 2 / Bolt v1 calls (Node load client) through Switchyard, haproxy mode tcp, and direct to a raw-net provider',
  targets: [...RPC_TARGETS],
  run,
};
