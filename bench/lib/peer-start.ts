/**
 * Starting the suites' proxies the same way everywhere: a fresh run directory under the work dir,
 * the process pinned to the proxy CPU with its output logged there, waiting for its port; plus the
 * Switchyard / nginx / haproxy specifics (binary, version line, command line) and `direct` rows.
 * Must never: write outside the work directory it is given.
 */

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { versionOf, which, type Children } from './children';
import type { RunningTarget } from './rounds';
import { getFreePort, waitForPort } from './sys';

/** What every peer start needs from its suite. */
export interface PinEnv {
  children: Children;
  repoRoot: string;
  workDir: string;
  /** taskset CPU list for the proxy, or null for unpinned. */
  proxyCpu: string | null;
}

let runSeq = 0;

/** A fresh directory `<workDir>/<name>-<n>` for one run. */
export function runDir(env: PinEnv, name: string): string {
  const dir = join(env.workDir, `${name}-${++runSeq}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Starts `cmd args` pinned to the proxy CPU, waits for `port`, returns the running target. */
export async function startPinned(env: PinEnv, name: string, dir: string, port: number, cmd: string, args: string[], cwd?: string): Promise<RunningTarget> {
  const [c, a] = env.proxyCpu !== null ? ['taskset', ['-c', env.proxyCpu, cmd, ...args]] : [cmd, args];
  const svc = env.children.startService(name, c, a as string[], { cwd: cwd ?? dir, logPath: join(dir, 'output.log') });
  try {
    await waitForPort(port, { svc, timeoutMs: 20_000 });
  } catch (e) {
    await svc.stop(1000);
    throw e;
  }
  return { port, rssPgid: svc.pid, service: svc, onProxyCpu: true, stop: () => svc.stop(5000) };
}

/** A `direct` row: the load goes straight at an upstream the suite already runs. */
export function directRunning(port: number, pgid: number): RunningTarget {
  return { port, rssPgid: pgid, service: null, onProxyCpu: false, stop: async () => {} };
}

export function switchyardBin(repoRoot: string): string {
  return join(repoRoot, 'bin', 'switchyard.js');
}

/** Why the built proxy cannot run, or null. */
export function switchyardMissing(repoRoot: string): string | null {
  const bin = switchyardBin(repoRoot);
  return existsSync(bin) ? null : `${bin} not found (proxy not built yet?)`;
}

export function switchyardVersion(repoRoot: string): string {
  try {
    return `switchyard ${require(join(repoRoot, 'package.json')).version} (node ${process.version})`;
  } catch {
    return 'switchyard';
  }
}

/**
 * Runs `bin/switchyard.js run -c <dir>/<file>` with the text `config(port, adminPort)` gives, on
 * two fresh ports, from the repository root.
 */
export async function startSwitchyard(
  env: PinEnv,
  o: { dirName: string; serviceName?: string; file?: string; config(port: number, adminPort: number): string },
): Promise<RunningTarget> {
  const dir = runDir(env, o.dirName);
  const [port, adminPort] = [await getFreePort(), await getFreePort()];
  const cfg = join(dir, o.file ?? 'switchyard.json');
  writeFileSync(cfg, o.config(port, adminPort));
  return startPinned(env, o.serviceName ?? 'switchyard', dir, port, process.execPath, [switchyardBin(env.repoRoot), 'run', '-c', cfg], env.repoRoot);
}

/** A config object as the JSON file switchyard reads. */
export function jsonConfig(config: object): string {
  return JSON.stringify(config, null, 2) + '\n';
}

export const nginxMissing = (): string | null => (which('nginx') ? null : 'nginx is not installed');
export const haproxyMissing = (): string | null => (which('haproxy') ? null : 'haproxy is not installed');
export const nginxVersion = (): string => versionOf('nginx', ['-v']).replace(/^nginx version:\s*/, '');
export const haproxyVersion = (): string => versionOf('haproxy', ['-v']).replace(/ - https?:.*$/, '');

/** nginx in the foreground from `<dir>/nginx.conf` = `conf(dir, port)` on a fresh port. */
export async function startNginx(env: PinEnv, dirName: string, conf: (dir: string, port: number) => string): Promise<RunningTarget> {
  const dir = runDir(env, dirName);
  const port = await getFreePort();
  writeFileSync(join(dir, 'nginx.conf'), conf(dir, port));
  return startPinned(env, 'nginx', dir, port, 'nginx', ['-e', join(dir, 'error.log'), '-p', dir, '-c', join(dir, 'nginx.conf')]);
}

/** haproxy in the foreground from `<dir>/haproxy.cfg` = `cfg(port)` on a fresh port. */
export async function startHaproxy(env: PinEnv, dirName: string, cfg: (port: number) => string): Promise<RunningTarget> {
  const dir = runDir(env, dirName);
  const port = await getFreePort();
  writeFileSync(join(dir, 'haproxy.cfg'), cfg(port));
  return startPinned(env, 'haproxy', dir, port, 'haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')]);
}
