/**
 * proxy_get_property: the attribute paths plugins read (request.*, response.*, source.*,
 * destination.*, connection.*, upstream.*, cluster_name, route_name, plugin_*), encoded as Envoy
 * does — strings raw, integers as 8-byte little-endian i64, booleans as one byte, maps in the
 * header-pairs format. Path segments are NUL-separated (dots are accepted too).
 * Must never: mutate the stream.
 */
import type { FilterContext } from '../api';
import { mapEncoding, serializePairs } from './memory';

export interface PluginIdentity {
  readonly name: string;
  readonly rootId: string;
  readonly vmId: string;
}

export type PropertyValue = Buffer | undefined;

function i64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(Math.trunc(n)), 0);
  return b;
}

function str(s: string | undefined | null): PropertyValue {
  return s === undefined || s === null ? undefined : Buffer.from(s, 'utf8');
}

function bool(v: boolean): Buffer {
  return Buffer.from([v ? 1 : 0]);
}

/** Normalizes `a\0b` and `a.b` to `a.b`. */
export function propertyKey(raw: string): string {
  let s = raw;
  if (s.endsWith('\u0000')) s = s.slice(0, -1);
  return s.includes('\u0000') ? s.split('\u0000').join('.') : s;
}

const PROTOCOLS: Record<string, string> = { 'http/1.1': 'HTTP/1.1', 'http/1.0': 'HTTP/1.0', h2: 'HTTP/2', h2c: 'HTTP/2' };

function pathOnly(p: string | undefined): string | undefined {
  if (p === undefined) return undefined;
  const q = p.indexOf('?');
  return q < 0 ? p : p.slice(0, q);
}

/** The value of `key` (normalized) for `ctx` (null in a root context), or undefined. */
export function getProperty(key: string, ctx: FilterContext | null, plugin: PluginIdentity): PropertyValue {
  switch (key) {
    case 'plugin_name':
      return str(plugin.name);
    case 'plugin_root_id':
      return str(plugin.rootId);
    case 'plugin_vm_id':
      return str(plugin.vmId);
  }
  if (ctx === null) return undefined;
  const h = ctx.requestHeaders;
  const c = ctx.connection;
  switch (key) {
    case 'request.path':
      return str(h.get(':path'));
    case 'request.url_path':
      return str(pathOnly(h.get(':path')));
    case 'request.query': {
      const p = h.get(':path');
      const q = p === undefined ? -1 : p.indexOf('?');
      return p === undefined ? undefined : str(q < 0 ? '' : p.slice(q + 1));
    }
    case 'request.host':
      return str(h.get(':authority'));
    case 'request.scheme':
      return str(h.get(':scheme'));
    case 'request.method':
      return str(h.get(':method'));
    case 'request.id':
      return str(ctx.requestId);
    case 'request.protocol':
      return str(PROTOCOLS[ctx.protocol] ?? ctx.protocol);
    case 'request.useragent':
      return str(h.get('user-agent'));
    case 'request.referer':
      return str(h.get('referer'));
    case 'request.headers':
      return serializePairs(h.raw(), mapEncoding(h));
    case 'request.time':
      return i64((ctx.clock.wallNow() - (ctx.clock.now() - ctx.startTime)) * 1e6);
    case 'request.duration':
      return i64((ctx.clock.now() - ctx.startTime) * 1e6);
    case 'response.code': {
      const s = ctx.responseHeaders?.get(':status');
      return s === undefined ? undefined : i64(Number(s));
    }
    case 'response.headers':
      return ctx.responseHeaders === null ? undefined : serializePairs(ctx.responseHeaders.raw(), mapEncoding(ctx.responseHeaders));
    case 'source.address':
      return str(`${c.remoteAddress}:${c.remotePort}`);
    case 'source.port':
      return i64(c.remotePort);
    case 'destination.address':
      return str(`${c.localAddress}:${c.localPort}`);
    case 'destination.port':
      return i64(c.localPort);
    case 'connection.id':
      return i64(c.id);
    case 'connection.tls':
      return bool(c.tls);
    case 'connection.mtls':
      return bool(c.peerSans !== undefined && c.peerSans.length > 0);
    case 'connection.requested_server_name':
      return str(c.sni ?? '');
    case 'connection.uri_san_peer_certificate':
    case 'connection.dns_san_peer_certificate':
      return c.peerSans === undefined || c.peerSans.length === 0 ? undefined : str(c.peerSans[0]);
    case 'upstream.address':
      return str(ctx.upstreamAddress);
    case 'cluster_name':
    case 'xds.cluster_name':
      return str(ctx.route?.cluster ?? null);
    case 'route_name':
    case 'xds.route_name':
      return str(ctx.route?.name ?? null);
    case 'listener_name':
    case 'xds.listener_name':
      return str(ctx.listener);
  }
  if (key.startsWith('request.headers.')) return str(h.getAll(key.slice(16).toLowerCase()).join(',') || undefined);
  return undefined;
}
