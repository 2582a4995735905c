/**
 * Benchmark provider for the rpc suite: a raw-`net` server that speaks just enough Dubbo 2 and
 * Bolt v1 to answer every request with a canned success response carrying the request's id, so
 * that the provider is never what limits a proxy. One port per protocol. Frames are delimited by
 * their headers (Dubbo: 16 bytes, body length at 12; Bolt v1 request: 22 bytes, class/header/content
 * lengths at 14/16/18); all responses for one chunk read go out in one write. Two-way requests get
 * the canned response (Dubbo: flag 0x02, status 20, hessian2 RESPONSE_VALUE + "ok"; Bolt: status 0,
 * class SofaResponse, no header map, SofaResponse content), one-way requests nothing, heartbeats
 * their ack; anything undecodable closes the connection.
 *
 * Usage (as a child process): node rpc-responder.js <dubboPort> <boltPort> [host]
 * Prints "listening dubbo <port> bolt <port>" on stdout once both are bound.
 * Must never: decode a hessian body, or buffer without bound.
 */

import { createServer, type Server, type Socket } from 'node:net';
import { buildResponse, classify, copyFrameId, frameLength, heartbeatReply, type RpcProtocol } from '../load/rpc-frames';

const MAX_FRAME = 16 * 1024 * 1024;

/**
 * Turns the request frames in `buf` into the bytes to answer, starting at `pos`; returns where the
 * first incomplete frame begins (buf.length when none) and the reply, or throws on a bad frame.
 */
export function answerFrames(protocol: RpcProtocol, canned: Buffer, buf: Buffer): { consumed: number; reply: Buffer | null } {
  let pos = 0;
  let count = 0;
  let extra: Buffer[] | null = null;
  // First pass: count two-way requests so that the reply is one allocation.
  const starts: number[] = [];
  while (pos < buf.length) {
    const len = frameLength(protocol, buf, pos);
    if (len < 0 || pos + len > buf.length) {
      if (len > MAX_FRAME) throw new Error(`frame of ${len} bytes is too large`);
      break;
    }
    const kind = classify(protocol, buf, pos);
    if (kind === 'request') {
      starts.push(pos);
      count++;
    } else if (kind === 'heartbeat-request') {
      (extra ??= []).push(heartbeatReply(protocol, buf, pos));
    } else if (kind !== 'oneway' && kind !== 'heartbeat-response') {
      throw new Error(`unexpected ${kind} frame from a client`);
    }
    pos += len;
  }
  if (count === 0 && extra === null) return { consumed: pos, reply: null };
  const len = canned.length;
  const out = Buffer.allocUnsafe(len * count);
  for (let i = 0; i < count; i++) {
    canned.copy(out, i * len);
    copyFrameId(protocol, buf, starts[i], out, i * len);
  }
  return { consumed: pos, reply: extra ? Buffer.concat([out, ...extra]) : out };
}

function serve(protocol: RpcProtocol): Server {
  const canned = buildResponse(protocol, 1, 'ok');
  return createServer({ noDelay: true }, (sock: Socket) => {
    let pending: Buffer | null = null;
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = null;
      let r: { consumed: number; reply: Buffer | null };
      try {
        r = answerFrames(protocol, canned, buf);
      } catch (e) {
        process.stderr.write(`responder(${protocol}): ${(e as Error).message}; closing the connection\n`);
        sock.destroy();
        return;
      }
      if (r.consumed < buf.length) pending = Buffer.from(buf.subarray(r.consumed));
      if (r.reply) sock.write(r.reply);
    });
  });
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/** Starts both servers; resolves with their bound ports. */
export async function startResponder(dubboPort: number, boltPort: number, host = '127.0.0.1'): Promise<{ dubbo: number; bolt: number; close(): void }> {
  const d = serve('dubbo');
  const b = serve('bolt');
  const [dp, bp] = [await listen(d, dubboPort, host), await listen(b, boltPort, host)];
  return { dubbo: dp, bolt: bp, close: () => (d.close(), b.close()) };
}

if (require.main === module) {
  const dubboPort = Number(process.argv[2] ?? 0);
  const boltPort = Number(process.argv[3] ?? 0);
  const host = process.argv[4] ?? '127.0.0.1';
  startResponder(dubboPort, boltPort, host).then(
    (r) => process.stdout.write(`listening dubbo ${r.dubbo} bolt ${r.bolt}\n`),
    (e: unknown) => {
      process.stderr.write(`responder: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
  process.on('SIGTERM', () => process.exit(0));
}
