/**
 * The HPACK error type. Must never: be thrown for anything but malformed or oversized input.
 */

/** A COMPRESSION_ERROR: the connection must be closed with GOAWAY(COMPRESSION_ERROR). */
export class HpackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HpackError';
  }
}
