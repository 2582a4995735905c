/**
 * The `http` health check: `GET <path> HTTP/1.1` with `Host: <host>` and `Connection: close` on a
 * connection of its own (over TLS on a TLS cluster, verified as traffic is); the endpoint passes
 * when the status line arrives with an expected status (the rest of the response is not read).
 * Only the status line is parsed.
 * Must never: use the cluster's traffic pool, or wait for a body.
 */
import { openProbeSocket, type ProbeDone, type ProbeHandle, type Prober, type ProbeTarget } from './probe';

export interface HttpProbeOptions {
  readonly path: string;
  readonly host: string;
  /** Inclusive [low, high] ranges. */
  readonly expectedStatuses: ReadonlyArray<readonly [number, number]>;
}

/** Longest status line read before giving up. */
const MAX_STATUS_LINE = 1024;

/** The status of an HTTP/1.x status line, or -1 when it is not one. */
export function parseStatusLine(line: string): number {
  if (!line.startsWith('HTTP/1.')) return -1;
  const sp = line.indexOf(' ');
  if (sp < 0) return -1;
  const code = line.slice(sp + 1, sp + 4);
  if (!/^[1-9]\d\d$/.test(code)) return -1;
  const after = line.charAt(sp + 4);
  return after === '' || after === ' ' ? Number(code) : -1;
}

export function statusExpected(status: number, ranges: ReadonlyArray<readonly [number, number]>): boolean {
  for (const [lo, hi] of ranges) if (status >= lo && status <= hi) return true;
  return false;
}

export function httpProber(opts: HttpProbeOptions): Prober {
  const request = Buffer.from(
    `GET ${opts.path} HTTP/1.1\r\nHost: ${opts.host}\r\nUser-Agent: switchyard-health-check\r\n` +
      'Accept: */*\r\nConnection: close\r\n\r\n',
    'latin1',
  );
  return {
    type: 'http',
    start(target: ProbeTarget, done: ProbeDone): ProbeHandle {
      const { sock, readyEvent, shot } = openProbeSocket(target, done, 'connection closed before a status line');
      let head = '';
      sock.once(readyEvent, () => sock.write(request));
      sock.on('data', (chunk: Buffer) => {
        head += chunk.toString('latin1');
        for (;;) {
          const eol = head.indexOf('\r\n');
          if (eol < 0) {
            if (head.length > MAX_STATUS_LINE) shot.finish(false, 'status line too long');
            return;
          }
          const status = parseStatusLine(head.slice(0, eol));
          if (status < 0) return shot.finish(false, 'not an HTTP/1.x response');
          if (status >= 200) {
            if (statusExpected(status, opts.expectedStatuses)) return shot.finish(true);
            return shot.finish(false, `status ${status}`);
          }
          // An interim response (e.g. 100 Continue): skip its head and read the next status line.
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length > MAX_STATUS_LINE * 16) shot.finish(false, 'interim response too long');
            return;
          }
          head = head.slice(end + 4);
        }
      });
      return shot;
    },
  };
}
