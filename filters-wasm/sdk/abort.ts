// Switchyard proxy-wasm SDK: the module's abort handler (selected with `--use abort=proxy_abort`), so
// modules never import `env.abort` (no proxy-wasm host provides it). Logs the message at CRITICAL
// through proxy_log, then traps. Must never allocate: it also runs when allocation itself fails.

import { proxy_log } from "./imports";
import { LogLevel } from "./types";

const BUF_SIZE: usize = 512;
const BUF: usize = memory.data(512);

function put(pos: usize, s: string | null): usize {
  if (s === null) return pos;
  const src = changetype<usize>(s);
  const n = <usize>s.length;
  for (let i: usize = 0; i < n && pos < BUF_SIZE; i++) {
    const c = load<u16>(src + (i << 1));
    store<u8>(BUF + pos++, c < 0x80 ? <u8>c : 0x3f);
  }
  return pos;
}

function putNum(pos: usize, v: u32): usize {
  let digits: usize = 1;
  for (let t = v; t >= 10; t /= 10) digits++;
  if (pos + digits > BUF_SIZE) return pos;
  let end = pos + digits;
  let t = v;
  do {
    store<u8>(BUF + --end, <u8>(48 + t % 10));
    t /= 10;
  } while (t != 0);
  return pos + digits;
}

// @ts-ignore: decorator
@global export function proxy_abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let p = put(0, "wasm abort: ");
  p = put(p, message);
  if (fileName !== null) {
    p = put(p, " at ");
    p = put(p, fileName);
    p = put(p, ":");
    p = putNum(p, line);
    p = put(p, ":");
    p = putNum(p, column);
  }
  proxy_log(LogLevel.Critical, BUF, p);
  unreachable();
}
