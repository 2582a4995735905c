/**
 * A tiny client and server speaking the example protocol, for tests and demos: the client
 * multiplexes calls over one connection (its own ids), the server answers through a handler
 * (possibly later, so answers can come out of order), answers heartbeats itself and counts
 * requests, one-way calls and heartbeats. Must never: be used by the proxy itself.
 */
import * as net from 'node:net';
import { once } from 'node:events';
import { FrameError } from '../../src/api';
import {
  decodeHeaderMap,
  encodeFrame,
  exampleCodec,
  FLAG_HEARTBEAT,
  FLAG_ONE_WAY,
  FLAG_RESPONSE,
  Status,
} from './codec';

export interface ExampleMessage {
  id: number;
  kind: 'request' | 'response' | 'heartbeat-request' | 'heartbeat-response';
  oneWay: boolean;
  status: number;
  timeoutMs: number;
  headers: Record<string, string>;
  payload: Buffer;
}

export function parseFrame(frame: Buffer): ExampleMessage {
  const info = exampleCodec.peek(frame);
  if (info === 'need-more' || info instanceof FrameError) throw new Error('not a whole example frame');
  const flat = decodeHeaderMap(frame, info.headerLength, []);
  const headers: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) headers[flat[i]] = flat[i + 1];
  return {
    id: frame.readUInt32BE(4),
    kind: info.kind,
    oneWay: info.oneWay,
    status: info.status,
    timeoutMs: info.timeoutMs,
    headers,
    payload: Buffer.from(frame.subarray(info.headerLength, info.length)),
  };
}

/** Splits a byte stream into frames (simple concatenating reassembly). */
export class FrameSplitter {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (frame: Buffer) => void, private readonly onError: (e: FrameError) => void) {}
  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.buf.length === 0) return;
      const r = exampleCodec.peek(this.buf);
      if (r === 'need-more') return;
      if (r instanceof FrameError) {
        this.buf = Buffer.alloc(0);
        this.onError(r);
        return;
      }
      if (this.buf.length < r.length) return;
      const f = this.buf.subarray(0, r.length);
      this.buf = this.buf.subarray(r.length);
      this.onFrame(f);
    }
  }
}

export interface CallOptions {
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export class ExampleClient {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (m: ExampleMessage) => void; reject: (e: Error) => void }>();
  /** Every frame received, in order. */
  readonly received: ExampleMessage[] = [];
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: net.Socket) {
    const splitter = new FrameSplitter(
      (f) => this.onFrame(f),
      () => socket.destroy(),
    );
    socket.on('data', (c: Buffer) => splitter.push(c));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        for (const w of this.waiting.values()) w.reject(new Error('connection closed'));
        this.waiting.clear();
        resolve();
      });
    });
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<ExampleClient> {
    const s = net.connect(port, host);
    await once(s, 'connect');
    s.setNoDelay(true);
    return new ExampleClient(s);
  }

  get inFlight(): number {
    return this.waiting.size;
  }

  /** The frame `call` would send (for tests that write bytes themselves). */
  requestFrame(id: number, service: string, method: string, payload: Buffer | string = '', opts: CallOptions & { oneWay?: boolean } = {}): Buffer {
    const headers = ['service', service, 'method', method];
    if (opts.headers) for (const [k, v] of Object.entries(opts.headers)) headers.push(k, v);
    return encodeFrame({
      id,
      flags: opts.oneWay ? FLAG_ONE_WAY : 0,
      timeoutMs: opts.timeoutMs ?? 0,
      headers,
      payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
    });
  }

  call(service: string, method: string, payload: Buffer | string = '', opts: CallOptions = {}): Promise<ExampleMessage> {
    const id = this.nextId++;
    const p = this.expect(id);
    this.socket.write(this.requestFrame(id, service, method, payload, opts));
    return p;
  }

  /** A one-way call: nothing comes back. */
  send(service: string, method: string, payload: Buffer | string = '', opts: CallOptions = {}): void {
    this.socket.write(this.requestFrame(this.nextId++, service, method, payload, { ...opts, oneWay: true }));
  }

  heartbeat(): Promise<ExampleMessage> {
    const id = this.nextId++;
    const p = this.expect(id);
    this.socket.write(encodeFrame({ id, flags: FLAG_HEARTBEAT }));
    return p;
  }

  /** Waits for the frame with this id. */
  expect(id: number): Promise<ExampleMessage> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) reject(new Error('connection closed'));
      else this.waiting.set(id, { resolve, reject });
    });
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }

  private onFrame(f: Buffer): void {
    const m = parseFrame(f);
    this.received.push(m);
    const w = this.waiting.get(m.id);
    if (w === undefined) return;
    this.waiting.delete(m.id);
    w.resolve(m);
  }
}

