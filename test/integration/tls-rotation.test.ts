import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as https from 'node:https';
import { EventEmitter, once } from 'node:events';
import { readFile, writeFile, rm } from 'node:fs/promises';
import type { TLSSocket } from 'node:tls';
import { startProxy, type Running } from '../fixtures/harness';
import { tlsFixture, handshake, copyPair, scratchDir, type TlsFixture, type CertPair } from '../fixtures/tls';
import type { Logger } from '../../src/api';
import { parseConfigText } from '../../src/config/load';

let fx: TlsFixture;
let dir: string;
let pair: CertPair;
let proxy: Running;
const events = new EventEmitter();

const log: Logger = {
  debug() {},
  info(msg) {
    if (msg === 'tls certificates reloaded') events.emit('reloaded');
  },
  warn() {},
  error(msg, fields) {
    if (msg.startsWith('tls certificates not reloaded')) events.emit('failed', fields);
  },
};

function config(onUnknown: string): string {
  return `
admin: null
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    tls: { certificates: [{ cert: ${pair.cert}, key: ${pair.key}, sni: [a.example] }], on_unknown_sni: ${onUnknown} }
    routes:
      - match: { prefix: / }
        direct_response: { status: 200, body: ok }
`;
}

before(async () => {
  fx = await tlsFixture();
  dir = await scratchDir();
  pair = await copyPair(fx.a, dir, 'served');
  proxy = await startProxy(config('default'), { log });
});

after(async () => {
  await proxy.stop();
  await rm(dir, { recursive: true, force: true });
});

function get(agent: https.Agent): Promise<{ status: number; socket: TLSSocket }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: proxy.port, path: '/', agent, servername: 'a.example' }, (res) => {
      const socket = res.socket as TLSSocket;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, socket }));
    });
    req.on('error', reject);
  });
}

test('rewritten certificate files are picked up; an open keep-alive connection is not dropped', { timeout: 15_000 }, async () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: await readFile(fx.ca) });
  try {
    const first = await get(agent);
    assert.equal(first.status, 200);
    assert.equal(first.socket.getPeerCertificate().subject.O, undefined);

    await writeFile(pair.key, await readFile(fx.a2.key));
    await writeFile(pair.cert, await readFile(fx.a2.cert));
    // A cert and its key written one after the other may take two reloads (the first can see a
    // mismatched pair and keep the old set): check after every reload attempt until the new
    // certificate is served. The next attempt is awaited from before each check, so none is missed.
    for (;;) {
      const attempt = Promise.race([once(events, 'reloaded'), once(events, 'failed')]);
      if ((await handshake(proxy.port, { servername: 'a.example' })).subject === 'O=rotated,CN=a.example') break;
      await attempt;
    }

    const second = await get(agent);
    assert.equal(second.status, 200);
    assert.equal(second.socket, first.socket, 'the keep-alive connection was reused');
    assert.equal(second.socket.getPeerCertificate().subject.O, undefined, 'it still runs on the old certificate');
  } finally {
    agent.destroy();
  }
});

test('a broken certificate file keeps the previous certificates in use and logs an error', { timeout: 15_000 }, async () => {
  const before = (await handshake(proxy.port, { servername: 'a.example' })).subject;
  const failed = once(events, 'failed');
  await writeFile(pair.cert, 'not a certificate\n');
  const [fields] = (await failed) as [{ error: string }];
  assert.match(fields.error, /served\.crt/);
  assert.equal((await handshake(proxy.port, { servername: 'a.example' })).subject, before);
});

test('a config reload changes the TLS policy of a listener that keeps its port', { timeout: 15_000 }, async () => {
  await writeFile(pair.cert, await readFile(fx.a.cert));
  await writeFile(pair.key, await readFile(fx.a.key));
  assert.equal((await handshake(proxy.port, { servername: 'other.example', verify: false })).subject.endsWith('CN=a.example'), true);
  const r = await proxy.server.reload(parseConfigText(config('reject'), { format: 'yaml' }));
  assert.deepEqual(r, { ok: true, errors: [] });
  await assert.rejects(handshake(proxy.port, { servername: 'other.example', verify: false }));
  assert.equal((await handshake(proxy.port, { servername: 'a.example' })).subject.endsWith('CN=a.example'), true);
});
