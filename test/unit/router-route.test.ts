/**
 * CompiledRoute: actions, cluster picks (weighted with a deterministic random), timeouts, path and
 * host rewrites, redirect Location building, prebuilt direct responses.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../src/api/headers';
import type { RouteConfig } from '../../src/config/types';
import { compileRouteTable, type CompiledRoute } from '../../src/router';
import { route, req } from './router-helpers';

function one(r: RouteConfig, random?: () => number): CompiledRoute {
  return compileRouteTable([r], random ? { random } : undefined).routes[0];
}

/** A deterministic random: cycles through the given values. */
function seq(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length];
}

describe('actions and clusters', () => {
  test('single cluster: constant pick, no random drawn', () => {
    let draws = 0;
    const r = one(route({}, { cluster: 'api', timeout_ms: 2000 }), () => (draws++, 0.5));
    assert.equal(r.action, 'cluster');
    assert.deepEqual(r.clusters, ['api']);
    for (let i = 0; i < 5; i++) assert.equal(r.pickCluster(), 'api');
    assert.equal(draws, 0);
    assert.equal(r.timeoutMs, 2000);
    assert.equal(r.directResponse, undefined);
    assert.equal(r.hostRewrite, undefined);
  });

  test('route carries its config and name', () => {
    const cfg = route({ prefix: '/x' }, { name: 'web/0', cluster: 'a', timeout_ms: 0 });
    const r = one(cfg);
    assert.equal(r.name, 'web/0');
    assert.equal(r.config, cfg);
    assert.equal(r.timeoutMs, 0);
  });

  test('weighted: picks proportional to weights with the injected random', () => {
    const wc = [
      { cluster: 'a', weight: 1 },
      { cluster: 'b', weight: 3 },
      { cluster: 'c', weight: 0 },
      { cluster: 'd', weight: 6 },
    ];
    const N = 1000;
    const values = Array.from({ length: N }, (_, i) => i / N); // uniform grid over [0,1)
    const r = one(route({}, { weighted_clusters: wc }), seq(values));
    assert.equal(r.action, 'weighted');
    assert.deepEqual(r.clusters, ['a', 'b', 'c', 'd']);
    const counts: Record<string, number> = { a: 0, b: 0, c: 0, d: 0 };
    for (let i = 0; i < N; i++) counts[r.pickCluster() as string]++;
    assert.deepEqual(counts, { a: 100, b: 300, c: 0, d: 600 });
  });

  test('weighted: boundaries', () => {
    const wc = [
      { cluster: 'a', weight: 1 },
      { cluster: 'b', weight: 1 },
    ];
    const pick = (x: number) => one(route({}, { weighted_clusters: wc }), () => x).pickCluster();
    assert.equal(pick(0), 'a');
    assert.equal(pick(0.4999), 'a');
    assert.equal(pick(0.5), 'b');
    assert.equal(pick(0.9999), 'b');
    assert.equal(pick(1), 'b'); // out-of-range random stays in range
  });

  test('weighted with a single cluster is constant', () => {
    let draws = 0;
    const r = one(route({}, { weighted_clusters: [{ cluster: 'only', weight: 5 }] }), () => (draws++, 0.9));
    assert.equal(r.action, 'weighted');
    assert.equal(r.pickCluster(), 'only');
    assert.equal(draws, 0);
  });

  test('direct response and redirect pick no cluster', () => {
    const d = one(route({}, { direct_response: { status: 200, body: 'ok', headers: [] } }));
    assert.equal(d.action, 'direct');
    assert.equal(d.pickCluster(), null);
    assert.deepEqual(d.clusters, []);
    const rd = one(route({}, { redirect: { status: 301, scheme: 'https' } }));
    assert.equal(rd.action, 'redirect');
    assert.equal(rd.pickCluster(), null);
  });
});

describe('rewrites', () => {
  test('prefix_rewrite replaces the matched prefix and keeps the query', () => {
    const r = one(route({ prefix: '/api/v1' }, { prefix_rewrite: '/v2' }));
    assert.equal(r.rewritePath('/api/v1/users?id=1&x=%20'), '/v2/users?id=1&x=%20');
    assert.equal(r.rewritePath('/api/v1'), '/v2');
    assert.equal(r.rewritePath('/api/v1?x'), '/v2?x');
    assert.equal(r.rewritePath('/other'), '/other'); // not under the prefix: untouched
  });

  test('prefix_rewrite to / and from /', () => {
    assert.equal(one(route({ prefix: '/api/' }, { prefix_rewrite: '/' })).rewritePath('/api/x?q'), '/x?q');
    assert.equal(one(route({ prefix: '/' }, { prefix_rewrite: '/base/' })).rewritePath('/x?q'), '/base/x?q');
  });

  test('prefix_rewrite on an exact-path or regex route replaces the whole path, keeping the query', () => {
    assert.equal(one(route({ path: '/old' }, { prefix_rewrite: '/new' })).rewritePath('/old?a=1'), '/new?a=1');
    assert.equal(one(route({ regex: /\/u\/\d+/ }, { prefix_rewrite: '/user' })).rewritePath('/u/12?a'), '/user?a');
    assert.equal(one(route({ regex: /\/u\/\d+/ }, { prefix_rewrite: '/user' })).rewritePath('/u/12'), '/user');
  });

  test('prefix_rewrite on a route without a path matcher prepends', () => {
    assert.equal(one(route({ host: 'a' }, { prefix_rewrite: '/svc' })).rewritePath('/x?y'), '/svc/x?y');
  });

  test('no prefix_rewrite: the same string back', () => {
    const p = '/api/v1/x?y=1';
    assert.equal(one(route({ prefix: '/api' })).rewritePath(p), p);
  });

  test('host_rewrite is exposed', () => {
    assert.equal(one(route({}, { host_rewrite: 'internal.svc' })).hostRewrite, 'internal.svc');
  });
});

