/**
 * Process attribution for live capture: maps a new connection or DNS query to the process that owns its
 * socket at the moment its first packet is seen. Local port -> socket inode from the one /proc/net table
 * the flow can be in (searched line by line, stopping at the socket: see socket-table.ts), inode -> pid
 * from the `socket:[inode]` links under /proc/PID/fd (processes that appeared most recently first: a new
 * socket almost always belongs to a new process), then pid, parent, executable, redacted command line,
 * uid, container id and ancestry from /proc/PID, read at once so they survive the process's exit.
 * Everything is synchronous and bounded so it runs inside the packet engine's onNewFlow hook while a
 * short-lived client (curl) still exists.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { basename } from 'node:path';
import type { ComponentCounters } from '../component/telemetry.js';
import type { Endpoint, ProcessInfo } from '../model/observation.js';
import { redactCommandLine } from '../util/redact.js';
import { containerIdFromCgroup, parseCmdline, parseStat, parseStatusUid } from './procfs.js';
import { SocketTableReader } from './socket-table.js';
import type { SocketMatch } from './socket-table.js';

/** Settings of process attribution (the pcap receiver's `process_attribution` block). */
export interface AttributorOptions {
  /** procfs mount to read (tests point it at fixtures). */
  procRoot: string;
  /** How many ancestors (parent, grandparent ...) to list. */
  ancestryDepth: number;
  /** How long cached socket owners and process details are trusted. */
  refreshIntervalMs: number;
  /** Upper bound on the synchronous /proc/*\/fd scan of one lookup, so a huge host cannot stall the packet loop. */
  maxScanMs?: number;
  /**
   * Processes first seen within this long are "young" and scanned synchronously, newest first; older
   * ones (daemons, servers: alive, so not in a hurry) are scanned in the background when a lookup gives
   * a callback for a late answer. Default 2000.
   */
  youngMs?: number;
  /** Longest command line kept (characters, after redaction). */
  maxCommandLineChars?: number;
  /**
   * Which addresses are this host's (network namespace's); flows touching none of them are not looked up.
   * Defaults to os.networkInterfaces() plus loopback, refreshed every refreshIntervalMs * 50.
   */
  localAddresses?: () => Iterable<string>;
  /** Clock (ms), for tests. */
  now?: () => number;
}

/** Outcome counts, also exported as `process_attribution{result=...}` (hit, miss, not_local). */
export interface AttributionStats {
  hit: number;
  miss: number;
  notLocal: number;
  /** Misses by cause: the socket was already closed (its row had no inode, TIME_WAIT or orphaned FIN_WAIT). */
  missClosed: number;
  /** Misses by cause: no row for the flow in the socket table (the socket was gone entirely). */
  missNoSocket: number;
  /** Misses by cause: the socket existed but no process held it any more (or the scan ran out of time). */
  missNoOwner: number;
  /** /proc/net table searches. */
  socketTableReads: number;
  /** /proc/*\/fd scans (synchronous, and background passes). */
  fdScans: number;
  /** Hits found by a background scan (a subset of hit). */
  late: number;
}

/** How the last lookup went (for the receiver's debug log: what decides whether a short-lived client is caught). */
export interface LookupTrace {
  result: 'hit' | 'closed' | 'no_socket' | 'no_owner' | 'not_local' | 'pending';
  /** Time in the socket tables, the fd scan and reading the process, ms. */
  tableMs: number;
  ownerMs: number;
  infoMs: number;
  /** read() calls on socket tables, and process fd directories read. */
  tableReads: number;
  pidsScanned: number;
}

interface Owner {
  pid: number;
  fd: string;
  /** When the link was last seen. */
  at: number;
  /** The scan pass that saw it. */
  pass: number;
}

interface CachedProcess {
  at: number;
  startTime: number;
  info: ProcessInfo;
}

interface RecentSocket {
  at: number;
  inode: number;
}

