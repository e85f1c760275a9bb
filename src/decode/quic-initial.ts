/**
 * QUIC v1 client Initial decoding (RFC 9000 / RFC 9001): derive the client Initial keys from the
 * Destination Connection ID, remove header protection, decrypt with AES-128-GCM, walk the frames, reassemble
 * CRYPTO data by offset (a ClientHello may span several Initial packets and frames, out of order) and hand the
 * handshake bytes to the TLS ClientHello parser. Coalesced packets in one datagram are walked in turn.
 * Never throws (crypto failures become result codes), bounded loops and buffers.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { parseHandshakeClientHello, type TlsHelloResult } from './tls-hello.js';

/** RFC 9001 section 5.2 initial salt for QUIC version 1. */
export const QUIC_V1_INITIAL_SALT = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
/** QUIC version 1. */
export const QUIC_V1 = 0x00000001;

/** Client Initial packet protection keys. */
export interface QuicInitialKeys {
  /** HKDF-Extract(salt, DCID). */
  initialSecret: Buffer;
  /** HKDF-Expand-Label(initial_secret, "client in", "", 32). */
  clientSecret: Buffer;
  /** AEAD key (16 bytes), IV (12 bytes) and header-protection key (16 bytes). */
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

/** HKDF-Extract with SHA-256. */
export function hkdfExtract(salt: Buffer, ikm: Buffer): Buffer {
  return createHmac('sha256', salt).update(ikm).digest();
}

/** TLS 1.3 HKDF-Expand-Label with SHA-256 (RFC 8446 section 7.1), for lengths up to 255 bytes. */
export function hkdfExpandLabel(secret: Buffer, label: string, context: Buffer, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(2 + 1 + full.length + 1 + context.length);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = context.length;
  context.copy(info, 4 + full.length);
  const out = Buffer.alloc(length);
  let prev = Buffer.alloc(0);
  for (let i = 1, done = 0; done < length; i++) {
    prev = createHmac('sha256', secret).update(prev).update(info).update(Buffer.from([i])).digest();
    done += prev.copy(out, done);
  }
  return out;
}

/** Derives the client Initial keys for a Destination Connection ID (RFC 9001 section 5.2). */
export function deriveClientInitialKeys(dcid: Buffer): QuicInitialKeys {
  const initialSecret = hkdfExtract(QUIC_V1_INITIAL_SALT, dcid);
  const clientSecret = hkdfExpandLabel(initialSecret, 'client in', Buffer.alloc(0), 32);
  return {
    initialSecret,
    clientSecret,
    key: hkdfExpandLabel(clientSecret, 'quic key', Buffer.alloc(0), 16),
    iv: hkdfExpandLabel(clientSecret, 'quic iv', Buffer.alloc(0), 12),
    hp: hkdfExpandLabel(clientSecret, 'quic hp', Buffer.alloc(0), 16),
  };
}

/** The AES-128-ECB header-protection mask for a 16-byte sample (RFC 9001 section 5.4.3). */
export function headerProtectionMask(hp: Buffer, sample: Buffer): Buffer {
  const c = createCipheriv('aes-128-ecb', hp, null);
  c.setAutoPadding(false);
  return c.update(sample);
}

// Set by readVarint: bytes the last varint used.
let varintLen = 0;

/** Reads a QUIC variable-length integer at `p`; -1 when it does not fit before `end`. Sets the length read. */
function readVarint(b: Buffer, p: number, end: number): number {
  if (p >= end) return -1;
  const first = b[p];
  const l = 1 << (first >> 6);
  if (p + l > end) return -1;
  let v = first & 0x3f;
  // 8-byte values above 2^53 cannot be exact in a number; they are never valid offsets/lengths for us anyway.
  for (let i = 1; i < l; i++) v = v * 256 + b[p + i];
  varintLen = l;
  return v;
}

/** Outcome of decrypting one datagram's client Initial packets. */
export interface QuicDecryptResult {
  /** ok: at least one Initial packet decrypted. */
  status: 'ok' | 'not_quic' | 'unsupported_version' | 'malformed' | 'decrypt_failed';
  /** Initial packets decrypted. */
  packets: number;
  reason?: string;
  /** DCID of the first Initial packet (hex), for tests and diagnostics. */
  dcid?: string;
}

/** Cheap content check: does the datagram start with a QUIC v1 long-header Initial packet? */
export function looksLikeQuicInitial(buf: Buffer, off: number, len: number): boolean {
  if (len < 7) return false;
  const b0 = buf[off];
  if ((b0 & 0x80) === 0 || (b0 & 0x30) !== 0) return false;
  return buf[off + 1] === 0 && buf[off + 2] === 0 && buf[off + 3] === 0 && buf[off + 4] === 1;
}

/** A small key cache: a client keeps its original DCID for all its Initial packets. */
export interface QuicKeyCache {
  dcid?: Buffer;
  keys?: QuicInitialKeys;
}

/**
 * Decrypts every client Initial packet in the datagram `buf[off, off+len)` and calls `onCrypto` for each
 * CRYPTO frame (offset in the crypto stream, data view valid during the call).
 */
export function decryptClientInitials(
  buf: Buffer, off: number, len: number,
  onCrypto: (offset: number, data: Buffer) => void,
  cache: QuicKeyCache = {},
): QuicDecryptResult {
  const end = Math.min(off + len, buf.length);
  let p = off;
  let packets = 0;
  let firstDcid: string | undefined;
  let failure: QuicDecryptResult | undefined;
  // Each iteration consumes at least one byte (a packet's length), so the walk is bounded by len.
  while (p < end) {
    const b0 = buf[p];
    if ((b0 & 0x80) === 0) break; // short header: the rest of the datagram is 1-RTT
    if (p + 7 > end) { failure ??= { status: 'malformed', packets, reason: 'quic_truncated_header' }; break; }
    const version = ((buf[p + 1] << 24) | (buf[p + 2] << 16) | (buf[p + 3] << 8) | buf[p + 4]) >>> 0;
    if (version !== QUIC_V1) {
      failure ??= { status: version === 0 ? 'not_quic' : 'unsupported_version', packets };
      break;
    }
    const type = (b0 >> 4) & 3;
    let q = p + 5;
    const dcidLen = buf[q];
    if (dcidLen > 20 || q + 1 + dcidLen >= end) { failure ??= { status: 'malformed', packets, reason: 'quic_bad_dcid' }; break; }
    const dcid = buf.subarray(q + 1, q + 1 + dcidLen);
    q += 1 + dcidLen;
    const scidLen = buf[q];
    if (scidLen > 20 || q + 1 + scidLen > end) { failure ??= { status: 'malformed', packets, reason: 'quic_bad_scid' }; break; }
    q += 1 + scidLen;
    if (type === 3) break; // Retry: no length field, nothing of ours
    if (type === 0) {
      const tl = readVarint(buf, q, end);
      if (tl < 0 || q + varintLen + tl > end) { failure ??= { status: 'malformed', packets, reason: 'quic_bad_token' }; break; }
      q += varintLen + tl;
    }
    const plen = readVarint(buf, q, end);
    if (plen < 0) { failure ??= { status: 'malformed', packets, reason: 'quic_bad_length' }; break; }
    const pnOff = q + varintLen;
    const pktEnd = pnOff + plen;
    if (pktEnd > end || plen < 20) { failure ??= { status: 'malformed', packets, reason: 'quic_bad_length' }; break; }
    if (type === 0) {
      firstDcid ??= dcid.toString('hex');
      const r = decryptOne(buf, p, pnOff, pktEnd, dcid, cache, onCrypto);
      if (r === '') packets++;
      else failure ??= { status: r === 'quic_decrypt_failed' ? 'decrypt_failed' : 'malformed', packets, reason: r };
    }
    p = pktEnd;
  }
  if (packets > 0) return { status: 'ok', packets, dcid: firstDcid };
  if (failure) return { ...failure, dcid: firstDcid };
  return { status: 'not_quic', packets: 0 };
}

/** Decrypts one Initial packet `buf[start, pktEnd)`; '' on success, else a reason. */
function decryptOne(
  buf: Buffer, start: number, pnOff: number, pktEnd: number, dcid: Buffer, cache: QuicKeyCache,
  onCrypto: (offset: number, data: Buffer) => void,
): string {
  if (!cache.keys || !cache.dcid || !cache.dcid.equals(dcid)) {
    cache.dcid = Buffer.from(dcid);
    cache.keys = deriveClientInitialKeys(cache.dcid);
  }
  const keys = cache.keys;
  const sample = buf.subarray(pnOff + 4, pnOff + 20);
  const mask = headerProtectionMask(keys.hp, sample);
  const first = buf[start] ^ (mask[0] & 0x0f);
  const pnLen = (first & 3) + 1;
  if (pnOff + pnLen + 16 > pktEnd) return 'quic_bad_length';
  // The capture buffer must not be modified: unmask a copy of the header (it is the AEAD's associated data).
  const header = Buffer.from(buf.subarray(start, pnOff + pnLen));
  header[0] = first;
  let pn = 0;
  const hp = pnOff - start;
  for (let i = 0; i < pnLen; i++) {
    header[hp + i] ^= mask[1 + i];
    pn = pn * 256 + header[hp + i];
  }
  const nonce = Buffer.from(keys.iv);
  // The client's first packet numbers are small: the truncated number is the full one.
  for (let i = 0; i < 4; i++) nonce[11 - i] ^= (pn >>> (8 * i)) & 0xff;
  const ctEnd = pktEnd - 16;
  let plain: Buffer;
  try {
    const d = createDecipheriv('aes-128-gcm', keys.key, nonce);
    d.setAAD(header);
    d.setAuthTag(buf.subarray(ctEnd, pktEnd));
    const a = d.update(buf.subarray(pnOff + pnLen, ctEnd));
    const b = d.final();
    plain = b.length ? Buffer.concat([a, b]) : a;
  } catch {
    return 'quic_decrypt_failed';
  }
  return walkFrames(plain, onCrypto);
}

/** Walks the frames of a decrypted Initial payload; '' when well-formed. */
function walkFrames(b: Buffer, onCrypto: (offset: number, data: Buffer) => void): string {
  const end = b.length;
  let p = 0;
  while (p < end) {
    const t = b[p];
    if (t === 0x00 || t === 0x01) { p++; continue; } // PADDING, PING
    if (t === 0x02 || t === 0x03) {
      // ACK: largest, delay, range count, first range, count x (gap, range), [3 ECN counts].
      p++;
      let count = 0;
      for (let i = 0; i < 4; i++) {
        const v = readVarint(b, p, end);
        if (v < 0) return 'quic_bad_ack';
        if (i === 2) count = v;
        p += varintLen;
      }
      if (count > end) return 'quic_bad_ack';
      for (let i = 0; i < count * 2 + (t === 0x03 ? 3 : 0); i++) {
        if (readVarint(b, p, end) < 0) return 'quic_bad_ack';
        p += varintLen;
      }
      continue;
    }
    if (t === 0x06) {
      p++;
      const o = readVarint(b, p, end);
      if (o < 0) return 'quic_bad_crypto';
      p += varintLen;
      const l = readVarint(b, p, end);
      if (l < 0 || p + varintLen + l > end) return 'quic_bad_crypto';
      p += varintLen;
      onCrypto(o, b.subarray(p, p + l));
      p += l;
      continue;
    }
    if (t === 0x1c) {
      p++;
      for (let i = 0; i < 2; i++) {
        if (readVarint(b, p, end) < 0) return 'quic_bad_close';
        p += varintLen;
      }
      const rl = readVarint(b, p, end);
      if (rl < 0 || p + varintLen + rl > end) return 'quic_bad_close';
      p += varintLen + rl;
      continue;
    }
    return 'quic_unexpected_frame';
  }
  return '';
}

/** Result of QuicHelloAssembler.push. */
export interface QuicHelloResult {
  /** parsed: hello decoded; need_more: wait for more Initial packets; else give up. */
  status: 'parsed' | 'need_more' | 'not_quic' | 'malformed';
  reason?: string;
  hello?: TlsHelloResult;
}

/**
 * Reassembles the client's CRYPTO stream from successive Initial datagrams (out of order and overlapping
 * allowed) up to `maxBytes`, and parses the ClientHello once its bytes are contiguous from offset 0.
 */
export class QuicHelloAssembler {
  private readonly chunks: { off: number; data: Buffer }[] = [];
  private bytes = 0;
  private readonly cache: QuicKeyCache = {};
  /** Datagrams pushed so far. */
  datagrams = 0;

