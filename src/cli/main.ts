/**
 * The `switchyard` CLI: `run` serves a config (SIGHUP or a change of the file reloads, SIGTERM
 * and SIGINT drain and exit 0), `validate` checks one, `demo` runs the proxy with sample
 * backends. Must never: hold proxy logic; it wires the runtime to the process.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ConfigError, systemClock } from '../api';
import { loadConfigFile } from '../config/load';
import { createLogger } from '../observability/log';
import { StatsRegistry } from '../observability/stats';
import { ProxyServer } from '../runtime/proxy-server';
import { buildGeneration } from '../runtime/generation';
import { registerBuiltins } from '../builtins';
import { parseArgs, USAGE, type CliArgs } from './args';
import { runDemo } from './demo';

export async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    console.error(`switchyard: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help || args.command === '' || args.command === 'help') {
    console.log(USAGE);
    return args.help || args.command === 'help' ? 0 : 2;
  }
  registerBuiltins();
  switch (args.command) {
    case 'validate':
      return validate(args);
    case 'run':
      return run(args);
    case 'demo':
      return runDemo(args);
    default:
      console.error(`switchyard: unknown command "${args.command}"\n\n${USAGE}`);
      return 2;
  }
}

function printConfigError(file: string, err: unknown): void {
  if (err instanceof ConfigError) {
    console.error(`${file}: ${err.issues.length} error${err.issues.length === 1 ? '' : 's'}`);
    for (const line of err.message.split('\n')) console.error(`  ${line}`);
  } else {
    console.error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function validate(args: CliArgs): Promise<number> {
  if (args.config === undefined) {
    console.error('switchyard validate: -c <config> is required');
    return 2;
  }
  const log = createLogger({ level: 'error', destination: 'stderr' });
  try {
    const config = await loadConfigFile(args.config);
    // Build everything a run would (filters, routes, clusters) without binding a socket.
    const gen = await buildGeneration(config, { stats: new StatsRegistry(), clock: systemClock, log, accessLog: null, breakers: new Map() }, null);
    gen.clusters.destroy();
    for (const f of gen.builtFilters) f.destroy?.();
    console.log(`${args.config}: ok (${config.listeners.length} listeners, ${config.clusters.length} clusters)`);
    return 0;
  } catch (err) {
    printConfigError(args.config, err);
    return 1;
  }
}

/** Serves until SIGTERM/SIGINT; resolves with the exit code. */
export async function serveUntilSignal(server: ProxyServer, configFile: string | null, log: ReturnType<typeof createLogger>): Promise<number> {
  let watcher: FSWatcher | null = null;
  let debounce: NodeJS.Timeout | null = null;
  const reload = (why: string) => {
    log.info('reloading config', { why });
    void server.reload();
  };
  const onHup = () => reload('SIGHUP');
  process.on('SIGHUP', onHup);
  if (configFile !== null) {
    try {
      // Watch the directory, not the file: editors often replace a file rather than write it.
      const name = basename(configFile);
      watcher = watch(dirname(configFile), (_event, changed) => {
        if (changed !== null && changed !== name) return;
        if (debounce !== null) clearTimeout(debounce);
        debounce = setTimeout(() => reload('config file changed'), 200);
      });
    } catch (err) {
      log.warn('cannot watch the config file; reload with SIGHUP or POST /reload', { err: String(err) });
    }
  }
  return new Promise<number>((resolve) => {
    const stop = (sig: string) => {
      process.removeListener('SIGHUP', onHup);
      if (watcher !== null) watcher.close();
      if (debounce !== null) clearTimeout(debounce);
      log.info('draining', { signal: sig });
      server.stop().then(
        () => {
          log.info('stopped');
          log.flush();
          resolve(0);
        },
        (err) => {
          log.error('stop failed', { err: String(err) });
          log.flush();
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

async function run(args: CliArgs): Promise<number> {
  if (args.config === undefined) {
    console.error('switchyard run: -c <config> is required');
    return 2;
  }
  let config;
  try {
    config = await loadConfigFile(args.config);
  } catch (err) {
    printConfigError(args.config, err);
    return 1;
  }
  const log = createLogger({ level: args.logLevel ?? config.log_level, destination: 'stderr', name: 'switchyard' });
  const server = new ProxyServer({ log });
  try {
    await server.start(config);
  } catch (err) {
    printConfigError(args.config, err);
    return 1;
  }
  if (server.adminPort !== null) log.info('admin', { url: `http://${config.admin!.address.host}:${server.adminPort}/` });
  return serveUntilSignal(server, config.source, log);
}
