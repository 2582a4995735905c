/**
 * `protocol: auto`: serves several listener protocols on one port by sniffing the first bytes of
 * each connection. Every candidate with a match() is asked yes / no / need-more; the first `yes`
 * (in candidate order) gets the socket with the sniffed bytes put back (socket.unshift) and serves
 * it as if it had accepted it. Reading is bounded: at most MAX_SNIFF_BYTES and the listener's
 * header timeout; no match closes the connection (counted as `unknown_protocol`).
 * Must never: consume bytes the chosen protocol needs, or hold a connection without a deadline.
 */
import type { Duplex } from 'node:stream';
import { registry } from '../api/registry';
import type { ListenerProtocol, MatchResult, ServeContext, ServerConnection } from '../api/codec';
import { PendingConnection } from './pending-connection';

/** Most bytes read before deciding. */
export const MAX_SNIFF_BYTES = 64;

/** Chooses among `candidates`: a protocol, 'need-more', or null (nothing matches). */
export function chooseProtocol(candidates: readonly ListenerProtocol[], head: Buffer, final: boolean): ListenerProtocol | 'need-more' | null {
  let waiting = false;
  for (const p of candidates) {
    if (p.match === undefined) continue;
    let r: MatchResult;
    try {
      r = p.match(head);
    } catch {
      r = 'no';
    }
    if (r === 'yes') return p;
    if (r === 'need-more') waiting = true;
  }
  return waiting && !final && head.length < MAX_SNIFF_BYTES ? 'need-more' : null;
}

export function autoListenerProtocol(candidates: () => readonly ListenerProtocol[]): ListenerProtocol {
  return {
    name: 'auto',
    serve(socket: Duplex, ctx: ServeContext): ServerConnection {
      return new SniffingConnection(socket, ctx, candidates().filter((p) => p.name !== 'auto' && p.match !== undefined));
    },
  };
}

/** Every registered listener protocol that can sniff (except `auto` itself), in registration order. */
export function registeredSniffCandidates(): ListenerProtocol[] {
  const out: ListenerProtocol[] = [];
  for (const name of registry.codecNames()) {
    if (name === 'auto') continue;
    const l = registry.codec(name)?.listener;
    if (l !== undefined && l.match !== undefined) out.push(l);
  }
  return out;
}

/** `auto` over every registered protocol that has a match(): what `protocol: auto` serves. */
export const autoListener: ListenerProtocol = autoListenerProtocol(registeredSniffCandidates);

class SniffingConnection extends PendingConnection {
  private head: Buffer | null = null;
  private done = false;
  private readonly onDataFn = (c: Buffer): void => this.onData(c);
  private readonly onEndFn = (): void => this.decide(true);
  private readonly onCloseFn = (): void => this.onSocketClose();

  constructor(
    private readonly socket: Duplex,
    private readonly ctx: ServeContext,
    private readonly candidates: readonly ListenerProtocol[],
  ) {
    super(socket);
    socket.on('data', this.onDataFn);
    socket.on('end', this.onEndFn);
    socket.on('close', this.onCloseFn);
    socket.on('error', () => {});
    const t = ctx.limits.headerTimeoutMs;
    if (t > 0) this.timer = ctx.clock.setTimer(() => this.onTimeout(), t);
  }

  private onData(chunk: Buffer): void {
    if (this.done) return;
    this.head = this.head === null ? chunk : Buffer.concat([this.head, chunk]);
    this.decide(false);
  }

  private decide(final: boolean): void {
    if (this.done) return;
    const head = this.head;
    const pick = head === null ? (final ? null : 'need-more') : chooseProtocol(this.candidates, head, final);
    if (pick === 'need-more') return;
    this.done = true;
    this.cancelTimer();
    if (pick === null) {
      this.reject(head === null ? 'connection closed before any byte' : 'no protocol matched the first bytes');
      return;
    }
    // At 'end' nothing new was read since the last answer, so a match only ever happens on data.
    this.handOff(pick, head!);
  }

  private handOff(p: ListenerProtocol, head: Buffer): void {
    const s = this.socket;
    s.pause();
    s.removeListener('data', this.onDataFn);
    s.removeListener('end', this.onEndFn);
    s.removeListener('close', this.onCloseFn);
    s.unshift(head);
    let inner: ServerConnection;
    try {
      inner = p.serve(s, this.ctx);
    } catch (e) {
      this.ctx.log.error('protocol serve() failed', { protocol: p.name, error: String(e) });
      s.destroy();
      this.closedBeforeHandOff();
      return;
    }
    this.adopt(inner);
    s.resume();
  }

  private reject(why: string): void {
    this.ctx.onProtocolError('unknown_protocol');
    const c = this.ctx.connection;
    this.ctx.log.info('connection closed: unknown protocol', {
      listener: c.listener,
      remote: `${c.remoteAddress}:${c.remotePort}`,
      reason: why,
      head: this.head === null ? '' : this.head.subarray(0, 16).toString('hex'),
    });
    this.socket.destroy();
  }

  private onTimeout(): void {
    this.timer = null;
    if (this.done) return;
    this.done = true;
    this.reject('no protocol decided within the header timeout');
  }

  private onSocketClose(): void {
    this.cancelTimer();
    this.done = true;
    this.closedBeforeHandOff();
  }
}
