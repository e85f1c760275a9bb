/**
 * Process attribution for live capture: maps a new connection or DNS query to the process that owns its
 * socket at the moment its first packet is seen. Local port -> socket inode from /proc/net/{tcp,udp}{,6},
 * inode -> pid from the `socket:[inode]` links under /proc/PID/fd, then pid, parent, executable, redacted
 * command line, uid, container id and ancestry from /proc/PID. Everything is synchronous and bounded so it
 * can run inside the packet engine's onNewFlow hook while a short-lived client (curl) still exists.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { basename } from 'node:path';
import type { ComponentCounters } from '../component/telemetry.js';
import type { Endpoint, ProcessInfo } from '../model/observation.js';
import { redactCommandLine } from '../util/redact.js';
import { containerIdFromCgroup, parseCmdline, parseProcNet, parseStat, parseStatusUid } from './procfs.js';
import type { SocketEntry } from './procfs.js';

/** Settings of process attribution (the pcap receiver's `process_attribution` block). */
export interface AttributorOptions {
  /** procfs mount to read (tests point it at fixtures). */
  procRoot: string;
  /** How many ancestors (parent, grandparent ...) to list. */
  ancestryDepth: number;
  /** How long cached socket tables, socket owners and process details are trusted. */
  refreshIntervalMs: number;
  /** Upper bound on one /proc/*\/fd scan, so a huge host cannot stall the packet loop. */
  maxScanMs?: number;
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

/** Outcome counts, also exported as `process_attribution{result=...}`. */
export interface AttributionStats {
  hit: number;
  miss: number;
  notLocal: number;
  socketTableReads: number;
  fdScans: number;
}

interface Owner {
  pid: number;
  fd: string;
  /** When the link was last seen. */
  at: number;
}

interface CachedProcess {
  at: number;
  startTime: number;
  info: ProcessInfo;
}

interface SocketTable {
  at: number;
  byPort: Map<number, SocketEntry[]>;
}

// Reading /proc/net/tcp walks the kernel's whole established hash (about 1 ms whatever the socket count),
// so only the table a flow can be in is read: IPv4 flows look in tcp then tcp6 (dual-stack sockets list
// IPv4 peers there as ::ffff:a.b.c.d), IPv6 flows in tcp6 only.
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

/** Finds the process behind a flow's local socket by reading procfs; counts hits and misses. */
export class ProcessAttributor {
  private readonly opts: Required<Omit<AttributorOptions, 'localAddresses' | 'now'>>;
  private readonly now: () => number;
  private readonly localSource: () => Iterable<string>;
  private local = new Set<string>();
  private localAt = -Infinity;
  private readonly tables = new Map<string, SocketTable>();
  private readonly owners = new Map<number, Owner>();
  private readonly processes = new Map<number, CachedProcess>();
  private readonly counts: AttributionStats = { hit: 0, miss: 0, notLocal: 0, socketTableReads: 0, fdScans: 0 };