export interface ExampleReply {
  status?: number;
  headers?: Record<string, string>;
  payload?: Buffer | string;
}

/** Answers a request: a reply, a promise of one (answered when it settles), or null (never). */
export type ExampleHandler = (req: ExampleMessage) => ExampleReply | null | Promise<ExampleReply | null>;

export class ExampleServer {
  port = 0;
  /** Requests that reached the handler (one-way ones included). */
  requests = 0;
  oneWay = 0;
  heartbeats = 0;
  connectionsAccepted = 0;
  readonly seen: ExampleMessage[] = [];
  private readonly sockets = new Set<net.Socket>();
  private server!: net.Server;
  private waiters: Array<{ pred: () => boolean; resolve: () => void }> = [];

  private constructor(private readonly handler: ExampleHandler) {}

  static async listen(handler: ExampleHandler = echoHandler, port = 0): Promise<ExampleServer> {
    const s = new ExampleServer(handler);
    s.server = net.createServer((sock) => s.accept(sock));
    s.server.listen(port, '127.0.0.1');
    await once(s.server, 'listening');
    s.port = (s.server.address() as net.AddressInfo).port;
    return s;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  /** Resolves once `pred()` holds (checked now and after every frame and connection event). */
  waitFor(pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  private check(): void {
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.pred()) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Destroys every open connection (the listening socket stays). */
  killConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.killConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(sock: net.Socket): void {
    this.connectionsAccepted++;
    this.sockets.add(sock);
    sock.setNoDelay(true);
    sock.on('error', () => {});
    sock.on('close', () => {
      this.sockets.delete(sock);
      this.check();
    });
    const splitter = new FrameSplitter(
      (f) => this.onFrame(sock, f),
      () => sock.destroy(),
    );
    sock.on('data', (c: Buffer) => splitter.push(c));
    this.check();
  }

  private onFrame(sock: net.Socket, f: Buffer): void {
    const m = parseFrame(f);
    if (m.kind === 'heartbeat-request') {
      this.heartbeats++;
      sock.write(encodeFrame({ id: m.id, flags: FLAG_RESPONSE | FLAG_HEARTBEAT }));
      this.check();
      return;
    }
    if (m.kind !== 'request') return;
    this.requests++;
    this.seen.push(m);
    if (m.oneWay) this.oneWay++;
    let r: ExampleReply | null | Promise<ExampleReply | null>;
    try {
      r = this.handler(m);
    } catch {
      r = { status: Status.ERROR };
    }
    const answer = (rep: ExampleReply | null): void => {
      if (rep === null || m.oneWay || sock.destroyed) return;
      const headers: string[] = [];
      if (rep.headers) for (const [k, v] of Object.entries(rep.headers)) headers.push(k, v);
      sock.write(
        encodeFrame({
          id: m.id,
          flags: FLAG_RESPONSE,
          status: rep.status ?? Status.OK,
          headers,
          payload: typeof rep.payload === 'string' ? Buffer.from(rep.payload) : rep.payload,
        }),
      );
    };
    if (r instanceof Promise) r.then(answer, () => answer({ status: Status.ERROR }));
    else answer(r);
    this.check();
  }
}

/** Echoes the payload back, with the service and method it was called as. */
export const echoHandler: ExampleHandler = (req) => ({
  headers: { 'x-served-service': req.headers.service ?? '', 'x-served-method': req.headers.method ?? '' },
  payload: req.payload,
});
