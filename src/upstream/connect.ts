/**
 * Opening upstream connections, plaintext or TLS, for every pool: `buildUpstreamTls` turns a
 * cluster's `tls` config into ready options once per cluster (files read, SecureContext built);
 * `withUpstreamTls` adds them to what a cluster puts into PoolOptions.options; `connectEndpoint` opens
 * one socket and names the event that means "ready to carry requests" (`connect`, or
 * `secureConnect` once the handshake and certificate verification passed), so a failed
 * verification is a connect failure, never a reset mid-request.
 * Must never: read files per connection, or skip verification unless the config said so.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { PoolOptions } from '../api/stream';
import type { ClusterTlsConfig } from '../config/types';

/** Ready-to-use TLS settings of one cluster (PoolOptions.options.tls). */
export interface UpstreamTls {
  readonly secureContext: tls.SecureContext;
  /** Fixed server name, or null: the endpoint host when it is not an IP address. */
  readonly servername: string | null;
  readonly verify: boolean;
  readonly alpn: readonly string[];
}

/** Reads the cluster's CA / client certificate files and builds the context. Throws naming the file. */
export function buildUpstreamTls(cfg: ClusterTlsConfig, warn: (msg: string) => void = defaultWarn): UpstreamTls {
  const options: tls.SecureContextOptions = {};
  if (cfg.ca !== undefined) options.ca = readPem(cfg.ca, 'CA');
  if (cfg.cert !== undefined && cfg.key !== undefined) {
    options.cert = readPem(cfg.cert, 'certificate');
    options.key = readPem(cfg.key, 'key');
  }
  let secureContext: tls.SecureContext;
  try {
    secureContext = tls.createSecureContext(options);
  } catch (e) {
    throw new Error(`upstream tls (${[cfg.ca, cfg.cert, cfg.key].filter((x) => x !== undefined).join(', ')}): ${(e as Error).message}`);
  }
  if (!cfg.verify) warn('upstream TLS certificate verification is off (tls.verify: false): connections can be intercepted');
  return Object.freeze({ secureContext, servername: cfg.sni ?? null, verify: cfg.verify, alpn: Object.freeze([...cfg.alpn]) });
}

function defaultWarn(msg: string): void {
  process.emitWarning(msg, { code: 'SWITCHYARD_TLS_NO_VERIFY' });
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read ${what} file "${file}": ${(e as Error).message}`);
  }
}

/** PoolOptions.options with the cluster's TLS settings added as `tls` (unchanged without `tls`). */
export function withUpstreamTls(
  base: Readonly<Record<string, unknown>> | undefined,
  cfg: { tls?: ClusterTlsConfig },
  warn?: (msg: string) => void,
): Readonly<Record<string, unknown>> | undefined {
  if (cfg.tls === undefined) return base;
  return Object.freeze({ ...base, tls: buildUpstreamTls(cfg.tls, warn) });
}

/** The TLS settings a pool was given, or null for plaintext. */
export function poolTls(options: PoolOptions): UpstreamTls | null {
  const t = options.options === undefined ? undefined : options.options.tls;
  return t === undefined || t === null ? null : (t as UpstreamTls);
}

/** The server name sent for `host`: the configured one, else the host unless it is an IP. */
export function serverNameFor(t: UpstreamTls, host: string): string | undefined {
  if (t.servername !== null) return t.servername;
  return net.isIP(host) === 0 ? host : undefined;
}

/** TLS options (no address) for tls.connect / http2.connect to `host` with `t`. */
export function tlsConnectOptions(t: UpstreamTls, host: string): tls.ConnectionOptions {
  const servername = serverNameFor(t, host);
  const o: tls.ConnectionOptions = {
    secureContext: t.secureContext,
    rejectUnauthorized: t.verify,
  };
  if (servername !== undefined) o.servername = servername;
  if (t.alpn.length > 0) o.ALPNProtocols = t.alpn as string[];
  // node checks the certificate against `servername` when set, else against the host (IP SANs).
  return o;
}

export interface EndpointSocket {
  readonly socket: net.Socket;
  /** Event after which the socket may carry requests. */
  readonly readyEvent: 'connect' | 'secureConnect';
}

/** Opens a connection to host:port, over TLS when `t` is given. Connect timeouts are the caller's (Clock). */
export function connectEndpoint(host: string, port: number, t: UpstreamTls | null): EndpointSocket {
  if (t === null) return { socket: net.connect({ host, port }), readyEvent: 'connect' };
  return { socket: tls.connect({ ...tlsConnectOptions(t, host), host, port }), readyEvent: 'secureConnect' };
}
