/**
 * Report of the rpc suite: one row per protocol × peer with req/s, p50, p99, RSS, errors, CPU and
 * the two ratios (× haproxy-tcp and × direct of the same protocol, same invocation), the check of
 * the project target (Switchyard ≥ 0.5 × haproxy TCP), and the markdown/JSON files in
 * bench/results. Reuses the shared medians/per-round table from bench/lib/report.ts.
 * Pure except writeRpcReport; the table and the check are unit-tested in test/unit/bench-rpc-report.test.ts.
 */

import { failedRunsSection, fmtMs, num, reportTail, skippedLines, summarize, writeResultFiles, type TargetSummary } from '../lib/report';
import type { TargetResult } from '../lib/rounds';
import { parseTargetName } from '../peers/rpc-peers';

/** The target Switchyard must reach against haproxy in TCP mode. */
export const TARGET_RATIO = 0.5;

export interface RpcSummaryRow extends Omit<TargetSummary, 'ratio'> {
  protocol: string;
  peer: string;
  /** req/s ÷ haproxy-tcp req/s of the same protocol (NaN when haproxy-tcp did not run). */
  xHaproxyTcp: number;
  /** req/s ÷ direct req/s of the same protocol (NaN when direct did not run). */
  xDirect: number;
}

export function rpcSummary(results: TargetResult[]): RpcSummaryRow[] {
  const base = summarize(results, null);
  const rows: RpcSummaryRow[] = base.map((s) => {
    const parsed = parseTargetName(s.name);
    const { ratio: _ratio, ...rest } = s;
    return { ...rest, protocol: parsed?.protocol ?? '?', peer: parsed?.peer ?? s.name, xHaproxyTcp: NaN, xDirect: NaN };
  });
  for (const r of rows) {
    const hap = rows.find((x) => x.protocol === r.protocol && x.peer === 'haproxy-tcp');
    const dir = rows.find((x) => x.protocol === r.protocol && x.peer === 'direct');
    if (hap && hap.okRuns > 0 && hap.rps > 0 && r.okRuns > 0) r.xHaproxyTcp = r.rps / hap.rps;
    if (dir && dir.okRuns > 0 && dir.rps > 0 && r.okRuns > 0) r.xDirect = r.rps / dir.rps;
  }
  return rows;
}

export function rpcMarkdownTable(rows: RpcSummaryRow[]): string {
  const out = [
    '| protocol | target | req/s | p50 ms | p99 ms | max RSS MB | × haproxy-tcp | × direct | errors | CPU % | noise % | ok runs |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    if (r.skipped) {
      out.push(`| ${r.protocol} | ${r.peer} | skipped | | | | | | | | | 0/0 |`);
      continue;
    }
    out.push(
      `| ${r.protocol} | ${r.peer} | ${num(r.rps)} | ${fmtMs(r.p50Ms)} | ${fmtMs(r.p99Ms)} | ${num(r.rssMaxMB, 1)} | ` +
        `${num(r.xHaproxyTcp, 2)} | ${num(r.xDirect, 2)} | ${num(r.errors)} | ${num(r.cpuPct)} | ${num(r.noisePct)} | ${r.okRuns}/${r.totalRuns} |`,
    );
  }
  return out.join('\n');
}

/** One line per protocol: whether switchyard reached TARGET_RATIO × haproxy-tcp (or why unknown). */
export function targetCheck(rows: RpcSummaryRow[]): string[] {
  const protocols = [...new Set(rows.map((r) => r.protocol))];
  return protocols.map((p) => {
    const sy = rows.find((r) => r.protocol === p && r.peer === 'switchyard');
    const hap = rows.find((r) => r.protocol === p && r.peer === 'haproxy-tcp');
    const goal = `switchyard ≥ ${TARGET_RATIO} × haproxy-tcp`;
    if (!sy || !hap) return `${p}: ${goal}: not measured (${!sy ? 'switchyard' : 'haproxy-tcp'} not among the targets)`;
    if (sy.skipped || sy.okRuns === 0) return `${p}: ${goal}: not measured (switchyard ${sy.skipped ? `skipped: ${sy.skipped}` : 'failed every run'})`;
    if (hap.skipped || hap.okRuns === 0) return `${p}: ${goal}: not measured (haproxy-tcp ${hap.skipped ? `skipped: ${hap.skipped}` : 'failed every run'})`;
    const met = sy.xHaproxyTcp >= TARGET_RATIO;
    const errs = sy.errors > 0 ? ` (but ${sy.errors} errors: suspect)` : '';
    return `${p}: ${goal}: ${met ? 'MET' : 'NOT MET'} — ${sy.xHaproxyTcp.toFixed(2)} × (${num(sy.rps)} vs ${num(hap.rps)} req/s)${errs}`;
  });
}

export interface RpcReportInput {
  date: Date;
  command: string;
  method: string[];
  settings: Record<string, unknown>;
  env: Record<string, string>;
  results: TargetResult[];
}

/** Writes bench/results/rpc-<timestamp>.{md,json}; returns their paths and the summary table. */
export function writeRpcReport(resultsDir: string, r: RpcReportInput): { md: string; json: string; table: string; check: string[] } {
  const rows = rpcSummary(r.results);
  const table = rpcMarkdownTable(rows);
  const check = targetCheck(rows);
  const skipped = skippedLines(rows);
  const md = [
    `# rpc benchmark — ${r.date.toISOString()}`,
    '',
    ...r.method.map((l) => `- ${l}`),
    '- ratio columns: req/s ÷ haproxy-tcp and ÷ direct req/s of the same protocol, from this same invocation',
    '',
    table,
    '',
    'Target:',
    ...check.map((l) => `- ${l}`),
    '',
    ...(skipped.length ? [...skipped, ''] : []),
    ...failedRunsSection(r.results),
    ...reportTail(r.results, r.env, r.command),
  ].join('\n');
  const json = {
    suite: 'rpc',
    date: r.date.toISOString(),
    command: r.command,
    method: r.method,
    settings: r.settings,
    environment: r.env,
    target: check,
    summary: rows,
    targets: r.results,
  };
  return { ...writeResultFiles(resultsDir, 'rpc', r.date, md, json), table, check };
}
