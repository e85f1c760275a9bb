/**
 * Hubble flow -> Observation mapping, shared by the `hubble` (gRPC) and `hubble_file` (jsonpb) receivers.
 * Pure apart from the bounded recent-connections table passed in, which collapses the several flows one
 * connection yields (from-endpoint, to-stack, policy verdict, replies) into one observation.
 */
import { ATTR } from '../model/attributes.js';
import type { Attributes } from '../model/attributes.js';
import type { DnsRecord, NameEvidence, Observation } from '../model/observation.js';
import type { HubbleEndpoint, HubbleFlow } from './types.js';

/** Attribute keys this mapping writes in our namespace (pastewatch.hubble.*). */
export const HUBBLE_ATTR = {
  SOURCE_LABELS: 'pastewatch.hubble.source.labels',
  SOURCE_IDENTITY: 'pastewatch.hubble.source.identity',
  SOURCE_WORKLOAD_KIND: 'pastewatch.hubble.source.workload.kind',
  DESTINATION_LABELS: 'pastewatch.hubble.destination.labels',
  DESTINATION_IDENTITY: 'pastewatch.hubble.destination.identity',
  DESTINATION_NAMESPACE: 'pastewatch.hubble.destination.namespace',
  DESTINATION_POD: 'pastewatch.hubble.destination.pod_name',
  DESTINATION_WORKLOAD: 'pastewatch.hubble.destination.workload',
  DESTINATION_CLUSTER: 'pastewatch.hubble.destination.cluster_name',
  /** true when the destination is outside the cluster (reserved:world, identity 2/9/10). */
  DESTINATION_WORLD: 'pastewatch.hubble.destination.world',
  /** toFQDNs selectors that matched the destination (`fqdn:` labels), without the prefix. */
  DESTINATION_FQDN_SELECTORS: 'pastewatch.hubble.destination.fqdn_selectors',
  VERDICT: 'pastewatch.hubble.verdict',
  TYPE: 'pastewatch.hubble.type',
  L7_TYPE: 'pastewatch.hubble.l7.type',
  TRAFFIC_DIRECTION: 'pastewatch.hubble.traffic_direction',
  TRACE_OBSERVATION_POINT: 'pastewatch.hubble.trace_observation_point',
  TRACE_REASON: 'pastewatch.hubble.trace_reason',
  UUID: 'pastewatch.hubble.uuid',
  DNS_RCODE: 'pastewatch.hubble.dns.rcode',
  HTTP_CODE: 'pastewatch.hubble.http.code',
} as const;

/** Why a flow produced no observation (counted by the receivers as dropped{reason}). */
export type HubbleSkipReason =
  | 'reply' // a reply-direction flow (is_reply, trace_reason REPLY, SYN+ACK) or an L7 response other than DNS
  | 'connection_duplicate' // another flow of a connection already observed
  | 'no_l3_l4' // no IP or no layer 4 (e.g. a SOCK trace without addresses)
  | 'unsupported_protocol' // ICMP and other non-port protocols: not egress to a service
  | 'l7_other' // an L7 record we do not read (Kafka ...)
  | 'dns_no_query';

/** Options of the recent-connections table. */
export interface RecentConnectionsOptions {
  /** Most 5-tuples held; the least recently seen go first. */
  maxEntries: number;
  /** A 5-tuple not seen for this long (flow time) counts as a new connection. */
  idleTimeoutMs: number;
  /** Called with the number of entries evicted for size. */
  onEvict?: (n: number) => void;
}

/** One remembered connection: its 5-tuple (compared field by field) and state. */
interface ConnEntry {
  proto: string;
  sa: string;
  sp: number;
  da: string;
  dp: number;
  lastSeen: bigint;
  /** FIN or RST seen: a later SYN on the same 5-tuple is a new connection. */
  closed: boolean;
}

