/**
 * Turns per-run results into the summary every suite reports: per target the median req/s, p50 and
 * p99 over its successful rounds, the max RSS over all rounds, total errors, and the ratio of its
 * req/s to a reference peer measured in the same invocation (nginx, else direct). Renders that as a
 * markdown table and writes <suite>-<timestamp>.{json,md} into bench/results.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import type { TargetResult } from './rounds';

export interface TargetSummary {
  name: string;
  version: string;
  okRuns: number;
  totalRuns: number;
  skipped?: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  rssMaxMB: number;
  errors: number;
  /** Median CPU of the target's process group during measured runs, % of one core. */
  cpuPct: number;
  /** Max busy % of the proxy CPU taken by other processes during a measured run (noise). */
  noisePct: number;
  /** rps / reference rps (NaN when there is no reference). */
  ratio: number;
}

/** Collapses a multi-line message (error + log tail) to one line of at most `max` characters. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s*\n\s*/g, ' ⏎ ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

export function median(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function maxFinite(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? Math.max(...v) : NaN;
}

/** The first of `preferred` that has at least one successful run. */
export function pickReference(results: TargetResult[], preferred: string[]): string | null {
  for (const name of preferred) {
    const r = results.find((t) => t.name === name);
    if (r && r.runs.some((x) => x.ok)) return name;
  }
  return null;
}

export function summarize(results: TargetResult[], reference: string | null): TargetSummary[] {
  const rows = results.map((t): TargetSummary => {
    const ok = t.runs.filter((r) => r.ok && r.measurement);
    return {
      name: t.name,
      version: t.version,
      okRuns: ok.length,
      totalRuns: t.runs.length,
      skipped: t.skipped,
      rps: median(ok.map((r) => r.measurement!.rps)),
      p50Ms: median(ok.map((r) => r.measurement!.p50Ms)),
      p99Ms: median(ok.map((r) => r.measurement!.p99Ms)),
      rssMaxMB: ok.length ? Math.max(...ok.map((r) => r.rssMaxMB ?? 0)) : NaN,
      errors: ok.reduce((s, r) => s + r.measurement!.errors, 0),
      cpuPct: median(ok.map((r) => r.cpuPct ?? NaN)),
      noisePct: maxFinite(ok.map((r) => r.foreignCpuPct ?? NaN)),
      ratio: NaN,
    };
  });
  const ref = rows.find((r) => r.name === reference);
  if (ref && ref.rps > 0) for (const r of rows) r.ratio = r.rps / ref.rps;
  return rows;
}

/**
 * The ratio rps(target) / rps(reference) of each round both completed (rounds are interleaved, so
 * a round's two runs saw the same machine state): min, median and max, or null with no such round.
 * The spread says how far one round's ratio can be trusted on this machine.
 */
export function pairedRatios(results: TargetResult[], name: string, reference: string): { min: number; median: number; max: number; n: number } | null {
  const of = (n: string) => results.find((t) => t.name === n);
  const t = of(name);
  const ref = of(reference);
  if (t === undefined || ref === undefined) return null;
  const refByRound = new Map<number, number>();
  for (const r of ref.runs) if (r.ok && r.measurement && r.measurement.rps > 0) refByRound.set(r.round, r.measurement.rps);
  const ratios: number[] = [];
  for (const r of t.runs) {
    const base = refByRound.get(r.round);
    if (base !== undefined && r.ok && r.measurement) ratios.push(r.measurement.rps / base);
  }
  if (ratios.length === 0) return null;
  return { min: Math.min(...ratios), median: median(ratios), max: Math.max(...ratios), n: ratios.length };
}

/** A number with thousands separators and `digits` decimals, or — when not finite. */
export const num = (x: number, digits = 0): string =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—';

/** Latency in ms with a precision that suits its size. */
export function fmtMs(x: number): string {
  if (!Number.isFinite(x)) return '—';
  return x < 1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x.toFixed(1);
}

export function markdownTable(rows: TargetSummary[], reference: string | null): string {
  const refCol = reference ? `× ${reference}` : '× ref';
  const out = [
    `| target | req/s | p50 ms | p99 ms | max RSS MB | ${refCol} | errors | CPU % | noise % | ok runs |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    if (r.skipped) {
      out.push(`| ${r.name} | skipped | | | | | | | | 0/0 |`);
      continue;
    }
    out.push(
      `| ${r.name} | ${num(r.rps)} | ${fmtMs(r.p50Ms)} | ${fmtMs(r.p99Ms)} | ${num(r.rssMaxMB, 1)} | ` +
        `${num(r.ratio, 2)} | ${num(r.errors)} | ${num(r.cpuPct)} | ${num(r.noisePct)} | ${r.okRuns}/${r.totalRuns} |`,
    );
  }
  return out.join('\n');
}

export function rawTable(results: TargetResult[]): string {
  const out = [
    '| target | round | req/s | p50 ms | p99 ms | max RSS MB | errors | CPU % | noise % | note |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const t of results) {
    for (const r of t.runs) {
      const m = r.measurement;
      if (r.ok && m) {
        out.push(`| ${t.name} | ${r.round} | ${num(m.rps)} | ${fmtMs(m.p50Ms)} | ${fmtMs(m.p99Ms)} | ${num(r.rssMaxMB ?? NaN, 1)} | ${num(m.errors)} | ${num(r.cpuPct ?? NaN)} | ${num(r.foreignCpuPct ?? NaN)} | ${r.noisyRetries ? `${r.noisyRetries} noisy attempt(s) repeated` : ''} |`);
      } else {
        const note = oneLine(r.error ?? 'failed', 200).replace(/\|/g, '\\|');
        out.push(`| ${t.name} | ${r.round} | — | — | — | — | — | — | — | ${note} |`);
      }
    }
  }
  return out.join('\n');
}

export function environment(extra: Record<string, string>): Record<string, string> {
  const c = cpus();
  return {
    node: process.version,
    kernel: release(),
    cpu: c.length ? `${c.length} × ${c[0].model}` : 'unknown',
    loadavg_at_start: loadavg().map((x) => x.toFixed(2)).join(' '),
    ...extra,
  };
}

export interface ReportInput {
  suite: string;
  date: Date;
  command: string;
  /** Lines describing the method, printed above the table. */
  method: string[];
  settings: Record<string, unknown>;
  env: Record<string, string>;
  reference: string | null;
  results: TargetResult[];
}

/** `- <name>: skipped — <why>` per skipped row. */
export function skippedLines(rows: Array<{ name: string; skipped?: string }>): string[] {
  return rows.filter((x) => x.skipped).map((x) => `- ${x.name}: skipped — ${x.skipped}`);
}

/** The "Failed runs:" block (with its blank line), or nothing when every run succeeded. */
export function failedRunsSection(results: TargetResult[]): string[] {
  const failed = results.flatMap((t) => t.runs.filter((x) => !x.ok).map((x) => `- ${t.name} round ${x.round}: ${oneLine(x.error ?? 'failed', 400)}`));
  return failed.length ? ['Failed runs:', ...failed, ''] : [];
}

/** The end every report shares: the per-round table, the environment and the command. */
export function reportTail(results: TargetResult[], env: Record<string, string>, command: string): string[] {
  return [
    '## Per round',
    '',
    rawTable(results),
    '',
    '## Environment',
    '',
    ...Object.entries(env).map(([k, v]) => `- ${k}: ${v}`),
    ...results.filter((t) => t.version).map((t) => `- ${t.name}: ${t.version}`),
    '',
    `Command: \`${command}\``,
    '',
  ];
}

/** Writes <resultsDir>/<suite>-<timestamp>.{md,json} (non-finite numbers as null); returns both paths. */
export function writeResultFiles(resultsDir: string, suite: string, date: Date, md: string, json: unknown): { md: string; json: string } {
  const stamp = date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
  const base = join(resultsDir, `${suite}-${stamp}`);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.json`, JSON.stringify(json, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
  return { md: `${base}.md`, json: `${base}.json` };
}

/** Builds the markdown, prints the summary to stdout, writes both files; returns their paths. */
export function writeReport(resultsDir: string, r: ReportInput): { md: string; json: string; markdown: string } {
  const rows = summarize(r.results, r.reference);
  const skipped = skippedLines(rows);
  const md = [
    `# ${r.suite} benchmark — ${r.date.toISOString()}`,
    '',
    ...r.method.map((l) => `- ${l}`),
    `- ratio column: req/s ÷ ${r.reference ?? '(no reference peer ran)'} req/s from this same invocation`,
    '',
    markdownTable(rows, r.reference),
    '',
    ...(skipped.length ? [...skipped, ''] : []),
    ...failedRunsSection(r.results),
    ...reportTail(r.results, r.env, r.command),
  ].join('\n');
  const json = {
    suite: r.suite,
    date: r.date.toISOString(),
    command: r.command,
    method: r.method,
    settings: r.settings,
    environment: r.env,
    reference: r.reference,
    summary: rows,
    targets: r.results,
  };
  return { ...writeResultFiles(resultsDir, r.suite, r.date, md, json), markdown: md };
}
