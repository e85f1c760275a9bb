import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonlFactory } from '../../../src/exporters/jsonl/factory.js';
import { HealthRegistry } from '../../../src/component/health.js';
import { TelemetryRegistry } from '../../../src/component/telemetry.js';
import { createMemoryLogger } from '../../../src/util/logger.js';
import { observation } from '../../../src/model/observation.js';
import type { Detection } from '../../../src/model/detection.js';
import type { ComponentSettings } from '../../../src/component/types.js';

function settings(env: Record<string, string> = {}): ComponentSettings {
  const registry = new TelemetryRegistry();
  return { id: 'jsonl', kind: 'exporter', logger: createMemoryLogger(), telemetry: registry.forComponent('exporter', 'jsonl'), registry, health: new HealthRegistry(), env };
}

function detection(i: number): Detection {
  const obs = observation({ kind: 'connection', timeUnixNano: 1_733_340_000_123_456_789n + BigInt(i), receiver: 'pcap_file' });
  return {
    type: 'detection', id: `d${i}`, timeUnixNano: obs.timeUnixNano, observedTimeUnixNano: 1_733_340_001_000_000_000n,
    service: 'pastebin.com', serviceName: 'Pastebin', category: 'paste', matchedName: 'www.pastebin.com', activity: 'upload',
    environment: 'ci', severityNumber: 21, severityText: 'FATAL', body: `upload ${i}`,
    attributes: { 'server.address': 'www.pastebin.com', 'pastewatch.evidence': ['tls.sni'], 'source.port': 40000 + i },
    traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1,
    count: 1, firstSeenUnixNano: obs.timeUnixNano, lastSeenUnixNano: obs.timeUnixNano, observation: obs,
  };
}

describe('jsonl exporter', () => {
  test('writes one OTLP-like JSON record per detection, with resource and trace ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-jsonl-'));
    const path = join(dir, 'out.jsonl');
    const exp = jsonlFactory.create(settings({ OTEL_SERVICE_NAME: 'build-sidecar', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=ci,team=sec%20ops' }), jsonlFactory.schema.parse({ path }));
    await exp.start();
    exp.consume(detection(1), 'logs');
    exp.consume(detection(2), 'logs');
    await exp.flush(Date.now() + 1000);
    await exp.shutdown();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2);
    const first = lines[0];
    assert.deepEqual(Object.keys(first), ['time', 'observed_time', 'event_name', 'severity_number', 'severity_text', 'body', 'trace_id', 'span_id', 'attributes', 'resource']);
    assert.equal(first.time, '2024-12-04T19:20:00.123456790Z');
    assert.equal(first.event_name, 'plaintext_communication');
    assert.equal(first.severity_number, 21);
    assert.equal(first.trace_id, '0af7651916cd43dd8448eb211c80319c');
    assert.deepEqual(first.attributes, { 'server.address': 'www.pastebin.com', 'pastewatch.evidence': ['tls.sni'], 'source.port': 40001 });
    const res = first.resource as Record<string, unknown>;
    assert.equal(res['service.name'], 'build-sidecar');
    assert.equal(res['team'], 'sec ops');
    assert.equal(res['deployment.environment.name'], 'ci');
  });

  test('observations are written as observation records', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-jsonl-'));
    const path = join(dir, 'obs.jsonl');
    const exp = jsonlFactory.create(settings(), jsonlFactory.schema.parse({ path }));
    await exp.start();
    exp.consume(observation({ kind: 'dns', timeUnixNano: 5n, receiver: 'r', names: [{ name: 'pastebin.com', evidence: 'dns.query' }] }), 'logs');
    await exp.flush(Date.now() + 1000);
    await exp.shutdown();
    const rec = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    assert.equal(rec.event_name, 'pastewatch.observation');
    assert.deepEqual(rec.names, [{ name: 'pastebin.com', evidence: 'dns.query' }]);
  });

  test('append keeps earlier lines; append: false truncates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-jsonl-'));
    const path = join(dir, 'a.jsonl');
    writeFileSync(path, '{"old":true}\n');
    const a = jsonlFactory.create(settings(), jsonlFactory.schema.parse({ path }));
    await a.start();
    a.consume(detection(1), 'logs');
    await a.shutdown();
    assert.equal(readFileSync(path, 'utf8').trimEnd().split('\n').length, 2);
    const b = jsonlFactory.create(settings(), jsonlFactory.schema.parse({ path, append: false }));
    await b.start();
    b.consume(detection(1), 'logs');
    await b.shutdown();
    assert.equal(readFileSync(path, 'utf8').trimEnd().split('\n').length, 1);
  });

  test('rotates by size and keeps max_backups files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-jsonl-'));
    const path = join(dir, 'r.jsonl');
    const s = settings();
    // 0.001 MB = 1048 bytes: each flush of one ~600-byte line rotates once the file is non-empty.
    const exp = jsonlFactory.create(s, jsonlFactory.schema.parse({ path, max_size_mb: 0.001, max_backups: 2 }));
    await exp.start();
    for (let i = 0; i < 6; i++) {
      exp.consume(detection(i), 'logs');
      await exp.flush(Date.now() + 1000);
    }
    await exp.shutdown();
    assert.ok(existsSync(`${path}.1`) && existsSync(`${path}.2`));
    assert.ok(!existsSync(`${path}.3`));
    assert.ok(s.registry.get('jsonl', 'rotations') >= 2);
    const last = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as { body: string }).body);
    assert.equal(last[last.length - 1], 'upload 5');
  });

  test('an unwritable path is a clear start error', async () => {
    const exp = jsonlFactory.create(settings(), jsonlFactory.schema.parse({ path: '/nonexistent-dir/x.jsonl' }));
    await assert.rejects(exp.start(), /exporter jsonl: cannot open \/nonexistent-dir\/x.jsonl for writing \(ENOENT\)/);
    await exp.shutdown();
  });
});
