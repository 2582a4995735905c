import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startProxy, startUpstream, metricValue, type Running, type Upstream } from '../fixtures/harness';
import { tlsFixture, handshake, httpsRequest, h2Request, runTool, type TlsFixture } from '../fixtures/tls';

let fx: TlsFixture;
let up: Upstream;
let proxy: Running;
let strictPort: number;

before(async () => {
  fx = await tlsFixture();
  up = await startUpstream();
  proxy = await startProxy(
    `
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    protocol: http
    tls:
      certificates:
        - { cert: a.crt, key: a.key, sni: [a.example] }
        - { cert: b.crt, key: b.key, sni: [b.example] }
        - { cert: wild.crt, key: wild.key, sni: ["*.wild.example"] }
    routes:
      - match: { sni: b.example, prefix: /who }
        direct_response: { status: 200, body: sni-b }
      - match: { prefix: / }
        cluster: up
  - name: strict
    address: 127.0.0.1:0
    tls:
      certificates: [{ cert: a.crt, key: a.key, sni: [a.example] }]
      on_unknown_sni: reject
    routes:
      - match: { prefix: / }
        direct_response: { status: 200, body: strict }
clusters:
  - name: up
    endpoints: [{ address: ${up.address} }]
`,
    { baseDir: fx.dir },
  );
  strictPort = proxy.server.listenerPort('strict');
});

after(async () => {
  await proxy.stop();
  await up.close();
});

test('SNI picks the certificate: exact names, wildcard, the default for unknown or no SNI', async () => {
  assert.equal((await handshake(proxy.port, { servername: 'a.example' })).subject, 'CN=a.example');
  assert.equal((await handshake(proxy.port, { servername: 'b.example' })).subject, 'CN=b.example');
  assert.equal((await handshake(proxy.port, { servername: 'x.wild.example' })).subject, 'CN=*.wild.example');
  // Unknown name: the first certificate (the default) is served; the client's name check then fails.
  await assert.rejects(handshake(proxy.port, { servername: 'c.example' }), /altnames|does not match/i);
  const d = await runTool('openssl', ['s_client', '-connect', `127.0.0.1:${proxy.port}`, '-servername', 'c.example', '-brief'], 'Q\n');
  assert.match(d.stdout + d.stderr, /Peer certificate: CN ?= ?a\.example/);
});

test('openssl s_client and curl see the certificate chosen by SNI', async () => {
  const s = await runTool('openssl', ['s_client', '-connect', `127.0.0.1:${proxy.port}`, '-servername', 'b.example', '-CAfile', fx.ca, '-brief', '-verify_return_error'], 'Q\n');
  assert.match(s.stdout + s.stderr, /Peer certificate: CN ?= ?b\.example/);
  assert.match(s.stdout + s.stderr, /Verification: OK/);
  const c = await runTool('curl', ['-sS', '--cacert', fx.ca, '--resolve', `b.example:${proxy.port}:127.0.0.1`, `https://b.example:${proxy.port}/who`]);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout, 'sni-b');
  const c2 = await runTool('curl', ['-sS', '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', '--cacert', fx.ca,
    '--resolve', `x.wild.example:${proxy.port}:127.0.0.1`, `https://x.wild.example:${proxy.port}/any`]);
  assert.equal(c2.stdout, '2 200', c2.stderr);
});

test('on_unknown_sni: reject refuses the handshake, counts it, and serves known names', async () => {
  await assert.rejects(handshake(strictPort, { servername: 'c.example' }));
  // Without SNI the handshake completes (a client that does not check the name), then the proxy closes.
  await assert.rejects(httpsRequest(strictPort, '/', { verify: false }));
  assert.equal((await handshake(strictPort, { servername: 'a.example' })).subject, 'CN=a.example');
  assert.equal((await httpsRequest(strictPort, '/', { servername: 'a.example' })).body, 'strict');
  assert.equal(await metricValue(proxy.admin!, 'switchyard_downstream_tls_errors_total', { listener: 'strict', kind: 'unknown_sni' }), 2);
});

test('ALPN h2 and http/1.1 on one TLS port; the upstream sees https as the forwarded proto', async () => {
  const hs = await handshake(proxy.port, { servername: 'a.example', alpn: ['h2', 'http/1.1'] });
  assert.equal(hs.alpn, 'h2');
  const h1 = await httpsRequest(proxy.port, '/one', { servername: 'a.example' });
  assert.equal(h1.status, 200);
  const b1 = JSON.parse(h1.body) as { url: string; headers: Record<string, string> };
  assert.equal(b1.url, '/one');
  assert.equal(b1.headers['x-forwarded-proto'], 'https');
  const h2 = await h2Request(proxy.port, '/two', { servername: 'a.example' });
  assert.equal(h2.status, 200);
  const b2 = JSON.parse(h2.body) as { url: string; headers: Record<string, string> };
  assert.equal(b2.url, '/two');
  assert.equal(b2.headers['x-forwarded-proto'], 'https');
});

test('route match on sni: only connections that asked for b.example take the sni route', async () => {
  assert.equal((await httpsRequest(proxy.port, '/who', { servername: 'b.example' })).body, 'sni-b');
  assert.equal((await h2Request(proxy.port, '/who', { servername: 'b.example' })).body, 'sni-b');
  const viaA = await httpsRequest(proxy.port, '/who', { servername: 'a.example' });
  assert.equal((JSON.parse(viaA.body) as { url: string }).url, '/who');
});

test('plaintext HTTP on a TLS port is a failed handshake, counted', async () => {
  const before = await metricValue(proxy.admin!, 'switchyard_downstream_tls_errors_total', { listener: 'web', kind: 'handshake' });
  const r = await runTool('curl', ['-sS', `http://127.0.0.1:${proxy.port}/`]);
  assert.notEqual(r.code, 0);
  const after = await metricValue(proxy.admin!, 'switchyard_downstream_tls_errors_total', { listener: 'web', kind: 'handshake' });
  assert.equal(after, before + 1);
});