describe('redirects', () => {
  const loc = (r: CompiledRoute, path: string, authority: string | null, scheme = 'http') =>
    r.buildRedirect(req(path, authority), scheme);

  test('defaults: scheme from the request, host from :authority, path and query kept', () => {
    const r = one(route({}, { redirect: { status: 302 } }));
    assert.deepEqual(loc(r, '/a/b?x=1', 'example.com:8080'), { status: 302, location: 'http://example.com:8080/a/b?x=1' });
    assert.deepEqual(loc(r, '/', 'h', 'https'), { status: 302, location: 'https://h/' });
  });

  test('scheme override (https redirect) drops the default port, keeps others', () => {
    const r = one(route({}, { redirect: { status: 301, scheme: 'https' } }));
    assert.equal(loc(r, '/p?q=1', 'example.com').location, 'https://example.com/p?q=1');
    assert.equal(loc(r, '/p', 'example.com:80').location, 'https://example.com/p');
    assert.equal(loc(r, '/p', 'example.com:8080').location, 'https://example.com:8080/p');
    assert.equal(loc(r, '/p', '[::1]:80').location, 'https://[::1]/p');
    assert.equal(loc(r, '/p', '[::1]').location, 'https://[::1]/p');
    assert.equal(loc(r, '/p', 'example.com:443', 'https').location, 'https://example.com:443/p'); // same scheme: untouched
    assert.equal(loc(r, '/p', 'example.com:80').location, 'https://example.com/p');
    assert.equal(one(route({}, { redirect: { status: 301 } })).buildRedirect(req('/'), 'http').status, 301);
  });

  test('host override', () => {
    const r = one(route({}, { redirect: { status: 301, host: 'new.example.com' } }));
    assert.equal(loc(r, '/p?q', 'old.example.com:80').location, 'http://new.example.com/p?q');
  });

  test('host from the `host` header when :authority is absent', () => {
    const r = one(route({}, { redirect: { status: 301 } }));
    assert.equal(r.buildRedirect(HeaderMap.from({ ':path': '/x', host: 'h1.example' }), 'http').location, 'http://h1.example/x');
  });

  test('path override keeps the request query unless it has its own', () => {
    const r = one(route({}, { redirect: { status: 308, path: '/moved' } }));
    assert.deepEqual(loc(r, '/old?a=1', 'h'), { status: 308, location: 'http://h/moved?a=1' });
    assert.equal(loc(r, '/old', 'h').location, 'http://h/moved');
    const r2 = one(route({}, { redirect: { status: 301, path: '/moved?b=2' } }));
    assert.equal(loc(r2, '/old?a=1', 'h').location, 'http://h/moved?b=2');
  });

  test('prefix_rewrite in the redirect replaces the matched prefix, query kept', () => {
    const r = one(route({ prefix: '/old/' }, { redirect: { status: 301, prefix_rewrite: '/new/' } }));
    assert.equal(loc(r, '/old/a/b?c=d', 'h').location, 'http://h/new/a/b?c=d');
  });

  test('all overrides together', () => {
    const r = one(
      route({ prefix: '/v1' }, { redirect: { status: 307, scheme: 'https', host: 'secure.example:8443', prefix_rewrite: '/v2' } }),
    );
    assert.deepEqual(loc(r, '/v1/x?y=1', 'example.com:80'), { status: 307, location: 'https://secure.example:8443/v2/x?y=1' });
  });

  test('buildRedirect on a non-redirect route throws', () => {
    assert.throws(() => one(route({})).buildRedirect(req('/'), 'http'), /not a redirect/);
  });
});

describe('direct responses', () => {
  test('prebuilt once: status, Buffer body, lower-case frozen headers', () => {
    const r = one(
      route(
        { prefix: '/health' },
        { direct_response: { status: 200, body: 'ok ✓', headers: [['Content-Type', 'text/plain'], ['x-a', '1'], ['x-a', '2']] } },
      ),
    );
    const d = r.directResponse!;
    assert.equal(d.status, 200);
    assert.ok(Buffer.isBuffer(d.body));
    assert.equal(d.body.toString('utf8'), 'ok ✓');
    assert.deepEqual([...d.headers], ['content-type', 'text/plain', 'x-a', '1', 'x-a', '2']);
    assert.ok(Object.isFrozen(d.headers));
    assert.equal(r.directResponse, d); // same object every time
    const hm = new HeaderMap(d.headers.slice());
    hm.add('x-b', '3');
    assert.equal(d.headers.length, 6);
    assert.deepEqual(hm.getAll('x-a'), ['1', '2']);
  });

  test('empty body', () => {
    const d = one(route({}, { direct_response: { status: 204, body: '', headers: [] } })).directResponse!;
    assert.equal(d.status, 204);
    assert.equal(d.body.length, 0);
  });

  test('matched through the table', () => {
    const t = compileRouteTable([
      route({ prefix: '/health' }, { name: 'h', direct_response: { status: 200, body: 'ok', headers: [] } }),
      route({ prefix: '/' }, { name: 'rest', cluster: 'api' }),
    ]);
    assert.equal(t.match(req('/health'))?.action, 'direct');
    assert.equal(t.match(req('/x'))?.pickCluster(), 'api');
  });
});
