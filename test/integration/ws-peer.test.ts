/**
 * WebSocket through the proxy with the `ws` package as both peers (a client and a server nobody
 * on this project wrote): 10,000 echoed messages, messages both ways at once, the handshake
 * routed and filtered, a refused upgrade (403), and the upstream closing mid-tunnel. Skipped,
 * with a message, when `ws` is not installed; ws-raw.test.ts covers the feature without it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type * as net from 'node:net';
import { once } from 'node:events';
import { startProxy, type Running } from '../fixtures/harness';

/** The slice of the `ws` API these tests use. */
interface WsSocket {
  send(data: string | Buffer): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(ev: 'message', fn: (data: Buffer, isBinary: boolean) => void): void;
  on(ev: 'close', fn: (code: number, reason: Buffer) => void): void;
  on(ev: 'unexpected-response', fn: (req: http.ClientRequest, res: http.IncomingMessage) => void): void;
  on(ev: 'error' | 'open', fn: (...a: unknown[]) => void): void;
  once(ev: string, fn: (...a: unknown[]) => void): void;
}
interface WsModule {
  WebSocket: new (url: string, opts?: { headers?: Record<string, string> }) => WsSocket;
  WebSocketServer: new (opts: { noServer: true }) => {
    handleUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, cb: (ws: WsSocket) => void): void;
    close(): void;
  };
}

function loadWs(): WsModule | null {
  try {
    require.resolve('ws');
  } catch {
    return null;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('ws') as WsModule;
}

const ws = loadWs();
const skip = ws === null ? 'the `ws` package is not installed (npm i -D ws); ws-raw.test.ts covers upgrades without it' : false;

describe('WebSocket through the proxy (ws peers)', { skip }, () => {
  let server: http.Server;
  let proxy: Running;
  const handshakes: http.IncomingHttpHeaders[] = [];

  before(async () => {
    const W = ws!;
    const wss = new W.WebSocketServer({ noServer: true });
    server = http.createServer((_req, res) => res.end('not a websocket\n'));
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      handshakes.push(req.headers);
      if (req.url === '/refuse') {
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (conn) => {
        if (req.url === '/chatty') {
          for (let i = 0; i < 2000; i++) conn.send(`server ${i}`);
        }
        if (req.url === '/close-after-first') {
          conn.once('message', () => conn.close(4001, 'going away'));
          return;
        }
        conn.on('message', (data, isBinary) => conn.send(isBinary ? data : data.toString()));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
access_log: false
listeners:
  - name: web
    address: 127.0.0.1:0
    filters:
      - name: headers
        config: { request: { set: { x-via-filter: ws } } }
    routes:
      - match: { prefix: / }
        cluster: ws
clusters:
  - name: ws
    endpoints: [{ address: 127.0.0.1:${port} }]
`);
  });

  after(async () => {
    await proxy?.stop();
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  async function connect(path: string): Promise<WsSocket> {
    const c = new ws!.WebSocket(`ws://127.0.0.1:${proxy.port}${path}`);
    await new Promise<void>((resolve, reject) => {
      c.once('open', () => resolve());
      c.once('error', (e) => reject(e as Error));
    });
    return c;
  }

  it('echoes 10,000 messages in order', async () => {
    const c = await connect('/echo');
    const n = 10_000;
    const got: string[] = [];
    const done = new Promise<void>((resolve) => {
      c.on('message', (d) => {
        got.push(d.toString());
        if (got.length === n) resolve();
      });
    });
    for (let i = 0; i < n; i++) c.send(`m${i}`);
    await done;
    for (let i = 0; i < n; i++) assert.equal(got[i], `m${i}`);
    c.close();
    await once(c as unknown as NodeJS.EventEmitter, 'close');
    assert.equal(handshakes[handshakes.length - 1]['x-via-filter'], 'ws');
  });

  it('carries messages both ways at once', async () => {
    // The server starts sending at once: its first messages may arrive with the handshake, so the
    // listener must be there before 'open'.
    const c = new ws!.WebSocket(`ws://127.0.0.1:${proxy.port}/chatty`);
    let fromServer = 0;
    let echoed = 0;
    const done = new Promise<void>((resolve) => {
      c.on('message', (d) => {
        const s = d.toString();
        if (s.startsWith('server ')) fromServer++;
        else echoed++;
        if (fromServer === 2000 && echoed === 2000) resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      c.once('open', () => resolve());
      c.once('error', (e) => reject(e as Error));
    });
    for (let i = 0; i < 2000; i++) c.send(Buffer.from(`client ${i}`));
    await done;
    c.close();
  });

  it('passes a refused upgrade (403) to the client', async () => {
    const c = new ws!.WebSocket(`ws://127.0.0.1:${proxy.port}/refuse`);
    const status = await new Promise<number>((resolve) => {
      c.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
      });
      c.on('error', () => {});
    });
    assert.equal(status, 403);
  });

  it('closes the client when the upstream closes mid-tunnel', async () => {
    const c = await connect('/close-after-first');
    const closed = new Promise<number>((resolve) => c.on('close', (code) => resolve(code)));
    c.send('hi');
    assert.equal(await closed, 4001);
  });
});
