/**
 * An Observation is one meaningful network fact produced by a receiver: a DNS question or answer, a
 * TLS/QUIC ClientHello server name, an HTTP Host or CONNECT authority, a flow with its byte counts, a
 * Hubble flow or a Falco alert. It says who (source), where (destination and names), when, and which
 * evidence. Observations flow through processors; the classifier turns matching ones into Detections.
 */
import type { Attributes } from './attributes.js';

/** How a name was learned. These strings end up in `pastewatch.evidence`. */
export type Evidence =
  | 'dns.query'
  | 'dns.answer'
  | 'tls.sni'
  | 'quic.sni'
  | 'http.host'
  | 'http.connect'
  | 'http.target'
  | 'ip.correlated'
  | 'hubble.destination_names'
  | 'hubble.dns'
  | 'hubble.http'
  | 'falco.fd.sip.name';

/** A hostname seen in traffic, with how it was seen. Names are lower-case, no trailing dot. */
export interface NameEvidence {
  name: string;
  evidence: Evidence;
}

/** One side of a connection. */
export interface Endpoint {
  address: string;
  port: number;
}

/** A DNS resource record as decoded (A, AAAA, CNAME, HTTPS/SVCB ...). */
export interface DnsRecord {
  /** Owner name, lower-case without trailing dot. */
  name: string;
  /** Record type mnemonic: A, AAAA, CNAME, HTTPS, SVCB, or TYPEnn. */
  type: string;
  /** A/AAAA: the address; CNAME: the target name; HTTPS/SVCB: the target name ("." means owner). */
  data: string;
  ttl: number;
  /** HTTPS/SVCB ipv4hint/ipv6hint addresses, if any. */
  hints?: string[];
}

/** DNS details carried by a `dns` observation. */
export interface DnsInfo {
  id: number;
  /** true for a response. */
  response: boolean;
  rcode: number;
  /** Question name, lower-case, no trailing dot. */
  query: string;
  qtype: string;
  answers: DnsRecord[];
  /** Transport the message came over. */
  transport: 'udp' | 'tcp' | 'hubble';
}

/** Byte and packet counters for a flow, from the client's (source's) point of view. */
export interface FlowCounters {
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
  /** First and last packet times, unix nanoseconds. */
  firstSeenUnixNano: bigint;
  lastSeenUnixNano: bigint;
  /** TCP state summary (syn, established, fin, rst) or 'udp'. */
  state: string;
}

/** Process context (from /proc, Falco, or another source). */
export interface ProcessInfo {
  pid?: number;
  ppid?: number;
  executableName?: string;
  executablePath?: string;
  /** Already redacted. */
  commandLine?: string;
  user?: string;
  uid?: number;
  containerId?: string;
  /** Ancestors, nearest first: "pid:name". */
  ancestry?: string[];
}

/** The kind of fact an Observation records. */
export type ObservationKind = 'dns' | 'connection' | 'hubble' | 'falco';

/** One network fact from a receiver. */
export interface Observation {
  type: 'observation';
  kind: ObservationKind;
  /** When it happened (packet/flow/alert time), unix nanoseconds. */
  timeUnixNano: bigint;
  /** The receiver id that produced it (`pcap_file`, `hubble/relay` ...). */
  receiver: string;
  /** 'tcp' | 'udp' | 'quic' ... as in network.transport. */
  transport?: string;
  /** 'ipv4' | 'ipv6'. */
  networkType?: 'ipv4' | 'ipv6';
  /** The workload side that initiated. */
  source?: Endpoint;
  /** The remote side. */
  destination?: Endpoint;
  /** Names seen for the destination, with evidence. May be empty (the DNS correlation may add some). */
  names: NameEvidence[];
  /** DNS message details (kind 'dns'). */
  dns?: DnsInfo;
  /** Flow counters (kind 'connection'), when known. */
  flow?: FlowCounters;
  /** HTTP request facts seen in the first flight. */
  http?: { method: string; target?: string };
  /** TLS facts: the ClientHello carried encrypted_client_hello (the SNI is then the outer name). */
  tls?: { ech: boolean; alpn?: string[] };
  process?: ProcessInfo;
  /** Egress was blocked (a Hubble DROPPED verdict, for example). */
  blocked?: boolean;
  /** Extra attributes from the receiver or enrichment (k8s.*, cicd.*, falco.*, hubble.*). */
  attributes: Attributes;
  /** The trace this activity belongs to (the CI pipeline's, from enrichment): detections become its children. */
  traceParent?: TraceParent;
}

/** W3C trace context of a parent span (from TRACEPARENT, a CI-derived root, or the CI gate's command span). */
export interface TraceParent {
  traceId: string;
  spanId: string;
  /** W3C trace flags (1 = sampled). Detections are exported whatever the flag says. */
  traceFlags: number;
  traceState?: string;
}

/** Builds an Observation with the required fields filled. */
export function observation(init: Omit<Observation, 'type' | 'names' | 'attributes'> & Partial<Pick<Observation, 'names' | 'attributes'>>): Observation {
  return { type: 'observation', names: [], attributes: {}, ...init };
}
