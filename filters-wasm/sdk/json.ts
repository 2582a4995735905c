// Switchyard proxy-wasm SDK: a small JSON reader for plugin configuration (AssemblyScript has none).
// Parses UTF-8 bytes into a JsonValue tree with typed getters that take defaults. Must never be used
// per request: configuration is parsed once, in onConfigure, into plain fields.

export namespace JsonKind {
  export const Null: i32 = 0;
  export const Bool: i32 = 1;
  export const Number: i32 = 2;
  export const String: i32 = 3;
  export const Array: i32 = 4;
  export const Object: i32 = 5;
}

export class JsonValue {
  kind: i32 = JsonKind.Null;
  bool: bool = false;
  num: f64 = 0;
  str: string = "";
  items: Array<JsonValue> = [];
  /** Object keys in document order (values in `fields`). */
  keys: Array<string> = [];
  fields: Map<string, JsonValue> = new Map();

  isNull(): bool { return this.kind == JsonKind.Null; }
  isString(): bool { return this.kind == JsonKind.String; }
  isNumber(): bool { return this.kind == JsonKind.Number; }
  isBool(): bool { return this.kind == JsonKind.Bool; }
  isArray(): bool { return this.kind == JsonKind.Array; }
  isObject(): bool { return this.kind == JsonKind.Object; }

  /** Member `key` of an object, or null. */
  get(key: string): JsonValue | null {
    if (this.kind != JsonKind.Object || !this.fields.has(key)) return null;
    return this.fields.get(key);
  }
  getString(key: string, def: string = ""): string {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.String ? v.str : def;
  }
  getNumber(key: string, def: f64 = 0): f64 {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.Number ? v.num : def;
  }
  getInt(key: string, def: i64 = 0): i64 {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.Number ? <i64>v.num : def;
  }
  getBool(key: string, def: bool = false): bool {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.Bool ? v.bool : def;
  }
  /** Items of array member `key` (empty when absent or not an array). */
  getArray(key: string): Array<JsonValue> {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.Array ? v.items : [];
  }
}

/** Parses UTF-8 JSON; null on any syntax error or trailing garbage. */
export function parseJson(bytes: ArrayBuffer): JsonValue | null {
  const p = new Parser(bytes);
  const v = p.value(0);
  p.ws();
  return p.failed || p.pos != p.end ? null : v;
}

export function parseJsonString(s: string): JsonValue | null {
  return parseJson(String.UTF8.encode(s));
}

const MAX_DEPTH: i32 = 64;

class Parser {
  pos: usize;
  end: usize;
  failed: bool = false;
  constructor(private buf: ArrayBuffer) {
    this.pos = changetype<usize>(buf);
    this.end = this.pos + <usize>buf.byteLength;
  }

  fail(): JsonValue { this.failed = true; return new JsonValue(); }

  ws(): void {
    while (this.pos < this.end) {
      const c = load<u8>(this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }

  peek(): i32 { return this.pos < this.end ? <i32>load<u8>(this.pos) : -1; }

  lit(word: string): bool {
    const n = <usize>word.length;
    if (this.pos + n > this.end) return false;
    for (let i: usize = 0; i < n; i++) {
      if (<u32>load<u8>(this.pos + i) != <u32>word.charCodeAt(<i32>i)) return false;
    }
    this.pos += n;
    return true;
  }

  value(depth: i32): JsonValue {
    if (depth > MAX_DEPTH) return this.fail();
    this.ws();
    const c = this.peek();
    const v = new JsonValue();
    if (c == 0x7b) { // {
      this.pos++;
      v.kind = JsonKind.Object;
      this.ws();
      if (this.peek() == 0x7d) { this.pos++; return v; }
      while (true) {
        this.ws();
        if (this.peek() != 0x22) return this.fail();
        const k = this.string();
        if (this.failed) return v;
        this.ws();
        if (this.peek() != 0x3a) return this.fail();
        this.pos++;
        const item = this.value(depth + 1);
        if (this.failed) return v;
        if (!v.fields.has(k)) v.keys.push(k);
        v.fields.set(k, item);
        this.ws();
        const d = this.peek();
        this.pos++;
        if (d == 0x2c) continue;
        if (d == 0x7d) return v;
        return this.fail();
      }
    }
    if (c == 0x5b) { // [
      this.pos++;
      v.kind = JsonKind.Array;
      this.ws();
      if (this.peek() == 0x5d) { this.pos++; return v; }
      while (true) {
        const item = this.value(depth + 1);
        if (this.failed) return v;
        v.items.push(item);
        this.ws();
        const d = this.peek();
        this.pos++;
        if (d == 0x2c) continue;
        if (d == 0x5d) return v;
        return this.fail();
      }
    }
    if (c == 0x22) { v.kind = JsonKind.String; v.str = this.string(); return v; }
    if (c == 0x74) { if (!this.lit("true")) return this.fail(); v.kind = JsonKind.Bool; v.bool = true; return v; }
    if (c == 0x66) { if (!this.lit("false")) return this.fail(); v.kind = JsonKind.Bool; return v; }
    if (c == 0x6e) { if (!this.lit("null")) return this.fail(); return v; }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) { v.kind = JsonKind.Number; v.num = this.number(); return v; }
    return this.fail();
  }

  number(): f64 {
    const start = this.pos;
    while (this.pos < this.end) {
      const c = load<u8>(this.pos);
      if ((c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2b || c == 0x2e || c == 0x65 || c == 0x45) this.pos++;
      else break;
    }
    const s = String.UTF8.decodeUnsafe(start, this.pos - start);
    const n = parseFloat(s);
    if (isNaN(n)) this.failed = true;
    return n;
  }

  /** At an opening quote: the decoded string. */
  string(): string {
    this.pos++;
    const start = this.pos;
    let plain = true;
    while (this.pos < this.end) {
      const c = load<u8>(this.pos);
      if (c == 0x22) break;
      if (c == 0x5c) { plain = false; this.pos += 2; continue; }
      if (c < 0x20) { this.failed = true; return ""; }
      this.pos++;
    }
    if (this.pos >= this.end) { this.failed = true; return ""; }
    const stop = this.pos;
    this.pos++;
    if (plain) return String.UTF8.decodeUnsafe(start, stop - start);
    return this.unescape(start, stop);
  }

  unescape(start: usize, stop: usize): string {
    let out = "";
    let run = start;
    let p = start;
    while (p < stop) {
      if (load<u8>(p) != 0x5c) { p++; continue; }
      out += String.UTF8.decodeUnsafe(run, p - run);
      const e = load<u8>(p + 1);
      p += 2;
      if (e == 0x6e) out += "\n";
      else if (e == 0x74) out += "\t";
      else if (e == 0x72) out += "\r";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x22 || e == 0x5c || e == 0x2f) out += String.fromCharCode(e);
      else if (e == 0x75 && p + 4 <= stop) {
        let code: i32 = 0;
        for (let i = 0; i < 4; i++) {
          const h = <i32>load<u8>(p + i);
          let d: i32 = -1;
          if (h >= 0x30 && h <= 0x39) d = h - 0x30;
          else if (h >= 0x61 && h <= 0x66) d = h - 0x57;
          else if (h >= 0x41 && h <= 0x46) d = h - 0x37;
          if (d < 0) { this.failed = true; return ""; }
          code = (code << 4) | d;
        }
        p += 4;
        out += String.fromCharCode(code);
      } else { this.failed = true; return ""; }
      run = p;
    }
    out += String.UTF8.decodeUnsafe(run, stop - run);
    return out;
  }
}
