/**
 * Addresses in config: "host:port", "[::1]:80" (IPv6 in brackets), ":8080" (all interfaces,
 * host "0.0.0.0"). Owns only the parsing and formatting of one address.
 * Must never: resolve names, bind or connect, or know about config paths.
 */
import { isIPv6 } from 'node:net';
import type { Address } from './types';

/** Host used for ":port" — every IPv4 interface. */
export const ANY_HOST = '0.0.0.0';

const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

function parsePort(text: string, input: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new Error(`invalid port in address "${input}": expected a number 0-65535`);
  const port = Number(text);
  if (port > 65535) throw new Error(`invalid port in address "${input}": ${port} is above 65535`);
  return port;
}

/** Parses "host:port" | "[v6]:port" | ":port". Throws an Error explaining what was expected. */
export function parseAddress(input: string): Address {
  if (typeof input !== 'string') throw new Error('invalid address: expected a string "host:port"');
  const text = input.trim();
  if (text === '') throw new Error('invalid address "": expected "host:port"');
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new Error(`invalid address "${input}": missing "]" after IPv6 host`);
    const host = text.slice(1, close);
    if (!isIPv6(host)) throw new Error(`invalid address "${input}": "${host}" is not an IPv6 address`);
    if (text[close + 1] !== ':' || close + 2 >= text.length) {
      throw new Error(`invalid address "${input}": expected "[${host}]:port"`);
    }
    return { host, port: parsePort(text.slice(close + 2), input) };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new Error(`invalid address "${input}": expected "host:port" (port is required)`);
  if (text.indexOf(':') !== colon) {
    if (isIPv6(text) || isIPv6(text.slice(0, colon))) {
      throw new Error(`invalid address "${input}": write IPv6 hosts in brackets, like "[::1]:8080"`);
    }
    throw new Error(`invalid address "${input}": expected "host:port"`);
  }
  const hostText = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (portText === '') throw new Error(`invalid address "${input}": missing port after ":"`);
  const port = parsePort(portText, input);
  if (hostText === '') return { host: ANY_HOST, port };
  if (!HOSTNAME.test(hostText)) throw new Error(`invalid address "${input}": "${hostText}" is not a valid host`);
  return { host: hostText, port };
}

/** Formats an address back to "host:port" ("[v6]:port" for IPv6 hosts). */
export function formatAddress(a: Address): string {
  return isIPv6(a.host) ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
