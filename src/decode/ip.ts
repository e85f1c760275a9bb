/**
 * IPv4 / IPv6 header decoding. Addresses are kept as 32-bit words (one for IPv4, four for IPv6) so the
 * packet engine can hash and compare them without allocating; text is produced only when an observation
 * is built (formatIp). Pure, never throws, never reads out of bounds, bounded extension-header walk.
 */

/** decodeIp succeeded and the L4 header offset is known. */
export const IP_OK = 0;
/** Shorter than the header it announces. */
export const IP_TRUNCATED = 1;
/** Version nibble or header length is invalid. */
export const IP_BAD_HEADER = 2;
/** A fragment other than the first: counted and skipped (no L4 header in it). */
export const IP_NON_FIRST_FRAGMENT = 3;
/** More IPv6 extension headers than we are willing to walk, or an ESP/unknown chain. */
export const IP_EXT_LIMIT = 4;

/** Reason names for the IP_* codes (counter labels). */
export const IP_REASONS = ['ok', 'ip_truncated', 'ip_bad_header', 'ip_non_first_fragment', 'ip_ext_limit'] as const;

/** Mutable result of decodeIp; reuse one per engine. */
export interface IpOut {
  /** 4 or 6. */
  version: number;
  /** L4 protocol number (6 TCP, 17 UDP ...). */
  proto: number;
  /** Absolute offsets of the source / destination address bytes (4 or 16 bytes). */
  srcOff: number;
  dstOff: number;
  /** Source address words (IPv4: s0 only, others 0), signed 32-bit. */
  s0: number; s1: number; s2: number; s3: number;
  /** Destination address words. */
  d0: number; d1: number; d2: number; d3: number;
  /** Absolute offset of the L4 header. */
  l4Off: number;
  /** End of the L4 data actually present: min(captured end, end declared by the IP length). */
  l4End: number;
  /** L4 length as declared by the IP header (what was on the wire, even when the capture truncated it). */
  l4WireLen: number;
  /** True when this is the first fragment of a fragmented datagram (more fragments follow). */
  firstFragment: boolean;
}

/** A fresh IpOut. */
export function newIpOut(): IpOut {
  return {
    version: 0, proto: 0, srcOff: 0, dstOff: 0, s0: 0, s1: 0, s2: 0, s3: 0, d0: 0, d1: 0, d2: 0, d3: 0,
    l4Off: 0, l4End: 0, l4WireLen: 0, firstFragment: false,
  };
}

// Bound on the IPv6 extension-header walk: real packets carry 0-3.
const MAX_EXT_HEADERS = 8;

function rd32(b: Buffer, p: number): number {
  return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
}

/** Decodes an IPv4 header at `buf[off]` (captured bytes end at `end`). */
export function decodeIpv4(buf: Buffer, off: number, end: number, out: IpOut): number {
  if (off + 20 > end) return IP_TRUNCATED;
  const b0 = buf[off];
  if (b0 >> 4 !== 4) return IP_BAD_HEADER;
  const ihl = (b0 & 0x0f) * 4;
  if (ihl < 20) return IP_BAD_HEADER;
  if (off + ihl > end) return IP_TRUNCATED;
  let total = (buf[off + 2] << 8) | buf[off + 3];
  // Total length 0 happens with TCP segmentation offload on the capturing host: trust the capture.
  if (total === 0) total = end - off;
  if (total < ihl) return IP_BAD_HEADER;
  const fragField = (buf[off + 6] << 8) | buf[off + 7];
  const fragOffset = fragField & 0x1fff;
  out.version = 4;
  out.proto = buf[off + 9];
  out.srcOff = off + 12;
  out.dstOff = off + 16;
  out.s0 = rd32(buf, off + 12); out.s1 = 0; out.s2 = 0; out.s3 = 0;
  out.d0 = rd32(buf, off + 16); out.d1 = 0; out.d2 = 0; out.d3 = 0;
  out.firstFragment = fragOffset === 0 && (fragField & 0x2000) !== 0;
  if (fragOffset !== 0) return IP_NON_FIRST_FRAGMENT;
  out.l4Off = off + ihl;
  const declaredEnd = off + total;
  out.l4End = declaredEnd < end ? declaredEnd : end; // drops Ethernet padding
  out.l4WireLen = total - ihl;
  return IP_OK;
}

