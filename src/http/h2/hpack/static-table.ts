/**
 * HPACK static table (RFC 7541 Appendix A) and the name -> first-index lookup the encoder uses.
 * Must never: be mutated at runtime.
 */

/** Static entries, index 1..61 at position index - 1. */
export const STATIC_NAMES: readonly string[] = [
  ':authority', ':method', ':method', ':path', ':path', ':scheme', ':scheme', ':status', ':status',
  ':status', ':status', ':status', ':status', ':status', 'accept-charset', 'accept-encoding',
  'accept-language', 'accept-ranges', 'accept', 'access-control-allow-origin', 'age', 'allow',
  'authorization', 'cache-control', 'content-disposition', 'content-encoding', 'content-language',
  'content-length', 'content-location', 'content-range', 'content-type', 'cookie', 'date', 'etag',
  'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
  'if-unmodified-since', 'last-modified', 'link', 'location', 'max-forwards', 'proxy-authenticate',
  'proxy-authorization', 'range', 'referer', 'refresh', 'retry-after', 'server', 'set-cookie',
  'strict-transport-security', 'transfer-encoding', 'user-agent', 'vary', 'via', 'www-authenticate',
];

export const STATIC_VALUES: readonly string[] = [
  '', 'GET', 'POST', '/', '/index.html', 'http', 'https', '200', '204', '206', '304', '400', '404',
  '500', '', 'gzip, deflate',
  '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '',
  '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '',
];

export const STATIC_COUNT = 61;

if (STATIC_NAMES.length !== STATIC_COUNT || STATIC_VALUES.length !== STATIC_COUNT) {
  throw new Error('hpack: static table must have 61 entries');
}

/** Name -> smallest static index with that name. */
export const STATIC_NAME_INDEX: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  for (let i = STATIC_COUNT - 1; i >= 0; i--) m.set(STATIC_NAMES[i], i + 1);
  return m;
})();
