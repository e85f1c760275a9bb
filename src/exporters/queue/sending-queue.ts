/**
 * The durable sending queue shared by the HTTP exporters: consume() enqueues (and, with storage: file, fsyncs)
 * synchronously; one consumer loop per queue sends batches in order, retries with backoff, commits after
 * success. At-least-once: a crash between a send and its commit sends that batch again on the next start.
 */
import type { ComponentSettings } from '../../component/types.js';
import type { Detection } from '../../model/detection.js';
import { describeError } from '../../util/errors.js';
import { backoffMs } from './backoff.js';
import type { RetryConfig, SendingQueueConfig } from './config.js';
import { FileStore } from './file-store.js';
import type { DiskPosition } from './file-store.js';
import type { SendResult } from './http-sender.js';
import { deserializeDetection, serializeDetection } from './serialize.js';

/** Sends one batch; must resolve (never reject) with a classified result. */
export type BatchSender = (batch: Detection[], signal: AbortSignal) => Promise<SendResult>;

/** What a SendingQueue needs. */
export interface SendingQueueOptions {
  /** Short name used in log lines and gauge names (`logs`, `traces`, or '' for a single-queue exporter). */
  name: string;
  queue: SendingQueueConfig;
  retry: RetryConfig;
  /** Directory of this queue's files (storage: file). */
  directory?: string;
  send: BatchSender;
  settings: ComponentSettings;
}

interface Entry {
  item: Detection;
  bytes: number;
  pos?: DiskPosition;
}

/** Size of the fixed buffer used when sending_queue.enabled is false. */
const UNQUEUED_BUFFER = 1000;

/** An ordered, optionally durable, retrying queue of detections in front of one sender. */
export class SendingQueue {
  private readonly pending: Entry[] = [];
  private bytes = 0;
  private store?: FileStore;
  private opened = false;
  private openFailed = false;
  private running = false;
  private stopped = false;
  private loop?: Promise<void>;
  /** Ends the idle wait (new items) and the backoff wait (flush, shutdown). */
  private wakeIdle?: () => void;
  private wakeBackoff?: () => void;
  private idleWaiters: (() => void)[] = [];
  private inflight?: AbortController;
  private full = false;
  private lastFailure = '';
  private degraded = false;
  private readonly prefix: string;

  constructor(private readonly opts: SendingQueueOptions) {
    this.prefix = opts.name ? `${opts.name}_` : '';
  }

  private get file(): boolean {
    return this.opts.queue.enabled && this.opts.queue.storage === 'file';
  }

  private get log(): ComponentSettings['logger'] {
    return this.opts.settings.logger;
  }

  private label(): string {
    return this.opts.name ? `${this.opts.name} queue` : 'queue';
  }

  /** Opens file storage (once) and loads what an earlier run left, so it is sent first. Throws when the directory is unusable. */
  open(): void {
    if (this.opened) return;
    this.opened = true;
    if (!this.file) return;
    const dir = this.opts.directory ?? '';
    this.store = new FileStore(dir);
    try {
      const rec = this.store.recover();
      let corrupt = 0;
      for (const l of rec.lines) {
        try {
          const item = deserializeDetection(l.text);
          this.pending.push({ item, bytes: Buffer.byteLength(l.text) + 1, pos: l.pos });
          this.bytes += Buffer.byteLength(l.text) + 1;
        } catch (err) {
          corrupt++;
          this.log.warn(`${this.label()}: skipped a corrupt entry in ${dir}: ${describeError(err)}`);
        }
      }
      if (corrupt) this.opts.settings.telemetry.dropped('corrupt_queue_entry', corrupt);
      if (rec.tornBytes) this.log.warn(`${this.label()}: cut ${rec.tornBytes} bytes of an interrupted write in ${dir} (never acknowledged)`);
      if (this.pending.length) this.log.info(`${this.label()}: ${this.pending.length} items persisted by an earlier run are sent first`, { directory: dir });
      this.gauges();
    } catch (err) {
      this.openFailed = true;
      this.store = undefined;
      throw err;
    }
  }

  /** Starts the consumer loop. */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Items and bytes waiting. */
  depth(): { items: number; bytes: number } {
    return { items: this.pending.length, bytes: this.bytes };
  }

  private gauges(): void {
    this.opts.settings.telemetry.gauge(`${this.prefix}queue_items`, this.pending.length);
    this.opts.settings.telemetry.gauge(`${this.prefix}queue_bytes`, this.bytes);
  }

  /** Adds a detection; with file storage it is on disk (fsynced) when this returns true. Never throws. */
  enqueue(item: Detection): boolean {
    const t = this.opts.settings.telemetry;
    if (this.stopped) {
      t.dropped('shutdown');
      return false;
    }
    if (!this.opened) {
      try {
        this.open();
      } catch (err) {
        this.log.error(`${this.label()}: cannot open: ${describeError(err)}`);
      }
    }
    if (this.openFailed) {
      t.dropped('queue_unavailable');
      return false;
    }
    const line = serializeDetection(item);
    const bytes = Buffer.byteLength(line) + 1;
    const q = this.opts.queue;
    const isFull = !q.enabled ? this.pending.length >= UNQUEUED_BUFFER : q.storage === 'file' ? this.bytes + bytes > q.max_bytes : this.pending.length >= q.queue_size;
    if (isFull) {
      t.dropped('queue_full');
      if (!this.full) {
        this.full = true;
        const cap = q.enabled && q.storage === 'file' ? `max_bytes ${q.max_bytes}` : `queue_size ${q.enabled ? q.queue_size : UNQUEUED_BUFFER}`;
        this.log.error(`${this.label()}: full (${this.pending.length} items, ${this.bytes} bytes, ${cap}): new detections are dropped (counted as dropped{reason=queue_full}) until the backend catches up`);
      }
      return false;
    }
    let pos: DiskPosition | undefined;
    if (this.store) {
      try {
        pos = this.store.append(line);
      } catch (err) {
        t.dropped('queue_write_failed');
        this.log.error(`${this.label()}: cannot persist a detection in ${this.store.dir}: ${describeError(err)}; it is dropped`);
        return false;
      }
    }
    this.pending.push({ item, bytes, pos });
    this.bytes += bytes;
    this.gauges();
    this.wakeIdle?.();
    return true;
  }

