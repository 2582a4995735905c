/**
 * Access log: one JSON line per request, written asynchronously. write() only queues the entry
 * object; once per event-loop turn (setImmediate) the queued entries are serialized in contract
 * field order and handed to a sonic-boom destination in a single write. Measured on Node 20
 * (300k lines to a file, CPU per line): pino logger.info(entry) ~5.2 µs, sonic-boom write per
 * line ~4.0 µs, this batching ~1.7 µs (of which JSON.stringify ~0.9 µs, done off the request).
 * Must never: do I/O or formatting inside write(); throw into the request path; crash on a
 * failing destination.
 */
import { openSync, closeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import type { LocalReplyReason } from '../api/errors';

/** One request. The JSON line carries exactly these fields, in this order (the contract). */
export interface AccessLogEntry {
  /** ISO 8601 (UTC); may be given as epoch milliseconds, formatted when written (cheaper). */
  time: string | number;
  listener: string;
  /** Route name, or null when no route matched. */
  route: string | null;
  /** Cluster name, or null (no route, direct response, ...). */
  cluster: string | null;
  /** Upstream address host:port, or null when no upstream was contacted. */
  upstream: string | null;
  /** Downstream wire protocol: "http/1.1", "h2", "dubbo", "bolt", ... */
  protocol: string;
  /** HTTP method, or the RPC method name; null when unknown (e.g. a request that never parsed). */
  method: string | null;
  /** HTTP :authority, or the RPC service; null when absent. */
  authority: string | null;
  /** HTTP :path; null when absent (RPC). */
  path: string | null;
  /** HTTP status or the protocol's HTTP-equivalent status. */
  status: number;
  /** Why the proxy answered itself, or null when the upstream answered. */
  reason: LocalReplyReason | null;
  bytes_in: number;
  bytes_out: number;
  duration_ms: number;
  request_id: string;
}

let isoSecond = -1;
let isoPrefix = '';

/**
 * `new Date(ms).toISOString()` with the "YYYY-MM-DDTHH:MM:SS." prefix cached per second
 * (~75 ns instead of ~500 ns). Integer-millisecond precision.
 */
export function formatIsoTime(epochMs: number): string {
  const ms = Math.floor(epochMs);
  if (!Number.isFinite(ms)) return '';
  const s = Math.floor(ms / 1000);
  if (s !== isoSecond) {
    const iso = new Date(s * 1000).toISOString();
    // Years outside 0000–9999 use the expanded form; do not cache those.
    if (iso.length !== 24) return new Date(ms).toISOString();
    isoSecond = s;
    isoPrefix = iso.slice(0, 20);
  }
  const r = ms - s * 1000;
  return isoPrefix + (r < 10 ? '00' : r < 100 ? '0' : '') + r + 'Z';
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}
function strOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : v === undefined || v === null ? null : String(v);
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** One entry as its JSON line (with the trailing newline), fields in contract order. */
export function formatAccessLogLine(e: AccessLogEntry): string {
  const d = num(e.duration_ms);
  return (
    JSON.stringify({
      time: typeof e.time === 'number' ? formatIsoTime(e.time) : str(e.time),
      listener: str(e.listener),
      route: strOrNull(e.route),
      cluster: strOrNull(e.cluster),
      upstream: strOrNull(e.upstream),
      protocol: str(e.protocol),
      method: strOrNull(e.method),
      authority: strOrNull(e.authority),
      path: strOrNull(e.path),
      status: num(e.status),
      reason: strOrNull(e.reason),
      bytes_in: num(e.bytes_in),
      bytes_out: num(e.bytes_out),
      // Microsecond precision is plenty, and keeps lines short.
      duration_ms: d === null ? null : Math.round(d * 1000) / 1000,
      request_id: str(e.request_id),
    }) + '\n'
  );
}

type Destination = ReturnType<typeof pino.destination>;

/** Bytes the destination may hold unwritten before whole batches are dropped (and counted). */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

const openLogs = new Set<AccessLog>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // On exit there is no event loop left: serialize what is queued and write it synchronously.
  process.once('exit', () => {
    for (const log of openLogs) log.flushSync();
  });
}

