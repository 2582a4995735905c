/**
 * Prober: one kind of active health check (http, tcp, grpc, heartbeat), run once against one
 * endpoint. A probe reports exactly one verdict through `done` unless cancelled; the checker
 * enforces the timeout (through its Clock) and cancels the probe when it fires, so probes own no
 * timers. Probes open connections of their own, never the cluster's traffic pools.
 * Must never: schedule anything, throw out of start(), or call `done` after cancel().
 */
import type * as net from 'node:net';
import { connectEndpoint, type UpstreamTls } from '../connect';

export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  /** The cluster's upstream TLS: probes connect as traffic does (handshake and verification). */
  readonly tls?: UpstreamTls | null;
}

export interface ProbeHandle {
  /** Stops the probe and releases its connection; `done` is not called afterwards. */
  cancel(): void;
}

/** ok: the endpoint passed; detail: a short reason for a failure (for logs and the admin view). */
export type ProbeDone = (ok: boolean, detail?: string) => void;

export interface Prober {
  readonly type: string;
  start(target: ProbeTarget, done: ProbeDone): ProbeHandle;
}

/**
 * Calls `done` at most once, and never after cancel(); runs `cleanup` exactly once (on the
 * verdict or on cancel). The shared bookkeeping of every socket-based probe.
 */
export class OneShot implements ProbeHandle {
  private settled = false;
  constructor(private readonly done: ProbeDone, private readonly cleanup: () => void) {}
  get finished(): boolean {
    return this.settled;
  }
  finish(ok: boolean, detail?: string): void {
    if (this.settled) return;
    this.settled = true;
    try {
      this.cleanup();
    } catch {
      // closing a socket must not turn a verdict into an exception
    }
    this.done(ok, detail);
  }
  cancel(): void {
    if (this.settled) return;
    this.settled = true;
    try {
      this.cleanup();
    } catch {
      // ignore
    }
  }
}

/** A probe's own connection to `target` (TLS when the cluster has it) with its verdict bookkeeping. */
export interface ProbeSocket {
  readonly sock: net.Socket;
  /** `connect`, or `secureConnect` once the handshake and verification passed. */
  readonly readyEvent: 'connect' | 'secureConnect';
  readonly shot: OneShot;
}

/**
 * Opens the probe's connection: a socket error or a close before a verdict fails the probe
 * (`closedDetail` says what was still awaited); the verdict or a cancel destroys the socket.
 */
export function openProbeSocket(target: ProbeTarget, done: ProbeDone, closedDetail: string): ProbeSocket {
  const { socket: sock, readyEvent } = connectEndpoint(target.host, target.port, target.tls ?? null);
  sock.setNoDelay(true);
  const shot = new OneShot(done, () => sock.destroy());
  sock.once('error', (err: Error) => shot.finish(false, err.message));
  sock.once('close', () => shot.finish(false, closedDetail));
  return { sock, readyEvent, shot };
}