interface LateLookup {
  inode: number;
  done: (info: ProcessInfo | undefined) => void;
  /** Order of arrival: a pass answers "not found" only to lookups that were waiting when it began. */
  seq: number;
}

/** A callback for a lookup answered after it returned (by a background scan of older processes). */
export type LateAnswer = (info: ProcessInfo | undefined) => void;

// Which tables a flow's socket can be in, in search order: an IPv4 flow's socket is an AF_INET one (tcp)
// or a dual-stack AF_INET6 one listing IPv4 peers as ::ffff:a.b.c.d (tcp6); an IPv6 flow's only tcp6.
const FILES = {
  tcp: { v4: ['net/tcp', 'net/tcp6'], v6: ['net/tcp6'] },
  udp: { v4: ['net/udp', 'net/udp6'], v6: ['net/udp6'] },
} as const;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function normalizeAddress(a: string): string {
  const lower = a.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

function defaultLocalAddresses(): string[] {
  const out = ['127.0.0.1', '::1'];
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) out.push(i.address.replace(/%.*$/, ''));
  return out;
}

const isPid = (n: string): boolean => n.charCodeAt(0) >= 0x30 && n.charCodeAt(0) <= 0x39;

/** Finds the process behind a flow's local socket by reading procfs; counts hits and misses. */
export class ProcessAttributor {
  private readonly opts: Required<Omit<AttributorOptions, 'localAddresses' | 'now'>>;
  /** Sockets whose owner no scan found, and when (not scanned for again within the refresh interval). */
  private readonly ownerless = new Map<number, number>();
  /** Lookups waiting for the background scan, and that scan's state. */
  private lateQueue: LateLookup[] = [];
  private bgPids: number[] | undefined;
  private bgTimer?: NodeJS.Immediate;
  private bgPass = 0;
  private passes = 0;
  private lateSeq = 0;
  /** The last lookup a running background pass covers from its start. */
  private bgCovers = 0;
  private readonly ancestors = new Map<number, { at: number; list: string[] }>();
  private readonly now: () => number;
  private readonly localSource: () => Iterable<string>;
  private local = new Set<string>();
  private localAt = -Infinity;
  private readonly reader = new SocketTableReader();
  /** Sockets found recently, by flow (a resolver sends A and AAAA from one socket, microseconds apart). */
  private readonly recent = new Map<string, RecentSocket>();
  private readonly owners = new Map<number, Owner>();
  /** Every pid seen in /proc, with when it was first seen: newest are scanned first. */
  private readonly known = new Map<number, number>();
  private readonly processes = new Map<number, CachedProcess>();
  private readonly counts: AttributionStats = { hit: 0, miss: 0, notLocal: 0, missClosed: 0, missNoSocket: 0, missNoOwner: 0, socketTableReads: 0, fdScans: 0, late: 0 };
  /** How the last lookup went (overwritten by each lookup). */
  readonly lastTrace: LookupTrace = { result: 'not_local', tableMs: 0, ownerMs: 0, infoMs: 0, tableReads: 0, pidsScanned: 0 };

  constructor(options: AttributorOptions, private readonly counters?: ComponentCounters) {
    this.opts = {
      procRoot: options.procRoot.replace(/\/+$/, '') || '/proc',
      ancestryDepth: options.ancestryDepth,
      refreshIntervalMs: options.refreshIntervalMs,
      maxScanMs: options.maxScanMs ?? 10,
      youngMs: options.youngMs ?? 2_000,
      maxCommandLineChars: options.maxCommandLineChars ?? 4096,
    };
    this.now = options.now ?? Date.now;
    this.localSource = options.localAddresses ?? defaultLocalAddresses;
  }

  private bootTimeMs?: number;

