import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FACTORIES } from '../../../src/components.js';
import { loadConfigText } from '../../../src/config/load.js';
import type { OtlpHttpConfig } from '../../../src/exporters/otlp_http/config.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

for (const name of ['sidecar.yaml', 'ci-to-collector.yaml']) {
  test(`pipelines/${name} validates and wires enrich -> classifier -> otlp_http (logs + spans)`, () => {
    const text = readFileSync(join(ROOT, 'pipelines', name), 'utf8');
    const cfg = loadConfigText(text, `pipelines/${name}`, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, factories: FACTORIES });
    const otlp = cfg.exporters.get('otlp_http');
    assert.equal(otlp?.type, 'otlp_http');
    const c = otlp?.config as OtlpHttpConfig;
    assert.equal(c.export_spans_from_logs, true);
    const logs = cfg.pipelines.find((p) => p.id === 'logs');
    assert.deepEqual(logs?.processors, ['dns_correlation', 'enrich', 'paste_classifier', 'dedup']);
    assert.ok(logs?.exporters.includes('otlp_http'));
    if (name.startsWith('sidecar')) {
      assert.equal(c.endpoint, 'http://collector:4318');
      assert.equal(c.sending_queue.storage, 'file');
      assert.equal(c.sending_queue.directory, '/tmp/pastewatch/queue');
    } else {
      assert.equal(c.endpoint, '', 'the CI config leaves the endpoint to OTEL_EXPORTER_OTLP_ENDPOINT');
    }
  });
}
