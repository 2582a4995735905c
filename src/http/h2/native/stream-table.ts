/**
 * The open streams of one HTTP/2 connection by stream id, without a Map: a Map that gains and
 * loses an entry per request keeps replacing its backing table, and the discarded tables keep
 * pointing at their successors — once one of them is promoted, every later table and the streams
 * it holds survive young-generation GC (measured: most of the GC time of an h2 proxy). Ids of one
 * side are all odd or all even and increase, so `(id >>> 1) & mask` spreads the open ones over a
 * fixed slot array; the rare collision (a long-lived stream `slots` ids behind a new one) goes to a
 * small overflow list.
 * Must never: lose a stream, or find a stream under an id it was not stored with.
 */
export interface HasStreamId {
  readonly id: number;
}

export class StreamTable<T extends HasStreamId> {
  private readonly slots: Array<T | null>;
  private readonly mask: number;
  private overflow: T[] = [];
  private count = 0;

  /** `expected`: how many streams are usually open at once (the slot array is 2-4x that, min 64). */
  constructor(expected: number) {
    let n = 64;
    while (n < expected * 2 && n < 1 << 12) n <<= 1;
    this.slots = new Array<T | null>(n).fill(null);
    this.mask = n - 1;
  }

  get size(): number {
    return this.count;
  }

  get(id: number): T | undefined {
    const s = this.slots[(id >>> 1) & this.mask];
    if (s !== null && s.id === id) return s;
    const o = this.overflow;
    for (let i = 0; i < o.length; i++) if (o[i].id === id) return o[i];
    return undefined;
  }

  /** Adds `s` (its id must not be in the table). */
  add(s: T): void {
    const at = (s.id >>> 1) & this.mask;
    if (this.slots[at] === null) this.slots[at] = s;
    else this.overflow.push(s);
    this.count++;
  }

  delete(s: T): boolean {
    const at = (s.id >>> 1) & this.mask;
    if (this.slots[at] === s) {
      this.slots[at] = null;
      this.count--;
      return true;
    }
    const o = this.overflow;
    const i = o.indexOf(s);
    if (i < 0) return false;
    o[i] = o[o.length - 1];
    o.pop();
    this.count--;
    return true;
  }

  /** A snapshot of the open streams (safe to mutate the table while iterating it). */
  values(): T[] {
    const out: T[] = [];
    if (this.count === 0) return out;
    for (const s of this.slots) if (s !== null) out.push(s);
    for (const s of this.overflow) out.push(s);
    return out;
  }
}
