/**
 * TLS termination for one listener. A TlsTerminator holds the current certificate set and a
 * never-listening tls.Server built for it (SNI → exact name, then wildcard, then the default
 * certificate or a refused handshake; ALPN; minimum version; client certificates requested when
 * client_auth is on). Each accepted TCP socket is injected into that server and wrapped in a
 * TlsConnection (a ServerConnection, so the Listener's accounting and drain see it from accept
 * on) until the handshake completes and the connection passes the client-auth policy; then the
 * TLS socket goes to the listener's codec with ConnectionInfo { tls: true, sni, peerSans }.
 * Certificate files are watched: a change rebuilds the set and a new server, which new
 * handshakes use; connections already up keep theirs. A set that fails to build is logged and
 * the old one stays.
 * Must never: hand a socket to a codec before the handshake and policy passed, let a TLS error
 * escape as an exception, or drop an established connection on reload.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Clock } from '../api/clock';
import type { ListenerLimits, ServeContext, ServerConnection } from '../api/codec';
import type { Logger } from '../api/filter';
import type { ConnectionInfo } from '../api/stream';
import type { ListenerTlsConfig } from '../config/types';
import { buildCertificateSet, contextForName, parseSubjectAltNames, type CertificateSet } from './tls-contexts';
import { watchFiles, type FileWatch } from './tls-watch';
import { PendingConnection } from './pending-connection';

/** Kinds counted in switchyard_downstream_tls_errors_total. */
export type TlsErrorKind =
  | 'handshake'
  | 'handshake_timeout'
  | 'unknown_sni'
  | 'no_client_cert'
  | 'untrusted_client_cert'
  | 'san_not_allowed';

export interface TlsTerminatorDeps {
  readonly listener: string;
  readonly clock: Clock;
  readonly log: Logger;
  onError(kind: TlsErrorKind): void;
  /** Debounce of certificate file changes (default 100 ms). */
  readonly reloadDebounceMs?: number;
}

/** Hands an authenticated TLS socket to the codec. */
export type ServeTls = (socket: tls.TLSSocket, info: ConnectionInfo, alpn: string | false) => ServerConnection;

class UnknownSniError extends Error {}

/** One generation of the TLS setup: config, certificates, and the server that handshakes with them. */
interface TlsState {
  readonly cfg: ListenerTlsConfig;
  readonly certs: CertificateSet;
  readonly server: tls.Server;
  readonly allowedSans: ReadonlySet<string> | null;
}

function connKey(s: net.Socket): string {
  return `${s.remoteAddress}|${s.remotePort}|${s.localAddress}|${s.localPort}`;
}

/** Marks an accepted socket with its TlsConnection. */
const CONN = Symbol('switchyard.tlsConnection');

/**
 * tls.Server events name only the TLS socket. Node keeps the wrapped socket as `_parent`, which
 * still answers after the TLS socket was destroyed (a refused SNI); the 4-tuple is the
 * documented-API fallback while the socket is open.
 */
function ownerOf(s: tls.TLSSocket, pending: ReadonlyMap<string, TlsConnection>): TlsConnection | undefined {
  const parent = (s as unknown as { _parent?: unknown })._parent;
  if (typeof parent === 'object' && parent !== null) {
    const c = (parent as { [CONN]?: TlsConnection })[CONN];
    if (c !== undefined) return c;
  }
  return s.remotePort === undefined ? undefined : pending.get(connKey(s));
}

export class TlsTerminator {
  private state: TlsState;
  private watch: FileWatch | null = null;
  private cfgJson: string;
  /** Connections in handshake, by socket 4-tuple (tls.Server events give only the TLS socket). */
  private readonly pending = new Map<string, TlsConnection>();
  private closed = false;

  /** Throws (naming the file) when the certificates cannot be built. */
  constructor(cfg: ListenerTlsConfig, private readonly deps: TlsTerminatorDeps) {
    this.state = this.build(cfg);
    this.cfgJson = JSON.stringify(cfg);
    this.rewatch();
  }

  get config(): ListenerTlsConfig {
    return this.state.cfg;
  }

