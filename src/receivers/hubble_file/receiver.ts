/**
 * The `hubble_file` receiver: GetFlowsResponse jsonpb lines (`hubble observe -o jsonpb`, or the agent's
 * flow-log export file) from stdin or a file. A followed file is polled: growth is read, a rename + new
 * file (logrotate create) is handled by reading the rest of the old file first, then the new one from its
 * start; a truncation (copytruncate) restarts at 0. Garbage and over-long lines are skipped, counted
 * (skipped{reason}) and logged with file and line number, never fatal.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ComponentSettings, Receiver, ReceiverSink } from '../../component/types.js';
import { HubbleEventHandler } from '../../hubble/events.js';
import { normalizeResponse } from '../../hubble/normalize.js';
import { PastewatchError, describeError } from '../../util/errors.js';
import type { HubbleFileConfig } from './config.js';
import { LineSplitter } from './lines.js';

const CHUNK = 256 * 1024;

/** Extra wiring for tests: a stream to read instead of process.stdin. */
export interface HubbleFileOptions {
  stdin?: Readable;
}

/** Why a line was skipped (counted as skipped{reason}). */
export type LineSkipReason = 'invalid_json' | 'line_too_long' | 'not_an_object' | 'invalid_flow' | 'unknown_record';

/** The hubble_file receiver (type `hubble_file`). */
export class HubbleFileReceiver implements Receiver {
  private readonly handler: HubbleEventHandler;
  private readonly splitter: LineSplitter;
  private readonly skips = new Map<string, number>();
  private sink: ReceiverSink | undefined;
  private closing = false;
  private stopped: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private fh: FileHandle | undefined;
  private stream: Readable | undefined;
  /** Name used in log lines: the path, or `stdin`. */
  private readonly fileLabel: string;

  constructor(
    private readonly settings: ComponentSettings,
    private readonly config: HubbleFileConfig,
    private readonly options: HubbleFileOptions = {},
  ) {
    this.handler = new HubbleEventHandler(settings, { maxConnections: config.max_connections, connectionIdleMs: config.connection_idle_ms });
    this.fileLabel = config.path === '-' ? 'stdin' : config.path;
    this.splitter = new LineSplitter(config.max_line_bytes, {
      line: (text, n) => this.onLine(text, n),
      tooLong: (n, bytes) => this.skip('line_too_long', n, `line longer than max_line_bytes (${this.config.max_line_bytes})`, { bytes }),
    });
  }

