/**
 * The on-disk half of the durable sending queue: append-only segment files of JSON lines, each line fsynced
 * before the append returns, plus a committed-offset file (segment + byte offset) replaced atomically after a
 * batch was delivered. Fully delivered segments are deleted. One process per directory.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PastewatchError, describeError } from '../../util/errors.js';

const SEGMENT_BYTES = 1024 * 1024;
const SEG_RE = /^(\d{10})\.seg$/;

/** Where one item lives on disk: its segment and the byte offset just after its line. */
export interface DiskPosition {
  seg: number;
  end: number;
}

/** One item recovered from disk. */
export interface RecoveredLine {
  text: string;
  pos: DiskPosition;
}

/** What recover() found. */
export interface Recovery {
  lines: RecoveredLine[];
  /** Bytes of a torn last line (a write a crash interrupted: never acknowledged) that were cut off. */
  tornBytes: number;
}

/** Append-only segment files with a committed offset. */
export class FileStore {
  private fd?: number;
  private seg = 0;
  private size = 0;

  constructor(readonly dir: string) {}

  private segPath(n: number): string {
    return join(this.dir, `${String(n).padStart(10, '0')}.seg`);
  }

  private segments(): number[] {
    return readdirSync(this.dir)
      .map((f) => SEG_RE.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  private readOffset(): DiskPosition {
    const p = join(this.dir, 'offset');
    if (!existsSync(p)) return { seg: 0, end: 0 };
    const m = /^(\d+) (\d+)/.exec(readFileSync(p, 'utf8'));
    return m ? { seg: Number(m[1]), end: Number(m[2]) } : { seg: 0, end: 0 };
  }

  /**
   * Creates the directory and reads back what an earlier run persisted but did not commit, oldest first. New
   * appends go to a fresh segment. Throws PastewatchError INPUT_NOT_FOUND when the directory is unusable.
   */
  recover(): Recovery {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const off = this.readOffset();
      const lines: RecoveredLine[] = [];
      let tornBytes = 0;
      const segs = this.segments();
      for (const n of segs) {
        if (n < off.seg) {
          rmSync(this.segPath(n), { force: true });
          continue;
        }
        const buf = readFileSync(this.segPath(n));
        let start = n === off.seg ? Math.min(off.end, buf.length) : 0;
        for (;;) {
          const nl = buf.indexOf(0x0a, start);
          if (nl < 0) break;
          lines.push({ text: buf.subarray(start, nl).toString('utf8'), pos: { seg: n, end: nl + 1 } });
          start = nl + 1;
        }
        if (start < buf.length) {
          // A line without its newline: the append was cut by a crash before consume() returned.
          tornBytes += buf.length - start;
          const fd = openSync(this.segPath(n), 'r+');
          ftruncateSync(fd, start);
          fsyncSync(fd);
          closeSync(fd);
        }
      }
      this.seg = (segs.length ? segs[segs.length - 1] : off.seg) + 1;
      this.openSegment();
      return { lines, tornBytes };
    } catch (err) {
      if (err instanceof PastewatchError) throw err;
      throw new PastewatchError('INPUT_NOT_FOUND', `sending queue directory ${this.dir} is not usable: ${describeError(err)}`, { cause: err });
    }
  }

  private openSegment(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = openSync(this.segPath(this.seg), 'a', 0o600);
    this.size = statSync(this.segPath(this.seg)).size;
  }

  /** Appends one line and fsyncs it; returns where it ended. Throws on a write failure (nothing is kept then). */
  append(line: string): DiskPosition {
    if (this.fd === undefined) throw new PastewatchError('INTERNAL', 'file store used before recover()');
    if (this.size >= SEGMENT_BYTES) {
      this.seg++;
      this.openSegment();
    }
    const data = Buffer.from(line + '\n', 'utf8');
    try {
      writeSync(this.fd, data);
      fsyncSync(this.fd);
    } catch (err) {
      try {
        ftruncateSync(this.fd, this.size); // cut a partial write so the next line starts clean
      } catch {
        // the disk is in trouble; recover() cuts a torn line on the next start
      }
      throw err;
    }
    this.size += data.length;
    return { seg: this.seg, end: this.size };
  }

  /** Records that everything up to pos was delivered, and deletes segments wholly before it. */
  commit(pos: DiskPosition, empty: boolean): void {
    const tmp = join(this.dir, 'offset.tmp');
    writeFileSync(tmp, `${pos.seg} ${pos.end}\n`, { mode: 0o600 });
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(this.dir, 'offset'));
    for (const n of this.segments()) if (n < pos.seg) rmSync(this.segPath(n), { force: true });
    // Nothing waits and the current segment grew large: start a fresh one so the old can go.
    if (empty && pos.seg === this.seg && this.size >= SEGMENT_BYTES) {
      this.seg++;
      this.openSegment();
    }
  }

  /** Closes the open segment. */
  close(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = undefined;
    }
  }
}