  /** A reloaded config: rebuilds when the tls section changed. Never throws; false keeps the old. */
  update(cfg: ListenerTlsConfig): boolean {
    const json = JSON.stringify(cfg);
    if (json === this.cfgJson) return true;
    if (!this.swapTo(cfg, 'tls config changed')) return false;
    this.cfgJson = json;
    this.rewatch();
    return true;
  }

  /** Re-reads the certificate files now (what a file change triggers). */
  reload(): boolean {
    return this.swapTo(this.state.cfg, 'certificate files changed');
  }

  close(): void {
    this.closed = true;
    if (this.watch !== null) this.watch.close();
    this.watch = null;
  }

  /** Starts the handshake on an accepted socket. */
  serve(socket: net.Socket, ctx: ServeContext, next: ServeTls): ServerConnection {
    const conn = new TlsConnection(this, this.state, socket, ctx, next);
    return conn;
  }

  // ---- used by TlsConnection ----

  addPending(key: string, c: TlsConnection): void {
    this.pending.set(key, c);
  }

  removePending(key: string, c: TlsConnection): void {
    if (this.pending.get(key) === c) this.pending.delete(key);
  }

  error(kind: TlsErrorKind, c: ConnectionInfo, detail: string): void {
    this.deps.onError(kind);
    this.deps.log.debug('tls connection refused', {
      listener: this.deps.listener,
      remote: `${c.remoteAddress}:${c.remotePort}`,
      kind,
      detail,
    });
  }

  get clock(): Clock {
    return this.deps.clock;
  }

  // ---- internals ----

  private swapTo(cfg: ListenerTlsConfig, why: string): boolean {
    if (this.closed) return false;
    let next: TlsState;
    try {
      next = this.build(cfg);
    } catch (e) {
      this.deps.log.error('tls certificates not reloaded; the previous ones stay in use', {
        listener: this.deps.listener,
        reason: why,
        error: e instanceof Error ? e.message : String(e),
      });
      return false;
    }
    this.state = next;
    this.deps.log.info('tls certificates reloaded', { listener: this.deps.listener, reason: why });
    return true;
  }

  private rewatch(): void {
    if (this.watch !== null) this.watch.close();
    this.watch = watchFiles(this.state.certs.files, () => void this.reload(), this.deps.clock, this.deps.log, this.deps.reloadDebounceMs);
  }

  private build(cfg: ListenerTlsConfig): TlsState {
    const certs = buildCertificateSet(cfg);
    const reject = cfg.on_unknown_sni === 'reject';
    const requestCert = cfg.client_auth.mode !== 'none';
    const server = tls.createServer({
      ...certs.defaultOptions,
      ALPNProtocols: cfg.alpn.length > 0 ? cfg.alpn : undefined,
      requestCert,
      // The policy (which failure is fatal, allowed SANs) is applied after the handshake, so
      // that every refusal is counted by kind.
      rejectUnauthorized: false,
      SNICallback: (servername, cb) => {
        const ctx = contextForName(certs, servername);
        if (ctx !== null) cb(null, ctx);
        else if (reject) cb(new UnknownSniError(`no certificate for server name "${servername}"`));
        else cb(null, certs.defaultContext);
      },
    });
    server.on('secureConnection', (s: tls.TLSSocket) => {
      const c = ownerOf(s, this.pending);
      if (c !== undefined) c.onSecure(s);
      else s.destroy();
    });
    server.on('tlsClientError', (err: Error, s: tls.TLSSocket) => {
      const c = ownerOf(s, this.pending);
      if (c !== undefined) c.onTlsError(err instanceof UnknownSniError ? 'unknown_sni' : 'handshake', err.message);
    });
    const sans = cfg.client_auth.allowed_sans;
    return { cfg, certs, server, allowedSans: sans.length > 0 ? new Set(sans) : null };
  }
}

/** A downstream connection during its TLS handshake; afterwards a thin forwarder to the codec's. */
class TlsConnection extends PendingConnection {
  /** The handshake ended (secure, failed, or the socket closed): later events are ignored. */
  private settled = false;
  private readonly key: string;

