/** The `alert_webhook` exporter: one POST per (deduplicated) detection, generic JSON or Slack, queued and retried. */
import { join } from 'node:path';
import type { ComponentSettings, Exporter } from '../../component/types.js';
import { isDetection } from '../../model/detection.js';
import type { Detection, PipelineItem } from '../../model/detection.js';
import { describeError } from '../../util/errors.js';
import { HttpSender } from '../queue/http-sender.js';
import type { SendResult } from '../queue/http-sender.js';
import { SendingQueue } from '../queue/sending-queue.js';
import type { AlertWebhookConfig } from './config.js';
import { genericAlert, slackAlert } from './payload.js';

/** The JSON body of one alert. */
export function alertBody(d: Detection, cfg: AlertWebhookConfig): string {
  return JSON.stringify(cfg.format === 'slack' ? slackAlert(d, cfg.trace_url_template) : genericAlert(d, cfg.attributes, cfg.trace_url_template));
}

/** POSTs alerts to a webhook. */
export class AlertWebhookExporter implements Exporter {
  private sender?: HttpSender;
  private readonly queue: SendingQueue;
  private stopped = false;

  constructor(private readonly settings: ComponentSettings, private readonly cfg: AlertWebhookConfig) {
    this.queue = new SendingQueue({
      name: '',
      // One alert per request: webhooks take one message at a time.
      queue: { ...cfg.sending_queue, batch_size: 1 },
      retry: cfg.retry,
      directory: cfg.sending_queue.directory ? join(cfg.sending_queue.directory, settings.id.replace(/[^a-zA-Z0-9_.-]/g, '_')) : undefined,
      settings,
      send: (batch, abort) => this.send(batch[0], abort),
    });
  }

  private async send(d: Detection, abort: AbortSignal): Promise<SendResult> {
    try {
      this.sender ??= new HttpSender({ url: this.cfg.endpoint, headers: this.cfg.headers, timeoutMs: this.cfg.timeout_ms, tls: this.cfg.tls });
    } catch (err) {
      return { kind: 'permanent', status: 0, message: `endpoint "${this.cfg.endpoint}" is unusable: ${describeError(err)}` };
    }
    return this.sender.post(Buffer.from(alertBody(d, this.cfg), 'utf8'), { 'content-type': 'application/json' }, abort);
  }

  async start(): Promise<void> {
    if (this.stopped) return;
    this.queue.open();
    this.queue.start();
    this.settings.health.set('exporter', this.settings.id, 'ok');
  }

  consume(item: PipelineItem): void {
    const t = this.settings.telemetry;
    t.received();
    if (!isDetection(item)) {
      t.dropped('not_detection');
      return;
    }
    this.queue.enqueue(item);
  }

  async flush(deadlineMs: number): Promise<void> {
    await this.queue.flush(deadlineMs);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.queue.shutdown();
    this.sender?.close();
    this.settings.health.set('exporter', this.settings.id, 'stopped');
  }
}
