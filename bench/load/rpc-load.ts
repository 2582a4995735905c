/**
 * Closed-loop Dubbo / Bolt load generator for the rpc benchmark suite, run as a child process
 * (pinned with taskset by the suite). Like `wrk -c<concurrency>`, it keeps `concurrency` requests
 * outstanding at all times, spread over `connections` keep-alive connections (default 50 over 10,
 * i.e. 5 in flight per connection, multiplexed by request id). Every request is the same canned
 * frame (bench/load/rpc-frames.ts), built once, with its id rewritten per send; responses are
 * matched by id and their latency (send → full frame read) goes into a histogram. Requests are
 * re-issued in one batched write per chunk read. Heartbeats from the target are answered.
 *
 * Usage: node rpc-load.js --protocol dubbo|bolt --port P [--host 127.0.0.1] [--duration 10]
 *          [--concurrency 50] [--connections 10] [--timeout-ms 5000] [--arg-bytes 100]
 * Prints one JSON line (RpcLoadResult, bench/load/rpc-result.ts) on stdout and exits 0; exits 2
 * on bad arguments. Must never: count a response that arrived after the measured window.
 */

import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_CALL,
  buildRequest,
  classify,
  frameId,
  frameLength,
  heartbeatReply,
  isRpcProtocol,
  responseOk,
  setFrameId,
  type RpcProtocol,
} from './rpc-frames';
import { LatencyHistogram } from './rpc-histogram';
import { emptyErrors, spreadInflight, sumErrors, type RpcLoadResult } from './rpc-result';

export interface LoadOptions {
  protocol: RpcProtocol;
  host: string;
  port: number;
  durationS: number;
  concurrency: number;
  connections: number;
  timeoutMs: number;
  argBytes: number;
}

const U32 = 4294967296;
const CONNECT_TIMEOUT_MS = 5000;

class LoadRun {
  readonly hist = new LatencyHistogram();
  readonly errors = emptyErrors();
  requests = 0;
  running = false;
  finished = false;
  readonly template: Buffer;
  readonly conns: LoadConn[];

  constructor(readonly o: LoadOptions) {
    this.template = buildRequest(o.protocol, { ...DEFAULT_CALL, argBytes: o.argBytes });
    this.conns = spreadInflight(o.concurrency, o.connections).map((n, i) => new LoadConn(this, i, n));
  }
}

class LoadConn {
  private sock: Socket | null = null;
  private pending: Buffer | null = null;
  private readonly ids: Float64Array;
  private readonly startMs: Float64Array;
  private readonly busy: Uint8Array;
  private readonly toSend: Int32Array;
  private sendCount = 0;
  private seq = 0;
  private outstanding = 0;

  constructor(private readonly run: LoadRun, readonly index: number, readonly slots: number) {
    this.ids = new Float64Array(slots);
    this.startMs = new Float64Array(slots);
    this.busy = new Uint8Array(slots);
    this.toSend = new Int32Array(slots);
  }

  /** Resolves once connected (retrying failed attempts every 100 ms while the run lasts). */
  open(): Promise<void> {
    return new Promise((resolve) => {
      const attempt = () => {
        if (this.run.finished) return resolve();
        const s = connect({ host: this.run.o.host, port: this.run.o.port, noDelay: true });
        let connected = false;
        s.once('connect', () => {
          if (this.run.finished) {
            s.destroy();
            return resolve();
          }
          connected = true;
          this.sock = s;
          this.pending = null;
          resolve();
          if (this.run.running) this.sendAll();
        });
        s.on('data', (d: Buffer) => this.onData(s, d));
        s.on('error', () => {
          if (!connected) this.run.errors.connect++;
        });
        s.on('close', () => {
          if (!connected) {
            if (!this.run.finished) setTimeout(attempt, 100);
            return;
          }
          this.dropped(s);
        });
      };
      attempt();
    });
  }

  private dropped(s: Socket): void {
    if (this.sock !== s) return;
    this.sock = null;
    if (this.run.running) this.run.errors.closed += this.outstanding;
    this.busy.fill(0);
    this.outstanding = 0;
    if (!this.run.finished) setTimeout(() => void this.open(), 20);
  }

  /** Fills every free slot (start of the run, after a reconnect). */
  sendAll(): void {
    for (let s = 0; s < this.slots; s++) if (!this.busy[s]) this.toSend[this.sendCount++] = s;
    this.flush();
  }

  private flush(): void {
    const k = this.sendCount;
    this.sendCount = 0;
    const sock = this.sock;
    if (k === 0 || sock === null || !this.run.running) return;
    const t = this.run.template;
    const len = t.length;
    const out = Buffer.allocUnsafe(len * k);
    const now = performance.now();
    const proto = this.run.o.protocol;
    for (let j = 0; j < k; j++) {
      const slot = this.toSend[j];
      const id = (this.seq++ * this.slots + slot) % U32;
      t.copy(out, j * len);
      setFrameId(proto, out, j * len, id);
      this.ids[slot] = id;
      this.startMs[slot] = now;
      this.busy[slot] = 1;
    }
    this.outstanding += k;
    sock.write(out);
  }

