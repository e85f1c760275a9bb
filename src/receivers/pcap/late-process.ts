/**
 * Late process answers, in order. A flow whose socket belongs to no young process is looked for among
 * older ones (daemons, servers) in the background, so the packet loop never waits for a whole /proc scan
 * while a short-lived client's first packet is queued behind it. While such a lookup is open, every
 * observation waits here in arrival order (a few milliseconds); when it settles, the flow's observations
 * get the process and everything up to the next open lookup is released. Later observations of a settled
 * flow (its connection report at FIN, seconds later) get the process too.
 */
import type { Observation, ProcessInfo } from '../../model/observation.js';

/** The key of a flow as both the hook and the observations see it: transport, client, server. */
export function flowKeyOf(transport: string, srcAddress: string, srcPort: number, dstAddress: string, dstPort: number): string {
  return `${transport} ${srcAddress}:${srcPort} ${dstAddress}:${dstPort}`;
}

function keyOfObservation(obs: Observation): string | undefined {
  if (!obs.source || !obs.destination || !obs.transport) return undefined;
  return flowKeyOf(obs.transport, obs.source.address, obs.source.port, obs.destination.address, obs.destination.port);
}

/** Holds observations in order while background process lookups are open. */
export class LateProcessQueue {
  private queue: Observation[] = [];
  private readonly open = new Set<string>();
  /** Answers of settled lookups (bounded; a new lookup of the same 5-tuple replaces its entry). */
  private readonly settled = new Map<string, ProcessInfo>();

  constructor(private readonly emit: (obs: Observation) => void, private readonly max = 4096) {}

  /** A new flow's lookup starts: forget what an earlier flow of the same 5-tuple settled. */
  begin(key: () => string): void {
    if (this.settled.size > 0) this.settled.delete(key());
  }

  /** The flow's lookup continues in the background: hold observations until settle(). */
  expect(key: string): void {
    this.open.add(key);
  }

  /** The background lookup of `key` finished (with the process, or undefined): release what can go. */
  settle(key: string, process: ProcessInfo | undefined): void {
    if (!this.open.delete(key)) return;
    if (process) {
      this.settled.set(key, process);
      if (this.settled.size > this.max) this.settled.delete(this.settled.keys().next().value!);
    }
    this.drain();
  }

  /** One observation from the engine: passed on now, or held behind an open lookup. */
  push(obs: Observation): void {
    if (this.queue.length === 0 && this.open.size === 0) {
      this.fill(obs);
      this.emit(obs);
      return;
    }
    this.queue.push(obs);
    this.drain();
  }

  /** Observations held right now. */
  heldCount(): number {
    return this.queue.length;
  }

  /** Releases everything (shutdown): open lookups are given up. */
  flush(): void {
    this.open.clear();
    this.drain();
  }

  private fill(obs: Observation): void {
    if (obs.process || this.settled.size === 0) return;
    const key = keyOfObservation(obs);
    const p = key === undefined ? undefined : this.settled.get(key);
    if (p) obs.process = p;
  }

  private drain(): void {
    let i = 0;
    const q = this.queue;
    while (i < q.length) {
      const key = keyOfObservation(q[i]);
      if (key !== undefined && this.open.has(key)) break;
      this.fill(q[i]);
      this.emit(q[i]);
      i++;
    }
    if (i > 0) this.queue = q.slice(i);
    // A held queue must not grow without bound while a lookup is open: past the cap, give up the oldest.
    if (this.queue.length > this.max) {
      const k = keyOfObservation(this.queue[0]);
      if (k !== undefined) this.open.delete(k);
      this.drain();
    }
  }
}
