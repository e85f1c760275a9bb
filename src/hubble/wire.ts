/**
 * A direct protobuf decoder for GetFlowsResponse bytes into HubbleEvent: the hubble receiver's hot path.
 * It yields exactly what normalizeResponse gives for the same bytes decoded by proto-loader (a test holds
 * the two equal), without building the intermediate object graph, which costs more than the rest of the
 * receiver. Field numbers follow proto/hubble/; unknown fields are skipped by wire type, as protobuf does.
 *
 * Written for speed (measured with scripts/bench-hubble.ts): one reused cursor, nested messages read by
 * plain loops over a narrowed end (no closure per message), and the short strings a stream repeats
 * (namespaces, pod names, labels, addresses, node names) interned in a small fixed cache keyed on their
 * bytes, so most fields cost a hash and a compare instead of a UTF-8 decode and a fresh string.
 */
import type { NormalizeFailure } from './normalize.js';
import type { HubbleDns, HubbleEndpoint, HubbleEvent, HubbleFlow, HubbleHttp, HubbleL4, HubbleL7 } from './types.js';

/** Enum names by number, as in proto/hubble (unknown numbers become their decimal text). */
const ENUMS = {
  verdict: ['VERDICT_UNKNOWN', 'FORWARDED', 'DROPPED', 'ERROR', 'AUDIT', 'REDIRECTED', 'TRACED', 'TRANSLATED'],
  flowType: ['UNKNOWN_TYPE', 'L3_L4', 'L7', 'SOCK'],
  direction: ['TRAFFIC_DIRECTION_UNKNOWN', 'INGRESS', 'EGRESS'],
  reason: ['TRACE_REASON_UNKNOWN', 'NEW', 'ESTABLISHED', 'REPLY', 'RELATED', 'REOPENED', 'SRV6_ENCAP', 'SRV6_DECAP', 'ENCRYPT_OVERLAY'],
  l7Type: ['UNKNOWN_L7_TYPE', 'REQUEST', 'RESPONSE', 'SAMPLE'],
  nodeState: ['UNKNOWN_NODE_STATE', 'NODE_CONNECTED', 'NODE_UNAVAILABLE', 'NODE_GONE', 'NODE_ERROR'],
  lostSource: ['UNKNOWN_LOST_EVENT_SOURCE', 'PERF_EVENT_RING_BUFFER', 'OBSERVER_EVENTS_QUEUE', 'HUBBLE_RING_BUFFER'],
} as const;
const OBS_POINT: Record<number, string> = {
  0: 'UNKNOWN_POINT', 1: 'TO_PROXY', 2: 'TO_HOST', 3: 'TO_STACK', 4: 'TO_OVERLAY', 101: 'TO_ENDPOINT', 5: 'FROM_ENDPOINT', 6: 'FROM_PROXY',
  7: 'FROM_HOST', 8: 'FROM_STACK', 9: 'FROM_OVERLAY', 10: 'FROM_NETWORK', 11: 'TO_NETWORK', 12: 'FROM_CRYPTO', 13: 'TO_CRYPTO',
};
const TCP_FLAGS = ['', 'FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'];

function enumName(table: readonly string[], n: number): string {
  return table[n] ?? String(n);
}

/** Thrown inside the decoder on malformed input; caught at the top. */
class WireError extends Error {}

/** utf8Slice is what toString('utf8', ...) ends in, minus its argument checks: measurable per field. */
type Utf8Buffer = Buffer & { utf8Slice(start: number, end: number): string };

const EMPTY_BUF = Buffer.alloc(0) as Utf8Buffer;

// The string cache: direct-mapped (a slot per hash, the newest string wins), so it is bounded and needs no
// eviction bookkeeping. Only ASCII strings up to INTERN_MAX bytes go in (a stored string's char codes are
// then its bytes, so a hit is checked exactly against the bytes); anything else is decoded as before.
const INTERN_SLOTS = 4096;
const INTERN_MAX = 96;
const interned: string[] = new Array<string>(INTERN_SLOTS).fill('');

/** A cursor over one message's bytes. */
class Reader {
  buf: Utf8Buffer = EMPTY_BUF;
  pos = 0;
  /** End of the message being read (narrowed while a nested message is read). */
  end = 0;
  /** High 32 bits of the last varint (for 64-bit fields). */
  hi = 0;

