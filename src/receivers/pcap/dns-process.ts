/**
 * Process attribution for DNS exchanges. The engine attributes a query when its first packet is handled,
 * but a resolver inside a short-lived client (glibc getaddrinfo in curl) often closes its socket within a
 * millisecond, before the query is looked at. So:
 * - a response gets the process of its query (same client address, port and DNS id);
 * - an exchange still without a process is held back briefly (hold_ms); when the same client then opens a
 *   flow to one of the answered addresses, the exchange gets that flow's process (and is marked
 *   `pastewatch.process.attribution=dns_followup`) and is released at once, before the flow is reported,
 *   so DNS correlation still sees the answer first. Unmatched exchanges are released unattributed when
 *   their hold expires or on shutdown.
 */
import type { Endpoint, Observation, ProcessInfo } from '../../model/observation.js';

/** Attribute naming how a DNS observation's process was found when it was not its own socket. */
export const ATTRIBUTION_ATTR = 'pastewatch.process.attribution';

interface Held {
  obs: Observation;
  until: number;
}

/** Carries processes between DNS queries, responses and the flows that follow them. */
export class DnsProcessCarry {
  private readonly pending = new Map<string, ProcessInfo>();
  private held: Held[] = [];
  /** Exchanges attributed through a following flow, and released unattributed (for stats and tests). */
  followups = 0;
  unattributed = 0;

  constructor(
    private readonly emit: (obs: Observation) => void,
    private readonly holdMs: number,
    private readonly now: () => number = Date.now,
    private readonly max = 4096,
  ) {}

  /** Handles one observation from the engine: emits it now, or holds an unattributed DNS one. */
  push(obs: Observation): void {
    if (obs.kind !== 'dns' || !obs.dns || !obs.source) {
      this.emit(obs);
      return;
    }
    const key = `${obs.source.address}|${obs.source.port}|${obs.dns.id}`;
    if (obs.process) {
      if (!obs.dns.response) this.remember(key, obs.process);
      this.emit(obs);
      return;
    }
    const p = this.pending.get(key);
    if (p) {
      obs.process = p;
      this.emit(obs);
      return;
    }
    if (this.holdMs <= 0 || this.held.length >= this.max) {
      this.unattributed++;
      this.emit(obs);
      return;
    }
    this.held.push({ obs, until: this.now() + this.holdMs });
  }

  /**
   * A new flow started (its process, if attributed, is given): held exchanges of the same client whose
   * answers hold the flow's destination get the process and are released.
   */
  onFlow(src: Endpoint, dst: Endpoint, process: ProcessInfo | undefined, startedAtMs?: number): void {
    if (this.held.length === 0) return;
    // Which client ports asked for this destination? A process that started after the query cannot have
    // asked it (another client resolved the same name or address just before): those stay held.
    const notBefore = startedAtMs === undefined ? -Infinity : startedAtMs - 20;
    const ports = new Set<number>();
    for (const h of this.held) {
      const o = h.obs;
      if (process && Number(o.timeUnixNano / 1_000_000n) < notBefore) continue;
      if (o.dns!.response && o.source!.address === src.address && o.dns!.answers.some((a) => a.data === dst.address || a.hints?.includes(dst.address))) ports.add(o.source!.port);
    }
    if (ports.size === 0) return;
    const keep: Held[] = [];
    for (const h of this.held) {
      const o = h.obs;
      if (o.source!.address !== src.address || !ports.has(o.source!.port)) {
        keep.push(h);
        continue;
      }
      if (process) {
        o.process = process;
        o.attributes[ATTRIBUTION_ATTR] = 'dns_followup';
        this.followups++;
      } else this.unattributed++;
      this.emit(o);
    }
    this.held = keep;
  }

  /** Releases exchanges whose hold expired (all of them with `all`), unattributed. */
  release(all = false): void {
    if (this.held.length === 0) return;
    const now = this.now();
    const keep: Held[] = [];
    for (const h of this.held) {
      if (all || h.until <= now) {
        this.unattributed++;
        this.emit(h.obs);
      } else keep.push(h);
    }
    this.held = keep;
  }

  /** Observations held right now. */
  heldCount(): number {
    return this.held.length;
  }

  private remember(key: string, p: ProcessInfo): void {
    this.pending.delete(key);
    this.pending.set(key, p);
    if (this.pending.size > this.max) this.pending.delete(this.pending.keys().next().value!);
  }
}
