/**
 * StreamTable (open HTTP/2 streams by id without a Map): ids sharing a slot go to the overflow and
 * are still found, deleted and listed; an id never stored is not found even when its slot is taken;
 * a seeded run against a Map model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamTable } from '../../src/http/h2/native/stream-table';
import { seededRandom } from '../fixtures/random';

test('colliding ids share a slot through the overflow', () => {
  const t = new StreamTable<{ id: number }>(10); // 64 slots: ids 1 and 129 collide
  const a = { id: 1 };
  const b = { id: 129 };
  const c = { id: 257 };
  t.add(a);
  t.add(b);
  t.add(c);
  assert.equal(t.size, 3);
  assert.equal(t.get(129), b);
  assert.equal(t.get(257), c);
  assert.equal(t.get(385), undefined, 'same slot, never stored');
  assert.equal(t.delete(a), true);
  assert.equal(t.get(1), undefined);
  assert.equal(t.get(129), b);
  assert.equal(t.delete(b), true);
  assert.equal(t.delete(b), false);
  assert.deepEqual(t.values(), [c]);
  assert.equal(t.size, 1);
});

test('agrees with a Map over random opens and closes', () => {
  const rnd = seededRandom(7);
  const t = new StreamTable<{ id: number }>(16);
  const model = new Map<number, { id: number }>();
  let next = 1;
  for (let i = 0; i < 20_000; i++) {
    if (model.size < 40 && (model.size === 0 || rnd() < 0.55)) {
      const s = { id: next };
      next += 2;
      t.add(s);
      model.set(s.id, s);
    } else {
      const ids = [...model.keys()];
      const id = ids[Math.floor(rnd() * ids.length)];
      assert.equal(t.delete(model.get(id)!), true);
      model.delete(id);
    }
    const probe = 1 + 2 * Math.floor(rnd() * ((next - 1) / 2 + 1));
    assert.equal(t.get(probe), model.get(probe), `id ${probe}`);
    assert.equal(t.size, model.size);
  }
  assert.deepEqual(t.values().map((s) => s.id).sort((x, y) => x - y), [...model.keys()].sort((x, y) => x - y));
});
