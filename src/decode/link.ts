/**
 * Link-layer decoding: finds the network protocol (an ethertype-like value) and the offset of the network
 * header for the pcap link types we support. Pure, zero-copy, never throws, never reads out of bounds.
 */

/** Ethertype of IPv4. */
export const ETH_IPV4 = 0x0800;
/** Ethertype of IPv6. */
export const ETH_IPV6 = 0x86dd;

/** pcap LINKTYPE values understood by decodeLink. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW_BSD12: 12,
  RAW_BSD14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** decodeLink succeeded. */
export const LINK_OK = 0;
/** The frame is shorter than its link header. */
export const LINK_TRUNCATED = 1;
/** The link type is not one we decode. */
export const LINK_UNSUPPORTED = 2;
/** The frame carries something other than IPv4/IPv6 (ARP, LLC, unknown AF ...). */
export const LINK_NOT_IP = 3;

/** Reason names for the LINK_* codes (used as counter labels). */
export const LINK_REASONS = ['ok', 'link_truncated', 'link_unsupported', 'not_ip'] as const;

/** Mutable result of decodeLink: reuse one instance per engine to avoid per-packet allocation. */
export interface LinkOut {
  /** ETH_IPV4 or ETH_IPV6 when LINK_OK. */
  net: number;
  /** Absolute offset of the network header in the buffer. */
  offset: number;
  /** Number of 802.1Q/802.1ad tags skipped. */
  vlanTags: number;
}

/** A fresh LinkOut. */
export function newLinkOut(): LinkOut {
  return { net: 0, offset: 0, vlanTags: 0 };
}

// At most this many stacked VLAN tags (QinQ is 2); a bound so crafted frames cannot make us loop.
const MAX_VLAN_TAGS = 4;

function ipByVersion(buf: Buffer, off: number, end: number, out: LinkOut): number {
  if (off >= end) return LINK_TRUNCATED;
  const v = buf[off] >> 4;
  out.offset = off;
  if (v === 4) { out.net = ETH_IPV4; return LINK_OK; }
  if (v === 6) { out.net = ETH_IPV6; return LINK_OK; }
  return LINK_NOT_IP;
}

function byEthertype(et: number, off: number, out: LinkOut): number {
  out.offset = off;
  if (et === ETH_IPV4 || et === ETH_IPV6) { out.net = et; return LINK_OK; }
  return LINK_NOT_IP;
}

/** BSD AF_ values meaning IPv4 / IPv6 (IPv6 differs by OS: 24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin). */
function afToNet(af: number): number {
  if (af === 2) return ETH_IPV4;
  if (af === 24 || af === 28 || af === 30 || af === 10) return ETH_IPV6;
  return 0;
}

/**
 * Decodes the link header of one captured frame `buf[off, end)` with pcap link type `linkType`.
 * Fills `out` and returns LINK_OK or a LINK_* reason code.
 */
export function decodeLink(linkType: number, buf: Buffer, off: number, end: number, out: LinkOut): number {
  out.vlanTags = 0;
  switch (linkType) {
    case 1: {
      // Ethernet II: dst(6) src(6) type(2), then optional 802.1Q (0x8100) / 802.1ad (0x88a8, 0x9100) tags.
      let p = off + 12;
      if (p + 2 > end) return LINK_TRUNCATED;
      let et = (buf[p] << 8) | buf[p + 1];
      p += 2;
      while (et === 0x8100 || et === 0x88a8 || et === 0x9100) {
        if (out.vlanTags === MAX_VLAN_TAGS) return LINK_NOT_IP;
        if (p + 4 > end) return LINK_TRUNCATED;
        et = (buf[p + 2] << 8) | buf[p + 3];
        p += 4;
        out.vlanTags++;
      }
      if (et <= 1500) return LINK_NOT_IP; // 802.3 length field: LLC/SNAP, not IP
      return byEthertype(et, p, out);
    }
    case 113: {
      // Linux cooked v1: pkttype(2) arphrd(2) addrlen(2) addr(8) protocol(2).
      if (off + 16 > end) return LINK_TRUNCATED;
      return byEthertype((buf[off + 14] << 8) | buf[off + 15], off + 16, out);
    }
    case 276: {
      // Linux cooked v2: protocol(2) reserved(2) ifindex(4) arphrd(2) pkttype(1) addrlen(1) addr(8).
      if (off + 20 > end) return LINK_TRUNCATED;
      return byEthertype((buf[off] << 8) | buf[off + 1], off + 20, out);
    }
    case 101:
    case 12:
    case 14:
      return ipByVersion(buf, off, end, out);
    case 228:
      if (off >= end) return LINK_TRUNCATED;
      out.net = ETH_IPV4; out.offset = off;
      return LINK_OK;
    case 229:
      if (off >= end) return LINK_TRUNCATED;
      out.net = ETH_IPV6; out.offset = off;
      return LINK_OK;
    case 0:
    case 108: {
      // 4-byte AF value: host byte order for NULL, network order for LOOP; captures cross machines, so accept both.
      if (off + 4 > end) return LINK_TRUNCATED;
      const be = ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
      const le = ((buf[off + 3] << 24) | (buf[off + 2] << 16) | (buf[off + 1] << 8) | buf[off]) >>> 0;
      const net = afToNet(be) || afToNet(le);
      if (net === 0) return LINK_NOT_IP;
      out.net = net; out.offset = off + 4;
      return LINK_OK;
    }
    default:
      return LINK_UNSUPPORTED;
  }
}
