/** Settings of the `alert_webhook` exporter. */
import { z } from 'zod';
import { retrySchema, sendingQueueSchema, tlsSchema } from '../queue/config.js';

/** Attribute keys a generic alert carries by default (when the detection has them). */
export const DEFAULT_ALERT_ATTRIBUTES = [
  'server.address',
  'destination.address',
  'destination.port',
  'source.address',
  'process.executable.name',
  'process.pid',
  'process.command_line',
  'container.id',
  'k8s.namespace.name',
  'k8s.pod.name',
  'cicd.pipeline.name',
  'cicd.pipeline.task.name',
  'vcs.repository.name',
  'vcs.ref.head.revision',
  'pastewatch.evidence',
  'pastewatch.bytes.sent',
  'pastewatch.count',
  'pastewatch.first_seen',
  'pastewatch.last_seen',
];

/** `alert_webhook` exporter settings. */
export const alertWebhookSchema = z.strictObject({
  /** URL to POST each alert to (required). */
  endpoint: z.string().default(''),
  /** generic: a JSON object per detection; slack: {"text": ...} for Slack-compatible incoming webhooks. */
  format: z.enum(['generic', 'slack']).default('generic'),
  /** Extra request headers (authorization ...). */
  headers: z.record(z.string(), z.string()).default({}),
  timeout_ms: z.number().int().positive().default(10000),
  /** Trace link when the detection has no pastewatch.trace.url: {trace_id} and {span_id} are replaced; '' = none. */
  trace_url_template: z.string().default(''),
  /** Attribute keys a generic alert carries. */
  attributes: z.array(z.string()).default(DEFAULT_ALERT_ATTRIBUTES),
  tls: tlsSchema.prefault({}),
  sending_queue: sendingQueueSchema.prefault({}),
  retry: retrySchema.prefault({}),
});

/** Parsed `alert_webhook` settings. */
export type AlertWebhookConfig = z.infer<typeof alertWebhookSchema>;
