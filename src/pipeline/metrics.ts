/**
 * Self-telemetry exposition: the TelemetryRegistry's counters and gauges (plus Node process metrics) as
 * Prometheus text on an opt-in listener (service.telemetry.metrics.address), with /healthz and /readyz.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import client from 'prom-client';
import type { HealthRegistry } from '../component/health.js';
import type { TelemetryRegistry } from '../component/telemetry.js';
import { PastewatchError, describeError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

/** Metric name for a counter or gauge of the registry. */
function metricName(name: string, type: 'counter' | 'gauge'): string {
  const base = `pastewatch_${name.replace(/[^a-zA-Z0-9_]/g, '_')}`;
  return type === 'counter' ? `${base}_total` : base;
}

/** Builds a prom-client registry that reads the telemetry registry at every scrape. */
export function buildPromRegistry(telemetry: TelemetryRegistry): client.Registry {
  const reg = new client.Registry();
  client.collectDefaultMetrics({ register: reg, prefix: 'pastewatch_' });
  const metrics = new Map<string, client.Gauge | client.Counter>();
  // One collector metric re-registers the per-name metrics found in the registry at scrape time.
  const sync = (): void => {
    const byName = new Map<string, { type: 'counter' | 'gauge'; labels: Set<string> }>();
    for (const s of telemetry.samples()) {
      const n = metricName(s.name, s.type);
      const e = byName.get(n) ?? { type: s.type, labels: new Set(['kind', 'component']) };
      for (const k of Object.keys(s.labels)) e.labels.add(k);
      byName.set(n, e);
    }
    for (const [n, e] of byName) {
      const existing = metrics.get(n);
      const labelNames = [...e.labels].sort();
      if (existing && (existing as unknown as { labelNames: string[] }).labelNames.join() === labelNames.join()) continue;
      if (existing) reg.removeSingleMetric(n);
      const help = `pastewatch component ${e.type} (see docs/operations.md)`;
      metrics.set(n, e.type === 'counter' ? new client.Counter({ name: n, help, labelNames, registers: [reg] }) : new client.Gauge({ name: n, help, labelNames, registers: [reg] }));
    }
    for (const m of metrics.values()) m.reset();
    for (const s of telemetry.samples()) {
      const m = metrics.get(metricName(s.name, s.type))!;
      const labels = { kind: s.kind, component: s.component, ...s.labels };
      if (m instanceof client.Counter) m.inc(labels, s.value);
      else (m as client.Gauge).set(labels, s.value);
    }
  };
  return Object.assign(reg, { syncFromTelemetry: sync });
}

/** A running metrics listener. */
export interface MetricsServer {
  address: string;
  close(): Promise<void>;
}

/** Listens on host:port (loopback unless configured) and serves /metrics, /healthz, /readyz. */
export async function startMetricsServer(address: string, telemetry: TelemetryRegistry, health: HealthRegistry, logger: Logger): Promise<MetricsServer> {
  const m = /^(.*):(\d+)$/.exec(address);
  if (!m) throw new PastewatchError('LISTEN_FAILED', `service::telemetry::metrics::address: "${address}" is not host:port`);
  const host = m[1].replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(m[2]);
  const reg = buildPromRegistry(telemetry) as client.Registry & { syncFromTelemetry(): void };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      reg.syncFromTelemetry();
      reg.metrics().then((text) => res.writeHead(200, { 'content-type': reg.contentType }).end(text), (err: unknown) => res.writeHead(500).end(describeError(err)));
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const ok = path === '/healthz' ? health.live() : health.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', components: health.list() }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new PastewatchError('LISTEN_FAILED', `metrics listener ${address}: ${err.code === 'EADDRINUSE' ? 'address already in use' : describeError(err)}`, { cause: err })));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const actual = typeof bound === 'object' && bound ? `${bound.address}:${bound.port}` : address;
  logger.info(`metrics on http://${actual}/metrics`);
  return {
    address: actual,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
