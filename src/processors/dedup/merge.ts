/** Pure parts of dedup: the group key of a detection and the merge of a group into one detection. */
import { ATTR, PW } from '../../model/attributes.js';
import type { Attributes } from '../../model/attributes.js';
import type { Detection } from '../../model/detection.js';
import { formatUnixNano } from '../../model/time.js';
import { ACTIVITY_RANK } from '../paste_classifier/activity.js';

const s = (a: Attributes, k: string): string => (typeof a[k] === 'string' ? (a[k] as string) : typeof a[k] === 'number' ? String(a[k]) : '');

/**
 * Workload x process x service: the workload is k8s.pod.uid, else namespace/pod name, else container.id,
 * else source.address; the process is process.executable.path, else its name (when present).
 */
export function dedupKey(d: Detection): string {
  const a = d.attributes;
  const ns = s(a, ATTR.K8S_NAMESPACE_NAME);
  const pod = s(a, ATTR.K8S_POD_NAME);
  const workload =
    (s(a, ATTR.K8S_POD_UID) && `uid:${s(a, ATTR.K8S_POD_UID)}`) ||
    (pod && `pod:${ns}/${pod}`) ||
    (s(a, ATTR.CONTAINER_ID) && `ctr:${s(a, ATTR.CONTAINER_ID)}`) ||
    `src:${s(a, ATTR.SOURCE_ADDRESS)}`;
  const proc = s(a, ATTR.PROCESS_EXECUTABLE_PATH) || s(a, ATTR.PROCESS_EXECUTABLE_NAME);
  return `${workload}\u0000${proc}\u0000${d.service}`;
}

const num = (a: Attributes, k: string): number | undefined => (typeof a[k] === 'number' ? (a[k] as number) : undefined);
const arr = (a: Attributes, k: string): string[] => (Array.isArray(a[k]) ? (a[k] as string[]) : typeof a[k] === 'string' ? [a[k] as string] : []);


/**
 * Most names a merged detection lists (the first seen are kept). A flood of lookups of random subdomains of
 * one service from one workload lands in one group: an unbounded union grew that group without limit and
 * made every merge copy it (quadratic; found by the adversarial benchmark, regression test "regression: a
 * flood of random subdomains keeps a group's names bounded and merging fast").
 */
export const MAX_MERGED_NAMES = 32;


const BYTE_KEYS = [PW.BYTES_SENT, PW.BYTES_RECEIVED, PW.PACKETS_SENT, PW.PACKETS_RECEIVED] as const;

/**
 * Where the strongest member talked to: a group that began with a DNS lookup and went on to a connection
 * reports the connection's endpoints (the paste server, not the resolver).
 */
const ENDPOINT_KEYS = [
  ATTR.SERVER_ADDRESS, ATTR.SERVER_PORT, ATTR.SOURCE_ADDRESS, ATTR.SOURCE_PORT, ATTR.DESTINATION_ADDRESS, ATTR.DESTINATION_PORT,
  ATTR.NETWORK_TRANSPORT, ATTR.NETWORK_TYPE, ATTR.NETWORK_PROTOCOL_NAME, ATTR.HTTP_REQUEST_METHOD, ATTR.URL_FULL,
] as const;

/**
 * The running merge of a dedup group, O(1) per member: counts, times, evidence and names sets, byte sums,
 * and which member is the strongest; the merged Detection is built once, by result(). A flood of lookups
 * of random subdomains all land in one group, so adding a member must not copy the group.
 */
export class GroupAccumulator {
  private readonly first: Detection;
  private lead: Detection;
  private leadRank: number;
  private sev: Detection;
  private count: number;
  private firstSeen: bigint;
  private lastSeen: bigint;
  private readonly evidence: Set<string>;
  private readonly names: Set<string>;
  private readonly bytes = new Map<string, number>();

