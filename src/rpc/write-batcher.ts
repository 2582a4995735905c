/**
 * WriteBatcher: coalesces the frames written to one socket during one turn of the event loop into
 * a single socket write (one syscall instead of one per frame). Frames are queued in order and
 * flushed after the poll phase of the current loop turn (setImmediate), so answers produced by
 * several I/O callbacks of one poll share a write, or at once by flush(). Small batches are joined into one buffer; large ones go out as one writev.
 * Must never: reorder frames, hold a frame past the current turn, or write after discard().
 */
import type { Writable } from 'node:stream';

/** Batches up to this many bytes are joined (copied) into one buffer; larger ones use writev. */
const JOIN_LIMIT = 64 * 1024;

export class WriteBatcher {
  private parts: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;
  private dead = false;

  /** `onFull` is called after a flush the socket reported as over its high-water mark. */
  constructor(
    private readonly socket: Writable,
    private readonly onFull: () => void,
  ) {}

  /** Bytes queued and not yet handed to the socket. */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** Queues a whole frame; false when the socket is already over its high-water mark. */
  write(frame: Buffer): boolean {
    if (this.dead) return true;
    this.parts.push(frame);
    this.bytes += frame.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushFn);
    }
    return !this.socket.writableNeedDrain;
  }

  private readonly flushFn = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** Writes everything queued now (before end() or anything else written to the socket). */
  flush(): void {
    const parts = this.parts;
    const n = parts.length;
    if (n === 0 || this.dead) return;
    const bytes = this.bytes;
    this.parts = [];
    this.bytes = 0;
    const s = this.socket;
    if (s.destroyed || s.writableEnded) return;
    let ok: boolean;
    if (n === 1) ok = s.write(parts[0]);
    else if (bytes <= JOIN_LIMIT) ok = s.write(Buffer.concat(parts, bytes));
    else {
      s.cork();
      for (let i = 0; i < n - 1; i++) s.write(parts[i]);
      ok = s.write(parts[n - 1]);
      s.uncork();
    }
    if (!ok) this.onFull();
  }

  /** Drops what is queued; nothing is written any more (the socket is being destroyed). */
  discard(): void {
    this.dead = true;
    this.parts = [];
    this.bytes = 0;
  }
}
