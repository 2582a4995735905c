/**
 * A raw HTTP/2 client for the h2-protect tests: writes frames by hand over a net socket (client
 * preface, SETTINGS, HEADERS with an HPACK encoder for literals without indexing, RST_STREAM, PING,
 * DATA) and parses the frame headers the server sends back, so that tests can misbehave in ways no
 * HTTP/2 library allows. Must never: be used where a real client would do.
 */
import * as net from 'node:net';
import { once } from 'node:events';

export const FRAME = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
export const CODE = { NO_ERROR: 0, PROTOCOL_ERROR: 1, CANCEL: 8, ENHANCE_YOUR_CALM: 11 } as const;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** HPACK integer with an N-bit prefix (RFC 7541 5.1); `first` holds the bits above the prefix. */
export function hpackInt(value: number, prefixBits: number, first = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([first | value]);
  const out = [first | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v & 127) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** A string literal without Huffman coding. */
function hpackString(s: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  return Buffer.concat([hpackInt(b.length, 7, 0), b]);
}

/** Header block of "literal header field without indexing — new name" entries (RFC 7541 6.2.2). */
export function hpackLiterals(headers: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [n, v] of headers) parts.push(Buffer.from([0x00]), hpackString(n), hpackString(v));
  return Buffer.concat(parts);
}

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

export function settingsFrame(entries: ReadonlyArray<readonly [number, number]> = [], ack = false): Buffer {
  const p = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, v], i) => {
    p.writeUInt16BE(id, i * 6);
    p.writeUInt32BE(v, i * 6 + 2);
  });
  return frame(FRAME.SETTINGS, ack ? FLAG.ACK : 0, 0, p);
}

export function headersFrame(streamId: number, headers: ReadonlyArray<readonly [string, string]>, endStream = true): Buffer {
  return frame(FRAME.HEADERS, FLAG.END_HEADERS | (endStream ? FLAG.END_STREAM : 0), streamId, hpackLiterals(headers));
}

export function rstFrame(streamId: number, code: number = CODE.CANCEL): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code, 0);
  return frame(FRAME.RST_STREAM, 0, streamId, p);
}

export function pingFrame(data = 0): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(data >>> 0, 4);
  return frame(FRAME.PING, 0, 0, p);
}

export function getHeaders(path: string, authority = 'example.test'): Array<[string, string]> {
  return [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':authority', authority],
    [':path', path],
  ];
}

export interface SeenFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** A raw connection: send frames, read the server's frames as they arrive. */
export class RawH2 {
  readonly frames: SeenFrame[] = [];
  closed = false;
  private buf: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (c: Buffer) => this.onData(c));
    sock.on('error', () => {});
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects, sends the preface and an empty SETTINGS, and ACKs the server's SETTINGS. */
  static async connect(port: number, settings: ReadonlyArray<readonly [number, number]> = []): Promise<RawH2> {
    const sock = net.connect(port, '127.0.0.1');
    await once(sock, 'connect');
    sock.setNoDelay(true);
    const c = new RawH2(sock);
    sock.write(Buffer.concat([PREFACE, settingsFrame(settings)]));
    await c.waitFor((f) => f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0, 'server SETTINGS');
    sock.write(settingsFrame([], true));
    return c;
  }

  /** Writes bytes; resolves once the kernel took them (or the socket is gone). */
  send(data: Buffer): Promise<void> {
    if (this.closed || this.sock.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.sock.write(data, () => resolve());
    });
  }

  goaway(): SeenFrame | undefined {
    return this.frames.find((f) => f.type === FRAME.GOAWAY);
  }

  goawayCode(): number | null {
    const g = this.goaway();
    return g === undefined ? null : g.payload.readUInt32BE(4);
  }

  /** Resolves with the first frame (seen or future) that passes `pred`; rejects when the socket closes first. */
  async waitFor(pred: (f: SeenFrame) => boolean, what: string): Promise<SeenFrame> {
    for (;;) {
      const f = this.frames.find(pred);
      if (f !== undefined) return f;
      if (this.closed) throw new Error(`connection closed before ${what}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Resolves once `cond()` holds after some frame arrived; rejects when the socket closes first. */
  async waitUntil(cond: () => boolean, what: string): Promise<void> {
    for (;;) {
      if (cond()) return;
      if (this.closed) throw new Error(`connection closed before ${what}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  count(type: number, flags = -1): number {
    let n = 0;
    for (const f of this.frames) if (f.type === type && (flags < 0 || (f.flags & flags) === flags)) n++;
    return n;
  }

  /** Resolves once the server closed the connection. */
  async waitClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => this.waiters.push(r));
  }

  destroy(): void {
    this.sock.destroy();
  }

  private onData(c: Buffer): void {
    this.buf = this.buf.length === 0 ? c : Buffer.concat([this.buf, c]);
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) break;
      this.frames.push({
        type: this.buf[3],
        flags: this.buf[4],
        streamId: this.buf.readUInt32BE(5) & 0x7fffffff,
        payload: Buffer.from(this.buf.subarray(9, 9 + len)),
      });
      this.buf = this.buf.subarray(9 + len);
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}
