/**
 * The CI gate's command span: one INTERNAL span for the wrapped command, sent to every configured otlp_http
 * exporter's traces endpoint, so the detections (its children) hang under it in the CI trace.
 */
import { gzipSync } from 'node:zlib';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { SpanContext } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { LoadedConfig } from '../../config/load.js';
import type { Attributes } from '../../model/attributes.js';
import { buildResource } from '../../model/resource.js';
import { describeError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { HttpSender } from '../queue/http-sender.js';
import type { OtlpHttpConfig } from './config.js';
import { SCOPE, toHrTime } from './map.js';
import { resolveOtlpSettings } from './settings.js';

/** What the command span records. */
export interface CommandSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  startMs: number;
  endMs: number;
  exitCode: number | null;
  signal: string | null;
  attributes: Attributes;
}

/** The span as the SDK's ReadableSpan (ids exactly as given; status ERROR for a failed or killed command). */
export function commandReadableSpan(c: CommandSpan, env: Record<string, string | undefined>): ReadableSpan {
  const ctx: SpanContext = { traceId: c.traceId, spanId: c.spanId, traceFlags: 1 };
  const start = BigInt(c.startMs) * 1_000_000n;
  const end = BigInt(Math.max(c.endMs, c.startMs)) * 1_000_000n;
  const failed = c.signal !== null || (c.exitCode ?? 1) !== 0;
  return {
    name: c.name,
    kind: SpanKind.INTERNAL,
    spanContext: () => ctx,
    parentSpanContext: c.parentSpanId ? { traceId: c.traceId, spanId: c.parentSpanId, traceFlags: 1, isRemote: true } : undefined,
    startTime: toHrTime(start),
    endTime: toHrTime(end),
    duration: toHrTime(end - start),
    ended: true,
    status: failed ? { code: SpanStatusCode.ERROR, message: c.signal ? `killed by ${c.signal}` : `exit code ${String(c.exitCode)}` } : { code: SpanStatusCode.UNSET },
    attributes: { ...c.attributes, ...(c.exitCode !== null ? { 'process.exit.code': c.exitCode } : {}), ...(c.signal ? { 'pastewatch.command.signal': c.signal } : {}) },
    links: [],
    events: [],
    resource: resourceFromAttributes(buildResource(env)),
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** Sends the command span to each otlp_http exporter a pipeline uses (a few attempts, bounded time). */
export async function exportCommandSpan(cfg: LoadedConfig, env: Record<string, string | undefined>, span: CommandSpan, logger: Logger, attempts = 3): Promise<void> {
  const used = new Set(cfg.pipelines.flatMap((p) => p.exporters));
  for (const [id, entry] of cfg.exporters) {
    if (entry.type !== 'otlp_http' || !used.has(id)) continue;
    let sender: HttpSender | undefined;
    try {
      const r = resolveOtlpSettings(entry.config as OtlpHttpConfig, env);
      const raw = (r.encoding === 'proto' ? ProtobufTraceSerializer : JsonTraceSerializer).serializeRequest([commandReadableSpan(span, env)]);
      if (!raw) continue;
      const body = r.compression === 'gzip' ? gzipSync(raw) : Buffer.from(raw);
      const headers: Record<string, string> = { 'content-type': r.encoding === 'proto' ? 'application/x-protobuf' : 'application/json' };
      if (r.compression === 'gzip') headers['content-encoding'] = 'gzip';
      sender = new HttpSender({ url: r.tracesUrl, headers: r.headers, timeoutMs: Math.min(r.timeoutMs, 5000), tls: r.tls });
      for (let i = 0; i < attempts; i++) {
        const res = await sender.post(body, headers, AbortSignal.timeout(6000));
        if (res.kind === 'ok') break;
        if (res.kind === 'permanent' || i === attempts - 1) {
          logger.warn(`exporter ${id}: the command span was not accepted: ${res.message}`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** i));
      }
    } catch (err) {
      logger.warn(`exporter ${id}: cannot send the command span: ${describeError(err)}`);
    } finally {
      sender?.close();
    }
  }
}
