/**
 * Per-flow state of the packet engine. A plain class with fixed fields (one hidden class, no per-packet
 * allocation); flows are linked into the hash chain, the activity (LRU) list, the unreported list and the
 * reassembly-buffer list by intrusive pointers so every list operation is O(1).
 */
import type { ProcessInfo } from '../model/observation.js';
import type { DnsTcpStream } from '../decode/dns.js';
import type { QuicHelloAssembler } from '../decode/quic-initial.js';

/** One buffered TCP segment of the client's first flight (a copy: capture buffers are reused). */
export interface Segment {
  seq: number;
  data: Buffer;
}

/** Inspection phase: still looking at the client's first flight. */
export const INSPECT_PENDING = 0;
/** Inspection finished (parsed, not recognised, or given up): bulk packets only update counters. */
export const INSPECT_DONE = 1;

/** TCP flags seen on a flow (bit set). */
export const SEEN_SYN = 1;
/** A SYN+ACK was seen. */
export const SEEN_SYNACK = 2;
/** A FIN was seen. */
export const SEEN_FIN = 4;
/** A RST was seen. */
export const SEEN_RST = 8;
/** Payload was seen from the responder. */
export const SEEN_SERVER_DATA = 16;

/** A tracked TCP/UDP conversation, oriented initiator (a) -> responder (b). */
export class Flow {
  /** Symmetric 5-tuple hash (the table key). */
  key = 0;
  /** Next flow with the same key (collision chain). */
  chain: Flow | null = null;
  lruPrev: Flow | null = null;
  lruNext: Flow | null = null;
  repPrev: Flow | null = null;
  repNext: Flow | null = null;
  bufPrev: Flow | null = null;
  bufNext: Flow | null = null;
  inReportList = false;
  inBufferList = false;

  version = 4;
  /** 6 TCP, 17 UDP. */
  proto = 0;
  a0 = 0; a1 = 0; a2 = 0; a3 = 0; aPort = 0;
  b0 = 0; b1 = 0; b2 = 0; b3 = 0; bPort = 0;

  firstMs = 0;
  lastMs = 0;
  firstSec = 0; firstNsec = 0;
  lastSec = 0; lastNsec = 0;
  pktsAB = 0; bytesAB = 0; pktsBA = 0; bytesBA = 0;
  seen = 0;
  reported = false;
  /** DNS over TCP: messages become dns observations; no connection observation. */
  isDns = false;
  inspect = INSPECT_PENDING;

  /** Client first-flight reassembly: base sequence number (-1 unknown), whether it came from the SYN. */
  base = -1;
  baseFromSyn = false;
  segs: Segment[] | null = null;
  segBytes = 0;
  quic: QuicHelloAssembler | null = null;
  dnsAB: DnsTcpStream | null = null;
  dnsBA: DnsTcpStream | null = null;

  /** Application protocol recognised in the first flight: 'tls', 'http', 'quic' or ''. */
  app = '';
  sni: string | undefined = undefined;
  ech = false;
  alpn: string[] | undefined = undefined;
  host: string | undefined = undefined;
  method: string | undefined = undefined;
  target: string | undefined = undefined;
  targetHost: string | undefined = undefined;
  connectHost: string | undefined = undefined;
  /** A CONNECT was seen: inspection restarted on the tunnelled bytes. */
  tunnel = false;
  process: ProcessInfo | undefined = undefined;

  /** Resets every field so a flow object can be reused after eviction/expiry. */
  reset(): void {
    this.chain = this.lruPrev = this.lruNext = this.repPrev = this.repNext = this.bufPrev = this.bufNext = null;
    this.inReportList = this.inBufferList = false;
    this.pktsAB = this.bytesAB = this.pktsBA = this.bytesBA = 0;
    this.seen = 0;
    this.reported = false;
    this.isDns = false;
    this.inspect = INSPECT_PENDING;
    this.base = -1;
    this.baseFromSyn = false;
    this.segs = null;
    this.segBytes = 0;
    this.quic = null;
    this.dnsAB = this.dnsBA = null;
    this.app = '';
    this.sni = this.alpn = this.host = this.method = this.target = this.targetHost = this.connectHost = undefined;
    this.ech = false;
    this.tunnel = false;
    this.process = undefined;
  }
}