export interface AccessLogOptions {
  /** Called (at most once per distinct message) when the destination fails. */
  onError?(err: Error): void;
}

export class AccessLog {
  private queue: AccessLogEntry[] = [];
  private scheduled = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private lastError = '';
  /** Entries dropped because the destination fell too far behind. */
  dropped = 0;
  /** Entries handed to the destination. */
  written = 0;

  private constructor(
    readonly path: string,
    private readonly dest: Destination,
    private readonly onError: ((err: Error) => void) | undefined,
  ) {
    dest.on('error', (err: Error) => this.reportError(err));
    dest.on('drop', (data: string) => {
      let n = 0;
      for (let i = data.indexOf('\n'); i !== -1; i = data.indexOf('\n', i + 1)) n++;
      this.dropped += n;
    });
    openLogs.add(this);
    installExitHook();
    this.flushNow = this.flushNow.bind(this);
  }

  /**
   * Opens 'stdout', 'stderr' or a file (appended to; parent directories created). A file that
   * cannot be opened throws here, synchronously, so a bad config is rejected at load time.
   */
  static open(path: 'stdout' | 'stderr' | string, opts: AccessLogOptions = {}): AccessLog {
    let dest: Destination;
    if (path === 'stdout') dest = pino.destination({ dest: 1, sync: false, maxLength: MAX_BUFFERED_BYTES });
    else if (path === 'stderr') dest = pino.destination({ dest: 2, sync: false, maxLength: MAX_BUFFERED_BYTES });
    else {
      if (path === '') throw new Error('access log path is empty');
      mkdirSync(dirname(path), { recursive: true });
      closeSync(openSync(path, 'a')); // fail now rather than in an 'error' event later
      dest = pino.destination({ dest: path, sync: false, append: true, maxLength: MAX_BUFFERED_BYTES });
    }
    return new AccessLog(path, dest, opts.onError);
  }

  /**
   * Queues one entry; nothing is formatted or written until the end of this event-loop turn.
   * The entry must not be mutated afterwards. Ignored once the log is closed.
   */
  write(entry: AccessLogEntry): void {
    if (this.closed) return;
    this.queue.push(entry);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
  }

  /** Hands queued entries to the destination now (it writes them asynchronously). */
  flush(): void {
    this.flushNow();
  }

  /** Reopens the file (after rotation). No effect on stdout/stderr. */
  reopen(): void {
    if (this.closed || this.path === 'stdout' || this.path === 'stderr') return;
    try {
      this.dest.reopen();
    } catch (err) {
      this.reportError(err as Error);
    }
  }

  /** Writes everything queued, then closes the file (stdout/stderr stay open). */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.flushNow();
    this.closed = true;
    openLogs.delete(this);
    this.closing = new Promise<void>((resolve) => {
      const dest = this.dest;
      if ((dest as unknown as { destroyed?: boolean }).destroyed === true) return resolve();
      const done = (): void => {
        dest.off('close', done);
        dest.off('error', done);
        resolve();
      };
      dest.once('close', done);
      dest.once('error', done);
      try {
        dest.end();
      } catch {
        resolve();
      }
    });
    return this.closing;
  }

  /** Synchronous flush for process exit. */
  flushSync(): void {
    this.flushNow();
    try {
      this.dest.flushSync();
    } catch {
      // Not open yet, or destroyed: nothing more can be done on exit.
    }
  }

  private flushNow(): void {
    this.scheduled = false;
    const q = this.queue;
    if (q.length === 0) return;
    this.queue = [];
    let out = '';
    for (let i = 0; i < q.length; i++) out += formatAccessLogLine(q[i]);
    this.written += q.length;
    try {
      this.dest.write(out);
    } catch (err) {
      this.reportError(err as Error);
    }
  }

  private reportError(err: Error): void {
    if (err.message === this.lastError) return;
    this.lastError = err.message;
    if (this.onError !== undefined) {
      try {
        this.onError(err);
      } catch {
        // An error reporter must not take the proxy down.
      }
    } else {
      try {
        process.stderr.write(`switchyard: access log ${this.path}: ${err.message}\n`);
      } catch {
        // Nowhere left to report.
      }
    }
  }
}
