/**
 * HPACK header-block decoder (RFC 7541): integers with N-bit prefixes, raw and Huffman string
 * literals, the static table and a dynamic table kept as a ring of (name, value) strings with
 * eviction by size. Strings are latin1 (one char per octet) and come straight out of the block
 * (or out of one reused scratch buffer for Huffman strings).
 * Must never: leave the dynamic table out of sync on a valid block (it always decodes the whole
 * block), throw anything but HpackError on bad input, or slice Buffers per field.
 */
import { HpackError } from './errors';
import { huffmanDecode, huffmanMaxDecodedLength } from './huffman';
import { STATIC_COUNT, STATIC_NAMES, STATIC_VALUES } from './static-table';

type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

/** Integers above this are a COMPRESSION_ERROR (nothing in HPACK legitimately needs more). */
const MAX_INT = 0x7fffffff;

export class HpackDecoder {
  /** Our SETTINGS_HEADER_TABLE_SIZE: the most a size update may ask for. */
  private readonly maxTableSize: number;
  /** The current dynamic table limit (last size update, initially maxTableSize). */
  private limit: number;
  /** Current dynamic table size (sum of entry sizes). */
  private size = 0;
  private count = 0;
  /** Ring slot where the next entry goes; the newest entry is at (next - 1) & mask. */
  private next = 0;
  private mask = 15;
  private names: string[] = new Array<string>(16).fill('');
  private values: string[] = new Array<string>(16).fill('');
  private scratch: Buffer = Buffer.allocUnsafe(256);
  /** Read position in the block being decoded. */
  private pos = 0;

  constructor(maxTableSize = 4096) {
    if (!Number.isInteger(maxTableSize) || maxTableSize < 0 || maxTableSize > MAX_INT) {
      throw new RangeError(`invalid HPACK table size ${maxTableSize}`);
    }
    this.maxTableSize = maxTableSize;
    this.limit = maxTableSize;
  }

  /** Current dynamic table size in RFC 7541 terms (for tests and diagnostics). */
  get tableSize(): number {
    return this.size;
  }

  /** Current dynamic table limit (after the last size update). */
  get tableLimit(): number {
    return this.limit;
  }

  /** Dynamic table entries newest first as [name, value, ...] (for tests and diagnostics). */
  tableEntries(): string[] {
    const r: string[] = [];
    for (let d = 0; d < this.count; d++) {
      const slot = (this.next - 1 - d) & this.mask;
      r.push(this.names[slot], this.values[slot]);
    }
    return r;
  }

  /**
   * Decodes one complete header block, appending name, value, ... to out while the header-list
   * size stays within maxListSize. Returns the full header-list size. Throws HpackError.
   */
  decode(block: Buffer, out: string[], maxListSize: number): number {
    const end = block.length;
    let listSize = 0;
    let appending = true;
    let fieldSeen = false;
    this.pos = 0;
    while (this.pos < end) {
      const b = block[this.pos];
      let name: string;
      let value: string;
      if (b & 0x80) {
        // Indexed header field.
        const idx = this.readInt(block, 7);
        if (idx === 0) throw new HpackError('HPACK index 0');
        if (idx <= STATIC_COUNT) {
          name = STATIC_NAMES[idx - 1];
          value = STATIC_VALUES[idx - 1];
        } else {
          const slot = this.dynSlot(idx);
          name = this.names[slot];
          value = this.values[slot];
        }
      } else if (b & 0x40) {
        // Literal with incremental indexing.
        const idx = this.readInt(block, 6);
        name = idx === 0 ? this.readString(block) : this.nameAt(idx);
        value = this.readString(block);
        this.add(name, value);
      } else if (b & 0x20) {
        // Dynamic table size update.
        if (fieldSeen) throw new HpackError('HPACK table size update after a header field');
        const n = this.readInt(block, 5);
        if (n > this.maxTableSize) throw new HpackError(`HPACK table size update ${n} above ${this.maxTableSize}`);
        this.limit = n;
        this.evictTo(n);
        continue;
      } else {
        // Literal without indexing (0000) or never indexed (0001).
        const idx = this.readInt(block, 4);
        name = idx === 0 ? this.readString(block) : this.nameAt(idx);
        value = this.readString(block);
      }
      fieldSeen = true;
      listSize += name.length + value.length + 32;
      if (appending) {
        if (listSize <= maxListSize) out.push(name, value);
        else appending = false;
      }
    }
    return listSize;
  }

  private nameAt(idx: number): string {
    if (idx <= STATIC_COUNT) return STATIC_NAMES[idx - 1];
    return this.names[this.dynSlot(idx)];
  }

  private dynSlot(idx: number): number {
    const d = idx - STATIC_COUNT - 1;
    if (d >= this.count) throw new HpackError(`HPACK index ${idx} out of range`);
    return (this.next - 1 - d) & this.mask;
  }

  /** Reads an integer whose prefix is the low `bits` bits of block[pos]. */
  private readInt(block: Buffer, bits: number): number {
    const max = (1 << bits) - 1;
    let pos = this.pos;
    let v = block[pos++] & max;
    if (v === max) {
      const end = block.length;
      let m = 0;
      let b: number;
      do {
        if (pos >= end) throw new HpackError('HPACK integer truncated');
        if (m > 28) throw new HpackError('HPACK integer overflow');
        b = block[pos++];
        v += (b & 0x7f) * 2 ** m;
        m += 7;
        if (v > MAX_INT) throw new HpackError('HPACK integer overflow');
      } while (b & 0x80);
    }
    this.pos = pos;
    return v;
  }

  private readString(block: Buffer): string {
    if (this.pos >= block.length) throw new HpackError('HPACK string truncated');
    const huffman = block[this.pos] & 0x80;
    const len = this.readInt(block, 7);
    const start = this.pos;
    const end = start + len;
    if (end > block.length) throw new HpackError('HPACK string truncated');
    this.pos = end;
    if (len === 0) return '';
    if (!huffman) return (block as Latin1Buffer).latin1Slice(start, end);
    const need = huffmanMaxDecodedLength(len);
    if (this.scratch.length < need) this.scratch = Buffer.allocUnsafe(Math.max(need, this.scratch.length * 2));
    const n = huffmanDecode(block, start, end, this.scratch);
    if (n < 0) throw new HpackError('HPACK invalid Huffman string');
    return (this.scratch as Latin1Buffer).latin1Slice(0, n);
  }

  private add(name: string, value: string): void {
    const entrySize = name.length + value.length + 32;
    if (entrySize > this.limit) {
      this.evictTo(0); // RFC 7541 4.4: an entry larger than the table empties it; not an error
      return;
    }
    this.evictTo(this.limit - entrySize);
    if (this.count > this.mask) this.grow();
    const slot = this.next;
    this.names[slot] = name;
    this.values[slot] = value;
    this.next = (slot + 1) & this.mask;
    this.count++;
    this.size += entrySize;
  }

  private evictTo(target: number): void {
    while (this.size > target && this.count > 0) {
      const slot = (this.next - this.count) & this.mask;
      this.size -= this.names[slot].length + this.values[slot].length + 32;
      this.names[slot] = '';
      this.values[slot] = '';
      this.count--;
    }
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const names = new Array<string>(cap).fill('');
    const values = new Array<string>(cap).fill('');
    // copy oldest..newest to 0..count-1
    for (let i = 0; i < this.count; i++) {
      const slot = (this.next - this.count + i) & this.mask;
      names[i] = this.names[slot];
      values[i] = this.values[slot];
    }
    this.names = names;
    this.values = values;
    this.next = this.count;
    this.mask = cap - 1;
  }
}
