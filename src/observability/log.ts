/**
 * The process logger: pino on an asynchronous sonic-boom destination, behind the Logger interface
 * of src/api/filter.ts (message first, extra fields second). Must never: write synchronously on
 * the request path, or crash the process when its destination fails.
 */
import pino from 'pino';
import type { Logger } from '../api/filter';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
const LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export interface LoggerOptions {
  /** trace | debug | info | warn | error | fatal | silent. */
  level: string;
  /** Written as `name` on every line. */
  name?: string;
  /** 'stdout', 'stderr' (default) or a file path (appended to, parent directories created). */
  destination?: 'stdout' | 'stderr' | string;
}

export interface SwitchyardLogger extends Logger {
  /** A logger whose every line also carries `bindings`. Shares the destination. */
  child(bindings: Record<string, unknown>): SwitchyardLogger;
  /** Asks the destination to write out what it has buffered (asynchronous). */
  flush(): void;
  isLevelEnabled(level: string): boolean;
  level: string;
}

class PinoLogger implements SwitchyardLogger {
  constructor(private readonly p: pino.Logger) {}

  get level(): string {
    return this.p.level;
  }
  set level(l: string) {
    this.p.level = l;
  }

  // pino takes (object, message); the Logger interface takes (message, object).
  debug(msg: string, extra?: object): void {
    if (extra === undefined) this.p.debug(msg);
    else this.p.debug(extra, msg);
  }
  info(msg: string, extra?: object): void {
    if (extra === undefined) this.p.info(msg);
    else this.p.info(extra, msg);
  }
  warn(msg: string, extra?: object): void {
    if (extra === undefined) this.p.warn(msg);
    else this.p.warn(extra, msg);
  }
  error(msg: string, extra?: object): void {
    if (extra === undefined) this.p.error(msg);
    else this.p.error(extra, msg);
  }
  child(bindings: Record<string, unknown>): SwitchyardLogger {
    return new PinoLogger(this.p.child(bindings));
  }
  flush(): void {
    try {
      this.p.flush();
    } catch {
      // The destination is not open yet or already closed: nothing to flush.
    }
  }
  isLevelEnabled(level: string): boolean {
    return this.p.isLevelEnabled(level);
  }
}

/** Builds the asynchronous destination; errors on it are reported once to stderr, never thrown. */
export function openDestination(destination: 'stdout' | 'stderr' | string): ReturnType<typeof pino.destination> {
  const dest =
    destination === 'stdout'
      ? pino.destination({ dest: 1, sync: false })
      : destination === 'stderr'
        ? pino.destination({ dest: 2, sync: false })
        : pino.destination({ dest: destination, sync: false, mkdir: true });
  let reported = false;
  dest.on('error', (err: Error) => {
    if (reported) return;
    reported = true;
    try {
      process.stderr.write(`switchyard: log destination ${destination}: ${err.message}\n`);
    } catch {
      // Nowhere left to report.
    }
  });
  return dest;
}

export function createLogger(opts: LoggerOptions): SwitchyardLogger {
  if (!LEVELS.includes(opts.level)) {
    throw new Error(`unknown log level "${opts.level}" (expected one of ${LEVELS.join(', ')})`);
  }
  const dest = openDestination(opts.destination ?? 'stderr');
  const p = pino(
    {
      level: opts.level,
      name: opts.name,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
  return new PinoLogger(p);
}
