/**
 * Dubbo Triple routing keys: `match: { service, method, version, group }` applies to Triple
 * (gRPC-compatible) requests as it does to Dubbo 2 — service and method from `:path`, version
 * and group from `tri-service-version` / `tri-service-group` — and only when the request has no
 * `service` header of its own and is gRPC or carries a tri-service-* header.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteTable } from '../../src/router';
import { tripleKeys } from '../../src/router/match';
import { route, req, rpc } from './router-helpers';

const GRPC = { 'content-type': 'application/grpc' };

function triple(path: string, extra: Record<string, string> = {}): ReturnType<typeof req> {
  return req(path, 'svc.local', { ...GRPC, te: 'trailers', ...extra }, 'POST');
}

describe('tripleKeys', () => {
  it('derives service and method from the path, version and group from tri-* headers', () => {
    const h = triple('/org.apache.dubbo.Greeter/greet', { 'tri-service-version': '1.0.0', 'tri-service-group': 'blue' });
    assert.deepEqual(tripleKeys(h.raw()), ['service', 'org.apache.dubbo.Greeter', 'method', 'greet', 'version', '1.0.0', 'group', 'blue']);
  });

  it('accepts application/grpc+proto and tri-* headers without a gRPC content-type', () => {
    assert.deepEqual(tripleKeys(req('/a.B/c', 'h', { 'content-type': 'application/grpc+proto' }, 'POST').raw()), ['service', 'a.B', 'method', 'c']);
    assert.deepEqual(tripleKeys(req('/a.B/c', 'h', { 'content-type': 'application/json', 'tri-service-group': 'g' }, 'POST').raw()), [
      'service', 'a.B', 'method', 'c', 'group', 'g',
    ]);
  });

  it('returns null when the request carries its own service header or is neither gRPC nor Triple', () => {
    assert.equal(tripleKeys(rpc({ service: 's', method: 'm' }).raw()), null);
    assert.equal(tripleKeys(triple('/a.B/c', { service: 'x' }).raw()), null);
    assert.equal(tripleKeys(req('/a.B/c', 'h', { 'content-type': 'application/json' }, 'POST').raw()), null);
    assert.equal(tripleKeys(req('/a.B/c').raw()), null);
  });

  it('leaves service and method out when the path is not /{service}/{method}', () => {
    for (const p of ['/', '/onlyservice', '//m', '/s/', '/s/m/extra', 'noslash/m']) {
      assert.deepEqual(tripleKeys(triple(p, { 'tri-service-version': '1' }).raw()), ['version', '1'], p);
    }
    assert.deepEqual(tripleKeys(triple('/s/m?x=1').raw()), ['service', 's', 'method', 'm']);
  });
});

describe('RPC key routes and Triple requests', () => {
  const table = compileRouteTable([
    route({ service: 'org.example.Greeter', version: '2.0.0' }, { name: 'v2', cluster: 'greeter-v2' }),
    route({ service: 'org.example.Greeter', group: 'canary' }, { name: 'canary', cluster: 'greeter-canary' }),
    route({ service: 'org.example.Greeter', method: 'bye' }, { name: 'bye', cluster: 'greeter-bye' }),
    route({ service: 'org.example.Greeter' }, { name: 'any', cluster: 'greeter' }),
    route({ prefix: '/' }, { name: 'web', cluster: 'web' }),
  ]);
  const name = (h: ReturnType<typeof req>): string | undefined => table.match(h)?.name;

  it('routes Triple calls by service, method, version and group', () => {
    assert.equal(name(triple('/org.example.Greeter/hello', { 'tri-service-version': '2.0.0' })), 'v2');
    assert.equal(name(triple('/org.example.Greeter/hello', { 'tri-service-version': '1.0.0', 'tri-service-group': 'canary' })), 'canary');
    assert.equal(name(triple('/org.example.Greeter/bye')), 'bye');
    assert.equal(name(triple('/org.example.Greeter/hello')), 'any');
    assert.equal(name(triple('/org.example.Other/hello', { 'tri-service-version': '2.0.0' })), 'web');
  });

  it('routes Dubbo 2 style requests by their own keys as before', () => {
    assert.equal(name(rpc({ service: 'org.example.Greeter', method: 'hello', version: '2.0.0' })), 'v2');
    assert.equal(name(rpc({ service: 'org.example.Greeter', method: 'bye' })), 'bye');
    // A request with its own `service` header is not re-derived from its path.
    assert.equal(name(triple('/org.example.Greeter/bye', { service: 'org.example.Other' })), 'web');
  });

  it('does not treat plain HTTP requests as Triple', () => {
    assert.equal(name(req('/org.example.Greeter/hello')), 'web');
    assert.equal(name(req('/org.example.Greeter/hello', 'h', { 'content-type': 'application/json', version: '2.0.0' }, 'POST')), 'web');
  });

  it('matches method against the path, not the :method pseudo-header', () => {
    const t = compileRouteTable([route({ method: 'POST' }, { name: 'm' }), route({}, { name: 'rest' })]);
    assert.equal(t.match(triple('/org.example.Greeter/hello'))?.name, 'rest');
    assert.equal(t.match(triple('/org.example.Greeter/POST'))?.name, 'm');
  });
});
