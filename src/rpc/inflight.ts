/**
 * InflightTable: the requests in flight on one multiplexed upstream connection, by the request id
 * the connection gave them. Ids are slot numbers with a per-slot generation (so a reused slot
 * never repeats a recent id); freed slots are reused oldest-first. The slots of the last 4096
 * aborted requests are kept out of use with their ids remembered, so a late response to one of
 * them is dropped quietly instead of counted as unknown.
 * Why not a Map: a Map with constant add/delete churn rehashes into a fresh table every few
 * hundred requests and V8 links the obsolete table to the new one; once an obsolete table is
 * promoted, every later table and every request it holds survives the young-generation GCs
 * (measured: ~40% of all allocation promoted, a third of the proxy's CPU in GC).
 * Must never: hand out an id that is in flight, or return a request for an id it did not get.
 */

/** Slots per connection (requests in flight at once on one upstream connection). */
export const MAX_INFLIGHT = 1 << 16;
const SLOT_MASK = MAX_INFLIGHT - 1;
/** Generations per slot: ids stay within 1..0x7fffffff. */
const GEN_LIMIT = 0x7fff;
/** Aborted requests whose ids are remembered (their slots wait before reuse). */
export const MAX_ABANDONED = 4096;

export interface Identified {
  id: number;
}

export class InflightTable<T extends Identified> {
  private readonly slots: Array<T | null> = [];
  private readonly gens: number[] = [];
  /** Id last aborted in each slot (0: none). */
  private readonly abandonedIds: number[] = [];
  private free: number[] = [];
  /** Slots of aborted requests, oldest first, waiting before they are reused. */
  private abandonedSlots: number[] = [];
  private abandonedHead = 0;
  private freeHead = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** A fresh id in a free slot, holding `item` (null: the id is only reserved for a moment, e.g. a heartbeat). -1 when full. */
  add(item: T | null): number {
    let slot: number;
    if (this.freeHead < this.free.length) {
      slot = this.free[this.freeHead++];
      if (this.freeHead > 1024 && this.freeHead * 2 > this.free.length) {
        this.free = this.free.slice(this.freeHead);
        this.freeHead = 0;
      }
    } else if (this.slots.length < MAX_INFLIGHT) {
      slot = this.slots.length;
      this.slots.push(null);
      this.gens.push(0);
      this.abandonedIds.push(0);
    } else if (this.abandonedHead < this.abandonedSlots.length) {
      slot = this.abandonedSlots[this.abandonedHead++]; // full: forget the oldest aborted id
    } else return -1;
    const gen = this.gens[slot] >= GEN_LIMIT ? 0 : this.gens[slot] + 1;
    this.gens[slot] = gen;
    this.abandonedIds[slot] = 0;
    const id = gen * MAX_INFLIGHT + slot + 1;
    if (item === null) this.free.push(slot);
    else {
      this.slots[slot] = item;
      this.count++;
    }
    return id;
  }

  get(id: number): T | undefined {
    const slot = (id - 1) & SLOT_MASK;
    if (!(id >= 1) || slot >= this.slots.length) return undefined;
    const item = this.slots[slot];
    return item !== null && item.id === id ? item : undefined;
  }

  /** Removes `item` (answered); false when it is not in the table under its id. */
  delete(item: T): boolean {
    const slot = (item.id - 1) & SLOT_MASK;
    if (slot >= this.slots.length || this.slots[slot] !== item) return false;
    this.slots[slot] = null;
    this.count--;
    this.free.push(slot);
    return true;
  }

  /** Removes `item` and remembers its id as abandoned; false when it is not in the table. */
  abandon(item: T): boolean {
    const slot = (item.id - 1) & SLOT_MASK;
    if (slot >= this.slots.length || this.slots[slot] !== item) return false;
    this.slots[slot] = null;
    this.count--;
    this.abandonedIds[slot] = item.id;
    this.abandonedSlots.push(slot);
    if (this.abandonedSlots.length - this.abandonedHead > MAX_ABANDONED) {
      this.free.push(this.abandonedSlots[this.abandonedHead++]);
      if (this.abandonedHead > 1024 && this.abandonedHead * 2 > this.abandonedSlots.length) {
        this.abandonedSlots = this.abandonedSlots.slice(this.abandonedHead);
        this.abandonedHead = 0;
      }
    }
    return true;
  }

  /** True (once) when `id` is the remembered id of an aborted request. */
  takeAbandoned(id: number): boolean {
    const slot = (id - 1) & SLOT_MASK;
    if (!(id >= 1) || slot >= this.abandonedIds.length || this.abandonedIds[slot] !== id) return false;
    this.abandonedIds[slot] = 0;
    return true;
  }

  /** Empties the table, returning what was in flight. */
  drain(): T[] {
    const out: T[] = [];
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const item = slots[i];
      if (item !== null) {
        out.push(item);
        slots[i] = null;
        this.free.push(i);
      }
    }
    this.count = 0;
    return out;
  }
}
