/**
 * DNS message decoding (RFC 1035 + RFC 9460 SVCB/HTTPS): header, first question, answer records (A, AAAA,
 * CNAME, HTTPS, SVCB with ipv4hint/ipv6hint), with compression-pointer loop protection (pointers must point
 * strictly backwards and at most MAX_JUMPS are followed). Also a bounded reassembler for DNS over TCP
 * (2-byte length prefixes, several messages per segment, messages split across segments).
 * Never throws; bad input gives `{ ok: false, reason }`.
 */
import type { DnsInfo, DnsRecord } from '../model/observation.js';
import { formatAddressBytes } from './ip.js';

/** Result of parseDns. */
export type DnsParseResult = { ok: true; info: DnsInfo } | { ok: false; reason: string };

// Bounds: RFC 1035 caps a name at 255 octets; more than 64 jumps only happens in hostile messages.
const MAX_NAME = 255;
const MAX_JUMPS = 64;
/** Answers kept per message (the rest are skipped): a bound on allocation per hostile message. */
export const MAX_DNS_ANSWERS = 64;

const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 64: 'SVCB', 65: 'HTTPS',
  255: 'ANY',
};

/** Mnemonic of a DNS RR type number (TYPEnn when unknown). */
export function dnsTypeName(t: number): string {
  return TYPE_NAMES[t] ?? `TYPE${t}`;
}

// Set by readName: where the name ended in the original (non-jumped) byte sequence. A module variable so
// reading a name returns only the string (no result object per name).
let nameEnd = 0;
// Names are assembled here (lower-cased, dotted) and turned into a string once: one allocation per name.
const scratch = Buffer.alloc(MAX_NAME + 1);

/**
 * Reads a possibly compressed name at absolute `pos` of the message `buf[msg, end)`. Returns the lower-case
 * dotted name without trailing dot ('' for the root), or undefined when malformed; sets nameEnd.
 */
function readName(buf: Buffer, msg: number, end: number, pos: number): string | undefined {
  let n = 0;
  let jumps = 0;
  let p = pos;
  let after = -1;
  // Every pointer must go strictly before the lowest position read so far: no loops possible.
  let limit = pos;
  while (true) {
    if (p >= end) return undefined;
    const len = buf[p];
    if (len === 0) {
      nameEnd = after >= 0 ? after : p + 1;
      return n === 0 ? '' : scratch.toString('latin1', 0, n);
    }
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= end) return undefined;
      const target = msg + (((len & 0x3f) << 8) | buf[p + 1]);
      if (after < 0) after = p + 2;
      if (target >= limit || ++jumps > MAX_JUMPS) return undefined;
      limit = target;
      p = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return undefined; // 0x40 / 0x80 label types are obsolete
    if (p + 1 + len > end) return undefined;
    // Wire length of the name so far (labels + length octets + root) must stay within 255.
    if (n + len + 2 > MAX_NAME) return undefined;
    if (n !== 0) scratch[n++] = 0x2e;
    for (let i = p + 1, e = p + 1 + len; i < e; i++) {
      const c = buf[i];
      scratch[n++] = c >= 65 && c <= 90 ? c | 0x20 : c;
    }
    p += 1 + len;
  }
}

/**
 * Parses one DNS message `buf[off, off + len)` that came over `transport`.
 * The question name becomes `info.query`; answers are decoded in order (CNAME chains stay in order).
 */
export function parseDns(buf: Buffer, off: number, len: number, transport: DnsInfo['transport']): DnsParseResult {
  const end = Math.min(off + len, buf.length);
  if (off < 0 || end - off < 12) return { ok: false, reason: 'dns_truncated_header' };
  const id = (buf[off] << 8) | buf[off + 1];
  const flags = (buf[off + 2] << 8) | buf[off + 3];
  const qd = (buf[off + 4] << 8) | buf[off + 5];
  const an = (buf[off + 6] << 8) | buf[off + 7];
  const opcode = (flags >> 11) & 0xf;
  if (opcode > 6) return { ok: false, reason: 'dns_bad_opcode' };
  let p = off + 12;
  let query = '';
  let qtype = 0;
  for (let i = 0; i < qd; i++) {
    const n = readName(buf, off, end, p);
    if (n === undefined) return { ok: false, reason: 'dns_bad_name' };
    p = nameEnd;
    if (p + 4 > end) return { ok: false, reason: 'dns_truncated_question' };
    if (i === 0) { query = n; qtype = (buf[p] << 8) | buf[p + 1]; }
    p += 4;
  }
  const info: DnsInfo = {
    id,
    response: (flags & 0x8000) !== 0,
    rcode: flags & 0xf,
    query,
    qtype: dnsTypeName(qtype),
    answers: [],
    transport,
  };
  for (let i = 0; i < an; i++) {
    const owner = readName(buf, off, end, p);
    // A truncated answer section (snap length, TC bit) still leaves a useful question and earlier answers.
    if (owner === undefined) break;
    p = nameEnd;
    if (p + 10 > end) break;
    const type = (buf[p] << 8) | buf[p + 1];
    const ttl = ((buf[p + 4] << 24) | (buf[p + 5] << 16) | (buf[p + 6] << 8) | buf[p + 7]) >>> 0;
    const rdlen = (buf[p + 8] << 8) | buf[p + 9];
    const rd = p + 10;
    const rdEnd = rd + rdlen;
    if (rdEnd > end) break;
    p = rdEnd;
    if (info.answers.length >= MAX_DNS_ANSWERS) continue;
    const rec = decodeRecord(buf, off, rd, rdEnd, type, owner, ttl);
    if (rec) info.answers.push(rec);
  }
  return { ok: true, info };
}

