/**
 * A direct protobuf decoder for GetFlowsResponse bytes into HubbleEvent: the hubble receiver's hot path.
 * It yields exactly what normalizeResponse gives for the same bytes decoded by proto-loader (a test holds
 * the two equal), without building the intermediate object graph, which costs more than the rest of the
 * receiver. Field numbers follow proto/hubble/; unknown fields are skipped by wire type, as protobuf does.
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

/** A cursor over one message's bytes. */
class Reader {
  pos: number;
  /** High 32 bits of the last varint (for 64-bit fields). */
  hi = 0;
  constructor(
    readonly buf: Buffer,
    start: number,
    /** End of the message being read (narrowed while a nested message is read). */
    public end: number,
  ) {
    this.pos = start;
  }

  private next(): number {
    if (this.pos >= this.end) throw new WireError('truncated varint');
    return this.buf[this.pos++];
  }

  /** A varint's low 32 bits as an unsigned number; the high 32 bits are left in `hi`. */
  varint(): number {
    let lo = 0;
    let byte: number;
    for (let shift = 0; shift < 28; shift += 7) {
      byte = this.next();
      lo |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        this.hi = 0;
        return lo >>> 0;
      }
    }
    byte = this.next(); // bits 28..34
    lo |= (byte & 0x0f) << 28;
    let hi = (byte & 0x7f) >> 4;
    if ((byte & 0x80) === 0) {
      this.hi = hi;
      return lo >>> 0;
    }
    for (let shift = 3; shift < 32; shift += 7) {
      byte = this.next();
      hi |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
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

  string(): string {
    const n = this.len();
    // utf8Slice is what toString('utf8', ...) ends in, minus its argument checks: measurable per field.
    const s = (this.buf as unknown as { utf8Slice(start: number, end: number): string }).utf8Slice(this.pos, this.pos + n);
    this.pos += n;
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
      case 2:
        this.pos += this.len();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new WireError(`unsupported wire type ${wt}`);
    }
    if (this.pos > this.end) throw new WireError('truncated field');
  }
}

/**
 * Reads a nested message: calls field(reader, fieldNo, wireType) for each field within its bytes. The same
 * reader is narrowed to the nested bytes and restored after (no allocation per nested message).
 */
function sub(r: Reader, field: (s: Reader, no: number, wt: number) => void): void {
  const n = r.len();
  const outer = r.end;
  const stop = r.pos + n;
  r.end = stop;
  while (r.pos < stop) {
    const tag = r.varint();
    field(r, tag >>> 3, tag & 7);
  }
  if (r.pos !== stop) throw new WireError('nested message overran its length');
  r.end = outer;
}

let lastSec = -1;
let lastSecNano = 0n;

function timestamp(r: Reader): bigint {
  let seconds = 0;
  let nanos = 0;
  sub(r, (s, no, wt) => {
    if (no === 1 && wt === 0) seconds = s.uint64();
    else if (no === 2 && wt === 0) nanos = s.varint() | 0;
    else s.skip(wt);
  });
  if (seconds !== lastSec) {
    lastSec = seconds;
    lastSecNano = BigInt(seconds) * 1_000_000_000n;
  }
  return lastSecNano + BigInt(nanos);
}

function endpoint(r: Reader): HubbleEndpoint {
  const ep: HubbleEndpoint = { id: undefined, identity: undefined, namespace: undefined, labels: [], podName: undefined, workloads: [], clusterName: undefined };
  sub(r, (s, no, wt) => {
    if (no === 1 && wt === 0) ep.id = s.varint();
    else if (no === 2 && wt === 0) ep.identity = s.varint();
    else if (no === 3 && wt === 2) ep.namespace = s.string() || undefined;
    else if (no === 4 && wt === 2) {
      const l = s.string();
      if (l) ep.labels.push(l);
    } else if (no === 5 && wt === 2) ep.podName = s.string() || undefined;
    else if (no === 6 && wt === 2) {
      let name: string | undefined;
      let kind = '';
      sub(s, (w, n2, wt2) => {
        if (n2 === 1 && wt2 === 2) name = w.string();
        else if (n2 === 2 && wt2 === 2) kind = w.string();
        else w.skip(wt2);
      });
      if (name !== undefined) ep.workloads.push({ name, kind });
    } else if (no === 7 && wt === 2) ep.clusterName = s.string() || undefined;
    else s.skip(wt);
  });
  return ep;
}

