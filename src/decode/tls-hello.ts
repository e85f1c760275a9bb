/**
 * TLS ClientHello decoding from the client's first flight: server_name (SNI), encrypted_client_hello
 * presence, ALPN. Detection is by content (record type 0x16, version 0x03 0x00-0x04, handshake type 1), not
 * by port. The handshake message may be fragmented over several TLS records. Results distinguish
 * "need more bytes" (the caller should buffer) from "not TLS", "parsed" and "malformed". Never throws.
 */

/** Outcome of a ClientHello parse. */
export type TlsHelloStatus = 'parsed' | 'need_more' | 'not_tls' | 'malformed';

/** Result of parseTlsClientHello / parseHandshakeClientHello. */
export interface TlsHelloResult {
  status: TlsHelloStatus;
  /** need_more: total bytes (from the start offset) needed before a retry can progress. */
  need?: number;
  /** malformed: why. */
  reason?: string;
  /** parsed: the server_name host_name, lower-case without trailing dot, when present. */
  sni?: string;
  /** parsed: extension encrypted_client_hello (0xfe0d) was present (the SNI is then the outer, public name). */
  ech: boolean;
  /** parsed: ALPN protocol names in offered order. */
  alpn: string[];
}

/** Largest handshake message we accept (post-quantum key shares make hellos bigger; 64 KiB is generous). */
export const MAX_HELLO_BYTES = 65536;

const NOT_TLS: TlsHelloResult = Object.freeze({ status: 'not_tls', ech: false, alpn: [] }) as TlsHelloResult;

function needMore(n: number): TlsHelloResult {
  return { status: 'need_more', need: n, ech: false, alpn: [] };
}

function malformed(reason: string): TlsHelloResult {
  return { status: 'malformed', reason, ech: false, alpn: [] };
}

/** Cheap content check: could `buf[off, off+len)` be the start of a TLS ClientHello? (true while too short to tell). */
export function looksLikeTlsHello(buf: Buffer, off: number, len: number): boolean {
  if (len < 1 || buf[off] !== 0x16) return false;
  if (len >= 2 && buf[off + 1] !== 0x03) return false;
  if (len >= 3 && buf[off + 2] > 0x04) return false;
  if (len >= 6 && buf[off + 5] !== 0x01) return false;
  return true;
}

/**
 * Parses a ClientHello from a TLS record stream `buf[off, off+len)` (the client's first bytes on a TCP
 * connection). Records are walked until the whole handshake message is present.
 */
export function parseTlsClientHello(buf: Buffer, off: number, len: number): TlsHelloResult {
  const end = Math.min(off + len, buf.length);
  if (!looksLikeTlsHello(buf, off, end - off)) return NOT_TLS;
  if (end - off < 5) return needMore(5);
  let p = off;
  let parts: Buffer[] | undefined;
  let first: Buffer | undefined;
  let gathered = 0;
  let hsTotal = -1;
  // Each iteration consumes a record of >= 6 bytes, so the walk is bounded by len.
  while (true) {
    if (p + 5 > end) return needMore(p + 5 - off);
    if (buf[p] !== 0x16 || buf[p + 1] !== 0x03 || buf[p + 2] > 0x04) {
      return p === off ? NOT_TLS : malformed('tls_record_interleaved');
    }
    const rl = (buf[p + 3] << 8) | buf[p + 4];
    if (rl === 0 || rl > 16384 + 2048) return malformed('tls_record_length');
    if (p + 5 + rl > end) return needMore(p + 5 + rl - off);
    if (first === undefined && rl >= 4 && buf[p + 5] === 0x01) {
      // Fast path: the whole handshake message sits in the first record; parse it in place (no views, no copies).
      const hl = (buf[p + 6] << 16) | (buf[p + 7] << 8) | buf[p + 8];
      if (4 + hl <= rl) return parseClientHelloBody(buf, p + 9, p + 9 + hl);
    }
    const frag = buf.subarray(p + 5, p + 5 + rl);
    if (first === undefined) first = frag;
    else (parts ??= [first]).push(frag);
    gathered += rl;
    p += 5 + rl;
    if (hsTotal < 0 && gathered >= 4) {
      const hs = parts ? Buffer.concat(parts) : first;
      if (hs[0] !== 0x01) return NOT_TLS;
      const hl = (hs[1] << 16) | (hs[2] << 8) | hs[3];
      if (hl > MAX_HELLO_BYTES) return malformed('tls_hello_too_large');
      hsTotal = 4 + hl;
    }
    if (hsTotal >= 0 && gathered >= hsTotal) break;
  }
  const hs = parts ? Buffer.concat(parts) : first;
  return parseClientHelloBody(hs, 4, hsTotal);
}

