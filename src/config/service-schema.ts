/** Schema of the `service` section: extensions, pipelines, telemetry, shutdown. */
import { z } from 'zod';

/** Log settings for pastewatch's own log lines (stderr). */
const logsSchema = z.strictObject({
  level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  format: z.enum(['text', 'json']).default('text'),
});

/** Self-telemetry exposition: Prometheus text on an opt-in listener. */
const metricsSchema = z.strictObject({
  /** host:port for /metrics; empty = off. Loopback unless configured otherwise. */
  address: z.string().default(''),
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