  private commit(n: number): void {
    const done = this.pending.splice(0, n);
    for (const e of done) this.bytes -= e.bytes;
    const last = done[done.length - 1];
    if (this.store && last?.pos) {
      try {
        this.store.commit(last.pos, this.pending.length === 0);
      } catch (err) {
        // The items were delivered; a stale offset only means they may be sent again after a restart.
        this.log.warn(`${this.label()}: cannot record delivery in ${this.store.dir}: ${describeError(err)}`);
      }
    }
    this.full = false; // room again: the next overflow is logged anew
    this.gauges();
    if (this.pending.length === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }

  /** Waits ms or until woken; an idle wait ends on a new item, a backoff wait only on flush or shutdown. */
  private sleep(ms: number, kind: 'idle' | 'backoff'): Promise<void> {
    return new Promise((resolve) => {
      const end = (): void => {
        clearTimeout(t);
        this.wakeIdle = undefined;
        this.wakeBackoff = undefined;
        resolve();
      };
      const t = setTimeout(end, ms);
      if (kind === 'idle') t.unref(); // an empty queue must not keep the process alive
      if (kind === 'idle') this.wakeIdle = end;
      else this.wakeBackoff = end;
    });
  }

  private wakeAll(): void {
    this.wakeIdle?.();
    this.wakeBackoff?.();
  }

  private setHealth(ok: boolean, reason?: string): void {
    const s = this.opts.settings;
    if (ok) {
      if (this.degraded) {
        this.degraded = false;
        this.lastFailure = '';
        s.health.set('exporter', s.id, 'ok');
        this.log.info(`${this.label()}: backend reachable again, delivery resumed`);
      }
      return;
    }
    this.degraded = true;
    s.health.set('exporter', s.id, 'degraded', reason);
  }

  private async run(): Promise<void> {
    const t = this.opts.settings.telemetry;
    const r = this.opts.retry;
    let attempt = 0;
    let failingSince: number | undefined;
    while (!this.stopped) {
      if (this.pending.length === 0) {
        await this.sleep(60_000, 'idle');
        continue;
      }
      const batch = this.pending.slice(0, this.opts.queue.batch_size).map((e) => e.item);
      this.inflight = new AbortController();
      let res: SendResult;
      try {
        res = await this.opts.send(batch, this.inflight.signal);
      } catch (err) {
        // A sender must not reject; if one does, treat it like a transient failure rather than losing the loop.
        res = { kind: 'retry', message: `send failed: ${describeError(err)}` };
      }
      this.inflight = undefined;
      if (this.stopped && res.kind !== 'ok') break; // stays queued (on disk) for the next start
      if (res.kind === 'ok') {
        this.commit(batch.length);
        t.emitted(batch.length);
        attempt = 0;
        failingSince = undefined;
        this.setHealth(true);
        continue;
      }
      if (res.kind === 'permanent') {
        this.log.error(`${this.label()}: backend rejected ${batch.length} detections permanently, not retried: ${res.message}`);
        t.failed('rejected', batch.length);
        this.commit(batch.length);
        attempt = 0;
        failingSince = undefined;
        continue;
      }
      // Retryable: network, TLS, 429, 5xx.
      attempt++;
      failingSince ??= Date.now();
      t.add('send_retries');
      this.setHealth(false, res.message);
      if (res.message !== this.lastFailure) {
        this.lastFailure = res.message;
        this.log.error(`${this.label()}: ${res.message}; retrying (${this.pending.length} items waiting)`);
      }
      const elapsed = Date.now() - failingSince;
      if (!r.enabled || (r.max_elapsed_ms > 0 && elapsed >= r.max_elapsed_ms)) {
        const why = r.enabled ? `retries exhausted after ${elapsed} ms` : 'retry disabled';
        this.log.error(`${this.label()}: ${why}; ${batch.length} detections dropped: ${res.message}`);
        t.failed(r.enabled ? 'retries_exhausted' : 'send_failed', batch.length);
        this.commit(batch.length);
        attempt = 0;
        failingSince = undefined;
        continue;
      }
      await this.sleep(backoffMs(attempt, r, res.retryAfterMs), 'backoff');
    }
  }

  /** Waits until the queue is empty or the deadline passes; cuts a pending backoff short to try now. */
  async flush(deadlineMs: number): Promise<void> {
    if (this.pending.length === 0) return;
    if (!this.running) this.start();
    this.wakeAll();
    const remaining = deadlineMs - Date.now();
    if (remaining > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, remaining);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.idleWaiters.push(done);
      });
    }
    const left = this.pending.length;
    if (left > 0) {
      if (this.store) this.log.warn(`${this.label()}: ${left} detections not yet delivered remain on disk in ${this.store.dir}; they are sent on the next start`);
      else this.log.warn(`${this.label()}: ${left} detections not yet delivered at the flush deadline (memory queue: lost at shutdown)`);
    }
  }

  /** Stops the loop and aborts a request in flight; a memory queue's leftovers are counted lost. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.inflight?.abort();
    this.wakeAll();
    await this.loop;
    if (!this.store && this.pending.length > 0) this.opts.settings.telemetry.failed('shutdown', this.pending.length);
    this.store?.close();
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }
}