  /**
   * When a process started (unix ms, 10 ms resolution), from its cached or current /proc/PID/stat and the
   * boot time in /proc/stat; undefined when unknown.
   */
  startedAtMs(pid: number): number | undefined {
    const ticks = this.processes.get(pid)?.startTime ?? parseStat(readText(`${this.opts.procRoot}/${pid}/stat`) ?? '')?.startTime;
    if (ticks === undefined) return undefined;
    if (this.bootTimeMs === undefined) {
      const m = /^btime\s+(\d+)/m.exec(readText(`${this.opts.procRoot}/stat`) ?? '');
      if (!m) return undefined;
      this.bootTimeMs = Number(m[1]) * 1000;
    }
    // USER_HZ is 100 on every Linux ABI Node supports.
    return this.bootTimeMs + ticks * 10;
  }

  /** Counts so far. */
  stats(): AttributionStats {
    return { ...this.counts };
  }

  /**
   * The process owning the local side of a flow (src for an outgoing connection or query, dst for an
   * incoming one), or undefined (counted as a miss, or as not_local when neither side is this host's).
   * With `late`, a socket that exists but belongs to no young process is looked for among older ones in
   * the background: lookup() then returns undefined and `late` is called once, with the process or
   * undefined (the trace says `pending`). Without it, older processes are scanned now, within maxScanMs.
   */
  lookup(transport: 'tcp' | 'udp', src: Endpoint, dst: Endpoint, late?: LateAnswer): ProcessInfo | undefined {
    const now = this.now();
    const tr = this.lastTrace;
    tr.tableMs = tr.ownerMs = tr.infoMs = tr.tableReads = tr.pidsScanned = 0;
    tr.result = 'no_socket';
    if (now - this.localAt > this.opts.refreshIntervalMs * 50) {
      this.local = new Set([...this.localSource()].map(normalizeAddress));
      this.localAt = now;
    }
    const sides: [Endpoint, Endpoint][] = [];
    if (this.local.has(normalizeAddress(src.address))) sides.push([src, dst]);
    if (this.local.has(normalizeAddress(dst.address))) sides.push([dst, src]);
    if (sides.length === 0) {
      tr.result = 'not_local';
      this.count('notLocal', 'not_local');
      return undefined;
    }
    let pendingInode: number | undefined;
    for (const [local, remote] of sides) {
      let t = performance.now();
      const inode = this.findSocket(transport, local, remote, now);
      let t2 = performance.now();
      tr.tableMs += t2 - t;
      if (inode === undefined) continue;
      t = t2;
      // A resolver's second query (AAAA after A, same socket) while the first waits for the background
      // scan: it waits too, without scanning again.
      if (late && this.lateQueue.some((l) => l.inode === inode)) {
        pendingInode ??= inode;
        tr.result = 'no_owner';
        continue;
      }
      const pid = this.ownerOf(inode, now, late !== undefined);
      t2 = performance.now();
      tr.ownerMs += t2 - t;
      if (pid === undefined) {
        if (late && !this.ownerless.has(inode)) pendingInode ??= inode;
        tr.result = 'no_owner';
        continue;
      }
      const info = this.processInfo(pid, now);
      tr.infoMs += performance.now() - t2;
      if (info) {
        tr.result = 'hit';
        this.count('hit', 'hit');
        return info;
      }
      tr.result = 'no_owner';
    }
    if (pendingInode !== undefined && late) {
      tr.result = 'pending';
      this.lateQueue.push({ inode: pendingInode, done: late, seq: ++this.lateSeq });
      this.scheduleBackground();
      return undefined;
    }
    this.countMiss(tr.result);
    return undefined;
  }

  private countMiss(why: LookupTrace['result']): void {
    if (why === 'closed') this.counts.missClosed++;
    else if (why === 'no_owner' || why === 'pending') this.counts.missNoOwner++;
    else this.counts.missNoSocket++;
    this.count('miss', 'miss');
  }

  private count(key: 'hit' | 'miss' | 'notLocal', result: string): void {
    this.counts[key]++;
    this.counters?.add('process_attribution', 1, { result });
  }