  /** A varint's low 32 bits as an unsigned number; the high 32 bits are left in `hi`. */
  varint(): number {
    const buf = this.buf;
    let pos = this.pos;
    const end = this.end;
    if (pos >= end) throw new WireError('truncated varint');
    let byte = buf[pos++];
    if (byte < 0x80) {
      // One byte: tags and most small values.
      this.pos = pos;
      this.hi = 0;
      return byte;
    }
    let lo = byte & 0x7f;
    for (let shift = 7; shift < 28; shift += 7) {
      if (pos >= end) throw new WireError('truncated varint');
      byte = buf[pos++];
      lo |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        this.pos = pos;
        this.hi = 0;
        return lo >>> 0;
      }
    }
    if (pos >= end) throw new WireError('truncated varint');
    byte = buf[pos++]; // bits 28..34
    lo |= (byte & 0x0f) << 28;
    let hi = (byte & 0x7f) >> 4;
    if ((byte & 0x80) === 0) {
      this.pos = pos;
      this.hi = hi;
      return lo >>> 0;
    }
    for (let shift = 3; shift < 32; shift += 7) {
      if (pos >= end) throw new WireError('truncated varint');
      byte = buf[pos++];
      hi |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        this.pos = pos;
        this.hi = hi >>> 0;
        return lo >>> 0;
      }
    }
    throw new WireError('varint too long');
  }

  /** A varint as an unsigned 64-bit number (exact below 2^53). */
  uint64(): number {
    const lo = this.varint();
    return this.hi * 4294967296 + lo;
  }

  /** Length of a length-delimited field; checks it fits. */
  len(): number {
    const n = this.varint();
    if (this.hi !== 0 || this.pos + n > this.end) throw new WireError('length out of range');
    return n;
  }

  /** A string field, decoded afresh (for values that never repeat, such as uuids). */
  string(): string {
    const n = this.len();
    const s = this.buf.utf8Slice(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** A string field that streams repeat: served from the intern cache when its bytes are there. */
  istring(): string {
    const n = this.len();
    const buf = this.buf;
    const start = this.pos;
    const stop = start + n;
    this.pos = stop;
    if (n === 0) return '';
    if (n > INTERN_MAX) return buf.utf8Slice(start, stop);
    // The slot comes from the length and the last (up to) 8 bytes, where the strings of a stream differ
    // (label values, pod name suffixes, address ends); a hit is then confirmed on every byte.
    let h = Math.imul(0x811c9dc5 ^ n, 0x01000193);
    for (let i = n > 8 ? stop - 8 : start; i < stop; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const slot = (h ^ (h >>> 16)) & (INTERN_SLOTS - 1);
    const cached = interned[slot];
    if (cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === buf[start + i]) i++;
      if (i === n) return cached;
    }
    const s = buf.utf8Slice(start, stop);
    // Cache only ASCII, where char codes are the bytes (what the compare above relies on).
    for (let i = start; i < stop; i++) if (buf[i] & 0x80) return s;
    interned[slot] = s;
    return s;
  }

  /** Skips a field of the given wire type. */
  skip(wt: number): void {
    switch (wt) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const n = this.len();
        this.pos += n;
        return;
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw new WireError(`unsupported wire type ${wt}`);
    }
    if (this.pos > this.end) throw new WireError('truncated field');
  }

  /**
   * Enters a nested message: narrows `end` to its bytes and returns the outer end, to give back to leave().
   * The caller loops `while (r.pos < r.end)` over the nested fields.
   */
  enter(): number {
    const n = this.len();
    const outer = this.end;
    this.end = this.pos + n;
    return outer;
  }

  /** Leaves a nested message entered with enter(). */
  leave(outer: number): void {
    if (this.pos !== this.end) throw new WireError('nested message overran its length');
    this.end = outer;
  }
}

/** The one cursor: decoding is synchronous and not re-entrant, so it is reused for every message. */
const R = new Reader();

let lastSec = -1;
let lastSecNano = 0n;

