/**
 * The `jsonl` exporter: one detection per line as an OTLP-like JSON log record (observations, when a
 * pipeline has no classifier, as observation records), to stdout or a file with size rotation.
 */
import { closeSync, existsSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { ComponentSettings, Exporter } from '../../component/types.js';
import type { PipelineItem } from '../../model/detection.js';
import { toJsonLogRecord } from '../../model/log-record.js';
import { stringifyJson, toObservationRecord } from '../../model/observation-record.js';
import { buildResource } from '../../model/resource.js';
import type { Attributes } from '../../model/attributes.js';
import { PastewatchError, describeError } from '../../util/errors.js';
import type { JsonlConfig } from './config.js';

const BUFFER_BYTES = 64 * 1024;

/** Serialises one pipeline item to its JSON line (without newline). */
export function itemToJsonLine(item: PipelineItem, resource: Attributes): string {
  return stringifyJson(item.type === 'detection' ? toJsonLogRecord(item, resource) : toObservationRecord(item));
}

/** Writes JSON lines; buffered, flushed on flush()/shutdown and when the buffer fills. */
export class JsonlExporter implements Exporter {
  private fd?: number;
  private size = 0;
  private buf: string[] = [];
  private bufBytes = 0;
  private broken = false;
  private readonly toStdout: boolean;
  private readonly resource: Attributes;

  constructor(private readonly settings: ComponentSettings, private readonly cfg: JsonlConfig) {
    this.toStdout = cfg.path === '' || cfg.path === '-';
    this.resource = buildResource(settings.env);
  }

  async start(): Promise<void> {
    if (this.toStdout) {
      process.stdout.on('error', (err: NodeJS.ErrnoException) => this.markBroken(`stdout: ${err.code === 'EPIPE' ? 'the reader closed the pipe' : describeError(err)}`));
      return;
    }
    this.open();
  }

  private open(): void {
    try {
      this.fd = openSync(this.cfg.path, this.cfg.append ? 'a' : 'w', 0o640);
      this.size = fstatSync(this.fd).size;
    } catch (err) {
      throw new PastewatchError('INPUT_NOT_FOUND', `exporter ${this.settings.id}: cannot open ${this.cfg.path} for writing (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`, { cause: err });
    }
  }

  private markBroken(why: string): void {
    if (this.broken) return;
    this.broken = true;
    this.settings.health.set('exporter', this.settings.id, 'failed', why);
    this.settings.logger.error(`cannot write: ${why}; further lines are dropped and counted`);
  }

  consume(item: PipelineItem): void {
    if (this.broken) {
      this.settings.telemetry.dropped('write_failed');
      return;
    }
    const line = itemToJsonLine(item, this.resource) + '\n';
    this.buf.push(line);
    this.bufBytes += line.length;
    this.settings.telemetry.emitted();
    if (this.bufBytes >= BUFFER_BYTES) this.writeOut();
  }

  private writeOut(): void {
    if (this.buf.length === 0 || this.broken) return;
    const chunk = this.buf.join('');
    this.buf = [];
    this.bufBytes = 0;
    if (this.toStdout) {
      process.stdout.write(chunk);
      return;
    }
    const bytes = Buffer.byteLength(chunk);
    const maxBytes = this.cfg.max_size_mb * 1024 * 1024;
    if (maxBytes > 0 && this.size > 0 && this.size + bytes > maxBytes) this.rotate();
    try {
      writeSync(this.fd!, chunk);
      this.size += bytes;
    } catch (err) {
      this.markBroken(`${this.cfg.path}: ${describeError(err)}`);
    }
  }

  /** path -> path.1 -> path.2 ...; the oldest beyond max_backups is removed. */
  private rotate(): void {
    try {
      closeSync(this.fd!);
      const p = this.cfg.path;
      if (this.cfg.max_backups === 0) rmSync(p, { force: true });
      else {
        rmSync(`${p}.${this.cfg.max_backups}`, { force: true });
        for (let i = this.cfg.max_backups - 1; i >= 1; i--) if (existsSync(`${p}.${i}`)) renameSync(`${p}.${i}`, `${p}.${i + 1}`);
        renameSync(p, `${p}.1`);
      }
      this.fd = openSync(p, 'w', 0o640);
      this.size = 0;
      this.settings.telemetry.add('rotations');
    } catch (err) {
      this.markBroken(`rotating ${this.cfg.path}: ${describeError(err)}`);
    }
  }

  async flush(deadlineMs: number): Promise<void> {
    this.writeOut();
    if (this.toStdout && process.stdout.writableNeedDrain && !this.broken) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, deadlineMs - Date.now()));
        process.stdout.once('drain', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async shutdown(): Promise<void> {
    this.writeOut();
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
