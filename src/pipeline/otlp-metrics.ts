/**
 * Self-telemetry as OTLP metrics (service.telemetry.metrics.otlp): the TelemetryRegistry's counters and gauges
 * read by observable instruments and pushed by a PeriodicExportingMetricReader through the OTLP/HTTP (JSON)
 * metric exporter. Loaded lazily by the Service only when an endpoint is configured. A backend that is down is
 * logged once per episode and never blocks shutdown past the deadline the Service gives.
 */
import type { Agent } from 'node:http';
import { Socket } from 'node:net';
import type { Attributes as OtelAttributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { AggregationTemporality, CollectionResult, InstrumentType, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Sample, TelemetryRegistry } from '../component/telemetry.js';
import { buildResource } from '../model/resource.js';
import { VERSION } from '../version.js';
import { describeError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

/** The `service.telemetry.metrics.otlp` settings this module needs. */
export interface OtlpMetricsSettings {
  endpoint: string;
  interval_ms: number;
  headers: Record<string, string>;
  timeout_ms: number;
}

/** A running OTLP metrics export. */
export interface OtlpMetricsExport {
  /** The URL metrics are POSTed to. */
  url: string;
  /** Final collect + export, then stop; resolves by `deadline` (epoch ms) whatever the backend does, never rejects. */
  shutdown(deadline: number): Promise<void>;
}

/**
 * The URL to POST to: an endpoint without a path (`http://collector:4318`) gets `/v1/metrics` appended, as
 * OTEL_EXPORTER_OTLP_ENDPOINT does; an endpoint with a path is used as is, as OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is.
 */
export function metricsUrl(endpoint: string): string {
  const u = new URL(endpoint);
  if (u.pathname === '' || u.pathname === '/') return `${endpoint.replace(/\/+$/, '')}/v1/metrics`;
  return endpoint;
}

/** OTel instrument name for a registry sample name: `pastewatch.<name>` with characters OTel rejects replaced. */
export function otlpMetricName(name: string): string {
  return `pastewatch.${name.replace(/[^A-Za-z0-9_./-]/g, '_')}`.slice(0, 255);
}

/** Attributes of one sample: kind, component and the sample's own labels. */
function sampleAttributes(s: Sample): OtelAttributes {
  return { kind: s.kind, component: s.component, ...s.labels };
}

/**
 * Wraps the OTLP exporter to report failures: one warning when exports start failing, one info line when they
 * recover, and a `failed{reason=export}` counter (component otlp_metrics) in between. The SDK itself only
 * reports through the OTel diag logger, which pastewatch leaves silent.
 */
class ReportingExporter implements PushMetricExporter {
  private failing = false;
  private failures = 0;
  /** Set once shutdown has given up on the backend: what fails after that is not news. */
  quiet = false;

  constructor(
    private readonly inner: OTLPMetricExporter,
    private readonly url: string,
    private readonly logger: Logger,
    private readonly onFailure: () => void,
  ) {}

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const done = (r: ExportResult): void => {
      if (r.code === ExportResultCode.SUCCESS) {
        if (this.failing) this.logger.info(`OTLP metrics export to ${this.url} recovered after ${this.failures} failed export(s)`);
        this.failing = false;
        this.failures = 0;
      } else {
        this.failures++;
        this.onFailure();
        if (!this.failing && !this.quiet) {
          this.failing = true;
          this.logger.warn(`OTLP metrics export to ${this.url} failed: ${r.error ? describeError(r.error) : 'unknown error'} (logged once until an export succeeds)`);
        }
      }
      resultCallback(r);
    };
    try {
      this.inner.export(metrics, done);
    } catch (err) {
      done({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    // The wrapper must keep the exporter's temporality (cumulative unless OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE says otherwise).
    return this.inner.selectAggregationTemporality(instrumentType as never) as unknown as AggregationTemporality;
  }
}

/**
 * Keeps one observable instrument per registry metric name, created as names appear (components create
 * counters lazily), and one batch callback that reads every sample once per collection.
 */
class RegistryInstruments {
  private readonly instruments = new Map<string, { type: Sample['type']; inst: Observable }>();
  private callback?: (r: BatchObservableResult) => void;

  constructor(private readonly meter: Meter, private readonly registry: TelemetryRegistry) {}

  /** Creates instruments for names not seen before and re-registers the batch callback over all of them. */
  sync(): void {
    let added = false;
    for (const s of this.registry.samples()) {
      const name = otlpMetricName(s.name);
      if (this.instruments.has(name)) continue;
      const description = `pastewatch component ${s.type} (see docs/operations.md)`;
      const inst = s.type === 'counter' ? this.meter.createObservableCounter(name, { description }) : this.meter.createObservableGauge(name, { description });
      this.instruments.set(name, { type: s.type, inst });
      added = true;
    }
    if (!added) return;
    if (this.callback) this.meter.removeBatchObservableCallback(this.callback, [...this.instruments.values()].map((e) => e.inst));
    this.callback = (result) => {
      for (const s of this.registry.samples()) {
        const e = this.instruments.get(otlpMetricName(s.name));
        // A name used as a counter by one component and a gauge by another keeps its first type; the rest is skipped.
        if (!e || e.type !== s.type) continue;
        result.observe(e.inst, s.value, sampleAttributes(s));
      }
    };
    this.meter.addBatchObservableCallback(this.callback, [...this.instruments.values()].map((e) => e.inst));
  }
}

/** A periodic reader that first creates instruments for metric names that appeared since the last collection. */
class SyncingReader extends PeriodicExportingMetricReader {
  beforeCollect?: () => void;

  override collect(options?: Parameters<PeriodicExportingMetricReader['collect']>[0]): Promise<CollectionResult> {
    this.beforeCollect?.();
    return super.collect(options);
  }
}

/** The error a request cut off by shutdown fails with (a code the exporter treats as permanent). */
function shutdownError(): Error {
  return Object.assign(new Error('OTLP metrics exporter is shut down'), { code: 'ESHUTDOWN' });
}

/**
 * The exporter's HTTP(S) agents, kept so shutdown can cut off a request to a backend that never answers: close()
 * destroys open sockets and makes later connection attempts fail at once with a code the exporter does not retry
 * (otherwise it retries ECONNRESET for up to timeout_ms after the Service has shut down).
 */
class ClosableAgents {
  private closed = false;
  private readonly agents: Agent[] = [];

  /** The exporter's agent factory (modules imported lazily, as the exporter asks). */
  readonly factory = async (protocol: string): Promise<Agent> => {
    const { Agent: AgentClass } = protocol === 'https:' ? await import('node:https') : await import('node:http');
    const agent = new AgentClass({ keepAlive: true });
    const create = agent.createConnection.bind(agent) as Agent['createConnection'];
    agent.createConnection = (options, callback) => {
      if (!this.closed) return create(options, callback);
      const socket = new Socket();
      process.nextTick(() => socket.destroy(shutdownError()));
      return socket;
    };
    this.agents.push(agent);
    return agent;
  };

  close(): void {
    this.closed = true;
    for (const a of this.agents) {
      // Destroyed with an error code the exporter does not retry; a plain destroy() would read as ECONNRESET.
      for (const list of Object.values(a.sockets)) for (const sock of list ?? []) sock.destroy(shutdownError());
      a.destroy();
    }
  }
}

/** Starts exporting the registry's samples every interval_ms to the endpoint (which the caller checked is set). */
export function startOtlpMetrics(cfg: OtlpMetricsSettings, registry: TelemetryRegistry, env: Record<string, string | undefined>, logger: Logger): OtlpMetricsExport {
  const url = metricsUrl(cfg.endpoint);
  // The reader rejects an export timeout longer than its interval; a slow export must not overlap the next one.
  const timeoutMs = Math.min(cfg.timeout_ms, cfg.interval_ms);
  const agents = new ClosableAgents();
  const inner = new OTLPMetricExporter({ url, headers: { ...cfg.headers }, timeoutMillis: timeoutMs, httpAgentOptions: agents.factory });
  const failures = registry.forComponent('telemetry', 'otlp_metrics');
  const exporter = new ReportingExporter(inner, url, logger, () => failures.failed('export'));
  const reader = new SyncingReader({ exporter, exportIntervalMillis: cfg.interval_ms, exportTimeoutMillis: timeoutMs });
  const provider = new MeterProvider({ resource: resourceFromAttributes(buildResource(env)), readers: [reader] });
  const instruments = new RegistryInstruments(provider.getMeter('pastewatch', VERSION), registry);
  reader.beforeCollect = () => instruments.sync();
  logger.info(`OTLP metrics to ${url} every ${cfg.interval_ms} ms`);

  let stopping: Promise<void> | undefined;
  return {
    url,
    shutdown: (deadline) => {
      // MeterProvider.shutdown runs the reader's forceFlush (a final collect + export) and then shuts the exporter
      // down; a separate forceFlush first would export twice. The race keeps a dead backend from holding us.
      stopping ??= (async () => {
        const left = Math.max(0, deadline - Date.now());
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), left)));
        try {
          const r = await Promise.race([provider.shutdown({ timeoutMillis: Math.max(1, left) }).then(() => 'ok' as const), timeout]);
          if (r === 'timeout') logger.warn(`OTLP metrics to ${url}: final export did not finish before the shutdown deadline`);
        } catch (err) {
          logger.warn(`OTLP metrics to ${url}: final export failed: ${describeError(err)}`);
        } finally {
          clearTimeout(timer);
          exporter.quiet = true;
          agents.close();
        }
      })();
      return stopping;
    },
  };
}
