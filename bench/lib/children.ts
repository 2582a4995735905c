/**
 * Every process the harness starts goes through a Children instance, so that all of them are
 * stopped on normal exit, on a thrown error, and on Ctrl-C / SIGTERM. Long-running services are
 * started in their own process group (detached) and stopped by signalling the whole group, which
 * also reaches any workers a proxy forks. Their stdout/stderr go to a log file whose tail is shown
 * when something fails. Must never: leave a started process running after the harness exits.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Service {
  name: string;
  pid: number;
  logPath: string;
  /** Resolves when the process exits (never rejects). */
  exited: Promise<Exit>;
  /** Set once the process has exited. */
  exit: Exit | null;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when the leader exited. */
  stop(graceMs?: number): Promise<void>;
  /** Last `bytes` of the log file. */
  logTail(bytes?: number): string;
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

export class Children {
  private readonly live = new Map<number, ChildProcess>();
  private handlersInstalled = false;

  /**
   * Installs handlers that kill every live child: synchronously on process exit, and on
   * SIGINT/SIGTERM/SIGHUP (then `beforeExit` runs and the process exits 130/143). Idempotent.
   */
  installExitHandlers(beforeExit?: () => void): void {
    if (this.handlersInstalled) return;
    this.handlersInstalled = true;
    process.on('exit', () => this.killAll());
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(sig, () => {
        process.stderr.write(`\n[bench] ${sig}: stopping ${this.live.size} child process(es)\n`);
        void this.shutdown().finally(() => {
          beforeExit?.();
          process.exit(sig === 'SIGINT' ? 130 : 143);
        });
      });
    }
  }

  /** SIGKILL to every live child group, synchronously (safe inside an 'exit' handler). */
  killAll(): void {
    for (const pid of this.live.keys()) signalGroup(pid, 'SIGKILL');
    this.live.clear();
  }

  /** SIGKILL every live child group and wait (up to `waitMs`) until they have exited and been reaped. */
  async shutdown(waitMs = 2000): Promise<void> {
    const kids = [...this.live.values()];
    const waits = kids.map((c) =>
      c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())),
    );
    this.killAll();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(waits), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  get count(): number {
    return this.live.size;
  }

  /** Starts a long-running process in its own process group, output appended to `logPath`. */
  startService(name: string, cmd: string, args: string[], opts: { cwd?: string; logPath: string }): Service {
    const fd = openSync(opts.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { cwd: opts.cwd, detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${name}: ${cmd} ${args.join(' ')}`);
    this.live.set(pid, child);
    let resolveExit!: (e: Exit) => void;
    const exited = new Promise<Exit>((r) => (resolveExit = r));
    const svc: Service = {
      name,
      pid,
      logPath: opts.logPath,
      exited,
      exit: null,
      stop: async (graceMs = 3000) => {
        if (svc.exit) {
          // The leader is gone; make sure nothing else in its group survived.
          signalGroup(pid, 'SIGKILL');
          this.live.delete(pid);
          return;
        }
        signalGroup(pid, 'SIGTERM');
        const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
        signalGroup(pid, 'SIGKILL'); // workers left behind by the leader, if any
        this.live.delete(pid);
      },
      logTail: (bytes = 2000) => {
        try {
          const text = readFileSync(opts.logPath, 'utf8');
          return text.length > bytes ? '…' + text.slice(-bytes) : text;
        } catch {
          return '';
        }
      },
    };
    child.on('error', (err) => {
      svc.exit = { code: null, signal: null };
      this.live.delete(pid);
      resolveExit(svc.exit);
      process.stderr.write(`[bench] ${name}: ${err.message}\n`);
    });
    child.on('exit', (code, signal) => {
      svc.exit = { code, signal };
      resolveExit(svc.exit);
    });
    return svc;
  }

  /** Runs a command to completion, capturing output; SIGKILLs it after `timeoutMs`. */
  runToEnd(name: string, cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      if (child.pid === undefined) {
        child.on('error', (e) => reject(new Error(`could not start ${name}: ${e.message}`)));
        return;
      }
      const pid = child.pid;
      this.live.set(pid, child);
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => {
        stderr += `\n[bench] ${name} killed after ${timeoutMs} ms`;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        this.live.delete(pid);
        reject(new Error(`${name}: ${e.message}`));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        this.live.delete(pid);
        resolve({ code, stdout, stderr });
      });
    });
  }
}

/** `command -v name` — whether an executable is on PATH. */
export function which(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const out = r.stdout.trim();
  return r.status === 0 && out ? out : null;
}

/** First line a version command prints (on stdout or stderr), or "unknown". */
export function versionOf(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return text.split('\n')[0] || 'unknown';
}

/** Pins the given pid (default: this process) to `cpus` with taskset -p; false if that failed. */
export function pinProcess(cpus: string, pid = process.pid): boolean {
  const r = spawnSync('taskset', ['-pc', cpus, String(pid)], { encoding: 'utf8' });
  return r.status === 0;
}