  /**
   * The inode of the flow's local socket: the exact 5-tuple found within the refresh interval, else a
   * search of the tables it can be in. A row without an inode (closed) ends the search: a closed IPv4
   * socket proves it was not a dual-stack one, so tcp6 need not be walked too.
   */
  private findSocket(transport: 'tcp' | 'udp', local: Endpoint, remote: Endpoint, now: number): number | undefined {
    const tr = this.lastTrace;
    const key = `${transport} ${local.address} ${local.port} ${remote.address} ${remote.port}`;
    const r = this.recent.get(key);
    if (r && now - r.at <= this.opts.refreshIntervalMs) return r.inode;
    const files = FILES[transport][local.address.includes(':') && !local.address.includes('.') ? 'v6' : 'v4'];
    let m: SocketMatch | undefined;
    for (const file of files) {
      m = this.reader.find(`${this.opts.procRoot}/${file}`, { localAddress: local.address, localPort: local.port, remoteAddress: remote.address, remotePort: remote.port });
      this.counts.socketTableReads++;
      tr.tableReads += this.reader.lastReads;
      if (m) break;
    }
    if (!m) return undefined;
    if (m.inode === 0) {
      tr.result = 'closed';
      return undefined;
    }
    if (m.exact) {
      this.recent.set(key, { at: now, inode: m.inode });
      if (this.recent.size > 4096) this.recent.delete(this.recent.keys().next().value!);
    }
    return m.inode;
  }

  /** Reads the fd links and this process's details once, so the first real lookup is fast (and the JIT warm). */
  prime(): void {
    const now = this.now();
    this.reader.find(`${this.opts.procRoot}/net/udp`, { localAddress: '0.0.0.0', localPort: 0, remoteAddress: '0.0.0.0', remotePort: 0 });
    this.scanFds(-1, now, false);
    // What runs now is not young: only processes that appear from here on are scanned synchronously.
    for (const pid of this.known.keys()) this.known.set(pid, -Infinity);
    this.processInfo(process.pid, now);
  }

  /** Stops the background scan; lookups still waiting for it get their late answer (undefined) now. */
  close(): void {
    if (this.bgTimer) clearImmediate(this.bgTimer);
    this.bgTimer = undefined;
    this.bgPids = undefined;
    const q = this.lateQueue;
    this.lateQueue = [];
    for (const l of q) {
      this.countMiss('no_owner');
      l.done(undefined);
    }
  }

  /** Lookups waiting for a background scan. */
  pendingCount(): number {
    return this.lateQueue.length;
  }

  private ownerOf(inode: number, now: number, youngOnly: boolean): number | undefined {
    const cached = this.owners.get(inode);
    if (cached) {
      // Socket inodes are not reused while the kernel's counter has not wrapped: an owner found within the
      // refresh interval is trusted as is, so the second query of a resolver (A then AAAA on one socket)
      // is attributed even when the socket closed in between.
      if (now - cached.at <= this.opts.refreshIntervalMs) return cached.pid;
      if (readlinkSafe(`${this.opts.procRoot}/${cached.pid}/fd/${cached.fd}`) === `socket:[${inode}]`) {
        cached.at = now;
        return cached.pid;
      }
      this.owners.delete(inode);
    }
    // A socket no scan could place (closed in between, or another namespace's process we cannot read)
    // is not scanned for again at once: a resolver's second query would repeat the whole scan.
    const gone = this.ownerless.get(inode);
    if (gone !== undefined && now - gone <= this.opts.refreshIntervalMs) return undefined;
    const pid = this.scanFds(inode, now, youngOnly);
    if (pid === undefined && !youngOnly) this.markOwnerless(inode, now);
    return pid;
  }

  private markOwnerless(inode: number, now: number): void {
    this.ownerless.set(inode, now);
    if (this.ownerless.size > 4096) this.ownerless.delete(this.ownerless.keys().next().value!);
  }

