/**
 * WasmPlugin: one configured wasm filter (per config generation). Owns the live VmInstance,
 * counts traps, and replaces a trapped instance — at once for a first failure, then with
 * exponential backoff while instances keep dying young. Builds a WasmStream per stream.
 * Must never: let a trapped instance serve again, or retry instantiation in a tight loop.
 */
import type { Clock, Logger, TimerHandle } from '../api';
import type { FilterMetric, FilterMetrics } from '../api';
import type { CompiledModule } from './module-cache';
import { CallbackBudgetError, MemoryLimitError, VmInstance, type PluginHost } from './instance';
import type { PluginIdentity } from './properties';
import type { HttpCallFn } from './http-call';
import { PluginMetrics } from './metrics';
import { WasmStream, type StreamPlugin } from './stream';

export interface PluginOptions {
  identity: PluginIdentity;
  compiled: CompiledModule;
  vmConfig: Buffer;
  pluginConfig: Buffer;
  clock: Clock;
  log: Logger;
  logLevel: number;
  maxMemory: number;
  /** See PluginHost.callbackBudgetMs. */
  callbackBudgetMs: number;
  failOpen: boolean;
  httpCall: HttpCallFn | null;
  metrics: FilterMetrics;
}

/** An instance that dies younger than this counts towards the backoff. */
const YOUNG_MS = 10_000;
/** A retired plugin's instance is destroyed at the latest this long after retirement. */
const RETIRE_MAX_MS = 120_000;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 30_000;

export class WasmPlugin implements PluginHost, StreamPlugin {
  readonly identity: PluginIdentity;
  readonly vmConfig: Buffer;
  readonly pluginConfig: Buffer;
  readonly clock: Clock;
  readonly log: Logger;
  readonly logLevel: number;
  readonly maxMemory: number;
  readonly callbackBudgetMs: number;
  readonly failOpen: boolean;
  readonly httpCall: HttpCallFn | null;
  readonly rootProps = new Map<string, Buffer>();
  readonly traps: FilterMetric;
  readonly overruns: FilterMetric;
  readonly memoryBreaches: FilterMetric;
  readonly metrics: PluginMetrics;
  private instance: VmInstance | null = null;
  private startedAt = 0;
  private failures = 0;
  private nextAllowed = 0;
  private timer: TimerHandle | null = null;
  private destroyed = false;
  /** After destroy(): the instance kept until its last stream context is deleted. */
  private retiring: VmInstance | null = null;
  private retireTimer: TimerHandle | null = null;

  constructor(private readonly opts: PluginOptions) {
    this.identity = opts.identity;
    this.vmConfig = opts.vmConfig;
    this.pluginConfig = opts.pluginConfig;
    this.clock = opts.clock;
    this.log = opts.log;
    this.logLevel = opts.logLevel;
    this.maxMemory = opts.maxMemory;
    this.callbackBudgetMs = opts.callbackBudgetMs;
    this.failOpen = opts.failOpen;
    this.httpCall = opts.httpCall;
    this.metrics = new PluginMetrics(opts.metrics, opts.identity.name);
    this.traps = this.metrics.traps();
    this.overruns = this.metrics.overruns();
    this.memoryBreaches = this.metrics.memoryBreaches();
  }

  /** Builds the first instance; throws (with the guest's failure) when it cannot start. */
  start(): void {
    this.instance = this.create();
  }

  private create(): VmInstance {
    const inst = new VmInstance(this, this.opts.compiled);
    try {
      inst.start();
    } catch (err) {
      inst.destroy(false);
      throw err;
    }
    this.startedAt = this.clock.now();
    return inst;
  }

  createStream(): WasmStream {
    return new WasmStream(this);
  }

  live(): VmInstance | null {
    const i = this.instance;
    if (i !== null && !i.dead) return i;
    if (this.destroyed) return this.retiring !== null && !this.retiring.dead ? this.retiring : null;
    if (this.clock.now() < this.nextAllowed) return null;
    this.recreate();
    return this.instance;
  }

  trapped(inst: VmInstance, err: unknown, where: string): void {
    if (inst.dead) return;
    this.traps.inc();
    if (err instanceof CallbackBudgetError) this.overruns.inc();
    else if (err instanceof MemoryLimitError) this.memoryBreaches.inc();
    this.log.error('wasm plugin trapped; replacing its instance', {
      plugin: this.identity.name,
      callback: where,
      err: err instanceof Error ? err.message : String(err),
    });
    inst.destroy(false);
    if (this.instance === inst) this.instance = null;
    this.failures = this.clock.now() - this.startedAt < YOUNG_MS ? this.failures + 1 : 1;
    this.scheduleRecreate();
    inst.abandonStreams();
  }

  private scheduleRecreate(): void {
    if (this.destroyed) return;
    const delay = this.failures <= 1 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.failures - 2));
    this.nextAllowed = this.clock.now() + delay;
    if (this.timer !== null) this.timer.cancel();
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      if (this.instance === null) this.recreate();
    }, delay);
  }

  private recreate(): void {
    if (this.destroyed || this.instance !== null) return;
    try {
      this.instance = this.create();
    } catch (err) {
      this.traps.inc();
      this.failures++;
      this.log.error('wasm plugin could not be restarted', {
        plugin: this.identity.name,
        err: err instanceof Error ? err.message : String(err),
      });
      this.scheduleRecreate();
    }
  }

  /**
   * The plugin's generation was retired (reload or stop): no new instance is made; the live one
   * finishes the streams that already use it (proxy_on_done/on_delete on the root when the last
   * one is deleted, or after RETIRE_MAX_MS at the latest).
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.timer !== null) this.timer.cancel();
    this.timer = null;
    const inst = this.instance;
    this.instance = null;
    if (inst === null || inst.dead) return;
    if (inst.contextCount === 0) {
      inst.destroy(true);
      return;
    }
    this.retiring = inst;
    inst.onIdle = () => this.finishRetire();
    this.retireTimer = this.clock.setTimer(() => this.finishRetire(), RETIRE_MAX_MS);
  }

  private finishRetire(): void {
    const inst = this.retiring;
    if (inst === null) return;
    this.retiring = null;
    inst.onIdle = null;
    if (this.retireTimer !== null) this.retireTimer.cancel();
    this.retireTimer = null;
    if (!inst.dead) inst.destroy(true);
  }
}