  constructor(
    private readonly owner: TlsTerminator,
    private readonly state: TlsState,
    protected override readonly raw: net.Socket,
    private readonly ctx: ServeContext,
    private readonly next: ServeTls,
  ) {
    super(raw);
    this.key = connKey(raw);
    owner.addPending(this.key, this);
    (raw as unknown as { [CONN]?: TlsConnection })[CONN] = this;
    raw.on('close', () => this.onRawClose());
    const t = handshakeTimeout(ctx.limits);
    if (t > 0) {
      this.timer = owner.clock.setTimer(() => {
        this.timer = null;
        if (this.settled) return;
        this.settled = true;
        owner.error('handshake_timeout', ctx.connection, `no handshake within ${t} ms`);
        raw.destroy();
      }, t);
    }
    state.server.emit('connection', raw);
  }

  onTlsError(kind: 'unknown_sni' | 'handshake', detail: string): void {
    if (this.settled) return;
    this.settled = true;
    this.cancelTimer();
    this.owner.removePending(this.key, this);
    this.owner.error(kind, this.ctx.connection, detail);
    this.raw.destroy();
  }

  onSecure(s: tls.TLSSocket): void {
    if (this.settled) {
      s.destroy();
      return;
    }
    this.settled = true;
    this.owner.removePending(this.key, this);
    this.cancelTimer();
    if (this.closeCbs === null || this.draining) {
      s.destroy();
      return;
    }
    const info = this.authenticate(s);
    if (info === null) {
      s.destroy();
      return;
    }
    let inner: ServerConnection;
    try {
      inner = this.next(s, info, s.alpnProtocol ?? false);
    } catch (e) {
      this.ctx.log.error('listener protocol failed to serve a TLS connection', { error: String(e) });
      s.destroy();
      return;
    }
    this.adopt(inner);
  }

  /** Applies the SNI and client-auth policy; the connection's info, or null (counted) to refuse. */
  private authenticate(s: tls.TLSSocket): ConnectionInfo | null {
    const cfg = this.state.cfg;
    const base = this.ctx.connection;
    const sni = typeof s.servername === 'string' && s.servername !== '' ? s.servername.toLowerCase() : undefined;
    if (sni === undefined && cfg.on_unknown_sni === 'reject') {
      this.owner.error('unknown_sni', base, 'no server name sent');
      return null;
    }
    let peerSans: string[] | undefined;
    const mode = cfg.client_auth.mode;
    if (mode !== 'none') {
      const cert = s.getPeerCertificate();
      const present = cert !== null && cert !== undefined && Object.keys(cert).length > 0;
      if (!present) {
        if (mode === 'required') {
          this.owner.error('no_client_cert', base, 'no client certificate');
          return null;
        }
      } else if (!s.authorized) {
        this.owner.error('untrusted_client_cert', base, String(s.authorizationError));
        return null;
      } else {
        peerSans = parseSubjectAltNames(cert.subjectaltname);
        const allowed = this.state.allowedSans;
        if (allowed !== null && !peerSans.some((x) => allowed.has(x))) {
          this.owner.error('san_not_allowed', base, `client SANs ${JSON.stringify(peerSans)}`);
          return null;
        }
      }
    }
    const info: ConnectionInfo = {
      id: base.id,
      listener: base.listener,
      remoteAddress: base.remoteAddress,
      remotePort: base.remotePort,
      localAddress: base.localAddress,
      localPort: base.localPort,
      tls: true,
      sni,
      peerSans,
    };
    return info;
  }

  private onRawClose(): void {
    this.owner.removePending(this.key, this);
    this.cancelTimer();
    this.closedBeforeHandOff();
  }
}

/** The handshake must finish within the header timeout (else the idle timeout; else 10 s). */
function handshakeTimeout(l: ListenerLimits): number {
  if (l.headerTimeoutMs > 0) return l.headerTimeoutMs;
  if (l.idleTimeoutMs > 0) return l.idleTimeoutMs;
  return 10_000;
}

/** A ServeContext whose connection is `info` (the codec of a TLS connection sees tls: true). */
export function withConnection(ctx: ServeContext, info: ConnectionInfo): ServeContext {
  return {
    connection: info,
    limits: ctx.limits,
    clock: ctx.clock,
    log: ctx.log,
    onStream: ctx.onStream,
    onProtocolError: ctx.onProtocolError,
  };
}
