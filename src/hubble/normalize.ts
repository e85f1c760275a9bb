/**
 * Turns a GetFlowsResponse in either form into a HubbleEvent: the object proto-loader decodes from gRPC
 * (timestamps as {seconds, nanos}, wrappers as {value}) or a parsed protojson line (timestamps as RFC 3339
 * text, wrappers as bare values). Both use proto field names, enum names and 64-bit integers as strings.
 * Pure; throws nothing: a shape it cannot use comes back as a reason string.
 */
import { parseRfc3339Nano } from '../model/time.js';
import type { HubbleDns, HubbleEndpoint, HubbleEvent, HubbleFlow, HubbleHttp, HubbleL4, HubbleL7 } from './types.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A number from a JSON number, a decimal string (64-bit) or undefined. */
function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** An enum as its name; unknown numeric values (newer servers) become their decimal text. */
function enumName(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

const EMPTY: string[] = [];

/** The non-empty strings of an array; the array itself when all are (no copy on the hot path). */
function strings(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0) return EMPTY;
  let ok = true;
  for (const s of v) {
    if (typeof s !== 'string' || s === '') {
      ok = false;
      break;
    }
  }
  if (ok) return v as string[];
  const out: string[] = [];
  for (const s of v) if (typeof s === 'string' && s !== '') out.push(s);
  return out;
}

// One-entry caches: a stream's flows share the same second, so the costly date parse runs once a second.
let lastSecText = '';
let lastSecNano = 0n;
let lastSecondsStr = '';
let lastSecondsNano = 0n;

/** RFC 3339 with a fractional part and `Z` (the form Hubble prints), fast path; undefined if not that form. */
function fastRfc3339(text: string): bigint | undefined {
  const n = text.length;
  if (n < 21 || n > 30 || text.charCodeAt(19) !== 46 /* . */ || text.charCodeAt(n - 1) !== 90 /* Z */) return undefined;
  const head = text.slice(0, 19);
  if (head !== lastSecText) {
    const base = parseRfc3339Nano(`${head}Z`);
    if (base === undefined) return undefined;
    lastSecText = head;
    lastSecNano = base;
  }
  const frac = text.slice(20, n - 1);
  if (!/^\d{1,9}$/.test(frac)) return undefined;
  return lastSecNano + BigInt(Number(frac) * 10 ** (9 - frac.length));
}

/** Timestamp in either form: RFC 3339 text, or {seconds, nanos} with seconds as string or number. */
export function timestampNano(v: unknown): bigint | undefined {
  if (typeof v === 'string') return fastRfc3339(v) ?? parseRfc3339Nano(v);
  if (isObj(v)) {
    const s = v.seconds;
    const n = num(v.nanos) ?? 0;
    if (typeof s === 'string' && s !== '') {
      if (s !== lastSecondsStr) {
        if (!/^-?\d{1,19}$/.test(s)) return undefined;
        lastSecondsNano = BigInt(s) * 1_000_000_000n;
        lastSecondsStr = s;
      }
      return lastSecondsNano + BigInt(Math.trunc(n));
    }
    const secs = typeof s === 'number' && Number.isFinite(s) ? BigInt(Math.trunc(s)) : 0n;
    return secs * 1_000_000_000n + BigInt(Math.trunc(n));
  }
  return undefined;
}

/** google.protobuf.BoolValue in either form; an empty wrapper object means false. */
function wrappedBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (isObj(v)) return v.value === true;
  return undefined;
}

function wrappedNum(v: unknown): number | undefined {
  if (isObj(v)) return num(v.value) ?? 0;
  return num(v);
}

function endpoint(v: unknown): HubbleEndpoint | undefined {
  if (!isObj(v)) return undefined;
  const workloads: { name: string; kind: string }[] = [];
  if (Array.isArray(v.workloads)) {
    for (const w of v.workloads) if (isObj(w) && typeof w.name === 'string') workloads.push({ name: w.name, kind: typeof w.kind === 'string' ? w.kind : '' });
  }
  return {
    id: num(v.ID),
    identity: num(v.identity),
    namespace: str(v.namespace),
    labels: strings(v.labels),
    podName: str(v.pod_name),
    workloads,
    clusterName: str(v.cluster_name),
  };
}

const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'] as const;

function layer4(v: unknown): HubbleL4 | undefined {
  if (!isObj(v)) return undefined;
  if (isObj(v.TCP)) {
    const t = v.TCP;
    const flags = new Set<string>();
    if (isObj(t.flags)) for (const f of TCP_FLAG_NAMES) if (t.flags[f] === true) flags.add(f);
    return { protocol: 'tcp', sourcePort: num(t.source_port) ?? 0, destinationPort: num(t.destination_port) ?? 0, flags };
  }
  if (isObj(v.UDP)) return { protocol: 'udp', sourcePort: num(v.UDP.source_port) ?? 0, destinationPort: num(v.UDP.destination_port) ?? 0 };
  if (isObj(v.SCTP)) return { protocol: 'sctp', sourcePort: num(v.SCTP.source_port) ?? 0, destinationPort: num(v.SCTP.destination_port) ?? 0 };
  if (isObj(v.ICMPv4)) return { protocol: 'icmpv4', sourcePort: 0, destinationPort: 0 };
  if (isObj(v.ICMPv6)) return { protocol: 'icmpv6', sourcePort: 0, destinationPort: 0 };
  return undefined;
}

