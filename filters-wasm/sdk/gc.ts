// Switchyard proxy-wasm SDK: when garbage is collected. Modules are built with AssemblyScript's
// two-colour collector (`--runtime minimal`, see filters-wasm/build.js): no write barriers and no
// incremental steps on the request path — measured ~100 ns less per request than the incremental
// collector. The SDK collects at the end of top-level callbacks, where the wasm stack is unwound
// and every live object is reachable from globals: every COLLECT_EVERY callbacks that end a
// stream or run on the root, and at once after any callback during which memory grew.
// Must never be called from anywhere but the last statement of an exported callback.

/** Stream deletions / root callbacks between collections when memory does not grow. */
const COLLECT_EVERY: u32 = 512;

let counted: u32 = 0;
let pagesAtLastCollect: i32 = 0;

/** End of a callback that finishes a stream or runs on the root: counted, or memory grew. */
export function collectCounted(): void {
  if (++counted < COLLECT_EVERY && memory.size() == pagesAtLastCollect) return;
  collectNow();
}

/** End of any other callback: only when memory grew during it (a body hook that allocates). */
// @ts-ignore: decorator
@inline export function collectIfGrown(): void {
  if (memory.size() != pagesAtLastCollect) collectNow();
}

function collectNow(): void {
  counted = 0;
  __collect();
  pagesAtLastCollect = memory.size();
}
