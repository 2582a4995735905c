/**
 * The `wasm` suite: the cost of a proxy-wasm filter on HTTP/1.1 traffic. Switchyard is run with no
 * filter (`none`), with filters-wasm's add-header example (`add-header`, the project's SDK) and with
 * the same edits written against @gcoredev/proxy-wasm-sdk-as (`add-header-gcore`, built here at
 * run time from test/fixtures/wasm-sdk/add-header-gcore.as into the work dir — never committed).
 * Same method as `http1` (wrk, raw-net upstream, pinning, interleaved rounds). It reports req/s,
 * p50, p99, the ratio to `none`, the per-request host overhead (1/rps_filter − 1/rps_none) in µs on
 * the pinned proxy core, and a micro-benchmark calling the filter's hooks in a loop in-process.
 * Suite flags: --body-bytes N (default 100), --micro-iterations N (default 200000, 0 = skip).
 * Must never: write build output into the repository.
 */

import { appendFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { versionOf, which } from '../lib/children';
import { switchyardHttpConfig } from '../lib/peer-configs';
import { jsonConfig, startSwitchyard, switchyardMissing } from '../lib/peer-start';
import { environment, markdownTable, summarize, writeReport } from '../lib/report';
import type { TargetDef } from '../lib/rounds';
import type { SuiteContext, SuiteRunner } from '../lib/suite';
import { benchCommand, pinNote, probeGet, runSuiteRounds, startLoadCpuNode, wrkMeasure } from '../lib/suite-kit';
import { getFreePort, waitForPort } from '../lib/sys';

export const WASM_TARGETS = ['none', 'add-header', 'add-header-gcore'] as const;
type WasmTarget = (typeof WASM_TARGETS)[number];

/** The edits both filters make: request −x-b +x-a:1, response −x-d +x-c:2. */
const ADD_HEADER_CONFIG = {
  request_headers_to_add: [{ name: 'x-a', value: '1' }],
  request_headers_to_remove: ['x-b'],
  response_headers_to_add: [{ name: 'x-c', value: '2' }],
  response_headers_to_remove: ['x-d'],
};

/**
 * asc options the third-party SDK needs (see docs/wasm-host.md and FACTS). The wasi-shim config
 * must be named relative to the working directory (asc resolves what it extends from there).
 */
function gcoreOptions(repoRoot: string): string[] {
  return ['--config', relative(process.cwd(), join(repoRoot, 'node_modules', '@assemblyscript', 'wasi-shim', 'asconfig.json')), '--use', 'abort=abort_proc_exit', '-O3', '--noAssert'];
}

interface BuildJs {
  buildAll(opts: { names?: string[] }): Promise<Array<{ name: string; file: string }>>;
  compile(entry: string, outFile: string, options?: string[]): Promise<{ ok: boolean; messages: string }>;
}

/** Paths of the two modules: the example (filters-wasm/build, rebuilt when stale) and the G-Core one (work dir). */
async function buildModules(ctx: SuiteContext): Promise<Record<'add-header' | 'add-header-gcore', string>> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const b = require(join(ctx.repoRoot, 'filters-wasm', 'build.js')) as BuildJs;
  const [own] = await b.buildAll({ names: ['add-header'] });
  const dir = join(ctx.workDir, 'gcore');
  mkdirSync(dir, { recursive: true });
  // The entry lives in the work dir; asc resolves the SDK package from the working directory
  // (the repository root, as for `npm run bench`).
  const entry = join(dir, 'add-header-gcore.ts');
  copyFileSync(join(ctx.repoRoot, 'test', 'fixtures', 'wasm-sdk', 'add-header-gcore.as'), entry);
  const out = join(dir, 'add-header-gcore.wasm');
  const r = await b.compile(entry, out, gcoreOptions(ctx.repoRoot));
  if (!r.ok) throw new Error(`asc failed for add-header-gcore:\n${r.messages}`);
  return { 'add-header': own.file, 'add-header-gcore': out };
}

