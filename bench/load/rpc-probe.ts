/**
 * One-request correctness check of an rpc target before any load: sends the benchmark's canned
 * request with a known id and expects a success response with that id within the timeout.
 * Used by the rpc suite (in the harness process); unit-tested against the responder.
 * Must never: leave its socket open.
 */

import { connect } from 'node:net';
import { DEFAULT_CALL, buildRequest, classify, frameId, frameLength, heartbeatReply, responseOk, responseStatus, type RpcProtocol } from './rpc-frames';

const PROBE_ID = 0x5eed;

export function probeRpc(protocol: RpcProtocol, port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (err: Error | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`${protocol} probe: no response within ${timeoutMs} ms`)), timeoutMs);
    sock.on('connect', () => sock.write(buildRequest(protocol, DEFAULT_CALL, PROBE_ID)));
    sock.on('error', (e) => finish(new Error(`${protocol} probe failed: ${e.message}`)));
    sock.on('close', () => finish(new Error(`${protocol} probe: connection closed before a response`)));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      try {
        for (;;) {
          const len = frameLength(protocol, buf, 0);
          if (len < 0 || len > buf.length) return;
          const kind = classify(protocol, buf, 0);
          if (kind === 'heartbeat-request') {
            sock.write(heartbeatReply(protocol, buf, 0));
          } else if (kind === 'response') {
            const id = frameId(protocol, buf, 0);
            if (id !== PROBE_ID) return finish(new Error(`${protocol} probe: response id ${id}, expected ${PROBE_ID}`));
            if (!responseOk(protocol, buf, 0)) return finish(new Error(`${protocol} probe: response status ${responseStatus(protocol, buf, 0)}`));
            return finish(null);
          }
          buf = buf.subarray(len);
        }
      } catch (e) {
        finish(new Error(`${protocol} probe: ${(e as Error).message}`));
      }
    });
  });
}