  /** Lists /proc's pids, newest first (by when first seen, then by pid), noting new ones and forgetting gone ones. */
  private listPids(now: number): number[] | undefined {
    let names: string[];
    try {
      names = readdirSync(this.opts.procRoot);
    } catch {
      return undefined;
    }
    const known = this.known;
    const pids: number[] = [];
    const present = new Set<number>();
    for (const n of names) {
      if (!isPid(n)) continue;
      const pid = Number(n);
      pids.push(pid);
      present.add(pid);
      if (!known.has(pid)) known.set(pid, now);
    }
    for (const pid of known.keys()) if (!present.has(pid)) known.delete(pid);
    pids.sort((a, b) => known.get(b)! - known.get(a)! || b - a);
    return pids;
  }

  /** Reads one process's fd links, remembering every socket's owner; whether `target` was among them. */
  private scanPid(pid: number, target: number, now: number, pass: number): boolean {
    const dir = `${this.opts.procRoot}/${pid}/fd`;
    let fds: string[];
    try {
      fds = readdirSync(dir);
    } catch {
      return false; // exited, or not ours to read (needs CAP_SYS_PTRACE or the same uid)
    }
    this.lastTrace.pidsScanned++;
    let found = false;
    for (const fd of fds) {
      const link = readlinkSafe(`${dir}/${fd}`);
      if (!link || !link.startsWith('socket:[')) continue;
      const inode = Number(link.slice(8, -1));
      // A socket shared after fork() is credited to the newest holder (scanned first in a pass): the child
      // that uses it, not the shell that started it.
      const o = this.owners.get(inode);
      if (!o || (o.pass !== pass && o.pid !== pid)) this.owners.set(inode, { pid, fd, at: now, pass });
      else if (o.pid === pid) {
        o.at = now;
        o.pass = pass;
      }
      if (inode === target) found = true;
    }
    // Keep the owner map bounded: drop the oldest half when it grows past a generous size.
    if (this.owners.size > 100_000) {
      let drop = this.owners.size / 2;
      for (const k of this.owners.keys()) {
        if (drop-- <= 0) break;
        this.owners.delete(k);
      }
    }
    return found;
  }

  /**
   * Scans /proc/*\/fd for the socket, processes that appeared most recently first (a new connection's
   * owner is usually a new process: a build step's curl), stopping when found. With youngOnly, processes
   * first seen more than youngMs ago are left to the background scan. Stops after maxScanMs.
   */
  private scanFds(target: number, now: number, youngOnly: boolean): number | undefined {
    this.counts.fdScans++;
    const pass = ++this.passes;
    const pids = this.listPids(now);
    if (!pids) return undefined;
    const started = performance.now();
    const youngSince = now - this.opts.youngMs;
    for (const pid of pids) {
      if (youngOnly && this.known.get(pid)! < youngSince) break;
      if (this.scanPid(pid, target, now, pass)) return pid;
      if (target >= 0 && performance.now() - started > this.opts.maxScanMs) break;
    }
    return undefined;
  }

  private scheduleBackground(): void {
    if (this.bgTimer) return;
    this.bgTimer = setImmediate(() => this.backgroundSlice());
  }

  /**
   * One slice (about 1 ms) of the background scan for the waiting lookups: every process is read once
   * per pass, over as many event-loop turns as it takes, so packets keep being handled in between.
   */
  private backgroundSlice(): void {
    this.bgTimer = undefined;
    const now = this.now();
    if (!this.bgPids) {
      this.counts.fdScans++;
      this.bgPass = ++this.passes;
      this.bgCovers = this.lateSeq;
      this.bgPids = this.listPids(now) ?? [];
    }
    const started = performance.now();
    while (this.bgPids.length > 0 && this.lateQueue.length > 0) {
      const pid = this.bgPids.shift()!;
      this.scanPid(pid, -1, now, this.bgPass);
      this.settleLate(now, false);
      if (performance.now() - started > 1) break;
    }
    if (this.lateQueue.length === 0 || this.bgPids.length === 0) {
      this.bgPids = undefined;
      this.settleLate(now, true);
    }
    if (this.lateQueue.length > 0) this.scheduleBackground();
  }

