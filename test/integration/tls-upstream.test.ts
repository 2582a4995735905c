import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as https from 'node:https';
import * as http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { listenLocal, startProxy, request, metricValue, type Running } from '../fixtures/harness';
import { tlsFixture, h2Request, httpsRequest, type TlsFixture } from '../fixtures/tls';

let fx: TlsFixture;
let proxy: Running;
let h1Server: https.Server;
let h2Server: http2.Http2SecureServer;
let mtlsServer: https.Server;
let tlsPort: number;

interface Seen {
  proto: string;
  scheme?: string;
  servername: string | false;
  alpn: string | false;
  client?: string;
}

function seen(socket: TLSSocket, extra: Partial<Seen>): string {
  const peer = socket.getPeerCertificate();
  const s: Seen = {
    proto: 'h1',
    servername: socket.servername ?? false,
    alpn: socket.alpnProtocol ?? false,
    ...extra,
  };
  if (peer !== null && peer.subject !== undefined) s.client = String(peer.subject.CN);
  return JSON.stringify(s);
}

before(async () => {
  fx = await tlsFixture();
  const cert = await readFile(fx.upstream.cert);
  const key = await readFile(fx.upstream.key);
  const ca = await readFile(fx.ca);
  h1Server = https.createServer({ cert, key }, (req, res) => res.end(seen(req.socket as TLSSocket, {})));
  h2Server = http2.createSecureServer({ cert, key }, (req, res) =>
    res.end(seen(req.socket as unknown as TLSSocket, { proto: 'h2', scheme: req.headers[':scheme'] as string })),
  );
  mtlsServer = https.createServer({ cert, key, ca, requestCert: true, rejectUnauthorized: true }, (req, res) =>
    res.end(seen(req.socket as TLSSocket, {})),
  );
  const [p1, p2, p3] = await Promise.all([listenLocal(h1Server), listenLocal(h2Server), listenLocal(mtlsServer)]);
  proxy = await startProxy(
    `
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: plain
    address: 127.0.0.1:0
    routes:
      - { match: { prefix: /h1-sni }, cluster: h1-sni }
      - { match: { prefix: /h1-wrong }, cluster: h1-wrong }
      - { match: { prefix: /h1-noverify }, cluster: h1-noverify }
      - { match: { prefix: /h1 }, cluster: h1 }
      - { match: { prefix: /h2-wrong }, cluster: h2-wrong }
      - { match: { prefix: /h2 }, cluster: h2 }
      - { match: { prefix: /mtls-anon }, cluster: mtls-anon }
      - { match: { prefix: /mtls }, cluster: mtls }
  - name: secure
    address: 127.0.0.1:0
    tls: { certificates: [{ cert: a.crt, key: a.key, sni: [a.example] }] }
    routes:
      - { match: { prefix: / }, cluster: h2 }
clusters:
  - { name: h1, endpoints: [{ address: 127.0.0.1:${p1} }], tls: { ca: ca.crt } }
  - { name: h1-sni, endpoints: [{ address: 127.0.0.1:${p1} }], tls: { ca: ca.crt, sni: upstream.example } }
  - { name: h1-wrong, endpoints: [{ address: 127.0.0.1:${p1} }], tls: { ca: other-ca.crt } }
  - { name: h1-noverify, endpoints: [{ address: 127.0.0.1:${p1} }], tls: { verify: false } }
  - { name: h2, protocol: http2, endpoints: [{ address: 127.0.0.1:${p2} }], tls: { ca: ca.crt } }
  - { name: h2-wrong, protocol: http2, endpoints: [{ address: 127.0.0.1:${p2} }], tls: { ca: other-ca.crt } }
  - { name: mtls, endpoints: [{ address: 127.0.0.1:${p3} }], tls: { ca: ca.crt, cert: client.crt, key: client.key } }
  - { name: mtls-anon, endpoints: [{ address: 127.0.0.1:${p3} }], tls: { ca: ca.crt } }
`,
    { baseDir: fx.dir },
  );
  tlsPort = proxy.server.listenerPort('secure');
});

after(async () => {
  await proxy.stop();
  for (const s of [h1Server, mtlsServer]) s.closeAllConnections();
  await Promise.all([h1Server, h2Server, mtlsServer].map((s) => new Promise((r) => s.close(r))));
});

const get = async (path: string): Promise<{ status: number; body: string }> => request(`${proxy.url}${path}`);

test('HTTP/1.1 upstream over TLS: verified against the CA, ALPN http/1.1, no SNI for an IP, or the configured one', async () => {
  const r = await get('/h1');
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { proto: 'h1', servername: false, alpn: 'http/1.1' });
  const s = await get('/h1-sni');
  assert.equal(s.status, 200, s.body);
  assert.equal((JSON.parse(s.body) as Seen).servername, 'upstream.example');
});

test('HTTP/2 upstream over TLS with ALPN h2; TLS downstreams (h2 and HTTP/1.1) reach it with :scheme https', async () => {
  const r = await get('/h2');
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { proto: 'h2', scheme: 'http', servername: false, alpn: 'h2' });
  const viaTls = await h2Request(tlsPort, '/x', { servername: 'a.example' });
  assert.equal(viaTls.status, 200, viaTls.body);
  assert.equal((JSON.parse(viaTls.body) as Seen).scheme, 'https');
  const viaTlsH1 = await httpsRequest(tlsPort, '/y', { servername: 'a.example' });
  assert.equal(viaTlsH1.status, 200, viaTlsH1.body);
  assert.equal((JSON.parse(viaTlsH1.body) as Seen).scheme, 'https', 'HTTP/1.1 over TLS gets :scheme https');
});

test('a certificate the configured CA does not vouch for is a connect failure: 503', async () => {
  const before = await metricValue(proxy.admin!, 'switchyard_local_replies_total', { reason: 'connect_failure' });
  const r1 = await get('/h1-wrong');
  assert.equal(r1.status, 503);
  assert.equal(r1.body, 'upstream connect error\n');
  const r2 = await get('/h2-wrong');
  assert.equal(r2.status, 503);
  assert.equal(r2.body, 'upstream connect error\n');
  assert.equal(await metricValue(proxy.admin!, 'switchyard_local_replies_total', { reason: 'connect_failure' }), before + 2);
});

test('verify: false accepts any certificate', async () => {
  const r = await get('/h1-noverify');
  assert.equal(r.status, 200, r.body);
});

test('client certificate to an upstream that requires one', async () => {
  const r = await get('/mtls');
  assert.equal(r.status, 200, r.body);
  assert.equal((JSON.parse(r.body) as Seen).client, 'client');
  const anon = await get('/mtls-anon');
  // Under TLS 1.3 the server checks the client certificate after the client's handshake completed:
  // the refusal shows as a reset of the first request (a connect failure under TLS 1.2).
  assert.equal(anon.status, 503);
  assert.match(anon.body, /^upstream (reset before response|connect error)\n$/);
});
