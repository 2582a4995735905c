/**
 * Just enough Hessian 2 for a proxy: read `methodName` and `targetServiceUniqueName` out of a
 * SofaRequest object at the start of a request's content, and write the RpcServerException that
 * a local reply carries.
 * Reads both object dialects: the Hessian 3.x draft that sofa-rpc-node and sofa-hessian 3.x write
 * (`O` int-length raw type name + fields = class definition, `o` = instance, lists `V`…`z`) and the
 * final Hessian 2.0 (`C` class definition, `O`/0x60 instance). Fields before the wanted ones may be
 * null, booleans, ints, longs, doubles, strings, lists and maps of those; anything else stops the
 * reader, which then reports what it found so far.
 * Writes the draft dialect, which sofa-bolt-node (its default) and the Java sofa-hessian 3.x read.
 * Must never: throw, read past `end`, or recurse without bound.
 */

export interface SofaRequestKeys {
  method?: string;
  service?: string;
}

const MAX_DEPTH = 8;

class Reader {
  p: number;
  draft = true;
  constructor(
    readonly b: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.p = start;
  }

  /** An int in any Hessian 2 int form, or NaN. */
  int(): number {
    const b = this.b;
    if (this.p >= this.end) return NaN;
    const c = b[this.p];
    if (c >= 0x80 && c <= 0xbf) {
      this.p += 1;
      return c - 0x90;
    }
    if (c >= 0xc0 && c <= 0xcf) {
      if (this.p + 2 > this.end) return NaN;
      const v = ((c - 0xc8) << 8) + b[this.p + 1];
      this.p += 2;
      return v;
    }
    if (c >= 0xd0 && c <= 0xd7) {
      if (this.p + 3 > this.end) return NaN;
      const v = ((c - 0xd4) << 16) + (b[this.p + 1] << 8) + b[this.p + 2];
      this.p += 3;
      return v;
    }
    if (c === 0x49) {
      if (this.p + 5 > this.end) return NaN;
      const v = b.readInt32BE(this.p + 1);
      this.p += 5;
      return v;
    }
    return NaN;
  }

  /** Advances over `chars` UTF-16 units of CESU-8/UTF-8; false when the bytes run out. */
  chars(chars: number): boolean {
    const b = this.b;
    let p = this.p;
    for (let i = 0; i < chars; i++) {
      if (p >= this.end) return false;
      const c = b[p];
      if (c < 0x80) p += 1;
      else if (c < 0xe0) p += 2;
      else if (c < 0xf0) p += 3;
      else {
        p += 4;
        i++; // a 4-byte sequence is two UTF-16 units
      }
    }
    if (p > this.end) return false;
    this.p = p;
    return true;
  }

  /** A string value, or undefined when the next value is not a string (position unchanged then). */
  string(): string | undefined {
    const start = this.p;
    let out = '';
    for (;;) {
      if (this.p >= this.end) break;
      const c = this.b[this.p];
      let len: number;
      let last = true;
      if (c <= 0x1f) {
        len = c;
        this.p += 1;
      } else if (c >= 0x30 && c <= 0x33 && !this.draft) {
        if (this.p + 2 > this.end) break;
        len = ((c - 0x30) << 8) + this.b[this.p + 1];
        this.p += 2;
      } else if (c === 0x53 || c === 0x73 || (c === 0x52 && !this.draft)) {
        if (this.p + 3 > this.end) break;
        len = this.b.readUInt16BE(this.p + 1);
        last = c === 0x53;
        this.p += 3;
      } else break;
      const from = this.p;
      if (!this.chars(len)) break;
      out += this.b.toString('utf8', from, this.p);
      if (last) return out;
    }
    this.p = start;
    return undefined;
  }

