/**
 * Benchmark upstream for the http2 suite: an h2c (prior knowledge) server on node:http2 that
 * answers every request at once — a fixed 200 with a fixed-size body (default 100 bytes), or, for
 * a gRPC request (content-type application/grpc*), a canned unary reply: HEADERS (200,
 * application/grpc), one length-prefixed message, trailers grpc-status 0. Request bodies are
 * read and discarded. High stream limits and windows so that it never throttles a proxy.
 *
 * Usage (as a child process): node h2-upstream.js <port> [bodyBytes] [host]
 * Prints "listening <port>" on stdout once bound. Must never: buffer request bodies.
 */

import * as http2 from 'node:http2';

/** The canned gRPC reply message: protobuf field 1 (string) = "ok", with the 5-byte gRPC prefix. */
export const GRPC_REPLY = Buffer.from([0, 0, 0, 0, 4, 0x0a, 0x02, 0x6f, 0x6b]);

/** A gRPC request message the load sends: field 1 (string) of `n` 'x' characters, prefixed. */
export function grpcRequestMessage(n: number): Buffer {
  const payload: number[] = [0x0a];
  let len = n;
  while (len >= 0x80) {
    payload.push((len & 0x7f) | 0x80);
    len >>>= 7;
  }
  payload.push(len);
  const msg = Buffer.concat([Buffer.from(payload), Buffer.alloc(n, 0x78)]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(msg.length, 1);
  return Buffer.concat([prefix, msg]);
}

function onWantTrailers(this: http2.ServerHttp2Stream): void {
  this.sendTrailers({ 'grpc-status': '0' });
}

export function startH2Upstream(port: number, host: string, bodyBytes: number, onListening: (port: number) => void): http2.Http2Server {
  const body = Buffer.alloc(bodyBytes, 0x78);
  const server = http2.createServer({
    settings: { maxConcurrentStreams: 10_000, initialWindowSize: 1 << 24 },
    maxSessionMemory: 64,
  });
  server.on('session', (s) => {
    s.on('error', () => {});
    try {
      s.setLocalWindowSize(1 << 26);
    } catch {
      /* closed already */
    }
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    stream.resume(); // discard any request body
    const ct = headers['content-type'];
    if (typeof ct === 'string' && ct.startsWith('application/grpc')) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', onWantTrailers);
      stream.end(GRPC_REPLY);
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': bodyBytes });
    stream.end(body);
  });
  server.on('error', (err) => {
    process.stderr.write(`h2-upstream: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(port, host, () => {
    const addr = server.address();
    onListening(typeof addr === 'object' && addr ? addr.port : port);
  });
  return server;
}

if (require.main === module) {
  const port = Number(process.argv[2] ?? 0);
  const bodyBytes = Number(process.argv[3] ?? 100);
  const host = process.argv[4] ?? '127.0.0.1';
  startH2Upstream(port, host, bodyBytes, (p) => process.stdout.write(`listening ${p}\n`));
  process.on('SIGTERM', () => process.exit(0));
}
