/**
 * The certificate set of one TLS listener: reads the PEM files named by a ListenerTlsConfig and
 * builds one SecureContext per certificate, indexed by exact server name and by wildcard suffix,
 * plus the default one. Also the SAN parser for client certificates.
 * Must never: keep half a set (building either returns a whole new set or throws an Error
 * naming the file that failed), or touch sockets.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { ListenerTlsConfig } from '../config/types';

export interface CertificateSet {
  /** Lower-case exact server name → context. */
  readonly exact: ReadonlyMap<string, SecureContext>;
  /** ".suffix" (from "*.suffix") → context. */
  readonly wildcard: ReadonlyMap<string, SecureContext>;
  /** The default certificate's context options (a tls.Server is created with them). */
  readonly defaultOptions: SecureContextOptions;
  readonly defaultContext: SecureContext;
  /** Every file the set was built from (watched for changes). */
  readonly files: readonly string[];
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read ${what} file "${file}": ${(e as Error).message}`);
  }
}

/** Builds every context of `cfg`; throws an Error naming the file on any failure. */
export function buildCertificateSet(cfg: ListenerTlsConfig): CertificateSet {
  const files: string[] = [];
  let ca: Buffer | undefined;
  if (cfg.client_auth.mode !== 'none' && cfg.client_auth.ca !== undefined) {
    ca = readPem(cfg.client_auth.ca, 'client CA');
    files.push(cfg.client_auth.ca);
  }
  const exact = new Map<string, SecureContext>();
  const wildcard = new Map<string, SecureContext>();
  let defaultOptions: SecureContextOptions | null = null;
  let defaultContext: SecureContext | null = null;
  cfg.certificates.forEach((c, i) => {
    const options: SecureContextOptions = {
      cert: readPem(c.cert, 'certificate'),
      key: readPem(c.key, 'key'),
      minVersion: cfg.min_version,
    };
    // Every context carries the client CA: the verify store of the context chosen by SNI is used.
    if (ca !== undefined) options.ca = ca;
    let ctx: SecureContext;
    try {
      ctx = createSecureContext(options);
    } catch (e) {
      throw new Error(`certificate "${c.cert}" with key "${c.key}": ${(e as Error).message}`);
    }
    files.push(c.cert, c.key);
    for (const name of c.sni) {
      if (name.startsWith('*.')) wildcard.set(name.slice(1), ctx);
      else exact.set(name, ctx);
    }
    if (i === cfg.default_certificate) {
      defaultOptions = options;
      defaultContext = ctx;
    }
  });
  if (defaultOptions === null || defaultContext === null) throw new Error('no default certificate');
  return { exact, wildcard, defaultOptions, defaultContext, files };
}

/** The context for a client's SNI: exact name, then "*.parent", else null. */
export function contextForName(set: CertificateSet, servername: string): SecureContext | null {
  const name = servername.toLowerCase();
  const hit = set.exact.get(name);
  if (hit !== undefined) return hit;
  const dot = name.indexOf('.');
  if (dot > 0 && set.wildcard.size > 0) {
    const w = set.wildcard.get(name.slice(dot));
    if (w !== undefined) return w;
  }
  return null;
}

/**
 * DNS and URI entries of a `subjectaltname` string as node formats it
 * ("DNS:a.example, URI:spiffe://x, IP Address:1.2.3.4"; values with commas or quotes are JSON
 * strings). Other entry types are left out.
 */
export function parseSubjectAltNames(s: string | undefined): string[] {
  const out: string[] = [];
  if (s === undefined || s === '') return out;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const colon = s.indexOf(':', i);
    if (colon < 0) break;
    const type = s.slice(i, colon).trim();
    let j = colon + 1;
    let value: string;
    if (s.charCodeAt(j) === 34 /* " */) {
      // A JSON string: find its closing quote, skipping escapes.
      let k = j + 1;
      while (k < n && s.charCodeAt(k) !== 34) k += s.charCodeAt(k) === 92 ? 2 : 1;
      try {
        value = JSON.parse(s.slice(j, k + 1)) as string;
      } catch {
        value = s.slice(j + 1, k);
      }
      j = k + 1;
      const comma = s.indexOf(',', j);
      i = comma < 0 ? n : comma + 1;
    } else {
      const comma = s.indexOf(', ', j);
      const end = comma < 0 ? n : comma;
      value = s.slice(j, end);
      i = comma < 0 ? n : comma + 2;
    }
    if (type === 'DNS' || type === 'URI') out.push(value);
  }
  return out;
}
