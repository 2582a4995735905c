/**
 * Tunnel: bridges two raw sockets after an HTTP/1.1 upgrade (101 Switching Protocols) — bytes
 * both ways as they arrive, backpressure (the side whose peer's write returned false is paused
 * until that peer drains), half-close propagated (a FIN one way ends the other side's writing),
 * teardown (a reset, an error, or one side closing while the other still has work destroys
 * both), the listener's idle timeout (no byte either way for idleTimeoutMs closes both; one lazy
 * timer on the injected Clock), the upgrade counters, and one end-of-tunnel callback.
 * Must never: parse or change the bytes, buffer beyond one chunk per direction over the
 * sockets' own high-water marks, call onClose twice, or throw from a socket event.
 */
import type { Duplex } from 'node:stream';
import type { Clock, TimerHandle } from '../api';
import type { Counter, Gauge, StatsRegistry } from '../observability/stats';
import type { ListenerStats } from './stream-env';

/** How a tunnel ended. */
export type TunnelEnd = 'closed' | 'idle_timeout' | 'error';

export interface TunnelResult {
  /** Bytes read from the downstream and written upstream. */
  readonly bytesFromDownstream: number;
  /** Bytes read from the upstream and written downstream. */
  readonly bytesFromUpstream: number;
  readonly end: TunnelEnd;
  /** Clock.now() at the start and at the end. */
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface TunnelOptions {
  readonly clock: Clock;
  /** No byte either way for this long closes both sides; 0 = never. */
  readonly idleTimeoutMs: number;
  /** Counted while the tunnel is open (optional: unit tests may omit it). */
  readonly stats?: UpgradeStats | null;
  /** The upgrade protocol token (e.g. "websocket"), the `protocol` label. */
  readonly protocol?: string;
  /** Called once, when both sockets are closed. */
  onClose(result: TunnelResult): void;
}

/** `switchyard_upgrades_total{listener,protocol}` and `switchyard_upgrades_active{listener}`. */
export class UpgradeStats {
  private readonly byProtocol = new Map<string, Counter>();
  readonly active: Gauge;
  constructor(private readonly registry: StatsRegistry, readonly listener: string) {
    this.active = registry.gauge('switchyard_upgrades_active', 'Upgraded (tunnelled) connections open now.', { listener });
  }
  total(protocol: string): Counter {
    let c = this.byProtocol.get(protocol);
    if (c === undefined) {
      c = this.registry.counter('switchyard_upgrades_total', 'Connections upgraded (101 Switching Protocols) and tunnelled.', {
        listener: this.listener,
        protocol,
      });
      this.byProtocol.set(protocol, c);
    }
    return c;
  }
}

const byListener = new WeakMap<ListenerStats, UpgradeStats>();

/** The upgrade counters of a listener, made once per ListenerStats. */
export function upgradeStats(ls: ListenerStats): UpgradeStats {
  let u = byListener.get(ls);
  if (u === undefined) {
    u = new UpgradeStats(ls.stats, ls.listener);
    byListener.set(ls, u);
  }
  return u;
}

/** One direction of the bridge: reads `src`, writes `dst`. */
class Pipe {
  bytes = 0;
  /** `src` is paused because `dst.write()` returned false. */
  blocked = false;
  ended = false;
  readonly onData = (chunk: Buffer): void => {
    const t = this.t;
    this.bytes += chunk.length;
    t.lastActivity = t.clock.now();
    if (!this.dst.write(chunk) && !this.blocked) {
      this.blocked = true;
      this.src.pause();
    }
  };
  /** `dst` drained: let `src` flow again. */
  readonly onDrain = (): void => {
    if (!this.blocked) return;
    this.blocked = false;
    if (!this.t.closed) this.src.resume();
  };
  /** FIN from `src`: end `dst`'s writing side once what was written is flushed. */
  readonly onEnd = (): void => {
    this.ended = true;
    this.dst.end();
  };
  constructor(
    readonly t: Tunnel,
    readonly src: Duplex,
    readonly dst: Duplex,
  ) {}
}

export class Tunnel {
  readonly clock: Clock;
  lastActivity: number;
  closed = false;
  private readonly started: number;
  private readonly up: Pipe;
  private readonly down: Pipe;
  private timer: TimerHandle | null = null;
  private end: TunnelEnd = 'closed';
  private reported = false;
  private readonly onTimerFn = (): void => this.onTimer();

