/**
 * Hessian 2 reader for the Dubbo codec: reads strings (every encoding, CESU-8 aware), skips any
 * value without building it, and reads an attachments map into string pairs with the byte ranges
 * of each entry (so a re-encoder can copy what it did not change).
 * Owns: the class-definition table of one body (instances refer to it by index).
 * Must never: read past `end`, recurse without a depth limit, or build objects for skipped values.
 * Errors are thrown as HessianError and caught by the codec; nothing escapes the codec.
 */

export class HessianError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'HessianError';
  }
}

/** One attachments map entry; `value` is null when it is not representable as text. */
export interface AttachmentEntry {
  key: string;
  value: string | null;
  /** Raw bytes of the key, then of the value: [keyStart, valueStart) and [valueStart, valueEnd). */
  keyStart: number;
  valueStart: number;
  valueEnd: number;
}

export interface Attachments {
  /** [start, entriesStart): the map's opening ('H', or 'M' and its type); null map: both equal. */
  start: number;
  entriesStart: number;
  /** Just past the closing 'Z' (or the 'N'). */
  end: number;
  entries: AttachmentEntry[];
}

const MAX_DEPTH = 200;
const FROM_CHAR_CODE_CHUNK = 8192;
let scratch = new Uint16Array(256);

function isStringCode(c: number): boolean {
  return c <= 0x1f || (c >= 0x30 && c <= 0x33) || c === 0x52 || c === 0x53;
}

/**
 * Short ASCII strings recur on every request (dubbo version, service, method, descriptor,
 * attachment keys): the last one decoded per hash slot is kept and handed out again when the
 * same bytes come, instead of a new string per request. A slot holds one string; collisions
 * just replace it.
 */
const INTERN_MAX = 64;
const INTERN_SLOTS = 1024;
const internStrings: string[] = new Array<string>(INTERN_SLOTS).fill('');
const internHashes = new Int32Array(INTERN_SLOTS);

function interned(buf: Buffer, start: number, units: number, h: number): string {
  const slot = h & (INTERN_SLOTS - 1);
  const cand = internStrings[slot];
  if (internHashes[slot] === h && cand.length === units) {
    let k = 0;
    while (k < units && cand.charCodeAt(k) === buf[start + k]) k++;
    if (k === units) return cand;
  }
  const s = buf.toString('latin1', start, start + units);
  internStrings[slot] = s;
  internHashes[slot] = h;
  return s;
}