/**
 * Parses a ClientHello from raw handshake bytes `buf[off, off+len)` (no TLS records: the QUIC CRYPTO stream).
 */
export function parseHandshakeClientHello(buf: Buffer, off: number, len: number): TlsHelloResult {
  const end = Math.min(off + len, buf.length);
  if (end - off < 1) return needMore(1);
  if (buf[off] !== 0x01) return NOT_TLS;
  if (end - off < 4) return needMore(4);
  const hl = (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3];
  if (hl > MAX_HELLO_BYTES) return malformed('tls_hello_too_large');
  if (end - off < 4 + hl) return needMore(4 + hl);
  return parseClientHelloBody(buf, off + 4, off + 4 + hl);
}

function trimName(s: string): string {
  let n = s.toLowerCase();
  while (n.endsWith('.')) n = n.slice(0, -1);
  return n;
}

/** Parses the ClientHello body `b[s, e)` (after the 4-byte handshake header). */
function parseClientHelloBody(b: Buffer, s: number, e: number): TlsHelloResult {
  let p = s + 2 + 32; // legacy_version, random
  if (p + 1 > e) return malformed('tls_hello_short');
  p += 1 + b[p]; // session id
  if (p + 2 > e) return malformed('tls_hello_short');
  p += 2 + ((b[p] << 8) | b[p + 1]); // cipher suites
  if (p + 1 > e) return malformed('tls_hello_short');
  p += 1 + b[p]; // compression methods
  const res: TlsHelloResult = { status: 'parsed', ech: false, alpn: [] };
  if (p === e) return res; // no extensions (SSL 3.0 style)
  if (p + 2 > e) return malformed('tls_hello_short');
  const extEnd = p + 2 + ((b[p] << 8) | b[p + 1]);
  if (extEnd > e) return malformed('tls_extensions_overflow');
  p += 2;
  while (p + 4 <= extEnd) {
    const type = (b[p] << 8) | b[p + 1];
    const l = (b[p + 2] << 8) | b[p + 3];
    const v = p + 4;
    const ve = v + l;
    if (ve > extEnd) return malformed('tls_extension_overflow');
    if (type === 0x0000 && l >= 2) {
      // server_name: list length(2), then entries name_type(1) length(2) name.
      let q = v + 2;
      const le = Math.min(ve, q + ((b[v] << 8) | b[v + 1]));
      while (q + 3 <= le) {
        const nt = b[q];
        const nl = (b[q + 1] << 8) | b[q + 2];
        if (q + 3 + nl > le) break;
        if (nt === 0 && res.sni === undefined && nl > 0) res.sni = trimName(b.toString('latin1', q + 3, q + 3 + nl));
        q += 3 + nl;
      }
    } else if (type === 0x0010 && l >= 2) {
      // ALPN: list length(2), then length(1)-prefixed protocol names.
      let q = v + 2;
      const le = Math.min(ve, q + ((b[v] << 8) | b[v + 1]));
      while (q + 1 <= le) {
        const pl = b[q];
        if (q + 1 + pl > le) break;
        res.alpn.push(b.toString('latin1', q + 1, q + 1 + pl));
        q += 1 + pl;
      }
    } else if (type === 0xfe0d) {
      res.ech = true;
    }
    p = ve;
  }
  return res;
}
