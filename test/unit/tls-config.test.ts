import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load';
import { configIssues } from '../fixtures/config-issues';
import { registerBuiltins } from '../../src/builtins';
import { tlsFixture, scratchDir, type TlsFixture } from '../fixtures/tls';

let fx: TlsFixture;
let scratch: string;

before(async () => {
  registerBuiltins();
  fx = await tlsFixture();
  scratch = await scratchDir();
  await writeFile(join(scratch, 'garbage.pem'), 'this is not PEM\n');
});

after(() => rm(scratch, { recursive: true, force: true }));

function yaml(listenerTls: string, clusterTls = '', protocol = 'http', match = '{ prefix: / }'): string {
  return `
admin: null
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    protocol: ${protocol}
${listenerTls ? `    tls: ${listenerTls}` : ''}
    routes:
      - match: ${match}
        cluster: api
clusters:
  - name: api
    endpoints: [{ address: 127.0.0.1:1 }]
${clusterTls ? `    tls: ${clusterTls}` : ''}
`;
}

const errors = (text: string): string[] => configIssues(() => parseConfigText(text, { format: 'yaml', baseDir: fx.dir }));

test('a full listener tls section: names lower-cased, relative paths resolved, defaults filled', () => {
  const c = parseConfigText(
    yaml(`{ certificates: [{ cert: a.crt, key: a.key, sni: [A.Example] }, { cert: wild.crt, key: wild.key, sni: "*.Wild.Example" }],
      default_certificate: 1, client_auth: { mode: required, ca: ca.crt, allowed_sans: [spiffe://test/client] } }`),
    { format: 'yaml', baseDir: fx.dir },
  );
  const t = c.listeners[0].tls!;
  assert.deepEqual(t.certificates, [
    { cert: fx.a.cert, key: fx.a.key, sni: ['a.example'] },
    { cert: fx.wild.cert, key: fx.wild.key, sni: ['*.wild.example'] },
  ]);
  assert.equal(t.default_certificate, 1);
  assert.deepEqual(t.alpn, ['h2', 'http/1.1']);
  assert.equal(t.min_version, 'TLSv1.2');
  assert.equal(t.on_unknown_sni, 'default');
  assert.deepEqual(t.client_auth, { mode: 'required', ca: fx.ca, allowed_sans: ['spiffe://test/client'] });
});

test('default ALPN follows the listener protocol', () => {
  const l = (p: string) => parseConfigText(yaml(`{ certificates: [{ cert: a.crt, key: a.key }] }`, '', p), { format: 'yaml', baseDir: fx.dir });
  assert.deepEqual(l('http2').listeners[0].tls!.alpn, ['h2']);
  assert.deepEqual(l('auto').listeners[0].tls!.alpn, []);
});

test('missing, unreadable and invalid files are errors naming the file, with their path', () => {
  const missing = join(fx.dir, 'nope.crt');
  assert.deepEqual(errors(yaml(`{ certificates: [{ cert: nope.crt, key: a.key }] }`)), [
    `listeners[0].tls.certificates[0].cert: cannot read certificate file "${missing}": no such file`,
  ]);
  const garbage = join(scratch, 'garbage.pem');
  const g = errors(yaml(`{ certificates: [{ cert: ${garbage}, key: ${garbage} }] }`));
  assert.equal(g.length, 2);
  assert.equal(g[0], `listeners[0].tls.certificates[0].cert: certificate file "${garbage}" holds no PEM certificate`);
  assert.ok(g[1].startsWith(`listeners[0].tls.certificates[0].key: key file "${garbage}" holds no valid PEM private key: `), g[1]);
  const e = errors(yaml(`{ certificates: [{ cert: a.crt, key: b.key }] }`));
  assert.equal(e.length, 1);
  assert.match(e[0], /^listeners\[0\]\.tls\.certificates\[0\]: key ".*b\.key" does not match certificate ".*a\.crt"/);
});

test('client auth needs a CA; bad names, ranges and keys are rejected', () => {
  assert.deepEqual(errors(yaml(`{ certificates: [{ cert: a.crt, key: a.key }], client_auth: { mode: required } }`)), [
    'listeners[0].tls.client_auth.ca: required',
  ]);
  assert.deepEqual(errors(yaml(`{ certificates: [{ cert: a.crt, key: a.key, sni: ["a.*.example", a.example] }, { cert: b.crt, key: b.key, sni: [A.EXAMPLE] }], default_certificate: 2 }`)), [
    'listeners[0].tls.certificates[0].sni[0]: invalid server name "a.*.example": expected a DNS name or "*.suffix"',
    'listeners[0].tls.certificates[1].sni[0]: server name "a.example" is already served by listeners[0].tls.certificates[0]',
    'listeners[0].tls.default_certificate: must be between 0 and 1, got 2',
  ]);
  assert.deepEqual(errors(yaml(`{ certificates: [{ cert: a.crt, key: a.key }], min_version: TLSv1.1, ciphers: x }`)), [
    'listeners[0].tls.ciphers: unknown key',
    'listeners[0].tls.min_version: expected one of "TLSv1.2", "TLSv1.3", got "TLSv1.1"',
  ]);
  assert.deepEqual(errors(yaml(`{ certificates: [] }`)), ['listeners[0].tls.certificates: needs at least one certificate']);
});

test('cluster tls: defaults, cert without key, bad CA file, unknown keys', () => {
  const c = parseConfigText(yaml('', `{ ca: ca.crt, sni: Upstream.Example }`), { format: 'yaml', baseDir: fx.dir });
  assert.deepEqual(c.clusters[0].tls, { verify: true, alpn: ['http/1.1'], sni: 'upstream.example', ca: fx.ca });
  const noVerify = parseConfigText(yaml('', `{ verify: false }`), { format: 'yaml', baseDir: fx.dir });
  assert.deepEqual(noVerify.clusters[0].tls, { verify: false, alpn: ['http/1.1'] });
  assert.deepEqual(errors(yaml('', `{ cert: client.crt }`)), ['clusters[0].tls.key: required with cert']);
  assert.deepEqual(errors(yaml('', `{ ca: a.key, verfy: true }`)), [
    'clusters[0].tls.verfy: unknown key (did you mean "verify"?)',
    `clusters[0].tls.ca: CA file "${fx.a.key}" holds no PEM certificate`,
  ]);
  assert.deepEqual(errors(yaml('', `{ sni: 10.0.0.1 }`)), ['clusters[0].tls.sni: invalid server name "10.0.0.1": expected a DNS name']);
});

test('route match keys sni and peer_san', () => {
  const c = parseConfigText(yaml('', '', 'http', '{ sni: "*.Wild.Example", peer_san: "spiffe://test/client" }'), { format: 'yaml', baseDir: fx.dir });
  assert.deepEqual(c.listeners[0].routes[0].match, { sni: '*.wild.example', peer_san: 'spiffe://test/client' });
  assert.deepEqual(errors(yaml('', '', 'http', '{ sni: "bad name" }')), [
    'listeners[0].routes[0].match.sni: invalid server name "bad name": expected a DNS name or "*.suffix"',
  ]);
});
