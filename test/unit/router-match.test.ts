/**
 * Router matching: a table of match configs, each asserted against requests that must match and
 * requests that must not; then ordering, port stripping, lazy query parsing and hot-path shape.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../src/api/headers';
import type { RouteMatchConfig } from '../../src/config/types';
import { compileRouteTable } from '../../src/router';
import * as matchModule from '../../src/router/match';
import { percentDecode, parseQuery } from '../../src/router/match';
import { route, req, rpc } from './router-helpers';

interface MatchCase {
  name: string;
  match: RouteMatchConfig;
  yes: HeaderMap[];
  no: HeaderMap[];
}

const CASES: MatchCase[] = [
  {
    name: 'empty match (everything)',
    match: {},
    yes: [req('/'), req('/a?b=c'), req(null, null), rpc({ service: 's' })],
    no: [],
  },
  {
    name: 'host exact, case-insensitive',
    match: { host: 'api.example.com' },
    yes: [req('/', 'api.example.com'), req('/', 'API.Example.COM'), req('/', 'api.example.com:8080'), req('/', 'Api.Example.Com:443')],
    no: [req('/', 'example.com'), req('/', 'xapi.example.com'), req('/', 'api.example.com.evil'), req('/', 'api.example.co'), req('/', null), req('/', 'b.api.example.com')],
  },
  {
    name: 'host from `host` header when :authority is absent',
    match: { host: 'api.example.com' },
    yes: [req('/', null, { host: 'api.example.com:80' })],
    no: [req('/', null, { host: 'other.example.com' })],
  },
  {
    name: 'host wildcard *.suffix',
    match: { host: '*.example.com' },
    yes: [req('/', 'a.example.com'), req('/', 'b.a.example.com'), req('/', 'A.EXAMPLE.com:9000'), req('/', 'x.example.com:80')],
    no: [req('/', 'example.com'), req('/', '.example.com'), req('/', 'example.com:80'), req('/', 'aexample.com'), req('/', 'a.example.org'), req('/', 'a.example.com.org'), req('/', null)],
  },
  {
    name: 'host *',
    match: { host: '*' },
    yes: [req('/', 'anything'), req('/', 'a.b:1'), req('/', null), rpc({ service: 'x' })],
    no: [],
  },
  {
    name: 'host IPv6 literal, port stripped',
    match: { host: '[::1]' },
    yes: [req('/', '[::1]'), req('/', '[::1]:80'), req('/', '[::1]:8443')],
    no: [req('/', '[::2]:80'), req('/', '::1'), req('/', 'localhost')],
  },
  {
    name: 'host IPv6 literal written without brackets in config',
    match: { host: '::1' },
    yes: [req('/', '[::1]:80')],
    no: [req('/', '[::2]')],
  },
  {
    name: 'host IPv4 with port',
    match: { host: '127.0.0.1' },
    yes: [req('/', '127.0.0.1:8080'), req('/', '127.0.0.1')],
    no: [req('/', '127.0.0.10:8080'), req('/', '127.0.0.1.nip.io')],
  },
  {
    name: 'prefix',
    match: { prefix: '/v1' },
    yes: [req('/v1'), req('/v1/users'), req('/v1x'), req('/v1?x=1'), req('/v1/a?b')],
    no: [req('/'), req('/v'), req('/V1'), req('/v2/v1'), req('/?/v1'), req(null), rpc({ service: 's' })],
  },
  {
    name: 'prefix longer than the path part (query must not satisfy it)',
    match: { prefix: '/a?b' },
    yes: [],
    no: [req('/a?b'), req('/a?bc')],
  },
  {
    name: 'exact path (query ignored)',
    match: { path: '/health' },
    yes: [req('/health'), req('/health?verbose=1'), req('/health?')],
    no: [req('/health/'), req('/healthz'), req('/Health'), req('/'), req('/health/x?y'), req(null)],
  },
  {
    name: 'regex path, full match, query ignored',
    match: { regex: /\/users\/\d+/ },
    yes: [req('/users/1'), req('/users/123?x=1'), req('/users/42?a=/users/b')],
    no: [req('/users/'), req('/users/12a'), req('/x/users/12'), req('/users/12/'), req('/users/abc?q=/users/1'), req(null)],
  },
  {
    name: 'regex alternation is anchored as a whole',
    match: { regex: /\/a|\/b/ },
    yes: [req('/a'), req('/b')],
    no: [req('/ab'), req('/xb'), req('/a/b')],
  },
  {
    name: 'regex with stateful/multiline flags is sanitised',
    match: { regex: /\/m\d/gmy },
    yes: [req('/m1'), req('/m1'), req('/m2?x')],
    no: [req('/m1\n/m2'), req('/xm1')],
  },
  {
    name: 'header exact (any of several values)',
    match: { headers: [{ name: 'x-canary', match: { kind: 'exact', value: '1' } }] },
    yes: [req('/', 'h', { 'x-canary': '1' }), req('/', 'h', { 'x-canary': ['0', '1'] })],
    no: [req('/', 'h', { 'x-canary': '0' }), req('/', 'h', { 'x-canary': '11' }), req('/', 'h', { 'x-canary': '' }), req('/', 'h'), req('/', 'h', { 'x-other': '1' })],
  },
  {
    name: 'header name in config is case-insensitive',
    match: { headers: [{ name: 'X-Canary', match: { kind: 'exact', value: 'yes' } }] },
    yes: [req('/', 'h', { 'x-canary': 'yes' })],
    no: [req('/', 'h', { 'x-canary': 'YES' })],
  },
  {
    name: 'header prefix',
    match: { headers: [{ name: 'user-agent', match: { kind: 'prefix', value: 'curl/' } }] },
    yes: [req('/', 'h', { 'user-agent': 'curl/8.0' }), req('/', 'h', { 'user-agent': 'curl/' }), req('/', 'h', { 'user-agent': ['wget', 'curl/7'] })],
    no: [req('/', 'h', { 'user-agent': 'Curl/8' }), req('/', 'h', { 'user-agent': 'xcurl/8' }), req('/', 'h')],
  },
  {
    name: 'header regex (full match)',
    match: { headers: [{ name: 'x-id', match: { kind: 'regex', value: /[a-f]+/ } }] },
    yes: [req('/', 'h', { 'x-id': 'abc' }), req('/', 'h', { 'x-id': ['zz', 'fed'] })],
    no: [req('/', 'h', { 'x-id': 'abcz' }), req('/', 'h', { 'x-id': 'zabc' }), req('/', 'h', { 'x-id': '' }), req('/', 'h')],
  },
  {
    name: 'header present',
    match: { headers: [{ name: 'x-debug', match: { kind: 'present' } }] },
    yes: [req('/', 'h', { 'x-debug': '' }), req('/', 'h', { 'x-debug': 'anything' }), req('/', 'h', { 'x-debug': ['a', 'b'] })],
    no: [req('/', 'h'), req('/', 'h', { 'x-debugx': '1' })],
  },
  {
    name: 'header absent',
    match: { headers: [{ name: 'x-debug', match: { kind: 'absent' } }] },
    yes: [req('/', 'h'), req('/', 'h', { 'x-debugx': '1' })],
    no: [req('/', 'h', { 'x-debug': '' }), req('/', 'h', { 'x-debug': '1' })],
  },
  {
    name: 'pseudo-header :method via header matcher',
    match: { headers: [{ name: ':method', match: { kind: 'exact', value: 'POST' } }] },
    yes: [req('/', 'h', {}, 'POST')],
    no: [req('/', 'h', {}, 'GET'), req('/', 'h', { method: 'POST' }, 'GET')],
  },
  {
    name: 'several headers: all must match',
    match: {
      headers: [
        { name: 'a', match: { kind: 'exact', value: '1' } },
        { name: 'b', match: { kind: 'absent' } },
      ],
    },
    yes: [req('/', 'h', { a: '1' })],
    no: [req('/', 'h', { a: '1', b: '2' }), req('/', 'h', { b: '2' }), req('/', 'h')],
  },
  {
    name: 'query exact, percent-decoded',
    match: { query: [{ name: 'q', match: { kind: 'exact', value: 'a b/é' } }] },
    yes: [req('/?q=a%20b%2F%C3%A9'), req('/s?q=a+b/%c3%a9'), req('/?x=1&q=a%20b/é'), req('/?q=zz&q=a%20b%2F%C3%A9')],
    no: [req('/?q=a%20b'), req('/?Q=a%20b%2F%C3%A9'), req('/'), req('/?'), req('/?q'), req('/a%20b?x=q=a%20b%2F%C3%A9')],
  },
  {
    name: 'query name percent-decoded',
    match: { query: [{ name: 'a b', match: { kind: 'exact', value: '1' } }] },
    yes: [req('/?a%20b=1'), req('/?a+b=1')],
    no: [req('/?a_b=1'), req('/?ab=1')],
  },
  {
    name: 'query prefix',
    match: { query: [{ name: 'v', match: { kind: 'prefix', value: '2.' } }] },
    yes: [req('/?v=2.1'), req('/?v=2.'), req('/?v=1&v=2.0')],
    no: [req('/?v=1.2'), req('/?v=22'), req('/?w=2.1')],
  },
  {
    name: 'query regex (full match)',
    match: { query: [{ name: 'id', match: { kind: 'regex', value: /\d{3}/ } }] },
    yes: [req('/?id=123'), req('/?id=%31%32%33')],
    no: [req('/?id=1234'), req('/?id=12'), req('/?id=a123')],
  },
  {
    name: 'query present (with or without value)',
    match: { query: [{ name: 'debug', match: { kind: 'present' } }] },
    yes: [req('/?debug'), req('/?debug='), req('/?a=1&debug=0'), req('/?debug&x')],
    no: [req('/'), req('/?debugx=1'), req('/debug'), req('/?x=debug')],
  },
  {
    name: 'query absent',
    match: { query: [{ name: 'debug', match: { kind: 'absent' } }] },
    yes: [req('/'), req('/?x=1'), req('/?debugx'), req(null)],
    no: [req('/?debug'), req('/?x=1&debug=1')],
  },
  {
    name: 'RPC keys: service + method (not :method)',
    match: { service: 'com.example.Greeter', method: 'sayHello' },
    yes: [rpc({ service: 'com.example.Greeter', method: 'sayHello' }), rpc({ service: 'com.example.Greeter', method: 'sayHello', version: '1.0' })],
    no: [
      rpc({ service: 'com.example.Greeter', method: 'sayBye' }),
      rpc({ service: 'com.example.Greeter' }),
      rpc({ service: 'com.example.greeter', method: 'sayHello' }),
      req('/', 'h', { service: 'com.example.Greeter' }, 'sayHello'),
    ],
  },
  {
    name: 'RPC keys: version + group',
    match: { service: 's', version: '1.0.0', group: 'blue' },
    yes: [rpc({ service: 's', version: '1.0.0', group: 'blue' })],
    no: [rpc({ service: 's', version: '1.0.1', group: 'blue' }), rpc({ service: 's', version: '1.0.0' }), rpc({ service: 's', version: '1.0.0', group: 'green' })],
  },
  {
    name: 'everything together',
    match: {
      host: '*.example.com',
      prefix: '/api',
      headers: [{ name: 'x-canary', match: { kind: 'exact', value: '1' } }],
      query: [{ name: 'v', match: { kind: 'exact', value: '2' } }],
    },
    yes: [req('/api/x?v=2', 'a.example.com:8080', { 'x-canary': '1' })],
    no: [
      req('/api/x?v=2', 'example.com', { 'x-canary': '1' }),
      req('/apx/x?v=2', 'a.example.com', { 'x-canary': '1' }),
      req('/api/x?v=2', 'a.example.com', { 'x-canary': '0' }),
      req('/api/x?v=3', 'a.example.com', { 'x-canary': '1' }),
    ],
  },
];

describe('route matchers (positive and negative)', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const r = route(c.match, { name: 'the-route' });
      const table = compileRouteTable([r]);
      for (const h of c.yes) assert.equal(table.match(h)?.name, 'the-route', `should match: ${JSON.stringify(h.toObject())}`);
      for (const h of c.no) assert.equal(table.match(h), null, `should not match: ${JSON.stringify(h.toObject())}`);
      // Behind a route that never matches, the result is the same (no state leaks between routes).
      const never = route({ path: '/__never__', headers: [{ name: 'x-never', match: { kind: 'present' } }] });
      const t2 = compileRouteTable([never, r]);
      for (const h of c.yes) assert.equal(t2.match(h)?.name, 'the-route');
      for (const h of c.no) assert.equal(t2.match(h), null);
    });
  }
});

describe('route table', () => {
  test('first match wins, in config order', () => {
    const t = compileRouteTable([
      route({ prefix: '/api/v1' }, { name: 'v1' }),
      route({ prefix: '/api' }, { name: 'api' }),
      route({ prefix: '/api/v1/special' }, { name: 'shadowed' }),
      route({}, { name: 'catch-all' }),
    ]);
    assert.equal(t.match(req('/api/v1/special'))?.name, 'v1');
    assert.equal(t.match(req('/api/v2'))?.name, 'api');
    assert.equal(t.match(req('/other'))?.name, 'catch-all');
    assert.deepEqual(t.routes.map((r) => r.name), ['v1', 'api', 'shadowed', 'catch-all']);
  });

  test('host routes with fall-through to a wildcard', () => {
    const t = compileRouteTable([
      route({ host: 'api.example.com', prefix: '/' }, { name: 'api' }),
      route({ host: '*.example.com', prefix: '/' }, { name: 'wild' }),
      route({ host: '*', prefix: '/' }, { name: 'any' }),
    ]);
    assert.equal(t.match(req('/', 'API.example.com:8443'))?.name, 'api');
    assert.equal(t.match(req('/', 'www.example.com'))?.name, 'wild');
    assert.equal(t.match(req('/', 'example.com'))?.name, 'any');
    assert.equal(t.match(req('/', null))?.name, 'any');
  });

  test('empty table matches nothing', () => {
    assert.equal(compileRouteTable([]).match(req('/')), null);
  });

  test('a route matching no request is skipped, later routes still match', () => {
    const t = compileRouteTable([route({ host: 'a' }, { name: 'a' }), route({ prefix: '/' }, { name: 'slash' })]);
    assert.equal(t.match(req('/x', 'b'))?.name, 'slash');
  });

  test('the query is parsed only when a route has query matchers, at most once per match', () => {
    // CommonJS output calls parseQuery through the module's exports object, so a spy there sees
    // every parse the table does.
    const mod = matchModule as unknown as { parseQuery: typeof parseQuery };
    const real = mod.parseQuery;
    let parses = 0;
    mod.parseQuery = (p: string, q: number) => {
      parses++;
      return real(p, q);
    };
    try {
      const noQuery = compileRouteTable([route({ prefix: '/a' }), route({ headers: [{ name: 'x', match: { kind: 'present' } }] })]);
      assert.equal(noQuery.usesQuery, false);
      assert.equal(noQuery.match(req('/b?a=1&b=2')), null);
      assert.equal(parses, 0);

      const withQuery = compileRouteTable([
        route({ prefix: '/nope', query: [{ name: 'a', match: { kind: 'present' } }] }, { name: 'cheap-first' }),
        route({ query: [{ name: 'a', match: { kind: 'exact', value: 'x' } }] }, { name: 'qa' }),
        route({ query: [{ name: 'b', match: { kind: 'exact', value: 'y' } }] }, { name: 'qb' }),
        route({ query: [{ name: 'c', match: { kind: 'present' } }] }, { name: 'qc' }),
      ]);
      assert.equal(withQuery.usesQuery, true);
      assert.equal(withQuery.match(req('/?c=%41'))?.name, 'qc');
      assert.equal(parses, 1);
      assert.equal(withQuery.match(req('/?b=y'))?.name, 'qb');
      assert.equal(parses, 2);
      assert.equal(withQuery.match(req('/no-query')), null); // nothing to parse
      assert.equal(parses, 2);
    } finally {
      mod.parseQuery = real;
    }
  });

  test('match() does not touch the header map beyond reading', () => {
    const t = compileRouteTable([route({ regex: /\/x/, query: [{ name: 'a', match: { kind: 'present' } }] })]);
    const h = req('/x?a=1', 'h:1', { 'x-k': 'v' });
    const before = JSON.stringify(h.raw());
    assert.ok(t.match(h));
    assert.equal(JSON.stringify(h.raw()), before);
  });

  test('repeated matches on the same table give the same answers (no per-call state kept)', () => {
    const t = compileRouteTable([
      route({ regex: /\/r\d/, query: [{ name: 'k', match: { kind: 'exact', value: '1' } }] }, { name: 'r' }),
      route({ prefix: '/' }, { name: 'fallback' }),
    ]);
    for (let i = 0; i < 3; i++) {
      assert.equal(t.match(req('/r1?k=1'))?.name, 'r');
      assert.equal(t.match(req('/r1?k=2'))?.name, 'fallback');
      assert.equal(t.match(req('/r1'))?.name, 'fallback');
    }
  });

  test('a route with no action is rejected at compile time', () => {
    assert.throws(() => compileRouteTable([{ name: 'x', match: {}, timeout_ms: 1 }]), /no action/);
  });
});

describe('query parsing', () => {
  test('parseQuery: flat decoded pairs, value "" without =, empty segments skipped, # cut', () => {
    const p = '/p?a=1&&b&c=x%3Dy&=e&d=%E2%82%AC#frag&z=9';
    assert.deepEqual([...parseQuery(p, p.indexOf('?'))], ['a', '1', 'b', '', 'c', 'x=y', '', 'e', 'd', '€']);
    assert.deepEqual([...parseQuery('/p?', 2)], []);
    assert.deepEqual([...parseQuery('/p?a=b=c', 2)], ['a', 'b=c']);
  });

  test('percentDecode: plus, UTF-8, malformed escapes kept, invalid UTF-8 replaced', () => {
    assert.equal(percentDecode('plain'), 'plain');
    assert.equal(percentDecode('a+b'), 'a b');
    assert.equal(percentDecode('%2B'), '+');
    assert.equal(percentDecode('%c3%A9'), 'é');
    assert.equal(percentDecode('100%'), '100%');
    assert.equal(percentDecode('%zz%4'), '%zz%4');
    assert.equal(percentDecode('%41%zz%42'), 'A%zzB');
    assert.equal(percentDecode('%FF'), '\uFFFD');
  });
});
