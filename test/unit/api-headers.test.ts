/**
 * HeaderMap, the header view every codec and filter shares: get/getAll/has/add/set/remove keep
 * order and repeats, set replaces every value in place of the first, remove drops every value; a
 * seeded property test checks set/remove against a naive model over random maps with repeats.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../src/api/headers';
import { seededRandom } from '../fixtures/random';

describe('HeaderMap', () => {
  it('set replaces the first value in place and drops later repeats; appends when absent', () => {
    const h = new HeaderMap(['a', '1', 'b', '2', 'a', '3', 'c', '4', 'a', '5']);
    h.set('a', 'x');
    assert.deepEqual(h.raw(), ['a', 'x', 'b', '2', 'c', '4']);
    h.set('d', 'y');
    assert.deepEqual(h.raw(), ['a', 'x', 'b', '2', 'c', '4', 'd', 'y']);
  });

  it('remove drops every value, keeps the order of the rest, reports whether it removed anything', () => {
    const h = new HeaderMap(['a', '1', 'b', '2', 'a', '3', 'a', '4', 'c', '5']);
    assert.equal(h.remove('a'), true);
    assert.deepEqual(h.raw(), ['b', '2', 'c', '5']);
    assert.equal(h.remove('a'), false);
    assert.equal(h.size, 2);
    assert.equal(h.remove('c'), true);
    assert.deepEqual(h.raw(), ['b', '2']);
  });

  it('set and remove agree with a naive model on random maps', () => {
    const rnd = seededRandom(0xbeef);
    const names = ['a', 'b', 'c', 'd'];
    for (let round = 0; round < 2000; round++) {
      const kv: string[] = [];
      const len = Math.floor(rnd() * 8);
      for (let i = 0; i < len; i++) kv.push(names[Math.floor(rnd() * names.length)], String(i));
      const h = new HeaderMap(kv.slice());
      const name = names[Math.floor(rnd() * names.length)];
      let model: string[];
      if (rnd() < 0.5) {
        h.remove(name);
        model = [];
        for (let i = 0; i < kv.length; i += 2) if (kv[i] !== name) model.push(kv[i], kv[i + 1]);
      } else {
        h.set(name, 'v');
        model = [];
        let done = false;
        for (let i = 0; i < kv.length; i += 2) {
          if (kv[i] !== name) model.push(kv[i], kv[i + 1]);
          else if (!done) {
            model.push(name, 'v');
            done = true;
          }
        }
        if (!done) model.push(name, 'v');
      }
      assert.deepEqual(h.raw(), model, `round ${round}: ${JSON.stringify(kv)} ${name}`);
    }
  });
});