function switchyardConfig(port: number, adminPort: number, upstreamPort: number, module: string | null, configuration: object | null): object {
  const filters = module === null ? [] : [{ name: 'wasm', config: { module, ...(configuration === null ? {} : { configuration }) } }];
  return switchyardHttpConfig({ port, adminPort, upstreamPort, listener: 'http', cluster: 'http', filters });
}

function target(ctx: SuiteContext, name: WasmTarget, upstreamPort: number, modules: Record<string, string>): TargetDef {
  return {
    name,
    unavailable: () => switchyardMissing(ctx.repoRoot),
    version: () => `switchyard (node ${process.version})${name === 'none' ? '' : `, ${modules[name]}`}`,
    start: () => {
      const module = name === 'none' ? null : modules[name];
      const configuration = name === 'add-header' ? ADD_HEADER_CONFIG : null;
      return startSwitchyard(ctx, {
        dirName: name,
        serviceName: name,
        config: (port, adminPort) => jsonConfig(switchyardConfig(port, adminPort, upstreamPort, module, configuration)),
      });
    },
  };
}

/** µs per request of calling a filter's hooks directly (context, request/response headers, log, delete). */
export async function microBench(modules: Record<string, string>, iterations: number): Promise<Record<string, number>> {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { wasmFilterFactory } = require('../../src/wasm') as typeof import('../../src/wasm');
  const { HeaderMap, systemClock } = require('../../src/api') as typeof import('../../src/api');
  /* eslint-enable @typescript-eslint/no-var-requires */
  const noop = { debug() {}, info() {}, warn() {}, error() {} };
  const metric = { value: 0, inc() {}, set() {}, observe() {} };
  const env = {
    listener: 'micro',
    clock: systemClock,
    log: noop,
    baseDir: process.cwd(),
    clusterNames: [],
    metrics: { counter: () => metric, gauge: () => metric, histogram: () => metric },
    httpCall: () => Promise.reject(new Error('no calls')),
  };
  const conn = { id: 1, listener: 'micro', remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 2, tls: false };
  const out: Record<string, number> = {};
  for (const [name, file] of [['none', ''], ...Object.entries(modules)] as Array<[string, string]>) {
    const built =
      file === ''
        ? { createFilter: () => ({}) as Record<string, (...a: unknown[]) => unknown>, destroy: () => {} }
        : await wasmFilterFactory.build({ module: file, ...(name === 'add-header' ? { configuration: ADD_HEADER_CONFIG } : {}) }, env);
    const one = () => {
      // What wrk sends, as the HTTP/1.1 codec presents it; an upstream response head.
      const req = new HeaderMap([':method', 'GET', ':path', '/', ':authority', '127.0.0.1:8080', ':scheme', 'http', 'host', '127.0.0.1:8080', 'x-b', 'drop']);
      const resp = new HeaderMap([':status', '200', 'content-length', '100', 'x-d', 'drop']);
      const ctx = {
        requestId: '1', listener: 'micro', protocol: 'http/1.1', connection: conn, requestHeaders: req, responseHeaders: resp,
        route: null, upstreamAddress: null, startTime: 0, clock: systemClock, state: new Map(), log: noop,
        sendLocalReply() {}, continueRequest() {}, continueResponse() {}, bufferedBody: () => Buffer.alloc(0), setBufferedBody() {}, clearRouteCache() {},
      };
      const f = built.createFilter() as import('../../src/api').StreamFilter;
      f.onRequestHeaders?.(ctx, req, true);
      f.onResponseHeaders?.(ctx, resp, false);
      f.onLog?.(ctx);
      f.onDestroy?.();
    };
    for (let i = 0; i < Math.min(20_000, iterations); i++) one(); // warm-up (JIT, wasm tier-up)
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) one();
    out[name] = ((performance.now() - t0) * 1000) / iterations;
    built.destroy?.();
  }
  return out;
}

