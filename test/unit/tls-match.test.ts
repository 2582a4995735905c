import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../src/api/headers';
import { compileRouteTable } from '../../src/router';
import type { RouteConfig } from '../../src/config/types';
import { contextForName, parseSubjectAltNames, type CertificateSet } from '../../src/listener/tls-contexts';

function route(name: string, match: RouteConfig['match']): RouteConfig {
  return { name, match, direct_response: { status: 200, body: name, headers: [] }, timeout_ms: 0 };
}

const table = compileRouteTable([
  route('exact-sni', { sni: 'a.example' }),
  route('wild-sni', { sni: '*.wild.example', prefix: '/w' }),
  route('san', { peer_san: 'spiffe://test/client' }),
  route('rest', {}),
]);
const h = (path = '/') => new HeaderMap([':method', 'GET', ':path', path, ':authority', 'x']);

test('routes match on the connection SNI: exact, then wildcard (one label or more before the suffix)', () => {
  assert.equal(table.match(h(), { sni: 'a.example' })?.name, 'exact-sni');
  assert.equal(table.match(h('/w'), { sni: 'x.wild.example' })?.name, 'wild-sni');
  assert.equal(table.match(h('/w'), { sni: 'wild.example' })?.name, 'rest');
  assert.equal(table.match(h('/'), { sni: 'x.wild.example' })?.name, 'rest');
  assert.equal(table.match(h(), { sni: 'b.example' })?.name, 'rest');
});

test('routes match on a SAN of the verified client certificate; no conn info fails conn checks', () => {
  assert.equal(table.match(h(), { sni: 'b.example', peerSans: ['dns.example', 'spiffe://test/client'] })?.name, 'san');
  assert.equal(table.match(h(), { peerSans: ['spiffe://test/other'] })?.name, 'rest');
  assert.equal(table.match(h())?.name, 'rest');
});

test('contextForName: exact name first, then the wildcard of the parent, case-insensitive', () => {
  const a = {} as never;
  const w = {} as never;
  const set = { exact: new Map([['a.example', a]]), wildcard: new Map([['.wild.example', w]]) } as unknown as CertificateSet;
  assert.equal(contextForName(set, 'A.Example'), a);
  assert.equal(contextForName(set, 'x.wild.example'), w);
  assert.equal(contextForName(set, 'y.x.wild.example'), null);
  assert.equal(contextForName(set, 'wild.example'), null);
  assert.equal(contextForName(set, 'b.example'), null);
});

test('parseSubjectAltNames keeps DNS and URI entries, decodes quoted values', () => {
  assert.deepEqual(parseSubjectAltNames('DNS:a.example, URI:spiffe://t/a, IP Address:127.0.0.1, email:x@y'), ['a.example', 'spiffe://t/a']);
  assert.deepEqual(parseSubjectAltNames('URI:"spiffe://t/a,b", DNS:c.example'), ['spiffe://t/a,b', 'c.example']);
  assert.deepEqual(parseSubjectAltNames(undefined), []);
  assert.deepEqual(parseSubjectAltNames(''), []);
});
