/**
 * FilterChainRunner's pass-through body path (no per-filter buffer until a filter buffers): what
 * a body hook sees as its buffered body, replacing a chunk that passes, buffering that starts
 * mid-stream, the limit on a first stop, and chunks queued behind held headers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap, type FilterContext, type StreamFilter } from '../../src/api';
import { FilterChainRunner, type ChainEvents, type ChainSink } from '../../src/proxy/filter-chain';

function rig(filters: StreamFilter[], max = 1024): { runner: FilterChainRunner; out: string[]; ctx: FilterContext } {
  const out: string[] = [];
  const sink: ChainSink = {
    headers: (_h, end) => out.push(`H:${end}`),
    data: (c, end) => out.push(`D:${c.toString()}:${end}`),
    trailers: () => out.push('T'),
  };
  const events: ChainEvents = {
    onFilterError: (e) => out.push(`E:${String(e)}`),
    onBufferOverflow: () => out.push('O'),
    pauseSource: () => {},
    resumeSource: () => {},
    isDone: () => false,
  };
  const r = { out } as { runner: FilterChainRunner; out: string[]; ctx: FilterContext };
  r.ctx = {
    bufferedBody: () => r.runner.bufferedBody(),
    setBufferedBody: (_d: string, b: Buffer) => r.runner.setBufferedBody(b),
    continueRequest: () => r.runner.resume(),
  } as unknown as FilterContext;
  r.runner = new FilterChainRunner('request', filters, r.ctx, sink, events, max);
  return r;
}

const b = (s: string) => Buffer.from(s);

describe('FilterChainRunner pass-through bodies', () => {
  it('a continuing body hook sees the chunk as its buffered body and can replace it', () => {
    const seen: string[] = [];
    const r = rig([
      {
        onRequestBody: (ctx, chunk) => {
          seen.push(ctx.bufferedBody('request').toString());
          if (chunk.toString() === 'b') ctx.setBufferedBody('request', b('B!'));
        },
      },
      { onRequestBody: (ctx) => void seen.push('2:' + ctx.bufferedBody('request').toString()) },
    ]);
    r.runner.headers(new HeaderMap(), false);
    r.runner.data(b('a'), false);
    r.runner.data(b('b'), true);
    assert.deepEqual(seen, ['a', '2:a', 'b', '2:B!']);
    assert.deepEqual(r.out, ['H:false', 'D:a:false', 'D:B!:true']);
    assert.equal(r.runner.bufferedBody().length, 0, 'outside a hook there is no current body');
    assert.throws(() => r.runner.setBufferedBody(b('x')), /only valid inside a body hook/);
  });

  it('buffering that starts mid-stream joins the chunks from the one that stopped', () => {
    const seen: string[] = [];
    const r = rig([
      {
        onRequestBody: (ctx, chunk, end) => {
          seen.push(ctx.bufferedBody('request').toString());
          return chunk.toString() === 'a' || end ? 'continue' : 'stop';
        },
      },
    ]);
    r.runner.headers(new HeaderMap(), false);
    r.runner.data(b('a'), false);
    r.runner.data(b('b'), false);
    r.runner.data(b('c'), false);
    r.runner.data(b('d'), true);
    assert.deepEqual(seen, ['a', 'b', 'bc', 'bcd']);
    assert.deepEqual(r.out, ['H:false', 'D:a:false', 'D:bcd:true']);
  });

  it('a body stop over the limit overflows even when nothing was buffered before', () => {
    const r = rig([{ onRequestBody: () => 'stop' }], 3);
    r.runner.headers(new HeaderMap(), false);
    r.runner.data(b('abcd'), false);
    assert.deepEqual(r.out, ['H:false', 'O']);
  });

  it('a chunk queued behind held headers reaches the body hook as its own body after resume', () => {
    let stopHeaders = true;
    const seen: string[] = [];
    const r = rig([
      { onRequestHeaders: () => (stopHeaders ? 'stop' : 'continue') },
      {
        onRequestBody: (ctx) => {
          seen.push(ctx.bufferedBody('request').toString());
        },
      },
    ]);
    r.runner.headers(new HeaderMap(), false);
    assert.deepEqual(r.out, []);
    stopHeaders = false;
    r.runner.data(b('q'), false); // queued behind the held headers
    r.runner.resume();
    r.runner.data(b('z'), true);
    assert.deepEqual(seen, ['q', 'z']);
    assert.deepEqual(r.out, ['H:false', 'D:q:false', 'D:z:true']);
  });
});
