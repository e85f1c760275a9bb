/** Factory of the `alert_webhook` exporter. */
import type { ConfigProblem, ExporterFactory } from '../../component/types.js';
import { queueProblems, tlsProblems } from '../queue/validate.js';
import { httpUrlProblem } from '../../util/url.js';
import { alertWebhookSchema } from './config.js';
import type { AlertWebhookConfig } from './config.js';
import { AlertWebhookExporter } from './alert-webhook.js';

/** Cross-field checks: the endpoint is required and an http(s) URL, TLS files readable, file queue has a directory. */
export function validateAlertWebhook(c: AlertWebhookConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (!c.endpoint) out.push({ path: ['endpoint'], message: 'is required (the webhook URL)' });
  else {
    const p = httpUrlProblem(c.endpoint);
    if (p) out.push({ path: ['endpoint'], message: p });
  }
  if (c.trace_url_template && !/\{trace_id\}|\{span_id\}/.test(c.trace_url_template)) out.push({ path: ['trace_url_template'], message: 'must contain {trace_id} or {span_id}' });
  return [...out, ...tlsProblems(c.tls), ...queueProblems(c.sending_queue)];
}

/** Makes `alert_webhook` exporters. */
export const alertWebhookFactory: ExporterFactory<AlertWebhookConfig> = {
  type: 'alert_webhook',
  kind: 'exporter',
  description: 'POSTs a short alert per deduplicated detection (generic JSON or Slack) with the CI run and trace links, queued and retried.',
  schema: alertWebhookSchema,
  validate: validateAlertWebhook,
  create: (settings, config) => new AlertWebhookExporter(settings, config),
};
