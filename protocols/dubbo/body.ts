/**
 * Dubbo request body layout (hessian2): dubbo version, service path, service version, method,
 * parameter descriptor, the arguments, the attachments map. Finds where each part starts and
 * ends so the codec can read routing keys and attachments and rebuild a body around the
 * untouched argument bytes.
 * Must never: decode arguments (they are skipped), or throw (failures are reported in `error`).
 */
import { Hessian2Reader, HessianError, countParameters, type Attachments } from './hessian2-reader';

export interface RequestBody {
  dubbo: string | null;
  service: string | null;
  version: string | null;
  method: string | null;
  desc: string | null;
  /** Offset of the first argument; -1 when the descriptor could not be read. */
  argsStart: number;
  /** Offset just past the last argument; -1 when the arguments could not be skipped. */
  argsEnd: number;
  /** null when absent (body ends after the arguments) or unreadable (see `error`). */
  attachments: Attachments | null;
  error: string | null;
}

function message(e: unknown): string {
  return e instanceof HessianError ? e.message : `internal decode error: ${String(e)}`;
}

/** Reads the four leading strings into `out`; returns the reader positioned after them, or null. */
export function readLeading(buf: Buffer, start: number, end: number, out: RequestBody): Hessian2Reader | null {
  const r = new Hessian2Reader(buf, start, end);
  try {
    out.dubbo = r.readString();
    out.service = r.readString();
    out.version = r.readNullableString() ?? '';
    out.method = r.readString();
    return r;
  } catch (e) {
    out.error = message(e);
    return null;
  }
}

export function emptyBody(): RequestBody {
  return { dubbo: null, service: null, version: null, method: null, desc: null, argsStart: -1, argsEnd: -1, attachments: null, error: null };
}

/**
 * Continues after the leading strings: descriptor, arguments (skipped), attachments.
 * `r` must come from readLeading on the same body.
 */
export function readRest(r: Hessian2Reader, out: RequestBody): void {
  try {
    out.desc = r.readNullableString() ?? '';
    const n = countParameters(out.desc);
    if (n < 0) {
      out.error = `bad parameter descriptor "${out.desc.slice(0, 100)}"`;
      return;
    }
    out.argsStart = r.pos;
    for (let i = 0; i < n; i++) r.skipValue();
    out.argsEnd = r.pos;
    if (r.pos >= r.end) return;
    out.attachments = r.readAttachments();
  } catch (e) {
    out.error = message(e);
  }
}

/** Parses a whole request body [start, end) of `buf`. */
export function parseRequestBody(buf: Buffer, start: number, end: number): RequestBody {
  const out = emptyBody();
  const r = readLeading(buf, start, end, out);
  if (r !== null) readRest(r, out);
  return out;
}