  constructor(
    readonly downstream: Duplex,
    readonly upstream: Duplex,
    private readonly opts: TunnelOptions,
  ) {
    this.clock = opts.clock;
    this.started = this.lastActivity = opts.clock.now();
    this.up = new Pipe(this, downstream, upstream);
    this.down = new Pipe(this, upstream, downstream);
    const st = opts.stats;
    if (st !== undefined && st !== null) {
      st.total(opts.protocol ?? 'unknown').inc();
      st.active.inc();
    }
    for (const [s, out, back] of [
      [downstream, this.up, this.down],
      [upstream, this.down, this.up],
    ] as const) {
      // Half-close must be ours to propagate, not Node's to answer with an immediate FIN.
      (s as Duplex & { allowHalfOpen: boolean }).allowHalfOpen = true;
      s.on('data', out.onData);
      s.on('end', out.onEnd);
      s.on('drain', back.onDrain);
      s.on('error', this.onError);
      s.on('close', this.onSocketClose);
    }
    if (opts.idleTimeoutMs > 0) this.timer = opts.clock.setTimer(this.onTimerFn, opts.idleTimeoutMs);
    for (const s of [downstream, upstream]) {
      if (s.destroyed) this.onSocketClose();
      else if (s.readableEnded) (s === downstream ? this.up : this.down).onEnd();
    }
    if (!this.closed) {
      downstream.resume();
      upstream.resume();
    }
  }

  get bytesFromDownstream(): number {
    return this.up.bytes;
  }
  get bytesFromUpstream(): number {
    return this.down.bytes;
  }

  /** Closes both sides now. */
  destroy(end: TunnelEnd = 'closed'): void {
    if (!this.closed) this.end = end;
    this.teardown();
  }

  private readonly onError = (): void => {
    if (!this.closed) this.end = 'error';
    this.teardown();
  };

  /** One socket closed: the other goes too, unless it is only finishing a clean half-close. */
  private readonly onSocketClose = (): void => {
    const d = this.downstream.destroyed;
    const u = this.upstream.destroyed;
    if (d && u) return this.report();
    const other = d ? this.upstream : this.downstream;
    // Clean both ways (its FIN came and ours was sent): it flushes and closes on its own.
    if (!((d ? this.down : this.up).ended && other.writableEnded)) this.teardown();
  };

  private teardown(): void {
    if (!this.closed) {
      this.closed = true;
      this.cancelTimer();
    }
    if (!this.downstream.destroyed) this.downstream.destroy();
    if (!this.upstream.destroyed) this.upstream.destroy();
  }

  private report(): void {
    if (this.reported) return;
    this.reported = true;
    this.closed = true;
    this.cancelTimer();
    const st = this.opts.stats;
    if (st !== undefined && st !== null) st.active.dec();
    this.opts.onClose({
      bytesFromDownstream: this.up.bytes,
      bytesFromUpstream: this.down.bytes,
      end: this.end,
      startedAt: this.started,
      endedAt: this.clock.now(),
    });
  }

  private onTimer(): void {
    this.timer = null;
    if (this.closed) return;
    const left = this.lastActivity + this.opts.idleTimeoutMs - this.clock.now();
    if (left > 0) {
      this.timer = this.clock.setTimer(this.onTimerFn, left);
      return;
    }
    this.end = 'idle_timeout';
    this.teardown();
  }

  private cancelTimer(): void {
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
  }
}

/** Bridges `downstream` and `upstream` (both paused, fresh from takeSocket()) until both close. */
export function tunnel(downstream: Duplex, upstream: Duplex, opts: TunnelOptions): Tunnel {
  return new Tunnel(downstream, upstream, opts);
}
