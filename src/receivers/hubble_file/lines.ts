/**
 * Splits a byte stream into lines with a length cap: an over-long line is skipped as it streams past
 * (never buffered whole), reported with its line number. Pure; the readers feed it chunks.
 */

/** Receives what the splitter finds. */
export interface LineHandler {
  /** A complete line (without the newline; a trailing CR is removed). */
  line(text: string, lineNo: number): void;
  /** A line longer than the cap, skipped. */
  tooLong(lineNo: number, bytes: number): void;
}

/** Incremental newline splitter with a per-line byte cap. */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partLen = 0;
  private discarding = false;
  private discarded = 0;
  /** Discarding a partial first line (started mid-line): not reported. */
  private silent = false;
  /** Number of the line being assembled (1-based). */
  lineNo = 1;

  constructor(
    private readonly maxLineBytes: number,
    private readonly handler: LineHandler,
  ) {}

  /** Feeds a chunk; complete lines go to the handler synchronously. */
  push(chunk: Buffer): void {
    let start = 0;
    const len = chunk.length;
    while (start < len) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? len : nl;
      const segLen = end - start;
      if (this.discarding) this.discarded += segLen;
      else if (this.partLen + segLen > this.maxLineBytes) {
        this.discarding = true;
        this.discarded = this.partLen + segLen;
        this.parts = [];
        this.partLen = 0;
      } else if (nl !== -1 && this.partLen === 0) {
        this.emit(chunk.toString('utf8', start, end));
      } else {
        this.parts.push(chunk.subarray(start, end));
        this.partLen += segLen;
        if (nl !== -1) this.emit(this.take());
      }
      if (nl === -1) {
        // Keep a copy: the reader may reuse its buffer for the next chunk.
        if (!this.discarding && this.parts.length) {
          const last = this.parts.length - 1;
          this.parts[last] = Buffer.from(this.parts[last]);
        }
        break;
      }
      if (this.discarding) this.finishDiscard();
      start = nl + 1;
    }
  }

  /** The input ended (EOF, rotation, truncation): a final unterminated line counts as a line. */
  flush(): void {
    if (this.discarding) this.finishDiscard();
    else if (this.partLen > 0) this.emit(this.take());
  }

  /** Skips, without reporting, everything up to the next newline (reading started in the middle of a line). */
  skipToNextLine(): void {
    this.discarding = true;
    this.silent = true;
    this.discarded = 0;
  }

  /** Drops any partial line and restarts numbering (a new file). */
  reset(): void {
    this.parts = [];
    this.partLen = 0;
    this.discarding = false;
    this.silent = false;
    this.discarded = 0;
    this.lineNo = 1;
  }

  private take(): string {
    const s = this.parts.length === 1 ? this.parts[0].toString('utf8') : Buffer.concat(this.parts, this.partLen).toString('utf8');
    this.parts = [];
    this.partLen = 0;
    return s;
  }

  private emit(text: string): void {
    const n = this.lineNo++;
    this.handler.line(text.endsWith('\r') ? text.slice(0, -1) : text, n);
  }

  private finishDiscard(): void {
    if (this.silent) {
      this.silent = false;
      this.discarding = false;
      this.discarded = 0;
      return;
    }
    const n = this.lineNo++;
    const bytes = this.discarded;
    this.discarding = false;
    this.discarded = 0;
    this.handler.tooLong(n, bytes);
  }
}