  /** Skips one value; false when it cannot. */
  skip(depth: number): boolean {
    if (depth > MAX_DEPTH || this.p >= this.end) return false;
    const b = this.b;
    const c = b[this.p];
    if (c === 0x4e || c === 0x54 || c === 0x46) return this.adv(1); // N T F
    if (c >= 0x80 && c <= 0xd7) return !Number.isNaN(this.int());
    if (c === 0x49) return this.adv(5);
    if (c >= 0xd8 && c <= 0xef) return this.adv(1); // long, one byte
    if (c >= 0xf0 && c <= 0xff) return this.adv(2);
    if (c >= 0x38 && c <= 0x3f) return this.adv(3);
    if (c === 0x59 || (c === 0x77 && this.draft)) return this.adv(5); // long as int32
    if (c === 0x4c || c === 0x44) return this.adv(9); // L, D
    if (c === 0x5b || c === 0x5c) return this.adv(1); // double 0.0 / 1.0
    if (c === 0x5d) return this.adv(2);
    if (c === 0x5e) return this.adv(3);
    if (c === 0x5f) return this.adv(5);
    if (c <= 0x1f || c === 0x53 || c === 0x73 || (c === 0x52 && !this.draft) || (c >= 0x30 && c <= 0x33 && !this.draft)) {
      return this.string() !== undefined;
    }
    if (c === 0x56) return this.draft ? this.draftList(depth) : this.finalList(depth, true);
    if (c === 0x58) return this.finalList(depth, false); // X: fixed untyped list
    if (c >= 0x70 && c <= 0x7f && !this.draft) {
      const typed = c < 0x78;
      const n = typed ? c - 0x70 : c - 0x78;
      this.p += 1;
      if (typed && !this.type()) return false;
      return this.items(n, depth);
    }
    if (c === 0x57 || (c === 0x55 && !this.draft)) {
      // W untyped / U typed variable-length list, ended by Z
      this.p += 1;
      if (c === 0x55 && !this.type()) return false;
      return this.until(0x5a, depth);
    }
    if (c === 0x4d || (c === 0x48 && !this.draft)) {
      // M typed map (draft: optional `t` type), H untyped map
      this.p += 1;
      if (c === 0x4d) {
        if (this.draft) {
          if (!this.draftType()) return false;
        } else if (!this.type()) return false;
      }
      return this.until(this.draft ? 0x7a : 0x5a, depth);
    }
    return false;
  }

  private adv(n: number): boolean {
    if (this.p + n > this.end) return false;
    this.p += n;
    return true;
  }

  private items(n: number, depth: number): boolean {
    for (let i = 0; i < n; i++) if (!this.skip(depth + 1)) return false;
    return true;
  }

  private until(endByte: number, depth: number): boolean {
    for (;;) {
      if (this.p >= this.end) return false;
      if (this.b[this.p] === endByte) {
        this.p += 1;
        return true;
      }
      if (!this.skip(depth + 1)) return false;
    }
  }

  /** Final dialect type: a string or an int reference. */
  private type(): boolean {
    if (this.string() !== undefined) return true;
    return !Number.isNaN(this.int());
  }

  /** Draft dialect optional type: `t` u16 length + chars (type references are not followed). */
  private draftType(): boolean {
    if (this.p >= this.end) return false;
    const c = this.b[this.p];
    if (c === 0x74) {
      if (this.p + 3 > this.end) return false;
      const len = this.b.readUInt16BE(this.p + 1);
      this.p += 3;
      return this.chars(len);
    }
    return true;
  }

  private draftList(depth: number): boolean {
    this.p += 1;
    if (!this.draftType()) return false;
    if (this.p < this.end) {
      const c = this.b[this.p];
      if (c === 0x6e) {
        if (!this.adv(2)) return false;
      } else if (c === 0x6c) {
        if (!this.adv(5)) return false;
      }
    }
    return this.until(0x7a, depth);
  }

  private finalList(depth: number, typed: boolean): boolean {
    this.p += 1;
    if (typed && !this.type()) return false;
    const n = this.int();
    if (Number.isNaN(n) || n < 0) return false;
    return this.items(n, depth);
  }
}

/**
 * Reads the class definition and first instance at `content[start, end)` and returns the
 * `methodName` and `targetServiceUniqueName` fields that could be reached.
 */
