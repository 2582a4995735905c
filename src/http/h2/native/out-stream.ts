/**
 * What the frame writer (writer.ts) needs from one stream it sends DATA for: a downstream server
 * stream (its response) or an upstream client stream (its request). Owns: that contract only.
 * Must never: hold behaviour.
 */
import type { HeaderMap } from '../../../api/headers';

export interface OutStream {
  readonly id: number;
  /** Bytes the peer lets us send on this stream. */
  sendWindow: number;
  /** Body chunks not yet framed. */
  pending: Buffer[];
  pendingBytes: number;
  /** end() was called: END_STREAM goes on the last DATA frame (or the trailers). */
  endQueued: boolean;
  /** Trailers to send after the body (already filtered for HTTP/2), or null. */
  trailers: HeaderMap | null;
  /** In the writer's flush list. */
  flushQueued: boolean;
  /** Closed streams are skipped at flush. */
  readonly closed: boolean;
  /** The writer queued this side's END_STREAM. */
  endSent(): void;
  /** Everything pending was framed (or the socket drained): write() may continue. */
  fireDrain(): void;
}
