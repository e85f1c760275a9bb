import { test, describe, beforeEach, afterEach, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { ConfigError, loadConfigText } from '../../src/config/load.js';
import { formatProblem } from '../../src/config/problems.js';
import { Service } from '../../src/pipeline/service.js';
import { metricsUrl, otlpMetricName } from '../../src/pipeline/otlp-metrics.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { FAKE_FACTORIES, resetFakes } from '../helpers/fake-components.js';

/** One data point as decoded from OTLP/JSON. */
interface Point {
  metric: string;
  type: 'sum' | 'gauge';
  monotonic?: boolean;
  attributes: Record<string, unknown>;
  value: number;
}

/** One POST /v1/metrics as received. */
interface Export {
  headers: IncomingHttpHeaders;
  resource: Record<string, unknown>;
  scope: string;
  points: Point[];
}

type KV = { key: string; value: Record<string, unknown> };
const attrs = (list: KV[] | undefined): Record<string, unknown> =>
  Object.fromEntries((list ?? []).map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.doubleValue ?? a.value.boolValue]));

/** Decodes an OTLP/JSON ExportMetricsServiceRequest into flat points (sum and gauge only: all pastewatch sends). */
function decode(body: string, headers: IncomingHttpHeaders): Export[] {
  const req = JSON.parse(body) as { resourceMetrics: { resource: { attributes: KV[] }; scopeMetrics: { scope: { name: string }; metrics: Record<string, unknown>[] }[] }[] };
  return req.resourceMetrics.flatMap((rm) => rm.scopeMetrics.map((sm) => ({
    headers,
    resource: attrs(rm.resource.attributes),
    scope: sm.scope.name,
    points: sm.metrics.flatMap((m) => {
      const data = (m.sum ?? m.gauge) as { dataPoints: { attributes: KV[]; asDouble?: number; asInt?: string | number }[]; isMonotonic?: boolean };
      return data.dataPoints.map((dp) => ({
        metric: m.name as string,
        type: m.sum ? 'sum' as const : 'gauge' as const,
        monotonic: data.isMonotonic,
        attributes: attrs(dp.attributes),
        value: Number(dp.asDouble ?? dp.asInt),
      }));
    }),
  })));
}