function dns(v: unknown): HubbleDns | undefined {
  if (!isObj(v)) return undefined;
  return {
    query: typeof v.query === 'string' ? v.query : '',
    ips: strings(v.ips),
    ttl: num(v.ttl) ?? 0,
    cnames: strings(v.cnames),
    rcode: num(v.rcode) ?? 0,
    qtypes: strings(v.qtypes),
    rrtypes: strings(v.rrtypes),
    observationSource: str(v.observation_source),
  };
}

function http(v: unknown): HubbleHttp | undefined {
  if (!isObj(v)) return undefined;
  const headers: { key: string; value: string }[] = [];
  if (Array.isArray(v.headers)) for (const h of v.headers) if (isObj(h) && typeof h.key === 'string') headers.push({ key: h.key, value: typeof h.value === 'string' ? h.value : '' });
  return { code: num(v.code) ?? 0, method: typeof v.method === 'string' ? v.method : '', url: typeof v.url === 'string' ? v.url : '', protocol: str(v.protocol), headers };
}

function layer7(v: unknown): HubbleL7 | undefined {
  if (!isObj(v)) return undefined;
  return { type: enumName(v.type) ?? 'UNKNOWN_L7_TYPE', dns: dns(v.dns), http: http(v.http) };
}

/** Normalises a Flow message (either form). Returns undefined when it is not an object. */
export function normalizeFlow(v: unknown): HubbleFlow | undefined {
  if (!isObj(v)) return undefined;
  let ip: HubbleFlow['ip'];
  if (isObj(v.IP)) {
    const ver = v.IP.ipVersion;
    const source = typeof v.IP.source === 'string' ? v.IP.source : '';
    const destination = typeof v.IP.destination === 'string' ? v.IP.destination : '';
    const version = ver === 'IPv4' || ver === 1 ? 'ipv4' : ver === 'IPv6' || ver === 2 ? 'ipv6' : source.includes(':') ? 'ipv6' : source ? 'ipv4' : undefined;
    ip = { source, destination, version };
  }
  let eventType: HubbleFlow['eventType'];
  if (isObj(v.event_type)) eventType = { type: num(v.event_type.type) ?? 0, subType: num(v.event_type.sub_type) ?? 0 };
  return {
    timeUnixNano: timestampNano(v.time) ?? 0n,
    uuid: str(v.uuid),
    verdict: enumName(v.verdict),
    type: enumName(v.Type),
    nodeName: str(v.node_name),
    ip,
    l4: layer4(v.l4),
    source: endpoint(v.source),
    destination: endpoint(v.destination),
    sourceNames: strings(v.source_names),
    destinationNames: strings(v.destination_names),
    l7: layer7(v.l7),
    // The deprecated `reply` bool (16) is only a fallback when the is_reply wrapper is absent.
    isReply: wrappedBool(v.is_reply) ?? (typeof v.reply === 'boolean' ? v.reply : undefined),
    trafficDirection: enumName(v.traffic_direction),
    traceObservationPoint: enumName(v.trace_observation_point),
    traceReason: enumName(v.trace_reason),
    eventType,
  };
}

/** Why a response could not be normalised. */
export type NormalizeFailure = 'not_an_object' | 'invalid_flow' | 'unknown_record';

/**
 * Normalises a GetFlowsResponse (gRPC object or parsed jsonpb line) into a HubbleEvent, or a failure
 * reason. The response time falls back to the flow time and vice versa.
 */
export function normalizeResponse(v: unknown): HubbleEvent | NormalizeFailure {
  if (!isObj(v)) return 'not_an_object';
  const nodeName = str(v.node_name);
  if (v.flow !== undefined && v.flow !== null) {
    const flow = normalizeFlow(v.flow);
    if (!flow) return 'invalid_flow';
    // The wrapper's time is usually the flow's own (the same text in jsonpb): parse it once.
    const time = isObj(v.flow) && v.time === v.flow.time ? flow.timeUnixNano || undefined : timestampNano(v.time);
    if (flow.timeUnixNano === 0n && time !== undefined) flow.timeUnixNano = time;
    if (flow.nodeName === undefined && nodeName !== undefined) flow.nodeName = nodeName;
    return { kind: 'flow', flow, nodeName, timeUnixNano: time ?? flow.timeUnixNano };
  }
  const time = timestampNano(v.time);
  if (isObj(v.node_status)) {
    const s = v.node_status;
    return { kind: 'node_status', state: enumName(s.state_change) ?? 'UNKNOWN_NODE_STATE', nodeNames: strings(s.node_names), message: typeof s.message === 'string' ? s.message : '', nodeName, timeUnixNano: time ?? 0n };
  }
  if (isObj(v.lost_events)) {
    const l = v.lost_events;
    return { kind: 'lost_events', source: enumName(l.source) ?? 'UNKNOWN_LOST_EVENT_SOURCE', numEventsLost: num(l.num_events_lost) ?? 0, cpu: wrappedNum(l.cpu), nodeName, timeUnixNano: time ?? 0n };
  }
  for (const kind of ['agent_event', 'debug_event'] as const) {
    if (isObj(v[kind])) return { kind, eventType: enumName(v[kind].type), nodeName, timeUnixNano: time ?? 0n };
  }
  return 'unknown_record';
}