  constructor(options: AttributorOptions, private readonly counters?: ComponentCounters) {
    this.opts = {
      procRoot: options.procRoot.replace(/\/+$/, '') || '/proc',
      ancestryDepth: options.ancestryDepth,
      refreshIntervalMs: options.refreshIntervalMs,
      maxScanMs: options.maxScanMs ?? 10,
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
   */
  lookup(transport: 'tcp' | 'udp', src: Endpoint, dst: Endpoint): ProcessInfo | undefined {
    const now = this.now();
    if (now - this.localAt > this.opts.refreshIntervalMs * 50) {
      this.local = new Set([...this.localSource()].map(normalizeAddress));
      this.localAt = now;
    }
    const sides: [Endpoint, Endpoint][] = [];
    if (this.local.has(normalizeAddress(src.address))) sides.push([src, dst]);
    if (this.local.has(normalizeAddress(dst.address))) sides.push([dst, src]);
    if (sides.length === 0) {
      this.count('notLocal', 'not_local');
      return undefined;
    }
    for (const [local, remote] of sides) {
      const info = this.resolve(transport, local, remote, now);
      if (info) {
        this.count('hit', 'hit');
        return info;
      }
    }
    this.count('miss', 'miss');
    return undefined;
  }

  private count(key: 'hit' | 'miss' | 'notLocal', result: string): void {
    this.counts[key]++;
    this.counters?.add('process_attribution', 1, { result });
  }

  private resolve(transport: 'tcp' | 'udp', local: Endpoint, remote: Endpoint, now: number): ProcessInfo | undefined {
    const entry = this.findSocket(transport, local, remote, now);
    if (!entry) return undefined;
    const pid = this.ownerOf(entry.inode, now);
    if (pid === undefined) return undefined;
    return this.processInfo(pid, now);
  }

  /**
   * The socket of the flow's local side: a cached table is searched first; a new flow's socket is usually
   * newer than the cache, so a miss (or a stale cache) re-reads that one table once.
   */
  private findSocket(transport: 'tcp' | 'udp', local: Endpoint, remote: Endpoint, now: number): SocketEntry | undefined {
    const files = FILES[transport][local.address.includes(':') && !local.address.includes('.') ? 'v6' : 'v4'];
    for (const file of files) {
      let table = this.tables.get(file);
      let fresh = false;
      if (!table || now - table.at > this.opts.refreshIntervalMs) {
        table = this.readTable(file, transport, now);
        fresh = true;
      }
      let e = pick(table.byPort.get(local.port), remote);
      if (!e && !fresh) e = pick(this.readTable(file, transport, now).byPort.get(local.port), remote);
      if (e) return e;
    }
    return undefined;
  }

  private readTable(file: string, transport: 'tcp' | 'udp', now: number): SocketTable {
    const byPort = new Map<number, SocketEntry[]>();
    const text = readText(`${this.opts.procRoot}/${file}`);
    if (text !== undefined) {
      for (const e of parseProcNet(text, transport).entries) {
        if (e.inode === 0) continue;
        const list = byPort.get(e.localPort);
        if (list) list.push(e);
        else byPort.set(e.localPort, [e]);
      }
    }
    const table = { at: now, byPort };
    this.tables.set(file, table);
    this.counts.socketTableReads++;
    return table;
  }

  /** Reads the socket tables, the fd links and this process's details once, so the first real lookup is fast. */
  prime(): void {
    const now = this.now();
    this.readTable('net/tcp', 'tcp', now);
    this.readTable('net/udp', 'udp', now);
    this.scanFds(-1, now);
    this.processInfo(process.pid, now);
  }

  private ownerOf(inode: number, now: number): number | undefined {
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
      // The socket was ours and is gone: no other process holds it, a scan would only cost time.
      this.owners.delete(inode);
      return undefined;
    }
    return this.scanFds(inode, now);
  }

  /** Scans /proc/*\/fd newest pid first (the owner of a new socket is usually a new process), stopping when found. */
  private scanFds(target: number, now: number): number | undefined {
    this.counts.fdScans++;
    let pids: number[];
    try {
      pids = readdirSync(this.opts.procRoot).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => b - a);
    } catch {
      return undefined;
    }
    const started = Date.now();
    let found: number | undefined;
    for (const pid of pids) {
      const dir = `${this.opts.procRoot}/${pid}/fd`;
      let fds: string[];
      try {
        fds = readdirSync(dir);
      } catch {
        continue; // exited, or not ours to read (needs CAP_SYS_PTRACE or the same uid)
      }
      for (const fd of fds) {
        const link = readlinkSafe(`${dir}/${fd}`);
        if (!link || !link.startsWith('socket:[')) continue;
        const inode = Number(link.slice(8, -1));
        if (!this.owners.has(inode)) this.owners.set(inode, { pid, fd, at: now });
        if (inode === target) found = pid;
      }
      if (found !== undefined) return found;
      if (Date.now() - started > this.opts.maxScanMs) break;
    }
    // Keep the owner map bounded: drop the oldest half when it grows past a generous size.
    if (this.owners.size > 100_000) {
      let drop = this.owners.size / 2;
      for (const k of this.owners.keys()) {
        if (drop-- <= 0) break;
        this.owners.delete(k);
      }
    }
    return undefined;
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
    const ancestry = this.ancestry(stat.ppid);
    if (ancestry.length > 0) info.ancestry = ancestry;
    this.processes.set(pid, { at: now, startTime: stat.startTime, info });
    if (this.processes.size > 10_000) this.processes.delete(this.processes.keys().next().value!);
    return info;
  }

  private ancestry(ppid: number): string[] {
    const out: string[] = [];
    let pid = ppid;
    for (let depth = 0; depth < this.opts.ancestryDepth && pid > 0; depth++) {
      const text = readText(`${this.opts.procRoot}/${pid}/stat`);
      const stat = text ? parseStat(text) : undefined;
      if (!stat) break;
      out.push(`${pid}:${stat.comm}`);
      pid = stat.ppid;
    }
    return out;
  }
}

/** Prefers the connected socket with this exact peer, then an unconnected or listening one on the port. */
function pick(list: SocketEntry[] | undefined, remote: Endpoint): SocketEntry | undefined {
  if (!list) return undefined;
  const raddr = normalizeAddress(remote.address);
  let fallback: SocketEntry | undefined;
  for (const e of list) {
    if (e.remotePort === remote.port && normalizeAddress(e.remoteAddress) === raddr) return e;
    if (e.remotePort === 0 && !fallback) fallback = e;
  }
  return fallback;
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
