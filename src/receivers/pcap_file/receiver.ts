/**
 * The `pcap_file` receiver: reads every capture file of its `path` (one file, a pattern, or stdin) in
 * order through the streaming reader into one PacketEngine, then finishes the engine and ends the sink.
 * It is finite. start() checks the inputs and returns; reading runs in the background, yielding to the
 * event loop between reads so shutdown() (SIGTERM) can stop it after the current read. Damage in a file
 * is logged with the file and byte offset, counted, and the next file is read; nothing read is lost. At
 * the end the sink is told end(), or fail(err) when any input was damaged or could not be read.
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ComponentSettings, Receiver, ReceiverSink, NameInterest } from '../../component/types.js';
import { readCapture, captureFormatOf } from '../../capture/reader.js';
import type { CaptureReadResult } from '../../capture/reader.js';
import { PacketEngine } from '../../packet/engine.js';
import { unixNano } from '../../model/time.js';
import { PastewatchError, describeError } from '../../util/errors.js';
import type { PcapFileConfig } from './config.js';
import { expandPath } from './glob.js';
import { engineOptions } from '../../packet/engine-settings.js';

/** Progress of a read, for the CLI's progress line. */
export interface PcapFileProgress {
  /** The file being read (or `<stdin>`). */
  file: string;
  /** 0-based index of that file and how many there are. */
  fileIndex: number;
  fileCount: number;
  /** Input bytes read so far over all files, and their total size (undefined for stdin). */
  bytesRead: number;
  totalBytes: number | undefined;
  /** Packet records read so far over all files. */
  packets: number;
}

/** What a finished (or stopped) run read. */
export interface PcapFileSummary {
  /** One entry per file read (files that failed to open have none; see errors). */
  files: CaptureReadResult[];
  /** Packet records delivered to the engine over all files. */
  packets: number;
  /** Problems met while reading: damage (INPUT_CORRUPT, with file and offset) and files that failed to open. */
  errors: PastewatchError[];
  /** true when shutdown() stopped the run before the end of the input. */
  stopped: boolean;
}

/** Optional hooks for the CLI and tests. */
export interface PcapFileReceiverOptions {
  /** Called after every read (about every 8 MiB). */
  onProgress?: (p: PcapFileProgress) => void;
  /** The stream read for path `-` (default process.stdin). */
  stdin?: Readable;
}

/** Reads capture files into the packet engine (see the module comment). */
export class PcapFileReceiver implements Receiver {
  private stopping = false;
  private running?: Promise<PcapFileSummary>;
  private files: string[] = [];
  private sizes: (number | undefined)[] = [];
  /** Progress listener (the CLI sets it for its progress line). */
  onProgress?: (p: PcapFileProgress) => void;
  private engine?: PacketEngine;
  private nameInterest?: NameInterest;
  /** The stream being read (path `-`), so shutdown() can end a read that waits for data. */
  private activeStream?: Readable;

  /** Creates the receiver; nothing is opened until start(). */
  constructor(
    private readonly settings: ComponentSettings,
    private readonly config: PcapFileConfig,
    private readonly opts: PcapFileReceiverOptions = {},
  ) {
    this.onProgress = opts.onProgress;
  }

  /**
   * Resolves the path (pattern expansion), checks each file exists, is readable and starts with a pcap
   * or pcapng magic, then starts reading in the background. Rejects with INPUT_NOT_FOUND (missing file,
   * no match, unreadable) or INPUT_CORRUPT (not a capture) before anything is emitted.
   */
  /** DNS messages whose names no pipeline can use are skipped in the engine (see Receiver.setNameInterest). */
  setNameInterest(interest: NameInterest | undefined): void {
    this.nameInterest = interest;
  }

  async start(sink: ReceiverSink): Promise<void> {
    if (this.running) throw new PastewatchError('INTERNAL', `${this.settings.id}: started twice`);
    const { path } = this.config;
    this.settings.health.set('receiver', this.settings.id, 'starting');
    if (path !== '-') {
      this.files = expandPath(path);
      this.sizes = [];
      for (const f of this.files) this.sizes.push(await checkFile(f));
    } else {
      this.files = ['-'];
      this.sizes = [undefined];
    }
    this.engine = new PacketEngine(
      engineOptions(this.settings.id, this.config),
      (obs) => sink.emit(obs),
      this.settings.telemetry,
    );
    this.engine.nameInterest = this.nameInterest;
    this.settings.health.set('receiver', this.settings.id, 'ok');
    this.running = this.run(this.engine, sink);
    // Errors are reported through the summary and the log; never an unhandled rejection.
    this.running.catch(() => undefined);
  }

  /** Resolves when the whole input was read (or the run stopped), with what was read. */
  done(): Promise<PcapFileSummary> {
    if (!this.running) return Promise.reject(new PastewatchError('INTERNAL', `${this.settings.id}: not started`));
    return this.running;
  }

  /** The engine's counters (packets, flows, decode errors ...), for benchmarks and the CLI summary. */
  engineStats(): Record<string, number> {
    return this.engine?.stats() ?? {};
  }

