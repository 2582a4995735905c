/**
 * `match: { grpc: { service, method } }`: desugared into the gRPC path and a content-type match,
 * and checked by a compiled route table against real gRPC request heads.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load';
import { compileRouteTable } from '../../src/router';
import { ConfigError, HeaderMap } from '../../src/api';

function table(match: string) {
  const c = parseConfigText(`
listeners:
  - name: l
    address: 127.0.0.1:0
    routes:
      - { name: r, match: ${match}, direct_response: { status: 200 } }
`);
  return compileRouteTable(c.listeners[0].routes);
}

const grpc = (path: string, ct = 'application/grpc+proto') => HeaderMap.from({ ':method': 'POST', ':path': path, 'content-type': ct });

describe('grpc route match', () => {
  it('matches service and method', () => {
    const t = table('{ grpc: { service: helloworld.Greeter, method: SayHello } }');
    assert.ok(t.match(grpc('/helloworld.Greeter/SayHello')));
    assert.equal(t.match(grpc('/helloworld.Greeter/SayBye')), null);
    assert.equal(t.match(grpc('/helloworld.Greeter/SayHello', 'application/json')), null);
  });
  it('matches a whole service, or a method of any service', () => {
    const s = table('{ grpc: { service: helloworld.Greeter } }');
    assert.ok(s.match(grpc('/helloworld.Greeter/Anything')));
    assert.equal(s.match(grpc('/other.Svc/Anything')), null);
    const m = table('{ grpc: { method: Check } }');
    assert.ok(m.match(grpc('/grpc.health.v1.Health/Check')));
    assert.equal(m.match(grpc('/grpc.health.v1.Health/Watch')), null);
  });
  it('rejects grpc together with a path match, and bad names', () => {
    assert.throws(() => table('{ prefix: /x, grpc: { service: a.B } }'), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /listeners\[0\]\.routes\[0\]\.match\.grpc: use grpc or prefix\/path\/regex, not both/);
      return true;
    });
    assert.throws(() => table('{ grpc: { service: "a/b" } }'), /match\.grpc\.service: not a gRPC service name/);
    assert.throws(() => table('{ grpc: { servce: a.B } }'), /match\.grpc\.servce: unknown key/);
  });
});
