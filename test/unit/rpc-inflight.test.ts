/**
 * InflightTable (src/rpc/inflight.ts): ids of requests in flight on one multiplexed upstream
 * connection — unique while in flight, never repeated by a reused slot soon after, aborted ids
 * remembered so late answers are recognised, and a bounded table.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InflightTable, MAX_ABANDONED, MAX_INFLIGHT } from '../../src/rpc/inflight';

class Ex {
  id = 0;
}

function add(t: InflightTable<Ex>): Ex {
  const e = new Ex();
  e.id = t.add(e);
  return e;
}

describe('InflightTable', () => {
  it('gives unique ids, finds and removes by id', () => {
    const t = new InflightTable<Ex>();
    const xs = [add(t), add(t), add(t)];
    assert.equal(new Set(xs.map((x) => x.id)).size, 3);
    assert.equal(t.size, 3);
    assert.equal(t.get(xs[1].id), xs[1]);
    assert.equal(t.delete(xs[1]), true);
    assert.equal(t.delete(xs[1]), false);
    assert.equal(t.get(xs[1].id), undefined);
    assert.equal(t.size, 2);
    assert.equal(t.get(0), undefined);
    assert.equal(t.get(987654), undefined);
  });

  it('a reused slot gets a new id, and the old id no longer matches', () => {
    const t = new InflightTable<Ex>();
    const a = add(t);
    t.delete(a);
    const b = add(t);
    assert.notEqual(b.id, a.id);
    assert.equal(t.get(a.id), undefined);
    assert.equal(t.get(b.id), b);
  });

  it('remembers aborted ids (once) and keeps their slots out of use', () => {
    const t = new InflightTable<Ex>();
    const a = add(t);
    assert.equal(t.abandon(a), true);
    assert.equal(t.size, 0);
    const b = add(t);
    assert.equal(t.get(a.id), undefined);
    assert.equal(t.takeAbandoned(a.id), true);
    assert.equal(t.takeAbandoned(a.id), false);
    assert.equal(t.takeAbandoned(b.id), false);
  });

  it('forgets the oldest aborted id past MAX_ABANDONED', () => {
    const t = new InflightTable<Ex>();
    const first = add(t);
    t.abandon(first);
    for (let i = 0; i < MAX_ABANDONED; i++) t.abandon(add(t));
    assert.equal(t.takeAbandoned(first.id), true, 'still remembered at the bound');
    const again = add(t);
    t.abandon(again);
    const next = add(t);
    t.delete(next);
    assert.ok(next.id > 0);
  });

  it('drain returns what is in flight and empties the table', () => {
    const t = new InflightTable<Ex>();
    const xs = [add(t), add(t)];
    t.delete(xs[0]);
    assert.deepEqual(t.drain(), [xs[1]]);
    assert.equal(t.size, 0);
    assert.equal(t.get(xs[1].id), undefined);
  });

  it('ids stay positive 31-bit integers and the table is bounded', () => {
    const t = new InflightTable<Ex>();
    let max = 0;
    for (let i = 0; i < MAX_INFLIGHT; i++) {
      const e = add(t);
      assert.ok(e.id >= 1);
      if (e.id > max) max = e.id;
    }
    assert.ok(max <= 0x7fffffff);
    assert.equal(t.add(new Ex()), -1, 'full');
    assert.equal(t.size, MAX_INFLIGHT);
  });
});
