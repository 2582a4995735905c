/**
 * HTTP/1.1 character classes as 256-entry lookup tables (RFC 9110 / 9112), shared by the parser
 * and the serializer. Owns: the tables and tiny validators built on them.
 * Must never: allocate per call or use regular expressions.
 */

/** tchar: "!#$%&'*+-.^_`|~" / DIGIT / ALPHA — method names and header names. */
export const TCHAR = new Uint8Array(256);
/** field-value bytes: HTAB, SP, VCHAR, obs-text (no other CTL, no DEL). */
export const VCHAR = new Uint8Array(256);
/** request-target bytes: visible ASCII only (no SP, CTL, DEL or obs-text). */
export const TARGET = new Uint8Array(256);
/** hex digit value + 1 (0 = not a hex digit). */
export const HEX = new Uint8Array(256);

(function init(): void {
  const special = "!#$%&'*+-.^_`|~";
  for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
  for (let i = 0; i < special.length; i++) TCHAR[special.charCodeAt(i)] = 1;
  VCHAR[0x09] = 1;
  for (let c = 0x20; c <= 0x7e; c++) VCHAR[c] = 1;
  for (let c = 0x80; c <= 0xff; c++) VCHAR[c] = 1;
  for (let c = 0x21; c <= 0x7e; c++) TARGET[c] = 1;
  for (let c = 0; c < 10; c++) HEX[0x30 + c] = c + 1;
  for (let c = 0; c < 6; c++) {
    HEX[0x41 + c] = 11 + c;
    HEX[0x61 + c] = 11 + c;
  }
})();

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;
export const SEMI = 0x3b;
export const COMMA = 0x2c;

/** True when `s` is a non-empty token (valid header name / method). */
export function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TCHAR[c] === 0) return false;
  }
  return true;
}

/** True when `s` may be written as a field value (no CR, LF, NUL or other CTL but HTAB). */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || VCHAR[c] === 0) return false;
  }
  return true;
}

/** ASCII case-insensitive equality of `s` against an already lower-case `lower`. */
export function eqLower(s: string, lower: string): boolean {
  if (s.length !== lower.length) return false;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
