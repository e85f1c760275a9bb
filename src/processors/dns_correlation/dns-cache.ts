/**
 * IP -> names learned from DNS answers, with TTLs in observation time. Reusable outside the processor
 * (the Hubble and Falco receivers can feed and query their own instance).
 */
import type { DnsInfo, DnsRecord } from '../../model/observation.js';

/** DnsCache limits. */
export interface DnsCacheOptions {
  /** TTLs below this are raised (a 0-TTL answer still explains the connection that follows it). */
  minTtlS: number;
  /** TTLs above this are lowered (IPs of shared CDNs get reused for other names). */
  maxTtlS: number;
  /** Most addresses (x scopes) held; the least recently learned go first. */
  maxEntries: number;
  /** Most names kept per address (a CDN address can serve hundreds). */
  maxNamesPerAddress?: number;
  /** Called with the number of addresses evicted to respect maxEntries. */
  onEvict?: (n: number) => void;
  /** Called with the number of names dropped because their TTL ran out. */
  onExpire?: (n: number) => void;
}

const NS_PER_S = 1_000_000_000n;

/** Names of one address with their expiry (unix ns, observation time). */
type NameExpiry = Map<string, bigint>;

/** One address's entry in the recency list. */
interface Entry {
  key: string;
  names: NameExpiry;
  prev: Entry | null;
  next: Entry | null;
}

/**
 * A bounded IP -> names cache with TTL in observation time and least-recently-learned eviction. Recency is
 * an intrusive doubly-linked list beside the Map, so learning and evicting are O(1): evicting through
 * `map.keys().next()` after many deletions gets slow in V8, which a DNS answer flood would exploit.
 */
export class DnsCache {
  private readonly table = new Map<string, Entry>();
  private head: Entry | null = null; // least recently learned
  private tail: Entry | null = null;
  private readonly maxNames: number;

  constructor(private readonly opts: DnsCacheOptions) {
    this.maxNames = opts.maxNamesPerAddress ?? 64;
  }

  /** Addresses (x scopes) currently held. */
  get size(): number {
    return this.table.size;
  }

  private unlink(e: Entry): void {
    if (e.prev) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = e.next = null;
  }

  private append(e: Entry): void {
    e.prev = this.tail;
    e.next = null;
    if (this.tail) this.tail.next = e;
    else this.head = e;
    this.tail = e;
  }

  private key(ip: string, scope: string | undefined): string {
    return scope === undefined ? ip : `${scope}|${ip}`;
  }

  private ttlNs(ttl: number): bigint {
    const t = Number.isFinite(ttl) ? Math.min(Math.max(ttl, this.opts.minTtlS), this.opts.maxTtlS) : this.opts.minTtlS;
    return BigInt(Math.floor(t)) * NS_PER_S;
  }

  /** Records that `ip` answered for `name` from `atUnixNano` for `ttlS` seconds (clamped). */
  learnOne(ip: string, name: string, ttlS: number, atUnixNano: bigint, scope?: string): void {
    const k = this.key(ip.toLowerCase(), scope);
    let e = this.table.get(k);
    if (e) this.unlink(e); // re-appended below: the list order is learn recency
    else {
      e = { key: k, names: new Map(), prev: null, next: null };
      this.table.set(k, e);
    }
    this.append(e);
    const names = e.names;
    const exp = atUnixNano + this.ttlNs(ttlS);
    const prev = names.get(name);
    if (prev === undefined || prev < exp) {
      names.delete(name);
      names.set(name, exp);
    }
    while (names.size > this.maxNames) names.delete(names.keys().next().value as string);
    let n = 0;
    while (this.table.size > this.opts.maxEntries && this.head) {
      const old = this.head;
      this.unlink(old);
      this.table.delete(old.key);
      n++;
    }
    if (n) this.opts.onEvict?.(n);
  }

  /**
   * Learns from one DNS response: every A/AAAA address learns its owner, every name that CNAMEs to it
   * (transitively) and the question; HTTPS/SVCB ipv4hint/ipv6hint addresses learn their owner the same way.
   * The TTL of a name is the smallest along its chain. Returns the number of (address, name) pairs learned.
   */
  learn(dns: DnsInfo, atUnixNano: bigint, scope?: string): number {
    if (!dns.response || dns.rcode !== 0 || dns.answers.length === 0) return 0;
    // target -> CNAME records pointing at it, to walk chains backwards from an address record's owner.
    const byTarget = new Map<string, DnsRecord[]>();
    for (const r of dns.answers) {
      if (r.type !== 'CNAME') continue;
      const t = normal(r.data);
      const list = byTarget.get(t);
      if (list) list.push(r);
      else byTarget.set(t, [r]);
    }
    let learned = 0;
    const query = normal(dns.query);
    for (const r of dns.answers) {
      let addrs: readonly string[];
      if (r.type === 'A' || r.type === 'AAAA') addrs = [r.data];
      else if ((r.type === 'HTTPS' || r.type === 'SVCB') && r.hints && r.hints.length) addrs = r.hints;
      else continue;
      const names = chainNames(normal(r.name), r.ttl, byTarget);
      if (query !== '' && !names.has(query)) names.set(query, r.ttl);
      for (const ip of addrs) {
        if (!ip) continue;
        for (const [name, ttl] of names) {
          this.learnOne(ip, name, ttl, atUnixNano, scope);
          learned++;
        }
      }
    }
    return learned;
  }

  /** Names `ip` answered for that are still valid at `atUnixNano` (observation time); expired ones are dropped. */
  lookup(ip: string, atUnixNano: bigint, scope?: string): string[] {
    const k = this.key(ip.toLowerCase(), scope);
    const e = this.table.get(k);
    if (!e) return [];
    const names = e.names;
    const out: string[] = [];
    let expired = 0;
    for (const [name, exp] of names) {
      if (exp < atUnixNano) {
        names.delete(name);
        expired++;
      } else out.push(name);
    }
    if (names.size === 0) {
      this.unlink(e);
      this.table.delete(k);
    }
    if (expired) this.opts.onExpire?.(expired);
    return out;
  }

  /** Forgets everything. */
  clear(): void {
    this.table.clear();
    this.head = this.tail = null;
  }
}

function normal(name: string): string {
  let end = name.length;
  while (end > 0 && name.charCodeAt(end - 1) === 46) end--;
  return name.slice(0, end).toLowerCase();
}

/** The owner and every name whose CNAME chain reaches it, each with the smallest TTL on its path. */
function chainNames(owner: string, ttl: number, byTarget: Map<string, DnsRecord[]>): Map<string, number> {
  const out = new Map<string, number>([[owner, ttl]]);
  const stack: [string, number][] = [[owner, ttl]];
  // Bounded walk: a looping or huge chain in a hostile answer cannot spin.
  for (let steps = 0; stack.length && steps < 64; steps++) {
    const [target, t] = stack.pop()!;
    for (const c of byTarget.get(target) ?? []) {
      const name = normal(c.name);
      const tt = Math.min(t, c.ttl);
      const seen = out.get(name);
      if (seen !== undefined && seen >= tt) continue;
      out.set(name, tt);
      stack.push([name, tt]);
    }
  }
  return out;
}