  /** Opens the input; rejects with INPUT_NOT_FOUND when a file that is not followed does not exist. */
  async start(sink: ReceiverSink): Promise<void> {
    if (this.sink || this.stopped) throw new PastewatchError('INTERNAL', `receiver ${this.settings.id}: start() called twice`);
    this.sink = sink;
    this.settings.health.set('receiver', this.settings.id, 'starting');
    if (this.config.path === '-') {
      this.readStream(this.options.stdin ?? process.stdin);
      return;
    }
    const path = this.config.path;
    let fh: FileHandle | undefined;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && this.config.follow) {
        this.settings.logger.warn('waiting for the hubble flow file to appear', { file: path });
      } else {
        const e = new PastewatchError(code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_CORRUPT', `receiver ${this.settings.id}: cannot open ${path}: ${describeError(err)}`, { cause: err });
        this.settings.health.set('receiver', this.settings.id, 'failed', e.message);
        this.sink = undefined;
        throw e;
      }
    }
    if (fh && !this.config.follow && (await isGzip(fh))) {
      // A rotated, compressed export file read once: decompress as a stream.
      await fh.close();
      this.readStream(createReadStream(path).pipe(createGunzip()));
      return;
    }
    this.fh = fh;
    const fromEnd = this.config.start_at === 'end' || (this.config.start_at === 'auto' && this.config.follow);
    // The start offset is fixed before start() resolves: what is written after start() is read.
    let pos = 0;
    let ino = -1;
    if (fh) {
      const st = await fh.stat();
      ino = st.ino;
      pos = fromEnd ? st.size : 0;
      if (pos > 0) {
        // Starting at the end while the writer is mid-line: the rest of that line is not a whole record.
        const b = Buffer.alloc(1);
        await fh.read(b, 0, 1, pos - 1);
        if (b[0] !== 10) this.splitter.skipToNextLine();
      }
    }
    this.settings.health.set('receiver', this.settings.id, 'ok');
    this.loop = this.tail(pos, ino).catch((err: unknown) => this.failed(err));
  }

  private readStream(stream: Readable): void {
    this.stream = stream;
    this.settings.health.set('receiver', this.settings.id, 'ok');
    stream.on('data', (chunk: Buffer | string) => {
      if (this.closing) return;
      this.splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    });
    stream.once('end', () => {
      if (this.closing) return;
      this.splitter.flush();
      this.finish();
    });
    stream.once('error', (err) => this.failed(err));
  }

  /** Reads and follows the file until shutdown (or EOF when not following). */
  private async tail(startPos: number, startIno: number): Promise<void> {
    const path = this.config.path;
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = startPos;
    let ino = startIno;
    while (!this.closing) {
      if (!this.fh) {
        // Waiting for the file (to appear, or to be recreated after a rename).
        const fh = await open(path, 'r').catch(() => undefined);
        if (!fh) {
          await this.sleep();
          continue;
        }
        this.fh = fh;
        ino = (await fh.stat()).ino;
        pos = 0;
        this.splitter.reset();
        this.settings.logger.info('reading hubble flow file', { file: path });
      }
      const { bytesRead } = await this.fh.read(buf, 0, CHUNK, pos);
      if (this.closing) break;
      if (bytesRead > 0) {
        pos += bytesRead;
        this.splitter.push(buf.subarray(0, bytesRead));
        continue;
      }
      // At EOF.
      if (!this.config.follow) {
        this.splitter.flush();
        this.finish();
        return;
      }
      const cur = await stat(path).catch(() => undefined);
      if (cur && cur.ino !== ino) {
        // Rotated (renamed away, a new file in its place): the old handle is at its end (read above
        // returned 0 after the rename), so its last line is complete; switch to the new file from 0.
        this.splitter.flush();
        await this.fh.close();
        this.fh = undefined;
        this.settings.telemetry.add('rotations', 1, { kind: 'rename' });
        this.settings.logger.info('hubble flow file rotated (new file)', { file: path });
        continue;
      }
      const size = (await this.fh.stat()).size;
      if (size < pos) {
        // copytruncate: the file was cut; what is now there is new.
        this.splitter.flush();
        this.splitter.reset();
        pos = 0;
        this.settings.telemetry.add('rotations', 1, { kind: 'truncate' });
        this.settings.logger.info('hubble flow file truncated, reading from its start', { file: path });
        continue;
      }
      await this.sleep();
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, this.config.poll_interval_ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private onLine(text: string, lineNo: number): void {
    const sink = this.sink;
    if (!sink || this.closing) return;
    if (text.length === 0 || (text.length < 4 && text.trim() === '')) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      this.skip('invalid_json', lineNo, 'line is not JSON', { error: describeError(err) });
      return;
    }
    const ev = normalizeResponse(parsed);
    if (typeof ev === 'string') {
      const why = ev === 'unknown_record' ? 'JSON object carries none of flow, node_status, lost_events, agent_event, debug_event' : ev === 'invalid_flow' ? '"flow" is not an object' : 'line is not a JSON object';
      this.skip(ev, lineNo, why, {});
      return;
    }
    this.handler.handle(ev, (o) => sink.emit(o));
  }

  private skip(reason: LineSkipReason, lineNo: number, why: string, fields: Record<string, unknown>): void {
    this.settings.telemetry.add('skipped', 1, { reason });
    const n = (this.skips.get(reason) ?? 0) + 1;
    this.skips.set(reason, n);
    if (n === 1 || n % this.config.log_every === 0) {
      this.settings.logger.warn(`skipped line ${lineNo} of ${this.fileLabel}: ${why}`, { file: this.fileLabel, line: lineNo, reason, skipped_total: n, ...fields });
    }
  }

  private finish(): void {
    if (this.closing) return;
    this.settings.logger.info('hubble flow input complete', { file: this.fileLabel });
    this.settings.health.set('receiver', this.settings.id, 'stopped');
    const sink = this.sink;
    this.sink = undefined;
    sink?.end();
  }

  private failed(err: unknown): void {
    if (this.closing) return;
    const e = new PastewatchError('INPUT_CORRUPT', `receiver ${this.settings.id}: reading ${this.fileLabel} failed: ${describeError(err)}`, { cause: err });
    this.settings.logger.error('reading hubble flows failed', { file: this.fileLabel, error: describeError(err) });
    this.settings.health.set('receiver', this.settings.id, 'failed', e.message);
    const sink = this.sink;
    this.sink = undefined;
    sink?.fail(e);
  }

  /** Stops reading; idempotent and safe without start(). */
  shutdown(): Promise<void> {
    this.stopped ??= this.close();
    return this.stopped;
  }

  private async close(): Promise<void> {
    this.closing = true;
    this.wake?.();
    if (this.stream) {
      this.stream.removeAllListeners('data');
      this.stream.on('error', () => {});
      if (this.stream !== process.stdin) this.stream.destroy();
      else this.stream.pause();
    }
    await this.loop?.catch(() => undefined);
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    if (this.sink) this.settings.health.set('receiver', this.settings.id, 'stopped');
    this.sink = undefined;
  }
}

async function isGzip(fh: FileHandle): Promise<boolean> {
  const b = Buffer.alloc(2);
  const { bytesRead } = await fh.read(b, 0, 2, 0);
  return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
}
