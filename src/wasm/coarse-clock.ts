/**
 * The coarse clock of the per-callback time budget: a process-wide counter that a worker thread
 * increments every TICK_MS, read with one typed-array load (an exact clock read costs ~35 ns, and
 * a stream made ten of them per request). A guest call that starts and ends within the same tick
 * took less than TICK_MS; one that spans ticks is judged by the ticks it spanned.
 * Must never: keep the process alive (the worker is unref'd and needs no event loop), or be
 * trusted before it has ticked once (coarseTick() is 0 until then; callers read the exact clock).
 */
import { Worker } from 'node:worker_threads';

/** Tick length in ms. Budgets under COARSE_MIN_BUDGET_MS keep exact clock reads. */
export const TICK_MS = 5;
/** Shortest budget judged by ticks: at most 2 ticks (10%) of slack over the budget. */
export const COARSE_MIN_BUDGET_MS = 100;

let cells: Int32Array | null = null;
let started = false;

// Blocks on a cell nobody writes, TICK_MS at a time; no event loop, so it never stalls behind one.
const TICKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const c = new Int32Array(workerData);
for (;;) { Atomics.wait(c, 1, 0, ${TICK_MS}); Atomics.add(c, 0, 1); }
`;

/** Starts the ticker once per process (lazily, by the first budgeted instance). Never throws. */
export function startCoarseClock(): void {
  if (started) return;
  started = true;
  try {
    const sab = new SharedArrayBuffer(8);
    const w = new Worker(TICKER_SOURCE, {
      eval: true,
      workerData: sab,
      // No inherited flags (--inspect, --cpu-prof...): the thread only ticks.
      execArgv: [],
    });
    w.unref();
    // A dead ticker is never trusted again: callers fall back to exact reads.
    const stop = (): void => {
      cells = null;
    };
    w.on('error', stop);
    w.on('exit', stop);
    cells = new Int32Array(sab);
  } catch {
    cells = null;
  }
}

/** The current tick (>= 1), or 0 when the ticker is not (yet) running. */
export function coarseTick(): number {
  return cells === null ? 0 : cells[0];
}