function timestamp(r: Reader): bigint {
  let seconds = 0;
  let nanos = 0;
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 1 && wt === 0) seconds = r.uint64();
    else if (no === 2 && wt === 0) nanos = r.varint() | 0;
    else r.skip(wt);
  }
  r.leave(outer);
  if (seconds !== lastSec) {
    lastSec = seconds;
    lastSecNano = BigInt(seconds) * 1_000_000_000n;
  }
  return lastSecNano + BigInt(nanos);
}

function workload(r: Reader, ep: HubbleEndpoint): void {
  let name: string | undefined;
  let kind = '';
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 1 && wt === 2) name = r.istring();
    else if (no === 2 && wt === 2) kind = r.istring();
    else r.skip(wt);
  }
  r.leave(outer);
  if (name !== undefined) ep.workloads.push({ name, kind });
}

function endpoint(r: Reader): HubbleEndpoint {
  const ep: HubbleEndpoint = { id: undefined, identity: undefined, namespace: undefined, labels: [], podName: undefined, workloads: [], clusterName: undefined };
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 1 && wt === 0) ep.id = r.varint();
    else if (no === 2 && wt === 0) ep.identity = r.varint();
    else if (no === 3 && wt === 2) ep.namespace = r.istring() || undefined;
    else if (no === 4 && wt === 2) {
      const l = r.istring();
      if (l) ep.labels.push(l);
    } else if (no === 5 && wt === 2) ep.podName = r.istring() || undefined;
    else if (no === 6 && wt === 2) workload(r, ep);
    else if (no === 7 && wt === 2) ep.clusterName = r.istring() || undefined;
    else r.skip(wt);
  }
  r.leave(outer);
  return ep;
}

function tcpFlags(r: Reader, flags: Set<string>): void {
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (wt === 0 && no >= 1 && no <= 9) {
      if (r.varint() !== 0) flags.add(TCP_FLAGS[no]);
    } else r.skip(wt);
  }
  r.leave(outer);
}

function ports(r: Reader, protocol: HubbleL4['protocol'], withFlags: boolean): HubbleL4 {
  const l4: HubbleL4 = { protocol, sourcePort: 0, destinationPort: 0 };
  if (withFlags) l4.flags = new Set();
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 1 && wt === 0) l4.sourcePort = r.varint();
    else if (no === 2 && wt === 0) l4.destinationPort = r.varint();
    else if (no === 3 && wt === 2 && withFlags) tcpFlags(r, l4.flags!);
    else r.skip(wt);
  }
  r.leave(outer);
  if (protocol === 'icmpv4' || protocol === 'icmpv6') {
    l4.sourcePort = 0;
    l4.destinationPort = 0;
  }
  return l4;
}

function layer4(r: Reader): HubbleL4 | undefined {
  let l4: HubbleL4 | undefined;
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (wt !== 2) r.skip(wt);
    else if (no === 1) l4 = ports(r, 'tcp', true);
    else if (no === 2) l4 = ports(r, 'udp', false);
    else if (no === 3) l4 = ports(r, 'icmpv4', false);
    else if (no === 4) l4 = ports(r, 'icmpv6', false);
    else if (no === 5) l4 = ports(r, 'sctp', false);
    else r.skip(wt);
  }
  r.leave(outer);
  return l4;
}

function dns(r: Reader): HubbleDns {
  const d: HubbleDns = { query: '', ips: [], ttl: 0, cnames: [], rcode: 0, qtypes: [], rrtypes: [], observationSource: undefined };
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (wt === 2) {
      if (no === 1) d.query = r.istring();
      else if (no === 2) {
        const v = r.istring();
        if (v) d.ips.push(v);
      } else if (no === 4) {
        const v = r.istring();
        if (v) d.cnames.push(v);
      } else if (no === 5) d.observationSource = r.istring() || undefined;
      else if (no === 7) {
        const v = r.istring();
        if (v) d.qtypes.push(v);
      } else if (no === 8) {
        const v = r.istring();
        if (v) d.rrtypes.push(v);
      } else r.skip(wt);
    } else if (wt === 0 && no === 3) d.ttl = r.varint();
    else if (wt === 0 && no === 6) d.rcode = r.varint();
    else r.skip(wt);
  }
  r.leave(outer);
  return d;
}

