/**
 * Finding one socket in /proc/net/{tcp,tcp6,udp,udp6} fast. The kernel builds these files by walking its
 * whole socket hash (for TCP: every established-hash bucket of every network namespace, ~1.5 ms for
 * 262144 buckets whatever the socket count), and it walks only as far as the bytes asked for. So the file
 * is read a line at a time at first (each line appears as soon as the walk reaches its socket), scanned by
 * hand for the hex port in the local-address column without making strings, and closed as soon as the
 * flow's socket (or proof that it is closed) is found: on average half the walk, and no parsing of the rest.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { decodeProcAddress } from './procfs.js';

/** What a search found: the socket's inode (0 when the socket is closed: TIME_WAIT, orphaned FIN_WAIT). */
export interface SocketMatch {
  inode: number;
  /** Kernel socket state (0x0A = TCP LISTEN, 0x07 = unconnected UDP / TCP CLOSE). */
  state: number;
  /** The row names the flow's remote address and port (a connected socket), not a wildcard. */
  exact: boolean;
}

/** What a search looks for: the local side of a flow and, to tell connected sockets apart, its peer. */
export interface SocketQuery {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

// Hex digit values (255 = not a hex digit).
const HEX = new Uint8Array(256).fill(255);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX[0x41 + i] = HEX[0x61 + i] = 10 + i;

const SPACE = 0x20;
const COLON = 0x3a;
const NL = 0x0a;

function normalize(a: string): string {
  const lower = a.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

function isWildcard(a: string): boolean {
  return a === '0.0.0.0' || a === '::';
}

/** Reads 4 hex digits at `at` (a port); -1 when they are not hex. */
function hex4(b: Buffer, at: number): number {
  const a = HEX[b[at]], c = HEX[b[at + 1]], d = HEX[b[at + 2]], e = HEX[b[at + 3]];
  if ((a | c | d | e) === 255) return -1;
  return (a << 12) | (c << 8) | (d << 4) | e;
}

/**
 * Scans the complete lines in b[start, end) for rows whose local port is the query's. Returns the offset
 * just past the last line examined, calling `row` for each matching row (it returns true to stop).
 * Pure: tested on fixture text. Rows that do not have the expected shape are skipped.
 */
export function scanRows(b: Buffer, start: number, end: number, port: number, row: (local: string, remote: string, remotePort: number, state: number, inode: number) => boolean): { next: number; stopped: boolean } {
  let i = start;
  while (i < end) {
    const eol = b.indexOf(NL, i);
    if (eol < 0 || eol >= end) break;
    const lineEnd = eol;
    const lineStart = i;
    i = eol + 1;
    // "  sl: LOCALHEX:PORT REMOTEHEX:PORT ST ..." : the local address starts after "sl: ".
    let p = lineStart;
    while (p < lineEnd && b[p] === SPACE) p++;
    while (p < lineEnd && b[p] !== COLON) p++;
    p++;
    while (p < lineEnd && b[p] === SPACE) p++;
    const laStart = p;
    while (p < lineEnd && b[p] !== COLON) p++;
    const laLen = p - laStart;
    if (p + 5 > lineEnd || (laLen !== 8 && laLen !== 32)) continue; // the header line, or malformed
    if (hex4(b, p + 1) !== port) continue;
    // A row on our port (rare): decode the rest.
    p += 6;
    const raStart = p;
    while (p < lineEnd && b[p] !== COLON) p++;
    if (p - raStart !== laLen || p + 5 > lineEnd) continue;
    const remotePort = hex4(b, p + 1);
    p += 6;
    const st = (HEX[b[p]] << 4) | HEX[b[p + 1]];
    if (remotePort < 0 || st > 255) continue;
    // inode is the 6th field after the state: tx:rx tr:when retrnsmt uid timeout inode.
    p += 2;
    let field = 0;
    let inode = -1;
    while (p < lineEnd) {
      while (p < lineEnd && b[p] === SPACE) p++;
      const fs = p;
      while (p < lineEnd && b[p] !== SPACE) p++;
      if (p === fs) break;
      if (++field === 6) {
        inode = 0;
        for (let k = fs; k < p; k++) {
          const d = b[k] - 0x30;
          if (d < 0 || d > 9) { inode = -1; break; }
          inode = inode * 10 + d;
        }
        break;
      }
    }
    if (inode < 0) continue;
    const local = decodeProcAddress(b.toString('latin1', laStart, laStart + laLen));
    const remote = decodeProcAddress(b.toString('latin1', raStart, raStart + laLen));
    if (row(local, remote, remotePort, st, inode)) return { next: i, stopped: true };
  }
  return { next: i, stopped: false };
}

/**
 * Searches /proc/net tables with one reused buffer. Not re-entrant (one search at a time, which the
 * synchronous packet loop guarantees).
 */
export class SocketTableReader {
  private buf = Buffer.allocUnsafe(1 << 16);
  /** Syscalls and bytes of the last search (for the debug log and tests). */
  lastReads = 0;
  lastBytes = 0;

  /**
   * Finds the socket of the query in one table file. An exact row (same peer) ends the search at once,
   * live or closed; otherwise the whole file is read and the first live wildcard row (an unconnected UDP
   * socket, a listener) is the answer. Undefined when the file holds no row on the port, or cannot be read.
   */
  find(path: string, q: SocketQuery): SocketMatch | undefined {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return undefined;
    }
    const local = normalize(q.localAddress);
    const remote = normalize(q.remoteAddress);
    let exact: SocketMatch | undefined;
    let fallback: SocketMatch | undefined;
    const row = (la: string, ra: string, rp: number, state: number, inode: number): boolean => {
      const l = normalize(la);
      if (l !== local && !isWildcard(l)) return false;
      if (rp === q.remotePort && normalize(ra) === remote) {
        exact = { inode, state, exact: true };
        return true;
      }
      if (rp === 0 && inode !== 0 && !fallback) fallback = { inode, state, exact: false };
      return false;
    };
    let start = 0;
    let end = 0;
    let reads = 0;
    let bytes = 0;
    try {
      for (;;) {
        // One line per read while the table is sparse (each read returns as soon as the walk reaches a
        // socket); bigger reads as rows keep coming (a busy host namespace), so syscalls stay few.
        const want = Math.min(this.buf.length - end, 192 << Math.min(9, reads >> 5));
        if (want < 192) {
          // A line longer than the buffer cannot happen (rows are < 200 bytes); keep the tail and go on.
          this.buf.copy(this.buf, 0, start, end);
          end -= start;
          start = 0;
          if (this.buf.length - end < 192) break;
          continue;
        }
        const n = readSync(fd, this.buf, end, want, null);
        reads++;
        if (n <= 0) break;
        bytes += n;
        end += n;
        const r = scanRows(this.buf, start, end, q.localPort, row);
        if (r.stopped) break;
        start = r.next;
        if (start === end) start = end = 0;
      }
    } catch {
      // the file vanished (namespace gone) or a read failed: what was found so far stands
    } finally {
      closeSync(fd);
    }
    this.lastReads = reads;
    this.lastBytes = bytes;
    return exact ?? fallback;
  }
}