/** Decodes an IPv6 header and its extension-header chain at `buf[off]`. */
export function decodeIpv6(buf: Buffer, off: number, end: number, out: IpOut): number {
  if (off + 40 > end) return IP_TRUNCATED;
  if (buf[off] >> 4 !== 6) return IP_BAD_HEADER;
  const plen = (buf[off + 4] << 8) | buf[off + 5];
  let next = buf[off + 6];
  out.version = 6;
  out.srcOff = off + 8;
  out.dstOff = off + 24;
  out.s0 = rd32(buf, off + 8); out.s1 = rd32(buf, off + 12); out.s2 = rd32(buf, off + 16); out.s3 = rd32(buf, off + 20);
  out.d0 = rd32(buf, off + 24); out.d1 = rd32(buf, off + 28); out.d2 = rd32(buf, off + 32); out.d3 = rd32(buf, off + 36);
  out.firstFragment = false;
  // Payload length 0 means a jumbogram (hop-by-hop option): trust the capture.
  const declaredEnd = plen === 0 ? end : off + 40 + plen;
  let p = off + 40;
  for (let i = 0; ; i++) {
    if (next === 0 || next === 43 || next === 60) {
      // Hop-by-hop, routing, destination options: next(1) len(1) in 8-octet units, not counting the first 8.
      if (i === MAX_EXT_HEADERS) return IP_EXT_LIMIT;
      if (p + 8 > end) return IP_TRUNCATED;
      const hl = (buf[p + 1] + 1) * 8;
      next = buf[p];
      p += hl;
    } else if (next === 44) {
      // Fragment header: next(1) reserved(1) offset(13 bits)+flags(3) id(4).
      if (i === MAX_EXT_HEADERS) return IP_EXT_LIMIT;
      if (p + 8 > end) return IP_TRUNCATED;
      const fo = ((buf[p + 2] << 8) | buf[p + 3]) >> 3;
      const more = (buf[p + 3] & 1) !== 0;
      next = buf[p];
      p += 8;
      if (fo !== 0) { out.proto = next; return IP_NON_FIRST_FRAGMENT; }
      out.firstFragment = more;
    } else if (next === 51) {
      // Authentication header: length in 4-octet units minus 2.
      if (i === MAX_EXT_HEADERS) return IP_EXT_LIMIT;
      if (p + 8 > end) return IP_TRUNCATED;
      const hl = (buf[p + 1] + 2) * 4;
      next = buf[p];
      p += hl;
    } else {
      break;
    }
    if (p > end) return IP_TRUNCATED;
  }
  if (p > declaredEnd) return IP_BAD_HEADER;
  out.proto = next;
  out.l4Off = p;
  out.l4End = declaredEnd < end ? declaredEnd : end;
  out.l4WireLen = declaredEnd - p;
  return IP_OK;
}

/** Decodes an IPv4 or IPv6 header by ethertype (0x0800 / 0x86dd). */
export function decodeIp(net: number, buf: Buffer, off: number, end: number, out: IpOut): number {
  if (net === 0x0800) return decodeIpv4(buf, off, end, out);
  if (net === 0x86dd) return decodeIpv6(buf, off, end, out);
  return IP_BAD_HEADER;
}

/** Text of an IPv4 address given as one 32-bit word. */
export function formatIpv4Word(w: number): string {
  return `${(w >>> 24) & 255}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
}

/** RFC 5952 text of an IPv6 address given as four 32-bit words (longest zero run compressed, v4-mapped kept dotted). */
export function formatIpv6Words(w0: number, w1: number, w2: number, w3: number): string {
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4Word(w3)}`;
  }
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}

/** Text of an address from its words (version 4 uses w0 only). */
export function formatIp(version: number, w0: number, w1: number, w2: number, w3: number): string {
  return version === 4 ? formatIpv4Word(w0) : formatIpv6Words(w0, w1, w2, w3);
}

/** Text of the 4- or 16-byte address at `buf[off]`. */
export function formatAddressBytes(buf: Buffer, off: number, len: 4 | 16): string {
  if (len === 4) return formatIpv4Word(rd32(buf, off));
  return formatIpv6Words(rd32(buf, off), rd32(buf, off + 4), rd32(buf, off + 8), rd32(buf, off + 12));
}
