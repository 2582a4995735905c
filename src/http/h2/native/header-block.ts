/**
 * Header blocks of one HTTP/2 connection, either end: a HEADERS fragment and its CONTINUATIONs
 * joined (bounded, against CONTINUATION floods) and decoded with the connection's HPACK state.
 * add() answers with a status and leaves the result in fields (no object per block).
 * Must never: skip decoding a complete block (the HPACK table must stay in sync), or keep
 * fragments past the limit.
 */
import { HpackDecoder, HpackError } from '../hpack';
import { F } from './frames';

export const enum BlockStatus {
  /** More CONTINUATION frames are expected. */
  More = 0,
  /** `stream`, `raw`, `size` and `endStream` hold the decoded block. */
  Done = 1,
  /** The fragments went over the block limit (a connection error). */
  TooLarge = 2,
  /** The block does not decode (COMPRESSION_ERROR); `error` says why. */
  Bad = 3,
}

export class HeaderBlockReader {
  /** The stream whose block is being assembled (0: none), then the stream of the decoded block. */
  stream = 0;
  endStream = false;
  /** The decoded fields (name, value, ...), up to the list limit. */
  raw: string[] = [];
  /** The header-list size (RFC 7541: name + value + 32 per field) of the decoded block. */
  size = 0;
  error = '';
  private open = false;
  private flags = 0;
  private parts: Buffer[] = [];
  private bytes = 0;
  private readonly decoder = new HpackDecoder();

  constructor(
    /** Bytes a block may take before it is refused. */
    readonly blockLimit: number,
    /** The header-list size decoded fields are kept up to. */
    private readonly listLimit: number,
  ) {}

  /** A HEADERS frame is being assembled: anything but its CONTINUATION is a protocol error. */
  get assembling(): boolean {
    return this.open;
  }

  /** The first fragment (from HEADERS, padding and priority stripped). */
  begin(stream: number, flags: number, part: Buffer): BlockStatus {
    this.stream = stream;
    this.flags = flags;
    this.parts = [];
    this.bytes = 0;
    this.open = true;
    return this.add(part, flags);
  }

  /** A fragment (HEADERS or CONTINUATION); END_HEADERS in `flags` completes the block. */
  add(part: Buffer, flags: number): BlockStatus {
    this.bytes += part.length;
    if (this.bytes > this.blockLimit) return BlockStatus.TooLarge;
    this.parts.push(part);
    if ((flags & F.END_HEADERS) === 0) return BlockStatus.More;
    const block = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.bytes);
    this.open = false;
    this.parts = [];
    this.endStream = (this.flags & F.END_STREAM) !== 0;
    const raw: string[] = [];
    this.raw = raw;
    try {
      this.size = this.decoder.decode(block, raw, this.listLimit);
    } catch (err) {
      if (!(err instanceof HpackError)) throw err;
      this.error = err.message;
      return BlockStatus.Bad;
    }
    return BlockStatus.Done;
  }
}
