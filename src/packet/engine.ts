/**
 * The packet engine: turns captured packets into Observations on one synchronous hot path.
 *
 * Per packet: link -> IP -> TCP/UDP decode into reused result objects, a numeric symmetric 5-tuple hash, a
 * Map<number, Flow> lookup with a collision check on the address words and ports, counters, and (only
 * while the client's first flight is not yet understood) TLS / HTTP / QUIC inspection with bounded TCP
 * reassembly. Established flows whose first flight was parsed cost a few comparisons. DNS messages on DNS
 * ports become 'dns' observations; every other flow becomes exactly one 'connection' observation, at the
 * first of: FIN/RST, flowReportDelayMs after its first packet, eviction, expiry, finish().
 *
 * Flow byte counters are L4 payload bytes (TCP/UDP payload, as declared by the IP length, so a short snap
 * length does not shrink them); packet counters count every packet of the flow, pure ACKs included.
 */
import type { ComponentCounters } from '../component/telemetry.js';
import type { DnsInfo, Endpoint, NameEvidence, Observation, ProcessInfo } from '../model/observation.js';
import type { NameInterest } from '../component/types.js';
import { ATTR } from '../model/attributes.js';
import { unixNano } from '../model/time.js';
import { decodeLink, newLinkOut, LINK_OK, LINK_REASONS } from '../decode/link.js';
import { decodeIp, newIpOut, IP_OK, IP_NON_FIRST_FRAGMENT, IP_REASONS, formatIp } from '../decode/ip.js';
import { decodeTcp, decodeUdp, newL4Out, L4_OK, L4_REASONS, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../decode/tcp-udp.js';
import { parseDns, DnsTcpStream, DNS_TCP_RESET } from '../decode/dns.js';
import { parseTlsClientHello } from '../decode/tls-hello.js';
import { looksLikeHttpRequest, parseHttpRequest, MAX_HTTP_HEAD } from '../decode/http.js';
import { looksLikeQuicInitial, QuicHelloAssembler } from '../decode/quic-initial.js';
import {
  Flow, INSPECT_DONE, INSPECT_PENDING, SEEN_FIN, SEEN_RST, SEEN_SERVER_DATA, SEEN_SYN, SEEN_SYNACK, type Segment,
} from './flow.js';

/** Settings of a PacketEngine. */
export interface PacketEngineOptions {
  /** Goes into Observation.receiver. */
  receiverId: string;
  /** Flow table cap (default 262144); when full the idle-most flow is evicted (reported first). */
  maxFlows: number;
  /** Idle flows expire after this much packet time (default 120000). */
  flowIdleTimeoutMs: number;
  /** A connection observation is emitted this long after the flow's first packet at the latest (default 2000). */
  flowReportDelayMs: number;
  /** Per-flow first-flight buffer cap (default 16384). */
  maxReassemblyBytes: number;
  /** Flows allowed to hold a first-flight buffer at once (default 16384); the oldest buffer is dropped. */
  maxReassemblyFlows: number;
  /** DNS over UDP/TCP on these ports (default [53]). */
  dnsPorts?: number[];
}

/** Default engine settings (receiverId excepted). */
export const DEFAULT_PACKET_ENGINE_OPTIONS: Omit<PacketEngineOptions, 'receiverId'> = {
  maxFlows: 262144,
  flowIdleTimeoutMs: 120000,
  flowReportDelayMs: 2000,
  maxReassemblyBytes: 16384,
  maxReassemblyFlows: 16384,
  dnsPorts: [53],
};

/** What the onNewFlow hook receives. */
export interface NewFlowInfo {
  transport: 'tcp' | 'udp';
  src: Endpoint;
  dst: Endpoint;
}

// Inspection verdicts.
const DONE = 0;
const NEED_MORE = 1;
/** A CONNECT head was parsed: the client's next bytes are the tunnelled protocol, to be inspected anew. */
const TUNNEL = 2;
/** Most out-of-order segments kept per flow (bounds the sort and the list walk). */
const MAX_SEGMENTS = 64;
/** Client datagrams examined for a QUIC ClientHello before giving up. */
const MAX_QUIC_DATAGRAMS = 8;
/** Idle sweep every this many packets (plus on tick and finish). */
const SWEEP_EVERY = 1024;
/** Counters are pushed to ComponentCounters every this many packets (plus on tick and finish). */
const FLUSH_EVERY = 1 << 16;
const FLOW_POOL_MAX = 4096;
const ADDR_CACHE_MAX = 65536;

/**
 * Symmetric flow key (same for both directions) from folded address words and ports, mixed and masked to
 * 30 bits so it stays a small integer (Smi) in V8: a Map keyed by heap numbers would allocate per lookup.
 * Collisions are fine: the table chains them and compares the full addresses.
 */
export function flowKey(sa: number, da: number, sp: number, dp: number, proto: number): number {
  let h = Math.imul((sa ^ da) + proto, 0x9e3779b1) ^ Math.imul((sa + da) | 0, 0x85ebca6b);
  h ^= Math.imul((sp ^ dp) | ((sp + dp) << 16), 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h & 0x3fffffff;
}

interface EngineStats {
  packets: number;
  bytes: number;
  ipv4: number;
  ipv6: number;
  tcp: number;
  udp: number;
  other_l4: number;
  fragments_skipped: number;
  flows_created: number;
  flows_reported: number;
  flows_expired: number;
  evicted_flows: number;
  evicted_reassembly: number;
  reassembly_gave_up: number;
  dns_messages: number;
  dns_malformed: number;
  /** DNS messages skipped because none of their names passed the name interest. */
  dns_skipped_uninteresting: number;
  dns_tcp_resync: number;
  tls_hellos: number;
  tls_malformed: number;
  http_requests: number;
  quic_hellos: number;
  quic_failed: number;
  observations: number;
}

function zeroStats(): EngineStats {
  return {
    packets: 0, bytes: 0, ipv4: 0, ipv6: 0, tcp: 0, udp: 0, other_l4: 0, fragments_skipped: 0,
    flows_created: 0, flows_reported: 0, flows_expired: 0, evicted_flows: 0, evicted_reassembly: 0,
    reassembly_gave_up: 0, dns_messages: 0, dns_malformed: 0, dns_skipped_uninteresting: 0, dns_tcp_resync: 0, tls_hellos: 0, tls_malformed: 0,
    http_requests: 0, quic_hellos: 0, quic_failed: 0, observations: 0,
  };
}

/** Turns captured packets into Observations (see the module comment for the policy). */
export class PacketEngine {
  /** Optional process attribution hook (live capture): called once per new flow / DNS query, before its observation. */
  onNewFlow?: (f: NewFlowInfo) => ProcessInfo | undefined;
  /**
   * Optional early filter (set by the receiver from its pipelines' classifiers): a DNS message none of whose
   * names passes is counted and skipped, not built into an observation. Flows are never skipped (a bare
   * connection may still be named by the DNS correlation).
   */
  nameInterest?: NameInterest;

  private readonly o: PacketEngineOptions;
  private readonly reportDelayMs: number;
  private readonly link = newLinkOut();
  private readonly ip = newIpOut();
  private readonly l4 = newL4Out();
  private readonly dnsPort = new Uint8Array(65536);
  private readonly table = new Map<number, Flow>();
  private size = 0;
  private reassemblyFlows = 0;
  private lruHead: Flow | null = null;
  private lruTail: Flow | null = null;
  private repHead: Flow | null = null;
  private repTail: Flow | null = null;
  private bufHead: Flow | null = null;
  private bufTail: Flow | null = null;
  private readonly pool: Flow[] = [];
  private readonly addrCache = new Map<number, string>();
  private nowMs = -Infinity;
  private sinceSweep = 0;
  private sinceFlush = 0;
  private st: EngineStats = zeroStats();
  private flushed: EngineStats = zeroStats();
  private readonly errors = new Map<string, number>();
  private readonly errorsFlushed = new Map<string, number>();
  // Context of the DNS-over-TCP message callback (set before each push; avoids a closure per packet).
  private dnsCtxFlow: Flow | null = null;
  private dnsCtxSec = 0;
  private dnsCtxNsec = 0;
  private readonly onDnsTcpMessage = (buf: Buffer, off: number, len: number): void => {
    const f = this.dnsCtxFlow;
    if (f) this.dnsMessage(buf, off, len, 'tcp', this.dnsCtxSec, this.dnsCtxNsec, f);
  };

  /**
   * @param opts engine settings (missing numeric fields fall back to DEFAULT_PACKET_ENGINE_OPTIONS)
   * @param emit receives every observation, synchronously
   * @param counters optional self-telemetry sink (flushed periodically, on tick and on finish)
   */
  constructor(opts: PacketEngineOptions, private readonly emit: (obs: Observation) => void, private readonly counters?: ComponentCounters) {
    // Explicit undefined in opts must not wipe a default.
    const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as unknown as PacketEngineOptions;
    this.o = { ...DEFAULT_PACKET_ENGINE_OPTIONS, ...defined };
    this.reportDelayMs = this.o.flowReportDelayMs;
    for (const p of this.o.dnsPorts ?? [53]) if (p >= 0 && p < 65536) this.dnsPort[p] = 1;
    if (!(this.o.maxFlows >= 1)) this.o.maxFlows = 1;
  }

  /** One captured packet. `data` is only valid during the call (a view into a read buffer). */
  packet(linkType: number, tsSec: number, tsNsec: number, data: Buffer, offset: number, capLen: number): void {
    const st = this.st;
    st.packets++;
    st.bytes += capLen;
    if (++this.sinceFlush >= FLUSH_EVERY) this.flushCounters();
    let end = offset + capLen;
    if (end > data.length) end = data.length;
    if (offset < 0 || offset >= end) { this.error('empty'); return; }
    const link = this.link;
    let rc: number;
    // Fast path for untagged Ethernet (most captures); everything else goes through decodeLink.
    let et: number;
    if (linkType === 1 && offset + 14 <= end && ((et = (data[offset + 12] << 8) | data[offset + 13]) === 0x0800 || et === 0x86dd)) {
      link.net = et;
      link.offset = offset + 14;
    } else {
      rc = decodeLink(linkType, data, offset, end, link);
      if (rc !== LINK_OK) { this.error(LINK_REASONS[rc]); return; }
    }
    const ip = this.ip;
    rc = decodeIp(link.net, data, link.offset, end, ip);
    if (rc !== IP_OK) {
      if (rc === IP_NON_FIRST_FRAGMENT) st.fragments_skipped++;
      else this.error(IP_REASONS[rc]);
      return;
    }
    if (ip.version === 4) st.ipv4++; else st.ipv6++;
    const l4 = this.l4;
    const proto = ip.proto;
    if (proto === 6) {
      rc = decodeTcp(data, ip.l4Off, ip.l4End, ip.l4WireLen, l4);
      st.tcp++;
    } else if (proto === 17) {
      rc = decodeUdp(data, ip.l4Off, ip.l4End, ip.l4WireLen, l4);
      st.udp++;
    } else {
      st.other_l4++;
      return;
    }
    if (rc !== L4_OK) { this.error(L4_REASONS[rc]); return; }

    const tsMs = tsSec * 1000 + tsNsec / 1e6;
    if (tsMs > this.nowMs) this.nowMs = tsMs;

    if (proto === 17 && (this.dnsPort[l4.dstPort] === 1 || this.dnsPort[l4.srcPort] === 1)) {
      this.dnsUdp(data, tsSec, tsNsec);
      this.due();
      return;
    }

    // Flow lookup: symmetric key, collision check on words and ports.
    const key = flowKey(ip.s0 ^ ip.s1 ^ ip.s2 ^ ip.s3, ip.d0 ^ ip.d1 ^ ip.d2 ^ ip.d3, l4.srcPort, l4.dstPort, proto);
    let f: Flow | null = this.table.get(key) ?? null;
    let fromClient = true;
    while (f !== null) {
      if (f.proto === proto) {
        if (f.aPort === l4.srcPort && f.bPort === l4.dstPort && f.a0 === ip.s0 && f.b0 === ip.d0
          && f.a1 === ip.s1 && f.a2 === ip.s2 && f.a3 === ip.s3 && f.b1 === ip.d1 && f.b2 === ip.d2 && f.b3 === ip.d3) {
          fromClient = true;
          break;
        }
        if (f.aPort === l4.dstPort && f.bPort === l4.srcPort && f.a0 === ip.d0 && f.b0 === ip.s0
          && f.a1 === ip.d1 && f.a2 === ip.d2 && f.a3 === ip.d3 && f.b1 === ip.s1 && f.b2 === ip.s2 && f.b3 === ip.s3) {
          fromClient = false;
          break;
        }
      }
      f = f.chain;
    }
    if (f === null) {
      f = this.createFlow(key, proto, tsMs, tsSec, tsNsec);
      fromClient = this.orient(f, proto);
    } else if (f !== this.lruTail) {
      this.lruRemove(f);
      this.lruAppend(f);
    }
    f.lastMs = tsMs > f.lastMs ? tsMs : f.lastMs;
    f.lastSec = tsSec;
    f.lastNsec = tsNsec;
    if (fromClient) { f.pktsAB++; f.bytesAB += l4.wireLen; } else { f.pktsBA++; f.bytesBA += l4.wireLen; }

    if (proto === 6) {
      const fl = l4.flags;
      if ((fl & TCP_SYN) !== 0) {
        if ((fl & TCP_ACK) === 0) {
          f.seen |= SEEN_SYN;
          if (fromClient && !f.baseFromSyn) { f.base = (l4.seq + 1) >>> 0; f.baseFromSyn = true; }
        } else f.seen |= SEEN_SYNACK;
      }
      if (l4.payloadLen > 0) {
        if (f.isDns) this.dnsTcp(f, fromClient, data, tsSec, tsNsec);
        else if (f.inspect === INSPECT_PENDING && fromClient) this.inspectTcp(f, data);
        if (!fromClient) f.seen |= SEEN_SERVER_DATA;
      }
      if ((fl & (TCP_FIN | TCP_RST)) !== 0) {
        f.seen |= (fl & TCP_RST) !== 0 ? SEEN_RST : SEEN_FIN;
        if (!f.reported && !f.isDns) this.report(f);
        if (f.inspect === INSPECT_PENDING) this.endInspection(f);
      }
    } else if (f.inspect === INSPECT_PENDING && fromClient && l4.payloadLen > 0) {
      this.inspectUdp(f, data);
    }
    this.due();
  }

  /** Advance the clock without a packet (live capture timer): reports/expires due flows. */
  tick(nowUnixNano: bigint): void {
    const ms = Number(nowUnixNano / 1_000_000n);
    if (ms > this.nowMs) this.nowMs = ms;
    this.due();
    this.sweep();
    this.flushCounters();
  }

  /** End of input: report every flow not yet reported (in first-packet order), then clear. */
  finish(): void {
    while (this.repHead !== null) this.report(this.repHead);
    this.table.clear();
    this.size = 0;
    this.reassemblyFlows = 0;
    this.lruHead = this.lruTail = this.repHead = this.repTail = this.bufHead = this.bufTail = null;
    this.flushCounters();
  }

  /** Counters for benchmarks and self-metrics (packets, bytes, decode errors by reason, flows, evictions ...). */
  stats(): Record<string, number> {
    const out: Record<string, number> = { ...this.st, flows_active: this.size, reassembly_flows: this.reassemblyFlows };
    let total = 0;
    for (const [reason, n] of this.errors) { out[`decode_errors.${reason}`] = n; total += n; }
    out.decode_errors = total;
    return out;
  }

  // ---- internals ----

  private error(reason: string): void {
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1);
  }

  private flushCounters(): void {
    this.sinceFlush = 0;
    const c = this.counters;
    if (!c) return;
    const st = this.st as unknown as Record<string, number>;
    const fl = this.flushed as unknown as Record<string, number>;
    for (const k of Object.keys(st)) {
      const d = st[k] - fl[k];
      if (d === 0) continue;
      fl[k] = st[k];
      if (k === 'evicted_flows') c.evicted('flows', d);
      else if (k === 'evicted_reassembly') c.evicted('reassembly', d);
      else c.add(k, d);
    }
    for (const [reason, n] of this.errors) {
      const d = n - (this.errorsFlushed.get(reason) ?? 0);
      if (d === 0) continue;
      this.errorsFlushed.set(reason, n);
      c.add('decode_errors', d, { reason });
    }
    c.gauge('flows', this.size);
    c.gauge('reassembly_flows', this.reassemblyFlows);
  }

  private createFlow(key: number, proto: number, tsMs: number, tsSec: number, tsNsec: number): Flow {
    if (this.size >= this.o.maxFlows && this.lruHead !== null) {
      this.st.evicted_flows++;
      this.removeFlow(this.lruHead, true);
    }
    const f = this.pool.pop() ?? new Flow();
    f.key = key;
    f.proto = proto;
    f.firstMs = f.lastMs = tsMs;
    f.firstSec = f.lastSec = tsSec;
    f.firstNsec = f.lastNsec = tsNsec;
    const head = this.table.get(key);
    f.chain = head ?? null;
    this.table.set(key, f);
    this.size++;
    this.st.flows_created++;
    this.lruAppend(f);
    return f;
  }

  /** Sets the flow's initiator from the first packet; returns whether that packet came from the initiator. */
  private orient(f: Flow, proto: number): boolean {
    const ip = this.ip;
    const l4 = this.l4;
    const sp = l4.srcPort;
    const dp = l4.dstPort;
    let senderIsClient: boolean;
    if (proto === 6 && (l4.flags & TCP_SYN) !== 0) senderIsClient = (l4.flags & TCP_ACK) === 0;
    else if (this.dnsPort[dp] === 1 && this.dnsPort[sp] !== 1) senderIsClient = true;
    else if (this.dnsPort[sp] === 1 && this.dnsPort[dp] !== 1) senderIsClient = false;
    else if (proto === 6) senderIsClient = dp <= sp; // mid-stream: the lower (well-known) port is the server
    else senderIsClient = !(sp < 1024 && dp >= 1024); // UDP: the first sender, unless it sends from a well-known port
    f.version = ip.version;
    if (senderIsClient) {
      f.a0 = ip.s0; f.a1 = ip.s1; f.a2 = ip.s2; f.a3 = ip.s3; f.aPort = sp;
      f.b0 = ip.d0; f.b1 = ip.d1; f.b2 = ip.d2; f.b3 = ip.d3; f.bPort = dp;
    } else {
      f.a0 = ip.d0; f.a1 = ip.d1; f.a2 = ip.d2; f.a3 = ip.d3; f.aPort = dp;
      f.b0 = ip.s0; f.b1 = ip.s1; f.b2 = ip.s2; f.b3 = ip.s3; f.bPort = sp;
    }
    if (proto === 6 && (this.dnsPort[f.bPort] === 1)) {
      f.isDns = true;
      f.inspect = INSPECT_DONE;
    } else {
      this.repAppend(f);
    }
    if (this.onNewFlow && !f.isDns) {
      f.process = this.onNewFlow({ transport: proto === 6 ? 'tcp' : 'udp', src: this.endpointA(f), dst: this.endpointB(f) });
    }
    return senderIsClient;
  }

  /** Address text, cached for IPv4 (resolvers and busy servers repeat; text is made once). */
  private addr(version: number, w0: number, w1: number, w2: number, w3: number): string {
    if (version !== 4) return formatIp(version, w0, w1, w2, w3);
    let t = this.addrCache.get(w0);
    if (t === undefined) {
      if (this.addrCache.size >= ADDR_CACHE_MAX) this.addrCache.clear();
      t = formatIp(4, w0, 0, 0, 0);
      this.addrCache.set(w0, t);
    }
    return t;
  }

  private endpointA(f: Flow): Endpoint {
    return { address: this.addr(f.version, f.a0, f.a1, f.a2, f.a3), port: f.aPort };
  }

  private endpointB(f: Flow): Endpoint {
    return { address: this.addr(f.version, f.b0, f.b1, f.b2, f.b3), port: f.bPort };
  }

  /** Reports due flows (first packet older than the report delay) and, every SWEEP_EVERY packets, idle ones. */
  private due(): void {
    const limit = this.nowMs - this.reportDelayMs;
    while (this.repHead !== null && this.repHead.firstMs <= limit) this.report(this.repHead);
    if (++this.sinceSweep >= SWEEP_EVERY) this.sweep();
  }

  private sweep(): void {
    this.sinceSweep = 0;
    const limit = this.nowMs - this.o.flowIdleTimeoutMs;
    while (this.lruHead !== null && this.lruHead.lastMs <= limit) {
      this.st.flows_expired++;
      this.removeFlow(this.lruHead, true);
    }
  }

  /** Takes a flow out of every structure (reporting it first when asked and still unreported). */
  private removeFlow(f: Flow, reportFirst: boolean): void {
    if (reportFirst && !f.reported && !f.isDns) this.report(f);
    if (f.inReportList) this.repRemove(f);
    if (f.inBufferList) this.dropBuffer(f);
    this.lruRemove(f);
    const head = this.table.get(f.key);
    if (head === f) {
      if (f.chain !== null) this.table.set(f.key, f.chain);
      else this.table.delete(f.key);
    } else {
      let p: Flow | null = head ?? null;
      while (p !== null && p.chain !== f) p = p.chain;
      if (p) p.chain = f.chain;
    }
    this.size--;
    if (this.pool.length < FLOW_POOL_MAX) { f.reset(); this.pool.push(f); }
  }

  // Intrusive list helpers.
  private lruAppend(f: Flow): void {
    f.lruPrev = this.lruTail; f.lruNext = null;
    if (this.lruTail) this.lruTail.lruNext = f; else this.lruHead = f;
    this.lruTail = f;
  }

  private lruRemove(f: Flow): void {
    if (f.lruPrev) f.lruPrev.lruNext = f.lruNext; else this.lruHead = f.lruNext;
    if (f.lruNext) f.lruNext.lruPrev = f.lruPrev; else this.lruTail = f.lruPrev;
    f.lruPrev = f.lruNext = null;
  }

  private repAppend(f: Flow): void {
    f.repPrev = this.repTail; f.repNext = null;
    if (this.repTail) this.repTail.repNext = f; else this.repHead = f;
    this.repTail = f;
    f.inReportList = true;
  }

  private repRemove(f: Flow): void {
    if (f.repPrev) f.repPrev.repNext = f.repNext; else this.repHead = f.repNext;
    if (f.repNext) f.repNext.repPrev = f.repPrev; else this.repTail = f.repPrev;
    f.repPrev = f.repNext = null;
    f.inReportList = false;
  }

  private bufAdd(f: Flow): void {
    if (f.inBufferList) return;
    if (this.reassemblyFlows >= this.o.maxReassemblyFlows && this.bufHead !== null) {
      const old = this.bufHead;
      this.st.evicted_reassembly++;
      this.dropBuffer(old);
      old.inspect = INSPECT_DONE;
      // A DNS-over-TCP flow loses its partial messages (its streams resynchronise on the next segment).
      old.dnsAB = old.dnsBA = null;
    }
    f.bufPrev = this.bufTail; f.bufNext = null;
    if (this.bufTail) this.bufTail.bufNext = f; else this.bufHead = f;
    this.bufTail = f;
    f.inBufferList = true;
    this.reassemblyFlows++;
  }

  private dropBuffer(f: Flow): void {
    if (f.inBufferList) {
      if (f.bufPrev) f.bufPrev.bufNext = f.bufNext; else this.bufHead = f.bufNext;
      if (f.bufNext) f.bufNext.bufPrev = f.bufPrev; else this.bufTail = f.bufPrev;
      f.bufPrev = f.bufNext = null;
      f.inBufferList = false;
      this.reassemblyFlows--;
    }
    f.segs = null;
    f.segBytes = 0;
    f.quic = null;
  }

  private endInspection(f: Flow): void {
    f.inspect = INSPECT_DONE;
    if (f.inBufferList || f.segs !== null || f.quic !== null) this.dropBuffer(f);
  }

  /** TCP client payload while the first flight is not understood: zero-copy when in order, else reassemble. */
  private inspectTcp(f: Flow, data: Buffer): void {
    const l4 = this.l4;
    const seq = l4.seq;
    const off = l4.payloadOff;
    const len = l4.payloadLen;
    const cap = this.o.maxReassemblyBytes;
    if (f.base < 0) f.base = seq;
    let rel = (seq - f.base) | 0;
    if (rel < 0) {
      // Bytes before the base: without a SYN the first segment we saw may not be the first one sent.
      if (!f.baseFromSyn && -rel <= cap) {
        f.base = seq;
        rel = 0;
      } else if (rel + len <= 0) {
        return; // retransmission of bytes before the base
      }
    }
    let justClassified = false;
    if (f.segs === null && rel === 0) {
      // In order and nothing buffered: parse straight from the capture buffer (the common case).
      const v = this.classify(f, data, off, len);
      if (v === DONE) { this.endInspection(f); return; }
      if (v === TUNNEL) { this.dropBuffer(f); return; }
      if (len >= cap) { this.giveUp(f); return; }
      justClassified = true;
    }
    if (rel >= cap) return; // beyond the cap: cannot matter for the first flight
    // Buffer a copy of this segment (ordered by relative sequence number).
    if (f.segs === null) { f.segs = []; this.bufAdd(f); }
    const segs = f.segs;
    if (segs.length >= MAX_SEGMENTS || f.segBytes + len > cap + 1500) { this.giveUp(f); return; }
    const seg: Segment = { seq, data: Buffer.from(data.subarray(off, off + len)) };
    let i = segs.length;
    while (i > 0 && ((segs[i - 1].seq - f.base) | 0) > rel) i--;
    segs.splice(i, 0, seg);
    f.segBytes += len;
    if (justClassified) return; // these bytes were just found incomplete
    // Contiguous bytes from the base (retransmissions and overlaps trimmed).
    let have = 0;
    const parts: Buffer[] = [];
    for (const s of segs) {
      const start = (s.seq - f.base) | 0;
      if (start > have) break;
      const sEnd = start + s.data.length;
      if (sEnd <= have) continue;
      parts.push(start < have ? s.data.subarray(have - start) : s.data);
      have = sEnd;
    }
    if (have === 0) return;
    if (rel > have) return; // the new segment did not extend the contiguous prefix
    const stream = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    const v = this.classify(f, stream, 0, stream.length);
    if (v === DONE) this.endInspection(f);
    else if (v === TUNNEL) this.dropBuffer(f);
    else if (have >= cap) this.giveUp(f);
  }

  private giveUp(f: Flow): void {
    this.st.reassembly_gave_up++;
    this.endInspection(f);
  }

  /** Decides what the client's first bytes are; fills the flow's names. */
  private classify(f: Flow, buf: Buffer, off: number, len: number): number {
    const c = buf[off];
    if (c === 0x16) {
      const r = parseTlsClientHello(buf, off, len);
      if (r.status === 'need_more') return (r.need ?? 0) > this.o.maxReassemblyBytes ? this.tooBig() : NEED_MORE;
      if (r.status === 'parsed') {
        this.st.tls_hellos++;
        f.app = 'tls';
        f.sni = r.sni;
        f.ech = r.ech;
        f.alpn = r.alpn;
      } else if (r.status === 'malformed') this.st.tls_malformed++;
      return DONE;
    }
    if (looksLikeHttpRequest(buf, off, len)) {
      const r = parseHttpRequest(buf, off, len, Math.min(MAX_HTTP_HEAD, this.o.maxReassemblyBytes));
      if (r.status === 'need_more') return NEED_MORE;
      if (r.status === 'parsed') {
        this.st.http_requests++;
        f.app = 'http';
        f.method = r.method;
        f.target = r.target;
        f.host = r.host;
        f.targetHost = r.targetHost;
        f.connectHost = r.connectHost;
        if (r.method === 'CONNECT' && r.headLength !== undefined && !f.tunnel) {
          // Through a proxy the client sends its ClientHello after the proxy's 200: inspect the tunnel's first
          // bytes too, from just after the CONNECT head. (Bytes sent in the same segment as the head, before
          // the proxy answered, are not inspected: clients wait for the answer.)
          f.tunnel = true;
          f.base = (f.base + r.headLength) | 0;
          return TUNNEL;
        }
      }
    }
    return DONE;
  }

  private tooBig(): number {
    this.st.reassembly_gave_up++;
    return DONE;
  }

  private inspectUdp(f: Flow, data: Buffer): void {
    const l4 = this.l4;
    if (f.quic === null) {
      if (!looksLikeQuicInitial(data, l4.payloadOff, l4.payloadLen)) { f.inspect = INSPECT_DONE; return; }
      f.quic = new QuicHelloAssembler(this.o.maxReassemblyBytes);
      this.bufAdd(f);
    }
    const r = f.quic.push(data, l4.payloadOff, l4.payloadLen);
    if (r.status === 'parsed' && r.hello) {
      this.st.quic_hellos++;
      f.app = 'quic';
      f.sni = r.hello.sni;
      f.ech = r.hello.ech;
      f.alpn = r.hello.alpn;
      this.endInspection(f);
    } else if (r.status !== 'need_more' || f.quic.datagrams >= MAX_QUIC_DATAGRAMS) {
      this.st.quic_failed++;
      this.endInspection(f);
    }
  }

  /** Emits the flow's single connection observation. */
  private report(f: Flow): void {
    if (f.inReportList) this.repRemove(f);
    if (f.reported) return;
    f.reported = true;
    this.st.flows_reported++;
    const names: NameEvidence[] = [];
    if (f.sni) names.push({ name: f.sni, evidence: f.app === 'quic' ? 'quic.sni' : 'tls.sni' });
    if (f.host) names.push({ name: f.host, evidence: 'http.host' });
    if (f.targetHost) names.push({ name: f.targetHost, evidence: 'http.target' });
    if (f.connectHost) names.push({ name: f.connectHost, evidence: 'http.connect' });
    const tcp = f.proto === 6;
    const s = f.seen;
    const state = !tcp ? 'udp'
      : (s & SEEN_RST) !== 0 ? 'rst'
        : (s & SEEN_FIN) !== 0 ? 'fin'
          : (s & SEEN_SYNACK) !== 0 || ((s & SEEN_SYN) === 0 && f.pktsBA > 0) ? 'established'
            : (s & SEEN_SYN) !== 0 ? 'syn' : 'established';
    const first = unixNano(f.firstSec, f.firstNsec);
    const obs: Observation = {
      type: 'observation',
      kind: 'connection',
      timeUnixNano: first,
      receiver: this.o.receiverId,
      transport: tcp ? 'tcp' : 'udp',
      networkType: f.version === 4 ? 'ipv4' : 'ipv6',
      source: this.endpointA(f),
      destination: this.endpointB(f),
      names,
      flow: {
        packetsSent: f.pktsAB,
        bytesSent: f.bytesAB,
        packetsReceived: f.pktsBA,
        bytesReceived: f.bytesBA,
        firstSeenUnixNano: first,
        lastSeenUnixNano: unixNano(f.lastSec, f.lastNsec),
        state,
      },
      attributes: {},
    };
    if (f.app === 'quic') obs.attributes[ATTR.NETWORK_PROTOCOL_NAME] = 'quic';
    else if (f.app === 'http') obs.attributes[ATTR.NETWORK_PROTOCOL_NAME] = 'http';
    if (f.method) obs.http = f.target !== undefined ? { method: f.method, target: f.target } : { method: f.method };
    if (f.app === 'tls' || f.app === 'quic') obs.tls = f.alpn && f.alpn.length > 0 ? { ech: f.ech, alpn: f.alpn } : { ech: f.ech };
    if (f.process) obs.process = f.process;
    this.st.observations++;
    this.emit(obs);
  }

  private dnsUdp(data: Buffer, tsSec: number, tsNsec: number): void {
    const l4 = this.l4;
    if (l4.payloadLen === 0) { this.error('dns_empty'); return; }
    this.dnsMessage(data, l4.payloadOff, l4.payloadLen, 'udp', tsSec, tsNsec, undefined);
  }

  /** Parses one DNS message and emits its observation; endpoints come from the current packet. */
  /** True when the question, an answer's owner or a CNAME / HTTPS target passes the name interest. */
  private dnsWanted(info: DnsInfo): boolean {
    const want = this.nameInterest!;
    if (info.query && want(info.query)) return true;
    for (const a of info.answers) {
      if (a.name !== info.query && want(a.name)) return true;
      if ((a.type === 'CNAME' || a.type === 'HTTPS' || a.type === 'SVCB') && a.data && a.data !== '.' && want(a.data)) return true;
    }
    return false;
  }

  private dnsMessage(buf: Buffer, off: number, len: number, transport: 'udp' | 'tcp', tsSec: number, tsNsec: number, flow: Flow | undefined): void {
    const r = parseDns(buf, off, len, transport);
    if (!r.ok) {
      this.st.dns_malformed++;
      this.error(r.reason);
      return;
    }
    this.st.dns_messages++;
    const info = r.info;
    if (this.nameInterest !== undefined && !this.dnsWanted(info)) {
      this.st.dns_skipped_uninteresting++;
      return;
    }
    const ip = this.ip;
    const l4 = this.l4;
    let client: Endpoint;
    let server: Endpoint;
    if (flow) {
      client = this.endpointA(flow);
      server = this.endpointB(flow);
    } else {
      const src = { address: this.addr(ip.version, ip.s0, ip.s1, ip.s2, ip.s3), port: l4.srcPort };
      const dst = { address: this.addr(ip.version, ip.d0, ip.d1, ip.d2, ip.d3), port: l4.dstPort };
      // A response travels server -> client: the client is the packet's destination.
      if (info.response) { client = dst; server = src; } else { client = src; server = dst; }
    }
    // A literal (not observation()): this runs once per DNS packet, the spread there costs measurably.
    const obs: Observation = {
      type: 'observation',
      kind: 'dns',
      timeUnixNano: unixNano(tsSec, tsNsec),
      receiver: this.o.receiverId,
      transport,
      networkType: ip.version === 4 ? 'ipv4' : 'ipv6',
      source: client,
      destination: server,
      names: info.query ? [{ name: info.query, evidence: info.response ? 'dns.answer' : 'dns.query' }] : [],
      dns: info,
      attributes: {},
    };
    if (this.onNewFlow && !info.response) {
      const p = this.onNewFlow({ transport, src: client, dst: server });
      if (p) obs.process = p;
    }
    this.st.observations++;
    this.emit(obs);
  }

  private dnsTcp(f: Flow, fromClient: boolean, data: Buffer, tsSec: number, tsNsec: number): void {
    const l4 = this.l4;
    let s = fromClient ? f.dnsAB : f.dnsBA;
    if (s === null) {
      s = new DnsTcpStream(Math.max(this.o.maxReassemblyBytes, 512));
      if (fromClient) f.dnsAB = s; else f.dnsBA = s;
    }
    this.dnsCtxFlow = f;
    this.dnsCtxSec = tsSec;
    this.dnsCtxNsec = tsNsec;
    const n = s.push(l4.seq, data, l4.payloadOff, l4.payloadLen, this.onDnsTcpMessage);
    this.dnsCtxFlow = null;
    if (n === DNS_TCP_RESET) this.st.dns_tcp_resync++;
    // A partial DNS message held between segments counts against the reassembly budget like a first flight
    // (maxReassemblyFlows): a flood of connections announcing 65535-byte messages evicts the oldest partial
    // messages instead of holding them all (regression test: "regression: DNS-over-TCP partial messages are
    // bounded by the reassembly caps").
    if ((f.dnsAB?.pendingBytes ?? 0) + (f.dnsBA?.pendingBytes ?? 0) > 0) this.bufAdd(f);
    else if (f.inBufferList) this.dropBuffer(f);
  }
}
