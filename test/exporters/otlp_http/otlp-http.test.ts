import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultConfig } from '../../../src/component/types.js';
import { otlpHttpFactory } from '../../../src/exporters/otlp_http/factory.js';
import type { OtlpHttpConfig } from '../../../src/exporters/otlp_http/config.js';
import { observation } from '../../../src/model/observation.js';
import { PastewatchError } from '../../../src/util/errors.js';
import { VERSION } from '../../../src/version.js';
import { makeDetection } from '../../helpers/detections.js';
import { testSettings } from '../../helpers/exporter-settings.js';
import { startOtlpReceiver } from '../../helpers/otlp-receiver.js';
import type { OtlpReceiver } from '../../helpers/otlp-receiver.js';

const receivers: OtlpReceiver[] = [];
after(async () => {
  for (const r of receivers) await r.close();
});

async function receiver(opts: Parameters<typeof startOtlpReceiver>[0] = {}): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver(opts);
  receivers.push(r);
  return r;
}

function config(over: Record<string, unknown>): OtlpHttpConfig {
  return otlpHttpFactory.schema.parse(over);
}

const FAST_RETRY = { initial_interval_ms: 20, max_interval_ms: 100, max_elapsed_ms: 0 };
const ENV = { OTEL_SERVICE_NAME: 'ci-sidecar', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=ci,team=sec%20ops' };

describe('otlp_http exporter', () => {
  test('default config is valid and shutdown without start is safe (twice)', async () => {
    const cfg = createDefaultConfig(otlpHttpFactory);
    assert.deepEqual(otlpHttpFactory.validate!(cfg), []);
    assert.equal(cfg.sending_queue.storage, 'memory');
    const e = otlpHttpFactory.create(testSettings('otlp_http'), cfg);
    await e.shutdown();
    await e.shutdown();
  });

  for (const [encoding, compression] of [['proto', 'gzip'], ['json', 'none']] as const) {
    test(`logs (${encoding}, ${compression}): resource, scope, event name, severity, attributes and ids as the detection`, async () => {
      const r = await receiver();
      const s = testSettings('otlp_http', ENV);
      const e = otlpHttpFactory.create(s, config({ endpoint: r.url, encoding, compression, retry: FAST_RETRY }));
      await e.start();
      const ds = [makeDetection(), makeDetection({ severityNumber: 13, severityText: 'WARN', attributes: { 'list.attr': ['a', 'b'], 'x.ratio': 0.5 } })];
      for (const d of ds) e.consume(d, 'logs');
      e.consume(observation({ kind: 'dns', timeUnixNano: 1n, receiver: 'x' }), 'logs');
      await e.flush(Date.now() + 3000);
      await e.shutdown();
      assert.equal(r.logs.length, 2);
      assert.equal(r.requests[0].contentType, encoding === 'proto' ? 'application/x-protobuf' : 'application/json');
      assert.equal(r.requests[0].contentEncoding, compression === 'gzip' ? 'gzip' : '');
      for (const [i, d] of ds.entries()) {
        const l = r.logs[i];
        assert.equal(l.resource['service.name'], 'ci-sidecar');
        assert.equal(l.resource['service.version'], VERSION);
        assert.equal(l.resource.team, 'sec ops');
        assert.equal(l.resource['deployment.environment.name'], 'ci');
        assert.deepEqual(l.scope, { name: 'pastewatch', version: VERSION });
        assert.equal(l.eventName, 'plaintext_communication');
        assert.equal(l.severityNumber, d.severityNumber);
        assert.equal(l.severityText, d.severityText);
        assert.equal(l.body, d.body);
        assert.deepEqual(l.attributes, d.attributes);
        assert.equal(l.traceId, d.traceId);
        assert.equal(l.spanId, d.spanId);
        assert.equal(l.flags, 1);
        assert.equal(l.timeUnixNano, d.timeUnixNano.toString());
        assert.equal(l.observedTimeUnixNano, d.observedTimeUnixNano.toString());
      }
      assert.equal(s.registry.get('otlp_http', 'dropped', { reason: 'not_detection' }), 1);
      assert.equal(s.registry.get('otlp_http', 'emitted'), 2);
    });
  }

  test('traces: one INTERNAL span per detection, child of the CI span, exact ids, detection as event; unsampled parent still exported', async () => {
    const r = await receiver();
    const e = otlpHttpFactory.create(testSettings('otlp_http', ENV), config({ endpoint: r.url, retry: FAST_RETRY }));
    await e.start();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const sampled = makeDetection({ traceId, parentSpanId: '00f067aa0ba902b7', traceFlags: 1, traceState: 'vendor=x' });
    const unsampled = makeDetection({ traceId, parentSpanId: '00f067aa0ba902b7', traceFlags: 0, severityNumber: 9, severityText: 'INFO', lastSeenUnixNano: 0n });
    e.consume(sampled, 'traces');
    e.consume(unsampled, 'traces');
    await e.flush(Date.now() + 3000);
    await e.shutdown();
    assert.equal(r.spans.length, 2);
    const [a, b] = r.spans;
    assert.equal(a.traceId, traceId);
    assert.equal(a.spanId, sampled.spanId);
    assert.equal(a.parentSpanId, '00f067aa0ba902b7');
    assert.equal(a.traceState, 'vendor=x');
    assert.equal(a.name, 'pastebin egress pastebin.com');
    assert.equal(a.kind, 1); // SPAN_KIND_INTERNAL
    assert.equal(a.status.code, 2); // ERROR for severity >= WARN
    assert.equal(a.startTimeUnixNano, sampled.firstSeenUnixNano.toString());
    assert.equal(a.endTimeUnixNano, sampled.lastSeenUnixNano.toString());
    assert.equal(a.events.length, 1);
    assert.equal(a.events[0].name, 'plaintext_communication');
    assert.deepEqual(a.events[0].attributes, sampled.attributes);
    assert.equal(a.attributes['pastewatch.service'], 'pastebin.com');
    assert.equal(a.flags & 0xff, 1);
    assert.equal(a.resource['service.name'], 'ci-sidecar');
    // the unsampled one (flags 00) arrives too, with its flags kept, end = start + 1 ms, status UNSET
    assert.equal(b.spanId, unsampled.spanId);
    assert.equal(b.traceId, traceId);
    assert.equal(b.flags & 0xff, 0);
    assert.equal(b.status.code, 0);
    assert.equal(BigInt(b.endTimeUnixNano) - BigInt(b.startTimeUnixNano), 1_000_000n);
  });

  test('export_spans_from_logs: a logs pipeline also sends the span, with the log record\'s ids', async () => {
    const r = await receiver();
    const e = otlpHttpFactory.create(testSettings('otlp_http'), config({ endpoint: r.url, export_spans_from_logs: true, retry: FAST_RETRY }));
    await e.start();
    const d = makeDetection({ parentSpanId: '00f067aa0ba902b7' });
    e.consume(d, 'logs');
    await e.flush(Date.now() + 3000);
    await e.shutdown();
    assert.equal(r.logs.length, 1);
    assert.equal(r.spans.length, 1);
    assert.deepEqual([r.spans[0].traceId, r.spans[0].spanId, r.spans[0].parentSpanId], [d.traceId, d.spanId, '00f067aa0ba902b7']);
    assert.deepEqual([r.logs[0].traceId, r.logs[0].spanId], [d.traceId, d.spanId]);
  });

  test('standard OTEL_EXPORTER_OTLP_* variables are the defaults; config keys win', async () => {
    const r = await receiver();
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: `${r.url}/`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_COMPRESSION: 'none', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-tenant=t1' };
    const e = otlpHttpFactory.create(testSettings('otlp_http', env), config({ headers: { 'x-tenant': 't2' }, retry: FAST_RETRY }));
    await e.start();
    e.consume(makeDetection(), 'logs');
    await e.flush(Date.now() + 3000);
    await e.shutdown();
    assert.equal(r.logs.length, 1);
    assert.equal(r.requests[0].path, '/v1/logs');
    assert.equal(r.requests[0].contentType, 'application/json');
    assert.equal(r.requests[0].contentEncoding, '');
    assert.equal(r.requests[0].headers.authorization, 'Bearer abc');
    assert.equal(r.requests[0].headers['x-tenant'], 't2');

    const bad = otlpHttpFactory.create(testSettings('otlp_http', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), config({}));
    await assert.rejects(bad.start(), (err: unknown) => err instanceof PastewatchError && err.code === 'CONFIG_INVALID' && /OTEL_EXPORTER_OTLP_PROTOCOL/.test(err.message));
    await bad.shutdown();
  });

  test('outage: 503 for a while then accept: every detection arrives, in order; health degraded then ok', async () => {
    const r = await receiver();
    r.script('/v1/logs', [{ status: 503, times: 4, message: 'collector overloaded' }]);
    const s = testSettings('otlp_http');
    const e = otlpHttpFactory.create(s, config({ endpoint: r.url, retry: FAST_RETRY, sending_queue: { batch_size: 3 } }));
    await e.start();
    const ds = Array.from({ length: 10 }, () => makeDetection());
    ds.slice(0, 5).forEach((d) => e.consume(d, 'logs'));
    await new Promise((res) => setTimeout(res, 30));
    const during = s.health.list().find((h) => h.id === 'otlp_http');
    ds.slice(5).forEach((d) => e.consume(d, 'logs'));
    await e.flush(Date.now() + 5000);
    await e.shutdown();
    assert.equal(during?.status, 'degraded');
    assert.match(during?.message ?? '', /503: collector overloaded/);
    assert.deepEqual(r.logs.map((l) => l.spanId), ds.map((d) => d.spanId));
    assert.equal(r.requests.filter((q) => q.status === 503).length, 4);
    assert.equal(s.registry.get('otlp_http', 'emitted'), 10);
    assert.equal(s.lines.filter((l) => l.includes('collector overloaded')).length, 1, 'the same failure is logged once');
    assert.ok(s.lines.some((l) => l.includes('delivery resumed')));
  });

  test('429 with Retry-After is honoured', async () => {
    const r = await receiver();
    r.script('/v1/traces', [{ status: 429, retryAfter: '1' }]);
    const e = otlpHttpFactory.create(testSettings('otlp_http'), config({ endpoint: r.url, retry: FAST_RETRY }));
    await e.start();
    const t0 = Date.now();
    e.consume(makeDetection(), 'traces');
    await r.waitFor('spans', 1, 4000);
    const waited = Date.now() - t0;
    await e.shutdown();
    assert.ok(waited >= 950, `retried after ${waited} ms, Retry-After said 1 s`);
    assert.equal(r.requests.length, 2);
  });

  test('permanent 400 is logged once with the backend message and not retried; later detections still go', async () => {
    const r = await receiver();
    r.script('/v1/logs', [{ status: 400, message: 'attribute value too long' }]);
    const s = testSettings('otlp_http');
    const e = otlpHttpFactory.create(s, config({ endpoint: r.url, retry: FAST_RETRY }));
    await e.start();
    e.consume(makeDetection(), 'logs');
    await r.waitFor('requests', 1);
    await new Promise((res) => setTimeout(res, 100));
    const ok = makeDetection();
    e.consume(ok, 'logs');
    await e.flush(Date.now() + 3000);
    await e.shutdown();
    assert.equal(r.requests.length, 2);
    assert.equal(r.requests[0].status, 400);
    assert.deepEqual(r.logs.map((l) => l.spanId), [ok.spanId]);
    assert.equal(s.registry.get('otlp_http', 'failed', { reason: 'rejected' }), 1);
    const rejected = s.lines.filter((l) => l.includes('rejected'));
    assert.equal(rejected.length, 1);
    assert.match(rejected[0], /400: attribute value too long/);
  });

  test('TLS: a wrong certificate gives a clear error naming the endpoint, no hang; the right CA delivers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-tls-'));
    const mk = (name: string, san: string): void => {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`)], { stdio: 'ignore' });
    };
    mk('localhost', 'DNS:localhost');
    mk('loopback', 'IP:127.0.0.1');
    const wrongHost = await receiver({ tls: { key: readFileSync(join(dir, 'localhost.key')), cert: readFileSync(join(dir, 'localhost.crt')) } });
    const right = await receiver({ tls: { key: readFileSync(join(dir, 'loopback.key')), cert: readFileSync(join(dir, 'loopback.crt')) } });

    // 1) no CA configured: the self-signed certificate is not trusted
    const s1 = testSettings('otlp_http');
    const e1 = otlpHttpFactory.create(s1, config({ endpoint: right.url, retry: FAST_RETRY, timeout_ms: 2000 }));
    await e1.start();
    e1.consume(makeDetection(), 'logs');
    const t0 = Date.now();
    await e1.flush(Date.now() + 600);
    await e1.shutdown();
    assert.ok(Date.now() - t0 < 1500, 'flush returned at its deadline');
    const err1 = s1.lines.find((l) => l.includes('TLS error'));
    assert.ok(err1, s1.lines.join('\n'));
    assert.ok(err1.includes(`${right.url}/v1/logs`));
    assert.match(err1, /self-signed|not signed by a trusted CA/);
    assert.equal(s1.health.list()[0].status, 'stopped');
    assert.equal(right.logs.length, 0);

    // 2) trusted CA but the certificate names another host
    const s2 = testSettings('otlp_http');
    const e2 = otlpHttpFactory.create(s2, config({ endpoint: wrongHost.url, retry: FAST_RETRY, tls: { ca_file: join(dir, 'localhost.crt') } }));
    await e2.start();
    e2.consume(makeDetection(), 'logs');
    await e2.flush(Date.now() + 400);
    assert.match(s2.health.list()[0].message ?? '', /does not name this host/);
    await e2.shutdown();
    assert.ok(s2.lines.some((l) => l.includes('TLS error') && l.includes('ERR_TLS_CERT_ALTNAME_INVALID')));

    // 3) the right CA: delivered
    const s3 = testSettings('otlp_http', { OTEL_EXPORTER_OTLP_CERTIFICATE: join(dir, 'loopback.crt') });
    const e3 = otlpHttpFactory.create(s3, config({ endpoint: right.url, retry: FAST_RETRY }));
    await e3.start();
    e3.consume(makeDetection(), 'logs');
    await e3.flush(Date.now() + 3000);
    await e3.shutdown();
    assert.equal(right.logs.length, 1);
  });

  test('bad config: endpoint not a URL, unreadable CA, file queue without directory -> problems naming the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-cfg-'));
    writeFileSync(join(dir, 'cert.pem'), 'x');
    const problems = otlpHttpFactory.validate!(config({
      endpoint: 'collector:4318',
      traces_endpoint: 'ftp://x/v1/traces',
      tls: { ca_file: join(dir, 'missing.pem'), cert_file: join(dir, 'cert.pem') },
      sending_queue: { storage: 'file' },
    }));
    const byPath = new Map(problems.map((p) => [p.path.join('::'), p.message]));
    assert.match(byPath.get('endpoint') ?? '', /must be an http:\/\/ or https:\/\/ URL/);
    assert.match(byPath.get('traces_endpoint') ?? '', /scheme ftp:/);
    assert.match(byPath.get('tls::ca_file') ?? '', /missing\.pem.*no such file/);
    assert.match(byPath.get('tls::key_file') ?? '', /go together/);
    assert.match(byPath.get('sending_queue::directory') ?? '', /required/);
    assert.throws(() => otlpHttpFactory.schema.parse({ encoding: 'grpc' }));
    assert.throws(() => otlpHttpFactory.schema.parse({ unknown_key: 1 }));
  });
});
