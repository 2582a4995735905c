/**
 * FilterChainRunner: continue, stop and resume, Promise results, body buffering and replacement,
 * trailers after buffered data, buffer limits, throwing filters, and queueing while held.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap, type FilterContext, type FilterStatus, type StreamFilter } from '../../src/api';
import { FilterChainRunner, type ChainEvents, type ChainSink } from '../../src/proxy/filter-chain';

interface Rig {
  runner: FilterChainRunner;
  out: string[];
  errors: unknown[];
  overflow: number;
  paused: number;
  resumed: number;
}

function rig(filters: StreamFilter[], max = 1024): Rig {
  const r = { out: [] as string[], errors: [] as unknown[], overflow: 0, paused: 0, resumed: 0 } as Rig;
  let done = false;
  const sink: ChainSink = {
    headers: (h, end) => r.out.push(`H:${h.get('x') ?? ''}:${end}`),
    data: (c, end) => r.out.push(`D:${c.toString()}:${end}`),
    trailers: (t) => r.out.push(`T:${t.get('t') ?? ''}`),
  };
  const events: ChainEvents = {
    onFilterError: (e) => {
      r.errors.push(e);
      done = true;
    },
    onBufferOverflow: () => {
      r.overflow++;
      done = true;
    },
    pauseSource: () => r.paused++,
    resumeSource: () => r.resumed++,
    isDone: () => done,
  };
  const ctx = {
    bufferedBody: () => r.runner.bufferedBody(),
    setBufferedBody: (_d: string, b: Buffer) => r.runner.setBufferedBody(b),
  } as unknown as FilterContext;
  r.runner = new FilterChainRunner('request', filters, ctx, sink, events, max);
  return r;
}

const h = (x = '') => HeaderMap.from({ x });
const b = (s: string) => Buffer.from(s);

describe('FilterChainRunner', () => {
  it('passes everything through filters that continue (or return nothing)', () => {
    const r = rig([{ onRequestHeaders: () => 'continue' }, {}, { onRequestBody: () => undefined }]);
    r.runner.headers(h('1'), false);
    r.runner.data(b('ab'), false);
    r.runner.data(b('c'), true);
    assert.deepEqual(r.out, ['H:1:false', 'D:ab:false', 'D:c:true']);
  });

  it('runs header hooks in order and lets a filter change headers', () => {
    const seen: string[] = [];
    const r = rig([
      { onRequestHeaders: (_c, hs) => void (seen.push('a'), hs.set('x', 'A')) },
      { onRequestHeaders: (_c, hs) => void (seen.push(`b${hs.get('x')}`)) },
    ]);
    r.runner.headers(h(), true);
    assert.deepEqual(seen, ['a', 'bA']);
    assert.deepEqual(r.out, ['H:A:true']);
  });

  it('holds on stop, queues body and trailers, and resumes in order', () => {
    const r = rig([{ onRequestHeaders: () => 'stop' }, { onRequestHeaders: (_c, hs) => void hs.set('x', 'second') }]);
    r.runner.headers(h(), false);
    r.runner.data(b('1'), false);
    r.runner.trailers(HeaderMap.from({ t: 'z' }));
    assert.deepEqual(r.out, []);
    r.runner.resume();
    assert.deepEqual(r.out, ['H:second:false', 'D:1:false', 'T:z']);
  });

  it('waits for a Promise and continues where it left off', async () => {
    let release!: (s: FilterStatus) => void;
    const r = rig([
      { onRequestHeaders: () => new Promise<FilterStatus>((res) => (release = res)) },
      { onRequestHeaders: (_c, hs) => void hs.set('x', 'after') },
    ]);
    r.runner.headers(h(), false);
    r.runner.data(b('q'), true);
    assert.deepEqual(r.out, []);
    release('continue');
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(r.out, ['H:after:false', 'D:q:true']);
  });

  it('buffers body chunks while a body hook stops, then releases them as one (possibly replaced)', () => {
    const r = rig([
      {
        onRequestBody: (ctx, _chunk, end) => {
          if (!end) return 'stop';
          assert.equal(ctx.bufferedBody('request').toString(), 'abc');
          ctx.setBufferedBody('request', b('ABC!'));
          return 'continue';
        },
      },
    ]);
    r.runner.headers(h(), false);
    r.runner.data(b('a'), false);
    r.runner.data(b('b'), false);
    assert.deepEqual(r.out, ['H::false']);
    r.runner.data(b('c'), true);
    assert.deepEqual(r.out, ['H::false', 'D:ABC!:true']);
  });

  it('flushes data a filter held before trailers go on', () => {
    const r = rig([{ onRequestBody: () => 'stop' }]);
    r.runner.headers(h(), false);
    r.runner.data(b('held'), false);
    r.runner.trailers(HeaderMap.from({ t: 'end' }));
    assert.deepEqual(r.out, ['H::false', 'D:held:false', 'T:end']);
  });

  it('reports an overflow when buffered body exceeds the limit', () => {
    const r = rig([{ onRequestBody: () => 'stop' }], 10);
    r.runner.headers(h(), false);
    r.runner.data(b('123456'), false);
    assert.equal(r.overflow, 0);
    r.runner.data(b('7890ab'), false);
    assert.equal(r.overflow, 1);
  });

  it('pauses the source when input queues up behind a held chain, and resumes it', () => {
    const r = rig([{ onRequestHeaders: () => 'stop' }], 1024 * 1024);
    r.runner.headers(h(), false);
    for (let i = 0; i < 20; i++) r.runner.data(Buffer.alloc(8192), false);
    assert.equal(r.paused, 1);
    r.runner.resume();
    assert.equal(r.resumed, 1);
    assert.equal(r.out.length, 21);
  });

  it('turns a throw or a rejected Promise into a filter error, and stops', async () => {
    const r1 = rig([{ onRequestHeaders: () => { throw new Error('boom'); } }]);
    r1.runner.headers(h(), true);
    assert.equal(r1.errors.length, 1);
    assert.deepEqual(r1.out, []);
    const r2 = rig([{ onRequestHeaders: () => Promise.reject(new Error('later')) }]);
    r2.runner.headers(h(), true);
    await new Promise((res) => setImmediate(res));
    assert.equal(r2.errors.length, 1);
    assert.deepEqual(r2.out, []);
  });
});