/** Folds a string's UTF-16 code units into a 32-bit hash (FNV-1a step per unit). */
function hashStr(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** A 5-tuple's hash, never 0 (0 marks an empty slot). */
function tupleHash(proto: string, sa: string, sp: number, da: string, dp: number): number {
  let h = hashStr(0x811c9dc5 ^ proto.length, sa);
  h = Math.imul(h ^ sp, 0x01000193);
  h = hashStr(h, da);
  h = Math.imul(h ^ (dp + (proto.charCodeAt(0) << 16)), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h === 0 ? 1 : h;
}

/**
 * One generation of RecentConnections: an open-addressing table (linear probing, load <= 1/2) of tuple
 * hashes in a typed array with the entries beside them. A removed entry leaves a tombstone (hash kept,
 * entry undefined) so probes go past it. Replaces a Map keyed on a concatenated `proto|sa|sp|da|dp`
 * string: no key string per flow, no Map growth, and exact (fields compared, not a joined text).
 */
class ConnTable {
  hashes = new Int32Array(256);
  entries: (ConnEntry | undefined)[] = new Array<ConnEntry | undefined>(256).fill(undefined);
  /** Live entries. */
  size = 0;
  /** Live entries plus tombstones (what probing sees). */
  private used = 0;

  /** The slot of the tuple, or -1. */
  find(h: number, proto: string, sa: string, sp: number, da: string, dp: number): number {
    const hashes = this.hashes;
    const mask = hashes.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const x = hashes[i];
      if (x === 0) return -1;
      if (x === h) {
        const e = this.entries[i];
        if (e !== undefined && e.sp === sp && e.dp === dp && e.sa === sa && e.da === da && e.proto === proto) return i;
      }
    }
  }

  /** Inserts an entry whose tuple is known to be absent. */
  insert(h: number, e: ConnEntry): void {
    if ((this.used + 1) * 2 > this.hashes.length) this.rehash();
    const hashes = this.hashes;
    const mask = hashes.length - 1;
    let i = h & mask;
    while (hashes[i] !== 0) i = (i + 1) & mask;
    hashes[i] = h;
    this.entries[i] = e;
    this.size++;
    this.used++;
  }

  /** Removes the entry at a slot (leaving a tombstone) and returns it. */
  removeAt(i: number): ConnEntry {
    const e = this.entries[i]!;
    this.entries[i] = undefined;
    this.size--;
    return e;
  }

  /** Rebuilds without tombstones, doubling when more than a quarter full of live entries. */
  private rehash(): void {
    const { hashes, entries } = this;
    const cap = (this.size + 1) * 4 > hashes.length ? hashes.length * 2 : hashes.length;
    this.hashes = new Int32Array(cap);
    this.entries = new Array<ConnEntry | undefined>(cap).fill(undefined);
    this.size = 0;
    this.used = 0;
    for (let i = 0; i < hashes.length; i++) {
      const e = entries[i];
      if (e !== undefined) this.insert(hashes[i], e);
    }
  }

  clear(): void {
    if (this.used === 0) return;
    this.hashes.fill(0);
    this.entries.fill(undefined);
    this.size = 0;
    this.used = 0;
  }
}

/**
 * A bounded table of recently observed connections (5-tuples), aged in flow time. It is an approximate
 * LRU in two generations: lookups hit the current generation or promote from the previous one; when the
 * current one reaches half the capacity the previous generation is dropped (counted as evicted). O(1) per
 * flow, unlike deleting the oldest Map entry, which V8 makes slow after many deletions.
 */
export class RecentConnections {
  private cur = new ConnTable();
  private old = new ConnTable();
  private readonly idleNs: bigint;
  private readonly half: number;

  constructor(private readonly opts: RecentConnectionsOptions) {
    this.idleNs = BigInt(opts.idleTimeoutMs) * 1_000_000n;
    this.half = Math.max(1, Math.ceil(opts.maxEntries / 2));
  }

  /** Number of connections held. */
  get size(): number {
    return this.cur.size + this.old.size;
  }

  private get(h: number, proto: string, sa: string, sp: number, da: string, dp: number): ConnEntry | undefined {
    const i = this.cur.find(h, proto, sa, sp, da, dp);
    if (i >= 0) return this.cur.entries[i];
    const j = this.old.find(h, proto, sa, sp, da, dp);
    if (j < 0) return undefined;
    const o = this.old.removeAt(j);
    this.insert(h, o);
    return o;
  }

  private insert(h: number, e: ConnEntry): void {
    this.cur.insert(h, e);
    if (this.cur.size >= this.half) {
      if (this.old.size > 0) this.opts.onEvict?.(this.old.size);
      const dropped = this.old;
      this.old = this.cur;
      dropped.clear();
      this.cur = dropped;
    }
  }

  /**
   * Records a flow of the 5-tuple at `at`; returns true when it starts a new connection (unknown, idle past
   * the timeout, or a fresh SYN after FIN/RST), false when it belongs to one already observed.
   */
  observe(proto: string, sa: string, sp: number, da: string, dp: number, at: bigint, syn: boolean, closing: boolean): boolean {
    const h = tupleHash(proto, sa, sp, da, dp);
    const e = this.get(h, proto, sa, sp, da, dp);
    if (!e) {
      this.insert(h, { proto, sa, sp, da, dp, lastSeen: at, closed: closing });
      return true;
    }
    const fresh = at - e.lastSeen > this.idleNs || (e.closed && syn);
    e.closed = fresh ? closing : closing || e.closed;
    if (at > e.lastSeen) e.lastSeen = at;
    return fresh;
  }

  /** Refreshes a known connection (a reply flow keeps it alive, FIN/RST marks it closed); unknown tuples are ignored. */
  touch(proto: string, sa: string, sp: number, da: string, dp: number, at: bigint, closing: boolean): void {
    const e = this.get(tupleHash(proto, sa, sp, da, dp), proto, sa, sp, da, dp);
    if (!e) return;
    if (at > e.lastSeen) e.lastSeen = at;
    if (closing) e.closed = true;
  }

  /** Forgets everything. */
  clear(): void {
    this.cur.clear();
    this.old.clear();
  }
}

/** What mapFlow needs besides the flow. */
export interface MapContext {
  /** Receiver id written into each observation (`hubble`, `hubble_file/export` ...). */
  receiver: string;
  /** The recent-connections table (one per receiver instance). */
  connections: RecentConnections;
  /** Time used when the flow carries none (the response time, or now), unix nanoseconds. */
  fallbackTimeUnixNano?: bigint;
}

/** The observations a flow yields (zero, or one), or why it yields none. */
export type MapResult = { observations: Observation[]; skipped?: undefined } | { observations: []; skipped: HubbleSkipReason };

const NONE = (skipped: HubbleSkipReason): MapResult => ({ observations: [], skipped });

/** A DNS name as pastewatch keeps names: lower-case, no trailing dot. */
export function normalName(name: string): string {
  const n = name.trim().toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

const WORKLOAD_KIND_RE = /[^a-z0-9]/g;
const WORLD_LABELS = new Set(['reserved:world', 'reserved:world-ipv4', 'reserved:world-ipv6']);
const WORLD_IDENTITIES = new Set([2, 9, 10]);

/** Attributes describing the workload side (the pod that initiated). */
function sourceAttributes(attrs: Attributes, ep: HubbleEndpoint | undefined): void {
  if (!ep) return;
  if (ep.namespace) attrs[ATTR.K8S_NAMESPACE_NAME] = ep.namespace;
  if (ep.podName) attrs[ATTR.K8S_POD_NAME] = ep.podName;
  if (ep.clusterName) attrs[ATTR.K8S_CLUSTER_NAME] = ep.clusterName;
  if (ep.labels.length) attrs[HUBBLE_ATTR.SOURCE_LABELS] = ep.labels;
  if (ep.identity !== undefined) attrs[HUBBLE_ATTR.SOURCE_IDENTITY] = ep.identity;
  const w = ep.workloads[0];
  if (w && w.name) {
    const kind = w.kind.toLowerCase().replace(WORKLOAD_KIND_RE, '');
    // k8s.deployment.name, k8s.statefulset.name, k8s.daemonset.name, k8s.job.name, k8s.cronjob.name ...
    if (kind) {
      attrs[`k8s.${kind}.name`] = w.name;
      attrs[HUBBLE_ATTR.SOURCE_WORKLOAD_KIND] = w.kind;
    }
  }
}

/** Attributes describing the remote side. */
function destinationAttributes(attrs: Attributes, ep: HubbleEndpoint | undefined): void {
  if (!ep) return;
  if (ep.identity !== undefined) attrs[HUBBLE_ATTR.DESTINATION_IDENTITY] = ep.identity;
  if (ep.labels.length) attrs[HUBBLE_ATTR.DESTINATION_LABELS] = ep.labels;
  if (ep.namespace) attrs[HUBBLE_ATTR.DESTINATION_NAMESPACE] = ep.namespace;
  if (ep.podName) attrs[HUBBLE_ATTR.DESTINATION_POD] = ep.podName;
  if (ep.clusterName) attrs[HUBBLE_ATTR.DESTINATION_CLUSTER] = ep.clusterName;
  if (ep.workloads[0]?.name) attrs[HUBBLE_ATTR.DESTINATION_WORKLOAD] = ep.workloads[0].name;
  const fqdns: string[] = [];
  let world = ep.identity !== undefined && WORLD_IDENTITIES.has(ep.identity);
  for (const l of ep.labels) {
    if (WORLD_LABELS.has(l)) world = true;
    else if (l.startsWith('fqdn:')) fqdns.push(l.slice(5));
  }
  if (world) attrs[HUBBLE_ATTR.DESTINATION_WORLD] = true;
  if (fqdns.length) attrs[HUBBLE_ATTR.DESTINATION_FQDN_SELECTORS] = fqdns;
}

/** Flow-level attributes (verdict, observation point, uuid ...) and the node. */
function flowAttributes(attrs: Attributes, flow: HubbleFlow): void {
  if (flow.nodeName) attrs[ATTR.K8S_NODE_NAME] = flow.nodeName;
  if (flow.verdict) attrs[HUBBLE_ATTR.VERDICT] = flow.verdict;
  if (flow.type) attrs[HUBBLE_ATTR.TYPE] = flow.type;
  if (flow.trafficDirection) attrs[HUBBLE_ATTR.TRAFFIC_DIRECTION] = flow.trafficDirection;
  if (flow.traceObservationPoint) attrs[HUBBLE_ATTR.TRACE_OBSERVATION_POINT] = flow.traceObservationPoint;
  if (flow.traceReason) attrs[HUBBLE_ATTR.TRACE_REASON] = flow.traceReason;
  if (flow.uuid) attrs[HUBBLE_ATTR.UUID] = flow.uuid;
  if (flow.l7) attrs[HUBBLE_ATTR.L7_TYPE] = flow.l7.type;
}

/** The egress was refused by policy: a DROPPED verdict on a flow not marked ingress. */
function isBlocked(flow: HubbleFlow): boolean {
  return flow.verdict === 'DROPPED' && flow.trafficDirection !== 'INGRESS';
}

function transportOf(flow: HubbleFlow): string | undefined {
  const p = flow.l4?.protocol;
  return p === 'tcp' || p === 'udp' || p === 'sctp' ? p : undefined;
}

function timeOf(flow: HubbleFlow, ctx: MapContext): bigint {
  return flow.timeUnixNano !== 0n ? flow.timeUnixNano : (ctx.fallbackTimeUnixNano ?? 0n);
}

function pushNames(out: NameEvidence[], names: string[], evidence: NameEvidence['evidence']): void {
  for (const raw of names) {
    const name = normalName(raw);
    if (name !== '' && !out.some((n) => n.name === name)) out.push({ name, evidence });
  }
}

const IPV4_RE = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** The host a request named: the URL's host, else the Host / :authority header; never an IP literal. */
export function httpHost(url: string, headers: { key: string; value: string }[]): string | undefined {
  let host: string | undefined;
  if (url) {
    try {
      host = new URL(url).hostname;
    } catch {
      host = undefined;
    }
  }
  if (!host) {
    const h = headers.find((x) => x.key.toLowerCase() === 'host' || x.key === ':authority');
    if (h) host = h.value.trim().replace(/:\d+$/, '');
  }
  if (!host) return undefined;
  host = normalName(host);
  if (host === '' || host.startsWith('[') || host.includes(':') || IPV4_RE.test(host)) return undefined;
  return host;
}

function pathOf(url: string): string | undefined {
  try {
    return new URL(url).pathname;
  } catch {
    return url.startsWith('/') ? url.split('?')[0] : undefined;
  }
}

function mapDns(flow: HubbleFlow, ctx: MapContext): MapResult {
  const d = flow.l7!.dns!;
  const query = normalName(d.query);
  if (query === '') return NONE('dns_no_query');
  const response = flow.l7!.type === 'RESPONSE';
  // Hubble's DNS response has the DNS server as `source`: swap back so the pod is the observation's source.
  const podEp = response ? flow.destination : flow.source;
  const serverEp = response ? flow.source : flow.destination;
  const ip = flow.ip;
  const l4 = flow.l4;
  const podAddr = ip ? (response ? ip.destination : ip.source) : '';
  const serverAddr = ip ? (response ? ip.source : ip.destination) : '';
  const podPort = l4 ? (response ? l4.destinationPort : l4.sourcePort) : 0;
  const serverPort = l4 ? (response ? l4.sourcePort : l4.destinationPort) : 0;

  const answers: DnsRecord[] = [];
  let owner = query;
  if (response) {
    // Hubble lists CNAME targets in chain order; the addresses belong to the end of the chain.
    for (const c of d.cnames) {
      const target = normalName(c);
      if (target === '' || target === owner) continue;
      answers.push({ name: owner, type: 'CNAME', data: target, ttl: d.ttl });
      owner = target;
    }
    for (const a of d.ips) answers.push({ name: owner, type: a.includes(':') ? 'AAAA' : 'A', data: a, ttl: d.ttl });
  }
  const names: NameEvidence[] = [{ name: query, evidence: response ? 'hubble.dns' : 'dns.query' }];
  if (response) pushNames(names, d.cnames, 'dns.answer');

  const attributes: Attributes = {};
  sourceAttributes(attributes, podEp);
  destinationAttributes(attributes, serverEp);
  flowAttributes(attributes, flow);
  if (response) attributes[HUBBLE_ATTR.DNS_RCODE] = d.rcode;

  const obs: Observation = {
    type: 'observation',
    names,
    attributes,
    kind: 'dns',
    timeUnixNano: timeOf(flow, ctx),
    receiver: ctx.receiver,
    transport: transportOf(flow),
    networkType: ip?.version,
    source: podAddr ? { address: podAddr, port: podPort } : undefined,
    destination: serverAddr ? { address: serverAddr, port: serverPort } : undefined,
    dns: {
      id: 0,
      response,
      rcode: d.rcode,
      query,
      qtype: d.qtypes[0] ?? (d.ips.length > 0 && d.ips.every((a) => a.includes(':')) ? 'AAAA' : 'A'),
      answers,
      transport: 'hubble',
    },
  };
  if (isBlocked(flow)) obs.blocked = true;
  return { observations: [obs] };
}

function mapHttp(flow: HubbleFlow, ctx: MapContext): MapResult {
  const h = flow.l7!.http!;
  // Responses repeat what the request said, with the endpoints swapped: the request is enough.
  if (flow.l7!.type === 'RESPONSE') return NONE('reply');
  const names: NameEvidence[] = [];
  const host = httpHost(h.url, h.headers);
  if (host) names.push({ name: host, evidence: 'hubble.http' });
  pushNames(names, flow.destinationNames, 'hubble.destination_names');
  const attributes: Attributes = {};
  sourceAttributes(attributes, flow.source);
  destinationAttributes(attributes, flow.destination);
  flowAttributes(attributes, flow);
  if (h.code) attributes[HUBBLE_ATTR.HTTP_CODE] = h.code;
  if (h.method) attributes[ATTR.HTTP_REQUEST_METHOD] = h.method;
  const ip = flow.ip;
  const l4 = flow.l4;
  const obs: Observation = {
    type: 'observation',
    names,
    attributes,
    kind: 'hubble',
    timeUnixNano: timeOf(flow, ctx),
    receiver: ctx.receiver,
    transport: transportOf(flow),
    networkType: ip?.version,
    source: ip?.source ? { address: ip.source, port: l4?.sourcePort ?? 0 } : undefined,
    destination: ip?.destination ? { address: ip.destination, port: l4?.destinationPort ?? 0 } : undefined,
    http: { method: h.method || 'GET', target: pathOf(h.url) },
  };
  if (isBlocked(flow)) obs.blocked = true;
  return { observations: [obs] };
}

/**
 * Maps one normalised Hubble flow to zero or one Observation:
 * - L7 DNS request/response -> a `dns` observation (responses swapped so the pod is the source, answers
 *   rebuilt as CNAME chain + A/AAAA records with the flow's TTL, transport `hubble`);
 * - L7 HTTP request -> a `hubble` observation naming the URL/Host host (evidence `hubble.http`);
 * - L3/L4 TCP/UDP/SCTP -> one `hubble` observation per connection: the first non-reply flow of an unknown
 *   (or idle, or closed-then-SYN) 5-tuple; replies and the connection's other flows are skipped.
 * A DROPPED verdict that is not ingress sets `blocked`.
 */
export function mapFlow(flow: HubbleFlow, ctx: MapContext): MapResult {
  if (flow.l7) {
    if (flow.l7.dns) return mapDns(flow, ctx);
    if (flow.l7.http) return mapHttp(flow, ctx);
    return NONE('l7_other');
  }
  const ip = flow.ip;
  const l4 = flow.l4;
  if (!ip || !l4 || !ip.source || !ip.destination) return NONE('no_l3_l4');
  const transport = transportOf(flow);
  if (!transport) return NONE('unsupported_protocol');
  const at = timeOf(flow, ctx);
  const flags = l4.flags;
  const syn = flags?.has('SYN') ?? false;
  const ack = flags?.has('ACK') ?? false;
  const closing = (flags?.has('FIN') ?? false) || (flags?.has('RST') ?? false);
  const reply = flow.isReply === true || flow.traceReason === 'REPLY' || (syn && ack);
  if (reply) {
    // A reply alone never makes an observation; it keeps its connection (the reversed tuple) alive.
    ctx.connections.touch(transport, ip.destination, l4.destinationPort, ip.source, l4.sourcePort, at, closing);
    return NONE('reply');
  }
  const newConnection = (syn && !ack) || flow.traceReason === 'NEW';
  if (!ctx.connections.observe(transport, ip.source, l4.sourcePort, ip.destination, l4.destinationPort, at, newConnection, closing)) return NONE('connection_duplicate');

  const names: NameEvidence[] = [];
  pushNames(names, flow.destinationNames, 'hubble.destination_names');
  const attributes: Attributes = {};
  sourceAttributes(attributes, flow.source);
  destinationAttributes(attributes, flow.destination);
  flowAttributes(attributes, flow);
  const obs: Observation = {
    type: 'observation',
    names,
    attributes,
    kind: 'hubble',
    timeUnixNano: at,
    receiver: ctx.receiver,
    transport,
    networkType: ip.version,
    source: { address: ip.source, port: l4.sourcePort },
    destination: { address: ip.destination, port: l4.destinationPort },
  };
  if (isBlocked(flow)) obs.blocked = true;
  return { observations: [obs] };
}