async function run(ctx: SuiteContext): Promise<void> {
  if (!which('wrk')) throw new Error('wrk is not installed (apt-get install wrk)');
  const bodyBytes = Number(ctx.flags['body-bytes'] ?? 100);
  const iterations = Number(ctx.flags['micro-iterations'] ?? 200_000);
  if (!Number.isInteger(bodyBytes) || bodyBytes < 0) throw new Error('--body-bytes must be a non-negative integer');
  if (!Number.isInteger(iterations) || iterations < 0) throw new Error('--micro-iterations must be a non-negative integer');

  ctx.log('building the add-header modules (own SDK; G-Core SDK into the work dir)');
  const modules = await buildModules(ctx);

  const upstreamPort = await getFreePort();
  const upstream = startLoadCpuNode(ctx, 'upstream', 'http1-upstream.js', [String(upstreamPort), String(bodyBytes)]);
  await waitForPort(upstreamPort, { svc: upstream });

  const wanted = (ctx.targets ?? [...WASM_TARGETS]) as WasmTarget[];
  const targets = wanted.map((n) => target(ctx, n, upstreamPort, modules));
  const date = new Date();
  const env0 = environment({ wrk: versionOf('wrk', ['-v']) });
  const results = await runSuiteRounds(ctx, {
    targets,
    maxNoise: 10,
    noiseRetries: 1,
    measure: wrkMeasure(ctx, upstream, 1),
    probe: (port) => probeGet(port, bodyBytes),
  });
  await upstream.stop();

  const micro = iterations > 0 ? await microBench(modules, iterations) : {};
  const rows = summarize(results, 'none');
  const none = rows.find((r) => r.name === 'none');
  const lines = ['## WASM filter cost', '', '| target | × none | host overhead µs/request (wrk) | hooks in a loop µs/request (− none) |', '|---|---:|---:|---:|'];
  for (const r of rows) {
    const over = none && none.rps > 0 && r.rps > 0 ? (1 / r.rps - 1 / none.rps) * 1e6 : NaN;
    const m = micro[r.name];
    const delta = m === undefined || micro.none === undefined ? '—' : `${m.toFixed(2)} (${(m - micro.none).toFixed(2)})`;
    lines.push(`| ${r.name} | ${Number.isFinite(r.ratio) ? r.ratio.toFixed(3) : '—'} | ${Number.isFinite(over) ? over.toFixed(2) : '—'} | ${delta} |`);
  }
  lines.push('', 'Target: add-header costs at most 5% of throughput (× none ≥ 0.95) and under 5 µs per request.', '');
  const pin = pinNote(ctx, 'wrk and upstream');
  const report = writeReport(ctx.resultsDir, {
    suite: 'wasm',
    date,
    command: benchCommand(),
    method: [
      `wrk -t1 -c${ctx.connections} -d${ctx.durationS}s --latency, GET /, ${bodyBytes}-byte body, HTTP/1.1 keep-alive; ${pin}`,
      'targets: switchyard with no filter (none), the add-header example built with the project SDK, the same edits built with @gcoredev/proxy-wasm-sdk-as',
      `${ctx.rounds} interleaved round(s), ${ctx.warmupS}s warm-up, each proxy started fresh per run; medians over rounds`,
      'host overhead µs/request = (1/rps_filter − 1/rps_none) × 1e6 on the pinned proxy core',
      `hooks in a loop: ${iterations} iterations in the harness process (load CPU) of context create, request headers, response headers, log, delete`,
    ],
    settings: { durationS: ctx.durationS, warmupS: ctx.warmupS, rounds: ctx.rounds, connections: ctx.connections, bodyBytes, microIterations: iterations, micro, proxyCpu: ctx.proxyCpu, loadCpu: ctx.loadCpu },
    env: env0,
    reference: 'none',
    results,
  });
  appendFileSync(report.md, '\n' + lines.join('\n'));
  process.stdout.write(`\n${markdownTable(rows, 'none')}\n\n${lines.join('\n')}\n`);
  ctx.log(`wrote ${report.md}`);
}

export const wasmSuite: SuiteRunner = {
  description: 'HTTP/1.1 through switchyard with no filter vs the add-header wasm filter (own SDK, G-Core SDK)',
  targets: [...WASM_TARGETS],
  run,
};
