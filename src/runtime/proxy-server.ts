/**
 * ProxyServer: the running proxy. Starts listeners, clusters and the admin API from a config;
 * reloads atomically (validate and build the new generation, bind new sockets, swap, then retire
 * the old generation once its in-flight requests finish; a bad config changes nothing); stops
 * with a drain. Implements the admin provider. Must never: serve a half-built config.
 */
import { ConfigError, systemClock, type Clock, type Logger } from '../api';
import type { SwitchyardConfig } from '../config/types';
import { loadConfigFile } from '../config/load';
import { StatsRegistry } from '../observability/stats';
import { AccessLog } from '../observability/access-log';
import { startAdminServer, type AdminProvider } from '../admin/server';
import { Listener } from '../listener/listener';
import { buildGeneration, retireGeneration, type Generation } from './generation';
import { OverloadMonitor } from './overload';

export interface ProxyServerOptions {
  clock?: Clock;
  log: Logger;
  random?: () => number;
}

export interface ReloadResult {
  ok: boolean;
  errors: string[];
}

export class ProxyServer implements AdminProvider {
  readonly stats = new StatsRegistry();
  private readonly clock: Clock;
  private readonly log: Logger;
  private generation: Generation | null = null;
  private readonly bound = new Map<string, Listener>();
  private admin: { port: number; close(): Promise<void> } | null = null;
  private accessLog: AccessLog | null = null;
  private accessLogPath: string | null = null;
  private reloading: Promise<ReloadResult> | null = null;
  private readonly reloads;
  private readonly reloadFailures;
  private stopped = false;
  private overload: OverloadMonitor | null = null;
  private readonly breakers = new Map<string, import('../upstream/circuit-breaker').CircuitBreaker>();

  constructor(private readonly opts: ProxyServerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log;
    this.reloads = this.stats.counter('switchyard_config_reloads_total', 'Config reloads applied.');
    this.reloadFailures = this.stats.counter('switchyard_config_reload_failures_total', 'Config reloads rejected.');
  }

  get config(): SwitchyardConfig | null {
    return this.generation === null ? null : this.generation.config;
  }

  get adminPort(): number | null {
    return this.admin === null ? null : this.admin.port;
  }

  /** Bound port of a listener (useful with port 0). */
  listenerPort(name: string): number {
    const l = this.bound.get(name);
    if (l === undefined) throw new Error(`no listener "${name}"`);
    return l.boundPort;
  }

  /** Starts, retunes or stops the overload monitor for `config`. */
  private applyOverload(config: SwitchyardConfig): void {
    if (config.overload === null) {
      if (this.overload !== null) this.overload.stop();
      return;
    }
    if (this.overload === null) this.overload = new OverloadMonitor(config.overload, this.clock, this.stats);
    else this.overload.setConfig(config.overload);
    this.overload.start();
  }

  async start(config: SwitchyardConfig): Promise<void> {
    this.openAccessLog(config);
    this.applyOverload(config);
    const gen = await buildGeneration(config, this.deps(), null);
    try {
      for (const [name, plan] of gen.listeners) {
        const a = plan.config.address;
        const l = new Listener(name, a.host, a.port, plan.gen, this.stats, this.clock, this.log);
        await l.listen();
        this.bound.set(name, l);
      }
      if (config.admin !== null) {
        this.admin = await startAdminServer({ address: config.admin.address, allowedHosts: config.admin.allowed_hosts, provider: this, log: this.log });
      }
    } catch (err) {
      for (const l of this.bound.values()) l.destroy();
      this.bound.clear();
      gen.clusters.destroy();
      throw err;
    }
    this.generation = gen;
    for (const l of this.bound.values()) {
      this.log.info('listening', { listener: l.name, address: l.address, protocol: gen.listeners.get(l.name)!.config.protocol });
    }
  }

  private deps() {
    return {
      stats: this.stats,
      clock: this.clock,
      log: this.log,
      accessLog: this.accessLog,
      random: this.opts.random,
      breakers: this.breakers,
      overload: this.overload,
    };
  }

  private openAccessLog(config: SwitchyardConfig): void {
    const path = config.access_log === null ? null : config.access_log.path;
    if (path === this.accessLogPath) return;
    const old = this.accessLog;
    this.accessLog = path === null ? null : AccessLog.open(path);
    this.accessLogPath = path;
    if (old !== null) setTimeout(() => void old.close(), 30_000).unref();
  }

