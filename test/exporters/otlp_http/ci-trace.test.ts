/** End to end through real components: enrich -> paste_classifier -> otlp_http -> an OTLP/HTTP receiver. */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, from, toArray } from 'rxjs';
import { otlpHttpFactory } from '../../../src/exporters/otlp_http/factory.js';
import { isDetection } from '../../../src/model/detection.js';
import { observation } from '../../../src/model/observation.js';
import { enrichFactory } from '../../../src/processors/enrich/factory.js';
import { pasteClassifierFactory } from '../../../src/processors/paste_classifier/factory.js';
import { testSettings } from '../../helpers/exporter-settings.js';
import { startOtlpReceiver } from '../../helpers/otlp-receiver.js';
import type { OtlpReceiver } from '../../helpers/otlp-receiver.js';

const open: OtlpReceiver[] = [];
after(async () => {
  for (const r of open) await r.close();
});

async function runCi(env: Record<string, string>, encoding: 'proto' | 'json'): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver();
  open.push(r);
  const enrich = enrichFactory.create(testSettings('enrich', env, 'processor'), enrichFactory.schema.parse({ kubernetes: { labels_file: '' } }));
  const classify = pasteClassifierFactory.create(testSettings('paste_classifier', env, 'processor'), pasteClassifierFactory.schema.parse({}));
  await enrich.start();
  await classify.start();
  const obs = observation({
    kind: 'connection',
    timeUnixNano: 1_796_385_600_000_000_000n,
    receiver: 'pcap',
    transport: 'tcp',
    source: { address: '10.1.1.1', port: 50000 },
    destination: { address: '104.20.67.143', port: 443 },
    names: [{ name: 'pastebin.com', evidence: 'tls.sni' }],
  });
  const items = await firstValueFrom(from([obs]).pipe(enrich.operator(), classify.operator(), toArray()));
  const detections = items.filter(isDetection);
  assert.equal(detections.length, 1, 'the classifier made a detection');
  const e = otlpHttpFactory.create(testSettings('otlp_http', env), otlpHttpFactory.schema.parse({ endpoint: r.url, encoding }));
  await e.start();
  for (const d of detections) {
    e.consume(d, 'logs');
    e.consume(d, 'traces');
  }
  await e.flush(Date.now() + 3000);
  await e.shutdown();
  assert.equal(r.logs.length, 1);
  assert.equal(r.spans.length, 1);
  // the log record correlates with the detection's own span
  assert.equal(r.logs[0].traceId, r.spans[0].traceId);
  assert.equal(r.logs[0].spanId, r.spans[0].spanId);
  assert.equal(r.logs[0].eventName, 'plaintext_communication');
  return r;
}

describe('detections join the CI trace', () => {
  test('TRACEPARENT (sampled): span is a child of the pipeline span in its trace', async () => {
    const r = await runCi({ TRACEPARENT: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }, 'proto');
    assert.equal(r.spans[0].traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(r.spans[0].parentSpanId, '00f067aa0ba902b7');
    assert.notEqual(r.spans[0].spanId, '00f067aa0ba902b7');
    assert.equal(r.logs[0].attributes['server.address'], 'pastebin.com');
  });

  test('TRACEPARENT unsampled (-00) is still exported with the same ids', async () => {
    const r = await runCi({ TRACEPARENT: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' }, 'json');
    assert.equal(r.spans[0].traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(r.spans[0].parentSpanId, 'b7ad6b7169203331');
    assert.equal(r.spans[0].flags & 0xff, 0);
  });

  test('GitHub Actions without TRACEPARENT: the ids githubreceiver derives for the run', async () => {
    const r = await runCi({ GITHUB_ACTIONS: 'true', GITHUB_RUN_ID: '12345678', GITHUB_RUN_ATTEMPT: '1', GITHUB_REPOSITORY: 'acme/widgets', GITHUB_WORKFLOW: 'build' }, 'proto');
    assert.equal(r.spans[0].traceId, '102128e136191777dcee779b6da2db2d');
    assert.equal(r.spans[0].parentSpanId, 'b7fc8a284591fd61');
    assert.equal(r.logs[0].attributes['cicd.pipeline.run.url.full'], 'https://github.com/acme/widgets/actions/runs/12345678/attempts/1');
  });
});
