/**
 * The reference issue #4's HTTP/2 target is measured against: the plain proxy a Node developer would
 * write in an afternoon — a node:http2 h2c server (compatibility API) forwarding every request to one
 * HTTP/1.1 upstream through an undici Pool with keep-alive, streaming both bodies with `.pipe()`,
 * dropping connection-specific headers both ways. No routing, filters, stats or limits.
 *
 * Usage (as a child process): node node-h2-proxy.js <port> <upstreamPort>
 * Prints "listening <port>" once bound. Must never: be mistaken for Switchyard (it only exists so the
 * http2 suite can report "× plain node proxy" from the same run).
 */

import { createServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { Pool } from 'undici';

/** Headers HTTP/2 forbids or that only describe one hop. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'host']);

function forward(req: Http2ServerRequest, res: Http2ServerResponse, pool: Pool): void {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k[0] !== ':' && !HOP.has(k) && v !== undefined) headers[k] = v;
  }
  headers.host = req.authority;
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool
    .request({ path: req.url, method: req.method as 'GET', headers, body: hasBody ? req : null })
    .then(({ statusCode, headers: up, body }) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up)) if (!HOP.has(k) && v !== undefined) out[k] = v;
      res.writeHead(statusCode, out);
      body.on('error', () => res.stream.close());
      body.pipe(res);
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
}

function main(): void {
  const port = Number(process.argv[2]);
  const upstreamPort = Number(process.argv[3]);
  if (!Number.isInteger(port) || !Number.isInteger(upstreamPort)) {
    process.stderr.write('usage: node node-h2-proxy.js <port> <upstreamPort>\n');
    process.exit(2);
  }
  const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 128, pipelining: 1 });
  const server = createServer((req, res) => forward(req, res, pool));
  server.on('sessionError', () => {});
  server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
  const stop = (): void => {
    server.close();
    void pool.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