/** A small OTLP/HTTP metrics receiver on 127.0.0.1:0 (JSON only; 415 for anything else), or a black hole that never answers. */
async function startReceiver(mode: 'ok' | 'blackhole' = 'ok'): Promise<{ url: string; exports: Export[]; paths: string[]; open: () => number; server: Server; close(): Promise<void> }> {
  const exports: Export[] = [];
  const paths: string[] = [];
  let open = 0;
  const server = createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    if (mode === 'blackhole') return; // accept the request, never answer
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/metrics') return void res.writeHead(404).end();
      if (!String(req.headers['content-type']).startsWith('application/json')) return void res.writeHead(415).end();
      // gzip only if OTEL_EXPORTER_OTLP_COMPRESSION is set in the environment running the tests.
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(Buffer.concat(chunks)) : Buffer.concat(chunks);
      exports.push(...decode(body.toString('utf8'), req.headers));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.on('connection', (sock) => {
    open++;
    sock.on('close', () => open--);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    paths,
    open: () => open,
    server,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

const waitFor = async (what: string, cond: () => boolean, ms = 4000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const configYaml = (otlp: string, shutdownMs = 15000): string => `
receivers: { scripted: { count: 100000000, interval_ms: 2, finite: false } }
exporters: { record: {} }
service:
  telemetry: { metrics: { otlp: ${otlp} } }
  shutdown: { timeout_ms: ${shutdownMs} }
  pipelines: { logs: { receivers: [scripted], exporters: [record] } }
`;

/** Every service a test made: shut down after each test, so a failing assertion does not leave one running. */
const services: Service[] = [];

const make = (yaml: string, env: Record<string, string> = {}) => {
  const cfg = loadConfigText(yaml, 'test.yaml', { env, factories: FAKE_FACTORIES });
  const logger = createMemoryLogger();
  const service = new Service(cfg, { logger, env: { OTEL_SERVICE_NAME: 'pw-selftest' } });
  services.push(service);
  return { service, logger };
};

const point = (e: Export, metric: string, component: string): Point | undefined => e.points.find((p) => p.metric === metric && p.attributes.component === component);

describe('OTLP self-telemetry metrics', () => {
  beforeEach(resetFakes);
  afterEach(async () => {
    await Promise.all(services.splice(0).map((x) => x.shutdown('test cleanup')));
  });
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups) await c();
  });

  test('exports the registry counters as pastewatch.<name> with kind/component attributes, values moving between exports, and a final export at shutdown', async () => {
    const rx = await startReceiver();
    cleanups.push(rx.close);
    const { service, logger } = make(configYaml(`{ endpoint: "${rx.url}", interval_ms: 200, headers: { x-tenant: team-a } }`));
    await service.start();
    // Two exports that both carry the receiver's emitted counter.
    await waitFor('two exports with the receiver counter', () => rx.exports.filter((e) => point(e, 'pastewatch.emitted', 'scripted')).length >= 2);
    const withCounter = rx.exports.filter((e) => point(e, 'pastewatch.emitted', 'scripted'));
    const first = point(withCounter[0], 'pastewatch.emitted', 'scripted')!;
    const second = point(withCounter[1], 'pastewatch.emitted', 'scripted')!;
    assert.deepEqual(first.attributes, { kind: 'receiver', component: 'scripted' });
    assert.equal(first.type, 'sum');
    assert.equal(first.monotonic, true);
    assert.ok(first.value > 0, `first export has a count (${first.value})`);
    assert.ok(second.value > first.value, `the counter moved between exports (${first.value} -> ${second.value})`);
    // The exporter's received counter travels under its own kind.
    assert.equal(point(withCounter[1], 'pastewatch.received', 'record')?.attributes.kind, 'exporter');
    // The pipeline's own counter carries kind=pipeline.
    assert.ok(point(withCounter[1], 'pastewatch.observations', 'logs')!.value > 0);
    assert.ok(rx.paths.every((p) => p === 'POST /v1/metrics'), 'the path /v1/metrics was appended to a bare endpoint');
    assert.equal(withCounter[0].headers['x-tenant'], 'team-a');
    assert.equal(withCounter[0].resource['service.name'], 'pw-selftest');
    assert.equal(withCounter[0].scope, 'pastewatch');

    const before = rx.exports.length;
    const r = await service.shutdown('test');
    assert.equal(r.timedOut, false);
    assert.ok(rx.exports.length > before, 'shutdown sent a final export');
    // The final export matches the registry exactly (nothing counts after shutdown).
    const last = rx.exports[rx.exports.length - 1];
    assert.equal(point(last, 'pastewatch.emitted', 'scripted')!.value, service.registry.get('scripted', 'emitted'));
    assert.equal(point(last, 'pastewatch.received', 'record')!.value, service.registry.get('record', 'received'));
    // And nothing more is sent after shutdown.
    const n = rx.exports.length;
    await new Promise((res) => setTimeout(res, 450));
    assert.equal(rx.exports.length, n);
    assert.ok(logger.lines.some((l) => l.includes(`OTLP metrics to ${rx.url}/v1/metrics every 200 ms`)));
    assert.ok(!logger.lines.some((l) => /failed/.test(l)), logger.lines.join('\n'));
  });

  test('gauges are exported as gauges and labels become attributes', async () => {
    const rx = await startReceiver();
    cleanups.push(rx.close);
    const { service } = make(configYaml(`{ endpoint: "${rx.url}/v1/metrics", interval_ms: 200 }`));
    const c = service.registry.forComponent('exporter', 'record');
    c.gauge('queue_depth', 7);
    c.dropped('queue_full', 3);
    await service.start();
    await waitFor('an export with the gauge', () => rx.exports.some((e) => point(e, 'pastewatch.queue_depth', 'record')));
    c.gauge('queue_depth', 2);
    const seen = rx.exports.length;
    await waitFor('a later export', () => rx.exports.length > seen && rx.exports.slice(seen).some((e) => point(e, 'pastewatch.queue_depth', 'record')));
    await service.shutdown();
    const depths = rx.exports.map((e) => point(e, 'pastewatch.queue_depth', 'record')).filter((p) => p !== undefined);
    assert.equal(depths[0].type, 'gauge');
    assert.equal(depths[0].value, 7);
    assert.equal(depths[depths.length - 1].value, 2);
    const dropped = point(rx.exports[rx.exports.length - 1], 'pastewatch.dropped', 'record')!;
    assert.deepEqual(dropped.attributes, { kind: 'exporter', component: 'record', reason: 'queue_full' });
    assert.equal(dropped.value, 3);
    assert.ok(rx.paths.every((p) => p === 'POST /v1/metrics'), 'an endpoint with a path is used as is');
  });

  test('backend refusing connections: warned once per episode, failures counted, shutdown stays prompt', async () => {
    const rx = await startReceiver();
    const url = rx.url;
    await rx.close(); // the port is now closed: connection refused
    const { service, logger } = make(configYaml(`{ endpoint: "${url}", interval_ms: 200, timeout_ms: 150 }`, 2000));
    await service.start();
    await waitFor('three failed exports', () => service.registry.get('otlp_metrics', 'failed', { reason: 'export' }) >= 3);
    const t0 = Date.now();
    const r = await service.shutdown();
    const took = Date.now() - t0;
    assert.equal(r.timedOut, false, 'a dead metrics backend is not a shutdown timeout');
    assert.ok(took < 2000, `shutdown took ${took} ms`);
    const warns = logger.lines.filter((l) => l.includes(`OTLP metrics export to ${url}/v1/metrics failed`));
    assert.equal(warns.length, 1, logger.lines.join('\n'));
    assert.match(warns[0], /warn/i);
  });

  test('backend that never answers: shutdown returns by its deadline with a warning', async () => {
    const rx = await startReceiver('blackhole');
    cleanups.push(rx.close);
    // A long export timeout and interval: only the shutdown deadline can cut the final export short.
    const { service, logger } = make(configYaml(`{ endpoint: "${rx.url}", interval_ms: 60000, timeout_ms: 30000 }`, 500));
    await service.start();
    await new Promise((res) => setTimeout(res, 50));
    const t0 = Date.now();
    const r = await service.shutdown();
    const took = Date.now() - t0;
    assert.ok(took >= 400 && took < 1500, `shutdown took ${took} ms against a 500 ms deadline`);
    assert.equal(r.timedOut, false);
    assert.deepEqual(rx.paths, ['POST /v1/metrics'], 'the final export was attempted');
    // The abandoned request is cut off (no socket left open, no retry): nothing lingers after shutdown.
    await waitFor('the exporter to drop its connection', () => rx.open() === 0, 1000);
    await new Promise((res) => setTimeout(res, 300));
    assert.deepEqual(rx.paths, ['POST /v1/metrics']);
    assert.equal(logger.lines.filter((l) => l.includes('export to')).length, 0, 'no failure logged after shutdown gave up');
    assert.ok(logger.lines.some((l) => /warn/i.test(l) && l.includes('OTLP metrics to') && /shutdown deadline|final export failed/.test(l)), logger.lines.join('\n'));
  });

  test('an endpoint that is not an http(s) URL is a config error at its key path; empty means off', () => {
    for (const [endpoint, why] of [['not a url', /must be an http:\/\/ or https:\/\/ URL, got "not a url"/], ['ftp://collector:4318', /scheme ftp:/]] as const) {
      const err = (() => {
        try {
          loadConfigText(configYaml(`{ endpoint: "${endpoint}" }`), 'test.yaml', { env: {}, factories: FAKE_FACTORIES });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      assert.ok(err instanceof ConfigError, `${endpoint} rejected`);
      assert.equal(err.problems.length, 1);
      assert.deepEqual(err.problems[0].path, ['service', 'telemetry', 'metrics', 'otlp', 'endpoint']);
      assert.match(formatProblem(err.problems[0]), /^service::telemetry::metrics::otlp::endpoint: /);
      assert.match(err.problems[0].message, why);
    }
    const bad = (() => {
      try {
        loadConfigText(configYaml('{ endpont: "http://x", interval_ms: 0 }'), 'test.yaml', { env: {}, factories: FAKE_FACTORIES });
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    assert.ok(bad);
    assert.ok(bad.problems.some((p) => p.path.join('::') === 'service::telemetry::metrics::otlp::endpont' && /did you mean "endpoint"/.test(p.message)), bad.message);
    assert.ok(bad.problems.some((p) => p.path.join('::') === 'service::telemetry::metrics::otlp::interval_ms'), bad.message);
    // Defaults: off, 60 s, 10 s; an env reference with an empty default keeps it off.
    const cfg = loadConfigText(configYaml('{ endpoint: "${env:OTEL_EXPORTER_OTLP_METRICS_ENDPOINT:-}" }'), 'test.yaml', { env: {}, factories: FAKE_FACTORIES });
    assert.deepEqual(cfg.service.telemetry.metrics.otlp, { endpoint: '', interval_ms: 60000, headers: {}, timeout_ms: 10000 });
    const on = loadConfigText(configYaml('{ endpoint: "${env:OTEL_EXPORTER_OTLP_METRICS_ENDPOINT:-}" }'), 'test.yaml', { env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://otel.example:4318/v1/metrics' }, factories: FAKE_FACTORIES });
    assert.equal(on.service.telemetry.metrics.otlp.endpoint, 'https://otel.example:4318/v1/metrics');
  });

  test('with no endpoint nothing is exported (opt-in even when OTEL_EXPORTER_OTLP_* is set)', async () => {
    const rx = await startReceiver();
    cleanups.push(rx.close);
    const cfg = loadConfigText(configYaml('{}'), 'test.yaml', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url }, factories: FAKE_FACTORIES });
    const service = new Service(cfg, { logger: createMemoryLogger(), env: { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: rx.url } });
    services.push(service);
    await service.start();
    await new Promise((res) => setTimeout(res, 100));
    await service.shutdown();
    assert.deepEqual(rx.paths, []);
  });

  test('metric names and URLs', () => {
    assert.equal(otlpMetricName('received'), 'pastewatch.received');
    assert.equal(otlpMetricName('bytes in'), 'pastewatch.bytes_in');
    assert.equal(metricsUrl('http://c:4318'), 'http://c:4318/v1/metrics');
    assert.equal(metricsUrl('http://c:4318/'), 'http://c:4318/v1/metrics');
    assert.equal(metricsUrl('https://c/otlp/v1/metrics'), 'https://c/otlp/v1/metrics');
  });
});
