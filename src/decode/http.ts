/**
 * HTTP/1.x request decoding on any port: method, request target, Host header (port and IPv6 brackets
 * stripped), absolute-form target host (`GET http://host:port/path`), CONNECT authority. Detection by the
 * first bytes (a known method followed by a space). Bounded: headers longer than maxBytes are decoded as far
 * as complete lines go. Never throws.
 */
import { redactUrl } from '../util/redact.js';

/** Outcome of parseHttpRequest. */
export type HttpStatus = 'parsed' | 'need_more' | 'not_http' | 'malformed';

/** Result of parseHttpRequest. */
export interface HttpRequestResult {
  status: HttpStatus;
  /** need_more: total bytes needed before a retry can progress (a lower bound). */
  need?: number;
  reason?: string;
  method?: string;
  /** The request target as sent (truncated to 2048 characters). */
  target?: string;
  /** Host header host, lower-case, no port, no brackets, no trailing dot. */
  host?: string;
  /** Host of an absolute-form target (http://host:port/...). */
  targetHost?: string;
  /** Host of a CONNECT authority (host:port). */
  connectHost?: string;
  /** Bytes of the request head (request line + headers + blank line), when it was complete. */
  headLength?: number;
}

/** Default bound on the request head we wait for. */
export const MAX_HTTP_HEAD = 8192;

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE'];
const MAX_TARGET_TEXT = 2048;

/** Which method `buf[off..]` starts with (followed by a space), '' when none, undefined when too short to tell. */
function matchMethod(buf: Buffer, off: number, end: number): string | undefined {
  let undecided = false;
  for (const m of METHODS) {
    let i = 0;
    for (; i < m.length && off + i < end; i++) if (buf[off + i] !== m.charCodeAt(i)) break;
    if (i < m.length) {
      if (off + i >= end) undecided = true; // a prefix of this method so far
      continue;
    }
    if (off + i >= end) { undecided = true; continue; }
    if (buf[off + i] === 0x20) return m;
  }
  return undecided ? undefined : '';
}

/** Cheap content check: could `buf[off, off+len)` start an HTTP/1.x request (true while too short to tell)? */
export function looksLikeHttpRequest(buf: Buffer, off: number, len: number): boolean {
  if (len < 1) return false;
  const c = buf[off];
  if (c !== 0x47 && c !== 0x50 && c !== 0x44 && c !== 0x48 && c !== 0x4f && c !== 0x43 && c !== 0x54) return false;
  return matchMethod(buf, off, off + len) !== '';
}

/** Normalises a host[:port] / [v6]:port authority to a bare lower-case host; '' when empty. */
export function hostFromAuthority(a: string): string {
  let h = a.trim();
  const at = h.lastIndexOf('@');
  if (at >= 0) h = h.slice(at + 1); // userinfo@host
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    h = close > 0 ? h.slice(1, close) : h.slice(1);
  } else {
    const colon = h.indexOf(':');
    // One colon: host:port. Several colons without brackets: a bare IPv6 address, keep it.
    if (colon >= 0 && h.indexOf(':', colon + 1) < 0) h = h.slice(0, colon);
  }
  h = h.toLowerCase();
  while (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** Finds the end of the request head (index after CRLFCRLF or LFLF), or -1. */
function headEnd(buf: Buffer, off: number, end: number): number {
  for (let i = off; i + 1 < end; i++) {
    if (buf[i] !== 0x0a) continue;
    if (buf[i + 1] === 0x0a) return i + 2;
    if (buf[i + 1] === 0x0d && i + 2 < end && buf[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

/**
 * Parses an HTTP/1.x request head from `buf[off, off+len)`. Returns need_more while the head is incomplete
 * and shorter than `maxBytes`; past that bound, decodes the complete lines it has.
 */
export function parseHttpRequest(buf: Buffer, off: number, len: number, maxBytes = MAX_HTTP_HEAD): HttpRequestResult {
  const end = Math.min(off + len, buf.length);
  const method = matchMethod(buf, off, end);
  if (method === undefined) return { status: 'need_more', need: end - off + 1 };
  if (method === '') return { status: 'not_http' };
  const limit = Math.min(end, off + maxBytes);
  let he = headEnd(buf, off, limit);
  const headComplete = he >= 0;
  if (he < 0) {
    if (end - off < maxBytes) return { status: 'need_more', need: end - off + 1 };
    he = limit; // over the bound: use what we have
  }
  const text = buf.toString('latin1', off, he);
  const lines = text.split(/\r?\n/);
  const reqLine = lines[0];
  const sp1 = reqLine.indexOf(' ');
  const sp2 = reqLine.indexOf(' ', sp1 + 1);
  if (sp2 < 0 && he === limit && lines.length === 1) return { status: 'malformed', reason: 'http_request_line_too_long' };
  const target = sp2 > sp1 ? reqLine.slice(sp1 + 1, sp2) : reqLine.slice(sp1 + 1);
  const version = sp2 > sp1 ? reqLine.slice(sp2 + 1) : '';
  if (target.length === 0 || (version !== '' && !version.startsWith('HTTP/'))) return { status: 'malformed', reason: 'http_bad_request_line' };
  // Credentials in an absolute-form target (http://user:pass@host/) and secret query values never leave the
  // decoder: the target is exported as url.full and in observation records.
  const res: HttpRequestResult = { status: 'parsed', method, target: redactUrl(target).slice(0, MAX_TARGET_TEXT) };
  if (headComplete) res.headLength = he - off;
  if (method === 'CONNECT') {
    const h = hostFromAuthority(target);
    if (h) res.connectHost = h;
  } else {
    const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(target);
    if (m) {
      const h = hostFromAuthority(m[1]);
      if (h) res.targetHost = h;
    }
  }
  // Header lines after the request line; the last one may be partial when the bound was hit.
  const complete = he === limit && headEnd(buf, off, limit) < 0 ? lines.length - 1 : lines.length;
  for (let i = 1; i < complete; i++) {
    const line = lines[i];
    if (line.length < 5) continue;
    const c = line.charCodeAt(0) | 0x20;
    if (c !== 0x68 || (line.charCodeAt(4) !== 0x3a) || line.slice(0, 4).toLowerCase() !== 'host') continue;
    const h = hostFromAuthority(line.slice(5));
    if (h) res.host = h;
    break;
  }
  return res;
}
