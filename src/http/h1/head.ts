/**
 * Decodes one complete HTTP/1.x head (start line + header fields + empty line) that the parser has
 * already delimited. Owns: start-line and field syntax, and the framing facts read from fields
 * (Content-Length, Transfer-Encoding, Connection, Host, Expect).
 * Must never: throw, look past `end`, accept a byte the grammar forbids, or guess framing when
 * the fields conflict (request smuggling): every refusal is returned as an H1ParseError value.
 */
import { TCHAR, VCHAR, TARGET, CR, LF, SP, HTAB, COLON, COMMA, eqLower } from './chars';

/** A refused message: stable code, human message, and for requests the status to answer. */
export class H1ParseError {
  constructor(
    readonly code: string,
    readonly message: string,
    /** HTTP status a server answers with (400, 431, 501, 505). */
    readonly status: number = 400,
  ) {}
}

/** One decoded head. Header names are lower-case; values are latin1 strings trimmed of OWS. */
export class H1Head {
  method = '';
  target = '';
  status = 0;
  reason = '';
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  versionMinor = 1;
  /** Flat: name0, value0, name1, value1, ... in arrival order. */
  headers: string[] = [];
  /** -1 when absent. */
  contentLength = -1;
  chunked = false;
  /** Whether the connection may carry another message after this one. */
  keepAlive = true;
  /** Extra lower-case tokens listed in Connection (other than close / keep-alive). */
  connectionTokens: string[] | null = null;
  expectContinue = false;
  /** First Host value (requests), or null. */
  host: string | null = null;
  /** Bytes of the head on the wire, including leading empty lines. */
  headBytes = 0;
  /** True when the message carries no body at all (set by the parser). */
  noBody = false;
}

const MAX_CL_DIGITS = 15;

function err(code: string, message: string, status = 400): H1ParseError {
  return new H1ParseError(code, message, status);
}

/** Parses the HTTP-version at `i` ("HTTP/1.0" or "HTTP/1.1"); returns the minor or an error. */
function version(buf: Buffer, i: number, end: number): number | H1ParseError {
  if (end - i < 8) return err('invalid_version', 'invalid HTTP version');
  if (buf[i] !== 0x48 || buf[i + 1] !== 0x54 || buf[i + 2] !== 0x54 || buf[i + 3] !== 0x50 || buf[i + 4] !== 0x2f) {
    return err('invalid_version', 'invalid HTTP version');
  }
  const major = buf[i + 5] - 0x30;
  const minor = buf[i + 7] - 0x30;
  if (buf[i + 6] !== 0x2e || major < 0 || major > 9 || minor < 0 || minor > 9) {
    return err('invalid_version', 'invalid HTTP version');
  }
  if (major !== 1 || minor > 1) return err('unsupported_version', `HTTP/${major}.${minor} not supported`, 505);
  return minor;
}

/**
 * Parses buf[start, end): `end` is just past the terminating CRLF CRLF. Fills `head`; returns
 * null or the refusal.
 */
export function parseHead(buf: Buffer, start: number, end: number, isResponse: boolean, head: H1Head): H1ParseError | null {
  let i = start;
  if (isResponse) {
    const v = version(buf, i, end);
    if (typeof v !== 'number') return v;
    head.versionMinor = v;
    i += 8;
    if (buf[i] !== SP) return err('invalid_status_line', 'invalid status line');
    i++;
    const d0 = buf[i] - 0x30, d1 = buf[i + 1] - 0x30, d2 = buf[i + 2] - 0x30;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return err('invalid_status', 'invalid status code');
    head.status = d0 * 100 + d1 * 10 + d2;
    i += 3;
    if (buf[i] === SP) {
      const rs = ++i;
      while (VCHAR[buf[i]] === 1) i++;
      head.reason = buf.toString('latin1', rs, i);
    }
    if (buf[i] !== CR || buf[i + 1] !== LF) return err('invalid_status_line', 'invalid status line');
    i += 2;
  } else {
    const ms = i;
    while (TCHAR[buf[i]] === 1) i++;
    if (i === ms || buf[i] !== SP) return err('invalid_method', 'invalid method');
    head.method = buf.toString('latin1', ms, i);
    if (head.method === 'CONNECT') return err('connect_unsupported', 'CONNECT is not supported', 501);
    const ts = ++i;
    while (TARGET[buf[i]] === 1) i++;
    if (i === ts || buf[i] !== SP) return err('invalid_target', 'invalid request-target');
    const t0 = buf[ts];
    if (t0 !== 0x2f && !(t0 === 0x2a && i === ts + 1) && !absoluteForm(buf, ts, i)) {
      return err('invalid_target', 'invalid request-target');
    }
    head.target = buf.toString('latin1', ts, i);
    const v = version(buf, ++i, end);
    if (typeof v !== 'number') return v;
    head.versionMinor = v;
    i += 8;
    if (buf[i] !== CR || buf[i + 1] !== LF) return err('invalid_request_line', 'invalid request line');
    i += 2;
  }
  return parseFields(buf, i, end, isResponse, head);
}