  /** @param maxBytes cap on buffered CRYPTO bytes (a ClientHello beyond it is given up). */
  constructor(private readonly maxBytes = 16384) {}

  /** Bytes currently buffered. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /** Feeds one client datagram. */
  push(buf: Buffer, off: number, len: number): QuicHelloResult {
    this.datagrams++;
    let over = false;
    const r = decryptClientInitials(buf, off, len, (o, d) => {
      if (d.length === 0) return;
      if (o + d.length > this.maxBytes || this.bytes + d.length > this.maxBytes) { over = true; return; }
      this.chunks.push({ off: o, data: Buffer.from(d) }); // copy: the plaintext buffer is ours, but keep it compact
      this.bytes += d.length;
    }, this.cache);
    if (r.status !== 'ok') {
      if (this.chunks.length > 0 && r.status !== 'not_quic') return { status: 'need_more', reason: r.reason };
      return { status: r.status === 'not_quic' || r.status === 'unsupported_version' ? 'not_quic' : 'malformed', reason: r.reason ?? r.status };
    }
    const stream = this.contiguous();
    if (stream.length === 0) return over ? { status: 'malformed', reason: 'quic_crypto_cap' } : { status: 'need_more' };
    const hello = parseHandshakeClientHello(stream, 0, stream.length);
    if (hello.status === 'need_more') return over ? { status: 'malformed', reason: 'quic_crypto_cap' } : { status: 'need_more' };
    if (hello.status === 'parsed') return { status: 'parsed', hello };
    return { status: 'malformed', reason: hello.reason ?? hello.status, hello };
  }

  /** The crypto stream bytes contiguous from offset 0 (merging overlaps). */
  private contiguous(): Buffer {
    this.chunks.sort((a, b) => a.off - b.off);
    let have = 0;
    const parts: Buffer[] = [];
    for (const c of this.chunks) {
      if (c.off > have) break;
      const cEnd = c.off + c.data.length;
      if (cEnd <= have) continue;
      parts.push(c.data.subarray(have - c.off));
      have = cEnd;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}
