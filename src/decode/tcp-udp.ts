/**
 * TCP and UDP header decoding. The payload range honours the IP-declared length (Ethernet padding is
 * excluded by the caller passing ip.l4End) and capture truncation. Pure, never throws.
 */

/** Decoded. */
export const L4_OK = 0;
/** Shorter than the L4 header. */
export const L4_TRUNCATED = 1;
/** Header field out of range (TCP data offset < 5 ...). */
export const L4_BAD_HEADER = 2;

/** Reason names for the L4_* codes (counter labels). */
export const L4_REASONS = ['ok', 'l4_truncated', 'l4_bad_header'] as const;

/** TCP flag bits. */
export const TCP_FIN = 0x01;
/** TCP SYN bit. */
export const TCP_SYN = 0x02;
/** TCP RST bit. */
export const TCP_RST = 0x04;
/** TCP PSH bit. */
export const TCP_PSH = 0x08;
/** TCP ACK bit. */
export const TCP_ACK = 0x10;

/** Mutable result of decodeTcp / decodeUdp; reuse one per engine. */
export interface L4Out {
  srcPort: number;
  dstPort: number;
  /** TCP sequence number (unsigned 32-bit); 0 for UDP. */
  seq: number;
  /** TCP flags byte; 0 for UDP. */
  flags: number;
  /** Absolute offset of the payload. */
  payloadOff: number;
  /** Payload bytes present in the capture. */
  payloadLen: number;
  /** Payload bytes on the wire (per the IP / UDP length), >= payloadLen when the capture was truncated. */
  wireLen: number;
}

/** A fresh L4Out. */
export function newL4Out(): L4Out {
  return { srcPort: 0, dstPort: 0, seq: 0, flags: 0, payloadOff: 0, payloadLen: 0, wireLen: 0 };
}

/**
 * Decodes a TCP header at `buf[off]`; `end` is the end of the L4 data present, `wireLen` the L4 length the IP
 * header declared.
 */
export function decodeTcp(buf: Buffer, off: number, end: number, wireLen: number, out: L4Out): number {
  if (off + 20 > end) return L4_TRUNCATED;
  const doff = (buf[off + 12] >> 4) * 4;
  if (doff < 20) return L4_BAD_HEADER;
  out.srcPort = (buf[off] << 8) | buf[off + 1];
  out.dstPort = (buf[off + 2] << 8) | buf[off + 3];
  out.seq = ((buf[off + 4] << 24) | (buf[off + 5] << 16) | (buf[off + 6] << 8) | buf[off + 7]) >>> 0;
  out.flags = buf[off + 13];
  const p = off + doff;
  if (p > end) {
    // Options cut off by the snap length: the header is still useful (ports, flags), the payload is not.
    out.payloadOff = end;
    out.payloadLen = 0;
    out.wireLen = wireLen > doff ? wireLen - doff : 0;
    return L4_OK;
  }
  out.payloadOff = p;
  out.payloadLen = end - p;
  out.wireLen = wireLen > doff ? wireLen - doff : 0;
  return L4_OK;
}

/** Decodes a UDP header at `buf[off]` (same conventions as decodeTcp). */
export function decodeUdp(buf: Buffer, off: number, end: number, wireLen: number, out: L4Out): number {
  if (off + 8 > end) return L4_TRUNCATED;
  out.srcPort = (buf[off] << 8) | buf[off + 1];
  out.dstPort = (buf[off + 2] << 8) | buf[off + 3];
  out.seq = 0;
  out.flags = 0;
  let ulen = (buf[off + 4] << 8) | buf[off + 5];
  // A UDP length of 0 (IPv6 jumbograms) or larger than the IP payload: fall back to the IP length.
  if (ulen < 8 || ulen > wireLen) ulen = wireLen;
  const p = off + 8;
  const declaredEnd = off + ulen;
  const e = declaredEnd < end ? declaredEnd : end;
  out.payloadOff = p;
  out.payloadLen = e > p ? e - p : 0;
  out.wireLen = ulen > 8 ? ulen - 8 : 0;
  return L4_OK;
}
