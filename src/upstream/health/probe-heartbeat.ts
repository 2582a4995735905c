/**
 * The `heartbeat` health check for RPC clusters: on a connection of its own, sends the codec's
 * heartbeat request (codec.heartbeatRequest) and passes when the first whole frame back is a
 * heartbeat response (codec.peek) carrying the same request id. Works for any registered
 * RpcCodec (Dubbo, Bolt, user codecs).
 * Must never: use the cluster's traffic pool, or read past the first frame.
 */
import type { RpcCodec } from '../../api/rpc';
import { FrameError } from '../../api/rpc';
import { openProbeSocket, type ProbeDone, type ProbeHandle, type Prober, type ProbeTarget } from './probe';

/** Largest heartbeat response accepted. */
const MAX_FRAME = 64 * 1024;

let nextId = 1;

function takeId(): number {
  const id = nextId;
  nextId = nextId >= 0x7fffffff ? 1 : nextId + 1;
  return id;
}

export function heartbeatProber(codec: RpcCodec): Prober {
  return {
    type: 'heartbeat',
    start(target: ProbeTarget, done: ProbeDone): ProbeHandle {
      const { sock, readyEvent, shot } = openProbeSocket(target, done, 'connection closed before a heartbeat response');
      const id = takeId();
      let buf: Buffer = Buffer.alloc(0);
      sock.once(readyEvent, () => {
        let frame: Buffer;
        try {
          frame = codec.heartbeatRequest(id);
        } catch (err) {
          return shot.finish(false, `codec could not build a heartbeat: ${(err as Error).message}`);
        }
        sock.write(frame);
      });
      sock.on('data', (chunk: Buffer) => {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        let info;
        try {
          info = codec.peek(buf);
        } catch (err) {
          return shot.finish(false, `codec error: ${(err as Error).message}`);
        }
        if (info === 'need-more') {
          if (buf.length > MAX_FRAME) shot.finish(false, 'heartbeat response too large');
          return;
        }
        if (info instanceof FrameError || !('kind' in info)) return shot.finish(false, `bad frame: ${(info as FrameError).message}`);
        if (info.length > MAX_FRAME) return shot.finish(false, 'heartbeat response too large');
        if (buf.length < info.length) return;
        if (info.kind !== 'heartbeat-response') return shot.finish(false, `got a ${info.kind} frame`);
        let got: number | bigint;
        try {
          got = codec.getRequestId(buf.subarray(0, info.length));
        } catch (err) {
          return shot.finish(false, `codec error: ${(err as Error).message}`);
        }
        if (String(got) !== String(id)) return shot.finish(false, `heartbeat response for id ${String(got)}, sent ${id}`);
        shot.finish(true);
      });
      return shot;
    },
  };
}
