/**
 * Conformance suite for every registered RpcCodec: the frame-level contract the shared RPC layer
 * (src/rpc) relies on. Known protocol modules are loaded if present (protocols/<dir>/index); a
 * module may export `samples` — whole frames `request`, `oneWay`, `heartbeat`, `response`, and
 * optional `requests` / `responses` lists. Checks needing a request or response frame are skipped
 * for a codec without samples; the heartbeat and garbage checks run for every codec.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FrameError, FrameHeaderMap, HeaderMap, registry, type FrameInfo, type RpcCodec } from '../../src/api';
import { FrameReader } from '../../src/rpc/frame-reader';
import { seededRandom as rng } from '../fixtures/random';

interface Samples {
  request?: Buffer;
  oneWay?: Buffer;
  heartbeat?: Buffer;
  response?: Buffer;
  requests?: Buffer[];
  responses?: Buffer[];
}

const KNOWN_DIRS = ['example', 'dubbo', 'bolt'];
const samplesByCodec = new Map<string, Samples>();
for (const dir of KNOWN_DIRS) {
  const path = join(__dirname, '..', '..', 'protocols', dir, 'index.js');
  if (!existsSync(path)) continue;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(path) as { samples?: Samples };
  if (mod.samples !== undefined) samplesByCodec.set(dir, mod.samples);
}

function info(codec: RpcCodec, frame: Buffer): FrameInfo {
  const r = codec.peek(frame);
  assert.ok(r !== 'need-more' && !(r instanceof FrameError), `peek of a whole frame gave ${r instanceof FrameError ? r.code : r}`);
  return r;
}

function idOf(codec: RpcCodec, frame: Buffer): number {
  const id = codec.getRequestId(frame);
  return typeof id === 'bigint' ? Number(id) : id;
}

const rpcNames = registry.codecNames().filter((n) => registry.rpcCodec(n) !== undefined);

describe('RPC codec conformance', () => {
  it('finds at least the example codec', () => {
    assert.ok(rpcNames.includes('example'), `registered RPC codecs: ${rpcNames.join(', ')}`);
  });

  for (const name of rpcNames) {
    const codec = registry.rpcCodec(name)!;
    const s: Samples = samplesByCodec.get(name) ?? {};
    const wholeFrames: Array<[string, Buffer]> = [];
    if (s.request) wholeFrames.push(['request', s.request]);
    if (s.oneWay) wholeFrames.push(['oneWay', s.oneWay]);
    if (s.heartbeat) wholeFrames.push(['heartbeat', s.heartbeat]);
    if (s.response) wholeFrames.push(['response', s.response]);
    for (const f of s.requests ?? []) wholeFrames.push(['requests[]', f]);
    for (const f of s.responses ?? []) wholeFrames.push(['responses[]', f]);
    wholeFrames.push(['heartbeatRequest(7)', codec.heartbeatRequest(7)]);
    const noSamples = s.request === undefined ? 'no request sample exported' : false;

    describe(`codec ${name}`, () => {
      it('peek on a whole frame gives its length, whatever follows it', () => {
        for (const [label, f] of wholeFrames) {
          const i = info(codec, f);
          assert.equal(i.length, f.length, label);
          assert.ok(i.headerLength >= 0 && i.headerLength <= i.length, label);
          const more = info(codec, Buffer.concat([f, f]));
          assert.equal(more.length, f.length, `${label}: the next frame changes nothing`);
        }
      });

      it('sample kinds are what they say', { skip: noSamples }, () => {
        const r = info(codec, s.request!);
        assert.equal(r.kind, 'request');
        assert.equal(r.oneWay, false);
        if (s.oneWay) {
          const o = info(codec, s.oneWay);
          assert.equal(o.kind, 'request');
          assert.equal(o.oneWay, true);
        }
        if (s.heartbeat) assert.equal(info(codec, s.heartbeat).kind, 'heartbeat-request');
        if (s.response) assert.equal(info(codec, s.response).kind, 'response');
      });

      it('a frame split anywhere is need-more (or its header, with the same length), never an error', () => {
        for (const [label, f] of wholeFrames) {
          for (let cut = 0; cut < f.length; cut++) {
            const r = codec.peek(f.subarray(0, cut));
            if (r === 'need-more') continue;
            assert.ok(!(r instanceof FrameError), `${label} cut at ${cut}: ${r instanceof FrameError ? r.code : ''}`);
            assert.equal(r.length, f.length, `${label} cut at ${cut}`);
          }
        }
      });

      it('the frame reader reassembles frames split at random points', () => {
        const frames = wholeFrames.map(([, f]) => f);
        const all = Buffer.concat([...frames, ...frames]);
        const got: Buffer[] = [];
        const r = rng(name.length * 31 + 1);
        const reader = new FrameReader(codec, { onFrame: (f) => got.push(Buffer.from(f)), onFrameError: (_k, e) => assert.fail(e.message) });
        for (let off = 0; off < all.length; ) {
          const n = 1 + Math.floor(r() * 17);
          reader.push(all.subarray(off, off + n));
          off += n;
        }
        assert.equal(got.length, frames.length * 2);
        got.forEach((f, i) => assert.ok(f.equals(frames[i % frames.length])));
      });

      it('match() says yes to its own frames and no to HTTP', () => {
        const first = s.request ?? codec.heartbeatRequest(7);
        assert.equal(codec.match(first), 'yes');
        assert.equal(codec.match(Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n')), 'no');
      });

      it('request ids round-trip through setRequestId, touching nothing else', () => {
        for (const [label, f] of wholeFrames) {
          const copy = Buffer.from(f);
          codec.setRequestId(copy, 123456);
          assert.equal(idOf(codec, copy), 123456, label);
          assert.equal(info(codec, copy).length, f.length);
          codec.setRequestId(copy, codec.getRequestId(f));
          assert.ok(copy.equals(f), `${label}: setting the id back restores the frame`);
        }
      });

      it('a heartbeat is answered by a heartbeat response with the same id', () => {
        const hb = s.heartbeat ?? codec.heartbeatRequest(7);
        const hi = info(codec, hb);
        assert.equal(hi.kind, 'heartbeat-request');
        const resp = codec.heartbeatResponse(hb, hi);
        const ri = info(codec, resp);
        assert.equal(ri.kind, 'heartbeat-response');
        assert.equal(ri.length, resp.length);
        assert.equal(idOf(codec, resp), idOf(codec, hb));
        const own = codec.heartbeatRequest(99);
        assert.equal(info(codec, own).kind, 'heartbeat-request');
        assert.equal(idOf(codec, own), 99);
      });

      it('a local reply is a whole response frame with the request id and an error status', { skip: noSamples }, () => {
        const req = s.request!;
        const ri = info(codec, req);
        for (const [status, reason] of [
          [503, 'upstream_reset'],
          [404, 'no_route'],
          [504, 'timeout'],
          [400, 'bad_request'],
        ] as const) {
          const reply = codec.localReply(req, ri, { status, reason, details: `because ${reason}`, body: `${reason}\n` });
          const i = info(codec, reply);
          assert.equal(i.kind, 'response', reason);
          assert.equal(i.length, reply.length);
          assert.equal(idOf(codec, reply), idOf(codec, req));
          const h = codec.responseHeaders(reply, i);
          const st = Number(h.get(':status'));
          assert.ok(st >= 400 && st < 600, `${reason}: :status ${h.get(':status')}`);
        }
      });

      it('header views: requests carry routing keys, responses carry :status', { skip: noSamples }, () => {
        const req = s.request!;
        const h = codec.requestHeaders(req, info(codec, req));
        assert.ok(h instanceof FrameHeaderMap);
        assert.equal(h.dirty, false);
        assert.ok(h.get('service') !== undefined, 'request view has `service`');
        assert.equal(h.dirty, false, 'reading does not dirty the view');
        if (s.response) {
          const rh = codec.responseHeaders(s.response, info(codec, s.response));
          assert.equal(rh.get(':status'), '200');
        }
      });

      it('re-encoding a changed request keeps its id and kind', { skip: noSamples }, () => {
        const req = s.request!;
        const ri = info(codec, req);
        const h = codec.requestHeaders(req, ri);
        h.set('x-conformance', '1');
        const enc = codec.encodeRequest(req, ri, h, req.subarray(ri.headerLength));
        const ei = info(codec, enc);
        assert.equal(ei.kind, 'request');
        assert.equal(ei.length, enc.length);
        assert.equal(idOf(codec, enc), idOf(codec, req));
        assert.equal(codec.requestHeaders(enc, ei).get('service'), h.get('service'));
      });

      it('encodeResponse from the upstream response frame (same protocol) gives a response', { skip: s.response ? false : 'no response sample' }, () => {
        const resp = s.response!;
        const pi = info(codec, resp);
        const rh = codec.responseHeaders(resp, pi);
        rh.set('x-conformance', '1');
        const out = codec.encodeResponse(resp, pi, rh, resp.subarray(pi.headerLength));
        const oi = info(codec, out);
        assert.equal(oi.kind, 'response');
        assert.equal(oi.length, out.length);
        assert.equal(idOf(codec, out), idOf(codec, resp));
        assert.equal(codec.responseHeaders(out, oi).get(':status'), '200');
      });

      it('encodeResponse from the request frame (another protocol answered) gives a response', { skip: noSamples }, () => {
        const req = s.request!;
        const ri = info(codec, req);
        const head = new HeaderMap([':status', '200', 'content-type', 'application/octet-stream']);
        const payload = s.response ? s.response.subarray(info(codec, s.response).headerLength) : Buffer.alloc(0);
        const out = codec.encodeResponse(req, ri, head, payload);
        const oi = info(codec, out);
        assert.equal(oi.kind, 'response');
        assert.equal(oi.length, out.length);
        assert.equal(idOf(codec, out), idOf(codec, req));
        assert.equal(codec.responseHeaders(out, oi).get(':status'), '200');
        for (const [status, body] of [[503, ''], [404, 'not here']] as const) {
          const err = codec.encodeResponse(req, ri, new HeaderMap([':status', String(status)]), Buffer.from(body));
          const ei = info(codec, err);
          assert.equal(ei.kind, 'response', `status ${status}`);
          assert.equal(ei.length, err.length);
          assert.equal(idOf(codec, err), idOf(codec, req));
          const st = Number(codec.responseHeaders(err, ei).get(':status'));
          assert.ok(st >= 400 && st < 600, `head ${status} gave :status ${st}`);
        }
      });

      it('peek never throws on random or mutated input', () => {
        const r = rng(7);
        const bases = wholeFrames.map(([, f]) => f);
        for (let i = 0; i < 400; i++) {
          let b: Buffer;
          if (i % 2 === 0 && bases.length > 0) {
            b = Buffer.from(bases[i % bases.length]);
            for (let k = 0; k < 3; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
            b = b.subarray(0, Math.floor(r() * (b.length + 1)));
          } else {
            b = Buffer.alloc(Math.floor(r() * 64));
            for (let k = 0; k < b.length; k++) b[k] = Math.floor(r() * 256);
          }
          const res = codec.peek(b);
          if (res !== 'need-more' && !(res instanceof FrameError)) {
            assert.ok(Number.isSafeInteger(res.length) && res.length > 0, 'declared length is a positive integer');
            assert.ok(res.headerLength <= res.length);
          }
          codec.match(b);
        }
      });
    });
  }
});
