/**
 * Benchmark upstream: an HTTP/1.1 server on raw `net` that answers every request with a fixed
 * 200 response and a fixed-size body (default 100 bytes), keep-alive, so that the upstream is never
 * the bottleneck of a proxy benchmark. It parses just enough of HTTP/1.1 to be correct for what
 * proxies and wrk send: requests are delimited by CRLFCRLF, pipelined requests each get a response
 * (in order, written in one batch), Content-Length request bodies are skipped, `Connection: close`
 * and HTTP/1.0 without keep-alive close after the response, HEAD gets no body, chunked request
 * bodies and oversized heads are refused with a 4xx and a close.
 *
 * Usage (as a child process): node http1-upstream.js <port> [bodyBytes] [host]
 * Prints "listening <port>" on stdout once bound. Must never: buffer without bound.
 */

import { createServer, type Socket } from 'node:net';

const MAX_HEAD = 64 * 1024;

function response(status: string, body: Buffer, close: boolean, head: boolean): Buffer {
  const h =
    `HTTP/1.1 ${status}\r\nServer: bench-upstream\r\nContent-Type: text/plain\r\n` +
    `Content-Length: ${body.length}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
  return head ? Buffer.from(h, 'latin1') : Buffer.concat([Buffer.from(h, 'latin1'), body]);
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** Case-insensitive compare of buf[at..] with a lower-case ASCII name followed by ':'. */
function headerIs(buf: Buffer, at: number, end: number, lname: string): boolean {
  const n = lname.length;
  if (at + n >= end || buf[at + n] !== 0x3a /* : */) return false;
  for (let i = 0; i < n; i++) {
    if ((buf[at + i] | 0x20) !== lname.charCodeAt(i)) return false;
  }
  return true;
}

function headerValue(buf: Buffer, from: number, lineEnd: number): string {
  return buf.toString('latin1', from, lineEnd).trim().toLowerCase();
}

interface Head {
  contentLength: number;
  chunked: boolean;
  close: boolean;
  isHead: boolean;
  bad: boolean;
}

/** Inspects the request head buf[start, end) (end points at the CRLFCRLF). */
function inspectHead(buf: Buffer, start: number, end: number): Head {
  const r: Head = { contentLength: 0, chunked: false, close: false, isHead: false, bad: false };
  let lineEnd = buf.indexOf(0x0d, start);
  if (lineEnd < 0 || lineEnd > end) lineEnd = end;
  r.isHead = buf[start] === 0x48 && buf[start + 1] === 0x45 && buf[start + 2] === 0x41 && buf[start + 3] === 0x44 && buf[start + 4] === 0x20;
  // "... HTTP/1.0" at the end of the request line
  const http10 = lineEnd - start >= 8 && buf[lineEnd - 1] === 0x30 && buf[lineEnd - 3] === 0x31 && buf[lineEnd - 2] === 0x2e;
  let keepAlive10 = false;
  let pos = lineEnd + 2;
  while (pos < end) {
    let le = buf.indexOf(0x0d, pos);
    if (le < 0 || le > end) le = end;
    const c = buf[pos] | 0x20;
    if (c === 0x63 /* c */) {
      if (headerIs(buf, pos, le, 'content-length')) {
        const v = Number(headerValue(buf, pos + 15, le));
        if (!Number.isInteger(v) || v < 0) r.bad = true;
        else r.contentLength = v;
      } else if (headerIs(buf, pos, le, 'connection')) {
        const v = headerValue(buf, pos + 11, le);
        if (v.includes('close')) r.close = true;
        if (v.includes('keep-alive')) keepAlive10 = true;
      }
    } else if (c === 0x74 /* t */ && headerIs(buf, pos, le, 'transfer-encoding')) {
      if (headerValue(buf, pos + 18, le) !== 'identity') r.chunked = true;
    }
    pos = le + 2;
  }
  if (http10 && !keepAlive10) r.close = true;
  return r;
}

export function startUpstream(port: number, host: string, bodyBytes: number, onListening: (port: number) => void): void {
  const body = Buffer.alloc(bodyBytes, 'x'.charCodeAt(0));
  const OK = response('200 OK', body, false, false);
  const OK_CLOSE = response('200 OK', body, true, false);
  const OK_HEAD = response('200 OK', body, false, true);
  const OK_HEAD_CLOSE = response('200 OK', body, true, true);
  const BAD = response('400 Bad Request', Buffer.from('bad request\n'), true, false);
  const TOO_BIG = response('431 Request Header Fields Too Large', Buffer.from('too large\n'), true, false);
  const NO_CHUNKED = response('411 Length Required', Buffer.from('chunked request bodies not supported\n'), true, false);

  const server = createServer({ noDelay: true }, (sock: Socket) => {
    let pending: Buffer | null = null; // unconsumed bytes
    let skip = 0; // request body bytes still to discard
    let closed = false;
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      if (closed) return;
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = null;
      let pos = 0;
      const out: Buffer[] = [];
      while (pos < buf.length) {
        if (skip > 0) {
          const n = Math.min(skip, buf.length - pos);
          skip -= n;
          pos += n;
          continue;
        }
        const end = buf.indexOf(CRLFCRLF, pos);
        if (end < 0) {
          if (buf.length - pos > MAX_HEAD) {
            out.push(TOO_BIG);
            closed = true;
          } else {
            pending = buf.subarray(pos);
          }
          break;
        }
        const h = inspectHead(buf, pos, end);
        pos = end + 4;
        if (h.bad) {
          out.push(BAD);
          closed = true;
          break;
        }
        if (h.chunked) {
          out.push(NO_CHUNKED);
          closed = true;
          break;
        }
        skip = h.contentLength;
        out.push(h.isHead ? (h.close ? OK_HEAD_CLOSE : OK_HEAD) : h.close ? OK_CLOSE : OK);
        if (h.close) {
          closed = true;
          break;
        }
      }
      if (pending && pending.buffer === chunk.buffer && pending.length < 4096) {
        pending = Buffer.from(pending); // don't pin a large socket chunk for a small remainder
      }
      if (out.length === 1) sock.write(out[0]);
      else if (out.length > 1) sock.write(Buffer.concat(out));
      if (closed) sock.end();
    });
  });
  server.on('error', (err) => {
    process.stderr.write(`upstream: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(port, host, () => {
    const addr = server.address();
    onListening(typeof addr === 'object' && addr ? addr.port : port);
  });
}

if (require.main === module) {
  const port = Number(process.argv[2] ?? 0);
  const bodyBytes = Number(process.argv[3] ?? 100);
  const host = process.argv[4] ?? '127.0.0.1';
  startUpstream(port, host, bodyBytes, (p) => process.stdout.write(`listening ${p}\n`));
  process.on('SIGTERM', () => process.exit(0));
}