  /** Starts from one detection (a single member, or an already merged group). */
  constructor(first: Detection) {
    this.first = this.lead = this.sev = first;
    this.leadRank = ACTIVITY_RANK[first.activity] ?? 0;
    this.count = first.count;
    this.firstSeen = first.firstSeenUnixNano;
    this.lastSeen = first.lastSeenUnixNano;
    this.evidence = new Set(arr(first.attributes, PW.EVIDENCE));
    this.names = new Set(arr(first.attributes, PW.NAMES).slice(0, MAX_MERGED_NAMES));
    this.addBytes(first);
  }

  private addBytes(d: Detection): void {
    for (const k of BYTE_KEYS) {
      const v = num(d.attributes, k);
      if (v !== undefined) this.bytes.set(k, (this.bytes.get(k) ?? 0) + v);
    }
  }

  /** Folds one more member in. */
  add(d: Detection): void {
    const rank = ACTIVITY_RANK[d.activity] ?? 0;
    // Stronger: a stronger activity, or the same activity with a higher severity than any member so far.
    if (rank > this.leadRank || (rank === this.leadRank && d.severityNumber > this.sev.severityNumber)) {
      this.lead = d;
      this.leadRank = rank;
    }
    if (d.severityNumber > this.sev.severityNumber) this.sev = d;
    this.count += d.count;
    if (d.firstSeenUnixNano < this.firstSeen) this.firstSeen = d.firstSeenUnixNano;
    if (d.lastSeenUnixNano > this.lastSeen) this.lastSeen = d.lastSeenUnixNano;
    for (const e of arr(d.attributes, PW.EVIDENCE)) this.evidence.add(e);
    if (this.names.size < MAX_MERGED_NAMES) {
      for (const n of arr(d.attributes, PW.NAMES)) {
        if (this.names.size >= MAX_MERGED_NAMES) break;
        this.names.add(n);
      }
    }
    this.addBytes(d);
  }

  /**
   * The merged detection: the first member's ids and observation; count, first/last seen, union of evidence
   * and names, summed flow counters; activity, body, recommendation, matched name and endpoints of the
   * strongest member; the highest severity.
   */
  result(): Detection {
    const { first, lead, sev } = this;
    const attributes: Attributes = {
      ...first.attributes,
      [PW.COUNT]: this.count,
      [PW.FIRST_SEEN]: formatUnixNano(this.firstSeen),
      [PW.LAST_SEEN]: formatUnixNano(this.lastSeen),
      [PW.EVIDENCE]: [...this.evidence],
      [PW.NAMES]: [...this.names],
      [PW.ACTIVITY]: lead.activity,
    };
    if (lead.attributes[PW.RECOMMENDATION] !== undefined) attributes[PW.RECOMMENDATION] = lead.attributes[PW.RECOMMENDATION];
    if (lead !== first) {
      for (const k of ENDPOINT_KEYS) {
        if (lead.attributes[k] !== undefined) attributes[k] = lead.attributes[k];
        else delete attributes[k];
      }
    }
    for (const [k, v] of this.bytes) attributes[k] = v;
    return {
      ...first,
      activity: lead.activity,
      severityNumber: sev.severityNumber,
      severityText: sev.severityText,
      body: lead.body,
      matchedName: lead.matchedName,
      attributes,
      count: this.count,
      firstSeenUnixNano: this.firstSeen,
      lastSeenUnixNano: this.lastSeen,
    };
  }
}

/** Folds detection `d` into the group's running detection `acc` (see GroupAccumulator.result). Pure. */
export function mergeInto(acc: Detection, d: Detection): Detection {
  const g = new GroupAccumulator(acc);
  g.add(d);
  return g.result();
}

/** One detection for a group of members in arrival order (mergeInto folded left). */
export function mergeDetections(members: readonly Detection[]): Detection {
  const g = new GroupAccumulator(members[0]);
  for (let i = 1; i < members.length; i++) g.add(members[i]);
  return g.result();
}