/** absolute-form: scheme ("ALPHA *( ALPHA / DIGIT / + / - / . )") followed by "://". */
function absoluteForm(buf: Buffer, s: number, e: number): boolean {
  let i = s;
  for (; i < e; i++) {
    const c = buf[i] | 0x20;
    if (c >= 0x61 && c <= 0x7a) continue;
    if (i > s && ((buf[i] >= 0x30 && buf[i] <= 0x39) || buf[i] === 0x2b || buf[i] === 0x2d || buf[i] === 0x2e)) continue;
    break;
  }
  return i > s && e - i > 3 && buf[i] === 0x3a && buf[i + 1] === 0x2f && buf[i + 2] === 0x2f;
}

/** Parses header (or trailer) field lines from `i` up to and including the empty line. */
export function parseFields(buf: Buffer, i: number, end: number, isResponse: boolean, head: H1Head): H1ParseError | null {
  const headers = head.headers;
  let hostCount = 0;
  let teSeen = false;
  let teUnknown = false;
  for (;;) {
    if (i >= end) return err('invalid_header', 'truncated header section');
    let c = buf[i];
    if (c === CR) {
      if (buf[i + 1] !== LF || i + 2 !== end) return err('invalid_header', 'bare CR in header section');
      break;
    }
    if (c === SP || c === HTAB) return err('obs_fold', 'obsolete line folding is not allowed');
    const ns = i;
    let upper = false;
    while (TCHAR[(c = buf[i])] === 1) {
      if (c >= 0x41 && c <= 0x5a) upper = true;
      i++;
    }
    if (i === ns) return err('invalid_header_name', 'invalid header name');
    if (c !== COLON) {
      return c === SP || c === HTAB
        ? err('invalid_header_name', 'whitespace between header name and colon')
        : err('invalid_header_name', 'invalid character in header name');
    }
    let name = buf.toString('latin1', ns, i);
    if (upper) name = name.toLowerCase();
    i++;
    while ((c = buf[i]) === SP || c === HTAB) i++;
    const vs = i;
    let ve = i;
    for (;;) {
      c = buf[i];
      if (c === CR) break;
      if (VCHAR[c] !== 1) return err('invalid_header_value', `invalid character in value of ${name}`);
      i++;
      if (c !== SP && c !== HTAB) ve = i;
    }
    if (buf[i + 1] !== LF) return err('invalid_header_value', 'bare CR in header value');
    const value = ve === vs ? '' : buf.toString('latin1', vs, ve);
    i += 2;
    headers.push(name, value);
    // Framing-relevant fields, dispatched on length first to keep the common path cheap.
    switch (name.length) {
      case 4:
        if (name === 'host') {
          hostCount++;
          if (head.host === null) head.host = value;
        }
        break;
      case 6:
        if (name === 'expect' && !isResponse && eqLower(value, '100-continue')) head.expectContinue = true;
        break;
      case 10:
        if (name === 'connection') connection(value, head);
        break;
      case 14:
        if (name === 'content-length') {
          const e = contentLength(value, head);
          if (e !== null) return e;
        }
        break;
      case 17:
        if (name === 'transfer-encoding') {
          teSeen = true;
          const e = transferEncoding(value, isResponse, head);
          if (typeof e !== 'number') return e;
          if (e === 1) teUnknown = true;
        }
        break;
    }
  }
  if (head.method !== '' || head.status !== 0) {
    if (teSeen) {
      if (head.contentLength !== -1) return err('cl_and_te', 'both Content-Length and Transfer-Encoding');
      if (head.versionMinor === 0) return err('te_http10', 'Transfer-Encoding in an HTTP/1.0 message');
      if (!head.chunked) return err('te_not_chunked', 'final transfer-coding is not chunked');
      if (teUnknown) return err('unsupported_te', 'unsupported transfer-coding', 501);
    }
    if (!isResponse && head.versionMinor === 1 && hostCount !== 1) {
      return err('invalid_host', hostCount === 0 ? 'missing Host header' : 'multiple Host headers');
    }
    if (head.versionMinor === 0) head.keepAlive = head.keepAlive && head.connectionTokens !== null && head.connectionTokens.indexOf('keep-alive') >= 0;
    if (head.connectionTokens !== null) {
      const ka = head.connectionTokens.indexOf('keep-alive');
      if (ka >= 0) head.connectionTokens.splice(ka, 1);
      if (head.connectionTokens.length === 0) head.connectionTokens = null;
    }
  }
  return null;
}