function ports(r: Reader, protocol: HubbleL4['protocol'], withFlags: boolean): HubbleL4 {
  const l4: HubbleL4 = { protocol, sourcePort: 0, destinationPort: 0 };
  if (withFlags) l4.flags = new Set();
  sub(r, (s, no, wt) => {
    if (no === 1 && wt === 0) l4.sourcePort = s.varint();
    else if (no === 2 && wt === 0) l4.destinationPort = s.varint();
    else if (no === 3 && wt === 2 && withFlags) {
      sub(s, (f, n2, wt2) => {
        if (wt2 === 0 && n2 >= 1 && n2 <= 9) {
          if (f.varint() !== 0) l4.flags!.add(TCP_FLAGS[n2]);
        } else f.skip(wt2);
      });
    } else s.skip(wt);
  });
  if (protocol === 'icmpv4' || protocol === 'icmpv6') {
    l4.sourcePort = 0;
    l4.destinationPort = 0;
  }
  return l4;
}

function layer4(r: Reader): HubbleL4 | undefined {
  let l4: HubbleL4 | undefined;
  sub(r, (s, no, wt) => {
    if (wt !== 2) s.skip(wt);
    else if (no === 1) l4 = ports(s, 'tcp', true);
    else if (no === 2) l4 = ports(s, 'udp', false);
    else if (no === 3) l4 = ports(s, 'icmpv4', false);
    else if (no === 4) l4 = ports(s, 'icmpv6', false);
    else if (no === 5) l4 = ports(s, 'sctp', false);
    else s.skip(wt);
  });
  return l4;
}

function dns(r: Reader): HubbleDns {
  const d: HubbleDns = { query: '', ips: [], ttl: 0, cnames: [], rcode: 0, qtypes: [], rrtypes: [], observationSource: undefined };
  const push = (a: string[], v: string): void => {
    if (v) a.push(v);
  };
  sub(r, (s, no, wt) => {
    if (wt === 2) {
      if (no === 1) d.query = s.string();
      else if (no === 2) push(d.ips, s.string());
      else if (no === 4) push(d.cnames, s.string());
      else if (no === 5) d.observationSource = s.string() || undefined;
      else if (no === 7) push(d.qtypes, s.string());
      else if (no === 8) push(d.rrtypes, s.string());
      else s.skip(wt);
    } else if (wt === 0 && no === 3) d.ttl = s.varint();
    else if (wt === 0 && no === 6) d.rcode = s.varint();
    else s.skip(wt);
  });
  return d;
}

function http(r: Reader): HubbleHttp {
  const h: HubbleHttp = { code: 0, method: '', url: '', protocol: undefined, headers: [] };
  sub(r, (s, no, wt) => {
    if (no === 1 && wt === 0) h.code = s.varint();
    else if (no === 2 && wt === 2) h.method = s.string();
    else if (no === 3 && wt === 2) h.url = s.string();
    else if (no === 4 && wt === 2) h.protocol = s.string() || undefined;
    else if (no === 5 && wt === 2) {
      let key: string | undefined;
      let value = '';
      sub(s, (x, n2, wt2) => {
        if (n2 === 1 && wt2 === 2) key = x.string();
        else if (n2 === 2 && wt2 === 2) value = x.string();
        else x.skip(wt2);
      });
      if (key !== undefined) h.headers.push({ key, value });
    } else s.skip(wt);
  });
  return h;
}