function httpHeader(r: Reader, h: HubbleHttp): void {
  let key: string | undefined;
  let value = '';
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 1 && wt === 2) key = r.istring();
    else if (no === 2 && wt === 2) value = r.istring();
    else r.skip(wt);
  }
  r.leave(outer);
  if (key !== undefined) h.headers.push({ key, value });
}

function http(r: Reader): HubbleHttp {
  const h: HubbleHttp = { code: 0, method: '', url: '', protocol: undefined, headers: [] };
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 1 && wt === 0) h.code = r.varint();
    else if (no === 2 && wt === 2) h.method = r.istring();
    else if (no === 3 && wt === 2) h.url = r.istring();
    else if (no === 4 && wt === 2) h.protocol = r.istring() || undefined;
    else if (no === 5 && wt === 2) httpHeader(r, h);
    else r.skip(wt);
  }
  r.leave(outer);
  return h;
}

function layer7(r: Reader): HubbleL7 {
  const l7: HubbleL7 = { type: 'UNKNOWN_L7_TYPE', dns: undefined, http: undefined };
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 1 && wt === 0) l7.type = enumName(ENUMS.l7Type, r.varint());
    else if (no === 100 && wt === 2) l7.dns = dns(r);
    else if (no === 101 && wt === 2) l7.http = http(r);
    else r.skip(wt);
  }
  r.leave(outer);
  return l7;
}

function ipLayer(r: Reader, f: HubbleFlow): void {
  let source = '';
  let destination = '';
  let ver = 0;
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 1 && wt === 2) source = r.istring();
    else if (no === 2 && wt === 2) destination = r.istring();
    else if (no === 3 && wt === 0) ver = r.varint();
    else r.skip(wt);
  }
  r.leave(outer);
  const version = ver === 1 ? 'ipv4' : ver === 2 ? 'ipv6' : source.includes(':') ? 'ipv6' : source ? 'ipv4' : undefined;
  f.ip = { source, destination, version };
}

function eventType(r: Reader, f: HubbleFlow): void {
  const et = { type: 0, subType: 0 };
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 1 && wt === 0) et.type = r.varint() | 0;
    else if (no === 2 && wt === 0) et.subType = r.varint() | 0;
    else r.skip(wt);
  }
  r.leave(outer);
  f.eventType = et;
}

/** A google.protobuf.BoolValue. */
function boolValue(r: Reader): boolean {
  let value = false;
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag >>> 3 === 1 && (tag & 7) === 0) value = r.varint() !== 0;
    else r.skip(tag & 7);
  }
  r.leave(outer);
  return value;
}

function flow(r: Reader): HubbleFlow {
  const f: HubbleFlow = {
    timeUnixNano: 0n,
    uuid: undefined,
    verdict: undefined,
    type: undefined,
    nodeName: undefined,
    ip: undefined,
    l4: undefined,
    source: undefined,
    destination: undefined,
    sourceNames: [],
    destinationNames: [],
    l7: undefined,
    isReply: undefined,
    trafficDirection: undefined,
    traceObservationPoint: undefined,
    traceReason: undefined,
    eventType: undefined,
  };
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (wt === 0) {
      const v = r.varint();
      if (no === 2) f.verdict = enumName(ENUMS.verdict, v);
      else if (no === 10) f.type = enumName(ENUMS.flowType, v);
      else if (no === 22) f.trafficDirection = enumName(ENUMS.direction, v);
      else if (no === 24) f.traceObservationPoint = OBS_POINT[v] ?? String(v);
      else if (no === 36) f.traceReason = enumName(ENUMS.reason, v);
      continue;
    }
    if (wt !== 2) {
      r.skip(wt);
      continue;
    }
    switch (no) {
      case 1:
        f.timeUnixNano = timestamp(r);
        break;
      case 5:
        ipLayer(r, f);
        break;
      case 6:
        f.l4 = layer4(r);
        break;
      case 8:
        f.source = endpoint(r);
        break;
      case 9:
        f.destination = endpoint(r);
        break;
      case 11:
        f.nodeName = r.istring() || undefined;
        break;
      case 13: {
        const n = r.istring();
        if (n) f.sourceNames.push(n);
        break;
      }
      case 14: {
        const n = r.istring();
        if (n) f.destinationNames.push(n);
        break;
      }
      case 15:
        f.l7 = layer7(r);
        break;
      case 19:
        eventType(r, f);
        break;
      case 26:
        f.isReply = boolValue(r);
        break;
      case 34:
        // Unique per flow: not worth a cache slot.
        f.uuid = r.string() || undefined;
        break;
      default:
        r.skip(wt);
    }
  }
  r.leave(outer);
  return f;
}

