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

/** True when b is stronger than a: stronger activity, then higher severity (earlier member wins ties). */
function stronger(b: Detection, a: Detection): boolean {
  const rb = ACTIVITY_RANK[b.activity] ?? 0;
  const ra = ACTIVITY_RANK[a.activity] ?? 0;
  return rb > ra || (rb === ra && b.severityNumber > a.severityNumber);
}

/**
 * Most names a merged detection lists (the first seen are kept). A flood of lookups of random subdomains of
 * one service from one workload lands in one group: an unbounded union grew that group without limit and
 * made every merge copy it (quadratic; found by the adversarial benchmark, regression test "regression: a
 * flood of random subdomains keeps a group's names bounded and merging fast").
 */
export const MAX_MERGED_NAMES = 32;

/** Union of two name lists in first-seen order, at most `cap` long. */
function unionCapped(a: string[], b: string[], cap: number): string[] {
  if (a.length >= cap) return a.length === cap ? a : a.slice(0, cap);
  const out = new Set(a);
  for (const x of b) {
    if (out.size >= cap) break;
    out.add(x);
  }
  return [...out];
}

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
 * Folds detection `d` into the group's running detection `acc` (both of the same key): acc's ids and
 * observation; count, first/last seen, union of evidence and names, summed flow counters; activity, body,
 * recommendation, matched name and endpoints of the stronger; the higher severity. Pure: returns a new detection.
 */
export function mergeInto(acc: Detection, d: Detection): Detection {
  const up = stronger(d, acc);
  const lead = up ? d : acc;
  const sev = d.severityNumber > acc.severityNumber ? d : acc;
  const count = acc.count + d.count;
  const firstSeen = d.firstSeenUnixNano < acc.firstSeenUnixNano ? d.firstSeenUnixNano : acc.firstSeenUnixNano;
  const lastSeen = d.lastSeenUnixNano > acc.lastSeenUnixNano ? d.lastSeenUnixNano : acc.lastSeenUnixNano;
  const attributes: Attributes = {
    ...acc.attributes,
    [PW.COUNT]: count,
    [PW.FIRST_SEEN]: formatUnixNano(firstSeen),
    [PW.LAST_SEEN]: formatUnixNano(lastSeen),
    [PW.EVIDENCE]: [...new Set([...arr(acc.attributes, PW.EVIDENCE), ...arr(d.attributes, PW.EVIDENCE)])],
    [PW.NAMES]: unionCapped(arr(acc.attributes, PW.NAMES), arr(d.attributes, PW.NAMES), MAX_MERGED_NAMES),
    [PW.ACTIVITY]: lead.activity,
  };
  if (lead.attributes[PW.RECOMMENDATION] !== undefined) attributes[PW.RECOMMENDATION] = lead.attributes[PW.RECOMMENDATION];
  if (up) {
    for (const k of ENDPOINT_KEYS) {
      if (d.attributes[k] !== undefined) attributes[k] = d.attributes[k];
      else delete attributes[k];
    }
  }
  for (const k of BYTE_KEYS) {
    const x = num(acc.attributes, k);
    const y = num(d.attributes, k);
    if (x !== undefined || y !== undefined) attributes[k] = (x ?? 0) + (y ?? 0);
  }
  return {
    ...acc,
    activity: lead.activity,
    severityNumber: sev.severityNumber,
    severityText: sev.severityText,
    body: lead.body,
    matchedName: lead.matchedName,
    attributes,
    count,
    firstSeenUnixNano: firstSeen,
    lastSeenUnixNano: lastSeen,
  };
}

/** One detection for a group of members in arrival order (mergeInto folded left). */
export function mergeDetections(members: readonly Detection[]): Detection {
  return members.reduce((acc, d) => mergeInto(acc, d));
}
