/**
 * Pure parsers for the procfs files process attribution reads: /proc/net/{tcp,udp}{,6} (socket tables),
 * /proc/PID/stat, /proc/PID/status, /proc/PID/cmdline and /proc/PID/cgroup. No I/O here, so each parser
 * is tested on fixture text.
 */

/** One row of /proc/net/tcp, tcp6, udp or udp6. */
export interface SocketEntry {
  transport: 'tcp' | 'udp';
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** Kernel socket state (hex in the file): 0x0A = LISTEN for TCP, 0x07 = unconnected UDP. */
  state: number;
  uid: number;
  /** Socket inode; 0 for sockets no process owns any more (TIME_WAIT ...). */
  inode: number;
}

// The kernel prints each 32-bit word of an address in host byte order; every platform Node runs
// pastewatch on (x86-64, arm64) is little-endian, so bytes come reversed within each word.
function word(hex: string, at: number): number[] {
  const b: number[] = [];
  for (let i = 6; i >= 0; i -= 2) b.push(parseInt(hex.slice(at + i, at + i + 2), 16));
  return b;
}

/** Decodes the hex address of a /proc/net row (8 digits for IPv4, 32 for IPv6) to its text form. */
export function decodeProcAddress(hex: string): string {
  if (hex.length === 8) return word(hex, 0).join('.');
  if (hex.length !== 32) return '';
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) bytes.push(...word(hex, w * 8));
  // IPv4-mapped IPv6 (::ffff:a.b.c.d): show the IPv4 form, as packet decoders do for the flow.
  if (bytes.slice(0, 10).every((x) => x === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  return compressIPv6(groups);
}

/** RFC 5952 text form of eight 16-bit groups (longest zero run of two or more becomes "::"). */
export function compressIPv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Parses the text of /proc/net/tcp[6] or udp[6]; malformed rows are skipped (and counted in `skipped`). */
export function parseProcNet(text: string, transport: 'tcp' | 'udp'): { entries: SocketEntry[]; skipped: number } {
  const entries: SocketEntry[] = [];
  let skipped = 0;
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const f = line.split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    if (f.length < 10) {
      skipped++;
      continue;
    }
    const [la, lp] = f[1].split(':');
    const [ra, rp] = f[2].split(':');
    const inode = Number(f[9]);
    const localPort = parseInt(lp ?? '', 16);
    const remotePort = parseInt(rp ?? '', 16);
    if (!Number.isFinite(inode) || !Number.isFinite(localPort) || !Number.isFinite(remotePort) || (la.length !== 8 && la.length !== 32)) {
      skipped++;
      continue;
    }
    entries.push({
      transport,
      localAddress: decodeProcAddress(la),
      localPort,
      remoteAddress: decodeProcAddress(ra ?? ''),
      remotePort,
      state: parseInt(f[3], 16),
      uid: Number(f[7]),
      inode,
    });
  }
  return { entries, skipped };
}

/** The fields of /proc/PID/stat attribution needs. */
export interface ProcStat {
  pid: number;
  /** The kernel's short name (comm), at most 15 characters. */
  comm: string;
  state: string;
  ppid: number;
  /** Start time in clock ticks since boot: with the pid, it identifies a process across pid reuse. */
  startTime: number;
}

/** Parses /proc/PID/stat; the comm field may hold spaces and parentheses, so fields are read after the last ')'. */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 1).trim().split(/\s+/);
  // rest[0] = state (field 3), rest[1] = ppid (field 4), rest[19] = starttime (field 22).
  const ppid = Number(rest[1]);
  const startTime = Number(rest[19]);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid)) return undefined;
  return { pid, comm: text.slice(open + 1, close), state: rest[0] ?? '', ppid, startTime: Number.isFinite(startTime) ? startTime : 0 };
}

/** The real uid from /proc/PID/status (`Uid:` line, first field), or undefined. */
export function parseStatusUid(text: string): number | undefined {
  const m = /^Uid:\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Joins /proc/PID/cmdline (NUL-separated arguments) with spaces; quotes arguments that hold spaces. */
export function parseCmdline(buf: Buffer | string): string {
  const s = typeof buf === 'string' ? buf : buf.toString('utf8');
  const args = s.split('\0');
  if (args.length > 0 && args[args.length - 1] === '') args.pop();
  return args.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

// Container runtimes name cgroups after the 64-hex container id: docker-<id>.scope, cri-containerd-<id>.scope,
// crio-<id>.scope, libpod-<id>.scope, /docker/<id>, /kubepods/.../<id>, /actions_job/<id>.
const CONTAINER_ID_RE = /(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?:\/|$)/;

/** The container id in a /proc/PID/cgroup file (the innermost 64-hex id on any line), or undefined. */
export function containerIdFromCgroup(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    let found: string | undefined;
    for (const seg of path.split('/')) {
      const m = CONTAINER_ID_RE.exec(`/${seg}`);
      if (m) found = m[1];
    }
    if (found) return found;
  }
  return undefined;
}
