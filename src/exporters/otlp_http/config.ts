/** Settings of the `otlp_http` exporter (collector otlphttp exporter style, OTEL_EXPORTER_OTLP_* as defaults). */
import { z } from 'zod';
import { retrySchema, sendingQueueSchema, tlsSchema } from '../queue/config.js';

/** `otlp_http` exporter settings. Empty strings / 0 mean "not set": the standard env var or the built-in default applies. */
export const otlpHttpSchema = z.strictObject({
  /** Base URL; /v1/logs and /v1/traces are appended. Default: OTEL_EXPORTER_OTLP_ENDPOINT or http://localhost:4318. */
  endpoint: z.string().default(''),
  /** Full URL for logs (used as is). Default: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or endpoint + /v1/logs. */
  logs_endpoint: z.string().default(''),
  /** Full URL for traces (used as is). Default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or endpoint + /v1/traces. */
  traces_endpoint: z.string().default(''),
  /** Extra request headers (authorization ...), merged over OTEL_EXPORTER_OTLP_HEADERS. */
  headers: z.record(z.string(), z.string()).default({}),
  /** proto (application/x-protobuf, the collector's default) or json. '' = OTEL_EXPORTER_OTLP_PROTOCOL or proto. */
  encoding: z.enum(['', 'proto', 'json']).default(''),
  /** gzip or none. '' = OTEL_EXPORTER_OTLP_COMPRESSION or gzip. */
  compression: z.enum(['', 'gzip', 'none']).default(''),
  /** Per-request timeout; 0 = OTEL_EXPORTER_OTLP_TIMEOUT or 10000. */
  timeout_ms: z.number().int().min(0).default(0),
  /**
   * On a logs pipeline, also send each detection as its span (same ids as the log record). Use this instead of
   * a second traces pipeline: processors run per pipeline, so a traces pipeline classifies again and its
   * detections get other span ids than the log records.
   */
  export_spans_from_logs: z.boolean().default(false),
  /** flush() waits at most this long for the queue to drain (also bounded by the service's shutdown deadline); 0 = the service's deadline alone. */
  drain_timeout_ms: z.number().int().min(0).default(0),
  tls: tlsSchema.prefault({}),
  sending_queue: sendingQueueSchema.prefault({}),
  retry: retrySchema.prefault({}),
});

/** Parsed `otlp_http` settings. */
export type OtlpHttpConfig = z.infer<typeof otlpHttpSchema>;
