/**
 * The built-in `headers` filter: op order (remove, set, add), per-direction hooks, one shared
 * filter object, and config errors with paths relative to the filter config.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../src/api/headers';
import { ConfigError } from '../../src/api/errors';
import type { FilterBuildEnv, FilterContext, StreamFilter } from '../../src/api/filter';
import { systemClock } from '../../src/api/clock';
import { compileHeadersConfig, headersFilter } from '../../src/filters/headers';
import { filterMetrics } from '../../src/proxy/filter-metrics';
import { StatsRegistry } from '../../src/observability/stats';

const noop = () => undefined;
const env: FilterBuildEnv = {
  listener: 'test',
  clock: systemClock,
  log: { debug: noop, info: noop, warn: noop, error: noop },
  baseDir: '.',
  clusterNames: [],
  metrics: filterMetrics(new StatsRegistry(), 'test'),
  httpCall: () => Promise.reject(new Error('no clusters in this test')),
};

function build(config: unknown): StreamFilter {
  const built = headersFilter.build(config, env);
  assert.ok(!(built instanceof Promise));
  return built.createFilter();
}

function fakeCtx(): FilterContext & { routeClears: number } {
  const ctx = { routeClears: 0, clearRouteCache() { ctx.routeClears++; } };
  return ctx as unknown as FilterContext & { routeClears: number };
}

function issuesOf(config: unknown): Array<{ path: string; message: string }> {
  try {
    headersFilter.build(config, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e.issues;
  }
  assert.fail('expected a ConfigError');
}

describe('headers filter: operations', () => {
  test('name', () => assert.equal(headersFilter.name, 'headers'));

  test('request: remove, then set, then add', () => {
    const f = build({
      request: {
        add: { 'X-Added': 'a', 'x-set': 'appended-after-set' },
        set: { 'X-Set': 's', 'x-remove': 'set-after-remove' },
        remove: ['X-Remove', 'x-gone'],
      },
    });
    const h = HeaderMap.from({ ':path': '/', 'x-remove': ['1', '2'], 'x-gone': 'g', 'x-set': ['old1', 'old2'], 'x-keep': 'k' });
    const ctx = fakeCtx();
    assert.equal(f.onRequestHeaders!(ctx, h, true), 'continue');
    assert.deepEqual(h.getAll('x-set'), ['s', 'appended-after-set']);
    assert.deepEqual(h.getAll('x-remove'), ['set-after-remove']);
    assert.equal(h.has('x-gone'), false);
    assert.deepEqual(h.getAll('x-added'), ['a']);
    assert.equal(h.get('x-keep'), 'k');
    assert.equal(h.get(':path'), '/');
    assert.equal(ctx.routeClears, 1, 'request changes clear the route cache');
  });

  test('add appends to existing values; set on a missing header adds it', () => {
    const f = build({ request: { add: { via: 'switchyard' }, set: { 'x-new': '1' } } });
    const h = HeaderMap.from({ via: '1.1 proxy-a' });
    f.onRequestHeaders!(fakeCtx(), h, false);
    assert.deepEqual(h.getAll('via'), ['1.1 proxy-a', 'switchyard']);
    assert.equal(h.get('x-new'), '1');
  });

  test('response ops only: no request hook defined', () => {
    const f = build({ response: { set: { server: 'switchyard' }, remove: ['x-powered-by'], add: { 'x-served-by': 'sy' } } });
    assert.equal(f.onRequestHeaders, undefined);
    assert.equal(typeof f.onResponseHeaders, 'function');
    const h = HeaderMap.from({ ':status': '200', server: 'nginx', 'x-powered-by': 'php' });
    assert.equal(f.onResponseHeaders!(fakeCtx(), h, false), 'continue');
    assert.deepEqual(h.toObject(), { ':status': '200', server: 'switchyard', 'x-served-by': 'sy' });
  });

  test('request ops only: no response hook defined', () => {
    const f = build({ request: { remove: ['cookie'] } });
    assert.equal(typeof f.onRequestHeaders, 'function');
    assert.equal(f.onResponseHeaders, undefined);
  });

  test('no other hooks ever defined', () => {
    const f = build({ request: { add: { a: '1' } }, response: { add: { b: '2' } } });
    assert.deepEqual(Object.keys(f).sort(), ['onRequestHeaders', 'onResponseHeaders']);
  });

  test('empty config, empty sections, or null: a filter with no hooks', () => {
    for (const c of [undefined, null, {}, { request: {} }, { request: { add: {}, set: {}, remove: [] }, response: null }]) {
      assert.deepEqual(Object.keys(build(c)), [], JSON.stringify(c));
    }
  });

  test('one shared stateless filter object for every stream', () => {
    const built = headersFilter.build({ request: { add: { a: '1' } } }, env) as { createFilter(): StreamFilter };
    const f1 = built.createFilter();
    const f2 = built.createFilter();
    assert.equal(f1, f2);
    assert.ok(Object.isFrozen(f1));
    const h1 = new HeaderMap();
    const h2 = new HeaderMap();
    f1.onRequestHeaders!(fakeCtx(), h1, true);
    f2.onRequestHeaders!(fakeCtx(), h2, true);
    assert.deepEqual(h1.toObject(), { a: '1' });
    assert.deepEqual(h2.toObject(), { a: '1' });
  });

  test('remove is idempotent and duplicate names are removed once', () => {
    const f = build({ request: { remove: ['x', 'X'] } });
    const h = HeaderMap.from({ x: ['1', '2'], y: '3' });
    f.onRequestHeaders!(fakeCtx(), h, true);
    assert.deepEqual(h.toObject(), { y: '3' });
  });
});

describe('headers filter: config errors', () => {
  const cases: Array<{ name: string; config: unknown; issues: Array<[string, RegExp]> }> = [
    { name: 'not an object', config: 'x', issues: [['', /must be an object/]] },
    { name: 'array config', config: [], issues: [['', /must be an object/]] },
    { name: 'unknown top-level key', config: { requests: {} }, issues: [['requests', /unknown key/]] },
    { name: 'section not an object', config: { request: [] }, issues: [['request', /must be an object/]] },
    { name: 'unknown op', config: { response: { append: {} } }, issues: [['response.append', /unknown key/]] },
    { name: 'add value not a string', config: { request: { add: { 'x-a': [1] } } }, issues: [['request.add.x-a', /^must be a string$/]] },
    { name: 'set value not a string', config: { response: { set: { 'X-B': null } } }, issues: [['response.set.X-B', /^must be a string$/]] },
    { name: 'add not an object', config: { request: { add: ['x'] } }, issues: [['request.add', /must be an object/]] },
    { name: 'remove not a list', config: { request: { remove: 'x' } }, issues: [['request.remove', /must be a list/]] },
    { name: 'remove entry not a string', config: { request: { remove: ['ok', 3] } }, issues: [['request.remove[1]', /must be a string/]] },
    { name: 'invalid header name', config: { request: { add: { 'bad name': 'v' } } }, issues: [['request.add.bad name', /invalid header name/]] },
    { name: 'empty header name', config: { request: { remove: [''] } }, issues: [['request.remove[0]', /invalid header name/]] },
    { name: 'pseudo-header', config: { request: { set: { ':path': '/x' } } }, issues: [['request.set.:path', /pseudo-header/]] },
    { name: 'CR/LF in value', config: { response: { add: { 'x-a': 'a\r\nx-evil: 1' } } }, issues: [['response.add.x-a', /CR, LF/]] },
    { name: 'set twice, different case', config: { request: { set: { 'x-a': '1', 'X-A': '2' } } }, issues: [['request.set.X-A', /more than once/]] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const issues = issuesOf(c.config);
      assert.equal(issues.length, c.issues.length, JSON.stringify(issues));
      c.issues.forEach(([path, re], i) => {
        assert.equal(issues[i].path, path);
        assert.match(issues[i].message, re);
      });
    });
  }

  test('every problem is reported at once, with its path', () => {
    const issues = issuesOf({
      request: { add: { 'x-a': [1] }, remove: [2], bogus: 1 },
      response: { set: { 'x-b': null } },
      other: true,
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      ['request.add.x-a', 'request.remove[0]', 'request.bogus', 'response.set.x-b', 'other'],
    );
  });

  test('ConfigError message carries the paths', () => {
    assert.throws(() => headersFilter.build({ request: { add: { 'x-a': {} } } }, env), /request\.add\.x-a: must be a string/);
  });

  test('same key in add twice with different case is allowed (appends both)', () => {
    const f = build({ request: { add: { 'x-a': '1', 'X-A': '2' } } });
    const h = new HeaderMap();
    f.onRequestHeaders!(fakeCtx(), h, true);
    assert.deepEqual(h.getAll('x-a'), ['1', '2']);
  });
});

test('headers filter: YAML numbers and booleans are taken as their text', () => {
  const c = compileHeadersConfig({ request: { set: { 'x-canary': 1, 'x-flag': true } } });
  assert.deepEqual([...c.request!.set], ['x-canary', '1', 'x-flag', 'true']);
});
