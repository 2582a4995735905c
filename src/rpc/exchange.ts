/**
 * RpcExchange: one upstream RPC request (an UpstreamRequest). Collects the body the engine
 * writes, is encoded into one frame at end(), and reports exactly one outcome to its handler:
 * the matched response frame, an immediate success for one-way calls, or an UpstreamError.
 * Must never: report twice, or report after abort().
 */
import { HeaderMap, UpstreamError } from '../api';
import type { FrameInfo, RpcCodec, UpstreamRequest, UpstreamResponseHandler } from '../api';
import { frameOwners, joinBody } from './frames';

/** What an exchange needs from its pool. */
export interface ExchangeOwner {
  readonly codec: RpcCodec;
  submit(ex: RpcExchange): void;
  abandon(ex: RpcExchange): void;
  congested(): boolean;
  onDrain(cb: () => void): void;
  exchangeFinished(ex: RpcExchange): void;
}

export class RpcExchange implements UpstreamRequest {
  /** Set once the exchange has an outcome or was aborted. */
  done = false;
  private ended = false;
  private body: Buffer | null = null;
  private bodyMore: Buffer[] | null = null;
  /** The frame to send (set by the pool at submit). */
  frame: Buffer | null = null;
  /** The frame is the downstream's own buffer: copy before writing an id into it. */
  shared = false;
  oneWay = false;
  /** Connection it was written to, and the id it carries there. */
  conn: object | null = null;
  id = 0;
  /** Counted in the pool's `active` stat. */
  counted = false;

  constructor(
    private readonly owner: ExchangeOwner,
    readonly headers: HeaderMap,
    private readonly handler: UpstreamResponseHandler,
  ) {}

  /** The request body collected so far (one chunk: no copy). */
  payload(): Buffer {
    return joinBody(this.body, this.bodyMore);
  }

  /** Starts the exchange; `endStream` means no body follows. */
  begin(endStream: boolean): void {
    if (endStream) this.end(null);
  }

  write(chunk: Buffer): boolean {
    if (this.done || this.ended || chunk.length === 0) return true;
    if (this.body === null) this.body = chunk;
    else if (this.bodyMore === null) this.bodyMore = [chunk];
    else this.bodyMore.push(chunk);
    return !this.owner.congested();
  }

  end(_trailers?: HeaderMap | null): void {
    if (this.done || this.ended) return;
    this.ended = true;
    this.owner.submit(this);
    this.body = this.bodyMore = null;
  }

  onDrain(cb: () => void): void {
    this.owner.onDrain(cb);
  }

  // Response frames arrive whole: there is nothing to pause.
  pause(): void {}
  resume(): void {}

  abort(): void {
    if (this.done) return;
    this.done = true;
    this.owner.abandon(this);
    this.owner.exchangeFinished(this);
  }

  fail(err: UpstreamError): void {
    if (this.done) return;
    this.done = true;
    this.owner.exchangeFinished(this);
    this.handler.onError(err);
  }

  /** A one-way request was written: the exchange is complete, with an empty success. */
  completeOneWay(): void {
    if (this.done) return;
    this.done = true;
    this.owner.exchangeFinished(this);
    this.handler.onHeaders(new HeaderMap([':status', '200']), true);
  }

  /** The response frame matched to this exchange. */
  deliver(frame: Buffer, info: FrameInfo): void {
    if (this.done) return;
    let headers: HeaderMap;
    try {
      const fh = this.owner.codec.responseHeaders(frame, info);
      frameOwners.set(fh, this.owner.codec);
      headers = fh;
    } catch (e) {
      this.fail(new UpstreamError('protocol_error', `response frame cannot be decoded: ${String(e)}`));
      return;
    }
    this.done = true;
    this.owner.exchangeFinished(this);
    const h = this.handler;
    if (info.headerLength >= frame.length) {
      h.onHeaders(headers, true);
      return;
    }
    h.onHeaders(headers, false);
    h.onData(frame.subarray(info.headerLength));
    h.onEnd(null);
  }
}