/** Connection: comma list of tokens. `close` clears keep-alive; others are remembered. */
function connection(value: string, head: H1Head): void {
  let s = 0;
  const n = value.length;
  while (s <= n) {
    let e = value.indexOf(',', s);
    if (e < 0) e = n;
    let a = s, b = e;
    while (a < b && (value.charCodeAt(a) === 0x20 || value.charCodeAt(a) === 0x09)) a++;
    while (b > a && (value.charCodeAt(b - 1) === 0x20 || value.charCodeAt(b - 1) === 0x09)) b--;
    if (b > a) {
      const tok = value.slice(a, b).toLowerCase();
      if (tok === 'close') head.keepAlive = false;
      else (head.connectionTokens ??= []).push(tok);
    }
    s = e + 1;
  }
}

/** Content-Length: 1*DIGIT, or a list of identical values; must agree with earlier ones. */
function contentLength(value: string, head: H1Head): H1ParseError | null {
  let result = -1;
  let cur = -1;
  let digits = 0;
  let state = 0; // 0 expect digit, 1 in digits, 2 after digits
  for (let i = 0; i <= value.length; i++) {
    const c = i === value.length ? COMMA : value.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (state === 2) return err('invalid_content_length', 'invalid Content-Length');
      if (++digits > MAX_CL_DIGITS) return err('invalid_content_length', 'Content-Length too large');
      cur = (cur < 0 ? 0 : cur * 10) + (c - 0x30);
      state = 1;
    } else if (c === SP || c === HTAB) {
      if (state === 1) state = 2;
    } else if (c === COMMA) {
      if (cur < 0) return err('invalid_content_length', 'invalid Content-Length');
      if (result >= 0 && result !== cur) return err('conflicting_content_length', 'conflicting Content-Length values');
      result = cur;
      cur = -1;
      digits = 0;
      state = 0;
    } else {
      return err('invalid_content_length', 'invalid Content-Length');
    }
  }
  if (head.contentLength >= 0 && head.contentLength !== result) {
    return err('conflicting_content_length', 'conflicting Content-Length values');
  }
  head.contentLength = result;
  return null;
}

/**
 * Transfer-Encoding: only `chunked` (once, last) is implemented. Returns an error, 1 when an
 * unknown coding was seen (decided by the caller: 501 if chunked ends up final, else 400), or 0.
 */
function transferEncoding(value: string, isResponse: boolean, head: H1Head): H1ParseError | number {
  let s = 0;
  const n = value.length;
  let any = false;
  let unknown = 0;
  while (s <= n) {
    let e = value.indexOf(',', s);
    if (e < 0) e = n;
    let a = s, b = e;
    while (a < b && (value.charCodeAt(a) === 0x20 || value.charCodeAt(a) === 0x09)) a++;
    while (b > a && (value.charCodeAt(b - 1) === 0x20 || value.charCodeAt(b - 1) === 0x09)) b--;
    if (b > a) {
      any = true;
      if (head.chunked) return err('te_not_chunked', 'chunked is not the final transfer-coding');
      if (b - a === 7 && eqLower(value.slice(a, b), 'chunked')) head.chunked = true;
      else if (isResponse) return err('unsupported_te', 'unsupported transfer-coding', 501);
      else unknown = 1;
    }
    s = e + 1;
  }
  if (!any) return err('invalid_te', 'empty Transfer-Encoding');
  return unknown;
}
