import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startProxy, metricValue, type Running } from '../fixtures/harness';
import { tlsFixture, httpsRequest, h2Request, type TlsFixture } from '../fixtures/tls';

let fx: TlsFixture;
let proxy: Running;
let optionalPort: number;

before(async () => {
  fx = await tlsFixture();
  proxy = await startProxy(
    `
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: mtls
    address: 127.0.0.1:0
    tls:
      certificates: [{ cert: a.crt, key: a.key, sni: [a.example] }]
      client_auth: { mode: required, ca: ca.crt, allowed_sans: [spiffe://test/client, spiffe://test/intruder-ok] }
    routes:
      - match: { peer_san: spiffe://test/client, prefix: /who }
        direct_response: { status: 200, body: client }
      - match: { prefix: / }
        direct_response: { status: 200, body: other }
  - name: optional
    address: 127.0.0.1:0
    tls:
      certificates: [{ cert: a.crt, key: a.key, sni: [a.example] }]
      client_auth: { mode: optional, ca: ca.crt }
    routes:
      - match: { peer_san: client.example }
        direct_response: { status: 200, body: with-cert }
      - match: { prefix: / }
        direct_response: { status: 200, body: anonymous }
`,
    { baseDir: fx.dir },
  );
  optionalPort = proxy.server.listenerPort('optional');
});

after(() => proxy.stop());

const errors = (listener: string, kind: string) =>
  metricValue(proxy.admin!, 'switchyard_downstream_tls_errors_total', { listener, kind });

test('required client auth: a verified certificate with an allowed SAN is served, its SAN routes', async () => {
  const r = await httpsRequest(proxy.port, '/who', { servername: 'a.example', cert: fx.client });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'client');
  assert.equal((await h2Request(proxy.port, '/who', { servername: 'a.example', cert: fx.client })).body, 'client');
});

test('required client auth refuses: no certificate, a certificate from another CA, a SAN not allowed', async () => {
  await assert.rejects(httpsRequest(proxy.port, '/who', { servername: 'a.example' }));
  await assert.rejects(httpsRequest(proxy.port, '/who', { servername: 'a.example', cert: fx.clientWrongCa }));
  await assert.rejects(httpsRequest(proxy.port, '/who', { servername: 'a.example', cert: fx.clientBadSan }));
  await assert.rejects(h2Request(proxy.port, '/who', { servername: 'a.example', cert: fx.clientBadSan }));
  assert.equal(await errors('mtls', 'no_client_cert'), 1);
  assert.equal(await errors('mtls', 'untrusted_client_cert'), 1);
  assert.equal(await errors('mtls', 'san_not_allowed'), 2);
});

test('optional client auth: anonymous clients pass, a verified one is identified, an untrusted one is refused', async () => {
  assert.equal((await httpsRequest(optionalPort, '/', { servername: 'a.example' })).body, 'anonymous');
  assert.equal((await httpsRequest(optionalPort, '/', { servername: 'a.example', cert: fx.client })).body, 'with-cert');
  await assert.rejects(httpsRequest(optionalPort, '/', { servername: 'a.example', cert: fx.clientWrongCa }));
  assert.equal(await errors('optional', 'untrusted_client_cert'), 1);
});
