import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultConfig } from '../../../src/component/types.js';
import { alertWebhookFactory } from '../../../src/exporters/alert_webhook/factory.js';
import { slackEscape } from '../../../src/exporters/alert_webhook/payload.js';
import { observation } from '../../../src/model/observation.js';
import { makeDetection } from '../../helpers/detections.js';
import { testSettings } from '../../helpers/exporter-settings.js';
import { startOtlpReceiver } from '../../helpers/otlp-receiver.js';
import type { OtlpReceiver } from '../../helpers/otlp-receiver.js';

const open: OtlpReceiver[] = [];
after(async () => {
  for (const r of open) await r.close();
});
async function receiver(): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver();
  open.push(r);
  return r;
}
const FAST = { initial_interval_ms: 20, max_interval_ms: 50, max_elapsed_ms: 0 };

describe('alert_webhook exporter', () => {
  test('default config needs an endpoint; bad values are problems naming the key; shutdown without start is safe', async () => {
    const def = createDefaultConfig(alertWebhookFactory);
    assert.deepEqual(alertWebhookFactory.validate!(def).map((p) => p.path.join('::')), ['endpoint']);
    const probs = alertWebhookFactory.validate!(alertWebhookFactory.schema.parse({ endpoint: 'hooks.slack.com/x', trace_url_template: 'https://t/', tls: { ca_file: '/nonexistent/ca.pem' } }));
    assert.deepEqual(probs.map((p) => p.path.join('::')), ['endpoint', 'trace_url_template', 'tls::ca_file']);
    const e = alertWebhookFactory.create(testSettings('alert_webhook'), def);
    await e.shutdown();
    await e.shutdown();
  });

  test('generic: one alert per detection with CI run url, trace link and an attribute subset; observations ignored', async () => {
    const r = await receiver();
    const s = testSettings('alert_webhook');
    const e = alertWebhookFactory.create(s, alertWebhookFactory.schema.parse({ endpoint: `${r.url}/hook`, headers: { authorization: 'Bearer t' }, trace_url_template: 'https://tempo.example/trace/{trace_id}?span={span_id}', retry: FAST }));
    await e.start();
    const withUrl = makeDetection({ attributes: { 'pastewatch.trace.url': 'https://grafana.example/t/abc', 'cicd.pipeline.run.url.full': 'https://ci.example/run/9' } });
    const plain = makeDetection({ count: 4 });
    e.consume(withUrl, 'logs');
    e.consume(observation({ kind: 'dns', timeUnixNano: 1n, receiver: 'x' }), 'logs');
    e.consume(plain, 'logs');
    await e.flush(Date.now() + 3000);
    await e.shutdown();
    assert.equal(r.webhooks.length, 2);
    const [a, b] = r.webhooks.map((w) => w.body as Record<string, unknown>);
    assert.equal(r.webhooks[0].path, '/hook');
    assert.equal(r.webhooks[0].headers.authorization, 'Bearer t');
    assert.equal(a.title, 'pastewatch: upload to Pastebin (pastebin.com)');
    assert.equal(a.severity, 'ERROR');
    assert.equal(a.service, 'pastebin.com');
    assert.equal(a.activity, 'upload');
    assert.equal(a.environment, 'ci');
    assert.equal(a.process, 'curl (pid 4242)');
    assert.equal(a.ci_run_url, 'https://ci.example/run/9');
    assert.equal(a.trace_url, 'https://grafana.example/t/abc');
    assert.equal(a.detection_id, withUrl.id);
    assert.equal(a.body, withUrl.body);
    assert.deepEqual(Object.keys(a.attributes as object).sort(), ['destination.address', 'destination.port', 'pastewatch.bytes.sent', 'pastewatch.count', 'pastewatch.evidence', 'process.executable.name', 'process.pid', 'server.address', 'source.address']);
    assert.equal(b.trace_url, `https://tempo.example/trace/${plain.traceId}?span=${plain.spanId}`);
    assert.equal(b.count, 4);
    assert.equal(s.registry.get('alert_webhook', 'dropped', { reason: 'not_detection' }), 1);
  });

  test('slack: {"text"} with the trace link as <url|trace>, escaped; retried through a 503', async () => {
    const r = await receiver();
    r.script('/slack', [{ status: 503, times: 2 }]);
    const e = alertWebhookFactory.create(testSettings('alert_webhook/slack'), alertWebhookFactory.schema.parse({ endpoint: `${r.url}/slack`, format: 'slack', trace_url_template: 'https://tempo.example/trace/{trace_id}', retry: FAST }));
    await e.start();
    const d = makeDetection({ body: 'curl sent <secrets> & more', attributes: { 'cicd.pipeline.run.url.full': 'https://ci.example/run/1' } });
    e.consume(d, 'logs');
    await e.flush(Date.now() + 3000);
    await e.shutdown();
    assert.equal(r.webhooks.length, 1);
    const text = (r.webhooks[0].body as { text: string }).text;
    assert.ok(text.includes(`<https://tempo.example/trace/${d.traceId}|trace>`), text);
    assert.ok(text.includes('<https://ci.example/run/1|CI run>'));
    assert.ok(text.includes('curl sent &lt;secrets&gt; &amp; more'));
    assert.ok(text.startsWith(':rotating_light: *pastewatch: upload to Pastebin (pastebin.com)* [ERROR]'));
    assert.equal(r.requests.filter((q) => q.status === 503).length, 2);
    assert.equal(slackEscape('a<b>&c'), 'a&lt;b&gt;&amp;c');
  });

  test('file queue: an alert queued while the webhook is down is sent by the next run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-alert-'));
    const r = await receiver();
    r.script('/h', [{ status: 503, times: 1000 }]);
    const cfg = alertWebhookFactory.schema.parse({ endpoint: `${r.url}/h`, retry: FAST, sending_queue: { storage: 'file', directory: dir } });
    const e1 = alertWebhookFactory.create(testSettings('alert_webhook'), cfg);
    await e1.start();
    const d = makeDetection();
    e1.consume(d, 'logs');
    await e1.flush(Date.now() + 100);
    await e1.shutdown();
    assert.equal(r.webhooks.length, 0);
    r.script('/h', []);
    const e2 = alertWebhookFactory.create(testSettings('alert_webhook'), cfg);
    await e2.start();
    await e2.flush(Date.now() + 3000);
    await e2.shutdown();
    assert.equal(r.webhooks.length, 1);
    assert.equal((r.webhooks[0].body as { detection_id: string }).detection_id, d.id);
  });
});
