/**
 * h2load for the http2 suite: pure parsers for what h2load prints (the summary) and writes with
 * --log-file (one line per request: start µs, status, duration µs), unit-tested in
 * test/unit/bench-h2load-parse.test.ts, and a runner that spawns h2load as a tracked child.
 * h2load prints only min/max/mean/sd latencies, so p50/p99 come from the per-request log.
 * Must never: guess a number that is not in the output — a missing "finished in" or "requests:"
 * line is an error.
 */

import { readFileSync, rmSync } from 'node:fs';
import type { Children } from '../lib/children';

export interface H2loadTiming {
  minMs: number;
  maxMs: number;
  meanMs: number;
  sdMs: number;
}

export interface H2loadResult {
  /** "finished in Xs, N req/s". */
  durationS: number;
  rps: number;
  requests: { total: number; started: number; done: number; succeeded: number; failed: number; errored: number; timeout: number };
  status: { '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  /** "time for request:" row (NaN fields when absent). */
  request: H2loadTiming;
  /** Application protocol h2load negotiated ("h2c", "http/1.1"), or "" when not printed. */
  protocol: string;
}

const UNITS_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

/** "55us" → 0.055, "11.42ms" → 11.42, "1.5s" → 1500 (ms). */
export function parseH2loadTime(text: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)(us|ms|s)\s*$/.exec(text);
  if (!m) throw new Error(`unrecognised h2load time: ${JSON.stringify(text)}`);
  return Number(m[1]) * UNITS_MS[m[2]];
}

function timingRow(text: string, label: string): H2loadTiming {
  const re = new RegExp(`^${label}:\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)`, 'm');
  const m = re.exec(text);
  if (!m) return { minMs: NaN, maxMs: NaN, meanMs: NaN, sdMs: NaN };
  return { minMs: parseH2loadTime(m[1]), maxMs: parseH2loadTime(m[2]), meanMs: parseH2loadTime(m[3]), sdMs: parseH2loadTime(m[4]) };
}

/** Parses h2load's summary. Throws when the "finished in" or "requests:" line is missing. */
export function parseH2loadOutput(text: string): H2loadResult {
  const fin = /^finished in ([0-9.]+)(us|ms|s), ([0-9.]+) req\/s/m.exec(text);
  const req = /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(text);
  if (!fin || !req) {
    const snippet = text.trim().split('\n').slice(-5).join(' | ');
    throw new Error(`h2load output has no ${fin ? '"requests:"' : '"finished in"'} line: ${snippet || '(empty)'}`);
  }
  const st = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(text);
  const proto = /^Application protocol: (\S+)/m.exec(text);
  return {
    durationS: parseH2loadTime(fin[1] + fin[2]) / 1000,
    rps: Number(fin[3]),
    requests: {
      total: Number(req[1]),
      started: Number(req[2]),
      done: Number(req[3]),
      succeeded: Number(req[4]),
      failed: Number(req[5]),
      errored: Number(req[6]),
      timeout: Number(req[7]),
    },
    status: st ? { '2xx': Number(st[1]), '3xx': Number(st[2]), '4xx': Number(st[3]), '5xx': Number(st[4]) } : { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
    request: timingRow(text, 'time for request'),
    protocol: proto ? proto[1] : '',
  };
}

export interface LogStats {
  /** Lines with a status ≥ 0 (completed responses). */
  count: number;
  /** Lines with status -1 (streams that failed). */
  failed: number;
  /** Requested percentiles of the completed requests' durations, ms, keyed by percent ("50", "99"). */
  percentiles: Record<string, number>;
}

/**
 * Percentiles (nearest-rank) of the durations in an h2load --log-file ("start_us\tstatus\tduration_us"
 * per line). Malformed lines are ignored; an empty log gives NaN percentiles.
 */
export function h2loadLogStats(text: string, percents: readonly number[] = [50, 99]): LogStats {
  const durations: number[] = [];
  let failed = 0;
  let pos = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const t1 = text.indexOf('\t', pos);
    const t2 = t1 < 0 || t1 > nl ? -1 : text.indexOf('\t', t1 + 1);
    if (t2 > 0 && t2 < nl) {
      const status = Number(text.slice(t1 + 1, t2));
      const dur = Number(text.slice(t2 + 1, nl));
      if (status < 0) failed++;
      else if (Number.isFinite(status) && Number.isFinite(dur) && dur >= 0) durations.push(dur);
    }
    pos = nl + 1;
  }
  const sorted = Float64Array.from(durations).sort();
  const percentiles: Record<string, number> = {};
  for (const p of percents) {
    if (sorted.length === 0) percentiles[String(p)] = NaN;
    else {
      const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
      percentiles[String(p)] = sorted[rank - 1] / 1000;
    }
  }
  return { count: sorted.length, failed, percentiles };
}

export interface H2loadOptions {
  url: string;
  durationS: number;
  clients: number;
  /** Max concurrent streams per client (h2load -m). */
  streams: number;
  /** HTTP/1.1 instead of h2c (for a `direct` run against an HTTP/1.1 upstream). */
  h1: boolean;
  headers: string[];
  /** File whose content is POSTed as every request's body (h2load -d), or null for GET. */
  dataFile: string | null;
  logFile: string;
  cpu: string | null;
}

/** h2load's argument list for `o` (exported for the unit test). */
export function h2loadArgs(o: H2loadOptions): string[] {
  const a = [`-c${o.clients}`, `-m${o.streams}`, '-t1', `-D${o.durationS}`, `--log-file=${o.logFile}`];
  if (o.h1) a.push('--h1');
  for (const h of o.headers) a.push('-H', h);
  if (o.dataFile !== null) a.push('-d', o.dataFile);
  a.push(o.url);
  return a;
}

/** Runs h2load to completion; returns the parsed summary, log statistics and raw output. */
export async function runH2load(children: Children, o: H2loadOptions): Promise<{ result: H2loadResult; log: LogStats; raw: string }> {
  const args = h2loadArgs(o);
  const [cmd, full] = o.cpu !== null ? ['taskset', ['-c', o.cpu, 'h2load', ...args]] : ['h2load', args];
  rmSync(o.logFile, { force: true });
  const { code, stdout, stderr } = await children.runToEnd('h2load', cmd, full as string[], (o.durationS + 30) * 1000);
  if (code !== 0) throw new Error(`h2load exited with ${code}: ${(stderr || stdout).trim().slice(-500)}`);
  const result = parseH2loadOutput(stdout);
  let logText = '';
  try {
    logText = readFileSync(o.logFile, 'latin1');
  } catch {
    /* no log: percentiles stay NaN */
  }
  rmSync(o.logFile, { force: true });
  return { result, log: h2loadLogStats(logText), raw: stdout };
}
