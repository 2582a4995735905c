/**
 * WriteBatcher: frames written in one turn go out in one socket write, in order; flush() writes
 * at once; a full socket is reported; nothing is written after discard().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { WriteBatcher } from '../../src/rpc/write-batcher';

function sink(highWaterMark = 1 << 20): { w: Writable; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const w = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      writes.push(Buffer.from(chunk));
      cb();
    },
    writev(chunks, cb) {
      writes.push(Buffer.concat(chunks.map((c) => c.chunk as Buffer)));
      cb();
    },
  });
  return { w, writes };
}

test('frames written in one turn go out as one write, in order', async () => {
  const { w, writes } = sink();
  const b = new WriteBatcher(w, () => {});
  b.write(Buffer.from('a'));
  b.write(Buffer.from('bc'));
  b.write(Buffer.from('d'));
  assert.equal(writes.length, 0, 'nothing before the turn ends');
  assert.equal(b.pendingBytes, 4);
  await new Promise((r) => process.nextTick(r));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(writes.map(String), ['abcd']);
  b.write(Buffer.from('e'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(writes.map(String), ['abcd', 'e']);
});

test('large batches are written without joining, flush() writes at once, discard() stops writing', async () => {
  const { w, writes } = sink();
  const b = new WriteBatcher(w, () => {});
  const big = Buffer.alloc(40 * 1024, 1);
  b.write(big);
  b.write(big);
  b.flush();
  await new Promise((r) => setImmediate(r));
  assert.equal(Buffer.concat(writes).length, 80 * 1024);
  b.write(Buffer.from('x'));
  b.discard();
  b.write(Buffer.from('y'));
  await new Promise((r) => setImmediate(r));
  assert.equal(Buffer.concat(writes).length, 80 * 1024);
});

test('a socket over its high-water mark is reported', async () => {
  const w = new Writable({ highWaterMark: 4, write(_c, _e, _cb) {} }); // never drains
  let full = 0;
  const b = new WriteBatcher(w, () => full++);
  b.write(Buffer.alloc(16));
  b.flush();
  assert.equal(full, 1);
  assert.equal(b.write(Buffer.alloc(1)), false);
});