  /** Reloads from `config`, or re-reads the file the current config came from. */
  reload(config?: SwitchyardConfig): Promise<ReloadResult> {
    // Reloads are serialized: a second one waits for the first.
    const run = async (): Promise<ReloadResult> => {
      try {
        return await this.doReload(config);
      } finally {
        this.reloading = null;
      }
    };
    const prev = this.reloading;
    this.reloading = prev === null ? run() : prev.then(run, run);
    return this.reloading;
  }

  private async doReload(given?: SwitchyardConfig): Promise<ReloadResult> {
    const old = this.generation;
    if (old === null || this.stopped) return { ok: false, errors: ['proxy is not running'] };
    let next: Generation | null = null;
    const newListeners: Listener[] = [];
    try {
      const config = given ?? (await loadConfigFile(old.config.source));
      this.openAccessLog(config);
      next = await buildGeneration(config, this.deps(), old);
      for (const [name, plan] of next.listeners) {
        const cur = this.bound.get(name);
        const a = plan.config.address;
        if (cur !== undefined && cur.host === a.host && cur.port === a.port) continue;
        const l = new Listener(name, a.host, a.port, plan.gen, this.stats, this.clock, this.log);
        await l.listen();
        newListeners.push(l);
      }
    } catch (err) {
      for (const l of newListeners) l.destroy();
      // Releases only what the abandoned generation built; shared warm clusters stay with `old`.
      if (next !== null) void retireGeneration(next, null);
      this.reloadFailures.inc();
      const errors = err instanceof ConfigError ? err.message.split('\n') : [err instanceof Error ? err.message : String(err)];
      this.log.error('config reload rejected; the running config stays in force', { errors });
      return { ok: false, errors };
    }
    // Swap: from here on nothing can fail.
    const applied: Generation = next;
    const retiring: Listener[] = [];
    for (const [name, l] of this.bound) {
      const plan = applied.listeners.get(name);
      if (plan !== undefined && l.host === plan.config.address.host && l.port === plan.config.address.port) {
        l.swap(plan.gen);
      } else {
        retiring.push(l);
        this.bound.delete(name);
      }
    }
    for (const l of newListeners) this.bound.set(l.name, l);
    this.generation = applied;
    this.applyOverload(applied.config);
    this.reloads.inc();
    const drainMs = applied.config.drain_timeout_ms;
    void Promise.all(retiring.map((l) => l.drain(drainMs))).then(() => retireGeneration(old, applied));
    this.log.info('config reloaded', { listeners: [...applied.listeners.keys()], clusters: applied.clusters.names() });
    return { ok: true, errors: [] };
  }

  /** Graceful stop: stop accepting, let in-flight requests finish within drain_timeout, close. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.overload !== null) this.overload.stop();
    const gen = this.generation;
    const drainMs = gen === null ? 0 : gen.config.drain_timeout_ms;
    const deadline = this.clock.now() + drainMs;
    await Promise.all([...this.bound.values()].map((l) => l.drain(drainMs)));
    this.bound.clear();
    if (gen !== null) {
      // Upstream exchanges nobody waits for any more (a mirror, a filter's call) get what is left
      // of the drain time; then every upstream connection is closed.
      const left = Math.max(0, deadline - this.clock.now());
      await new Promise<void>((resolve) => {
        const t = this.clock.setTimer(resolve, left);
        void retireGeneration(gen, null).then(() => {
          t.cancel();
          resolve();
        });
      });
      gen.clusters.destroy();
    }
    if (this.admin !== null) await this.admin.close();
    if (this.accessLog !== null) await this.accessLog.close();
  }

  // ---- AdminProvider --------------------------------------------------------------------------

  ready(): boolean {
    return this.generation !== null && !this.stopped;
  }
  statsRegistries(): StatsRegistry[] {
    return [this.stats];
  }
  clusters(): unknown {
    return this.generation === null ? [] : this.generation.clusters.snapshot();
  }
  listeners(): unknown {
    return [...this.bound.values()].map((l) => l.snapshot());
  }
  configDump(): unknown {
    return this.generation === null ? null : this.generation.config;
  }
}
