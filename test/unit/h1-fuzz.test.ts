import { test } from 'node:test';
import assert from 'node:assert/strict';
import { H1Parser, H1Head } from '../../src/http/h1/parser';
import { parseChunks, summary } from '../fixtures/h1-util';
import { seededRandom as rng } from '../fixtures/random';

const VALID_REQ = [
  'GET /a HTTP/1.1\r\nHost: a\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789',
  'PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n5;x=y\r\ndefgh\r\n0\r\nT: v\r\n\r\n',
  'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
];
const VALID_RES = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n',
  'HTTP/1.1 204 No Content\r\n\r\n',
  'HTTP/1.1 200 OK\r\n\r\nclose-delimited',
];

interface Run {
  threw: unknown;
  overflow: boolean;
  steps: number;
}

/** Runs the chunks; checks offsets, progress and the declared-length bound on every message. */
function run(isResponse: boolean, chunks: Buffer[], finish: boolean): Run {
  let head: H1Head | null = null;
  let got = 0;
  let declared = Infinity;
  let overflow = false;
  const p = new H1Parser(isResponse, 4096, {
    onHead(h) {
      head = h;
      got = 0;
      declared = h.noBody ? 0 : h.contentLength >= 0 ? h.contentLength : Infinity;
    },
    onBody(c) {
      got += c.length;
      if (got > declared) overflow = true;
    },
    onMessageComplete() {
      if (head !== null && head.contentLength >= 0 && !head.noBody && got !== head.contentLength) overflow = true;
      head = null;
    },
  });
  let steps = 0;
  try {
    outer: for (const c of chunks) {
      let off = 0;
      while (off < c.length) {
        if (++steps > 100000) throw new Error('no progress');
        const r = p.execute(c, off);
        if (r < 0) break outer;
        if (r < off || r > c.length || (r === off && !p.isPaused)) throw new Error(`bad offset ${r} from ${off}`);
        off = r;
      }
    }
    if (finish) p.finish();
  } catch (e) {
    return { threw: e, overflow, steps };
  }
  return { threw: null, overflow, steps };
}

function randomSplits(r: () => number, b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    const n = 1 + Math.floor(r() * Math.min(40, b.length - i));
    out.push(b.subarray(i, i + n));
    i += n;
  }
  return out;
}

test('fuzz: random bytes never throw, never stall, never over-deliver', () => {
  const r = rng(1234);
  for (let iter = 0; iter < 3000; iter++) {
    const len = Math.floor(r() * 300);
    const b = Buffer.alloc(len);
    // Bias towards interesting bytes so the parser gets past the first checks sometimes.
    const alphabet = Buffer.from('GET POST HTTP/1.1 \r\n:0123456789abcdef;chunked-Content-Length Transfer-Encoding\t\x00\x7f\xff');
    for (let i = 0; i < len; i++) b[i] = r() < 0.7 ? alphabet[Math.floor(r() * alphabet.length)] : Math.floor(r() * 256);
    for (const isResponse of [false, true]) {
      const res = run(isResponse, randomSplits(r, b), r() < 0.5);
      assert.equal(res.threw, null, `iteration ${iter}: ${String(res.threw)}`);
      assert.equal(res.overflow, false, `iteration ${iter}: body beyond declared length`);
    }
  }
});

test('fuzz: truncations and random splits of valid messages', () => {
  const r = rng(99);
  for (const [isResponse, list] of [[false, VALID_REQ], [true, VALID_RES]] as const) {
    const all = Buffer.from(list.filter((m) => !m.includes('close-delimited')).join(''), 'latin1');
    const expected = summary(parseChunks(isResponse, [all]));
    for (let iter = 0; iter < 500; iter++) {
      const splits = randomSplits(r, all);
      assert.deepEqual(summary(parseChunks(isResponse, splits)), expected, `iteration ${iter}`);
      const cut = Math.floor(r() * all.length);
      const res = run(isResponse, randomSplits(r, all.subarray(0, cut)), true);
      assert.equal(res.threw, null);
      assert.equal(res.overflow, false);
    }
  }
});

test('fuzz: single-byte mutations of valid messages never throw or over-deliver', () => {
  const r = rng(7);
  for (const [isResponse, list] of [[false, VALID_REQ], [true, VALID_RES]] as const) {
    for (const m of list) {
      const base = Buffer.from(m, 'latin1');
      for (let iter = 0; iter < 400; iter++) {
        const b = Buffer.from(base);
        const n = 1 + Math.floor(r() * 3);
        for (let k = 0; k < n; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
        const res = run(isResponse, randomSplits(r, b), r() < 0.5);
        assert.equal(res.threw, null);
        assert.equal(res.overflow, false);
      }
    }
  }
});
