/**
 * Small system helpers for the harness: free ports, waiting for a port to accept, memory sampling
 * from /proc (VmRSS summed over a process group, so forked workers count), the repo root, and
 * parsing of human durations ("10s", "500ms", "1m").
 */

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { dirname, join } from 'node:path';
import type { Service } from './children';

/** A port that was free a moment ago on 127.0.0.1 (bind to 0, read, close). */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function tryConnect(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    const done = (ok: boolean) => {
      s.removeAllListeners();
      s.on('error', () => {});
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(500, () => done(false));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Resolves once `port` accepts a TCP connection. Rejects after `timeoutMs`, or as soon as `svc`
 * (when given) exits, with the tail of its log in the message.
 */
export async function waitForPort(port: number, opts: { host?: string; timeoutMs?: number; svc?: Service } = {}): Promise<void> {
  const host = opts.host ?? '127.0.0.1';
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    if (opts.svc?.exit) {
      const e = opts.svc.exit;
      throw new Error(`${opts.svc.name} exited (code ${e.code}, signal ${e.signal}) before port ${port} accepted; log:\n${opts.svc.logTail()}`);
    }
    if (await tryConnect(port, host)) return;
    if (Date.now() > deadline) {
      const tail = opts.svc ? `; log:\n${opts.svc.logTail()}` : '';
      throw new Error(`port ${host}:${port} did not accept within ${opts.timeoutMs ?? 15_000} ms${tail}`);
    }
    await sleep(100);
  }
}

function vmRssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+([0-9]+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** pgrp field of /proc/<pid>/stat (fields after the parenthesised comm: state ppid pgrp ...). */
function pgrpOf(pid: string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[2]);
  } catch {
    return -1;
  }
}

/** VmRSS (kB) summed over every process in process group `pgid` (the leader alone if /proc has no others). */
export function groupRssKb(pgid: number): number {
  let total = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return vmRssKb(pgid);
  }
  for (const e of entries) {
    const c = e.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    if (pgrpOf(e) === pgid) total += vmRssKb(Number(e));
  }
  return total;
}

/** Samples groupRssKb(pgid) every `intervalMs` until stopped; stop() returns the max in MB. */
export function startRssSampler(pgid: number, intervalMs = 250): { stop(): number } {
  let maxKb = groupRssKb(pgid);
  const timer = setInterval(() => {
    const kb = groupRssKb(pgid);
    if (kb > maxKb) maxKb = kb;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const kb = groupRssKb(pgid);
      if (kb > maxKb) maxKb = kb;
      return maxKb / 1024;
    },
  };
}

/** utime+stime (clock ticks) summed over process group `pgid`. */
export function groupCpuTicks(pgid: number): number {
  let total = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const e of entries) {
    const c = e.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) === pgid) total += Number(rest[11]) + Number(rest[12]);
    } catch {
      /* exited meanwhile */
    }
  }
  return total;
}

/** Per-CPU busy and total jiffies from /proc/stat ("cpu0" → {busy, total}). */
export function cpuJiffies(): Map<string, { busy: number; total: number }> {
  const out = new Map<string, { busy: number; total: number }>();
  let text = '';
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!/^cpu[0-9]/.test(line)) continue;
    const [name, ...f] = line.trim().split(/\s+/);
    const v = f.map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal
    const idle = v[3] + (v[4] ?? 0); // idle + iowait
    out.set(name, { busy: total - idle, total });
  }
  return out;
}

let clkTck = 0;
function ticksPerSecond(): number {
  if (!clkTck) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    clkTck = Number(r.stdout?.trim()) || 100;
  }
  return clkTck;
}

export interface CpuUsage {
  /** CPU used by the target's process group, % of one core. */
  targetPct: number;
  /** Busy % of the proxy CPU not explained by the target: other processes on the machine. NaN if unknown
   *  or when the target does not run on the proxy CPU (`direct`). */
  foreignOnProxyCpuPct: number;
}

/**
 * Measures CPU between start and stop: the target group's own CPU time, and how busy `proxyCpu`
 * (a single CPU number, or null) was beyond that — the noise a shared machine adds.
 */
export function startCpuMeter(pgid: number, proxyCpu: string | null, targetOnProxyCpu: boolean): { stop(): CpuUsage } {
  const key = proxyCpu !== null && /^[0-9]+$/.test(proxyCpu) ? `cpu${proxyCpu}` : null;
  const t0 = process.hrtime.bigint();
  const g0 = groupCpuTicks(pgid);
  const c0 = key ? cpuJiffies().get(key) : undefined;
  return {
    stop() {
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      const targetPct = ((groupCpuTicks(pgid) - g0) / ticksPerSecond() / wallS) * 100;
      const c1 = key ? cpuJiffies().get(key) : undefined;
      let foreign = NaN;
      if (targetOnProxyCpu && c0 && c1 && c1.total > c0.total) {
        const busyPct = ((c1.busy - c0.busy) / (c1.total - c0.total)) * 100;
        foreign = Math.max(0, busyPct - targetPct);
      }
      return { targetPct, foreignOnProxyCpuPct: foreign };
    },
  };
}

/** Nearest ancestor of `from` holding a package.json named "switchyard". */
export function findRepoRoot(from: string): string {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'switchyard') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no switchyard package.json above ${from}`);
    dir = up;
  }
}

/** "10s" → 10, "500ms" → 0.5, "2m" → 120, "7" → 7 (seconds). Throws on anything else. */
export function parseDurationS(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`bad duration ${JSON.stringify(text)} (use e.g. 10s, 500ms, 1m)`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : n;
}

export { sleep };
