/**
 * The `otlp_http` exporter: each detection becomes an OTLP log record (logs pipelines) or a span with the
 * detection as its event (traces pipelines), encoded by the OpenTelemetry JS serializers (protobuf or JSON)
 * and POSTed to an OTLP/HTTP endpoint. A durable queue per signal owns batching and retries.
 */
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import { JsonLogsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ComponentSettings, Exporter, Signal } from '../../component/types.js';
import { isDetection } from '../../model/detection.js';
import type { Detection, PipelineItem } from '../../model/detection.js';
import { buildResource } from '../../model/resource.js';
import { PastewatchError, describeError } from '../../util/errors.js';
import { HttpSender } from '../queue/http-sender.js';
import type { SendResult } from '../queue/http-sender.js';
import { SendingQueue } from '../queue/sending-queue.js';
import type { OtlpHttpConfig } from './config.js';
import { toReadableLogRecord, toReadableSpan } from './map.js';
import { resolveOtlpSettings } from './settings.js';
import type { ResolvedOtlpSettings } from './settings.js';

/** Encodes a batch of detections as an OTLP export request body for one signal. */
export function encodeBatch(signal: Signal, batch: Detection[], resource: Resource, encoding: 'proto' | 'json'): Uint8Array | undefined {
  if (signal === 'logs') {
    const records = batch.map((d) => toReadableLogRecord(d, resource));
    return encoding === 'proto' ? ProtobufLogsSerializer.serializeRequest(records) : JsonLogsSerializer.serializeRequest(records);
  }
  const spans = batch.map((d) => toReadableSpan(d, resource));
  return encoding === 'proto' ? ProtobufTraceSerializer.serializeRequest(spans) : JsonTraceSerializer.serializeRequest(spans);
}

/** A directory-safe form of a component id (`otlp_http/backend` -> `otlp_http_backend`). */
export function safeId(id: string): string {
  return id.replace(/[^a-zA-Z0-9_.-]/g, '_');
}

/** Sends detections to an OTLP/HTTP backend as logs and/or spans. */
export class OtlpHttpExporter implements Exporter {
  private readonly resolved?: ResolvedOtlpSettings;
  private readonly resolveError?: PastewatchError;
  private readonly resource: Resource;
  private readonly queues = new Map<Signal, SendingQueue>();
  private readonly senders: HttpSender[] = [];
  private started = false;
  private stopped = false;

  constructor(private readonly settings: ComponentSettings, private readonly cfg: OtlpHttpConfig) {
    try {
      this.resolved = resolveOtlpSettings(cfg, settings.env);
    } catch (err) {
      this.resolveError = err instanceof PastewatchError ? err : new PastewatchError('CONFIG_INVALID', describeError(err), { cause: err });
    }
    this.resource = resourceFromAttributes(buildResource(settings.env));
  }

  /** The effective endpoint of a signal (for logs and tests). */
  url(signal: Signal): string | undefined {
    return signal === 'logs' ? this.resolved?.logsUrl : this.resolved?.tracesUrl;
  }

  private queue(signal: Signal): SendingQueue | undefined {
    const existing = this.queues.get(signal);
    if (existing || !this.resolved) return existing;
    const r = this.resolved;
    const sender = new HttpSender({ url: signal === 'logs' ? r.logsUrl : r.tracesUrl, headers: r.headers, timeoutMs: r.timeoutMs, tls: r.tls });
    this.senders.push(sender);
    const q = new SendingQueue({
      name: signal,
      queue: this.cfg.sending_queue,
      retry: this.cfg.retry,
      directory: this.cfg.sending_queue.directory ? join(this.cfg.sending_queue.directory, safeId(this.settings.id), signal) : undefined,
      settings: this.settings,
      send: (batch, abort) => this.send(signal, sender, batch, abort),
    });
    this.queues.set(signal, q);
    return q;
  }

  private async send(signal: Signal, sender: HttpSender, batch: Detection[], abort: AbortSignal): Promise<SendResult> {
    const r = this.resolved!;
    let body: Buffer;
    try {
      const raw = encodeBatch(signal, batch, this.resource, r.encoding);
      if (!raw) return { kind: 'permanent', status: 0, message: 'the OTLP serializer produced no request' };
      body = r.compression === 'gzip' ? gzipSync(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    } catch (err) {
      return { kind: 'permanent', status: 0, message: `cannot encode ${batch.length} detections: ${describeError(err)}` };
    }
    const headers: Record<string, string> = { 'content-type': r.encoding === 'proto' ? 'application/x-protobuf' : 'application/json' };
    if (r.compression === 'gzip') headers['content-encoding'] = 'gzip';
    const res = await sender.post(body, headers, abort);
    if (res.kind === 'ok' && res.body.length > 0) this.partialSuccess(signal, res.body, res.contentType);
    return res;
  }

  /** A 200 may carry partial_success: some records rejected (not retried, per the OTLP spec). */
  private partialSuccess(signal: Signal, body: Buffer, contentType: string): void {
    try {
      const isJson = contentType.includes('json');
      const data = new Uint8Array(body);
      const ps = signal === 'logs'
        ? (isJson ? JsonLogsSerializer : ProtobufLogsSerializer).deserializeResponse(data).partialSuccess
        : (isJson ? JsonTraceSerializer : ProtobufTraceSerializer).deserializeResponse(data).partialSuccess;
      const rejected = Number((ps as { rejectedLogRecords?: unknown; rejectedSpans?: unknown } | undefined)?.[signal === 'logs' ? 'rejectedLogRecords' : 'rejectedSpans'] ?? 0);
      if (rejected > 0) {
        this.settings.telemetry.failed('partial_rejected', rejected);
        this.settings.logger.warn(`${signal}: backend accepted the request but rejected ${rejected} records: ${ps?.errorMessage ?? ''}`);
      }
    } catch {
      // An unparseable 2xx body is still a success (as in the SDK).
    }
  }

  async start(): Promise<void> {
    if (this.resolveError) throw this.resolveError;
    if (this.started || this.stopped) return;
    this.started = true;
    for (const s of ['logs', 'traces'] as const) {
      const q = this.queue(s)!;
      q.open(); // throws a clear error when the queue directory is unusable
      q.start();
    }
    this.settings.health.set('exporter', this.settings.id, 'ok');
    this.settings.logger.info('exporting', { logs: this.resolved!.logsUrl, traces: this.resolved!.tracesUrl, encoding: this.resolved!.encoding, queue: this.cfg.sending_queue.storage });
  }

  consume(item: PipelineItem, signal: Signal): void {
    const t = this.settings.telemetry;
    t.received();
    if (!isDetection(item)) {
      t.dropped('not_detection');
      return;
    }
    const q = this.queue(signal);
    if (!q) {
      t.dropped('misconfigured');
      return;
    }
    q.enqueue(item);
    if (signal === 'logs' && this.cfg.export_spans_from_logs) this.queue('traces')?.enqueue(item);
  }

  async flush(deadlineMs: number): Promise<void> {
    const cap = this.cfg.drain_timeout_ms > 0 ? Math.min(deadlineMs, Date.now() + this.cfg.drain_timeout_ms) : deadlineMs;
    await Promise.all([...this.queues.values()].map((q) => q.flush(cap)));
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([...this.queues.values()].map((q) => q.shutdown()));
    for (const s of this.senders) s.close();
    this.settings.health.set('exporter', this.settings.id, 'stopped');
  }
}
