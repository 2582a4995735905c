/**
 * The watchdog of the per-call time budget: one worker thread per process that looks, every
 * tenth of the shortest budget, at which top-level guest call is running (a sequence number the
 * main thread stores into shared memory around each call). A call it sees running for longer than
 * its budget is flagged; the main thread reads the flag when the call returns and fails it. The
 * hot path is two typed-array stores and one load per call — no clock read, and the thread wakes
 * ~20 times a second for the default 500 ms budget (a 5 ms ticker woke 200 times a second, which
 * cost more CPU per request than the clock reads it saved). A call still running after 10 s is
 * reported on stderr every 10 s: Node cannot interrupt it, and the operator should know why the
 * process stopped answering.
 * Must never: keep the process alive (the worker is unref'd), flag a call that ran less than its
 * budget, or be trusted before its first loop turn (enterGuest() answers 0 until then and callers
 * time the call themselves).
 */
import { Worker } from 'node:worker_threads';

/** Shortest budget the watchdog judges; shorter budgets are timed with clock reads per call. */
export const WATCHDOG_MIN_BUDGET_MS = 50;

// Shared cells (Int32).
const RUNNING = 0; // sequence number of the top-level guest call running now, 0 when none
const BUDGET = 1; // its budget in ms
const FLAGGED = 2; // sequence number the watchdog found over budget
const RAN_MS = 3; // how long it had run when flagged
const MIN_BUDGET = 4; // shortest budget being judged (sets the poll interval)
const SLEEP = 5; // never written: the worker waits on it
const TURNS = 6; // loop turns of the worker (0 until it runs)
const CELLS = 7;

/** Seconds between reports of a call that does not return. */
const STUCK_REPORT_S = 10;

// The worker only polls: no event loop, so it never stalls behind one; it touches no main-thread state.
const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const c = new Int32Array(workerData);
let seen = 0, since = 0, reported = 0;
for (;;) {
  Atomics.wait(c, ${SLEEP}, 0, Math.max(5, Math.floor(c[${MIN_BUDGET}] / 10)));
  Atomics.add(c, ${TURNS}, 1);
  const s = Atomics.load(c, ${RUNNING});
  if (s === 0) { seen = 0; continue; }
  const now = performance.now();
  if (s !== seen) { seen = s; since = now; reported = 0; continue; }
  const ran = now - since;
  if (ran >= c[${BUDGET}] && c[${FLAGGED}] !== s) { c[${RAN_MS}] = Math.min(ran, 2147483647) | 0; Atomics.store(c, ${FLAGGED}, s); }
  if (ran >= ${STUCK_REPORT_S * 1000} * (reported + 1)) {
    reported++;
    try {
      writeSync(2, 'switchyard: a wasm guest call has been running for ' + Math.round(ran / 1000) +
        ' s; Node cannot interrupt it and this process serves nothing else meanwhile (see docs/wasm-host.md)\\n');
    } catch {}
  }
}
`;

let cells: Int32Array | null = null;
let started = false;
let seq = 0;

/** Starts the watchdog once per process and makes it poll often enough for `budgetMs`. Never throws. */
export function startWatchdog(budgetMs: number): void {
  if (!started) {
    started = true;
    try {
      const sab = new SharedArrayBuffer(CELLS * 4);
      const c = new Int32Array(sab);
      c[MIN_BUDGET] = budgetMs;
      const w = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: sab, execArgv: [] });
      w.unref();
      // A dead watchdog is never trusted again: callers fall back to clock reads.
      const stop = (): void => {
        cells = null;
      };
      w.on('error', stop);
      w.on('exit', stop);
      cells = c;
    } catch {
      cells = null;
    }
  }
  const c = cells;
  if (c !== null && budgetMs < c[MIN_BUDGET]) c[MIN_BUDGET] = budgetMs;
}

/** Whether the watchdog has started looping (tests wait for it). */
export function watchdogRunning(): boolean {
  return cells !== null && Atomics.load(cells, TURNS) > 0;
}

/**
 * Marks a top-level guest call with budget `budgetMs` as running; returns its sequence number
 * (> 0), or 0 when the watchdog is not running (the caller times the call itself).
 */
export function enterGuest(budgetMs: number): number {
  const c = cells;
  if (c === null || c[TURNS] === 0) return 0;
  seq = seq >= 0x7fffffff ? 1 : seq + 1;
  // Plain stores (x64 keeps their order; a fence per call cost more than the rest of the mark).
  if (c[BUDGET] !== budgetMs) c[BUDGET] = budgetMs;
  c[RUNNING] = seq;
  return seq;
}

/** Unmarks call `s`; returns how long (ms) the watchdog saw it run past its budget, or -1 when it did not. */
export function leaveGuest(s: number): number {
  const c = cells;
  if (c === null) return -1;
  c[RUNNING] = 0;
  if (c[FLAGGED] !== s) return -1;
  c[FLAGGED] = 0;
  return c[RAN_MS];
}