  /** Stops after the current read; the engine is still finished so nothing read is lost. Idempotent. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    // A pipe that stays open without data would keep the current read waiting: end it.
    if (this.activeStream && !this.activeStream.destroyed) this.activeStream.destroy();
    if (this.running) await this.running.catch(() => undefined);
  }

  private async run(engine: PacketEngine, sink: ReceiverSink): Promise<PcapFileSummary> {
    const log = this.settings.logger;
    const tel = this.settings.telemetry;
    const total = this.sizes.every((s) => s !== undefined) ? this.sizes.reduce<number>((a, s) => a + (s ?? 0), 0) : undefined;
    const summary: PcapFileSummary = { files: [], packets: 0, errors: [], stopped: false };
    let doneBytes = 0;
    let packets = 0;
    let lastSec = -1;
    let lastNsec = 0;
    let engineFailures = 0;
    let firstFailure: unknown;
    // The per-packet path: hand the record to the engine; a throwing decoder must not end the read.
    const onRecord = (linkType: number, tsSec: number, tsNsec: number, buf: Buffer, off: number, capLen: number): void => {
      packets++;
      lastSec = tsSec;
      lastNsec = tsNsec;
      try {
        engine.packet(linkType, tsSec, tsNsec, buf, off, capLen);
      } catch (err) {
        engineFailures++;
        firstFailure ??= err;
      }
    };
    try {
      for (let i = 0; i < this.files.length && !this.stopping; i++) {
        const file = this.files[i];
        const input = file === '-' ? (this.opts.stdin ?? process.stdin) : file;
        if (typeof input !== 'string') this.activeStream = input;
        const name = file === '-' ? '<stdin>' : file;
        let result: CaptureReadResult;
        try {
          result = await readCapture(input, onRecord, {
            name,
            bufferSize: this.config.read_buffer_bytes,
            shouldStop: () => this.stopping,
            onChunk: () => {
              if (lastSec >= 0) engine.tick(unixNano(lastSec, lastNsec));
            },
            onProgress: (bytesRead) => {
              // Gauges for `scan`'s progress line and the metrics endpoint.
              tel.gauge('input_bytes_read', doneBytes + bytesRead);
              if (total !== undefined) tel.gauge('input_bytes_total', total);
              this.onProgress?.({ file: name, fileIndex: i, fileCount: this.files.length, bytesRead: doneBytes + bytesRead, totalBytes: total, packets });
            },
          });
        } catch (err) {
          if (this.stopping && typeof input !== 'string') {
            // shutdown() ended the stream under the read: a stop, not an input problem.
            summary.stopped = true;
            break;
          }
          const e = err instanceof PastewatchError ? err : new PastewatchError('INPUT_NOT_FOUND', `${name}: ${describeError(err)}`, { cause: err });
          summary.errors.push(e);
          tel.failed(e.code === 'INPUT_CORRUPT' ? 'corrupt' : 'open');
          log.error(e.message);
          this.settings.health.set('receiver', this.settings.id, 'degraded', e.message);
          doneBytes += this.sizes[i] ?? 0;
          continue;
        }
        doneBytes += result.offset;
        summary.files.push(result);
        tel.add('files');
        for (const [reason, n] of Object.entries(result.skipped)) tel.add('records_skipped', n, { reason });
        if (result.error) {
          if (!result.skipped.truncated) tel.add('records_skipped', 1, { reason: 'corrupt' });
          summary.errors.push(result.error);
          log.warn(`${result.error.message}; stopped reading this file after ${result.records} records`, { file: name, offset: result.offset, records: result.records });
          this.settings.health.set('receiver', this.settings.id, 'degraded', result.error.message);
        }
        if (result.end === 'stopped') summary.stopped = true;
        log.debug('capture read', { file: name, format: result.format, records: result.records, bytes: result.offset, end: result.end });
      }
      if (this.stopping && !summary.stopped && summary.files.length + summary.errors.length < this.files.length) summary.stopped = true;
    } finally {
      summary.packets = packets;
      if (engineFailures > 0) {
        tel.failed('engine', engineFailures);
        log.error(`packet engine failed on ${engineFailures} packets; they were skipped`, { first: describeError(firstFailure) });
      }
      // Flush every flow the engine still holds, then tell the pipeline this input is complete, or that
      // part of it was damaged (the run's exit status must say so; everything read was delivered).
      try {
        engine.finish();
      } finally {
        if (summary.errors.length === 0) sink.end();
        else sink.fail(combine(summary.errors));
      }
    }
    return summary;
  }
}

/** One error standing for all the problems of a run (the first one's code, every message). */
function combine(errors: PastewatchError[]): PastewatchError {
  if (errors.length === 1) return errors[0];
  return new PastewatchError(errors[0].code, `${errors.length} capture inputs had problems: ${errors.map((e) => e.message).join('; ')}`, { cause: errors[0] });
}

/** Checks one file before reading: exists, is a regular readable file, starts with a capture magic; returns its size. */
async function checkFile(path: string): Promise<number> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `cannot open (${code ?? String(err)})`;
    throw new PastewatchError('INPUT_NOT_FOUND', `${path}: ${why}`, { cause: err });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new PastewatchError('INPUT_NOT_FOUND', `${path}: not a regular file`);
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0).catch((err: unknown) => {
      throw new PastewatchError('INPUT_NOT_FOUND', `${path}: cannot read (${describeError(err)})`, { cause: err });
    });
    if (bytesRead === 0) throw new PastewatchError('INPUT_CORRUPT', `${path}: empty file, not a pcap or pcapng capture`);
    if (bytesRead === 4 && !captureFormatOf(head)) {
      throw new PastewatchError('INPUT_CORRUPT', `${path}: not a pcap or pcapng file (magic 0x${head.readUInt32BE(0).toString(16).padStart(8, '0')})`);
    }
    return st.size;
  } finally {
    await fh.close();
  }
}
