/**
 * Readers for a listener's and a cluster's `tls` sections: keys, defaults (ALPN by protocol,
 * TLSv1.2, client_auth none, verify true), server names lower-cased and checked, and every file
 * named (certificate, key, CA) read and parsed here so that a missing, unreadable or invalid PEM
 * file, or a key that does not match its certificate, is a config error with its path at load /
 * validate time. Paths are resolved against the config's directory.
 * Must never: keep file contents in the config (only absolute paths), or build runtime TLS state
 * (src/listener/tls-*.ts and src/upstream/connect.ts do).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { ClusterTlsConfig, ListenerTlsConfig, TlsCertificateConfig } from './types';
import { checkString, indexPath, readObject, type Issues, type Reader } from './schema';

export const LISTENER_TLS_KEYS = ['certificates', 'default_certificate', 'alpn', 'min_version', 'client_auth', 'on_unknown_sni'] as const;
export const CERTIFICATE_KEYS = ['cert', 'key', 'sni'] as const;
export const CLIENT_AUTH_KEYS = ['mode', 'ca', 'allowed_sans'] as const;
export const CLUSTER_TLS_KEYS = ['sni', 'ca', 'verify', 'cert', 'key', 'alpn'] as const;
export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export const CLIENT_AUTH_MODES = ['none', 'optional', 'required'] as const;

const NAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/** ALPN offered by a listener when the config names none. */
export function defaultListenerAlpn(protocol: string): string[] {
  if (protocol === 'http') return ['h2', 'http/1.1'];
  if (protocol === 'http2') return ['h2'];
  return [];
}

/** ALPN offered to upstreams when the config names none. */
export function defaultClusterAlpn(protocol: string): string[] {
  if (protocol === 'http2') return ['h2'];
  if (protocol === 'http') return ['http/1.1'];
  return [];
}

/**
 * A TLS server name: lower-cased; "*.suffix" only when `wildcard` (one leading label). Returns
 * undefined after recording an issue.
 */
export function readServerName(issues: Issues, path: string, v: unknown, wildcard: boolean): string | undefined {
  const s = checkString(issues, path, v, true);
  if (s === undefined) return undefined;
  const name = s.trim().toLowerCase().replace(/\.$/, '');
  const bare = wildcard && name.startsWith('*.') ? name.slice(2) : name;
  if (!NAME.test(bare) || /^[0-9.]+$/.test(bare)) {
    const hint = wildcard ? 'a DNS name or "*.suffix"' : 'a DNS name';
    issues.add(path, `invalid server name ${JSON.stringify(s)}: expected ${hint}`);
    return undefined;
  }
  return name;
}

function readFileAt(issues: Issues, path: string, file: string, what: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message;
    issues.add(path, `cannot read ${what} file "${file}": ${why}`);
    return undefined;
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM bundle parses; at least one. */
function checkCertificates(issues: Issues, path: string, file: string, pem: Buffer, what: string): boolean {
  const blocks = pem.toString('latin1').match(PEM_CERT);
  if (blocks === null) {
    issues.add(path, `${what} file "${file}" holds no PEM certificate`);
    return false;
  }
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch (e) {
      issues.add(path, `${what} file "${file}" holds an invalid certificate: ${(e as Error).message}`);
      return false;
    }
  }
  return true;
}

function checkKey(issues: Issues, path: string, file: string, pem: Buffer): boolean {
  try {
    createPrivateKey(pem);
    return true;
  } catch (e) {
    issues.add(path, `key file "${file}" holds no valid PEM private key: ${(e as Error).message}`);
    return false;
  }
}

/** Resolves a path option against baseDir (a non-empty string), or undefined after an issue. */
function filePath(issues: Issues, r: Reader, key: string, baseDir: string, required: boolean): string | undefined {
  const v = r.string(key, { required, nonEmpty: true });
  if (v === undefined) return undefined;
  return isAbsolute(v) ? v : resolve(baseDir, v);
}

/** Reads and checks a CA bundle file option; returns its absolute path. */
function readCaFile(issues: Issues, r: Reader, key: string, baseDir: string, required: boolean): string | undefined {
  const file = filePath(issues, r, key, baseDir, required);
  if (file === undefined) return undefined;
  const pem = readFileAt(issues, r.at(key), file, 'CA');
  if (pem === undefined || !checkCertificates(issues, r.at(key), file, pem, 'CA')) return undefined;
  return file;
}

/**
 * Reads a cert + key pair (both required, or neither when `optional`); checks both files and
 * that the key belongs to the certificate. Returns the absolute paths, or undefined.
 */
function readPair(issues: Issues, r: Reader, baseDir: string, optional: boolean): { cert: string; key: string } | undefined {
  if (optional && !r.has('cert') && !r.has('key')) return undefined;
  if (optional && r.has('cert') !== r.has('key')) {
    issues.add(r.at(r.has('cert') ? 'key' : 'cert'), 'required with ' + (r.has('cert') ? 'cert' : 'key'));
    return undefined;
  }
  const cert = filePath(issues, r, 'cert', baseDir, true);
  const key = filePath(issues, r, 'key', baseDir, true);
  const certPem = cert === undefined ? undefined : readFileAt(issues, r.at('cert'), cert, 'certificate');
  const keyPem = key === undefined ? undefined : readFileAt(issues, r.at('key'), key, 'key');
  const certOk = certPem !== undefined && checkCertificates(issues, r.at('cert'), cert!, certPem, 'certificate');
  const keyOk = keyPem !== undefined && checkKey(issues, r.at('key'), key!, keyPem);
  if (!certOk || !keyOk) return undefined;
  try {
    createSecureContext({ cert: certPem, key: keyPem });
  } catch (e) {
    issues.add(r.path, `key "${key}" does not match certificate "${cert}": ${(e as Error).message}`);
    return undefined;
  }
  return { cert: cert!, key: key! };
}

