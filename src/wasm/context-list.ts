/**
 * ContextList: an instance's live stream contexts, linked through the streams themselves
 * (WasmStream.prevCtx/nextCtx) in creation order — no per-stream allocation. It replaced a Map
 * keyed by context id, whose obsolete hash tables in old space kept finished streams (and their
 * whole request graphs) reachable until a full GC: ~15% of the proxy's CPU went to GC.
 * Must never: keep a link from a removed stream to a live one (a dead old-space object must not
 * retain young ones).
 */
export interface Linked {
  readonly id: number;
  prevCtx: Linked | null;
  nextCtx: Linked | null;
}

export class ContextList<T extends Linked> {
  private first: T | null = null;
  private last: T | null = null;
  private count = 0;

  /** Appends `s` (once, when its context is created). */
  add(s: T): void {
    const last = this.last;
    s.prevCtx = last;
    s.nextCtx = null;
    if (last !== null) last.nextCtx = s;
    else this.first = s;
    this.last = s;
    this.count++;
  }

  /** Unlinks `s` and clears its links; a no-op when it is not in the list. */
  remove(s: T): void {
    const prev = s.prevCtx as T | null;
    const next = s.nextCtx as T | null;
    if (prev === null && this.first !== s) return;
    if (prev !== null) prev.nextCtx = next;
    else this.first = next;
    if (next !== null) next.prevCtx = prev;
    else this.last = prev;
    s.prevCtx = null;
    s.nextCtx = null;
    this.count--;
  }

  /** The live context `id` (a scan: only proxy_set_effective_context needs it). */
  byId(id: number): T | undefined {
    for (let s = this.first; s !== null; s = s.nextCtx as T | null) if (s.id === id) return s;
    return undefined;
  }

  get size(): number {
    return this.count;
  }

  /** A snapshot in creation order (safe to iterate while streams are removed). */
  toArray(): T[] {
    const out: T[] = [];
    for (let s = this.first; s !== null; s = s.nextCtx as T | null) out.push(s);
    return out;
  }
}
