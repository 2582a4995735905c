/**
 * Hessian 2 writer for what the Dubbo codec must produce: strings (error replies, attachments),
 * null, ints, untyped maps, and raw copies of bytes already encoded. Strings are written as Java's
 * Hessian2Output does (CESU-8, chunks of at most 0x8000 UTF-16 units, never splitting a pair).
 * Must never: encode anything the proxy does not need (no objects, lists or class definitions).
 */

export class Hessian2Writer {
  private buf: Buffer;
  private len = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.len;
  }

  private ensure(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): this {
    this.ensure(1);
    this.buf[this.len++] = b;
    return this;
  }

  raw(src: Buffer, start = 0, end = src.length): this {
    const n = end - start;
    if (n <= 0) return this;
    this.ensure(n);
    src.copy(this.buf, this.len, start, end);
    this.len += n;
    return this;
  }

  writeNull(): this {
    return this.byte(0x4e);
  }

  writeInt(v: number): this {
    v |= 0;
    if (v >= -0x10 && v <= 0x2f) return this.byte(v + 0x90);
    if (v >= -0x800 && v <= 0x7ff) {
      this.ensure(2);
      this.buf[this.len++] = (v >> 8) + 0xc8;
      this.buf[this.len++] = v & 0xff;
      return this;
    }
    if (v >= -0x40000 && v <= 0x3ffff) {
      this.ensure(3);
      this.buf[this.len++] = (v >> 16) + 0xd4;
      this.buf[this.len++] = (v >> 8) & 0xff;
      this.buf[this.len++] = v & 0xff;
      return this;
    }
    this.ensure(5);
    this.buf[this.len++] = 0x49;
    this.buf.writeInt32BE(v, this.len);
    this.len += 4;
    return this;
  }

  writeString(s: string): this {
    let offset = 0;
    let remaining = s.length;
    while (remaining > 0x8000) {
      let sub = 0x8000;
      const tail = s.charCodeAt(offset + sub - 1);
      if (tail >= 0xd800 && tail <= 0xdbff) sub--;
      this.ensure(3);
      this.buf[this.len++] = 0x52;
      this.buf.writeUInt16BE(sub, this.len);
      this.len += 2;
      this.units(s, offset, offset + sub);
      offset += sub;
      remaining -= sub;
    }
    if (remaining <= 31) this.byte(remaining);
    else if (remaining <= 1023) this.byte(0x30 + (remaining >> 8)).byte(remaining & 0xff);
    else this.byte(0x53).byte(remaining >> 8).byte(remaining & 0xff);
    return this.units(s, offset, s.length);
  }

  /** CESU-8: every UTF-16 code unit on its own, surrogates included. */
  private units(s: string, from: number, to: number): this {
    this.ensure((to - from) * 3);
    const buf = this.buf;
    let p = this.len;
    for (let i = from; i < to; i++) {
      const ch = s.charCodeAt(i);
      if (ch < 0x80) buf[p++] = ch;
      else if (ch < 0x800) {
        buf[p++] = 0xc0 | (ch >> 6);
        buf[p++] = 0x80 | (ch & 0x3f);
      } else {
        buf[p++] = 0xe0 | (ch >> 12);
        buf[p++] = 0x80 | ((ch >> 6) & 0x3f);
        buf[p++] = 0x80 | (ch & 0x3f);
      }
    }
    this.len = p;
    return this;
  }

  /** An untyped map of strings: 'H' (key value)* 'Z'. */
  writeStringMap(pairs: readonly string[]): this {
    this.byte(0x48);
    for (let i = 0; i + 1 < pairs.length; i += 2) this.writeString(pairs[i]).writeString(pairs[i + 1]);
    return this.byte(0x5a);
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

/** One hessian2 string as a Buffer. */
export function encodeString(s: string): Buffer {
  return new Hessian2Writer(s.length * 3 + 3).writeString(s).toBuffer();
}
