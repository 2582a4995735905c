import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseString } from '../fixtures/h1-util';

test('h1 test helper records a simple request', () => {
  const r = parseString(false, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.equal(r.error, null);
  assert.equal(r.msgs.length, 1);
  assert.equal(r.msgs[0].complete, true);
});
