/**
 * HPACK (RFC 7541) for the native HTTP/2 codec: decoder, encoder, error type, Huffman helpers.
 * Must never: depend on anything outside this folder.
 */
export { HpackError } from './errors';
export { HpackDecoder } from './decoder';
export { HpackEncoder } from './encoder';
export { huffmanDecode, huffmanEncode, huffmanEncodedLength, huffmanMaxDecodedLength } from './huffman';
