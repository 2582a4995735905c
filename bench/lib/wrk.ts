/**
 * wrk output parsing (a pure function, unit-tested in test/unit/bench-wrk-parse.test.ts) and a
 * small runner that spawns wrk as a tracked child and parses what it prints.
 * Latencies are returned in milliseconds, throughput in requests per second.
 * Must never: guess a number that is not in the output — a missing Requests/sec line is an error.
 */

import type { Children } from './children';

export interface WrkResult {
  /** "Requests/sec:" line. */
  rps: number;
  /** Thread Stats "Latency" average, ms (NaN when absent). */
  latencyAvgMs: number;
  /** Latency Distribution percentiles in ms, keyed by percent ("50", "75", "90", "99"). */
  percentiles: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  /** "N requests in T, X read". */
  requests: number;
  durationS: number;
  /** Sum of connect, read, write and timeout socket errors (0 when wrk printed no such line). */
  socketErrors: number;
  socketErrorDetail: { connect: number; read: number; write: number; timeout: number };
  /** "Non-2xx or 3xx responses: N" (0 when absent). */
  non2xx: number;
}

const TIME_UNITS_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "601.00us" → 0.601, "1.35ms" → 1.35, "2.00s" → 2000, "1.50m" → 90000 (result in ms). */
export function parseWrkTime(text: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(us|ms|s|m|h)\s*$/.exec(text);
  if (!m) throw new Error(`unrecognised wrk time: ${JSON.stringify(text)}`);
  return Number(m[1]) * TIME_UNITS_MS[m[2]];
}

/** "20.00s" / "1.00m" → seconds. */
function parseDurationS(text: string): number {
  return parseWrkTime(text) / 1000;
}

/** Parses the text `wrk --latency` prints. Throws when there is no Requests/sec line. */
export function parseWrkOutput(text: string): WrkResult {
  const rpsMatch = /^Requests\/sec:\s+([0-9]+(?:\.[0-9]+)?)\s*$/m.exec(text);
  if (!rpsMatch) {
    const snippet = text.trim().split('\n').slice(0, 5).join(' | ');
    throw new Error(`wrk output has no "Requests/sec" line: ${snippet || '(empty)'}`);
  }
  const percentiles: Record<string, number> = {};
  const distStart = text.indexOf('Latency Distribution');
  if (distStart >= 0) {
    const re = /^\s*([0-9]+(?:\.[0-9]+)?)%\s+([0-9.]+\s*(?:us|ms|s|m|h))\s*$/gm;
    re.lastIndex = distStart;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      percentiles[String(Number(m[1]))] = parseWrkTime(m[2]);
    }
  }
  const avg = /^\s*Latency\s+([0-9.]+(?:us|ms|s|m|h))\s/m.exec(text);
  const total = /^\s*([0-9]+) requests in ([0-9.]+(?:us|ms|s|m|h)),/m.exec(text);
  const sock = /Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses:\s+([0-9]+)/.exec(text);
  const detail = sock
    ? { connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: Number(sock[4]) }
    : { connect: 0, read: 0, write: 0, timeout: 0 };
  return {
    rps: Number(rpsMatch[1]),
    latencyAvgMs: avg ? parseWrkTime(avg[1]) : NaN,
    percentiles,
    p50Ms: percentiles['50'] ?? NaN,
    p99Ms: percentiles['99'] ?? NaN,
    requests: total ? Number(total[1]) : NaN,
    durationS: total ? parseDurationS(total[2]) : NaN,
    socketErrors: detail.connect + detail.read + detail.write + detail.timeout,
    socketErrorDetail: detail,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

export interface WrkOptions {
  url: string;
  durationS: number;
  connections: number;
  threads: number;
  /** CPU list for taskset, or null to run unpinned. */
  cpu: string | null;
}

/** Runs wrk to completion and returns its stdout (throws with stderr on a non-zero exit). */
export async function runWrkRaw(children: Children, o: WrkOptions): Promise<string> {
  const wrkArgs = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.durationS}s`, '--latency', o.url];
  const [cmd, args] = o.cpu !== null ? ['taskset', ['-c', o.cpu, 'wrk', ...wrkArgs]] : ['wrk', wrkArgs];
  const { code, stdout, stderr } = await children.runToEnd('wrk', cmd, args as string[], (o.durationS + 30) * 1000);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${(stderr || stdout).trim().slice(0, 500)}`);
  return stdout;
}

export async function runWrk(children: Children, o: WrkOptions): Promise<{ result: WrkResult; raw: string }> {
  const raw = await runWrkRaw(children, o);
  return { result: parseWrkOutput(raw), raw };
}
