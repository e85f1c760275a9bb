/**
 * Packet builders for tests and synthetic captures: link layers (Ethernet with VLAN/QinQ, Linux SLL/SLL2,
 * BSD null/loop), IPv4 (options, fragments), IPv6 (extension headers), TCP, UDP (with real checksums), a TLS
 * ClientHello builder (SNI, ECH, ALPN), TLS record framing, a DNS message builder with name compression,
 * and a QUIC v1 client Initial builder that encrypts with RFC 9001 keys. Every builder returns a fresh
 * Buffer; nothing here is used by src/.
 *
 * Typical use:
 *   const frame = ethernet(ipv4({ src: '10.0.0.1', dst: '93.184.216.34', proto: 6,
 *     payload: tcp({ sport: 40000, dport: 443, seq: 1, flags: ACK | PSH, payload: tlsRecords(clientHello({ sni: 'pastebin.com' })) }) }));
 * or the shortcut tcpFrame({...}) / udpFrame({...}) which picks IPv4/IPv6 from the address text.
 */
import { createCipheriv } from 'node:crypto';
import { deriveClientInitialKeys, headerProtectionMask } from '../../src/decode/quic-initial.js';

/** TCP flag bits for tcp(). */
export const FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10;

/** Parses IPv4 dotted text into 4 bytes. */
export function ipv4Bytes(a: string): Buffer {
  const parts = a.split('.').map((x) => Number(x));
  if (parts.length !== 4 || parts.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 ${a}`);
  return Buffer.from(parts);
}

/** Parses IPv6 text (with ::, optional dotted IPv4 tail) into 16 bytes. */
export function ipv6Bytes(a: string): Buffer {
  let text = a;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = ipv4Bytes(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) throw new Error(`bad IPv6 ${a}`);
  const hp = halves[0] ? halves[0].split(':').map((x) => parseInt(x, 16)) : [];
  const tp = halves.length === 2 && halves[1] ? halves[1].split(':').map((x) => parseInt(x, 16)) : [];
  const groups = halves.length === 2 ? [...hp, ...new Array<number>(Math.max(0, 8 - hp.length - tp.length)).fill(0), ...tp] : hp;
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) throw new Error(`bad IPv6 ${a}`);
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}

/** Bytes of an IPv4 or IPv6 address text. */
export function ipBytes(a: string): Buffer {
  return a.includes(':') ? ipv6Bytes(a) : ipv4Bytes(a);
}

function sum16(b: Buffer, acc = 0): number {
  for (let i = 0; i + 1 < b.length; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (b.length & 1) acc += b[b.length - 1] << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

/** Options of ethernet(). */
export interface EthernetOptions {
  etherType?: number;
  /** VLAN IDs, outermost first: one tag = 802.1Q, two = QinQ (outer 802.1ad 0x88a8). */
  vlans?: number[];
  src?: string;
  dst?: string;
}

/** An Ethernet II frame around `payload` (ethertype from the IP version when not given). */
export function ethernet(payload: Buffer, o: EthernetOptions = {}): Buffer {
  const et = o.etherType ?? (payload.length > 0 && payload[0] >> 4 === 6 ? 0x86dd : 0x0800);
  const mac = (s: string | undefined, d: string): Buffer => Buffer.from((s ?? d).split(':').map((x) => parseInt(x, 16)));
  const out: Buffer[] = [mac(o.dst, '02:00:00:00:00:02'), mac(o.src, '02:00:00:00:00:01')];
  const vl = o.vlans ?? [];
  vl.forEach((id, i) => {
    const t = Buffer.alloc(4);
    // QinQ: the outer tag is 802.1ad (0x88a8), inner ones 802.1Q (0x8100).
    t.writeUInt16BE(i === 0 && vl.length > 1 ? 0x88a8 : 0x8100, 0);
    t.writeUInt16BE(id & 0x0fff, 2);
    out.push(t);
  });
  out.push(u16(et), payload);
  return Buffer.concat(out);
}

/** Linux cooked capture v1 (LINKTYPE 113) header around `payload`. */
export function sll(payload: Buffer, protocol = payload[0] >> 4 === 6 ? 0x86dd : 0x0800): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // to us
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  Buffer.from([2, 0, 0, 0, 0, 1]).copy(h, 6);
  h.writeUInt16BE(protocol, 14);
  return Buffer.concat([h, payload]);
}

/** Linux cooked capture v2 (LINKTYPE 276) header around `payload`. */
export function sll2(payload: Buffer, protocol = payload[0] >> 4 === 6 ? 0x86dd : 0x0800): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(protocol, 0);
  h.writeUInt32BE(2, 4); // ifindex
  h.writeUInt16BE(1, 8);
  h[10] = 4; // outgoing
  h[11] = 6;
  Buffer.from([2, 0, 0, 0, 0, 1]).copy(h, 12);
  return Buffer.concat([h, payload]);
}

/** BSD null (LINKTYPE 0, host order: pass littleEndian) or loop (108, big endian) header with AF `af`. */
export function nullLink(payload: Buffer, af: number, littleEndian: boolean): Buffer {
  const h = Buffer.alloc(4);
  if (littleEndian) h.writeUInt32LE(af, 0); else h.writeUInt32BE(af, 0);
  return Buffer.concat([h, payload]);
}

/** Options of ipv4(). */
export interface Ipv4Options {
  src: string;
  dst: string;
  proto: number;
  payload: Buffer;
  /** IP options (padded to a multiple of 4). */
  options?: Buffer;
  ttl?: number;
  id?: number;
  /** Fragment offset in bytes (multiple of 8). */
  fragOffset?: number;
  moreFragments?: boolean;
  /** Override the total length field (tests of padding / truncation). */
  totalLength?: number;
}

/** An IPv4 packet with a correct header checksum. */
export function ipv4(o: Ipv4Options): Buffer {
  let opt = o.options ?? Buffer.alloc(0);
  if (opt.length % 4) opt = Buffer.concat([opt, Buffer.alloc(4 - (opt.length % 4))]);
  const hl = 20 + opt.length;
  const h = Buffer.alloc(hl);
  h[0] = 0x40 | (hl / 4);
  h.writeUInt16BE(o.totalLength ?? hl + o.payload.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE(((o.moreFragments ? 1 : 0) << 13) | ((o.fragOffset ?? 0) >> 3), 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  ipv4Bytes(o.src).copy(h, 12);
  ipv4Bytes(o.dst).copy(h, 16);
  opt.copy(h, 20);
  h.writeUInt16BE(fold(sum16(h)), 10);
  return Buffer.concat([h, o.payload]);
}

/** One IPv6 extension header for ipv6(): `type` is its protocol number (0, 43, 44, 60, 51). */
export interface Ipv6Ext {
  type: number;
  /** For 0/43/60/51: the body after next+len (padded as needed); for 44: ignored. */
  body?: Buffer;
  /** Fragment header fields. */
  fragOffset?: number;
  moreFragments?: boolean;
}

/** Options of ipv6(). */
export interface Ipv6Options {
  src: string;
  dst: string;
  /** L4 protocol after the extension headers. */
  proto: number;
  payload: Buffer;
  ext?: Ipv6Ext[];
  hopLimit?: number;
}

/** An IPv6 packet with optional extension headers. */
export function ipv6(o: Ipv6Options): Buffer {
  const exts = o.ext ?? [];
  const blobs: Buffer[] = [];
  exts.forEach((e, i) => {
    const next = i + 1 < exts.length ? exts[i + 1].type : o.proto;
    if (e.type === 44) {
      const b = Buffer.alloc(8);
      b[0] = next;
      b.writeUInt16BE(((e.fragOffset ?? 0) >> 3) << 3 | (e.moreFragments ? 1 : 0), 2);
      b.writeUInt32BE(0x1234, 4);
      blobs.push(b);
    } else if (e.type === 51) {
      let body = e.body ?? Buffer.alloc(10);
      const total = Math.ceil((body.length + 2) / 4) * 4;
      body = Buffer.concat([body, Buffer.alloc(total - 2 - body.length)]);
      const b = Buffer.concat([Buffer.from([next, total / 4 - 2]), body]);
      blobs.push(b);
    } else {
      let body = e.body ?? Buffer.alloc(6);
      const total = Math.ceil((body.length + 2) / 8) * 8;
      body = Buffer.concat([body, Buffer.alloc(total - 2 - body.length)]);
      blobs.push(Buffer.concat([Buffer.from([next, total / 8 - 1]), body]));
    }
  });
  const extBuf = Buffer.concat(blobs);
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(extBuf.length + o.payload.length, 4);
  h[6] = exts.length ? exts[0].type : o.proto;
  h[7] = o.hopLimit ?? 64;
  ipv6Bytes(o.src).copy(h, 8);
  ipv6Bytes(o.dst).copy(h, 24);
  return Buffer.concat([h, extBuf, o.payload]);
}

/** Options of tcp(). */
export interface TcpOptions {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  flags?: number;
  payload?: Buffer;
  /** TCP options (padded to a multiple of 4). */
  options?: Buffer;
  window?: number;
  /** Addresses for the checksum (omit to leave it 0). */
  src?: string;
  dst?: string;
}

function l4Checksum(src: string | undefined, dst: string | undefined, proto: number, seg: Buffer): number {
  if (!src || !dst) return 0;
  const s = ipBytes(src);
  const d = ipBytes(dst);
  const pseudo = s.length === 4 ? Buffer.alloc(12) : Buffer.alloc(40);
  s.copy(pseudo, 0);
  d.copy(pseudo, s.length);
  if (s.length === 4) { pseudo[9] = proto; pseudo.writeUInt16BE(seg.length, 10); } else { pseudo.writeUInt32BE(seg.length, 32); pseudo[39] = proto; }
  const c = fold(sum16(seg, sum16(pseudo)));
  return c === 0 && proto === 17 ? 0xffff : c;
}

/** A TCP segment. */
export function tcp(o: TcpOptions): Buffer {
  let opt = o.options ?? Buffer.alloc(0);
  if (opt.length % 4) opt = Buffer.concat([opt, Buffer.alloc(4 - (opt.length % 4), 1)]);
  const hl = 20 + opt.length;
  const h = Buffer.alloc(hl);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt32BE((o.seq ?? 0) >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = (hl / 4) << 4;
  h[13] = o.flags ?? ACK;
  h.writeUInt16BE(o.window ?? 65535, 14);
  opt.copy(h, 20);
  const seg = Buffer.concat([h, o.payload ?? Buffer.alloc(0)]);
  seg.writeUInt16BE(l4Checksum(o.src, o.dst, 6, seg), 16);
  return seg;
}

/** Options of udp(). */
export interface UdpOptions {
  sport: number;
  dport: number;
  payload?: Buffer;
  src?: string;
  dst?: string;
}

/** A UDP datagram. */
export function udp(o: UdpOptions): Buffer {
  const p = o.payload ?? Buffer.alloc(0);
  const h = Buffer.alloc(8);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt16BE(8 + p.length, 4);
  const seg = Buffer.concat([h, p]);
  seg.writeUInt16BE(l4Checksum(o.src, o.dst, 17, seg), 6);
  return seg;
}

/** Shortcut options for tcpFrame(). */
export interface TcpFrameOptions extends Omit<TcpOptions, 'src' | 'dst'> {
  src: string;
  dst: string;
  vlans?: number[];
}

/** An Ethernet frame carrying IPv4 or IPv6 (by address text) + TCP. */
export function tcpFrame(o: TcpFrameOptions): Buffer {
  const seg = tcp({ ...o });
  const ip = o.src.includes(':') ? ipv6({ src: o.src, dst: o.dst, proto: 6, payload: seg }) : ipv4({ src: o.src, dst: o.dst, proto: 6, payload: seg });
  return ethernet(ip, { vlans: o.vlans });
}

/** Shortcut options for udpFrame(). */
export interface UdpFrameOptions extends Omit<UdpOptions, 'src' | 'dst'> {
  src: string;
  dst: string;
  vlans?: number[];
}

/** An Ethernet frame carrying IPv4 or IPv6 (by address text) + UDP. */
export function udpFrame(o: UdpFrameOptions): Buffer {
  const seg = udp({ ...o });
  const ip = o.src.includes(':') ? ipv6({ src: o.src, dst: o.dst, proto: 17, payload: seg }) : ipv4({ src: o.src, dst: o.dst, proto: 17, payload: seg });
  return ethernet(ip, { vlans: o.vlans });
}

// ---- TLS ----

/** Options of clientHello(). */
export interface ClientHelloOptions {
  sni?: string;
  /** Add an encrypted_client_hello (0xfe0d) extension. */
  ech?: boolean;
  alpn?: string[];
  /** Add a padding extension (21) so the handshake message is at least this long (to force record/segment splits). */
  padTo?: number;
  /** Random bytes (32); default deterministic. */
  random?: Buffer;
}

function ext(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}

/** A TLS 1.3-style ClientHello handshake message (type 1 + 3-byte length + body), without record framing. */
export function clientHello(o: ClientHelloOptions = {}): Buffer {
  const exts: Buffer[] = [];
  if (o.sni !== undefined) {
    const n = Buffer.from(o.sni, 'latin1');
    const entry = Buffer.concat([Buffer.from([0]), u16(n.length), n]);
    exts.push(ext(0, Buffer.concat([u16(entry.length), entry])));
  }
  exts.push(ext(0x000a, Buffer.from('0006001d00170018', 'hex'))); // supported_groups
  if (o.alpn?.length) {
    const list = Buffer.concat(o.alpn.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])));
    exts.push(ext(0x0010, Buffer.concat([u16(list.length), list])));
  }
  exts.push(ext(0x002b, Buffer.from('0403040303', 'hex'))); // supported_versions
  exts.push(ext(0x0033, Buffer.concat([u16(36), u16(0x001d), u16(32), Buffer.alloc(32, 7)]))); // key_share
  if (o.ech) exts.push(ext(0xfe0d, Buffer.concat([Buffer.from([0]), u16(1), Buffer.from([0x11]), u16(0), u16(16), Buffer.alloc(16, 9)])));
  const fixed = Buffer.concat([
    Buffer.from([3, 3]), o.random ?? Buffer.alloc(32, 0x42), Buffer.from([32]), Buffer.alloc(32, 0x24),
    u16(6), Buffer.from('130113021303', 'hex'), Buffer.from([1, 0]),
  ]);
  let extBytes = Buffer.concat(exts);
  if (o.padTo !== undefined) {
    const cur = 4 + fixed.length + 2 + extBytes.length;
    if (cur + 4 < o.padTo) extBytes = Buffer.concat([extBytes, ext(21, Buffer.alloc(o.padTo - cur - 4))]);
  }
  const body = Buffer.concat([fixed, u16(extBytes.length), extBytes]);
  const h = Buffer.from([1, (body.length >> 16) & 255, (body.length >> 8) & 255, body.length & 255]);
  return Buffer.concat([h, body]);
}

/**
 * Frames handshake bytes into TLS records (type 0x16, version 0x0301 on the first record like real clients,
 * 0x0303 on later ones). `fragmentSizes` splits the handshake over several records (the rest goes in the last).
 */
export function tlsRecords(handshake: Buffer, fragmentSizes: number[] = []): Buffer {
  const out: Buffer[] = [];
  let p = 0;
  const sizes = [...fragmentSizes];
  while (p < handshake.length) {
    const n = Math.min(sizes.shift() ?? handshake.length - p, handshake.length - p);
    const h = Buffer.from([0x16, 3, out.length === 0 ? 1 : 3, (n >> 8) & 255, n & 255]);
    out.push(h, handshake.subarray(p, p + n));
    p += n;
  }
  return Buffer.concat(out);
}

/** Splits a buffer at the given offsets: split(b, [10, 20]) -> [b[0..10), b[10..20), b[20..)]. */
export function splitAt(b: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let p = 0;
  for (const c of cuts) { out.push(b.subarray(p, c)); p = c; }
  out.push(b.subarray(p));
  return out;
}

// ---- DNS ----

/** A question for dnsMessage(). */
export interface DnsQuestionSpec {
  name: string;
  /** Type number (1 A, 28 AAAA, 65 HTTPS ...), default 1. */
  type?: number;
}

/** An answer for dnsMessage(): data by type (A/AAAA address text, CNAME target, SVCB/HTTPS spec) or raw rdata. */
export interface DnsAnswerSpec {
  name: string;
  type: number;
  ttl?: number;
  /** A / AAAA address, CNAME target. */
  data?: string;
  /** HTTPS (65) / SVCB (64): priority, target ('' = root), hints. */
  svc?: { priority?: number; target: string; ipv4hint?: string[]; ipv6hint?: string[]; alpn?: string[] };
  /** Raw rdata (overrides the above). */
  rdata?: Buffer;
}

/** Options of dnsMessage(). */
export interface DnsMessageOptions {
  id?: number;
  response?: boolean;
  rcode?: number;
  questions?: DnsQuestionSpec[];
  answers?: DnsAnswerSpec[];
  /** Use compression pointers for repeated name suffixes (default true). */
  compress?: boolean;
}

/** A DNS message (RFC 1035 wire format) with optional name compression. */
export function dnsMessage(o: DnsMessageOptions): Buffer {
  const compress = o.compress ?? true;
  const chunks: Buffer[] = [];
  let len = 0;
  const seen = new Map<string, number>();
  const push = (b: Buffer): void => { chunks.push(b); len += b.length; };
  const writeName = (name: string, allowCompress: boolean): void => {
    const labels = name.replace(/\.$/, '').split('.').filter((x) => x.length > 0);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const at = seen.get(suffix);
      if (allowCompress && compress && at !== undefined) { push(u16(0xc000 | at)); return; }
      if (len < 0x3fff) seen.set(suffix, len);
      const l = Buffer.from(labels[i], 'latin1');
      push(Buffer.concat([Buffer.from([l.length]), l]));
    }
    push(Buffer.from([0]));
  };
  const h = Buffer.alloc(12);
  h.writeUInt16BE(o.id ?? 0x1234, 0);
  h.writeUInt16BE((o.response ? 0x8180 : 0x0100) | ((o.rcode ?? 0) & 0xf), 2);
  h.writeUInt16BE(o.questions?.length ?? 0, 4);
  h.writeUInt16BE(o.answers?.length ?? 0, 6);
  push(h);
  for (const q of o.questions ?? []) {
    writeName(q.name, true);
    push(Buffer.concat([u16(q.type ?? 1), u16(1)]));
  }
  for (const a of o.answers ?? []) {
    writeName(a.name, true);
    const fixed = Buffer.alloc(8);
    fixed.writeUInt16BE(a.type, 0);
    fixed.writeUInt16BE(1, 2);
    fixed.writeUInt32BE(a.ttl ?? 300, 4);
    push(fixed);
    if (a.rdata) { push(u16(a.rdata.length)); push(a.rdata); continue; }
    if (a.type === 1 || a.type === 28) {
      const b = ipBytes(a.data ?? '0.0.0.0');
      push(u16(b.length)); push(b);
    } else if (a.type === 5) {
      // Compressed target: rdlength must be known first, so write into a placeholder and patch it.
      const lenAt = chunks.length;
      push(u16(0));
      const before = len;
      writeName(a.data ?? '', true);
      chunks[lenAt].writeUInt16BE(len - before, 0);
    } else if ((a.type === 64 || a.type === 65) && a.svc) {
      const target = a.svc.target === '' || a.svc.target === '.' ? Buffer.from([0])
        : Buffer.concat([...a.svc.target.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
      const params: Buffer[] = [];
      if (a.svc.alpn?.length) {
        const v = Buffer.concat(a.svc.alpn.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])));
        params.push(u16(1), u16(v.length), v);
      }
      if (a.svc.ipv4hint?.length) {
        const v = Buffer.concat(a.svc.ipv4hint.map(ipv4Bytes));
        params.push(u16(4), u16(v.length), v);
      }
      if (a.svc.ipv6hint?.length) {
        const v = Buffer.concat(a.svc.ipv6hint.map(ipv6Bytes));
        params.push(u16(6), u16(v.length), v);
      }
      const rd = Buffer.concat([u16(a.svc.priority ?? 1), target, ...params]);
      push(u16(rd.length)); push(rd);
    } else {
      push(u16(0));
    }
  }
  return Buffer.concat(chunks);
}

/** DNS over TCP framing: each message prefixed by its 2-byte length, concatenated. */
export function dnsTcpFraming(...messages: Buffer[]): Buffer {
  return Buffer.concat(messages.flatMap((m) => [u16(m.length), m]));
}

// ---- QUIC ----

/** A CRYPTO frame for quicInitial(). */
export interface CryptoFrameSpec {
  offset: number;
  data: Buffer;
}

/** Options of quicInitial(). */
export interface QuicInitialOptions {
  dcid: Buffer;
  scid?: Buffer;
  packetNumber?: number;
  /** Packet number length in bytes (1-4), default 4 as in RFC 9001 A.2. */
  pnLength?: number;
  crypto: CryptoFrameSpec[];
  /** Pad the plaintext with PADDING frames so the packet is at least this long (default 1200). */
  padTo?: number;
  token?: Buffer;
}

function varint(n: number): Buffer {
  if (n < 64) return Buffer.from([n]);
  if (n < 16384) return u16(0x4000 | n);
  const b = Buffer.alloc(4);
  b.writeUInt32BE((0x80000000 | n) >>> 0, 0);
  return b;
}

/** A CRYPTO frame (type 0x06) as plaintext bytes. */
export function cryptoFrame(offset: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x06]), varint(offset), varint(data.length), data]);
}

/**
 * A protected QUIC v1 client Initial packet (long header, type Initial) carrying the given CRYPTO frames,
 * encrypted with the client Initial keys derived from `dcid` (RFC 9001 sections 5.2-5.4).
 */
export function quicInitial(o: QuicInitialOptions): Buffer {
  const pnLen = o.pnLength ?? 4;
  const pn = o.packetNumber ?? 0;
  const scid = o.scid ?? Buffer.alloc(0);
  const token = o.token ?? Buffer.alloc(0);
  let plain = Buffer.concat(o.crypto.map((c) => cryptoFrame(c.offset, c.data)));
  const headerBase = (payloadLen: number): Buffer => Buffer.concat([
    Buffer.from([0xc0 | (pnLen - 1), 0, 0, 0, 1, o.dcid.length]), o.dcid, Buffer.from([scid.length]), scid,
    varint(token.length), token, u16(0x4000 | payloadLen),
  ]);
  const padTo = o.padTo ?? 1200;
  const overhead = headerBase(0).length + pnLen + 16;
  if (overhead + plain.length < padTo) plain = Buffer.concat([plain, Buffer.alloc(padTo - overhead - plain.length)]);
  // The sample needs 4 bytes after the packet number start + 16: make sure the payload is long enough.
  if (plain.length + pnLen < 20) plain = Buffer.concat([plain, Buffer.alloc(20 - pnLen - plain.length)]);
  const keys = deriveClientInitialKeys(o.dcid);
  const pnBytes = Buffer.alloc(pnLen);
  for (let i = 0; i < pnLen; i++) pnBytes[pnLen - 1 - i] = (pn >>> (8 * i)) & 0xff;
  const header = Buffer.concat([headerBase(pnLen + plain.length + 16), pnBytes]);
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 4; i++) nonce[11 - i] ^= (pn >>> (8 * i)) & 0xff;
  const c = createCipheriv('aes-128-gcm', keys.key, nonce);
  c.setAAD(header);
  const ct = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  const packet = Buffer.concat([header, ct]);
  const pnOff = header.length - pnLen;
  const mask = headerProtectionMask(keys.hp, packet.subarray(pnOff + 4, pnOff + 20));
  packet[0] ^= mask[0] & 0x0f;
  for (let i = 0; i < pnLen; i++) packet[pnOff + i] ^= mask[1 + i];
  return packet;
}

// ---- HTTP ----

/** An HTTP/1.1 request head (CRLF line endings, blank line at the end). */
export function httpRequest(method: string, target: string, headers: Record<string, string> = {}): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}
