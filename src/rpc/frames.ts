/**
 * Small helpers shared by the RPC server and pool: which codec a FrameHeaderMap came from, whether
 * a body chunk is exactly a frame's own payload (so the original bytes may be forwarded), and
 * request-id normalisation. Must never: hold per-connection state.
 */
import type { FrameHeaderMap, FrameInfo, RpcCodec } from '../api/rpc';

/** The codec whose server side decoded each request header map (set by the RPC server). */
export const frameOwners = new WeakMap<FrameHeaderMap, RpcCodec>();

/** True when `payload` is the very bytes after the header of `frame` (same memory, same length). */
export function isOwnPayload(payload: Buffer | null, frame: Buffer, info: FrameInfo): boolean {
  const want = info.length - info.headerLength;
  if (payload === null || payload.length === 0) return want === 0;
  return (
    payload.length === want &&
    payload.buffer === frame.buffer &&
    payload.byteOffset === frame.byteOffset + info.headerLength
  );
}

/** Map key of a request id (ids the pool assigns are small integers). */
export function idKey(id: number | bigint): number {
  return typeof id === 'bigint' ? Number(id) : id;
}

/** Joins the body chunks collected for one frame (one chunk: no copy). */
export function joinBody(first: Buffer | null, rest: Buffer[] | null): Buffer {
  if (first === null) return EMPTY;
  if (rest === null) return first;
  return Buffer.concat([first, ...rest]);
}

export const EMPTY = Buffer.alloc(0);
