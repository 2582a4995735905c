/**
 * The `grpc` health check: grpc.health.v1.Health/Check over h2c (node:http2) on a session of
 * its own; the endpoint passes when the call ends with grpc-status 0 and a HealthCheckResponse
 * whose status is SERVING (1). The two protobuf messages are encoded and decoded by hand:
 * HealthCheckRequest { string service = 1; }, HealthCheckResponse { ServingStatus status = 1; }.
 * Must never: use the cluster's traffic pool, or accept a compressed or truncated message.
 */
import * as http2 from 'node:http2';
import { tlsConnectOptions } from '../connect';
import { OneShot, type ProbeDone, type ProbeHandle, type Prober, type ProbeTarget } from './probe';

export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
export const SERVING = 1;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** HealthCheckRequest{service} as protobuf bytes (empty for the default "" service). */
export function encodeHealthCheckRequest(service: string): Buffer {
  const s = Buffer.from(service, 'utf8');
  if (s.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0x0a, ...varint(s.length)]), s]);
}

/** A gRPC length-prefixed message (uncompressed). */
export function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** Reads a varint at `pos`; [value, next position] or null when truncated or too long. */
function readVarint(buf: Buffer, pos: number): [number, number] | null {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) return null;
    const b = buf[pos++];
    value += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [value, pos];
    mul *= 128;
  }
  return null;
}

/** HealthCheckResponse.status (0 when absent), or -1 for malformed protobuf. Unknown fields are skipped. */
export function decodeServingStatus(msg: Buffer): number {
  let status = 0;
  let pos = 0;
  while (pos < msg.length) {
    const key = readVarint(msg, pos);
    if (key === null) return -1;
    pos = key[1];
    const field = Math.floor(key[0] / 8);
    const wire = key[0] % 8;
    if (wire === 0) {
      const v = readVarint(msg, pos);
      if (v === null) return -1;
      pos = v[1];
      if (field === 1) status = v[0];
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = readVarint(msg, pos);
      if (len === null) return -1;
      pos = len[1] + len[0];
    } else return -1;
    if (pos > msg.length) return -1;
  }
  return status;
}

/** The one message of a unary gRPC response body, or a reason it is not one. */
export function unaryMessage(body: Buffer): Buffer | string {
  if (body.length < 5) return 'no response message';
  if (body[0] !== 0) return 'compressed response message';
  const len = body.readUInt32BE(1);
  if (body.length !== 5 + len) return 'malformed response framing';
  return body.subarray(5);
}

export function grpcProber(opts: { readonly serviceName: string; readonly host: string }): Prober {
  const payload = grpcFrame(encodeHealthCheckRequest(opts.serviceName));
  return {
    type: 'grpc',
    start(target: ProbeTarget, done: ProbeDone): ProbeHandle {
      const h = target.host.includes(':') ? `[${target.host}]` : target.host;
      let session: http2.ClientHttp2Session | null = null;
      const shot = new OneShot(done, () => session?.destroy());
      try {
        const t = target.tls ?? null;
        session =
          t === null
            ? http2.connect(`http://${h}:${target.port}`)
            : http2.connect(`https://${h}:${target.port}`, { ...tlsConnectOptions(t, target.host), ALPNProtocols: ['h2'] });
      } catch (err) {
        queueMicrotask(() => shot.finish(false, (err as Error).message));
        return shot;
      }
      session.on('error', (err: Error) => shot.finish(false, err.message));
      session.on('close', () => shot.finish(false, 'session closed'));
      let req: http2.ClientHttp2Stream;
      try {
        req = session.request({
          ':method': 'POST',
          ':path': HEALTH_CHECK_PATH,
          ':authority': opts.host,
          'content-type': 'application/grpc',
          te: 'trailers',
          'user-agent': 'switchyard-health-check',
        });
      } catch (err) {
        queueMicrotask(() => shot.finish(false, (err as Error).message));
        return shot;
      }
      let httpStatus = 0;
      let grpcStatus: string | undefined;
      const chunks: Buffer[] = [];
      let bytes = 0;
      req.on('response', (headers) => {
        httpStatus = Number(headers[':status']);
        const g = headers['grpc-status'];
        if (g !== undefined) grpcStatus = String(g);
      });
      req.on('trailers', (trailers) => {
        const g = trailers['grpc-status'];
        if (g !== undefined) grpcStatus = String(g);
      });
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > 64 * 1024) return shot.finish(false, 'response too large');
        chunks.push(c);
      });
      req.on('end', () => {
        if (httpStatus !== 200) return shot.finish(false, `HTTP status ${httpStatus}`);
        if (grpcStatus !== '0') return shot.finish(false, `grpc-status ${grpcStatus ?? 'missing'}`);
        const msg = unaryMessage(Buffer.concat(chunks));
        if (typeof msg === 'string') return shot.finish(false, msg);
        const status = decodeServingStatus(msg);
        if (status === SERVING) shot.finish(true);
        else shot.finish(false, status < 0 ? 'malformed HealthCheckResponse' : `serving status ${status}`);
      });
      req.on('error', (err: Error) => shot.finish(false, err.message));
      req.end(payload);
      return shot;
    },
  };
}
