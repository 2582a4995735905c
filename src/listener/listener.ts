/**
 * Listener: one bound server socket. Accepts connections up to the limit, hands each to its
 * protocol codec, and feeds every decoded stream to the engine of the *current* generation, so a
 * reload swaps routes and filters for new streams while in-flight ones finish on the old.
 * Owns connection accounting and drain. With `tls`, a TlsTerminator (./tls.ts) handshakes each
 * accepted socket first and the codec gets the TLS socket; a connection counts from accept on.
 * Must never: route, or know a codec's internals.
 */
import * as net from 'node:net';
import type { Clock, ConnectionInfo, ListenerLimits, ListenerProtocol, Logger, ServerConnection, ServerStream } from '../api';
import type { Counter, Gauge, StatsRegistry } from '../observability/stats';
import type { ListenerTlsConfig } from '../config/types';
import { TlsTerminator, withConnection, type TlsErrorKind } from './tls';

/** What a listener needs from a config generation. */
export interface ListenerGeneration {
  readonly protocol: ListenerProtocol;
  readonly limits: ListenerLimits;
  readonly maxConnections: number;
  /** TLS termination; absent or null: plaintext. */
  readonly tls?: ListenerTlsConfig | null;
  onStream(stream: ServerStream): void;
}

let nextConnectionId = 1;

export class Listener {
  private server: net.Server | null = null;
  private readonly connections = new Set<ServerConnection>();
  private readonly active: Gauge;
  private readonly accepted: Counter;
  private readonly rejected: Counter;
  private readonly protocolErrors = new Map<string, Counter>();
  private readonly tlsErrors = new Map<string, Counter>();
  private tls: TlsTerminator | null = null;
  private draining = false;
  private tlsBroken = false;
  private closedWaiters: Array<() => void> = [];
  boundPort = 0;

  constructor(
    readonly name: string,
    readonly host: string,
    readonly port: number,
    private generation: ListenerGeneration,
    private readonly stats: StatsRegistry,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.active = stats.gauge('switchyard_downstream_connections_active', 'Open downstream connections.', { listener: name });
    this.accepted = stats.counter('switchyard_downstream_connections_total', 'Accepted downstream connections.', { listener: name });
    this.rejected = stats.counter(
      'switchyard_downstream_connections_rejected_total',
      'Connections closed at accept because the listener was at max_connections.',
      { listener: name },
    );
    // Throws (naming the file) when the certificates cannot be loaded: the listener is not built.
    if (generation.tls) this.tls = this.newTerminator(generation.tls);
  }

  private newTerminator(cfg: ListenerTlsConfig): TlsTerminator {
    return new TlsTerminator(cfg, {
      listener: this.name,
      clock: this.clock,
      log: this.log,
      onError: (kind) => this.tlsError(kind),
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get address(): string {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.boundPort}`;
  }

  /** Binds the socket; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      // allowHalfOpen: a client may half-close after its request; the codec ends our side itself.
      const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (s) => this.accept(s));
      server.once('error', reject);
      server.listen({ host: this.host, port: this.port, backlog: 1024 }, () => {
        server.removeListener('error', reject);
        server.on('error', (err) => this.log.error('listener error', { listener: this.name, err: String(err) }));
        this.server = server;
        const a = server.address() as net.AddressInfo;
        this.boundPort = a.port;
        resolve(a.port);
      });
    });
  }

  /** New streams (also on existing keep-alive connections) use `gen` from now on. */
  swap(gen: ListenerGeneration): void {
    this.generation = gen;
    const cfg = gen.tls ?? null;
    if (cfg === null) {
      if (this.tls !== null) this.tls.close();
      this.tls = null;
    } else if (this.tls === null) {
      try {
        this.tls = this.newTerminator(cfg);
      } catch (err) {
        // Validated at load; a file that broke since then: refuse connections rather than serve plaintext.
        this.log.error('tls setup failed; the listener refuses connections until a reload fixes it', { listener: this.name, err: String(err) });
        this.tlsBroken = true;
        return;
      }
    } else {
      this.tls.update(cfg);
    }
    this.tlsBroken = false;
  }

  private accept(socket: net.Socket): void {
    const gen = this.generation;
    if (this.draining || this.tlsBroken || this.connections.size >= gen.maxConnections) {
      this.rejected.inc();
      socket.destroy();
      return;
    }
    this.accepted.inc();
    socket.on('error', () => {});
    const info: ConnectionInfo = {
      id: nextConnectionId++,
      listener: this.name,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
      tls: false,
    };
    const ctx = {
      connection: info,
      limits: gen.limits,
      clock: this.clock,
      log: this.log,
      onStream: (stream: ServerStream) => this.generation.onStream(stream),
      onProtocolError: (kind: string) => this.protocolError(gen.protocol.name, kind),
    };
    const conn =
      this.tls === null
        ? gen.protocol.serve(socket, ctx)
        : this.tls.serve(socket, ctx, (s, tlsInfo) => gen.protocol.serve(s, withConnection(ctx, tlsInfo)));
    this.connections.add(conn);
    this.active.inc();
    conn.onClose(() => {
      if (!this.connections.delete(conn)) return;
      this.active.dec();
      if (this.connections.size === 0) this.notifyClosed();
    });
  }

  private protocolError(protocol: string, kind: string): void {
    const key = `${protocol}\u0000${kind}`;
    let c = this.protocolErrors.get(key);
    if (c === undefined) {
      c = this.stats.counter('switchyard_downstream_protocol_errors_total', 'Malformed input from downstream clients.', {
        listener: this.name,
        protocol,
        kind,
      });
      this.protocolErrors.set(key, c);
    }
    c.inc();
  }

  private tlsError(kind: TlsErrorKind): void {
    let c = this.tlsErrors.get(kind);
    if (c === undefined) {
      c = this.stats.counter('switchyard_downstream_tls_errors_total', 'Downstream TLS handshakes failed or refused, by kind.', {
        listener: this.name,
        kind,
      });
      this.tlsErrors.set(kind, c);
    }
    c.inc();
  }

  /** Stops accepting; existing connections go on. */
  stopAccepting(): Promise<void> {
    if (this.tls !== null) this.tls.close();
    const server = this.server;
    this.server = null;
    if (server === null) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  /**
   * Stops accepting and drains: in-flight exchanges finish, keep-alive connections are closed
   * cleanly after their current response; resolves when every connection is gone or `timeoutMs`
   * passed (then the rest are destroyed).
   */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    const stopped = this.stopAccepting();
    for (const c of this.connections) c.drain();
    if (this.connections.size > 0) {
      await new Promise<void>((resolve) => {
        const t = this.clock.setTimer(() => {
          for (const c of this.connections) c.destroy();
          resolve();
        }, timeoutMs);
        this.closedWaiters.push(() => {
          t.cancel();
          resolve();
        });
      });
    }
    await stopped;
  }

  destroy(): void {
    this.draining = true;
    void this.stopAccepting();
    for (const c of this.connections) c.destroy();
  }

  private notifyClosed(): void {
    const ws = this.closedWaiters;
    this.closedWaiters = [];
    for (const w of ws) w();
  }

  snapshot(): object {
    return {
      name: this.name,
      address: this.address,
      protocol: this.generation.protocol.name,
      connections: this.connections.size,
      max_connections: this.generation.maxConnections,
      draining: this.draining,
      tls: this.tls !== null,
    };
  }
}