export class Hessian2Reader {
  pos: number;
  /** Field count of each class definition seen so far, by definition index. */
  private readonly classFields: number[] = [];

  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  private fail(message: string): never {
    throw new HessianError(message, this.pos);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) this.fail('truncated value');
  }

  private byte(): number {
    if (this.pos >= this.end) this.fail('truncated value');
    return this.buf[this.pos++];
  }

  peekByte(): number {
    return this.pos < this.end ? this.buf[this.pos] : -1;
  }

  atString(): boolean {
    return this.pos < this.end && isStringCode(this.buf[this.pos]);
  }

  // ---- strings ----

  /** Reads the length prefix of one string chunk; returns units, sets `last`. */
  private chunkHeader(): number {
    const c = this.byte();
    if (c <= 0x1f) {
      this.chunkFinal = true;
      return c;
    }
    if (c >= 0x30 && c <= 0x33) {
      this.chunkFinal = true;
      return ((c - 0x30) << 8) | this.byte();
    }
    if (c === 0x53 || c === 0x52) {
      this.need(2);
      const n = this.buf.readUInt16BE(this.pos);
      this.pos += 2;
      this.chunkFinal = c === 0x53;
      return n;
    }
    this.pos--;
    return this.fail(`expected a string, found 0x${c.toString(16)}`);
  }
  private chunkFinal = true;

  /** Reads a string value (any encoding, chunked included). */
  readString(): string {
    let units = this.chunkHeader();
    if (this.chunkFinal) return this.decodeUnits(units);
    let out = this.decodeUnits(units);
    while (!this.chunkFinal) {
      units = this.chunkHeader();
      out += this.decodeUnits(units);
    }
    return out;
  }

  /** Reads a string, or null for hessian null 'N'. */
  readNullableString(): string | null {
    if (this.peekByte() === 0x4e) {
      this.pos++;
      return null;
    }
    return this.readString();
  }

  skipString(): void {
    do this.skipUnits(this.chunkHeader());
    while (!this.chunkFinal);
  }

  /** Decodes `units` UTF-16 code units of UTF-8 / CESU-8 data at pos. */
  private decodeUnits(units: number): string {
    if (units === 0) return '';
    const buf = this.buf;
    const start = this.pos;
    if (start + units > this.end) this.fail('truncated string');
    let i = start;
    const asciiEnd = start + units;
    let h = 0x811c9dc5 ^ units;
    while (i < asciiEnd && buf[i] < 0x80) {
      h = Math.imul(h ^ buf[i], 0x01000193);
      i++;
    }
    if (i === asciiEnd) {
      this.pos = asciiEnd;
      if (units > INTERN_MAX) return buf.toString('latin1', start, asciiEnd);
      return interned(buf, start, units, h);
    }
    if (scratch.length < units) scratch = new Uint16Array(Math.max(units, scratch.length * 2));
    const out = scratch;
    let n = i - start;
    for (let k = 0; k < n; k++) out[k] = buf[start + k];
    const end = this.end;
    while (n < units) {
      if (i >= end) this.failAt('truncated string', i);
      const b = buf[i];
      if (b < 0x80) {
        out[n++] = b;
        i++;
      } else if (b >= 0xc0 && b < 0xe0) {
        if (i + 2 > end) this.failAt('truncated string', i);
        out[n++] = ((b & 0x1f) << 6) | (buf[i + 1] & 0x3f);
        i += 2;
      } else if (b >= 0xe0 && b < 0xf0) {
        if (i + 3 > end) this.failAt('truncated string', i);
        out[n++] = ((b & 0x0f) << 12) | ((buf[i + 1] & 0x3f) << 6) | (buf[i + 2] & 0x3f);
        i += 3;
      } else if (b >= 0xf0 && b < 0xf8 && n + 2 <= units) {
        // standard 4-byte UTF-8 (not what Java writes, but accepted): one pair of code units
        if (i + 4 > end) this.failAt('truncated string', i);
        const cp = (((b & 0x07) << 18) | ((buf[i + 1] & 0x3f) << 12) | ((buf[i + 2] & 0x3f) << 6) | (buf[i + 3] & 0x3f)) - 0x10000;
        out[n++] = 0xd800 + (cp >> 10);
        out[n++] = 0xdc00 + (cp & 0x3ff);
        i += 4;
      } else {
        this.failAt('bad utf-8 in string', i);
      }
    }
    this.pos = i;
    if (units <= FROM_CHAR_CODE_CHUNK) return String.fromCharCode.apply(null, out.subarray(0, units) as unknown as number[]);
    let s = '';
    for (let k = 0; k < units; k += FROM_CHAR_CODE_CHUNK) {
      s += String.fromCharCode.apply(null, out.subarray(k, Math.min(units, k + FROM_CHAR_CODE_CHUNK)) as unknown as number[]);
    }
    return s;
  }

  private failAt(message: string, at: number): never {
    this.pos = at;
    return this.fail(message);
  }

  private skipUnits(units: number): void {
    const buf = this.buf;
    const end = this.end;
    let i = this.pos;
    let n = 0;
    while (n < units) {
      if (i >= end) this.failAt('truncated string', i);
      const b = buf[i];
      if (b < 0x80) i++;
      else if (b >= 0xc0 && b < 0xe0) i += 2;
      else if (b >= 0xe0 && b < 0xf0) i += 3;
      else if (b >= 0xf0 && b < 0xf8 && n + 2 <= units) {
        i += 4;
        n++;
      } else this.failAt('bad utf-8 in string', i);
      n++;
    }
    if (i > end) this.failAt('truncated string', end);
    this.pos = i;
  }

  // ---- numbers ----

  /** Reads an int (any int form; long forms are accepted too, as Java's readInt does). */
  readInt(): number {
    const c = this.byte();
    if (c >= 0x80 && c <= 0xbf) return c - 0x90;
    if (c >= 0xc0 && c <= 0xcf) return ((c - 0xc8) << 8) | this.byte();
    if (c >= 0xd0 && c <= 0xd7) {
      this.need(2);
      const v = ((c - 0xd4) << 16) | this.buf.readUInt16BE(this.pos);
      this.pos += 2;
      return v;
    }
    if (c === 0x49 || c === 0x59) {
      this.need(4);
      const v = this.buf.readInt32BE(this.pos);
      this.pos += 4;
      return v;
    }
    if (c >= 0xd8 && c <= 0xef) return c - 0xe0;
    if (c >= 0xf0) return ((c - 0xf8) << 8) | this.byte();
    if (c >= 0x38 && c <= 0x3f) {
      this.need(2);
      const v = ((c - 0x3c) << 16) | this.buf.readUInt16BE(this.pos);
      this.pos += 2;
      return v;
    }
    this.pos--;
    return this.fail(`expected an int, found 0x${c.toString(16)}`);
  }

  private readCount(): number {
    const n = this.readInt();
    if (n < 0) this.fail('negative length');
    return n;
  }

  // ---- generic skipping ----

  /** `type ::= string | int`: the type of a typed list or map. */
  private skipType(): void {
    if (this.atString()) this.skipString();
    else this.readInt();
  }

  private readClassDef(): void {
    this.skipString();
    const fields = this.readCount();
    for (let i = 0; i < fields; i++) this.skipString();
    this.classFields.push(fields);
  }

  private skipFields(def: number, depth: number): void {
    if (def < 0 || def >= this.classFields.length) this.fail(`unknown class definition ${def}`);
    const fields = this.classFields[def];
    for (let i = 0; i < fields; i++) this.skipValue(depth + 1);
  }

  private skipUntilEnd(depth: number): void {
    while (true) {
      if (this.pos >= this.end) this.fail('truncated list or map');
      if (this.buf[this.pos] === 0x5a) {
        this.pos++;
        return;
      }
      this.skipValue(depth + 1);
    }
  }

  private skipN(n: number, depth: number): void {
    for (let i = 0; i < n; i++) this.skipValue(depth + 1);
  }

  private skipBinary(c: number): void {
    // 'A' non-final chunks, then a final chunk in any binary form
    while (true) {
      let len: number;
      if (c >= 0x20 && c <= 0x2f) len = c - 0x20;
      else if (c >= 0x34 && c <= 0x37) len = ((c - 0x34) << 8) | this.byte();
      else if (c === 0x41 || c === 0x42) {
        this.need(2);
        len = this.buf.readUInt16BE(this.pos);
        this.pos += 2;
      } else {
        this.pos--;
        return this.fail(`expected binary data, found 0x${c.toString(16)}`);
      }
      this.need(len);
      this.pos += len;
      if (c !== 0x41) return;
      c = this.byte();
    }
  }

  /** Skips one value of any type (class definitions before it included). */
  skipValue(depth = 0): void {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    while (true) {
      const c = this.byte();
      if (c <= 0x1f || (c >= 0x30 && c <= 0x33) || c === 0x52 || c === 0x53) {
        this.pos--;
        this.skipString();
        return;
      }
      if (c >= 0x80) {
        // ints and longs, compact forms
        if (c <= 0xbf || (c >= 0xd8 && c <= 0xef)) return;
        if (c <= 0xcf || c >= 0xf0) return void this.advance(1);
        return void this.advance(2); // 0xd0-0xd7
      }
      if (c >= 0x60) {
        if (c <= 0x6f) return this.skipFields(c - 0x60, depth);
        if (c <= 0x77) {
          this.skipType();
          return this.skipN(c - 0x70, depth);
        }
        return this.skipN(c - 0x78, depth);
      }
      if (c >= 0x20 && c <= 0x2f) return this.skipBinary(c);
      if (c >= 0x34 && c <= 0x37) return this.skipBinary(c);
      if (c >= 0x38 && c <= 0x3f) return void this.advance(2);
      switch (c) {
        case 0x41: // 'A'
        case 0x42: // 'B'
          return this.skipBinary(c);
        case 0x43: // 'C' class definition, then the value that follows
          this.readClassDef();
          continue;
        case 0x44: // 'D'
        case 0x4a: // 'J' date ms
        case 0x4c: // 'L'
          return void this.advance(8);
        case 0x46: // 'F'
        case 0x54: // 'T'
        case 0x4e: // 'N'
        case 0x5b: // 0.0
        case 0x5c: // 1.0
          return;
        case 0x48: // 'H' untyped map
          return this.skipUntilEnd(depth);
        case 0x49: // 'I'
        case 0x4b: // 'K' date minutes
        case 0x59: // long as int
        case 0x5f: // double as float
          return void this.advance(4);
        case 0x4d: // 'M' typed map
          this.skipType();
          return this.skipUntilEnd(depth);
        case 0x4f: // 'O' object instance
          return this.skipFields(this.readInt(), depth);
        case 0x51: // ref
          this.readInt();
          return;
        case 0x55: // typed variable list
          this.skipType();
          return this.skipUntilEnd(depth);
        case 0x56: // typed fixed list
          this.skipType();
          return this.skipN(this.readCount(), depth);
        case 0x57: // untyped variable list
          return this.skipUntilEnd(depth);
        case 0x58: // untyped fixed list
          return this.skipN(this.readCount(), depth);
        case 0x5d: // double as byte
          return void this.advance(1);
        case 0x5e: // double as short
          return void this.advance(2);
        default:
          this.pos--;
          return this.fail(`unexpected code 0x${c.toString(16)}`);
      }
    }
  }

  private advance(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** Reads a scalar at pos as text, or skips a non-scalar and returns null. */
  readValueAsText(): string | null {
    const c = this.peekByte();
    if (c < 0) this.fail('truncated value');
    if (isStringCode(c)) return this.readString();
    if ((c >= 0x80 && c <= 0xd7) || c === 0x49) return String(this.readInt());
    if ((c >= 0xd8 && c <= 0xff) || (c >= 0x38 && c <= 0x3f) || c === 0x59) return String(this.readInt());
    const p = this.pos;
    switch (c) {
      case 0x54:
        this.pos++;
        return 'true';
      case 0x46:
        this.pos++;
        return 'false';
      case 0x4c:
        this.advance(9);
        return this.buf.readBigInt64BE(p + 1).toString();
      case 0x44:
        this.advance(9);
        return String(this.buf.readDoubleBE(p + 1));
      case 0x5b:
        this.pos++;
        return '0.0';
      case 0x5c:
        this.pos++;
        return '1.0';
      case 0x5d:
        this.advance(2);
        return String(this.buf.readInt8(p + 1));
      case 0x5e:
        this.advance(3);
        return String(this.buf.readInt16BE(p + 1));
      case 0x5f:
        this.advance(5);
        return String(this.buf.readInt32BE(p + 1) / 1000);
      default:
        this.skipValue();
        return null;
    }
  }

  /**
   * Reads an attachments map ('H', 'M' typed, or 'N' for none). Keys that are not strings and
   * values that are not scalars are kept as entries with a null value (their bytes still known).
   */
  readAttachments(): Attachments {
    while (this.peekByte() === 0x43) {
      this.pos++;
      this.readClassDef();
    }
    const start = this.pos;
    const c = this.byte();
    const entries: AttachmentEntry[] = [];
    if (c === 0x4e) return { start, entriesStart: this.pos, end: this.pos, entries };
    if (c === 0x4d) this.skipType();
    else if (c !== 0x48) {
      this.pos--;
      this.fail(`expected an attachments map, found 0x${c.toString(16)}`);
    }
    const entriesStart = this.pos;
    while (true) {
      if (this.pos >= this.end) this.fail('truncated attachments');
      if (this.buf[this.pos] === 0x5a) {
        this.pos++;
        return { start, entriesStart, end: this.pos, entries };
      }
      const keyStart = this.pos;
      let key: string | null = null;
      if (this.atString()) key = this.readString();
      else this.skipValue(1);
      const valueStart = this.pos;
      let value: string | null = null;
      if (key === null) this.skipValue(1);
      else value = this.readValueAsText();
      entries.push({ key: key ?? '', value: key === null ? null : value, keyStart, valueStart, valueEnd: this.pos });
    }
  }
}

/** Counts the parameters in a JVM method descriptor such as `Ljava/lang/String;[II`; -1 if bad. */
export function countParameters(desc: string): number {
  let n = 0;
  let i = 0;
  const len = desc.length;
  while (i < len) {
    let c = desc.charCodeAt(i);
    while (c === 0x5b /* [ */) {
      i++;
      if (i >= len) return -1;
      c = desc.charCodeAt(i);
    }
    if (c === 0x4c /* L */) {
      const semi = desc.indexOf(';', i + 1);
      if (semi < 0) return -1;
      i = semi + 1;
    } else if ('ZBCDFIJSV'.indexOf(desc[i]) >= 0) {
      i++;
    } else {
      return -1;
    }
    n++;
  }
  return n;
}