function layer7(r: Reader): HubbleL7 {
  const l7: HubbleL7 = { type: 'UNKNOWN_L7_TYPE', dns: undefined, http: undefined };
  sub(r, (s, no, wt) => {
    if (no === 1 && wt === 0) l7.type = enumName(ENUMS.l7Type, s.varint());
    else if (no === 100 && wt === 2) l7.dns = dns(s);
    else if (no === 101 && wt === 2) l7.http = http(s);
    else s.skip(wt);
  });
  return l7;
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
  sub(r, (s, no, wt) => {
    if (wt === 0) {
      const v = s.varint();
      if (no === 2) f.verdict = enumName(ENUMS.verdict, v);
      else if (no === 10) f.type = enumName(ENUMS.flowType, v);
      else if (no === 22) f.trafficDirection = enumName(ENUMS.direction, v);
      else if (no === 24) f.traceObservationPoint = OBS_POINT[v] ?? String(v);
      else if (no === 36) f.traceReason = enumName(ENUMS.reason, v);
      return;
    }
    if (wt !== 2) {
      s.skip(wt);
      return;
    }
    switch (no) {
      case 1:
        f.timeUnixNano = timestamp(s);
        break;
      case 5: {
        let source = '';
        let destination = '';
        let ver = 0;
        sub(s, (x, n2, wt2) => {
          if (n2 === 1 && wt2 === 2) source = x.string();
          else if (n2 === 2 && wt2 === 2) destination = x.string();
          else if (n2 === 3 && wt2 === 0) ver = x.varint();
          else x.skip(wt2);
        });
        const version = ver === 1 ? 'ipv4' : ver === 2 ? 'ipv6' : source.includes(':') ? 'ipv6' : source ? 'ipv4' : undefined;
        f.ip = { source, destination, version };
        break;
      }
      case 6:
        f.l4 = layer4(s);
        break;
      case 8:
        f.source = endpoint(s);
        break;
      case 9:
        f.destination = endpoint(s);
        break;
      case 11:
        f.nodeName = s.string() || undefined;
        break;
      case 13: {
        const n = s.string();
        if (n) f.sourceNames.push(n);
        break;
      }
      case 14: {
        const n = s.string();
        if (n) f.destinationNames.push(n);
        break;
      }
      case 15:
        f.l7 = layer7(s);
        break;
      case 19: {
        const et = { type: 0, subType: 0 };
        sub(s, (x, n2, wt2) => {
          if (n2 === 1 && wt2 === 0) et.type = x.varint() | 0;
          else if (n2 === 2 && wt2 === 0) et.subType = x.varint() | 0;
          else x.skip(wt2);
        });
        f.eventType = et;
        break;
      }
      case 26: {
        let value = false;
        sub(s, (x, n2, wt2) => {
          if (n2 === 1 && wt2 === 0) value = x.varint() !== 0;
          else x.skip(wt2);
        });
        f.isReply = value;
        break;
      }
      case 34:
        f.uuid = s.string() || undefined;
        break;
      default:
        s.skip(wt);
    }
  });
  return f;
}

/** Decodes one GetFlowsResponse message; a malformed one comes back as 'invalid_protobuf'. */
export function decodeGetFlowsResponse(buf: Buffer): HubbleEvent | NormalizeFailure | 'invalid_protobuf' {
  try {
    const r = new Reader(buf, 0, buf.length);
    let fl: HubbleFlow | undefined;
    let nodeStatus: { state: string; nodeNames: string[]; message: string } | undefined;
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
        nodeStatus = undefined;
        lost = undefined;
      } else if (no === 2) {
        const ns = { state: 'UNKNOWN_NODE_STATE', nodeNames: [] as string[], message: '' };
        sub(r, (s, n2, wt2) => {
          if (n2 === 1 && wt2 === 0) ns.state = enumName(ENUMS.nodeState, s.varint());
          else if (n2 === 2 && wt2 === 2) {
            const n = s.string();
            if (n) ns.nodeNames.push(n);
          } else if (n2 === 3 && wt2 === 2) ns.message = s.string();
          else s.skip(wt2);
        });
        nodeStatus = ns;
        fl = undefined;
        lost = undefined;
      } else if (no === 3) {
        const le: { source: string; numEventsLost: number; cpu?: number } = { source: 'UNKNOWN_LOST_EVENT_SOURCE', numEventsLost: 0, cpu: undefined };
        sub(r, (s, n2, wt2) => {
          if (n2 === 1 && wt2 === 0) le.source = enumName(ENUMS.lostSource, s.varint());
          else if (n2 === 2 && wt2 === 0) le.numEventsLost = s.uint64();
          else if (n2 === 3 && wt2 === 2) {
            let v = 0;
            sub(s, (x, n3, wt3) => {
              if (n3 === 1 && wt3 === 0) v = x.varint() | 0;
              else x.skip(wt3);
            });
            le.cpu = v;
          } else s.skip(wt2);
        });
        lost = le;
        fl = undefined;
        nodeStatus = undefined;
      } else if (no === 1000) nodeName = r.string() || undefined;
      else if (no === 1001) time = timestamp(r);
      else r.skip(wt);
    }
    if (fl) {
      if (fl.timeUnixNano === 0n && time !== undefined) fl.timeUnixNano = time;
      if (fl.nodeName === undefined && nodeName !== undefined) fl.nodeName = nodeName;
      return { kind: 'flow', flow: fl, nodeName, timeUnixNano: time ?? fl.timeUnixNano };
    }
    if (nodeStatus) return { kind: 'node_status', ...nodeStatus, nodeName, timeUnixNano: time ?? 0n };
    if (lost) return { kind: 'lost_events', ...lost, nodeName, timeUnixNano: time ?? 0n };
    return 'unknown_record';
  } catch (err) {
    if (err instanceof WireError || err instanceof RangeError) return 'invalid_protobuf';
    throw err;
  }
}
