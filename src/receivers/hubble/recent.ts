/** Small pure helpers of the hubble receiver: reconnect backoff and the replay-overlap filter. */
import type { HubbleFlow } from '../../hubble/types.js';

/** Reconnect settings (as in the config). */
export interface BackoffSettings {
  initial_backoff_ms: number;
  max_backoff_ms: number;
  jitter: number;
}

/** The wait before reconnect attempt `attempt` (0-based): doubling from initial up to max, then +/- jitter. */
export function backoffDelay(attempt: number, s: BackoffSettings, random: () => number = Math.random): number {
  const base = Math.min(s.max_backoff_ms, s.initial_backoff_ms * 2 ** Math.min(attempt, 30));
  const spread = base * s.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(s.max_backoff_ms, base + spread)));
}

/** The identity of a flow for replay detection: its uuid, else time + 5-tuple + observation point + L7 type. */
export function flowKey(f: HubbleFlow): string {
  if (f.uuid) return f.uuid;
  const ip = f.ip;
  const l4 = f.l4;
  return `${f.timeUnixNano}|${ip?.source ?? ''}|${l4?.sourcePort ?? 0}|${ip?.destination ?? ''}|${l4?.destinationPort ?? 0}|${l4?.protocol ?? ''}|${f.traceObservationPoint ?? ''}|${f.l7?.type ?? ''}|${f.nodeName ?? ''}`;
}

/** FNV-1a over a string's UTF-16 code units, never 0 (0 marks an empty slot). */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  return h === 0 ? 1 : h;
}

/**
 * One generation of RecentSet: an open-addressing table (linear probing, load <= 1/2) of key hashes in a
 * typed array with the keys beside them, so a hit is confirmed on the key itself. Grows by doubling while
 * the first generation fills, then is cleared and reused: no allocation per key, unlike a Set, whose
 * growing hash table (and its GC) cost more than the rest of the replay filter.
 */
class KeyTable {
  hashes: Int32Array;
  keys: (string | undefined)[];
  size = 0;

  constructor(capacity: number) {
    this.hashes = new Int32Array(capacity);
    this.keys = new Array<string | undefined>(capacity).fill(undefined);
  }

  has(key: string, h: number): boolean {
    const hashes = this.hashes;
    const mask = hashes.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const x = hashes[i];
      if (x === 0) return false;
      if (x === h && this.keys[i] === key) return true;
    }
  }

  /** Inserts a key known to be absent. */
  insert(key: string, h: number): void {
    if ((this.size + 1) * 2 > this.hashes.length) this.grow();
    const hashes = this.hashes;
    const mask = hashes.length - 1;
    let i = h & mask;
    while (hashes[i] !== 0) i = (i + 1) & mask;
    hashes[i] = h;
    this.keys[i] = key;
    this.size++;
  }

  private grow(): void {
    const { hashes, keys } = this;
    this.hashes = new Int32Array(hashes.length * 2);
    this.keys = new Array<string | undefined>(hashes.length * 2).fill(undefined);
    this.size = 0;
    for (let i = 0; i < hashes.length; i++) if (hashes[i] !== 0) this.insert(keys[i]!, hashes[i]);
  }

  clear(): void {
    if (this.size === 0) return;
    this.hashes.fill(0);
    this.keys.fill(undefined);
    this.size = 0;
  }
}

/**
 * A bounded set of recently seen keys in two generations (the older half is dropped when the newer one
 * fills): O(1) per key, where deleting a Set's oldest entry gets slow in V8 after many deletions.
 */
export class RecentSet {
  private cur = new KeyTable(1024);
  private old = new KeyTable(1024);
  private readonly half: number;

  constructor(max: number) {
    this.half = Math.max(1, Math.ceil(max / 2));
  }

  /** Adds the key; returns false when it was already there (a replayed flow). */
  add(key: string): boolean {
    const h = hashKey(key) | 0;
    if (this.cur.has(key, h) || this.old.has(key, h)) return false;
    this.cur.insert(key, h);
    if (this.cur.size >= this.half) {
      const dropped = this.old;
      this.old = this.cur;
      dropped.clear();
      this.cur = dropped;
    }
    return true;
  }

  /** Number of keys held. */
  get size(): number {
    return this.cur.size + this.old.size;
  }
}