function readAlpn(issues: Issues, r: Reader, dflt: string[]): string[] {
  const list = r.array('alpn');
  if (list === undefined) return [...dflt];
  const out: string[] = [];
  list.forEach((v, i) => {
    const at = indexPath(r.at('alpn'), i);
    const s = checkString(issues, at, v, true);
    if (s === undefined) return;
    if (Buffer.byteLength(s) > 255) issues.add(at, 'an ALPN protocol name is at most 255 bytes');
    else if (out.includes(s)) issues.add(at, `duplicate ALPN protocol ${JSON.stringify(s)}`);
    else out.push(s);
  });
  return out;
}

function readStringList(issues: Issues, r: Reader, key: string): string[] {
  const list = r.array(key) ?? [];
  const out: string[] = [];
  list.forEach((v, i) => {
    const s = checkString(issues, indexPath(r.at(key), i), v, true);
    if (s !== undefined) out.push(s);
  });
  return out;
}

function readCertificates(issues: Issues, r: Reader, baseDir: string): TlsCertificateConfig[] {
  const list = r.array('certificates', { required: true, nonEmpty: 'needs at least one certificate' }) ?? [];
  const out: TlsCertificateConfig[] = [];
  const names = new Map<string, string>();
  list.forEach((raw, i) => {
    const c = readObject(issues, indexPath(r.at('certificates'), i), raw, CERTIFICATE_KEYS);
    if (!c) return;
    const pair = readPair(issues, c, baseDir, false);
    const sni: string[] = [];
    const sniList = c.has('sni') && typeof c.get('sni') === 'string' ? [c.get('sni')] : (c.array('sni') ?? []);
    sniList.forEach((v, j) => {
      const at = Array.isArray(c.get('sni')) ? indexPath(c.at('sni'), j) : c.at('sni');
      const name = readServerName(issues, at, v, true);
      if (name === undefined) return;
      const first = names.get(name);
      if (first !== undefined) issues.add(at, `server name "${name}" is already served by ${first}`);
      else {
        names.set(name, c.path);
        sni.push(name);
      }
    });
    if (pair !== undefined) out.push({ cert: pair.cert, key: pair.key, sni });
  });
  return out;
}

/** A listener's `tls` section. `protocol` picks the default ALPN. */
export function readListenerTls(issues: Issues, r: Reader, protocol: string, baseDir: string): ListenerTlsConfig {
  const certificates = readCertificates(issues, r, baseDir);
  const count = Array.isArray(r.get('certificates')) ? (r.get('certificates') as unknown[]).length : 0;
  const default_certificate = r.int('default_certificate', 0, { min: 0, max: Math.max(0, count - 1) }) ?? 0;
  const client_auth: ListenerTlsConfig['client_auth'] = { mode: 'none', allowed_sans: [] };
  const ca = r.object('client_auth', CLIENT_AUTH_KEYS);
  if (ca) {
    client_auth.mode = ca.oneOf('mode', CLIENT_AUTH_MODES, 'none') ?? 'none';
    const file = readCaFile(issues, ca, 'ca', baseDir, client_auth.mode !== 'none');
    if (file !== undefined) client_auth.ca = file;
    client_auth.allowed_sans = readStringList(issues, ca, 'allowed_sans');
    if (client_auth.mode === 'none' && client_auth.allowed_sans.length > 0) {
      issues.add(ca.at('allowed_sans'), 'needs mode optional or required');
    }
  }
  return {
    certificates,
    default_certificate,
    alpn: readAlpn(issues, r, defaultListenerAlpn(protocol)),
    min_version: r.oneOf('min_version', TLS_VERSIONS, 'TLSv1.2') ?? 'TLSv1.2',
    client_auth,
    on_unknown_sni: r.oneOf('on_unknown_sni', ['default', 'reject'] as const, 'default') ?? 'default',
  };
}

/** A cluster's `tls` section. `protocol` picks the default ALPN. */
export function readClusterTls(issues: Issues, r: Reader, protocol: string, baseDir: string): ClusterTlsConfig {
  const out: ClusterTlsConfig = { verify: r.boolean('verify', true) ?? true, alpn: readAlpn(issues, r, defaultClusterAlpn(protocol)) };
  if (r.has('sni')) {
    const name = readServerName(issues, r.at('sni'), r.get('sni'), false);
    if (name !== undefined) out.sni = name;
  }
  const ca = readCaFile(issues, r, 'ca', baseDir, false);
  if (ca !== undefined) out.ca = ca;
  if (ca !== undefined && !out.verify) issues.add(r.at('ca'), 'a CA is pointless with verify: false');
  const pair = readPair(issues, r, baseDir, true);
  if (pair !== undefined) {
    out.cert = pair.cert;
    out.key = pair.key;
  }
  return out;
}