export function readSofaRequestKeys(content: Buffer, start: number, end: number): SofaRequestKeys {
  const out: SofaRequestKeys = {};
  if (end > content.length) end = content.length;
  const r = new Reader(content, start, end);
  if (r.p >= end) return out;
  const lead = content[r.p];
  let fields: string[];
  if (lead === 0x4f) {
    // draft class definition: O, int length, raw type name, int count, field names
    r.draft = true;
    r.p += 1;
    const tl = r.int();
    if (Number.isNaN(tl) || tl < 0 || !r.chars(tl)) return out;
    const names = readNames(r);
    if (names === null || r.p >= end || content[r.p] !== 0x6f) return out; // `o`
    r.p += 1;
    if (Number.isNaN(r.int())) return out;
    fields = names;
  } else if (lead === 0x43) {
    // final class definition: C, string type, int count, field names
    r.draft = false;
    r.p += 1;
    if (r.string() === undefined) return out;
    const names = readNames(r);
    if (names === null || r.p >= end) return out;
    const c = content[r.p];
    if (c === 0x4f) {
      r.p += 1;
      if (Number.isNaN(r.int())) return out;
    } else if (c >= 0x60 && c <= 0x6f) r.p += 1;
    else return out;
    fields = names;
  } else return out;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f === 'methodName' || f === 'targetServiceUniqueName') {
      const s = r.string();
      if (s !== undefined) {
        if (f === 'methodName') out.method = s;
        else out.service = s;
        if (out.method !== undefined && out.service !== undefined) return out;
        continue;
      }
    }
    if (!r.skip(0)) return out;
  }
  return out;
}

function readNames(r: Reader): string[] | null {
  const n = r.int();
  if (Number.isNaN(n) || n < 0 || n > 256) return null;
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = r.string();
    if (s === undefined) return null;
    names.push(s);
  }
  return names;
}

// ---- writer (draft dialect) ----

/** Longest message written, in UTF-16 units (keeps every string a single chunk). */
export const MAX_MESSAGE_UNITS = 8000;

function pushInt(out: number[], v: number): void {
  if (v >= -16 && v <= 47) out.push(0x90 + v);
  else if (v >= -2048 && v <= 2047) out.push(0xc8 + (v >> 8), v & 0xff);
  else out.push(0x49, (v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** CESU-8: each UTF-16 unit on its own (surrogates as 3-byte sequences), as Java writes. */
function pushChars(out: number[], s: string): void {
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u < 0x80) out.push(u);
    else if (u < 0x800) out.push(0xc0 | (u >> 6), 0x80 | (u & 0x3f));
    else out.push(0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f));
  }
}

function pushString(out: number[], s: string): void {
  if (s.length <= 0x1f) out.push(s.length);
  else out.push(0x53, s.length >> 8, s.length & 0xff);
  pushChars(out, s);
}

/**
 * Hessian (draft) bytes of a `com.alipay.remoting.rpc.exception.RpcServerException` with
 * `detailMessage` = message, an empty stack trace and no cause.
 */
export function encodeServerException(message: string): Buffer {
  if (message.length > MAX_MESSAGE_UNITS) message = message.slice(0, MAX_MESSAGE_UNITS);
  const out: number[] = [0x4f];
  const type = 'com.alipay.remoting.rpc.exception.RpcServerException';
  pushInt(out, type.length);
  pushChars(out, type);
  pushInt(out, 3);
  pushString(out, 'detailMessage');
  pushString(out, 'stackTrace');
  pushString(out, 'cause');
  out.push(0x6f); // o
  pushInt(out, 0);
  pushString(out, message);
  const st = '[java.lang.StackTraceElement';
  out.push(0x56, 0x74, st.length >> 8, st.length & 0xff); // V t len
  pushChars(out, st);
  out.push(0x6e, 0x00, 0x7a); // n 0, z
  out.push(0x4e); // cause: null
  return Buffer.from(out);
}