function decodeRecord(buf: Buffer, msg: number, rd: number, rdEnd: number, type: number, name: string, ttl: number): DnsRecord | undefined {
  switch (type) {
    case 1:
      if (rdEnd - rd !== 4) return undefined;
      return { name, type: 'A', data: formatAddressBytes(buf, rd, 4), ttl };
    case 28:
      if (rdEnd - rd !== 16) return undefined;
      return { name, type: 'AAAA', data: formatAddressBytes(buf, rd, 16), ttl };
    case 5: {
      const target = readName(buf, msg, rdEnd, rd);
      if (target === undefined) return undefined;
      return { name, type: 'CNAME', data: target, ttl };
    }
    case 64:
    case 65: {
      if (rd + 3 > rdEnd) return undefined;
      const target = readName(buf, msg, rdEnd, rd + 2);
      if (target === undefined) return undefined;
      const rec: DnsRecord = { name, type: type === 65 ? 'HTTPS' : 'SVCB', data: target === '' ? '.' : target, ttl };
      let q = nameEnd;
      const hints: string[] = [];
      // SvcParams: key(2) length(2) value; ipv4hint = 4, ipv6hint = 6 (lists of addresses).
      while (q + 4 <= rdEnd) {
        const key = (buf[q] << 8) | buf[q + 1];
        const vlen = (buf[q + 2] << 8) | buf[q + 3];
        const v = q + 4;
        if (v + vlen > rdEnd) break;
        if (key === 4) for (let a = v; a + 4 <= v + vlen; a += 4) hints.push(formatAddressBytes(buf, a, 4));
        else if (key === 6) for (let a = v; a + 16 <= v + vlen; a += 16) hints.push(formatAddressBytes(buf, a, 16));
        q = v + vlen;
      }
      if (hints.length > 0) rec.hints = hints;
      return rec;
    }
    default:
      return { name, type: dnsTypeName(type), data: '', ttl };
  }
}

/** Largest DNS-over-TCP message plus its length prefix. */
const MAX_TCP_DNS = 65535 + 2;

/** push() result: the stream lost sync (a gap in sequence numbers or an oversized buffer) and was reset. */
export const DNS_TCP_RESET = -1;

/**
 * One direction of a DNS-over-TCP connection: splits the byte stream into messages by their 2-byte length
 * prefix. Retransmitted bytes are trimmed by sequence number; a gap resets the stream (counted by the caller).
 * Buffers at most one partial message (<= 65537 bytes), and copies only when a message spans segments.
 */
export class DnsTcpStream {
  private pending: Buffer | undefined;
  private nextSeq = -1;

  /**
   * @param maxPending most bytes held for a message that spans segments (default: the largest message);
   *   the packet engine passes its reassembly cap, so a flood of DNS-over-TCP connections announcing 65535-byte
   *   messages cannot hold 64 KiB each outside the reassembly budget.
   */
  constructor(private readonly maxPending: number = MAX_TCP_DNS) {}

  /** Bytes currently held for a partial message. */
  get pendingBytes(): number {
    return this.pending?.length ?? 0;
  }

  /**
   * Feeds one segment's payload `data[off, off+len)` with TCP sequence number `seq`; calls `onMessage` for
   * each complete message (the view is valid only during the call). Returns the number of messages, or
   * DNS_TCP_RESET when the stream had to be resynchronised.
   */
  push(seq: number, data: Buffer, off: number, len: number, onMessage: (buf: Buffer, off: number, len: number) => void): number {
    let reset = false;
    let start = seq >>> 0;
    if (this.nextSeq >= 0) {
      const delta = (start - this.nextSeq) | 0;
      if (delta < 0) {
        const skip = -delta;
        if (skip >= len) return 0; // pure retransmission
        off += skip;
        len -= skip;
        start = this.nextSeq;
      } else if (delta > 0) {
        this.pending = undefined; // lost bytes: message boundaries are unknown from here
        reset = true;
      }
    }
    this.nextSeq = (start + len) >>> 0;
    return this.consume(data, off, len, onMessage, reset);
  }

  private consume(data: Buffer, off: number, len: number, onMessage: (buf: Buffer, off: number, len: number) => void, reset: boolean): number {
    let buf = data;
    let p = off;
    let end = off + len;
    if (this.pending !== undefined) {
      if (this.pending.length + len > this.maxPending) {
        this.pending = undefined;
        return DNS_TCP_RESET;
      }
      buf = Buffer.concat([this.pending, data.subarray(off, end)]);
      p = 0;
      end = buf.length;
      this.pending = undefined;
    }
    let n = 0;
    while (end - p >= 2) {
      const mlen = (buf[p] << 8) | buf[p + 1];
      if (end - p - 2 < mlen) break;
      if (mlen > 0) { onMessage(buf, p + 2, mlen); n++; }
      p += 2 + mlen;
    }
    if (p < end) {
      if (end - p > this.maxPending) return DNS_TCP_RESET; // a partial message larger than allowed: drop it
      this.pending = Buffer.from(buf.subarray(p, end)); // copy: the caller's buffer is reused
    }
    return reset ? DNS_TCP_RESET : n;
  }
}