function nodeStatus(r: Reader): { state: string; nodeNames: string[]; message: string } {
  const ns = { state: 'UNKNOWN_NODE_STATE', nodeNames: [] as string[], message: '' };
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 1 && wt === 0) ns.state = enumName(ENUMS.nodeState, r.varint());
    else if (no === 2 && wt === 2) {
      const n = r.istring();
      if (n) ns.nodeNames.push(n);
    } else if (no === 3 && wt === 2) ns.message = r.string();
    else r.skip(wt);
  }
  r.leave(outer);
  return ns;
}

/** A google.protobuf.Int32Value. */
function int32Value(r: Reader): number {
  let v = 0;
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag >>> 3 === 1 && (tag & 7) === 0) v = r.varint() | 0;
    else r.skip(tag & 7);
  }
  r.leave(outer);
  return v;
}

function lostEvents(r: Reader): { source: string; numEventsLost: number; cpu?: number } {
  const le: { source: string; numEventsLost: number; cpu?: number } = { source: 'UNKNOWN_LOST_EVENT_SOURCE', numEventsLost: 0, cpu: undefined };
  const outer = r.enter();
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 1 && wt === 0) le.source = enumName(ENUMS.lostSource, r.varint());
    else if (no === 2 && wt === 0) le.numEventsLost = r.uint64();
    else if (no === 3 && wt === 2) le.cpu = int32Value(r);
    else r.skip(wt);
  }
  r.leave(outer);
  return le;
}

/** Decodes one GetFlowsResponse message; a malformed one comes back as 'invalid_protobuf'. */
export function decodeGetFlowsResponse(buf: Buffer): HubbleEvent | NormalizeFailure | 'invalid_protobuf' {
  const r = R;
  r.buf = buf as Utf8Buffer;
  r.pos = 0;
  r.end = buf.length;
  r.hi = 0;
  try {
    let fl: HubbleFlow | undefined;
    let ns: { state: string; nodeNames: string[]; message: string } | undefined;
    let lost: { source: string; numEventsLost: number; cpu?: number } | undefined;
    let nodeName: string | undefined;
    let time: bigint | undefined;
    while (r.pos < r.end) {
      const tag = r.varint();
      const no = tag >>> 3;
      const wt = tag & 7;
      if (wt !== 2) r.skip(wt);
      else if (no === 1) {
        fl = flow(r);
        ns = undefined;
        lost = undefined;
      } else if (no === 2) {
        ns = nodeStatus(r);
        fl = undefined;
        lost = undefined;
      } else if (no === 3) {
        lost = lostEvents(r);
        fl = undefined;
        ns = undefined;
      } else if (no === 1000) nodeName = r.istring() || undefined;
      else if (no === 1001) time = timestamp(r);
      else r.skip(wt);
    }
    if (fl) {
      if (fl.timeUnixNano === 0n && time !== undefined) fl.timeUnixNano = time;
      if (fl.nodeName === undefined && nodeName !== undefined) fl.nodeName = nodeName;
      return { kind: 'flow', flow: fl, nodeName, timeUnixNano: time ?? fl.timeUnixNano };
    }
    if (ns) return { kind: 'node_status', ...ns, nodeName, timeUnixNano: time ?? 0n };
    if (lost) return { kind: 'lost_events', ...lost, nodeName, timeUnixNano: time ?? 0n };
    return 'unknown_record';
  } catch (err) {
    if (err instanceof WireError || err instanceof RangeError) return 'invalid_protobuf';
    throw err;
  } finally {
    // Do not keep the last message alive through the shared cursor.
    r.buf = EMPTY_BUF;
  }
}
