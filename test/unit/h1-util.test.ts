/**
 * Test helper for the HTTP/1.1 parser tests: runs chunks through an H1Parser the way a connection owner
 * does (looping at message boundaries) and records every event. Must never: hide a parser error.
 */
import { H1Parser, H1Head, H1ParserHandler } from '../../src/http/h1/parser';

export interface Msg {
  head: H1Head;
  body: string;
  trailers: string[] | null;
  complete: boolean;
}

export interface ParseResult {
  msgs: Msg[];
  error: string | null;
  status: number;
  finish?: number;
}

class Recorder implements H1ParserHandler {
  msgs: Msg[] = [];
  cur: Msg | null = null;
  bodyParts: Buffer[] = [];
  onHead(head: H1Head): void {
    this.cur = { head, body: '', trailers: null, complete: false };
    this.msgs.push(this.cur);
    this.bodyParts = [];
  }
  onBody(chunk: Buffer): void {
    this.bodyParts.push(Buffer.from(chunk));
    if (this.cur) this.cur.body = Buffer.concat(this.bodyParts).toString('latin1');
  }
  onMessageComplete(trailers: string[] | null): void {
    if (this.cur) {
      this.cur.trailers = trailers;
      this.cur.complete = true;
    }
    this.cur = null;
  }
}

export function parseChunks(
  isResponse: boolean,
  chunks: Buffer[],
  opts: { maxHeaderBytes?: number; headRequest?: boolean; finish?: boolean } = {},
): ParseResult {
  const rec = new Recorder();
  const p = new H1Parser(isResponse, opts.maxHeaderBytes ?? 8192, rec);
  p.headRequest = opts.headRequest ?? false;
  for (const c of chunks) {
    let off = 0;
    let guard = 0;
    while (off < c.length) {
      if (++guard > c.length + 1000) throw new Error('parser made no progress');
      const r = p.execute(c, off);
      if (r < 0) return { msgs: rec.msgs, error: p.error!.code, status: p.error!.status };
      if (r < off || r > c.length) throw new Error(`bad offset ${r}`);
      off = r;
    }
  }
  const res: ParseResult = { msgs: rec.msgs, error: null, status: 0 };
  if (opts.finish) {
    res.finish = p.finish();
    if (res.finish < 0) {
      res.error = p.error!.code;
      res.status = p.error!.status;
    }
  }
  return res;
}

export function parseString(isResponse: boolean, s: string, opts?: Parameters<typeof parseChunks>[2]): ParseResult {
  return parseChunks(isResponse, [Buffer.from(s, 'latin1')], opts);
}

/** Comparable view of a result (heads reduced to the fields tests care about). */
export function summary(r: ParseResult): unknown {
  return {
    error: r.error,
    finish: r.finish,
    msgs: r.msgs.map((m) => ({
      method: m.head.method,
      target: m.head.target,
      status: m.head.status,
      v: m.head.versionMinor,
      headers: m.head.headers,
      cl: m.head.contentLength,
      chunked: m.head.chunked,
      ka: m.head.keepAlive,
      body: m.body,
      trailers: m.trailers,
      complete: m.complete,
    })),
  };
}

// This module is shared by the h1 unit tests; it is named *.test.ts only to stay inside the
// h1 test file pattern, so it carries one self-check of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
test('h1 test helper records a simple request', () => {
  const r = parseString(false, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.equal(r.error, null);
  assert.equal(r.msgs.length, 1);
  assert.equal(r.msgs[0].complete, true);
});
