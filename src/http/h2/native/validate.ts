/**
 * Field checks for decoded HTTP/2 header lists (RFC 9113 8.2 and 8.3): what makes a request or
 * trailer block malformed. A malformed block is a stream error (RST_STREAM PROTOCOL_ERROR), never
 * forwarded: upper-case or empty names, NUL/CR/LF in names or values (they would split an HTTP/1.1
 * head upstream), pseudo-headers that are unknown, repeated, empty or after regular fields,
 * connection-specific fields, `te` other than "trailers", and missing :method / :scheme / :path.
 * Must never: allocate on the success path, or accept a block that could change meaning when
 * re-encoded as HTTP/1.1.
 */
import { fieldCharsBad as bad, isConnectionSpecific } from '../headers';

const PSEUDO_METHOD = 1;
const PSEUDO_SCHEME = 2;
const PSEUDO_PATH = 4;
const PSEUDO_AUTHORITY = 8;

function pseudoBit(name: string): number {
  switch (name) {
    case ':method':
      return PSEUDO_METHOD;
    case ':scheme':
      return PSEUDO_SCHEME;
    case ':path':
      return PSEUDO_PATH;
    case ':authority':
      return PSEUDO_AUTHORITY;
    default:
      return 0;
  }
}

/** Why a request header list (name, value, ...) is malformed, or null when it is fine. */
export function requestFieldsProblem(raw: readonly string[]): string | null {
  let seen = 0;
  let regular = false;
  let connect = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    if (name.length === 0) return 'empty field name';
    if (name.charCodeAt(0) === 0x3a) {
      if (regular) return `pseudo-header ${name} after regular fields`;
      const bit = pseudoBit(name);
      if (bit === 0) return `unknown pseudo-header ${name}`;
      if ((seen & bit) !== 0) return `repeated ${name}`;
      if (value.length === 0 && bit !== PSEUDO_AUTHORITY) return `empty ${name}`;
      if (bad(value, false)) return `invalid characters in ${name}`;
      seen |= bit;
      if (bit === PSEUDO_METHOD && value === 'CONNECT') connect = true;
      continue;
    }
    regular = true;
    if (bad(name, true)) return 'invalid field name';
    if (bad(value, false)) return `invalid characters in the value of ${name}`;
    if (isConnectionSpecific(name)) return `connection-specific field ${name}`;
    if (name === 'te' && value !== 'trailers') return 'te other than "trailers"';
  }
  if ((seen & PSEUDO_METHOD) === 0) return 'missing :method';
  if (connect) {
    if ((seen & PSEUDO_AUTHORITY) === 0) return 'CONNECT without :authority';
    if ((seen & (PSEUDO_SCHEME | PSEUDO_PATH)) !== 0) return 'CONNECT with :scheme or :path';
    return null;
  }
  if ((seen & PSEUDO_SCHEME) === 0) return 'missing :scheme';
  if ((seen & PSEUDO_PATH) === 0) return 'missing :path';
  return null;
}

/** Why a trailer list is malformed (pseudo-headers or bad fields), or null. */
export function trailerFieldsProblem(raw: readonly string[]): string | null {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 0) return 'empty field name';
    if (name.charCodeAt(0) === 0x3a) return `pseudo-header ${name} in trailers`;
    if (bad(name, true)) return 'invalid field name';
    if (bad(raw[i + 1], false)) return `invalid characters in the value of ${name}`;
    if (isConnectionSpecific(name)) return `connection-specific field ${name}`;
  }
  return null;
}
