/**
 * HTTP/1.1 serialization: status lines, request lines, header field lines, chunk framing and
 * trailer sections, each built as one latin1 string.
 * Owns: turning HeaderMaps into wire text and refusing to write anything that could split a
 * message (a name that is not a token, a value with CR/LF/CTL is dropped, never written).
 * Must never: choose framing (connections do) or write pseudo-headers / hop-by-hop fields.
 */
import { STATUS_CODES } from 'node:http';
import type { HeaderMap } from '../../api/headers';
import { isToken, isFieldValue } from './chars';
import { isHopByHop } from './headers';

const statusLines: string[] = [];

/** "HTTP/1.1 200 OK\r\n", cached per status. */
export function statusLine(status: number): string {
  let s = statusLines[status];
  if (s === undefined) {
    s = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    if (status >= 100 && status < 1000) statusLines[status] = s;
  }
  return s;
}

/** Counts fields refused by the serializer (for tests and debugging). */
export const serializeStats = { droppedFields: 0 };

/**
 * Field lines for `headers`: skips pseudo-headers, hop-by-hop/framing fields, `host` when
 * `skipHost`, `content-length` when `skipContentLength`, and any invalid name or value.
 */
export function fieldLines(headers: HeaderMap, skipContentLength: boolean, skipHost: boolean): string {
  const kv = headers.raw();
  let out = '';
  for (let i = 0; i < kv.length; i += 2) {
    const name = kv[i];
    if (name.charCodeAt(0) === 0x3a || isHopByHop(name)) continue;
    if (skipContentLength && name === 'content-length') continue;
    if (skipHost && name === 'host') continue;
    const value = kv[i + 1];
    if (!isToken(name) || !isFieldValue(value)) {
      serializeStats.droppedFields++;
      continue;
    }
    out += name + ': ' + value + '\r\n';
  }
  return out;
}

/** Parses a Content-Length value a HeaderMap carries: plain digits, else -1. */
export function parseLength(v: string | undefined): number {
  if (v === undefined || v.length === 0 || v.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** "1a\r\n" for a chunk of 26 bytes. */
export function chunkHeader(len: number): string {
  return len.toString(16) + '\r\n';
}

/** Last chunk plus trailer section: "0\r\n" fields "\r\n". */
export function lastChunk(trailers: HeaderMap | null | undefined): string {
  if (trailers === null || trailers === undefined || trailers.size === 0) return '0\r\n\r\n';
  return '0\r\n' + fieldLines(trailers, true, true) + '\r\n';
}
