/**
 * Durations in config: "250ms", "2s", "1.5s", "1m", "1h", "1m30s", or a bare number meaning
 * milliseconds. Owns only the parsing of one value to milliseconds.
 * Must never: know about config paths or collect issues (callers turn the thrown Error into one).
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SEGMENT = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)/y;
const BARE = /^(\d+(?:\.\d+)?|\.\d+)$/;

const EXPECTED = 'expected a number of milliseconds, or a number with unit ms, s, m or h (e.g. "250ms", "2s", "1m30s")';

/** Rounds away float noise (1.1s → 1100, not 1100.0000000000002) while keeping sub-ms values. */
function tidy(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * Parses a duration to milliseconds. Throws an Error whose message explains what was expected;
 * negative, NaN and infinite values are rejected.
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new Error(`invalid duration ${String(input)}: ${EXPECTED}`);
    if (input < 0) throw new Error(`duration must not be negative, got ${input}`);
    return tidy(input);
  }
  if (typeof input !== 'string') {
    throw new Error(`invalid duration: ${EXPECTED}`);
  }
  const text = input.trim();
  if (text.startsWith('-')) throw new Error(`duration must not be negative, got "${input}"`);
  if (BARE.test(text)) return tidy(Number(text));
  let total = 0;
  let pos = 0;
  SEGMENT.lastIndex = 0;
  while (pos < text.length) {
    SEGMENT.lastIndex = pos;
    const m = SEGMENT.exec(text);
    if (!m) throw new Error(`invalid duration "${input}": ${EXPECTED}`);
    total += Number(m[1]) * UNIT_MS[m[2]];
    pos = SEGMENT.lastIndex;
  }
  if (pos === 0) throw new Error(`invalid duration "${input}": ${EXPECTED}`);
  if (!Number.isFinite(total)) throw new Error(`invalid duration "${input}": too large`);
  return tidy(total);
}

/** Formats milliseconds back the way a user would write them (for docs, dumps and messages). */
export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms !== 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