  private onData(s: Socket, chunk: Buffer): void {
    if (this.sock !== s) return;
    const run = this.run;
    const proto = run.o.protocol;
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let pos = 0;
    const now = performance.now();
    let replies: Buffer[] | null = null;
    try {
      while (pos < buf.length) {
        const len = frameLength(proto, buf, pos);
        if (len < 0 || pos + len > buf.length) break;
        const kind = classify(proto, buf, pos);
        if (kind === 'response') {
          const id = frameId(proto, buf, pos);
          const slot = id % this.slots;
          if (this.busy[slot] && this.ids[slot] === id) {
            this.busy[slot] = 0;
            this.outstanding--;
            if (run.running) {
              if (responseOk(proto, buf, pos)) {
                run.requests++;
                run.hist.recordMs(now - this.startMs[slot]);
              } else {
                run.errors.status++;
              }
              this.toSend[this.sendCount++] = slot;
            }
          } else if (run.running) {
            run.errors.unknownId++;
          }
        } else if (kind === 'heartbeat-request') {
          (replies ??= []).push(heartbeatReply(proto, buf, pos));
        }
        pos += len;
      }
    } catch {
      if (run.running) run.errors.protocol++;
      s.destroy();
      return;
    }
    if (pos < buf.length) this.pending = Buffer.from(buf.subarray(pos));
    if (replies) for (const r of replies) s.write(r);
    this.flush();
  }

  /** Counts and drops the connection when a request waited longer than the timeout. */
  checkTimeouts(now: number, timeoutMs: number): void {
    if (this.sock === null) return;
    for (let s = 0; s < this.slots; s++) {
      if (this.busy[s] && now - this.startMs[s] > timeoutMs) {
        this.run.errors.timeout += this.outstanding;
        this.outstanding = 0;
        this.busy.fill(0);
        const sock = this.sock;
        this.sock = null;
        sock.destroy();
        if (!this.run.finished) setTimeout(() => void this.open(), 20);
        return;
      }
    }
  }

  close(): void {
    this.sock?.destroy();
    this.sock = null;
  }
}

/** Runs the load and resolves with its summary. */
export async function runLoad(o: LoadOptions): Promise<RpcLoadResult> {
  const run = new LoadRun(o);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(run.conns.map((c) => c.open())),
      new Promise<never>((_r, reject) => {
        timer = setTimeout(() => reject(new Error(`could not connect to ${o.host}:${o.port} within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (e) {
    run.finished = true;
    for (const c of run.conns) c.close();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const t0 = performance.now();
  run.running = true;
  for (const c of run.conns) c.sendAll();
  const checker = setInterval(() => {
    const now = performance.now();
    for (const c of run.conns) c.checkTimeouts(now, o.timeoutMs);
  }, Math.min(500, o.timeoutMs));
  await new Promise<void>((r) => setTimeout(r, o.durationS * 1000));
  run.running = false;
  const elapsedS = (performance.now() - t0) / 1000;
  run.finished = true;
  clearInterval(checker);
  for (const c of run.conns) c.close();
  const h = run.hist;
  return {
    tool: 'rpc-load',
    protocol: o.protocol,
    connections: run.conns.length,
    inflight: o.concurrency,
    durationS: elapsedS,
    requests: run.requests,
    errors: sumErrors(run.errors),
    errorDetail: run.errors,
    rps: run.requests / elapsedS,
    p50Ms: h.percentileMs(50),
    p90Ms: h.percentileMs(90),
    p99Ms: h.percentileMs(99),
    meanMs: h.meanMs(),
    maxMs: h.maxMs(),
  };
}

/** Parses this tool's command line (throws with a usage message on anything wrong). */
export function parseLoadArgs(argv: string[]): LoadOptions {
  const f: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument ${JSON.stringify(a)}`);
    f[a.slice(2)] = argv[++i];
  }
  const int = (name: string, dflt: number, min: number): number => {
    const v = f[name] === undefined ? dflt : Number(f[name]);
    if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return v;
  };
  const protocol = f.protocol ?? '';
  if (!isRpcProtocol(protocol)) throw new Error('--protocol must be dubbo or bolt');
  const durationS = f.duration === undefined ? 10 : Number(f.duration);
  if (!(durationS > 0)) throw new Error('--duration must be a positive number of seconds');
  const known = new Set(['protocol', 'host', 'port', 'duration', 'concurrency', 'connections', 'timeout-ms', 'arg-bytes']);
  for (const k of Object.keys(f)) if (!known.has(k)) throw new Error(`unknown flag --${k}`);
  return {
    protocol,
    host: f.host ?? '127.0.0.1',
    port: int('port', 0, 1),
    durationS,
    concurrency: int('concurrency', 50, 1),
    connections: int('connections', 10, 1),
    timeoutMs: int('timeout-ms', 5000, 1),
    argBytes: int('arg-bytes', 100, 0),
  };
}

if (require.main === module) {
  let opts: LoadOptions;
  try {
    opts = parseLoadArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`rpc-load: ${(e as Error).message}\n`);
    process.exit(2);
  }
  runLoad(opts).then(
    (r) => process.stdout.write(JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n', () => process.exit(0)),
    (e: unknown) => {
      process.stderr.write(`rpc-load: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
