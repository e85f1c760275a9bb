/** Schema of the `service` section: extensions, pipelines, telemetry, shutdown. */
import { z } from 'zod';
import { httpUrlProblem } from '../util/url.js';

/** Log settings for pastewatch's own log lines (stderr). */
const logsSchema = z.strictObject({
  level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  format: z.enum(['text', 'json']).default('text'),
});

/** Self-telemetry pushed as OTLP/HTTP (JSON) metrics; off unless `endpoint` is set (no OTEL_* variable turns it on). */
const otlpMetricsSchema = z.strictObject({
  /** http(s) URL; without a path /v1/metrics is appended, with a path it is used as is. Empty = off. */
  endpoint: z.string().default(''),
  /** How often the counters are collected and sent. */
  interval_ms: z.number().int().min(100).default(60000),
  /** Extra request headers (authorization ...). */
  headers: z.record(z.string(), z.string()).default({}),
  /** Per-export timeout (clamped to interval_ms so exports never overlap). */
  timeout_ms: z.number().int().positive().default(10000),
}).superRefine((v, ctx) => {
  const p = v.endpoint ? httpUrlProblem(v.endpoint) : undefined;
  if (p) ctx.addIssue({ code: 'custom', path: ['endpoint'], message: p });
});

/** Self-telemetry exposition: Prometheus text on an opt-in listener, and optionally OTLP metrics. */
const metricsSchema = z.strictObject({
  /** host:port for /metrics; empty = off. Loopback unless configured otherwise. */
  address: z.string().default(''),
  otlp: otlpMetricsSchema.prefault({}),
});

const pipelineSchema = z.strictObject({
  receivers: z.array(z.string()).default([]),
  processors: z.array(z.string()).default([]),
  exporters: z.array(z.string()).default([]),
});

/** service.pipelines: pipeline id -> its component lists. */
export const pipelinesSchema = z.record(z.string(), pipelineSchema);

/** The `service` section. */
export const serviceSchema = z.strictObject({
  extensions: z.array(z.string()).default([]),
  pipelines: pipelinesSchema.default({}),
  telemetry: z.strictObject({ logs: logsSchema.prefault({}), metrics: metricsSchema.prefault({}) }).prefault({}),
  shutdown: z.strictObject({
    /** How long shutdown may take to drain processors and flush exporters before it gives up. */
    timeout_ms: z.number().int().positive().default(15000),
  }).prefault({}),
});

/** The parsed `service` section. */
export type ServiceConfig = z.infer<typeof serviceSchema>;