  /** Answers waiting lookups whose socket owner is now known (all of them, unanswered or not, when `final`). */
  private settleLate(now: number, final: boolean): void {
    if (this.lateQueue.length === 0) return;
    const keep: LateLookup[] = [];
    for (const l of this.lateQueue) {
      const o = this.owners.get(l.inode);
      const info = o ? this.processInfo(o.pid, now) : undefined;
      if (info) {
        this.counts.late++;
        this.count('hit', 'hit');
        l.done(info);
      } else if (final && l.seq <= this.bgCovers) {
        this.markOwnerless(l.inode, now);
        this.countMiss('no_owner');
        l.done(undefined);
      } else keep.push(l);
    }
    this.lateQueue = keep;
  }

/** Process details for a pid (cached for refreshIntervalMs, keyed by pid and start time). */
  processInfo(pid: number, now = this.now()): ProcessInfo | undefined {
    const root = this.opts.procRoot;
    const recent = this.processes.get(pid);
    // Within the refresh interval a cached process is trusted without reading /proc again: it may have
    // exited already (curl), which is exactly when it must still be named.
    if (recent && now - recent.at <= this.opts.refreshIntervalMs) return recent.info;
    const statText = readText(`${root}/${pid}/stat`);
    const stat = statText ? parseStat(statText) : undefined;
    if (!stat) return undefined;
    const cached = this.processes.get(pid);
    if (cached && cached.startTime === stat.startTime && now - cached.at <= this.opts.refreshIntervalMs) return cached.info;
    const info: ProcessInfo = { pid, ppid: stat.ppid };
    const exe = readlinkSafe(`${root}/${pid}/exe`);
    if (exe) {
      info.executablePath = exe.replace(/ \(deleted\)$/, '');
      info.executableName = basename(info.executablePath);
    } else info.executableName = stat.comm;
    const cmd = readFileSafe(`${root}/${pid}/cmdline`);
    if (cmd && cmd.length > 0) {
      let line = redactCommandLine(parseCmdline(cmd));
      if (line.length > this.opts.maxCommandLineChars) line = `${line.slice(0, this.opts.maxCommandLineChars)}…`;
      info.commandLine = line;
    }
    const status = readText(`${root}/${pid}/status`);
    const uid = status ? parseStatusUid(status) : undefined;
    if (uid !== undefined) info.uid = uid;
    const cgroup = readText(`${root}/${pid}/cgroup`);
    const cid = cgroup ? containerIdFromCgroup(cgroup) : undefined;
    if (cid) info.containerId = cid;
    const ancestry = this.ancestry(stat.ppid, now);
    if (ancestry.length > 0) info.ancestry = [...ancestry];
    this.processes.set(pid, { at: now, startTime: stat.startTime, info });
    if (this.processes.size > 10_000) this.processes.delete(this.processes.keys().next().value!);
    return info;
  }

  private ancestry(ppid: number, now: number): string[] {
    // Parents (a shell, make, a CI runner) are long-lived and shared by many children: cached.
    const c = this.ancestors.get(ppid);
    if (c && now - c.at <= this.opts.refreshIntervalMs) return c.list;
    const out: string[] = [];
    let pid = ppid;
    for (let depth = 0; depth < this.opts.ancestryDepth && pid > 0; depth++) {
      const text = readText(`${this.opts.procRoot}/${pid}/stat`);
      const stat = text ? parseStat(text) : undefined;
      if (!stat) break;
      out.push(`${pid}:${stat.comm}`);
      pid = stat.ppid;
    }
    this.ancestors.set(ppid, { at: now, list: out });
    if (this.ancestors.size > 1024) this.ancestors.delete(this.ancestors.keys().next().value!);
    return out;
  }
}

function readlinkSafe(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function readFileSafe(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}
