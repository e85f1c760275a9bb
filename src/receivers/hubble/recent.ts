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

/**
 * A bounded set of recently seen keys in two generations (the older half is dropped when the newer one
 * fills): O(1) per key, where deleting a Set's oldest entry gets slow in V8 after many deletions.
 */
export class RecentSet {
  private cur = new Set<string>();
  private old = new Set<string>();
  private readonly half: number;

  constructor(max: number) {
    this.half = Math.max(1, Math.ceil(max / 2));
  }

  /** Adds the key; returns false when it was already there (a replayed flow). */
  add(key: string): boolean {
    if (this.cur.has(key) || this.old.has(key)) return false;
    this.cur.add(key);
    if (this.cur.size >= this.half) {
      this.old = this.cur;
      this.cur = new Set();
    }
    return true;
  }

  /** Number of keys held. */
  get size(): number {
    return this.cur.size + this.old.size;
  }
}
